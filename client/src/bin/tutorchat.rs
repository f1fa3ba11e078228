//! `tutorchat`: the command-line client over the same core as the desktop app. Useful for
//! scripts and bots, and for testing: every command works offline from the cache, and
//! `send` queues in the durable outbox when the server is away.
//!
//! One process per data directory: a second one waits `--lock-wait` seconds for the first to
//! finish, then gives up. Exit codes: 0 done; 1 error; 2 `sync` did not get there in time;
//! 3 the message was refused for good; 4 another process is using the data directory;
//! 5 signed out (the server ended the session): sign in again (`send` still queued it).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tutorchat_client::{
    human_size, safe_file_name, Client, ClientError, ClientOptions, CredentialStore, SessionStatus,
};
use tutorchat_shared::app::{AppEvent, DeliveryState, LocalMessage, SessionEndReason};
use tutorchat_shared::{ChatId, ClientId, CourseId, ErrorCode, MessageId, MessageKind, UserId};

/// Exit codes other than 0 (done) and 1 (error); see the module doc.
const NOT_SYNCED: u8 = 2;
const SEND_FAILED: u8 = 3;
const DATA_DIR_BUSY: u8 = 4;
const SIGNED_OUT: u8 = 5;
const SIGN_IN_AGAIN: &str = "signed out — sign in again: tutorchat login --email …";

