//! A WebSocket test client: connects to `/ws` like a device would and reads JSON frames with
//! a deadline, so a missing frame fails the test instead of hanging it.

#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::testing::TestServer;

/// How long a test waits for a frame it expects.
pub const WAIT: Duration = Duration::from_secs(5);

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub user_id: String,
}

/// What the socket did instead of sending a frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Closed { code: u16, reason: String },
    Gone,
}

pub fn ws_url(ts: &TestServer) -> String {
    format!("{}/ws", ts.base.replacen("http", "ws", 1))
}

impl WsClient {
    /// Connects with `Authorization: Bearer` and waits for `ready`.
    pub async fn connect(ts: &TestServer, token: &str) -> WsClient {
        let mut request = ws_url(ts).into_client_request().expect("request");
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        let (stream, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("ws connects");
        let mut client = WsClient {
            stream,
            user_id: String::new(),
        };
        let ready = client.recv_type("ready").await;
        client.user_id = ready["user_id"].as_str().expect("user id").to_owned();
        client
    }

    /// Connects without a header; the caller sends `auth` itself.
    pub async fn connect_bare(ts: &TestServer) -> WsClient {
        let (stream, _) = tokio_tungstenite::connect_async(ws_url(ts))
            .await
            .expect("ws connects");
        WsClient {
            stream,
            user_id: String::new(),
        }
    }

    pub async fn send(&mut self, frame: Value) {
        self.send_text(frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.stream
            .send(Message::Text(text.into()))
            .await
            .expect("ws send");
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.stream
            .send(Message::Binary(bytes.into()))
            .await
            .expect("ws send");
    }

    /// The next JSON frame, or how the socket ended; None on timeout.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Result<Value, Ended>> {
        loop {
            let item = match tokio::time::timeout(wait, self.stream.next()).await {
                Err(_) => return None,
                Ok(item) => item,
            };
            return Some(match item {
                Some(Ok(Message::Text(text))) => {
                    Ok(serde_json::from_str(&text).expect("server frames are JSON"))
                }
                Some(Ok(Message::Close(frame))) => Err(match frame {
                    Some(f) => Ended::Closed {
                        code: f.code.into(),
                        reason: f.reason.to_string(),
                    },
                    None => Ended::Closed {
                        code: 1005,
                        reason: String::new(),
                    },
                }),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Binary(_))) => panic!("server sent a binary frame"),
                Some(Err(_)) | None => Err(Ended::Gone),
            });
        }
    }

    /// The next frame; panics on timeout or close.
    pub async fn recv(&mut self) -> Value {
        match self.next_within(WAIT).await {
            Some(Ok(frame)) => frame,
            Some(Err(ended)) => panic!("socket ended: {ended:?}"),
            None => panic!("no frame within {WAIT:?}"),
        }
    }

    /// The next frame of type `ty`, skipping presence and typing chatter.
    pub async fn recv_type(&mut self, ty: &str) -> Value {
        self.recv_type_within(ty, WAIT).await
    }

    /// The next frame of type `ty` within `wait`; a timeout names the frames skipped.
    pub async fn recv_type_within(&mut self, ty: &str, wait: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + wait;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Some(Ok(frame)) if frame["type"] == ty => return frame,
                Some(Ok(frame)) => skipped.push(match frame["code"].as_str() {
                    Some(code) => format!("error {code}"),
                    None => frame["type"].to_string(),
                }),
                Some(Err(ended)) => panic!("socket ended waiting for {ty}: {ended:?}"),
                None => panic!("no {ty} frame within {wait:?} (skipped: {skipped:?})"),
            }
        }
    }

    /// Every frame of type `ty` that arrives within `wait` (others are dropped).
    pub async fn collect_type(&mut self, ty: &str, wait: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut frames = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return frames;
            }
            match self.next_within(left).await {
                Some(Ok(frame)) if frame["type"] == ty => frames.push(frame),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return frames,
            }
        }
    }

    /// Waits for the close frame; panics if a different frame or nothing comes.
    pub async fn expect_close(&mut self) -> Ended {
        loop {
            match self.next_within(WAIT).await {
                Some(Err(ended)) => return ended,
                Some(Ok(frame)) if frame["type"] == "error" => continue,
                Some(Ok(_)) => continue,
                None => panic!("socket not closed within {WAIT:?}"),
            }
        }
    }

    pub async fn ping(&mut self) {
        self.send(json!({"type": "ping"})).await;
        self.recv_type("pong").await;
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }

    /// Sends a text message and returns its `message_ack`.
    pub async fn send_message(&mut self, chat_id: i64, client_id: &str, content: &str) -> Value {
        self.send(json!({
            "type": "send_message", "chat_id": chat_id, "client_id": client_id, "content": content
        }))
        .await;
        self.recv_reply(client_id).await
    }

    /// Sends `send_messages` with these `(client_id, content)` and returns the answers (each a
    /// `message_ack` or an `error` with a `client_id`) in the order they came.
    pub async fn send_messages(&mut self, chat_id: i64, messages: &[(&str, &str)]) -> Vec<Value> {
        let batch: Vec<Value> = messages
            .iter()
            .map(|(client_id, content)| json!({"client_id": client_id, "content": content}))
            .collect();
        self.send(json!({"type": "send_messages", "chat_id": chat_id, "messages": batch}))
            .await;
        let mut answers = Vec::new();
        while answers.len() < messages.len() {
            let frame = self.recv().await;
            let answers_one = frame["type"] == "message_ack"
                || (frame["type"] == "error" && frame["client_id"].is_string());
            if answers_one {
                answers.push(frame);
            }
        }
        answers
    }

    /// The `message_ack` or `error` answering `client_id`.
    pub async fn recv_reply(&mut self, client_id: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Some(Ok(frame))
                    if (frame["type"] == "message_ack" || frame["type"] == "error")
                        && frame["client_id"] == client_id =>
                {
                    return frame
                }
                Some(Ok(_)) => continue,
                Some(Err(ended)) => panic!("socket ended waiting for {client_id}: {ended:?}"),
                None => panic!("no reply to {client_id} within {WAIT:?}"),
            }
        }
    }
}
