//! The registry of live connections and the fan-out to them.
//!
//! Every connection of a user is registered under that user; devices viewing a chat are also
//! listed under the chat (typing indicators go only to them). Fan-out never waits: it pushes
//! onto each connection's bounded queue and kicks a connection whose queue is full.
//!
//! With several nodes, each fan-out also goes to the [`Relay`] (the cluster bus), and what the
//! other nodes relay arrives through [`Hub::receive`]; each node pushes only to its own
//! connections. Messages then pass through their chat's [`Lines`] so that, whichever way they
//! came, a node delivers each chat's messages in seq order and once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use axum::extract::ws::Utf8Bytes;
use tutorchat_shared::ws::ServerFrame;
use tutorchat_shared::{ChatId, Message, UserId};

use super::expiry::Expiries;
use super::line::{Lines, Pending, Verdict};
use super::presence::{NodeId, Presence};
use super::queue::{CloseReason, ConnQueue, Outbound};
use super::typing::Typing;

use crate::locks::{lock, read, write};

/// A connection's id, unique for the life of the process.
pub type ConnId = u64;

/// The way to the other nodes' connections (set once, when the node joins a cluster).
pub trait Relay: Send + Sync + std::fmt::Debug {
    /// Tells the other nodes, best effort: the database stays the truth.
    fn publish(&self, event: Event);
    /// A gap in a chat's seqs after `after`: fetch what follows from the database and hand
    /// it to [`Hub::filled`].
    fn fill(&self, chat: ChatId, after: u64);
}

/// What one node's fan-out tells the others.
#[derive(Debug, Clone)]
pub enum Event {
    Message {
        message: Message,
        members: [UserId; 2],
    },
    /// A serialized frame for every connection of these users.
    Users {
        users: Vec<UserId>,
        frame: Utf8Bytes,
    },
    /// A serialized frame for the devices viewing a chat, except those of one user.
    Viewers {
        chat: ChatId,
        except: UserId,
        frame: Utf8Bytes,
    },
    CloseSession {
        user: UserId,
        session: String,
    },
    /// Whether a user is online on the publishing node.
    Presence {
        user: UserId,
        online: bool,
    },
}

#[derive(Debug)]
pub struct Hub {
    /// Connections by user. A std RwLock: fan-out reads it from async tasks and from the
    /// store's writer thread alike, and never holds it across `.await`.
    users: RwLock<HashMap<UserId, Vec<Conn>>>,
    /// Devices viewing each chat.
    viewers: RwLock<HashMap<ChatId, Vec<Viewer>>>,
    next_id: AtomicU64,
    queue_capacity: usize,
    pub presence: Presence,
    pub typing: Typing,
    relay: OnceLock<Arc<dyn Relay>>,
    /// Each chat's delivery line (only with a relay). A std mutex, held while a verdict's
    /// messages are pushed so that two threads cannot push one chat's messages out of order.
    lines: Mutex<Lines>,
    /// When each connection's token expires (closed by [`Hub::expire_tokens`]).
    expiries: Expiries,
}

#[derive(Debug, Clone)]
struct Viewer {
    user: UserId,
    conn: Conn,
}

#[derive(Debug, Clone)]
struct Conn {
    id: ConnId,
    queue: Arc<ConnQueue>,
    /// The sign-in session (refresh-token family) the connection authenticated with.
    session: Option<Arc<str>>,
}

/// Serializes a frame once, for any number of recipients.
pub fn encode(frame: &ServerFrame) -> Utf8Bytes {
    // Our frames are plain data: serialization cannot fail.
    Utf8Bytes::from(serde_json::to_string(frame).unwrap_or_default())
}

impl Hub {
    pub fn new(queue_capacity: usize) -> Self {
        Self {
            users: RwLock::default(),
            viewers: RwLock::default(),
            next_id: AtomicU64::new(1),
            queue_capacity,
            presence: Presence::default(),
            typing: Typing::default(),
            relay: OnceLock::new(),
            lines: Mutex::default(),
            expiries: Expiries::default(),
        }
    }

