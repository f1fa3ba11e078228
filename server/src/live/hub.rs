//! The registry of live connections and the fan-out to them.
//!
//! Every connection of a user is registered under that user; devices viewing a chat are also
//! listed under the chat (typing indicators go only to them). Fan-out never waits: it pushes
//! onto each connection's bounded queue and kicks a connection whose queue is full.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::ws::Utf8Bytes;
use tutorchat_shared::ws::ServerFrame;
use tutorchat_shared::{ChatId, Message, UserId};

use super::presence::Presence;
use super::queue::{CloseReason, ConnQueue, Outbound};
use super::typing::Typing;

/// A connection's id, unique for the life of the process.
pub type ConnId = u64;

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
        }
    }

    /// Registers a new connection of `user` in sign-in `session`; its queue is the
    /// connection's only input. `None` when the user already holds `max_per_user`
    /// connections (0: no limit).
    pub fn register(
        &self,
        user: &UserId,
        session: Option<&str>,
        max_per_user: usize,
    ) -> Option<(ConnId, Arc<ConnQueue>)> {
        let mut users = write(&self.users);
        let conns = users.entry(user.clone()).or_default();
        if max_per_user > 0 && conns.len() >= max_per_user {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let queue = Arc::new(ConnQueue::new(self.queue_capacity));
        conns.push(Conn {
            id,
            queue: queue.clone(),
            session: session.map(Arc::from),
        });
        Some((id, queue))
    }

    /// Connections `user` holds now.
    pub fn connections_of(&self, user: &UserId) -> usize {
        read(&self.users).get(user).map_or(0, Vec::len)
    }

    /// Closes every connection of `user` that authenticated in `session`.
    pub fn close_session(&self, user: &UserId, session: &str) {
        for conn in read(&self.users).get(user).into_iter().flatten() {
            if conn.session.as_deref() == Some(session) {
                conn.queue.close(CloseReason::SessionEnded);
            }
        }
    }

    /// Forgets a connection and everything it was viewing.
    pub fn unregister(&self, user: &UserId, id: ConnId, viewing: &[ChatId]) {
        {
            let mut users = write(&self.users);
            if let Some(conns) = users.get_mut(user) {
                conns.retain(|c| c.id != id);
                if conns.is_empty() {
                    users.remove(user);
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
    /// (which gets `message_ack` from its own request instead).
    pub fn deliver_message(
        &self,
        message: &Message,
        members: [&UserId; 2],
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
        self.push_to_users(&members, &item, origin);
    }

    /// A frame to every connection of each user.
    pub fn send_to_users(&self, users: &[&UserId], frame: &ServerFrame) {
        self.push_to_users(users, &Outbound::Frame(encode(frame)), None);
    }

    /// A frame to the devices viewing `chat`, except those of `except`.
    pub fn send_to_viewers(&self, chat: ChatId, except: &UserId, frame: &ServerFrame) {
        let item = Outbound::Frame(encode(frame));
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

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}
