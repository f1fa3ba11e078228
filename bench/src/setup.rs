//! Starting a server and giving it users, courses and chats to load.
//!
//! Users are provisioned without passwords and tokens are minted with the shared secret —
//! the platform's single-sign-on path — so setup costs no password hashing.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::Target;

pub const JWT_SECRET: &str = "tutorchat-bench-secret";
pub const ADMIN_TOKEN: &str = "tutorchat-bench-admin";

/// A server started for the run, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    pub pid: u32,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub async fn start(target: &Target, extra: &[&str]) -> anyhow::Result<Server> {
        let bin = match &target.server_bin {
            Some(bin) => bin.clone(),
            None => sibling("tutorchat-server")?,
        };
        let data = tempfile::tempdir()?;
        let unlimited = "1000000";
        let mut command = if target.pin {
            let mut taskset = Command::new("taskset");
            taskset.args(["-c", "0"]).arg(&bin);
            taskset
        } else {
            Command::new(&bin)
        };
        let mut child = command
            .args([
                "--listen",
                &format!("127.0.0.1:{}", target.port),
                "--log",
                "warn",
            ])
            .arg("--data-dir")
            .arg(data.path())
            .args(["--jwt-secret", JWT_SECRET, "--admin-token", ADMIN_TOKEN])
            .args(["--api-rate-per-second", unlimited, "--api-burst", unlimited])
            .args([
                "--message-rate-per-second",
                unlimited,
                "--message-burst",
                unlimited,
            ])
            .args([
                "--ws-frame-rate-per-second",
                unlimited,
                "--ws-frame-burst",
                unlimited,
            ])
            .args(["--access-token-ttl-secs", "86400"])
            // Thousands of sockets come from a few loopback addresses, many per user.
            .args([
                "--max-connections-per-ip",
                "0",
                "--max-connections-per-user",
                "0",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(tokio::process::ChildStdout::from_std(stdout)?).lines();
        let base = loop {
            match tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await {
                Ok(Ok(Some(line))) => {
                    if let Some(url) = line.strip_prefix("Tutorchat server listening on ") {
                        break url.trim().to_owned();
                    }
                }
                _ => bail!("the server did not report its address"),
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server {
            child,
            base,
            pid,
            _data: data,
        })
    }
}

/// The servers of one run: one node on its own SQLite file, or several nodes sharing a fresh
/// PostgreSQL database and the bus.
pub struct Deployment {
    pub nodes: Vec<Server>,
    database: Option<BenchDatabase>,
}

impl Deployment {
    /// `nodes == 0`: the embedded default, one node on SQLite. Otherwise that many nodes on
    /// PostgreSQL and the bus, started one after another.
    pub async fn start(target: &Target, nodes: usize) -> anyhow::Result<Deployment> {
        if nodes == 0 {
            let node = Server::start(target, &[]).await?;
            return Ok(Deployment {
                nodes: vec![node],
                database: None,
            });
        }
        let database = BenchDatabase::create(&target.postgres).await?;
        let url = database.url();
        let mut started = Vec::with_capacity(nodes);
        for _ in 0..nodes {
            let node = Server::start(
                target,
                &[
                    "--database",
                    &url,
                    "--database-pool",
                    "8",
                    "--bus",
                    &target.bus,
                ],
            )
            .await?;
            started.push(node);
        }
        // Each node hears the others before load starts.
        tokio::time::sleep(Duration::from_secs(3)).await;
        Ok(Deployment {
            nodes: started,
            database: Some(database),
        })
    }

    pub fn label(&self) -> String {
        match &self.database {
            None => "1 (SQLite)".into(),
            Some(_) => format!("{} (PostgreSQL)", self.nodes.len()),
        }
    }

    /// The server side's CPU time so far: every node, and PostgreSQL's and Redis's processes
    /// when they serve the run.
    pub fn cpu_time(&self) -> crate::stats::CpuTime {
        let nodes: crate::stats::CpuTime = self
            .nodes
            .iter()
            .filter_map(|n| crate::stats::cpu_time(n.pid))
            .sum();
        match &self.database {
            None => nodes,
            Some(_) => nodes + crate::stats::cpu_time_of(&["postgres", "redis-server"]),
        }
    }

    pub fn rss_bytes(&self) -> u64 {
        self.nodes.iter().filter_map(|n| rss_bytes(n.pid)).sum()
    }

    /// What the nodes have written to files so far (not PostgreSQL's writes).
    pub fn written(&self) -> crate::stats::Written {
        self.nodes
            .iter()
            .filter_map(|n| crate::stats::written(n.pid))
            .sum()
    }
}

/// A database made for one run, dropped after it.
struct BenchDatabase {
    server: String,
    name: String,
}

impl BenchDatabase {
    async fn create(server: &str) -> anyhow::Result<BenchDatabase> {
        let name = format!("tutorchat_bench_{}_{}", std::process::id(), run_number());
        admin(server, &format!("CREATE DATABASE {name}")).await?;
        Ok(BenchDatabase {
            server: server.to_owned(),
            name,
        })
    }

    fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        let (server, sql) = (
            self.server.clone(),
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        // Drop is not async: a thread with its own small runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                let _ = runtime.block_on(admin(&server, &sql));
            }
        })
        .join();
    }
}

