//! Idle sockets: the server's memory per authenticated connection, and a probe chat that
//! checks delivery still works (and how fast) with all of them open.

use std::time::{Duration, Instant};

use clap::Args;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tutorchat_shared::ws::ServerFrame;

use crate::conn::Connector;
use crate::setup::{self, Server};
use crate::stats::{mib, Latency};
use crate::Target;

#[derive(Debug, Clone, Args)]
pub struct IdleArgs {
    /// Extra flags for the started server (e.g. `--server-arg=--ws-read-buffer-bytes=256`).
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    pub server_args: Vec<String>,
    /// Idle sockets to open.
    #[arg(long, default_value_t = 50_000)]
    pub connections: usize,
    /// Users they belong to (round robin).
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Messages sent through the probe chat once every socket is open.
    #[arg(long, default_value_t = 50)]
    pub probe_messages: usize,
    /// 0: one node on SQLite. N ≥ 1: N nodes on a fresh PostgreSQL database and the bus, the
    /// sockets spread over them and held by worker processes (each process may hold only so
    /// many files), the probe's two ends on different nodes.
    #[arg(long, default_value_t = 0)]
    pub nodes: usize,
    /// Most sockets one worker process holds (with `--nodes`).
    #[arg(long, default_value_t = 18_000)]
    pub per_worker: usize,
}

/// A worker process: opens sockets to the given nodes and holds them until its stdin closes.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// The nodes' base URLs, comma-separated; socket k goes to node k mod N.
    #[arg(long, value_delimiter = ',')]
    pub bases: Vec<String>,
    /// The first socket's number (which user it signs in as, which node it goes to).
    #[arg(long)]
    pub from: usize,
    #[arg(long)]
    pub count: usize,
    #[arg(long)]
    pub users: usize,
}

/// What a worker prints once its sockets are open.
const OPENED: &str = "opened";

