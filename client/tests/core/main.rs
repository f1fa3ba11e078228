//! The client core against a real server on 127.0.0.1 (in this process, on a port chosen up
//! front so it can be stopped and started again) with temporary data directories, plus the
//! `tutorchat` binary where a client process must exit and come back.
//!
//! - `harness`: the server, clients, and waiting for events.
//! - `offline`: the outbox across server outages and client restarts; order, no loss, no doubles.
//! - `sync`: catching up after an absence; read state across devices; history and search offline.
//! - `session`: token refresh across an expiry; the session ending on a revoked refresh token;
//!   restarts (and SIGKILLs) that do not spend the refresh token.
//! - `processes`: one process per data directory.
//! - `settings`: muted, archived and blocked follow the user across devices; a revoked
//!   purchase turns a chat read-only.
//! - `live`: the chat on screen joined again on every connection (typing after an outage).
//! - `keyring`: the refresh token in a real Secret Service (GNOME Keyring), in no file.
//! - `attachments`: a file written offline sent once after a restart, resumed after a kill
//!   mid-upload, refused before upload by the published limits, not holding back texts.

mod harness;

mod attachments;
mod keyring;
mod live;
mod offline;
mod processes;
mod session;
mod settings;
mod sync;
