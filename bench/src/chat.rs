//! The chat workload: N chats × 2 users × D devices; device 0 of each user sends, every
//! device receives. Each message carries its send time, so a receiver measures delivery
//! latency and the sender measures ack latency (stored durably, then acknowledged).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tutorchat_shared::ws::ServerFrame;

use crate::baseline::{Baseline, Sample};
use crate::conn::{Connector, Socket};
use crate::setup::{self, Deployment};
use crate::stats::{cpu_time, mib, Latency};
use crate::Target;

#[derive(Debug, Clone, Args)]
pub struct ChatArgs {
    /// Chats (each between its own student and tutor).
    #[arg(long, default_value_t = 1000)]
    pub chats: usize,
    /// Devices per user.
    #[arg(long, default_value_t = 2)]
    pub devices: usize,
    /// Target messages per second, over all chats.
    #[arg(long, default_value_t = 12_000)]
    pub rate: u32,
    /// Measured seconds.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// Run once per rate of this comma-separated list (e.g. 2000,4000,8000,16000,32000), a
    /// fresh server each time, and end with one table; `--rate` is then ignored.
    #[arg(long, value_delimiter = ',')]
    pub sweep: Vec<u32>,
    /// Run on each of these deployments (comma-separated): 0 is one node on its own SQLite
    /// file (the default), N ≥ 1 is N nodes sharing a fresh PostgreSQL database and the bus
    /// (`--postgres`, `--bus`). Each chat's student and tutor sit on different nodes, and a
    /// user's devices spread over them, so every message crosses nodes.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub nodes: Vec<usize>,
    /// Compare the median CPU and bytes written per message of the runs at this baseline's
    /// rate with it, and fail if either is over its margin (`scripts/perf-check.sh`).
    #[arg(long, conflicts_with = "record")]
    pub check: Option<PathBuf>,
    /// Write a baseline for `--check` from the median of the runs (one rate only).
    #[arg(long)]
    pub record: Option<PathBuf>,
}

/// One run's figures, for the sweep table.
#[derive(Debug, Clone)]
struct Report {
    nodes: String,
    rate: u32,
    sent_per_sec: f64,
    acked_ratio: f64,
    /// Sends answered with a refusal (the server shedding load), of those sent.
    refused_ratio: f64,
    delivered_ratio: f64,
    ack: Latency,
    delivery: Latency,
    server_cpu_us_per_msg: f64,
    /// The part of `server_cpu_us_per_msg` spent in the kernel (system calls, loopback TCP).
    server_kernel_us_per_msg: f64,
    server_cpu_share: f64,
    generator_cpu_share: f64,
    /// Bytes the server processes wrote to files per message sent (SQLite: log and
    /// checkpoints): the storage work per message, much steadier than CPU time.
    written_per_msg: f64,
}

pub async fn run(target: &Target, args: ChatArgs) -> anyhow::Result<()> {
    let rates = if args.sweep.is_empty() {
        vec![args.rate]
    } else {
        args.sweep.clone()
    };
    let mut reports = Vec::with_capacity(rates.len() * args.nodes.len());
    for &nodes in &args.nodes {
        for &rate in &rates {
            reports.push(run_once(target, &args, rate, nodes).await?);
        }
    }
    if reports.len() > 1 {
        print_table(&reports);
    }
    let samples_at = |rate: u32| -> Vec<Sample> {
        reports
            .iter()
            .filter(|r| r.rate == rate)
            .map(|r| Sample {
                cpu_us_per_msg: r.server_cpu_us_per_msg,
                written_kib_per_msg: r.written_per_msg / 1024.0,
            })
            .collect()
    };
    if let Some(path) = &args.record {
        anyhow::ensure!(
            rates.iter().all(|r| *r == rates[0]) && args.nodes == [0],
            "--record takes runs at one rate on one node"
        );
        let baseline = Baseline::record(rates[0], &samples_at(rates[0]))?;
        let about = format!(
            "Recorded by scripts/perf-check.sh --record ({} runs, {} chats, {} devices, {} s each,\n\
             server and generator pinned) on {}. Figures vary between machines: record\n\
             again on the machine that checks.",
            reports.len(),
            args.chats,
            args.devices,
            args.seconds,
            chrono::Utc::now().format("%Y-%m-%d"),
        );
        baseline.write(path, &about)?;
        println!("baseline written to {}", path.display());
    }
    if let Some(path) = &args.check {
        let baseline = Baseline::read(path)?;
        let regressions = baseline.check(&samples_at(baseline.rate))?;
        anyhow::ensure!(
            regressions.is_empty(),
            "more work per message than the baseline allows:\n{}",
            regressions.join("\n")
        );
    }
    Ok(())
}