pub async fn worker(target: &Target, args: WorkerArgs) -> anyhow::Result<()> {
    let connectors = args
        .bases
        .iter()
        .map(|base| {
            Connector::new(
                base,
                args.count / args.bases.len() + 1,
                target.sources,
                target.connect_concurrency,
            )
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut opening = tokio::task::JoinSet::new();
    for n in args.from..args.from + args.count {
        let connector = connectors[n % connectors.len()].clone();
        let token = setup::token(&format!("bi-{}", n % args.users.max(1)), "student");
        opening.spawn(async move { connector.connect(n + 2, &token).await });
    }
    let (idle, failed) = opened(opening).await?;
    println!("{OPENED} {} {failed}", idle.len());
    // Held until the parent closes our stdin (or dies).
    let mut stdin = tokio::io::stdin();
    let mut sink = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut stdin, &mut sink).await;
    drop(idle);
    Ok(())
}

/// Sockets over several nodes, held by worker processes.
async fn run_spread(target: &Target, args: IdleArgs) -> anyhow::Result<()> {
    use tokio::io::AsyncBufReadExt;

    let deployment = setup::Deployment::start(target, args.nodes).await?;
    for server in &deployment.nodes {
        println!("server {} (pid {})", server.base, server.pid);
    }
    let users = args.users.max(1);
    let first = &deployment.nodes[0];
    let last = &deployment.nodes[deployment.nodes.len() - 1];
    let probe = setup::provision(&first.base, 1, users)
        .await?
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no probe chat"))?;
    let to_first = Connector::new(&first.base, 2, target.sources, 2)?;
    let to_last = Connector::new(&last.base, 2, target.sources, 2)?;
    let mut sender = to_first
        .connect(0, &setup::token(&probe.student, "student"))
        .await?;
    let mut receiver = to_last
        .connect(1, &setup::token(&probe.tutor, "tutor"))
        .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = deployment.rss_bytes();

    let bases: Vec<String> = deployment.nodes.iter().map(|n| n.base.clone()).collect();
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let mut workers = Vec::new();
    let per_worker = args.per_worker.max(1);
    let mut from = 0;
    while from < args.connections {
        let count = per_worker.min(args.connections - from);
        let mut child = tokio::process::Command::new(&exe)
            .args([
                "--connect-concurrency",
                &target.connect_concurrency.to_string(),
            ])
            .arg("idle-worker")
            .args(["--bases", &bases.join(",")])
            .args(["--from", &from.to_string(), "--count", &count.to_string()])
            .args(["--users", &users.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("worker stdout"))?;
        workers.push((child, tokio::io::BufReader::new(stdout).lines()));
        from += count;
    }
    let (mut open, mut failed) = (0usize, 0usize);
    for (_, lines) in &mut workers {
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.strip_prefix(OPENED) {
                let mut counts = rest
                    .split_whitespace()
                    .map(|n| n.parse::<usize>().unwrap_or(0));
                open += counts.next().unwrap_or(0);
                failed += counts.next().unwrap_or(0);
                break;
            }
        }
    }
    println!(
        "{open} idle sockets authenticated over {} nodes by {} worker processes in {:.1} s ({failed} failed)",
        deployment.nodes.len(),
        workers.len(),
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = deployment.rss_bytes();
    let (delivered, latency) =
        probe_chat(&mut sender, &mut receiver, probe.id, args.probe_messages).await?;
    let per_socket = rss_after.saturating_sub(rss_before) / open.max(1) as u64;
    println!(
        "--- idle: {open} sockets over {users} users on {} ---",
        deployment.label()
    );
    println!(
        "server memory     {} before, {} after (all nodes): {per_socket} bytes per idle socket",
        mib(rss_before),
        mib(rss_after)
    );
    println!(
        "probe delivery    {delivered}/{} delivered across nodes with every socket open; {}",
        args.probe_messages,
        latency.summary()
    );
    for (mut child, _) in workers {
        drop(child.stdin.take());
        let _ = child.wait().await;
    }
    Ok(())
}

/// The sockets that opened, and how many did not (the first failure is printed).
async fn opened(
    mut opening: tokio::task::JoinSet<anyhow::Result<crate::conn::Socket>>,
) -> anyhow::Result<(Vec<crate::conn::Socket>, usize)> {
    let mut idle = Vec::with_capacity(opening.len());
    let mut failed = 0usize;
    while let Some(opened) = opening.join_next().await {
        match opened? {
            Ok(socket) => idle.push(socket),
            Err(e) => {
                if failed == 0 {
                    eprintln!("first failed connection: {e:#}");
                }
                failed += 1;
            }
        }
    }
    Ok((idle, failed))
}

/// Sends the probe messages one at a time; answers how many arrived and how fast.
async fn probe_chat(
    sender: &mut crate::conn::Socket,
    receiver: &mut crate::conn::Socket,
    chat: i64,
    messages: usize,
) -> anyhow::Result<(usize, Latency)> {
    let mut latency = Latency::default();
    let epoch = Instant::now();
    let mut delivered = 0;
    for n in 0..messages {
        let frame = serde_json::json!({
            "type": "send_message", "chat_id": chat, "client_id": format!("probe-{n}"),
            "content": epoch.elapsed().as_micros().to_string(),
        });
        sender.send(Message::Text(frame.to_string().into())).await?;
        loop {
            let next = tokio::time::timeout(Duration::from_secs(5), receiver.next()).await;
            let Ok(Some(Ok(Message::Text(text)))) = next else {
                anyhow::bail!("probe message {n} was not delivered within 5 s");
            };
            if let Ok(ServerFrame::MessageReceived { message }) = serde_json::from_str(&text) {
                let at: u64 = message.content.parse().unwrap_or(0);
                latency.record(epoch.elapsed().as_micros() as u64 - at);
                delivered += 1;
                break;
            }
        }
    }
    Ok((delivered, latency))
}

pub async fn run(target: &Target, args: IdleArgs) -> anyhow::Result<()> {
    if args.nodes > 0 {
        return run_spread(target, args).await;
    }
    let extra: Vec<&str> = args.server_args.iter().map(String::as_str).collect();
    let server = Server::start(target, &extra).await?;
    println!("server {} (pid {})", server.base, server.pid);
    let users = args.users.max(1);
    let probe = setup::provision(&server.base, 1, users).await?;
    let probe = probe
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no probe chat"))?;
    let connector = Connector::new(
        &server.base,
        args.connections + 2,
        target.sources,
        target.connect_concurrency,
    )?;
    let tokens: Vec<String> = (0..users)
        .map(|i| setup::token(&format!("bi-{i}"), "student"))
        .collect();
    // Warm the server up (threads, pools, caches) with the probe pair before measuring.
    let mut sender = connector
        .connect(0, &setup::token(&probe.student, "student"))
        .await?;
    let mut receiver = connector
        .connect(1, &setup::token(&probe.tutor, "tutor"))
        .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = setup::rss_bytes(server.pid).unwrap_or(0);

    // In two halves, measuring after each: the second half's growth is what one more idle
    // socket costs, free of what the first connections warm up once (allocator pages, the
    // runtime's I/O slab, the hub's maps), which the average over all of them includes.
    let started = Instant::now();
    let open = |range: std::ops::Range<usize>| {
        let mut opening = tokio::task::JoinSet::new();
        for n in range {
            let (connector, token) = (connector.clone(), tokens[n % users].clone());
            opening.spawn(async move { connector.connect(n + 2, &token).await });
        }
        opened(opening)
    };
    let half = args.connections / 2;
    let (mut idle, mut failed) = open(0..half).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss_half, open_half) = (setup::rss_bytes(server.pid).unwrap_or(0), idle.len());
    let (more, refused) = open(half..args.connections).await?;
    idle.extend(more);
    failed += refused;
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "{} idle sockets authenticated in {:.1} s ({failed} failed)",
        idle.len(),
        started.elapsed().as_secs_f64()
    );
    let rss_after = setup::rss_bytes(server.pid).unwrap_or(0);

    let (delivered, latency) =
        probe_chat(&mut sender, &mut receiver, probe.id, args.probe_messages).await?;
    let per_socket = rss_after.saturating_sub(rss_before) / idle.len().max(1) as u64;
    let second_half = idle.len().saturating_sub(open_half).max(1) as u64;
    let marginal = rss_after.saturating_sub(rss_half) / second_half;
    println!("--- idle: {} sockets over {users} users ---", idle.len());
    println!(
        "server memory     {} before, {} after: {per_socket} bytes per idle socket",
        mib(rss_before),
        mib(rss_after)
    );
    println!(
        "                  {} at half: {marginal} bytes per socket of the second half",
        mib(rss_half)
    );
    println!(
        "probe delivery    {delivered}/{} delivered with every socket open; {}",
        args.probe_messages,
        latency.summary()
    );
    drop(idle);
    Ok(())
}
