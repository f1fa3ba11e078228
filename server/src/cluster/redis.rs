//! The bus on Redis: one pub/sub channel (named after the installation) every node publishes to
//! and subscribes to. Pub/sub
//! keeps nothing, so a lost subscription loses events: the node marks the bus down, retries,
//! and on return re-sends its presence and fills its chats' lines from the database.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use tokio::sync::mpsc;

use super::Cluster;

/// Events published in one round trip.
const PIPELINE: usize = 256;
/// The longest wait between two tries to reach the bus.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Publishes queued events in pipelined batches, in order; events queued while the bus is
/// down are dropped (the subscribers fill from the database when it returns).
pub(super) async fn publish(
    client: redis::Client,
    channel: Arc<str>,
    mut events: mpsc::Receiver<Vec<u8>>,
) {
    let mut conn: Option<MultiplexedConnection> = None;
    let mut batch = Vec::with_capacity(PIPELINE);
    while let Some(first) = events.recv().await {
        batch.push(first);
        while batch.len() < PIPELINE {
            match events.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        let mut pipe = redis::pipe();
        for event in batch.drain(..) {
            pipe.cmd("PUBLISH").arg(&*channel).arg(event).ignore();
        }
        // A connection that broke (a restarted bus) is replaced and the batch sent once more:
        // a subscriber that came back before this publisher noticed would miss it otherwise.
        for _attempt in 0..2 {
            if conn.is_none() {
                conn = client.get_multiplexed_async_connection().await.ok();
            }
            let Some(c) = conn.as_mut() else { break };
            match pipe.query_async::<()>(c).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "publishing failed");
                    conn = None;
                }
            }
        }
    }
}

/// Keeps a subscription open for as long as the cluster lives, reconnecting with backoff.
pub(super) async fn subscribe(client: redis::Client, channel: Arc<str>, cluster: Weak<Cluster>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if let Err(e) = pubsub.subscribe(&*channel).await {
                    tracing::debug!(error = %e, "subscribing failed");
                } else {
                    backoff = Duration::from_millis(100);
                    {
                        let Some(c) = cluster.upgrade() else { return };
                        c.connected();
                    }
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let Some(c) = cluster.upgrade() else { return };
                        c.received(message.get_payload_bytes());
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "the bus is unreachable"),
        }
        {
            let Some(c) = cluster.upgrade() else { return };
            c.disconnected();
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
