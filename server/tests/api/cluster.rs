//! Several real server processes on one PostgreSQL database and one Redis: the members of a
//! chat and their devices on different nodes converse, see each other come and go, type and
//! read; a node killed under traffic loses no acknowledged message; a single node's data
//! moves into PostgreSQL whole.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::database::TestDatabase;
use crate::testing::{ServerProcess, TestServer, ADA, ADMIN_TOKEN, JWT_SECRET, MAYA, SAM};
use crate::uploads::PDF;
use crate::wsclient::WsClient;

/// The shared Redis (each test database gets a channel of its own).
const BUS: &str = "redis://127.0.0.1:6379";
/// How long a frame may take here: six debug-built nodes share two cores with the tests.
const PATIENCE: Duration = Duration::from_secs(15);
/// The demo chat of Sam and Ada in rust-101.
const CHAT: i64 = 1;

/// A node: a real server process on the shared database and bus.
struct Node {
    process: ServerProcess,
    view: TestServer,
    _dir: TempDir,
}

impl Node {
    fn start(db: &TestDatabase) -> Node {
        Node::start_on(db, BUS)
    }

    fn start_on(db: &TestDatabase, bus: &str) -> Node {
        let dir = tempfile::tempdir().expect("dir");
        let data = dir.path().to_str().expect("utf-8 path").to_owned();
        let url = db.url();
        let process = ServerProcess::spawn(&[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &data,
            "--database",
            &url,
            "--database-pool",
            "4",
            "--bus",
            bus,
            "--demo",
            "--jwt-secret",
            JWT_SECRET,
            "--admin-token",
            ADMIN_TOKEN,
            "--presence-grace-ms",
            "1000",
            // The kill test pours messages in faster than a person would.
            "--message-rate-per-second",
            "10000",
            "--message-burst",
            "10000",
            "--ws-frame-rate-per-second",
            "10000",
            "--ws-frame-burst",
            "10000",
            // Debug builds on shared cores: deliveries wait for the CPU, and shedding sends
            // then (right for a server, answered `rate_limited`) is not what this checks.
            "--shed-delay-ms",
            "60000",
        ]);
        let view = TestServer::attach(&process.base);
        Node {
            process,
            view,
            _dir: dir,
        }
    }

    async fn token(&self, email: &str) -> String {
        self.view.token(email).await
    }
}

