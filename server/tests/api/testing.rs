//! Test harness: a real server on 127.0.0.1:0 over a temporary data directory seeded with the
//! demo school, and a small JSON client.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tempfile::TempDir;
use tutorchat_server::{Config, Server};
use tutorchat_shared::api::{AuditEntry, AuditPage, AuthTokens};
use tutorchat_shared::ChatSummary;

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

    /// Reads a response whole: its status, headers and JSON body (a string if not JSON).
    pub async fn from_response(resp: reqwest::Response) -> Reply {
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

    /// Asserts a 422 `validation` naming `field`.
    #[track_caller]
    pub fn assert_invalid(&self, field: &str) -> &Self {
        self.assert_error(422, "validation");
        assert_eq!(self.body["field"], field, "unexpected field: {}", self.body);
        self
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
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {}",
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

/// The test configuration: the demo school, fixed secrets, generous limits, and `extra` flags.
/// A flag in `extra` replaces the default one (clap refuses a flag given twice).
pub fn config(data_dir: &Path, extra: &[String]) -> Config {
    let data_dir = data_dir.display().to_string();
    let defaults: [(&str, &str); 11] = [
        ("--listen", "127.0.0.1:0"),
        ("--data-dir", &data_dir),
        ("--jwt-secret", JWT_SECRET),
        ("--admin-token", ADMIN_TOKEN),
        // Generous limits unless a test sets its own: tests are quick bursts.
        ("--login-rate-per-minute", "600"),
        ("--api-rate-per-second", "1000"),
        ("--api-burst", "1000"),
        ("--message-rate-per-second", "1000"),
        ("--message-burst", "1000"),
        // The tests share their runtime with the server, and a test may hold it on purpose;
        // shedding is tested on its own (`realtime::overload`).
        ("--shed-delay-ms", "0"),
        ("--log", "warn"),
    ];
    let mut args: Vec<String> = vec!["tutorchat-server".into(), "--demo".into()];
    for (flag, value) in defaults {
        if !extra.iter().any(|e| e == flag) {
            args.extend([flag.to_owned(), value.to_owned()]);
        }
    }
    args.extend(extra.iter().cloned());
    <Config as clap::Parser>::try_parse_from(args).expect("test config parses")
}

impl TestServer {
    /// The demo school on a fresh directory.
    pub async fn start() -> TestServer {
        TestServer::start_with(&[]).await
    }

    /// The same with extra command-line flags (each replacing the default of the same flag).
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
        Reply::from_response(req.send().await.expect("request reaches the server")).await
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

/// Chat 1 of the demo school: Sam and Ada in rust-101.
pub const SAM_ADA_CHAT: i64 = 1;
/// Messages the demo seeds into chat 1.
pub const SAM_ADA_MESSAGES: u64 = 122;

impl TestServer {
    /// A request without credentials.
    pub async fn anonymous(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.request(method, path, None, body).await
    }

    /// `POST /api/chats`: opens (or finds) a chat; see [`with_tutor`] and [`with_student`].
    pub async fn create_chat(&self, token: &str, body: Value) -> Reply {
        self.post(token, "/api/chats", body).await
    }

    /// A login attempt with exactly this email and password.
    pub async fn try_login(&self, email: &str, password: &str) -> Reply {
        let body = serde_json::json!({"email": email, "password": password});
        self.anonymous(Method::POST, "/api/auth/login", Some(body))
            .await
    }

    /// A refresh attempt.
    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        let body = serde_json::json!({"refresh_token": refresh_token});
        self.anonymous(Method::POST, "/api/auth/refresh", Some(body))
            .await
    }

    /// One chat as the caller sees it; panics unless the caller may see it.
    pub async fn chat(&self, token: &str, chat: i64) -> ChatSummary {
        let reply = self.get(token, &format!("/api/chats/{chat}")).await;
        reply.assert_ok();
        reply.json()
    }

    /// A history page; `query` as in `limit=7&before_seq=10` (may be empty).
    pub async fn page(&self, token: &str, chat: i64, query: &str) -> Reply {
        self.get(token, &format!("/api/chats/{chat}/messages?{query}"))
            .await
    }

    /// Moves the caller's read pointer.
    pub async fn mark_read(&self, token: &str, chat: i64, up_to_seq: u64) -> Reply {
        let body = serde_json::json!({"up_to_seq": up_to_seq});
        self.put(token, &format!("/api/chats/{chat}/read"), body)
            .await
    }

    /// Posts to a provisioning endpoint with the course platform's service token.
    pub async fn admin_post(&self, path: &str, body: Value) -> Reply {
        self.post(ADMIN_TOKEN, path, body).await
    }

    /// Revokes a student's enrollment as the course platform would.
    pub async fn revoke_enrollment(&self, course: &str, student: &str) {
        self.delete(
            ADMIN_TOKEN,
            &format!("/api/admin/enrollments/{course}/{student}"),
        )
        .await
        .assert_ok();
    }

    /// Grants (again) a student's enrollment as the course platform would.
    pub async fn grant_enrollment(&self, course: &str, student: &str) {
        let body = serde_json::json!({"course_id": course, "student_id": student});
        self.admin_post("/api/admin/enrollments", body)
            .await
            .assert_ok();
    }

    /// The audit entries of one action (`login_failed`, `access_denied`…), newest first.
    pub async fn audit(&self, action: &str) -> Vec<AuditEntry> {
        let reply = self
            .get(ADMIN_TOKEN, &format!("/api/admin/audit?action={action}"))
            .await;
        reply.assert_ok();
        reply.json::<AuditPage>().entries
    }
}

/// Body builder: a student opening the chat with `tutor` in `course`.
pub fn with_tutor(course: &str, tutor: &str) -> Value {
    serde_json::json!({"course_id": course, "tutor_id": tutor})
}

/// Body builder: a tutor opening the chat with `student` in `course`.
pub fn with_student(course: &str, student: &str) -> Value {
    serde_json::json!({"course_id": course, "student_id": student})
}

/// Body builder: a text message.
pub fn text(client_id: &str, content: &str) -> Value {
    serde_json::json!({"client_id": client_id, "content": content})
}

/// Body builder: a user for `POST /api/admin/users` or an import, with the demo password.
pub fn new_user(id: &str, email: &str, role: &str) -> Value {
    serde_json::json!({"id": id, "email": email, "name": format!("User {id}"), "role": role,
        "password": PASSWORD})
}

/// The real `tutorchat-server` binary, running. Dropping it kills the process, so a failing
/// test leaves nothing behind.
pub struct ServerProcess {
    child: Child,
    /// `http://ADDR` (or `https://`), from the line the server prints when listening.
    pub base: String,
    pub http: reqwest::Client,
    /// The lines the process printed after the listening line.
    lines: mpsc::Receiver<String>,
}

/// The line the binary prints once it listens, before the address.
const LISTENING: &str = "Tutorchat server listening on ";

impl ServerProcess {
    /// The binary built by Cargo for these tests.
    pub fn binary() -> &'static str {
        env!("CARGO_BIN_EXE_tutorchat-server")
    }

    /// Starts the binary with `args` and waits (up to 60 s) until it says where it listens.
    pub fn spawn(args: &[&str]) -> ServerProcess {
        let mut child = std::process::Command::new(Self::binary())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines_tx, lines) = mpsc::channel();
        // Build the guard before waiting, so a timeout below still kills the child.
        let mut process = ServerProcess {
            child,
            base: String::new(),
            http: reqwest::Client::new(),
            lines,
        };
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        while process.base.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match process.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(base) = line.strip_prefix(LISTENING) {
                        process.base = base.trim().to_owned();
                    }
                }
                Err(e) => panic!("the server never said it was listening: {e}"),
            }
        }
        process
    }

    /// The next line of output that starts with `prefix`, without the prefix (waits up to 10 s).
    pub fn output_line(&self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.trim().to_owned();
                    }
                }
                Err(e) => panic!("no line starting with {prefix:?}: {e}"),
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM, as a service manager would.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Kills the process with SIGKILL, as a crash or power loss would, and reaps it.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// Waits for the process to exit; kills it and panics if it is still running at `within`.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the server did not exit within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Reply::from_response(req.send().await.expect("request reaches the server")).await
    }

    /// Signs in with the demo password.
    pub async fn login(&self, email: &str) -> AuthTokens {
        let body = serde_json::json!({"email": email, "password": PASSWORD});
        let reply = self
            .request(Method::POST, "/api/auth/login", None, Some(body))
            .await;
        reply.assert_ok();
        reply.json()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
