//! The server's integration tests: one binary, real SQLite files in temporary directories,
//! real HTTP on 127.0.0.1 port 0. Each module covers one area:
//!
//! - `testing`: the harness (a server on a temp dir with the demo school, an HTTP client).
//! - `wsclient`: a WebSocket client that reads frames with a deadline.
//! - `auth`: login, refresh rotation and reuse, logout, forged/expired/wrong-role tokens.
//! - `gate`: the course-enrollment gate on opening chats and sending.
//! - `access`: participant-only access to chats, messages and lists (IDOR cases).
//! - `history`: pagination both ways with no gap or duplicate; read pointers.
//! - `blocking`: blocks stop messages to the blocker.
//! - `settings`: a member's own view of a chat (muted, archived, blocked, read-only).
//! - `admin`: provisioning, import all-or-nothing, the audit log.
//! - `validation`: bad input answers 422 with the field, and stores nothing.
//! - `realtime`: the WebSocket: delivery, sync, presence, typing, receipts, bad frames.
//! - `hardening`: hostile clients — login floods, slow and greedy connections, oversized and
//!   malformed input, probes, revocation gaps — cost little and learn nothing.
//! - `lifecycle`: restart on the same data directory, the real binary, TLS, OpenAPI.
//! - `store`: the `Store` conformance suite, run against every backend.
//! - `uploads`: resumable uploads, type by content, images without metadata, limits, who may
//!   download, ranges and safe headers, an attachment sent once.

mod database;
mod testing;
mod wsclient;

mod access;
mod admin;
mod auth;
mod blocking;
mod cluster;
mod gate;
mod hardening;
mod history;
mod lifecycle;
mod realtime;
mod settings;
mod store;
mod uploads;
mod validation;