fn print_table(reports: &[Report]) {
    println!();
    println!("| nodes | target msg/s | sent msg/s | acked/sent | refused/sent | delivered/expected | ack p50 / p99 / max ms | delivery p50 / p99 / max ms | server CPU µs/msg | of which kernel | server CPU | generator CPU | KiB written/msg |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in reports {
        println!(
            "| {} | {} | {:.0} | {:.3} | {:.3} | {:.3} | {:.1} / {:.1} / {:.0} | {:.1} / {:.1} / {:.0} | {:.0} | {:.0} | {:.0}% | {:.0}% | {:.1} |",
            r.nodes,
            r.rate,
            r.sent_per_sec,
            r.acked_ratio,
            r.refused_ratio,
            r.delivered_ratio,
            r.ack.ms_at(0.5),
            r.ack.ms_at(0.99),
            r.ack.max_ms(),
            r.delivery.ms_at(0.5),
            r.delivery.ms_at(0.99),
            r.delivery.max_ms(),
            r.server_cpu_us_per_msg,
            r.server_kernel_us_per_msg,
            r.server_cpu_share * 100.0,
            r.generator_cpu_share * 100.0,
            r.written_per_msg / 1024.0,
        );
    }
}

/// The measured window, in microseconds since the run's epoch: messages sent inside it count.
#[derive(Debug)]
struct Window {
    from: AtomicU64,
    to: AtomicU64,
}

impl Window {
    fn contains(&self, at: u64) -> bool {
        at >= self.from.load(Ordering::Relaxed) && at < self.to.load(Ordering::Relaxed)
    }
}

/// What one socket's reader saw of messages sent inside the measured window.
#[derive(Debug, Default)]
struct Seen {
    delivered: u64,
    acked: u64,
    /// Sends inside the window answered with a refusal.
    refused: u64,
    errors: HashMap<String, u64>,
    delivery: Latency,
    ack: Latency,
}

