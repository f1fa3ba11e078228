//! A connection's outgoing queue: bounded, allocation-free while empty, single consumer.
//!
//! Producers (the hub, on any thread) `push` without waiting; a full queue means the consumer
//! is too slow, and the producer kicks it with a reason instead of buffering without limit.
//! The client recovers what it missed through `sync` after reconnecting.

use std::sync::Mutex;
use std::task::{Context, Poll};

use axum::extract::ws::Utf8Bytes;
use futures_util::task::AtomicWaker;
use tutorchat_shared::ChatId;

use crate::locks::lock;

/// One item for the socket, already serialized (once, shared by every recipient).
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A stored message: carries its position so a connection can skip what `sync` already
    /// sent it.
    Message {
        chat_id: ChatId,
        seq: u64,
        frame: Utf8Bytes,
        /// When the message became durable (for the delivery-latency metric).
        committed: std::time::Instant,
    },
    Frame(Utf8Bytes),
}

/// Why the server closes a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    SlowConsumer,
    ShuttingDown,
    /// The sign-in session this connection belongs to was signed out (or revoked).
    SessionEnded,
    /// The access token the connection authenticated with expired (`expiry`).
    TokenExpired,
}

/// 80 bytes with its `Arc` (a block of every idle connection): the capacity sits in the
/// state's padding, and items go out all at once, so a `Vec` serves where a `VecDeque` would
/// add a head index and push the block to the next size class.
#[derive(Debug)]
pub struct ConnQueue {
    /// A std mutex: held for a push or a swap, never across `.await`.
    state: Mutex<State>,
    /// The one consumer's waker. Not a `Notify`: waiting on one keeps a waiter (~64 bytes) in
    /// every idle connection's task, where this keeps a reference.
    waker: AtomicWaker,
}

#[derive(Debug)]
struct State {
    items: Vec<Outbound>,
    capacity: u32,
    closed: Option<CloseReason>,
}

/// What the consumer gets next.
#[derive(Debug)]
pub enum Next {
    Items(Vec<Outbound>),
    Closed(CloseReason),
}

impl ConnQueue {
    pub fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(State {
                items: Vec::new(),
                capacity: u32::try_from(capacity).unwrap_or(u32::MAX).max(1),
                closed: None,
            }),
            waker: AtomicWaker::new(),
        }
    }

    /// Queues `item`; false if the queue is full or closed (the caller then kicks it).
    pub fn push(&self, item: Outbound) -> bool {
        let mut state = lock(&self.state);
        if state.closed.is_some() || state.items.len() >= state.capacity as usize {
            return false;
        }
        state.items.push(item);
        drop(state);
        self.waker.wake();
        true
    }

    /// Closes the queue; the consumer gets `Closed(reason)` next, dropping what was queued.
    pub fn close(&self, reason: CloseReason) {
        let mut state = lock(&self.state);
        if state.closed.is_none() {
            state.closed = Some(reason);
            state.items = Vec::new();
        }
        drop(state);
        self.waker.wake();
    }

    /// Items (taking all of them at once) or the close; pending while there is neither, and
    /// woken by the next push or the close. One consumer only, which waits on its socket too.
    pub fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Next> {
        if let Some(next) = self.take() {
            return Poll::Ready(next);
        }
        self.waker.register(cx.waker());
        // A push between the first look and the registration woke no one: look again.
        match self.take() {
            Some(next) => Poll::Ready(next),
            None => Poll::Pending,
        }
    }

    /// The close, or every queued item.
    fn take(&self) -> Option<Next> {
        let mut state = lock(&self.state);
        if let Some(reason) = state.closed {
            return Some(Next::Closed(reason));
        }
        if state.items.is_empty() {
            return None;
        }
        // Taking the items leaves an unallocated vector behind: idle costs nothing.
        Some(Next::Items(std::mem::take(&mut state.items)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(s: &str) -> Outbound {
        Outbound::Frame(Utf8Bytes::from(s.to_owned()))
    }

    /// Waits for the queue's next items or its close.
    fn wait(q: &ConnQueue) -> impl std::future::Future<Output = Next> + '_ {
        std::future::poll_fn(move |cx| q.poll_next(cx))
    }

    /// Every idle connection holds one in an `Arc` (two counters more): 80 bytes is a block
    /// size of the allocator, 88 would take 96.
    #[test]
    fn a_queue_in_its_arc_fits_80_bytes() {
        let with_arc = std::mem::size_of::<ConnQueue>() + 2 * std::mem::size_of::<usize>();
        assert!(with_arc <= 80, "an Arc<ConnQueue> is {with_arc} bytes");
    }

    #[tokio::test]
    async fn items_come_out_in_order_and_all_at_once() {
        let q = ConnQueue::new(4);
        assert!(q.push(frame("a")));
        assert!(q.push(frame("b")));
        match wait(&q).await {
            Next::Items(items) => assert_eq!(items.len(), 2),
            Next::Closed(_) => panic!("not closed"),
        }
    }

    #[tokio::test]
    async fn a_waiting_consumer_wakes_for_a_push_from_another_thread_and_for_the_close() {
        let q = std::sync::Arc::new(ConnQueue::new(4));
        for round in 0..100 {
            let producer = q.clone();
            let pushed = std::thread::spawn(move || producer.push(frame("x")));
            let next = tokio::time::timeout(std::time::Duration::from_secs(5), wait(&q)).await;
            assert!(
                matches!(next, Ok(Next::Items(ref items)) if items.len() == 1),
                "round {round}: {next:?}"
            );
            assert!(pushed.join().expect("producer"));
        }
        let closer = q.clone();
        std::thread::spawn(move || closer.close(CloseReason::TokenExpired));
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), wait(&q)).await;
        assert!(matches!(next, Ok(Next::Closed(CloseReason::TokenExpired))));
    }

    #[tokio::test]
    async fn a_full_queue_refuses_and_close_wins_over_items() {
        let q = ConnQueue::new(2);
        assert!(q.push(frame("a")));
        assert!(q.push(frame("b")));
        assert!(!q.push(frame("c")), "third item is over capacity");
        q.close(CloseReason::SlowConsumer);
        assert!(matches!(
            wait(&q).await,
            Next::Closed(CloseReason::SlowConsumer)
        ));
        assert!(!q.push(frame("d")), "closed queues take nothing");
    }
}