/// A Redis of the test's own on a free port, to stop and start again.
struct OwnRedis {
    port: u16,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    fn start() -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = OwnRedis { port, child: None };
        redis.resume();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it (again) and waits until it answers.
    fn resume(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "redis never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills it, as a crash would: every subscription and anything in flight is lost.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Three nodes, started one after another (the first seeds the demo school).
async fn cluster(db: &TestDatabase) -> Vec<Node> {
    let nodes: Vec<Node> = (0..3).map(|_| Node::start(db)).collect();
    // Each node hears the others' heartbeats (every 2 s) before the test relies on presence.
    wait_for_bus(&nodes).await;
    nodes
}

async fn wait_for_bus(nodes: &[Node]) {
    for node in nodes {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let health = node.view.anonymous(Method::GET, "/healthz", None).await;
            let body: Value = health.json();
            if body["bus"] == true && body["database"] == true {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the bus never came up: {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(crate_heartbeat()).await;
}

fn crate_heartbeat() -> Duration {
    tutorchat_server::cluster::HEARTBEAT + Duration::from_millis(500)
}

fn send(chat: i64, client_id: &str, content: &str) -> Value {
    json!({"type": "send_message", "chat_id": chat, "client_id": client_id, "content": content})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_on_different_nodes_converse_see_presence_typing_and_receipts() {
    let db = TestDatabase::create().await;
    let nodes = cluster(&db).await;
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);

    let sam_token = a.token(SAM).await;
    let ada_token = b.token(ADA).await;
    let mut sam = WsClient::connect(&a.view, &sam_token).await;
    let mut sam_phone = WsClient::connect(&c.view, &c.token(SAM).await).await;
    let mut ada = WsClient::connect(&b.view, &ada_token).await;

    // Ada came online on node B: Sam hears it on node A.
    let online = sam.recv_type_within("user_online", PATIENCE).await;
    assert_eq!(online["user_id"], "t-ada");

    // Both view the chat; Sam types on A, Ada sees it on B.
    sam.send(json!({"type": "join_chat", "chat_id": CHAT}))
        .await;
    sam.recv_type_within("chat_joined", PATIENCE).await;
    ada.send(json!({"type": "join_chat", "chat_id": CHAT}))
        .await;
    let joined = ada.recv_type_within("chat_joined", PATIENCE).await;
    assert!(
        joined["online"]
            .as_array()
            .expect("online list")
            .contains(&json!("s-sam")),
        "node B knows Sam is online on A: {joined}"
    );
    sam.send(json!({"type": "typing_start", "chat_id": CHAT}))
        .await;
    let typing = ada.recv_type_within("typing_indicator", PATIENCE).await;
    assert_eq!(
        (typing["user_id"].clone(), typing["typing"].clone()),
        (json!("s-sam"), json!(true))
    );

    // Messages both ways, each once and in order, to every device on every node.
    async fn burst(ws: &mut WsClient, who: &str) -> Vec<u64> {
        let mut seqs = Vec::new();
        for i in 0..10 {
            ws.send(send(CHAT, &format!("{who}-{i}"), &format!("hello {i}")))
                .await;
            let ack = ws.recv_type_within("message_ack", PATIENCE).await;
            seqs.push(ack["message"]["seq"].as_u64().expect("seq"));
        }
        seqs
    }
    fn seqs_of(frames: &[Value]) -> Vec<u64> {
        frames
            .iter()
            .map(|f| f["message"]["seq"].as_u64().expect("seq"))
            .collect()
    }
    let from_ada = burst(&mut ada, "ada").await;
    let at_sam = sam
        .collect_type("message_received", Duration::from_secs(4))
        .await;
    assert_eq!(
        seqs_of(&at_sam),
        from_ada,
        "Ada's messages reach Sam on A, once, in order"
    );
    let from_sam = burst(&mut sam, "sam").await;
    let at_ada = ada
        .collect_type("message_received", Duration::from_secs(4))
        .await;
    assert_eq!(seqs_of(&at_ada), from_sam, "Sam's reach Ada on B");
    let at_phone = sam_phone
        .collect_type("message_received", Duration::from_secs(3))
        .await;
    let every: Vec<u64> = from_ada.iter().chain(&from_sam).copied().collect();
    assert_eq!(
        seqs_of(&at_phone),
        every,
        "Sam's phone on C gets every one, in seq order"
    );

    // Ada reads on node B (REST): Sam's devices hear it on A and C.
    let last = *every.last().expect("sent");
    b.view.mark_read(&ada_token, CHAT, last).await.assert_ok();
    let read = sam.recv_type_within("message_read", PATIENCE).await;
    assert_eq!(
        (read["user_id"].clone(), read["up_to_seq"].clone()),
        (json!("t-ada"), json!(last))
    );
    sam_phone.recv_type_within("message_read", PATIENCE).await;

    // Ada leaves: after the grace Sam hears she is offline.
    drop(ada);
    let offline = sam.recv_type_within("user_offline", PATIENCE).await;
    assert_eq!(offline["user_id"], "t-ada");

    // A file Sam sends through A is downloaded by Ada through B (no shared filesystem).
    let file = a
        .view
        .attachment(&sam_token, "hw", "homework.pdf", PDF)
        .await;
    a.view
        .send_attachment(&sam_token, CHAT, "sam-file", "file", &file)
        .await
        .assert_ok();
    let (status, _, bytes) = b
        .view
        .download(Some(&ada_token), &format!("/api/attachments/{file}"), None)
        .await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));

    // Sam signs in on A and uses that session on B too; signing out on A ends it on B.
    let session = a.view.login(SAM).await;
    let mut elsewhere = WsClient::connect(&b.view, &session.access_token).await;
    b.view
        .get(&session.access_token, "/api/chats")
        .await
        .assert_ok();
    let body = json!({"refresh_token": session.refresh_token});
    a.view
        .anonymous(Method::POST, "/api/auth/logout", Some(body))
        .await
        .assert_ok();
    let told = elsewhere.recv_type_within("error", PATIENCE).await;
    assert_eq!(told["code"], "invalid_token", "{told}");
    match elsewhere.next_within(PATIENCE).await {
        Some(Err(_)) => {}
        other => panic!("the session's socket on B stays open: {other:?}"),
    }
    b.view
        .get(&session.access_token, "/api/chats")
        .await
        .assert_status(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_under_traffic_loses_no_acknowledged_message() {
    let db = TestDatabase::create().await;
    let mut nodes = cluster(&db).await;
    let survivor = nodes.pop().expect("node");
    let mut doomed = nodes.remove(0);
    let sam_token = doomed.token(SAM).await;
    let ada_token = survivor.token(ADA).await;
    let mut ada = WsClient::connect(&survivor.view, &ada_token).await;
    let mut sam = WsClient::connect(&doomed.view, &sam_token).await;
    assert_eq!(
        ada.recv_type_within("user_online", PATIENCE).await["user_id"],
        "s-sam"
    );
    // Maya is connected only to the doomed node, and stays away after it dies.
    let _maya = WsClient::connect(&doomed.view, &doomed.token(MAYA).await).await;
    assert_eq!(
        ada.recv_type_within("user_online", PATIENCE).await["user_id"],
        "s-maya"
    );

    // Sam pours messages in through the doomed node; it dies while they flow.
    const MESSAGES: usize = 300;
    for i in 0..MESSAGES {
        sam.send(send(CHAT, &format!("k-{i}"), "under fire")).await;
    }
    let mut acked = HashSet::new();
    while acked.len() < MESSAGES / 3 {
        let ack = sam.recv_type_within("message_ack", PATIENCE).await;
        acked.insert(ack["client_id"].as_str().expect("id").to_owned());
    }
    doomed.process.kill();
    while let Some(Ok(frame)) = sam.next_within(Duration::from_millis(200)).await {
        if frame["type"] == "message_ack" {
            acked.insert(frame["client_id"].as_str().expect("id").to_owned());
        }
    }

    // Sam's device reconnects to the survivor and sends everything again (its outbox keeps
    // what was not acknowledged, and may repeat what was): each is stored once.
    let mut sam = WsClient::connect(&survivor.view, &sam_token).await;
    for i in 0..MESSAGES {
        sam.send(send(CHAT, &format!("k-{i}"), "under fire")).await;
    }
    let mut answered = 0;
    while answered < MESSAGES {
        sam.recv_type_within("message_ack", PATIENCE).await;
        answered += 1;
    }
    let mut history: Vec<Value> = Vec::new();
    loop {
        let after = history.last().and_then(|m| m["seq"].as_u64()).unwrap_or(0);
        let page: Value = survivor
            .view
            .page(&ada_token, CHAT, &format!("limit=100&after_seq={after}"))
            .await
            .json();
        let messages = page["messages"].as_array().expect("messages").clone();
        if messages.is_empty() {
            break;
        }
        history.extend(messages);
    }
    let seqs: Vec<u64> = history
        .iter()
        .map(|m| m["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "the chat's seqs have no gap"
    );
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for m in &history {
        *count
            .entry(m["client_id"].as_str().expect("id").to_owned())
            .or_default() += 1;
    }
    for i in 0..MESSAGES {
        assert_eq!(count.get(&format!("k-{i}")), Some(&1), "k-{i} stored once");
    }
    for id in &acked {
        assert!(
            count.contains_key(id),
            "acknowledged {id} survived the crash"
        );
    }
    // The dead node's users go offline on the others within the heartbeat timeout — but not
    // Sam, who is connected to the survivor now.
    let offline: Vec<Value> = ada
        .collect_type("user_offline", tutorchat_server::cluster::NODE_TIMEOUT * 2)
        .await
        .into_iter()
        .map(|f| f["user_id"].clone())
        .collect();
    assert_eq!(offline, [json!("s-maya")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_moves_a_whole_installation_into_postgres_once() {
    // A single node used for a while: messages, a read, a block, sign-ins, audit rows.
    let mut single = TestServer::start().await;
    let sam = single.token(SAM).await;
    let ada = single.token(ADA).await;
    for i in 0..5 {
        single
            .send(&sam, CHAT, &format!("m-{i}"), "before the move")
            .await
            .assert_ok();
    }
    single.mark_read(&ada, CHAT, 125).await.assert_ok();
    single
        .post(&ada, "/api/users/s-leo/block", json!({}))
        .await
        .assert_ok();
    let history: Value = single.page(&ada, CHAT, "limit=200").await.json();
    let kept = single.login(SAM).await;
    let upload = single.attachment(&sam, "notes", "notes.pdf", PDF).await;
    if let Some(server) = single.server.take() {
        server.shutdown().await.expect("shutdown");
    }

    let db = TestDatabase::create().await;
    let url = db.url();
    let from = single.dir.path().to_str().expect("utf-8").to_owned();
    let output = std::process::Command::new(ServerProcess::binary())
        .args(["migrate", "--from", &from, "--to", &url])
        .output()
        .expect("migrate runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "migrate failed: {printed}");
    for line in [
        "users: 7 rows",
        "chats: 3 rows",
        "messages: 132 rows",
        "blocks: 1 rows",
        "attachments: 1 rows",
        "blobs: 1 rows",
    ] {
        assert!(printed.contains(line), "{line:?} in:\n{printed}");
    }
    for line in [
        "chat 1: last seq 127",
        "chat 2: last seq 2",
        "every chat's last seq matches (3 chats)",
    ] {
        assert!(printed.contains(line), "{line:?} in:\n{printed}");
    }

    // A node on PostgreSQL serves the same history, pointers and sign-ins.
    let node = Node::start(&db);
    let ada_there = node.token(ADA).await;
    let moved: Value = node.view.page(&ada_there, CHAT, "limit=200").await.json();
    assert_eq!(
        moved["messages"], history["messages"],
        "history arrived as it was"
    );
    let chat = node.view.chat(&ada_there, CHAT).await;
    assert_eq!((chat.last_seq, chat.my_read_seq), (127, 125));
    // Sam read up to his own last message by writing it (SQLite keeps that pointer on the
    // chat's row; PostgreSQL in chat_members): it came along too.
    let sam_there = node.token(SAM).await;
    let chat = node.view.chat(&sam_there, CHAT).await;
    assert_eq!((chat.my_read_seq, chat.peer_read_seq), (127, 125));
    // The upload's content came along: its uploader downloads it from the node.
    let (status, _, bytes) = node
        .view
        .download(
            Some(&node.token(SAM).await),
            &format!("/api/attachments/{upload}"),
            None,
        )
        .await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
    // A device signed in before the move stays signed in.
    node.view.refresh(&kept.refresh_token).await.assert_ok();
    // New messages continue the chat's seqs and ids.
    let next = node
        .view
        .send(&sam_there, CHAT, "after", "after the move")
        .await;
    next.assert_ok();
    assert_eq!(next.json::<Value>()["message"]["seq"], 128);

    // Into a database that is not empty: refused, nothing changed.
    let again = std::process::Command::new(ServerProcess::binary())
        .args(["migrate", "--from", &from, "--to", &url])
        .output()
        .expect("migrate runs");
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_bus_leaves_no_gap_and_no_duplicate() {
    let db = TestDatabase::create().await;
    let mut redis = OwnRedis::start();
    let nodes = [
        Node::start_on(&db, &redis.url()),
        Node::start_on(&db, &redis.url()),
    ];
    wait_for_bus(&nodes).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let mut sam = WsClient::connect(&a.view, &a.token(SAM).await).await;
    let mut ada = WsClient::connect(&b.view, &b.token(ADA).await).await;

    // Sam writes on node A while the bus dies and comes back; Ada reads on node B.
    let mut acked = Vec::new();
    for i in 0..60 {
        if i == 20 {
            redis.kill();
        }
        if i == 40 {
            redis.resume();
        }
        sam.send(send(CHAT, &format!("r-{i}"), "through the storm"))
            .await;
        let ack = sam.recv_type_within("message_ack", PATIENCE).await;
        acked.push(ack["message"]["seq"].as_u64().expect("seq"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The subscriptions come back within the reconnect backoff; what was missed is filled.
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while received.len() < acked.len() && tokio::time::Instant::now() < deadline {
        let frames = ada
            .collect_type("message_received", Duration::from_millis(500))
            .await;
        received.extend(
            frames
                .iter()
                .map(|f| f["message"]["seq"].as_u64().expect("seq")),
        );
    }
    let late = ada
        .collect_type("message_received", Duration::from_secs(1))
        .await;
    received.extend(
        late.iter()
            .map(|f| f["message"]["seq"].as_u64().expect("seq")),
    );
    assert_eq!(
        received, acked,
        "every message once, in order, across the restart"
    );
    let health: Value = b.view.anonymous(Method::GET, "/healthz", None).await.json();
    assert_eq!(health["bus"], true, "the bus is back: {health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refuses_the_bus_without_a_shared_secret_or_a_shared_database() {
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().to_str().expect("utf-8 path");
    let url = db.url();
    let refused = |args: &[&str]| {
        let output = std::process::Command::new(ServerProcess::binary())
            .args(["--listen", "127.0.0.1:0", "--data-dir", data, "--bus", BUS])
            .args(args)
            .output()
            .expect("the binary runs");
        assert!(!output.status.success(), "started with {args:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let no_secret = refused(&["--database", &url]);
    assert!(no_secret.contains("--jwt-secret"), "{no_secret}");
    let sqlite = refused(&["--jwt-secret", JWT_SECRET]);
    assert!(sqlite.contains("--database postgres"), "{sqlite}");
}
