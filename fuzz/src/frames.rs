//! WebSocket frames as their receivers decode them.
//!
//! The client engine (`client/src/engine/apply.rs`) does nothing with a frame's text before
//! applying it but `serde_json::from_str::<ServerFrame>`; everything after that is a cache
//! transaction. The server's connection task likewise decodes `ClientFrame` and classifies a
//! failure as `unknown_type` or `malformed_frame`.

use tutorchat_shared::validation::Limits;
use tutorchat_shared::ws::{ClientFrame, ServerFrame};

use crate::json_round_trip;

/// A server frame as the client reads it; true when it decoded.
pub fn check_server_frame(data: &[u8]) -> bool {
    // A WebSocket text frame is UTF-8 by the protocol; the client decodes it with `from_str`.
    if std::str::from_utf8(data).is_err() {
        return false;
    }
    let Some(frame) = json_round_trip::<ServerFrame>(data) else {
        return false;
    };
    if let ServerFrame::Error(error) = &frame {
        // The client shows these: neither may panic.
        let _ = error.to_string();
        let _ = error.code.is_transient();
    }
    true
}

/// A client frame as the server's connection task reads it, then what `send_message` checks
/// before touching the store; true when it decoded.
pub fn check_client_frame(data: &[u8]) -> bool {
    if std::str::from_utf8(data).is_err() {
        return false;
    }
    let Some(frame) = json_round_trip::<ClientFrame>(data) else {
        return false;
    };
    if let ClientFrame::SendMessage {
        client_id,
        content,
        kind,
        ..
    } = &frame
    {
        crate::validation::check_client_id(client_id.as_str());
        crate::validation::check_message(*kind, content, &Limits::default());
    }
    true
}
