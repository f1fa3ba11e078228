//! Several nodes, one service: what a node tells the others over the bus, and what it does
//! with what they tell it. The database is the truth; the bus is a fast hint.
//!
//! - Messages: every node delivers to its own connections only, through each chat's line
//!   ([`crate::live::line`]): in seq order, once, and a gap (a lost, late or repeated bus
//!   event, a restarted bus, a paused node) is filled from the database first.
//! - Frames for users (receipts, `chat_created`, settings), typing for a chat's viewers, and
//!   sign-outs go to the other nodes as they are; a sign-out also stops the session's access
//!   tokens on every node (and each node re-reads signed-out sessions from the database every
//!   ten seconds, in case the bus lost one).
//! - Presence: each node says who is online on it (as it changes, and in full when another
//!   node appears or the bus returns) and beats every [`HEARTBEAT`]; a node not heard from
//!   for [`NODE_TIMEOUT`] is gone, and its users go offline. Each node announces a user's
//!   coming and going to its own connections.
//!
//! [`redis`] carries the events; nothing here knows how.

mod redis;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tutorchat_shared::{ChatId, Message, UserId};

use crate::live::presence::NodeId;
use crate::live::{Event, Relay};
use crate::locks::lock;
use crate::state::{AppState, Inner};
use crate::store::PageRequest;

/// How often a node says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A node not heard from for this long is gone: its users are offline.
pub const NODE_TIMEOUT: Duration = Duration::from_secs(10);
/// Events that may wait for the bus before new ones are dropped (the database still has the
/// messages; the lines fill what the bus loses).
const OUTBOX: usize = 65_536;
/// Messages one fill reads at a time.
const FILL_PAGE: u32 = 500;

/// One event on the bus, as JSON: the node that sent it and what it says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Wire {
    node: NodeId,
    /// The sending node's count of events: a receiver that sees one skipped knows it lost
    /// something from that node, and catches up from the database.
    n: u64,
    #[serde(flatten)]
    body: Body,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Body {
    Message {
        message: Box<Message>,
        members: [UserId; 2],
    },
    /// A serialized server frame for every connection of these users.
    Users {
        users: Vec<UserId>,
        frame: String,
    },
    Viewers {
        chat: ChatId,
        except: UserId,
        frame: String,
    },
    CloseSession {
        user: UserId,
        session: String,
    },
    Presence {
        user: UserId,
        online: bool,
    },
    /// Exactly these users are online on the sending node.
    Snapshot {
        users: Vec<UserId>,
    },
    /// Please send a snapshot (a node that just met this one, or lost events).
    Hello,
    Alive,
}

impl From<Event> for Body {
    fn from(event: Event) -> Body {
        match event {
            Event::Message { message, members } => Body::Message {
                message: Box::new(message),
                members,
            },
            Event::Users { users, frame } => Body::Users {
                users,
                frame: frame.as_str().to_owned(),
            },
            Event::Viewers {
                chat,
                except,
                frame,
            } => Body::Viewers {
                chat,
                except,
                frame: frame.as_str().to_owned(),
            },
            Event::CloseSession { user, session } => Body::CloseSession { user, session },
            Event::Presence { user, online } => Body::Presence { user, online },
        }
    }
}

/// This node's place in the cluster; the hub's [`Relay`].
#[derive(Debug)]
pub struct Cluster {
    node: NodeId,
    /// Serialized events for the publisher task.
    outbox: mpsc::Sender<Vec<u8>>,
    /// The state this serves; weak, so the cluster's tasks end with the server.
    state: Weak<Inner>,
    /// Whether the subscription is live now (for `/healthz`).
    up: AtomicBool,
    /// Other nodes: when each was last heard from, and its last event's number. A std
    /// mutex: held for a lookup.
    nodes: Mutex<HashMap<NodeId, Heard>>,
    /// This node's count of events sent.
    sent: AtomicU64,
    /// A catch-up from the database is running.
    catching_up: AtomicBool,
}

#[derive(Debug, Clone, Copy)]
struct Heard {
    at: Instant,
    n: u64,
}