async fn run_once(
    target: &Target,
    args: &ChatArgs,
    rate: u32,
    nodes: usize,
) -> anyhow::Result<Report> {
    let deployment = Deployment::start(target, nodes).await?;
    for server in &deployment.nodes {
        println!("server {} (pid {})", server.base, server.pid);
    }
    let first = &deployment.nodes[0];
    let chats = setup::provision(&first.base, args.chats, 0).await?;
    let sockets = chats.len() * 2 * args.devices;
    let rss_before = deployment.rss_bytes();
    let connectors = deployment
        .nodes
        .iter()
        .map(|server| {
            Connector::new(
                &server.base,
                sockets / deployment.nodes.len() + 1,
                target.sources,
                target.connect_concurrency,
            )
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    let epoch = Instant::now();
    let window = Arc::new(Window {
        from: AtomicU64::new(u64::MAX),
        to: AtomicU64::new(u64::MAX),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let mut readers = tokio::task::JoinSet::new();
    let mut pacers = Vec::new();
    let mut opening = tokio::task::JoinSet::new();
    for (index, chat) in chats.iter().enumerate() {
        for (u, (user, role)) in [(&chat.student, "student"), (&chat.tutor, "tutor")]
            .into_iter()
            .enumerate()
        {
            let token = setup::token(user, role);
            for device in 0..args.devices {
                let n = (index * 2 + u) * args.devices + device;
                // The student's and the tutor's first devices on different nodes.
                let node = (index + u + device) % connectors.len();
                let (connector, token) = (connectors[node].clone(), token.clone());
                opening.spawn(async move {
                    connector
                        .connect(n, &token)
                        .await
                        .map(|s| (index, u, device, s))
                });
            }
        }
    }
    let mut senders: Vec<[Option<SplitSink<Socket, Message>>; 2]> =
        (0..chats.len()).map(|_| [None, None]).collect();
    while let Some(opened) = opening.join_next().await {
        let (index, u, device, socket) = opened??;
        let (sink, stream) = socket.split();
        if device == 0 {
            senders[index][u] = Some(sink);
        } else {
            drop(sink);
        }
        readers.spawn(read(stream, epoch, window.clone(), stop_rx.clone()));
    }
    println!(
        "{sockets} sockets authenticated in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_connected = deployment.rss_bytes();

    let period = Duration::from_secs_f64(chats.len() as f64 / f64::from(rate.max(1)));
    let sent = Arc::new(AtomicU64::new(0));
    for (chat, sinks) in chats.iter().zip(senders) {
        let [Some(student), Some(tutor)] = sinks else {
            anyhow::bail!("a sender did not connect")
        };
        pacers.push(tokio::spawn(pace(
            chat.id,
            [student, tutor],
            period,
            epoch,
            window.clone(),
            sent.clone(),
            stop_rx.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    let me = std::process::id();
    let cpu_from = (deployment.cpu_time(), cpu_time(me));
    let written_from = deployment.written();
    let window_from = epoch.elapsed().as_micros() as u64;
    window.from.store(window_from, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let window_to = epoch.elapsed().as_micros() as u64;
    window.to.store(window_to, Ordering::Relaxed);
    let cpu_to = (deployment.cpu_time(), cpu_time(me));
    let written = deployment.written().since(written_from);
    let rss_loaded = deployment.rss_bytes();
    // Stop sending; readers drain for two more seconds, then report.
    let _ = stop_tx.send(true);
    let mut open_sinks = Vec::with_capacity(pacers.len());
    for pacer in pacers {
        open_sinks.push(pacer.await?);
    }
    let mut total = Seen::default();
    while let Some(seen) = readers.join_next().await {
        if let Ok(seen) = seen {
            total.delivered += seen.delivered;
            total.acked += seen.acked;
            total.refused += seen.refused;
            total.delivery.merge(&seen.delivery);
            total.ack.merge(&seen.ack);
            for (code, n) in seen.errors {
                *total.errors.entry(code).or_default() += n;
            }
        }
    }
    for sinks in &mut open_sinks {
        for sink in sinks {
            let _ = sink.close().await;
        }
    }
    let secs = (window_to - window_from) as f64 / 1e6;
    let sent = sent.load(Ordering::Relaxed);
    let expected_per_message = (2 * args.devices - 1) as u64;
    println!(
        "--- chat workload: {} chats × 2 users × {} devices, target {} msg/s, nodes {} ---",
        chats.len(),
        args.devices,
        rate,
        deployment.label()
    );
    println!(
        "sent       {:>9.0} msg/s  ({sent} in {secs:.1} s)",
        sent as f64 / secs
    );
    println!(
        "acked      {:>9.0} msg/s  ({} acks)",
        total.acked as f64 / secs,
        total.acked
    );
    println!(
        "delivered  {:>9.0} msg/s  ({} of {} expected deliveries)",
        total.delivered as f64 / secs,
        total.delivered,
        sent * expected_per_message
    );
    println!(
        "refused    {:>9.0} msg/s  ({} refusals; the server shedding load)",
        total.refused as f64 / secs,
        total.refused
    );
    println!("ack latency       {}", total.ack.summary());
    println!("delivery latency  {}", total.delivery.summary());
    if !total.errors.is_empty() {
        println!("errors            {:?}", total.errors);
    }
    let per_conn = rss_connected.saturating_sub(rss_before) / sockets.max(1) as u64;
    println!(
        "server memory     {} before sockets, {} with {sockets} sockets ({} per socket), {} under load",
        mib(rss_before),
        mib(rss_connected),
        per_conn,
        mib(rss_loaded)
    );
    let generator_cpu = match (cpu_from.1, cpu_to.1) {
        (Some(from), Some(to)) => to.since(from).total().as_secs_f64(),
        _ => 0.0,
    };
    let per_message = |total: f64| total / sent.max(1) as f64;
    let server = cpu_to.0.since(cpu_from.0);
    let server_cpu = server.total().as_secs_f64();
    let per_msg = per_message(server_cpu * 1e6);
    let kernel_per_msg = per_message(server.system.as_secs_f64() * 1e6);
    println!(
        "CPU               server {:.1} s ({per_msg:.0} µs per message, {kernel_per_msg:.0} of them in the kernel; {:.0}% of a core) · generator {:.1} s ({:.0}% of a core)",
        server_cpu,
        server_cpu / secs * 100.0,
        generator_cpu,
        generator_cpu / secs * 100.0
    );
    let written_per_msg = per_message(written.bytes as f64);
    println!(
        "storage           server wrote {} to files ({:.1} KiB and {:.1} write calls per message)",
        mib(written.bytes),
        written_per_msg / 1024.0,
        per_message(written.calls as f64),
    );
    Ok(Report {
        nodes: deployment.label(),
        rate,
        sent_per_sec: sent as f64 / secs,
        acked_ratio: per_message(total.acked as f64),
        refused_ratio: per_message(total.refused as f64),
        delivered_ratio: total.delivered as f64 / (sent * expected_per_message).max(1) as f64,
        ack: total.ack,
        delivery: total.delivery,
        server_cpu_us_per_msg: per_msg,
        server_kernel_us_per_msg: kernel_per_msg,
        server_cpu_share: server_cpu / secs,
        generator_cpu_share: generator_cpu / secs,
        written_per_msg,
    })
}

/// Sends one chat's messages at `period`, alternating student and tutor.
async fn pace(
    chat_id: i64,
    mut sinks: [SplitSink<Socket, Message>; 2],
    period: Duration,
    epoch: Instant,
    window: Arc<Window>,
    sent: Arc<AtomicU64>,
    mut stop: watch::Receiver<bool>,
) -> [SplitSink<Socket, Message>; 2] {
    // Spread the chats' first sends over one period.
    let offset = period.mul_f64((chat_id as f64 * 0.618_033_988_7).fract());
    tokio::time::sleep(offset).await;
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        let now = epoch.elapsed().as_micros() as u64;
        let frame = serde_json::json!({
            "type": "send_message",
            "chat_id": chat_id,
            // The send time rides in the client_id too, so a refusal (which carries no
            // content) can be placed inside or outside the measured window.
            "client_id": format!("{chat_id}-{n}-{now}"),
            "content": now.to_string(),
        });
        let sink = &mut sinks[(n % 2) as usize];
        if sink
            .send(Message::Text(frame.to_string().into()))
            .await
            .is_err()
        {
            break;
        }
        if window.contains(now) {
            sent.fetch_add(1, Ordering::Relaxed);
        }
        n += 1;
    }
    // Closed by the caller once the readers have drained, so late deliveries still arrive.
    sinks
}

/// Reads one socket until told to stop, counting what was sent inside the window.
async fn read(
    mut stream: SplitStream<Socket>,
    epoch: Instant,
    window: Arc<Window>,
    mut stop: watch::Receiver<bool>,
) -> Seen {
    let mut seen = Seen::default();
    // Once told to stop, keep reading for two more seconds so late deliveries still count.
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let msg = match deadline {
            None => tokio::select! {
                msg = stream.next() => msg,
                _ = stop.changed() => {
                    deadline = Some(tokio::time::Instant::now() + Duration::from_secs(2));
                    continue;
                }
            },
            Some(deadline) => match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(msg) => msg,
                Err(_) => return seen,
            },
        };
        let Some(Ok(Message::Text(text))) = msg else {
            if msg.is_none() {
                return seen;
            }
            continue;
        };
        // Only what the count needs, borrowed: the load generator shares the CPU with the
        // server, so it parses as little as it can.
        let Ok(frame) = serde_json::from_str::<Peek<'_>>(&text) else {
            // An error frame's `message` is its text, not a message: not a `Peek`.
            if let Ok(ServerFrame::Error(e)) = serde_json::from_str::<ServerFrame>(&text) {
                *seen.errors.entry(e.code.to_string()).or_default() += 1;
                let sent_at = e
                    .client_id
                    .as_ref()
                    .and_then(|id| id.as_str().rsplit('-').next()?.parse::<u64>().ok());
                if sent_at.is_some_and(|at| window.contains(at)) {
                    seen.refused += 1;
                }
            }
            continue;
        };
        let now = epoch.elapsed().as_micros() as u64;
        let sent_at = frame.message.and_then(|m| m.content.parse::<u64>().ok());
        match (frame.kind, sent_at) {
            ("message_received", Some(at)) if window.contains(at) => {
                seen.delivered += 1;
                seen.delivery.record(now.saturating_sub(at));
            }
            ("message_ack", Some(at)) if window.contains(at) => {
                seen.acked += 1;
                seen.ack.record(now.saturating_sub(at));
            }
            _ => {}
        }
    }
}

/// The two fields of a server frame the workload reads.
#[derive(serde::Deserialize)]
struct Peek<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(borrow)]
    message: Option<PeekMessage<'a>>,
}

#[derive(serde::Deserialize)]
struct PeekMessage<'a> {
    #[serde(borrow)]
    content: &'a str,
}