fn run_number() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

async fn admin(server: &str, sql: &str) -> anyhow::Result<()> {
    let (client, connection) =
        tokio_postgres::connect(&format!("{server}/postgres"), tokio_postgres::NoTls)
            .await
            .with_context(|| format!("PostgreSQL at {server}"))?;
    let task = tokio::spawn(connection);
    client.batch_execute(sql).await?;
    drop(client);
    let _ = task.await;
    Ok(())
}

fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name(name);
    if !path.exists() {
        bail!("{} not found; build it (cargo build --release -p tutorchat-server) or pass --server-bin", path.display());
    }
    Ok(path)
}

/// An access token for `user`, as the course platform would mint it.
pub fn token(user: &str, role: &str) -> String {
    let exp = chrono::Utc::now().timestamp() + 86_400;
    let claims = json!({"sub": user, "role": role, "exp": exp});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap_or_default()
}

/// One bench chat: its id and its two users.
#[derive(Debug, Clone)]
pub struct BenchChat {
    pub id: i64,
    pub student: String,
    pub tutor: String,
}

/// Provisions `chats` student–tutor pairs in one course (plus `extra_students` with no chat)
/// and opens a chat for each pair.
pub async fn provision(
    base: &str,
    chats: usize,
    extra_students: usize,
) -> anyhow::Result<Vec<BenchChat>> {
    let http = reqwest::Client::new();
    let mut users = Vec::new();
    for i in 0..chats {
        users.push(json!({"id": format!("bs-{i}"), "email": format!("bs-{i}@bench.test"), "name": format!("Student {i}"), "role": "student"}));
        users.push(json!({"id": format!("bt-{i}"), "email": format!("bt-{i}@bench.test"), "name": format!("Tutor {i}"), "role": "tutor"}));
    }
    for i in 0..extra_students {
        users.push(json!({"id": format!("bi-{i}"), "email": format!("bi-{i}@bench.test"), "name": format!("Idle {i}"), "role": "student"}));
    }
    let tutors: Vec<String> = (0..chats).map(|i| format!("bt-{i}")).collect();
    let enrollments: Vec<_> = (0..chats)
        .map(|i| json!({"course_id": "bench", "student_id": format!("bs-{i}")}))
        .collect();
    let batch = json!({
        "users": users,
        "courses": [{"id": "bench", "title": "Bench Course", "tutor_ids": tutors}],
        "enrollments": enrollments,
    });
    let resp = http
        .post(format!("{base}/api/admin/import"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&batch)
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!(
            "provisioning failed: {} {}",
            resp.status(),
            resp.text().await.unwrap_or_default()
        );
    }
    let mut opened = Vec::with_capacity(chats);
    let mut tasks = tokio::task::JoinSet::new();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(32));
    for i in 0..chats {
        let (http, base, gate) = (http.clone(), base.to_owned(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire().await?;
            let student = format!("bs-{i}");
            let tutor = format!("bt-{i}");
            let resp = http
                .post(format!("{base}/api/chats"))
                .bearer_auth(token(&student, "student"))
                .json(&json!({"course_id": "bench", "tutor_id": tutor}))
                .send()
                .await?;
            let body: serde_json::Value = resp.json().await?;
            let id = body["chat"]["id"]
                .as_i64()
                .with_context(|| format!("no chat in {body}"))?;
            anyhow::Ok(BenchChat { id, student, tutor })
        });
    }
    while let Some(result) = tasks.join_next().await {
        opened.push(result??);
    }
    opened.sort_by_key(|c| c.id);
    Ok(opened)
}

/// The resident memory of a process, in bytes (Linux).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