impl Cluster {
    /// Joins the node to the cluster on the bus at `url` (`redis://host:port`), on the
    /// installation's channel: the hub relays through it from now on, and its tasks run
    /// until the server stops.
    pub fn join(state: &AppState, url: &str, channel: String) -> Result<Arc<Cluster>, String> {
        let client = ::redis::Client::open(url).map_err(|e| format!("bus {url}: {e}"))?;
        let (outbox, events) = mpsc::channel(OUTBOX);
        let cluster = Arc::new(Cluster {
            node: rand::random::<u64>() >> 11,
            outbox,
            state: state.downgrade(),
            up: AtomicBool::new(false),
            nodes: Mutex::default(),
            sent: AtomicU64::new(0),
            catching_up: AtomicBool::new(false),
        });
        state.hub.set_relay(cluster.clone());
        let channel: Arc<str> = channel.into();
        tokio::spawn(redis::publish(client.clone(), channel.clone(), events));
        tokio::spawn(redis::subscribe(client, channel, Arc::downgrade(&cluster)));
        tokio::spawn(heartbeat(Arc::downgrade(&cluster)));
        tracing::info!(node = cluster.node, "joined the cluster");
        Ok(cluster)
    }

    pub fn node(&self) -> NodeId {
        self.node
    }

    /// Whether the bus is reachable now.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    fn send(&self, body: Body) {
        // Numbered before it is queued: an event dropped anywhere after this leaves a gap the
        // other nodes see.
        let wire = Wire {
            node: self.node,
            n: self.sent.fetch_add(1, Ordering::Relaxed) + 1,
            body,
        };
        let Ok(bytes) = serde_json::to_vec(&wire) else {
            return;
        };
        if self.outbox.try_send(bytes).is_err() {
            tracing::warn!("the bus is behind: an event was dropped (the database has it)");
        }
    }

    /// The subscription is (back) up: tell the others who is online here, and fill whatever
    /// the bus lost meanwhile.
    fn connected(&self) {
        let was_up = self.up.swap(true, Ordering::Relaxed);
        let Some(state) = AppState::upgrade(&self.state) else {
            return;
        };
        if !was_up {
            tracing::info!("bus connected");
        }
        self.send(Body::Snapshot {
            users: state.hub.presence.online_here(),
        });
        self.send(Body::Hello);
        self.catch_up(state);
    }

    /// Events may have been lost: every chat line this node holds is filled from the
    /// database, one chat after another (a node may hold many, and the database serves the
    /// live traffic meanwhile). One catch-up at a time.
    fn catch_up(&self, state: AppState) {
        if self.catching_up.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(cluster) = state.cluster.get().cloned() else {
            self.catching_up.store(false, Ordering::Release);
            return;
        };
        tokio::spawn(async move {
            for (chat, last) in state.hub.line_positions() {
                let mut after = last;
                loop {
                    let read = fill(&state, chat, after).await;
                    if read < FILL_PAGE as usize {
                        break;
                    }
                    after += read as u64;
                }
            }
            cluster.catching_up.store(false, Ordering::Release);
        });
    }

    fn disconnected(&self) {
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::warn!("bus lost: serving this node's connections, catching up on return");
        }
    }

    /// One event from the bus.
    fn received(&self, bytes: &[u8]) {
        let wire: Wire = match serde_json::from_slice(bytes) {
            Ok(wire) => wire,
            Err(e) => {
                tracing::warn!(error = %e, "an unreadable event on the bus");
                return;
            }
        };
        if wire.node == self.node {
            return;
        }
        let Some(state) = AppState::upgrade(&self.state) else {
            return;
        };
        let heard = Heard {
            at: Instant::now(),
            n: wire.n,
        };
        let before = lock(&self.nodes).insert(wire.node, heard);
        match before {
            None => {
                tracing::info!(node = wire.node, "another node joined");
                // Neither knows who is online on the other yet.
                self.send(Body::Snapshot {
                    users: state.hub.presence.online_here(),
                });
                self.send(Body::Hello);
            }
            Some(before) if wire.n > before.n + 1 => {
                tracing::warn!(
                    node = wire.node,
                    lost = wire.n - before.n - 1,
                    "events from another node were lost: catching up from the database"
                );
                self.send(Body::Hello);
                self.catch_up(state.clone());
            }
            Some(_) => {}
        }
        let from = wire.node;
        let event = match wire.body {
            Body::Message { message, members } => Event::Message {
                message: *message,
                members,
            },
            Body::Users { users, frame } => Event::Users {
                users,
                frame: frame.into(),
            },
            Body::Viewers {
                chat,
                except,
                frame,
            } => Event::Viewers {
                chat,
                except,
                frame: frame.into(),
            },
            Body::CloseSession { user, session } => {
                // Signed out on another node: its access tokens stop working here too.
                let until = chrono::Utc::now() + state.tokens.access_ttl();
                state.revoked.revoke(&session, until);
                Event::CloseSession { user, session }
            }
            Body::Presence { user, online } => {
                tracing::debug!(from, user = user.as_str(), online, "presence");
                if state.hub.presence.set_remote(&user, from, online) {
                    announce(&state, user, online);
                }
                return;
            }
            Body::Snapshot { users } => {
                for (user, online) in state.hub.presence.replace_remote(from, &users) {
                    announce(&state, user, online);
                }
                return;
            }
            Body::Hello => {
                self.send(Body::Snapshot {
                    users: state.hub.presence.online_here(),
                });
                return;
            }
            Body::Alive => return,
        };
        state.hub.receive(event, from);
    }

    /// Forgets nodes that stopped beating; their users go offline.
    fn reap(&self, state: &AppState) {
        let gone: Vec<NodeId> = {
            let mut nodes = lock(&self.nodes);
            let gone = nodes
                .iter()
                .filter(|(_, heard)| heard.at.elapsed() > NODE_TIMEOUT)
                .map(|(node, _)| *node)
                .collect::<Vec<_>>();
            for node in &gone {
                nodes.remove(node);
            }
            gone
        };
        for node in gone {
            tracing::warn!(node, "a node stopped beating: its users are offline");
            for user in state.hub.presence.forget_node(node) {
                announce(state, user, false);
            }
        }
    }
}

