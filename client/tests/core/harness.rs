//! A stoppable server on a fixed local port, clients on temporary directories, and helpers that
//! wait for the event stream with a deadline.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use tempfile::TempDir;
use tutorchat_client::{Client, ClientOptions, CredentialStore};
use tutorchat_server::{Config, Server};
use tutorchat_shared::app::AppEvent;

pub const PASSWORD: &str = "tutorchat-demo";
pub const SAM: &str = "sam@tutorchat.test";
pub const ADA: &str = "ada@tutorchat.test";
pub const SAM_ADA: tutorchat_shared::ChatId = tutorchat_shared::ChatId(1);
pub const WAIT: Duration = Duration::from_secs(15);

/// A demo-school server that can be stopped and started on the same address and data.
pub struct TestServer {
    pub addr: SocketAddr,
    pub dir: TempDir,
    server: Option<Server>,
    extra: Vec<String>,
}

impl TestServer {
    /// Picks a free port but does not start yet.
    pub fn new(extra: &[&str]) -> TestServer {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        let addr = probe.local_addr().expect("addr");
        drop(probe);
        TestServer {
            addr,
            dir: tempfile::tempdir().expect("temp dir"),
            server: None,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    pub async fn started(extra: &[&str]) -> TestServer {
        let mut server = TestServer::new(extra);
        server.start().await;
        server
    }

    /// Replaces the extra arguments for the next `start` (a server restarted with new settings).
    pub fn set_extra(&mut self, extra: &[&str]) {
        self.extra = extra.iter().map(|s| (*s).to_owned()).collect();
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn start(&mut self) {
        let mut args: Vec<String> = [
            "tutorchat-server",
            "--listen",
            &self.addr.to_string(),
            "--data-dir",
            &self.dir.path().display().to_string(),
            "--jwt-secret",
            "client-test-secret",
            "--admin-token",
            "client-test-admin",
            "--demo",
            "--log",
            "warn",
            "--message-rate-per-second",
            "100000",
            "--message-burst",
            "100000",
            "--api-rate-per-second",
            "100000",
            "--api-burst",
            "100000",
            "--ws-frame-rate-per-second",
            "100000",
            "--ws-frame-burst",
            "100000",
            "--login-rate-per-minute",
            "10000",
            // The server shares the test's runtime with the client core: its overload shedding
            // would measure the test, not the server (it has tests of its own).
            "--shed-delay-ms",
            "0",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(self.extra.iter().cloned());
        let config = <Config as clap::Parser>::try_parse_from(args).expect("config");
        // The port may take a moment to be free again after a stop.
        for _ in 0..50 {
            match Server::start(config.clone()).await {
                Ok(server) => {
                    self.server = Some(server);
                    return;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        panic!("the server did not start on {}", self.addr);
    }

    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("graceful stop");
        }
    }

    /// A REST call straight to the server (as a second party, not through the client).
    pub async fn rest(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}{path}", self.url()))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("server reachable");
        resp.json().await.unwrap_or(Value::Null)
    }

    pub async fn token(&self, email: &str) -> String {
        let resp = reqwest::Client::new()
            .post(format!("{}/api/auth/login", self.url()))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect("login");
        let body: Value = resp.json().await.expect("json");
        body["access_token"].as_str().expect("token").to_owned()
    }

    /// The contents of a chat's messages after `after_seq`, in seq order, as the server has them.
    pub async fn contents_after(&self, token: &str, chat: i64, after_seq: u64) -> Vec<String> {
        let mut out = Vec::new();
        let mut after = after_seq;
        loop {
            let page = self
                .rest(
                    reqwest::Method::GET,
                    &format!("/api/chats/{chat}/messages?after_seq={after}&limit=200"),
                    token,
                    None,
                )
                .await;
            let messages = page["messages"].as_array().cloned().unwrap_or_default();
            for m in &messages {
                out.push(m["content"].as_str().unwrap_or_default().to_owned());
                after = m["seq"].as_u64().unwrap_or(after);
            }
            if page["has_more_after"] != true {
                return out;
            }
        }
    }
}

/// A client (one device) on its own data directory, with the file credential store.
pub async fn device(server_url: &str, dir: &Path) -> Client {
    let mut options = ClientOptions::new(server_url, dir);
    options.credentials = CredentialStore::File;
    Client::open(options).await.expect("client opens")
}

pub async fn signed_in(server_url: &str, dir: &Path, email: &str) -> Client {
    let client = device(server_url, dir).await;
    client.login(email, PASSWORD).await.expect("login");
    client
}

/// Waits for an event matching `pred`; panics after `WAIT`.
pub async fn wait_event(
    events: &mut tokio::sync::broadcast::Receiver<AppEvent>,
    what: &str,
    mut pred: impl FnMut(&AppEvent) -> bool,
) -> AppEvent {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(event)) if pred(&event) => return event,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("event stream ended waiting for {what}: {e}"),
            Err(_) => panic!("no {what} within {WAIT:?}"),
        }
    }
}

/// Polls `check` until it holds; panics after `WAIT`.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within {WAIT:?}");
}

/// The `tutorchat` binary on `dir` with the file credential store, ready to run or spawn.
pub fn cli_command(server_url: &str, dir: &Path, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tutorchat"));
    command
        .args([
            "--server",
            server_url,
            "--credentials",
            "file",
            "--data-dir",
        ])
        .arg(dir)
        .args(args)
        .env("TUTORCHAT_LOG", "error");
    command
}

/// Runs the `tutorchat` binary to completion.
pub fn cli(server_url: &str, dir: &Path, args: &[&str]) -> std::process::Output {
    cli_command(server_url, dir, args)
        .output()
        .expect("the CLI runs")
}

/// Stdout and stderr of a CLI run, for assertion messages.
pub fn said(output: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The one account directory under a data directory.
pub fn account_dir(dir: &Path) -> std::path::PathBuf {
    std::fs::read_dir(dir.join("accounts"))
        .expect("accounts")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("an account directory")
}

/// The refresh token the file credential store holds for the one account in `dir`.
pub fn stored_refresh_token(dir: &Path) -> String {
    std::fs::read_to_string(account_dir(dir).join("refresh-token"))
        .expect("the file store holds the token")
        .trim()
        .to_owned()
}
