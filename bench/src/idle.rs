//! Idle sockets: the server's memory per authenticated connection, and a probe chat that
//! checks delivery still works (and how fast) with all of them open.

use std::time::{Duration, Instant};

use clap::Args;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tutorchat_shared::ws::ServerFrame;

use crate::conn::Connector;
use crate::setup::{self, Server};
use crate::stats::{mib, Latency};
use crate::Target;

#[derive(Debug, Clone, Args)]
pub struct IdleArgs {
    /// Extra flags for the started server (e.g. `--server-arg=--ws-read-buffer-bytes=256`).
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    pub server_args: Vec<String>,
    /// Idle sockets to open.
    #[arg(long, default_value_t = 50_000)]
    pub connections: usize,
    /// Users they belong to (round robin).
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Messages sent through the probe chat once every socket is open.
    #[arg(long, default_value_t = 50)]
    pub probe_messages: usize,
}

pub async fn run(target: &Target, args: IdleArgs) -> anyhow::Result<()> {
    let extra: Vec<&str> = args.server_args.iter().map(String::as_str).collect();
    let server = Server::start(target, &extra).await?;
    println!("server {} (pid {})", server.base, server.pid);
    let users = args.users.max(1);
    let probe = setup::provision(&server.base, 1, users).await?;
    let probe = probe
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no probe chat"))?;
    let connector = Connector::new(
        &server.base,
        args.connections + 2,
        target.sources,
        target.connect_concurrency,
    )?;
    let tokens: Vec<String> = (0..users)
        .map(|i| setup::token(&format!("bi-{i}"), "student"))
        .collect();
    // Warm the server up (threads, pools, caches) with the probe pair before measuring.
    let mut sender = connector
        .connect(0, &setup::token(&probe.student, "student"))
        .await?;
    let mut receiver = connector
        .connect(1, &setup::token(&probe.tutor, "tutor"))
        .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = setup::rss_bytes(server.pid).unwrap_or(0);

    let started = Instant::now();
    let mut opening = tokio::task::JoinSet::new();
    for n in 0..args.connections {
        let (connector, token) = (connector.clone(), tokens[n % users].clone());
        opening.spawn(async move { connector.connect(n + 2, &token).await });
    }
    let mut idle = Vec::with_capacity(args.connections);
    let mut failed = 0usize;
    while let Some(opened) = opening.join_next().await {
        match opened? {
            Ok(socket) => idle.push(socket),
            Err(e) => {
                if failed == 0 {
                    eprintln!("first failed connection: {e:#}");
                }
                failed += 1;
            }
        }
    }
    println!(
        "{} idle sockets authenticated in {:.1} s ({failed} failed)",
        idle.len(),
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = setup::rss_bytes(server.pid).unwrap_or(0);

    let mut latency = Latency::default();
    let epoch = Instant::now();
    let mut delivered = 0;
    for n in 0..args.probe_messages {
        let frame = serde_json::json!({
            "type": "send_message", "chat_id": probe.id, "client_id": format!("probe-{n}"),
            "content": epoch.elapsed().as_micros().to_string(),
        });
        sender.send(Message::Text(frame.to_string().into())).await?;
        loop {
            let next = tokio::time::timeout(Duration::from_secs(5), receiver.next()).await;
            let Ok(Some(Ok(Message::Text(text)))) = next else {
                anyhow::bail!("probe message {n} was not delivered within 5 s");
            };
            if let Ok(ServerFrame::MessageReceived { message }) = serde_json::from_str(&text) {
                let at: u64 = message.content.parse().unwrap_or(0);
                latency.record(epoch.elapsed().as_micros() as u64 - at);
                delivered += 1;
                break;
            }
        }
    }
    let per_socket = rss_after.saturating_sub(rss_before) / idle.len().max(1) as u64;
    println!("--- idle: {} sockets over {users} users ---", idle.len());
    println!(
        "server memory     {} before, {} after: {per_socket} bytes per idle socket",
        mib(rss_before),
        mib(rss_after)
    );
    println!(
        "probe delivery    {delivered}/{} delivered with every socket open; {}",
        args.probe_messages,
        latency.summary()
    );
    drop(idle);
    Ok(())
}