    /// Closes each connection once its access token has expired (with `token_expired`, so
    /// the client refreshes and reconnects): a task that looks once a second, for as long as
    /// the hub lives.
    pub fn expire_tokens(self: &Arc<Self>) {
        let hub = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(hub) = hub.upgrade() else {
                    return;
                };
                for queue in hub.expiries.take_due(chrono::Utc::now().timestamp()) {
                    queue.close(CloseReason::TokenExpired);
                }
            }
        });
    }

    /// Joins the node to a cluster: fan-out goes to `relay` too (set once).
    pub fn set_relay(&self, relay: Arc<dyn Relay>) {
        let _ = self.relay.set(relay);
    }

    /// Whether this node has other nodes to tell.
    pub fn relay(&self) -> Option<&Arc<dyn Relay>> {
        self.relay.get()
    }

    /// An event another node relayed: to this node's connections only.
    pub fn receive(&self, event: Event, from: NodeId) {
        match event {
            Event::Message { message, members } => {
                let pending = Pending {
                    message,
                    members,
                    origin: None,
                    committed: std::time::Instant::now(),
                };
                self.offer(pending);
            }
            Event::Users { users, frame } => {
                let users: Vec<&UserId> = users.iter().collect();
                self.push_to_users(&users, &Outbound::Frame(frame), None);
            }
            Event::Viewers {
                chat,
                except,
                frame,
            } => self.push_to_viewers(chat, &except, Outbound::Frame(frame)),
            Event::CloseSession { user, session } => self.close_session_here(&user, &session),
            // The cluster keeps presence itself (it announces); nothing to push here.
            Event::Presence { .. } => tracing::debug!(from, "presence event reached the hub"),
        }
    }

    /// A fill's result for `chat` (see [`Relay::fill`]).
    pub fn filled(&self, chat: ChatId, fetched: Option<Vec<Message>>) {
        let mut lines = lock(&self.lines);
        let verdict = lines.filled(chat, fetched);
        self.follow(chat, verdict);
    }

    /// Each chat's last delivered seq (to check against the database after the bus was away).
    pub fn line_positions(&self) -> Vec<(ChatId, u64)> {
        lock(&self.lines).positions()
    }

    /// Through the chat's line, then to the connections, in order.
    fn offer(&self, pending: Pending) {
        let chat = pending.message.chat_id;
        let mut lines = lock(&self.lines);
        let verdict = lines.offer(pending);
        self.follow(chat, verdict);
    }

    /// Pushes a verdict's messages (the caller holds the lines' lock) and starts its fill.
    fn follow(&self, chat: ChatId, verdict: Verdict) {
        for p in verdict.deliver {
            self.push_message(&p.message, &p.members, p.origin, p.committed);
        }
        if let (Some(after), Some(relay)) = (verdict.fill_after, self.relay.get()) {
            relay.fill(chat, after);
        }
    }

    /// Registers a new connection of `user` in sign-in `session`, whose token expires at
    /// `expires_at` (seconds since the epoch); its queue is the connection's only input.
    /// `None` when the user already holds `max_per_user` connections (0: no limit).
    pub fn register(
        &self,
        user: &UserId,
        session: Option<Arc<str>>,
        expires_at: i64,
        max_per_user: usize,
    ) -> Option<(ConnId, Arc<ConnQueue>)> {
        let mut users = write(&self.users);
        let conns = users.entry(user.clone()).or_default();
        if max_per_user > 0 && conns.len() >= max_per_user {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let queue = Arc::new(ConnQueue::new(self.queue_capacity));
        // Grown one at a time: most users hold one or two connections, and doubling would
        // keep room for four (96 bytes more for a user with one device, for as long as it
        // stays connected).
        conns.reserve_exact(1);
        conns.push(Conn {
            id,
            queue: queue.clone(),
            session,
        });
        self.expiries.insert(expires_at, id, &queue);
        Some((id, queue))
    }

    /// Connections `user` holds now.
    pub fn connections_of(&self, user: &UserId) -> usize {
        read(&self.users).get(user).map_or(0, Vec::len)
    }

    /// Closes every connection of `user` that authenticated in `session`, on every node.
    pub fn close_session(&self, user: &UserId, session: &str) {
        self.close_session_here(user, session);
        if let Some(relay) = self.relay.get() {
            relay.publish(Event::CloseSession {
                user: user.clone(),
                session: session.to_owned(),
            });
        }
    }

    /// Closes this node's connections of sign-in session `session`, whoever's they are
    /// (a sign-out heard of late; scans every connection).
    pub fn close_family_here(&self, session: &str) {
        for conn in read(&self.users).values().flatten() {
            if conn.session.as_deref() == Some(session) {
                conn.queue.close(CloseReason::SessionEnded);
            }
        }
    }

    fn close_session_here(&self, user: &UserId, session: &str) {
        for conn in read(&self.users).get(user).into_iter().flatten() {
            if conn.session.as_deref() == Some(session) {
                conn.queue.close(CloseReason::SessionEnded);
            }
        }
    }

    /// Forgets a connection and everything it was viewing.
    pub fn unregister(&self, user: &UserId, id: ConnId, expires_at: i64, viewing: &[ChatId]) {
        self.expiries.remove(expires_at, id);
        {
            let mut users = write(&self.users);
            if let Some(conns) = users.get_mut(user) {
                conns.retain(|c| c.id != id);
                if conns.is_empty() {
                    users.remove(user);
                } else {
                    conns.shrink_to_fit();
                }
            }
        }
        let mut viewers = write(&self.viewers);
        for chat in viewing {
            if let Some(list) = viewers.get_mut(chat) {
                list.retain(|v| v.conn.id != id);
                if list.is_empty() {
                    viewers.remove(chat);
                }
            }
        }
    }

    /// Number of open connections (for metrics and tests).
    pub fn connection_count(&self) -> usize {
        read(&self.users).values().map(Vec::len).sum()
    }

    /// The connection is viewing `chat` (it gets the chat's typing indicators).
    pub fn join(&self, chat: ChatId, id: ConnId, user: &UserId, queue: &Arc<ConnQueue>) {
        let mut viewers = write(&self.viewers);
        let list = viewers.entry(chat).or_default();
        if !list.iter().any(|v| v.conn.id == id) {
            list.push(Viewer {
                user: user.clone(),
                conn: Conn {
                    id,
                    queue: queue.clone(),
                    session: None,
                },
            });
        }
    }

    pub fn leave(&self, chat: ChatId, id: ConnId) {
        let mut viewers = write(&self.viewers);
        if let Some(list) = viewers.get_mut(&chat) {
            list.retain(|v| v.conn.id != id);
            if list.is_empty() {
                viewers.remove(&chat);
            }
        }
    }

    /// A stored message to every connection of its chat's members but the one that sent it
    /// (which gets `message_ack` from its own request instead), on every node.
    pub fn deliver_message(
        &self,
        message: &Message,
        members: [&UserId; 2],
        origin: Option<ConnId>,
        committed: std::time::Instant,
    ) {
        let Some(relay) = self.relay.get() else {
            self.push_message(message, &members, origin, committed);
            return;
        };
        let members = [members[0].clone(), members[1].clone()];
        relay.publish(Event::Message {
            message: message.clone(),
            members: members.clone(),
        });
        self.offer(Pending {
            message: message.clone(),
            members,
            origin,
            committed,
        });
    }

    fn push_message<U: std::borrow::Borrow<UserId>>(
        &self,
        message: &Message,
        members: &[U; 2],
        origin: Option<ConnId>,
        committed: std::time::Instant,
    ) {
        let frame = encode(&ServerFrame::MessageReceived {
            message: message.clone(),
        });
        let item = Outbound::Message {
            chat_id: message.chat_id,
            seq: message.seq,
            frame,
            committed,
        };
        let members = [members[0].borrow(), members[1].borrow()];
        self.push_to_users(&members, &item, origin);
    }

    /// A frame to every connection of each user, on every node.
    pub fn send_to_users(&self, users: &[&UserId], frame: &ServerFrame) {
        let frame = encode(frame);
        if let Some(relay) = self.relay.get() {
            relay.publish(Event::Users {
                users: users.iter().map(|u| (*u).clone()).collect(),
                frame: frame.clone(),
            });
        }
        self.push_to_users(users, &Outbound::Frame(frame), None);
    }

    /// A frame to every connection of each user on this node only (each node announces
    /// presence to its own connections).
    pub fn send_here(&self, users: &[&UserId], frame: &ServerFrame) {
        self.push_to_users(users, &Outbound::Frame(encode(frame)), None);
    }

    /// A frame to the devices viewing `chat`, except those of `except`, on every node.
    pub fn send_to_viewers(&self, chat: ChatId, except: &UserId, frame: &ServerFrame) {
        let frame = encode(frame);
        if let Some(relay) = self.relay.get() {
            relay.publish(Event::Viewers {
                chat,
                except: except.clone(),
                frame: frame.clone(),
            });
        }
        self.push_to_viewers(chat, except, Outbound::Frame(frame));
    }

    fn push_to_viewers(&self, chat: ChatId, except: &UserId, item: Outbound) {
        let mut slow = Vec::new();
        if let Some(list) = read(&self.viewers).get(&chat) {
            for viewer in list.iter().filter(|v| &v.user != except) {
                if !viewer.conn.queue.push(item.clone()) {
                    slow.push(viewer.conn.queue.clone());
                }
            }
        }
        kick(slow);
    }

    /// Closes every connection (server shutdown).
    pub fn close_all(&self, reason: CloseReason) {
        for conn in read(&self.users).values().flatten() {
            conn.queue.close(reason);
        }
    }

    fn push_to_users(&self, users: &[&UserId], item: &Outbound, skip: Option<ConnId>) {
        let mut slow = Vec::new();
        {
            let map = read(&self.users);
            for user in users {
                for conn in map.get(*user).into_iter().flatten() {
                    if Some(conn.id) != skip && !conn.queue.push(item.clone()) {
                        slow.push(conn.queue.clone());
                    }
                }
            }
        }
        kick(slow);
    }
}

/// Closes connections whose queue overflowed; they reconnect and `sync`.
fn kick(slow: Vec<Arc<ConnQueue>>) {
    for queue in slow {
        tracing::warn!("closing a connection that fell behind");
        queue.close(CloseReason::SlowConsumer);
    }
}