#[derive(Debug, Parser)]
#[command(name = "tutorchat", version, about = "Tutorchat from the command line")]
struct Cli {
    /// The server's base URL.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    server: String,
    /// Where sessions and caches live (default: the OS data directory).
    #[arg(long, global = true, env = "TUTORCHAT_CLIENT_DIR")]
    data_dir: Option<PathBuf>,
    /// Where the refresh token is kept: auto (keyring, else a private file), keyring, file.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_CREDENTIALS",
        default_value = "auto"
    )]
    credentials: CredentialStore,
    /// An extra CA (PEM) to trust, for a self-hosted server.
    #[arg(long, global = true, env = "TUTORCHAT_CA")]
    ca: Option<PathBuf>,
    /// Seconds to wait for another tutorchat process to finish with the data directory.
    #[arg(long, global = true, env = "TUTORCHAT_LOCK_WAIT", default_value_t = 10)]
    lock_wait: u64,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in (the password can also come from TUTORCHAT_PASSWORD).
    Login {
        #[arg(long)]
        email: String,
        #[arg(long, env = "TUTORCHAT_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Sign out and delete this account's cache.
    Logout {
        /// Even if messages are still waiting in the outbox.
        #[arg(long)]
        force: bool,
    },
    /// Your chats, newest first (from the cache).
    Chats,
    /// A page of a chat's history.
    History {
        chat: i64,
        #[arg(long)]
        before: Option<u64>,
        #[arg(long, default_value_t = 30)]
        limit: u32,
    },
    /// Send a message: written to the outbox first, delivered now or when the server is back.
    Send {
        chat: i64,
        text: String,
        /// Seconds to wait for the server's acknowledgement before leaving it pending.
        #[arg(long, default_value_t = 5)]
        wait: u64,
    },
    /// Send a file (an image is shown inline): copied into the cache and queued at once,
    /// uploaded and delivered now or when the server is back.
    SendFile {
        chat: i64,
        path: std::path::PathBuf,
        #[arg(long, default_value = "")]
        caption: String,
        /// Seconds to wait for the upload and the acknowledgement before leaving it pending.
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
    /// Save a message's attachment (downloaded unless this device has it).
    Download {
        /// The message's id (`history --json` shows it).
        message: i64,
        /// Where to save it (default: its name, in the current directory).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// The outbox: list, or retry/discard one message by client id.
    Outbox {
        #[command(subcommand)]
        action: Option<OutboxAction>,
    },
    /// Search cached history (works offline).
    Search {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Connect, catch up and flush the outbox; exit 0 once online with an empty outbox.
    Sync {
        #[arg(long, default_value_t = 15)]
        timeout: u64,
    },
    /// Print live events as JSON lines.
    Watch {
        /// Stop after this many seconds (default: until interrupted).
        #[arg(long = "for")]
        seconds: Option<u64>,
    },
    /// Mark a chat read (up to its newest message, or SEQ).
    Read { chat: i64, seq: Option<u64> },
    /// The tutors of your purchased courses (students).
    Tutors,
    /// The students of your courses (tutors).
    Students {
        #[arg(long)]
        course: Option<String>,
    },
    /// Open (or find) the chat with someone in a course.
    Open { course: String, with: String },
}

#[derive(Debug, Subcommand)]
enum OutboxAction {
    List,
    Retry { client_id: String },
    Discard { client_id: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TUTORCHAT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => match e.downcast_ref::<ClientError>() {
            Some(busy @ ClientError::DataDirBusy(_)) => {
                eprintln!("error: {busy}; try again when it has finished");
                ExitCode::from(DATA_DIR_BUSY)
            }
            Some(refused) if refused.code() == ErrorCode::InvalidRefreshToken => {
                eprintln!("{SIGN_IN_AGAIN}");
                ExitCode::from(SIGNED_OUT)
            }
            _ => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut options = ClientOptions::new(
        cli.server.clone(),
        cli.data_dir
            .clone()
            .unwrap_or_else(ClientOptions::default_data_dir),
    );
    options.credentials = cli.credentials;
    options.extra_ca = cli.ca.clone();
    options.lock_wait = Duration::from_secs(cli.lock_wait);
    let client = Client::open(options).await?;
    let json = cli.json;
    let code = command(&client, cli.command, json).await;
    client.close().await;
    code
}

async fn command(client: &Client, command: Command, json: bool) -> anyhow::Result<ExitCode> {
    if let Some(code) = session_gate(&client.session_status().await, &command) {
        return Ok(code);
    }
    match command {
        Command::Login { email, password } => login(client, &email, &password).await,
        Command::Logout { force } => logout(client, force).await,
        Command::Chats => chats(client, json).await,
        Command::History {
            chat,
            before,
            limit,
        } => history(client, ChatId(chat), before, limit, json).await,
        Command::Send { chat, text, wait } => {
            let local = client.send(ChatId(chat), MessageKind::Text, &text);
            send(client, local, wait, json).await
        }
        Command::SendFile {
            chat,
            path,
            caption,
            wait,
        } => {
            let local = client.send_attachment(ChatId(chat), &path, &caption);
            send(client, local, wait, json).await
        }
        Command::Download { message, out } => download(client, MessageId(message), out).await,
        Command::Outbox { action } => match action.unwrap_or(OutboxAction::List) {
            OutboxAction::List => outbox_list(client, json).await,
            OutboxAction::Retry { client_id } => outbox_retry(client, client_id).await,
            OutboxAction::Discard { client_id } => outbox_discard(client, client_id).await,
        },
        Command::Search { query, limit } => search(client, &query, limit, json).await,
        Command::Sync { timeout } => sync(client, Duration::from_secs(timeout)).await,
        Command::Watch { seconds } => watch(client, seconds.map(Duration::from_secs)).await,
        Command::Read { chat, seq } => read(client, ChatId(chat), seq).await,
        Command::Tutors => {
            print_contacts(&client.available_tutors().await?, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Students { course } => {
            let course = course.map(CourseId::new);
            print_contacts(&client.students(course.as_ref()).await?, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Open { course, with } => open(client, course, with).await,
    }
}

/// What a command may do in the session's state: `Some(code)` to stop here. Signed out by the
/// server, the cache still answers and the outbox still takes messages (delivered after the
/// next sign-in); anything that needs the server stops.
fn session_gate(status: &SessionStatus, command: &Command) -> Option<ExitCode> {
    match (status, command) {
        (_, Command::Login { .. }) | (SessionStatus::SignedIn(_), _) => None,
        (SessionStatus::SignedOut, _) => {
            eprintln!("error: not signed in: run `tutorchat login --email …` first");
            Some(ExitCode::FAILURE)
        }
        (
            SessionStatus::Ended(_),
            Command::Logout { .. } | Command::Send { .. } | Command::SendFile { .. },
        ) => None,
        (
            SessionStatus::Ended(_),
            Command::Chats
            | Command::History { .. }
            | Command::Search { .. }
            | Command::Outbox {
                action: None | Some(OutboxAction::List | OutboxAction::Discard { .. }),
            },
        ) => {
            eprintln!("{SIGN_IN_AGAIN} (showing what this device has)");
            None
        }
        (SessionStatus::Ended(_), _) => {
            eprintln!("{SIGN_IN_AGAIN}");
            Some(ExitCode::from(SIGNED_OUT))
        }
    }
}

async fn login(client: &Client, email: &str, password: &str) -> anyhow::Result<ExitCode> {
    let user = client.login(email, password).await?;
    println!(
        "signed in as {} ({}, {})",
        user.name,
        user.role.as_str(),
        user.id
    );
    Ok(ExitCode::SUCCESS)
}

async fn logout(client: &Client, force: bool) -> anyhow::Result<ExitCode> {
    client.logout(force).await?;
    println!("signed out");
    Ok(ExitCode::SUCCESS)
}

async fn chats(client: &Client, json: bool) -> anyhow::Result<ExitCode> {
    client.wait_online(Duration::from_secs(3)).await;
    let chats = client.chats().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&chats)?);
    }
    for chat in chats.iter().filter(|_| !json) {
        let last = chat
            .last_message
            .as_ref()
            .map(LocalMessage::preview)
            .unwrap_or_default();
        let marks = match (chat.pending, chat.failed) {
            (0, 0) => String::new(),
            (p, 0) => format!(" [{p} pending]"),
            (p, f) => format!(" [{p} pending, {f} failed]"),
        };
        println!(
            "{:>4}  {:<20} {:<28} unread {:<3}{}{}  {}",
            chat.id,
            chat.peer.name,
            chat.course.title,
            chat.unread,
            if chat.peer.online { " ●" } else { "" },
            marks,
            one_line(&last, 50)
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn history(
    client: &Client,
    chat: ChatId,
    before: Option<u64>,
    limit: u32,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let page = client.messages(chat, before, limit).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&page)?);
    } else {
        if page.has_more_before {
            println!(
                "   … older: --before {}",
                page.messages.first().and_then(|m| m.seq).unwrap_or(0)
            );
        }
        for m in &page.messages {
            print_message(m);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Queues a message (`written`: the text or the file, being written to the outbox), then
/// waits up to `wait` seconds for the server's answer.
async fn send(
    client: &Client,
    written: impl std::future::Future<Output = tutorchat_client::Result<LocalMessage>>,
    wait: u64,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut events = client.events();
    let local = written.await?;
    let outcome = if client.me().await.is_some() {
        wait_for(&mut events, &local.client_id, Duration::from_secs(wait)).await
    } else {
        Outcome::SignedOut
    };
    match outcome {
        Outcome::Answered(m) => {
            if json {
                println!("{}", serde_json::to_string(&m)?);
            } else {
                print_message(&m);
            }
            if m.state == DeliveryState::Failed {
                return Ok(ExitCode::from(SEND_FAILED));
            }
        }
        Outcome::Pending | Outcome::SignedOut => {
            let signed_out = outcome == Outcome::SignedOut || client.me().await.is_none();
            if json {
                println!("{}", serde_json::to_string(&local)?);
            } else if signed_out {
                println!(
                    "queued: {} (pending; it waits in the outbox until you sign in again)",
                    local.client_id
                );
            } else {
                println!(
                    "queued: {} (pending; delivered when the server is reachable)",
                    local.client_id
                );
            }
            if signed_out {
                eprintln!("{SIGN_IN_AGAIN}");
                return Ok(ExitCode::from(SIGNED_OUT));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn outbox_list(client: &Client, json: bool) -> anyhow::Result<ExitCode> {
    let entries = client.outbox().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else if entries.is_empty() {
        println!("the outbox is empty");
    }
    for m in entries.iter().filter(|_| !json) {
        let why = m
            .failure
            .as_ref()
            .map(|f| format!(" ({}: {})", f.code, f.message))
            .unwrap_or_default();
        println!(
            "{}  chat {}  {:?}{}  {}",
            m.client_id,
            m.chat_id,
            m.state,
            why,
            one_line(&m.content, 50)
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn outbox_retry(client: &Client, client_id: String) -> anyhow::Result<ExitCode> {
    let done = client.retry(&ClientId::new(client_id.clone())).await?;
    println!(
        "{}",
        if done {
            "queued again"
        } else {
            "no failed message with that id"
        }
    );
    if done {
        client.wait_online(Duration::from_secs(3)).await;
    }
    Ok(ExitCode::SUCCESS)
}

async fn outbox_discard(client: &Client, client_id: String) -> anyhow::Result<ExitCode> {
    let done = client.discard(&ClientId::new(client_id)).await?;
    println!(
        "{}",
        if done {
            "discarded"
        } else {
            "no such message in the outbox"
        }
    );
    Ok(ExitCode::SUCCESS)
}

async fn search(client: &Client, query: &str, limit: u32, json: bool) -> anyhow::Result<ExitCode> {
    let found = client.search(query, limit).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    }
    for m in found.iter().filter(|_| !json) {
        print!("chat {:>3}  ", m.chat_id);
        print_message(m);
    }
    Ok(ExitCode::SUCCESS)
}

/// Connect, catch up and flush the outbox; done once online with nothing pending.
async fn sync(client: &Client, timeout: Duration) -> anyhow::Result<ExitCode> {
    let deadline = tokio::time::Instant::now() + timeout;
    let online = client.wait_online(timeout).await;
    // Online: now wait for the outbox to drain of what can be delivered.
    loop {
        let pending = client
            .outbox()
            .await?
            .iter()
            .filter(|m| m.state == DeliveryState::Pending)
            .count();
        if online && pending == 0 {
            break;
        }
        if client.me().await.is_none() {
            eprintln!("not synced: {SIGN_IN_AGAIN}");
            return Ok(ExitCode::from(SIGNED_OUT));
        }
        if tokio::time::Instant::now() >= deadline {
            eprintln!(
                "not synced: {} ({pending} pending)",
                if online {
                    "online"
                } else {
                    "server unreachable"
                }
            );
            return Ok(ExitCode::from(NOT_SYNCED));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed = client.outbox().await?.len();
    println!(
        "synced: {} chats, {} unread, {failed} failed in the outbox",
        client.chats().await?.len(),
        client.unread_total().await?
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints events as JSON lines, for `seconds` or until interrupted.
async fn watch(client: &Client, seconds: Option<Duration>) -> anyhow::Result<ExitCode> {
    let mut events = client.events();
    let until = seconds.map(|s| tokio::time::Instant::now() + s);
    loop {
        let next = match until {
            Some(at) => match tokio::time::timeout_at(at, events.recv()).await {
                Ok(next) => next,
                Err(_) => break,
            },
            None => tokio::select! {
                next = events.recv() => next,
                _ = tokio::signal::ctrl_c() => break,
            },
        };
        match next {
            Ok(
                event @ AppEvent::SessionEnded {
                    reason: SessionEndReason::Expired,
                },
            ) => {
                println!("{}", serde_json::to_string(&event)?);
                eprintln!("{SIGN_IN_AGAIN}");
                return Ok(ExitCode::from(SIGNED_OUT));
            }
            Ok(event) => println!("{}", serde_json::to_string(&event)?),
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                eprintln!("(missed {n} events)")
            }
            Err(_) => break,
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn read(client: &Client, chat: ChatId, seq: Option<u64>) -> anyhow::Result<ExitCode> {
    client.wait_online(Duration::from_secs(3)).await;
    let up_to = match seq {
        Some(seq) => seq,
        None => client
            .chats()
            .await?
            .iter()
            .find(|c| c.id == chat)
            .map_or(0, |c| c.last_seq),
    };
    client.mark_read(chat, up_to).await?;
    // Give the engine a moment to tell the server.
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("read up to {up_to}");
    Ok(ExitCode::SUCCESS)
}

async fn open(client: &Client, course: String, with: String) -> anyhow::Result<ExitCode> {
    match client
        .create_chat(&CourseId::new(course), &UserId::new(with))
        .await
    {
        Ok(chat) => println!(
            "chat {} with {} in {}",
            chat.id, chat.peer.name, chat.course.title
        ),
        Err(e) => {
            if let Some(api) = e.api() {
                if let Some(course) = &api.course_id {
                    anyhow::bail!("not enrolled in {course}: {}", api.message);
                }
            }
            return Err(e).context("opening the chat");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How waiting for a sent message ended.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Acknowledged (or refused for good).
    Answered(Box<LocalMessage>),
    /// Still in the outbox when the wait ran out.
    Pending,
    /// Still in the outbox, and the session ended: it waits for the next sign-in.
    SignedOut,
}

/// Waits for the message's acknowledgement (or failure) on the event stream.
async fn wait_for(
    events: &mut tokio::sync::broadcast::Receiver<AppEvent>,
    client_id: &ClientId,
    wait: Duration,
) -> Outcome {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(AppEvent::MessageUpserted { message }))
                if &message.client_id == client_id && message.state != DeliveryState::Pending =>
            {
                return Outcome::Answered(Box::new(message))
            }
            Ok(Ok(AppEvent::SessionEnded { .. })) => return Outcome::SignedOut,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            _ => return Outcome::Pending,
        }
    }
}

async fn download(
    client: &Client,
    message: MessageId,
    out: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    let Some(attachment) = client.attachment_of(message).await? else {
        eprintln!(
            "error: message {message} carries no attachment (or is not in this device's cache)"
        );
        return Ok(ExitCode::FAILURE);
    };
    let Some(id) = &attachment.id else {
        eprintln!("error: that attachment is still uploading");
        return Ok(ExitCode::FAILURE);
    };
    let cached = client.download(id).await?;
    // Under its own name only if nothing is there yet: the sender chose that name.
    let (out, overwrite) = match out {
        Some(out) => (out, true),
        None => (
            std::path::PathBuf::from(safe_file_name(&attachment.name)),
            false,
        ),
    };
    if !overwrite && tokio::fs::try_exists(&out).await.unwrap_or(true) {
        eprintln!(
            "error: {} already exists; choose where with --out",
            out.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    tokio::fs::copy(&cached, &out).await?;
    println!("saved {} ({})", out.display(), human_size(attachment.size));
    Ok(ExitCode::SUCCESS)
}

fn print_message(m: &LocalMessage) {
    let state = match m.state {
        DeliveryState::Pending => "…",
        DeliveryState::Sent => "✓",
        DeliveryState::Read => "✓✓",
        DeliveryState::Failed => "✗",
    };
    let seq = m
        .seq
        .map_or_else(|| "   -".to_owned(), |s| format!("{s:>4}"));
    println!(
        "{seq} {} {:<10} {:<3} {}",
        m.created_at.format("%Y-%m-%d %H:%M"),
        m.sender_id,
        state,
        m.preview()
    );
}

fn print_contacts(
    contacts: &tutorchat_shared::api::ContactsByCourse,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(contacts)?);
        return Ok(());
    }
    for group in &contacts.courses {
        println!("{} ({})", group.course.title, group.course.id);
        for c in &group.contacts {
            let chat = c
                .chat_id
                .map(|id| format!("  chat {id}"))
                .unwrap_or_default();
            println!(
                "  {:<10} {:<20}{}{}",
                c.id,
                c.name,
                if c.online { " ●" } else { "" },
                chat
            );
        }
    }
    Ok(())
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}
