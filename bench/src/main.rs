//! `tutorchat-bench`: a load generator for the Tutorchat server.
//!
//! - `chat`: N chats × 2 users × D devices, a target message rate; reports sent, acked and
//!   delivered messages per second, ack and delivery latency percentiles, errors, and the
//!   server's memory per connection. `--nodes 0,3` runs it on one SQLite node and on three
//!   nodes sharing PostgreSQL and the bus, in one run.
//! - `idle`: many authenticated idle sockets; reports the server's memory per socket and
//!   checks that delivery still works with all of them open. With `--nodes`, spread over
//!   several nodes on PostgreSQL and held by worker processes (past one process's file cap).
//! - `login`: login timing for known and unknown emails (medians and their ratio), and the
//!   server's memory under a login flood.
//! - `client`: the client core's targets — newest page from a 100k-message cache, opening a
//!   1M-message cache, catching up 10k missed messages, flushing 1,000 queued messages.
//! - `upload`: upload throughput with the server's memory while files stream (it must stay
//!   flat: nothing is buffered whole), then photos through the image pipeline.
//!
//! By default it starts its own release server (the `tutorchat-server` binary next to this
//! one) on a temporary data directory, so the numbers come from a known configuration. All
//! traffic goes to 127.0.0.0/8 and every run stops by itself.

mod baseline;
mod chat;
mod client;
mod conn;
mod idle;
mod login;
mod setup;
mod stats;
mod upload;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "tutorchat-bench",
    about = "Load generator for the Tutorchat server"
)]
struct Cli {
    #[command(subcommand)]
    command: Mode,
    #[command(flatten)]
    target: Target,
}

/// Which server to load.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// The server binary to start (default: `tutorchat-server` beside this binary).
    #[arg(long, global = true)]
    pub server_bin: Option<PathBuf>,
    /// Port for the started server (0: any free port).
    #[arg(long, global = true, default_value_t = 0)]
    pub port: u16,
    /// Source addresses 127.X.0.1 … 127.X.0.N for client sockets (0: enough for the count,
    /// 10,000 sockets per address; X changes every run).
    #[arg(long, global = true, default_value_t = 0)]
    pub sources: u8,
    /// Pin the started server to CPU 0 and this load generator to CPU 1 (`taskset`), so the
    /// server's figures are one core's and the generator cannot steal from it.
    #[arg(long, global = true)]
    pub pin: bool,
    /// Handshakes in flight while connecting.
    #[arg(long, global = true, default_value_t = 256)]
    pub connect_concurrency: usize,
    /// The PostgreSQL server for runs on several nodes (a fresh database is made per run and
    /// dropped after).
    #[arg(
        long,
        global = true,
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub postgres: String,
    /// The bus for runs on several nodes.
    #[arg(long, global = true, default_value = "redis://127.0.0.1:6379")]
    pub bus: String,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Chat workload: every message is stored durably before its ack and delivered to the
    /// other devices of both participants.
    Chat(chat::ChatArgs),
    /// Idle sockets: memory per authenticated connection, and delivery with all of them open.
    Idle(idle::IdleArgs),
    /// The client core: cache reads at scale, catch-up after an absence, outbox flush.
    Client(client::ClientArgs),
    /// Logins: equal timing for known and unknown emails; memory under a login flood.
    Login(login::LoginArgs),
    /// Uploads: throughput and the server's memory while files stream; the image pipeline.
    Upload(upload::UploadArgs),
    /// (Internal) holds idle sockets for `idle --nodes`, past one process's file limit.
    #[command(hide = true)]
    IdleWorker(idle::WorkerArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    raise_fd_limit();
    if cli.target.pin {
        pin_self(1)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Mode::Chat(args) => chat::run(&cli.target, args).await,
            Mode::Idle(args) => idle::run(&cli.target, args).await,
            Mode::Client(args) => client::run(args).await,
            Mode::Login(args) => login::run(&cli.target, args).await,
            Mode::Upload(args) => upload::run(&cli.target, args).await,
            Mode::IdleWorker(args) => idle::worker(&cli.target, args).await,
        }
    })
}

/// Keeps this process (and the threads it starts from now on) on one CPU.
fn pin_self(cpu: usize) -> anyhow::Result<()> {
    let status = std::process::Command::new("taskset")
        .args([
            "-a",
            "-p",
            "-c",
            &cpu.to_string(),
            &std::process::id().to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "taskset could not pin the load generator");
    Ok(())
}

/// Sockets are files: raise this process's limit (and so the started server's) as far as
/// the system allows.
fn raise_fd_limit() {
    const WANT: u64 = 1 << 20;
    if rlimit::setrlimit(rlimit::Resource::NOFILE, WANT, WANT).is_err() {
        if let Ok((_, hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE) {
            let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard);
        }
    }
    if let Ok((soft, _)) = rlimit::getrlimit(rlimit::Resource::NOFILE) {
        eprintln!("open-file limit: {soft}");
    }
}
