//! The live layer: who is connected, on which devices, viewing what, typing where — and the
//! fan-out of events to their connections. Transport-agnostic state; the WebSocket transport
//! in [`crate::ws`] feeds it, the services publish through it.
//!
//! - [`expiry`]: when each connection's token expires, swept once a second for the node.
//! - [`queue`]: each connection's bounded outgoing queue (slow consumers are kicked, not
//!   buffered without limit).
//! - [`hub`]: the registry of connections by user and the viewers of each chat; fan-out.
//! - [`line`]: each chat's delivery line with several nodes: in seq order, once, gaps filled.
//! - [`presence`]: online from the first connection until the last closes, plus a grace;
//!   with several nodes, also where else a user is online.
//! - [`typing`]: typing state that expires by itself.

pub mod expiry;
pub mod hub;
pub mod line;
pub mod presence;
pub mod queue;
pub mod typing;

pub use hub::{ConnId, Event, Hub, Relay};
pub use queue::{CloseReason, ConnQueue, Outbound};