impl Relay for Cluster {
    fn publish(&self, event: Event) {
        self.send(event.into());
    }

    fn fill(&self, chat: ChatId, after: u64) {
        let Some(state) = AppState::upgrade(&self.state) else {
            return;
        };
        tokio::spawn(async move {
            fill(&state, chat, after).await;
        });
    }
}

/// Reads a page of a chat's messages after `after` from the database and hands them to its
/// line; answers how many it read.
async fn fill(state: &AppState, chat: ChatId, after: u64) -> usize {
    let page = state
        .store
        .messages(
            chat,
            PageRequest::After {
                seq: after,
                limit: FILL_PAGE,
            },
        )
        .await;
    let fetched = match page {
        Ok(page) => Some(page.messages),
        Err(e) => {
            tracing::error!(error = %e, chat = chat.0, "cannot fill a gap");
            None
        }
    };
    let read = fetched.as_ref().map_or(0, Vec::len);
    state.hub.filled(chat, fetched);
    read
}

/// Announces on this node a change in whether `user` is online anywhere.
fn announce(state: &AppState, user: UserId, online: bool) {
    let state = state.clone();
    tokio::spawn(async move { crate::service::live::announce(&state, &user, online).await });
}

async fn heartbeat(cluster: Weak<Cluster>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    let mut beats: u32 = 0;
    loop {
        tick.tick().await;
        let Some(cluster) = cluster.upgrade() else {
            return;
        };
        let Some(state) = AppState::upgrade(&cluster.state) else {
            return;
        };
        cluster.send(Body::Alive);
        cluster.reap(&state);
        beats = beats.wrapping_add(1);
        if beats % REVOKED_EVERY_BEATS == 0 {
            // Apart, so a slow database never delays a beat.
            tokio::spawn(async move { reload_revoked(&state).await });
        }
    }
}

/// Every this many beats a node reads the sessions signed out anywhere from the database: the
/// bus's sign-out event is the fast path, this the bound if it was lost.
const REVOKED_EVERY_BEATS: u32 = 5;

async fn reload_revoked(state: &AppState) {
    let ttl = state.tokens.access_ttl();
    let now = chrono::Utc::now();
    match state.store.revoked_families_since(now - ttl).await {
        Ok(families) => {
            for family in families {
                if !state.revoked.is_revoked(&family) {
                    // Heard of only now (the bus lost the sign-out): close its sockets too.
                    state.hub.close_family_here(&family);
                }
                state.revoked.revoke(&family, now + ttl);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read signed-out sessions"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_back_as_written() {
        let wire = Wire {
            node: 42,
            n: 7,
            body: Body::Presence {
                user: UserId::new("s-sam"),
                online: true,
            },
        };
        let json = serde_json::to_string(&wire).expect("json");
        assert_eq!(
            json,
            r#"{"node":42,"n":7,"t":"presence","user":"s-sam","online":true}"#
        );
        assert_eq!(serde_json::from_str::<Wire>(&json).expect("parse"), wire);
    }
}
