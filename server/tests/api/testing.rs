//! Test harness: a real server on 127.0.0.1:0 over a temporary data directory seeded with the
//! demo school, and a small JSON client.

#![allow(dead_code)]

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tempfile::TempDir;
use tutorchat_server::{Config, Server};
use tutorchat_shared::api::AuthTokens;

pub const PASSWORD: &str = tutorchat_server::demo::PASSWORD;
pub const JWT_SECRET: &str = "test-secret-for-tutorchat";
pub const ADMIN_TOKEN: &str = "test-admin-token";

pub const SAM: &str = "sam@tutorchat.test";
pub const MAYA: &str = "maya@tutorchat.test";
pub const LEO: &str = "leo@tutorchat.test";
pub const ADA: &str = "ada@tutorchat.test";
pub const ALAN: &str = "alan@tutorchat.test";
pub const GRACE: &str = "grace@tutorchat.test";
pub const ADMIN: &str = "admin@tutorchat.test";

/// A server on a temporary data directory.
pub struct TestServer {
    pub server: Option<Server>,
    pub dir: TempDir,
    pub base: String,
    pub http: reqwest::Client,
    extra: Vec<String>,
}

/// A response: status and JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The body as `T`, panicking with the body if it does not fit.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("unexpected body ({e}): {}", self.body))
    }

    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.body["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.body))
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.status.is_success(),
            "expected success, got {} {}",
            self.status,
            self.body
        );
        self
    }

    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "unexpected answer: {}",
            self.body
        );
        self
    }
}

pub fn config(data_dir: &Path, extra: &[String]) -> Config {
    let mut args: Vec<String> = vec![
        "tutorchat-server".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        data_dir.display().to_string(),
        "--jwt-secret".into(),
        JWT_SECRET.into(),
        "--admin-token".into(),
        ADMIN_TOKEN.into(),
        "--demo".into(),
        // Generous limits unless a test sets its own: tests are quick bursts.
        "--login-rate-per-minute".into(),
        "600".into(),
        "--api-rate-per-second".into(),
        "1000".into(),
        "--api-burst".into(),
        "1000".into(),
        "--message-rate-per-second".into(),
        "1000".into(),
        "--message-burst".into(),
        "1000".into(),
        "--log".into(),
        "warn".into(),
    ];
    args.extend(extra.iter().cloned());
    <Config as clap::Parser>::try_parse_from(args).expect("test config parses")
}

impl TestServer {
    /// The demo school on a fresh directory.
    pub async fn start() -> TestServer {
        TestServer::start_with(&[]).await
    }

    /// The same with extra command-line flags (later flags override earlier ones).
    pub async fn start_with(extra: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        let server = Server::start(config(dir.path(), &extra))
            .await
            .expect("server starts");
        let base = server.base_url();
        TestServer {
            server: Some(server),
            dir,
            base,
            http: reqwest::Client::new(),
            extra,
        }
    }

    /// A client for a server running elsewhere (a child process); `server` stays `None`.
    pub fn attach(base: &str) -> TestServer {
        TestServer {
            server: None,
            dir: tempfile::tempdir().expect("temp dir"),
            base: base.to_owned(),
            http: reqwest::Client::new(),
            extra: Vec::new(),
        }
    }

    /// Stops the server gracefully and starts a new one on the same data directory.
    pub async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("graceful shutdown");
        }
        let server = Server::start(config(self.dir.path(), &self.extra))
            .await
            .expect("server restarts");
        self.base = server.base_url();
        self.server = Some(server);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request reaches the server");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(Method::PUT, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Reply {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    /// Signs in a demo user with the demo password.
    pub async fn login(&self, email: &str) -> AuthTokens {
        let reply = self
            .request(
                Method::POST,
                "/api/auth/login",
                None,
                Some(serde_json::json!({"email": email, "password": PASSWORD})),
            )
            .await;
        reply.assert_ok();
        reply.json()
    }

    /// A demo user's access token.
    pub async fn token(&self, email: &str) -> String {
        self.login(email).await.access_token
    }

    /// Opens (or finds) a chat as a student with a tutor; returns its id.
    pub async fn open_chat(&self, student_token: &str, course: &str, tutor: &str) -> i64 {
        let reply = self
            .post(
                student_token,
                "/api/chats",
                serde_json::json!({"course_id": course, "tutor_id": tutor}),
            )
            .await;
        reply.assert_ok();
        reply.body["chat"]["id"].as_i64().expect("chat id")
    }

    /// Sends a text message over REST.
    pub async fn send(&self, token: &str, chat: i64, client_id: &str, content: &str) -> Reply {
        self.post(
            token,
            &format!("/api/chats/{chat}/messages"),
            serde_json::json!({"client_id": client_id, "content": content}),
        )
        .await
    }
}

/// Mints an access token the way the course platform would: HS256 over `{sub, role, exp}`.
pub fn mint(secret: &str, sub: &str, role: &str, exp_from_now_secs: i64) -> String {
    let exp = chrono::Utc::now().timestamp() + exp_from_now_secs;
    let claims = serde_json::json!({"sub": sub, "role": role, "exp": exp});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("mint token")
}
