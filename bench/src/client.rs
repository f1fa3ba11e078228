//! The client core's performance targets, measured through its public API against an
//! in-process server on 127.0.0.1 (the server is not what is measured here).
//!
//! Big caches are filled with plain SQL inserts (the same rows the sync engine writes), so
//! setting up a million messages takes seconds, not a sync of a million messages.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use tokio::sync::broadcast;
use tutorchat_client::{Client, ClientOptions, CredentialStore};
use tutorchat_server::{Config, Server};
use tutorchat_shared::app::{AppEvent, DeliveryState};
use tutorchat_shared::{ChatId, ClientId, MessageKind, UserId};

#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Messages in the one big chat of the page benchmark.
    #[arg(long, default_value_t = 100_000)]
    pub page_messages: u64,
    /// Messages in the big cache, spread over `chats`.
    #[arg(long, default_value_t = 1_000_000)]
    pub cache_messages: u64,
    #[arg(long, default_value_t = 200)]
    pub chats: u64,
    /// Messages missed while away.
    #[arg(long, default_value_t = 10_000)]
    pub missed: u64,
    /// Messages queued while offline.
    #[arg(long, default_value_t = 1_000)]
    pub queued: u64,
    /// Chats the queued messages are spread over.
    #[arg(long, default_value_t = 10)]
    pub queued_chats: u64,
}

const SAM: &str = "sam@tutorchat.test";
const PASSWORD: &str = "tutorchat-demo";

pub async fn run(args: ClientArgs) -> anyhow::Result<()> {
    let work = tempfile::tempdir()?;
    let addr = free_addr()?;
    let server = start_server(addr, &work.path().join("server")).await?;
    let url = format!("http://{addr}");

    // 1 and 2: reads from big caches, with the server stopped (nothing may wait on it).
    let page_dir = work.path().join("page");
    signed_in_then_closed(&url, &page_dir).await?;
    let big_dir = work.path().join("big");
    signed_in_then_closed(&url, &big_dir).await?;
    fill_one_chat(&page_dir, args.page_messages).await?;
    fill_many_chats(&big_dir, args.cache_messages, args.chats).await?;
    server.shutdown().await?;

    let client = open(&url, &page_dir).await?;
    let mut samples = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let page = client.messages(ChatId(1), None, 50).await?;
        samples.push(started.elapsed());
        anyhow::ensure!(page.messages.len() == 50, "a full page");
    }
    client.close().await;
    report(
        &format!(
            "newest page (50) of a chat with {} cached messages",
            args.page_messages
        ),
        &mut samples,
        Duration::from_millis(20),
    );

    let mut samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let client = open(&url, &big_dir).await?;
        let chats = client.chats().await?;
        samples.push(started.elapsed());
        anyhow::ensure!(chats.len() as u64 >= args.chats, "every chat listed");
        client.close().await;
    }
    report(
        &format!(
            "open a {}-message cache and list its {} chats",
            args.cache_messages, args.chats
        ),
        &mut samples,
        Duration::from_secs(1),
    );

    // 3: catching up after an absence.
    let mut server = start_server(addr, &work.path().join("server")).await?;
    let away_dir = work.path().join("away");
    signed_in_then_closed(&url, &away_dir).await?;
    let store = server.state().store.clone();
    for i in 0..args.missed {
        store
            .insert_message(tutorchat_server::store::NewMessage {
                chat_id: ChatId(1),
                sender_id: UserId::new("t-ada"),
                client_id: ClientId::new(format!("missed-{i}")),
                kind: MessageKind::Text,
                content: format!("missed message {i}"),
                attachment: None,
                at: chrono::Utc::now(),
            })
            .await?;
    }
    let started = Instant::now();
    let client = open(&url, &away_dir).await?;
    anyhow::ensure!(
        client.wait_online(Duration::from_secs(60)).await,
        "caught up"
    );
    let caught_up = started.elapsed();
    let newest = client.messages(ChatId(1), None, 1).await?;
    anyhow::ensure!(
        newest.messages.last().and_then(|m| m.seq) == Some(122 + args.missed),
        "every missed message is in the cache"
    );
    client.close().await;
    report(
        &format!("catch up {} missed messages (open → in sync)", args.missed),
        &mut [caught_up],
        Duration::from_secs(1),
    );

    // 4: flushing the outbox after a reconnect: `queued` messages across `queued_chats`
    // chats (Sam and Ada, one chat per course), in order per chat.
    let chats = bench_chats(&server, args.queued_chats).await?;
    let queue_dir = work.path().join("queue");
    let client = signed_in(&url, &queue_dir).await?;
    anyhow::ensure!(client.wait_online(Duration::from_secs(30)).await, "online");
    server.shutdown().await?;
    let mut waiting = std::collections::HashSet::new();
    for i in 0..args.queued {
        let chat = chats[usize::try_from(i)? % chats.len()];
        let queued = client
            .send(chat, MessageKind::Text, &format!("queued {i}"))
            .await?;
        waiting.insert(queued.client_id);
    }
    server = start_server(addr, &work.path().join("server")).await?;
    // Acks are counted from the client's own events (polling the outbox would load the
    // cache the flush is writing to).
    let mut events = client.events();
    let started = Instant::now();
    client.network_changed().await;
    while !waiting.is_empty() {
        let left = Duration::from_secs(60).saturating_sub(started.elapsed());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(AppEvent::MessageUpserted { message })) => {
                if message.state == DeliveryState::Sent {
                    waiting.remove(&message.client_id);
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                let pending: std::collections::HashSet<ClientId> = client
                    .outbox()
                    .await?
                    .into_iter()
                    .map(|m| m.client_id)
                    .collect();
                waiting.retain(|id| pending.contains(id));
            }
            Ok(Err(broadcast::error::RecvError::Closed)) => anyhow::bail!("the client closed"),
            Err(_) => anyhow::bail!("the outbox did not drain within 60 s"),
        }
    }
    let flushed = started.elapsed();
    anyhow::ensure!(client.outbox().await?.is_empty(), "the outbox drained");
    client.close().await;
    let store = server.state().store.clone();
    for (n, chat) in chats.iter().enumerate() {
        let page = store
            .messages(
                *chat,
                tutorchat_server::store::PageRequest::Latest { limit: 1 },
            )
            .await?;
        let expected = args.queued / chats.len() as u64
            + u64::from((n as u64) < args.queued % chats.len() as u64);
        anyhow::ensure!(
            page.last_seq == expected,
            "chat {chat}: each queued message once"
        );
    }
    report(
        &format!(
            "flush {} queued messages across {} chats after reconnect (all acked)",
            args.queued,
            chats.len()
        ),
        &mut [flushed],
        Duration::from_millis(500),
    );
    server.shutdown().await?;
    Ok(())
}

/// `count` new, empty chats between Sam and Ada, one per new course Sam has bought.
async fn bench_chats(server: &Server, count: u64) -> anyhow::Result<Vec<ChatId>> {
    use tutorchat_server::store::Provisioning;
    use tutorchat_shared::api::{EnrollmentChange, UpsertCourse};
    use tutorchat_shared::CourseId;

    let (sam, ada) = (UserId::new("s-sam"), UserId::new("t-ada"));
    let courses: Vec<CourseId> = (0..count)
        .map(|i| CourseId::new(format!("bench-{i}")))
        .collect();
    let provisioning = Provisioning {
        users: Vec::new(),
        courses: courses
            .iter()
            .map(|id| UpsertCourse {
                id: id.clone(),
                title: format!("Bench course {id}"),
                tutor_ids: vec![ada.clone()],
                purchase_url: None,
            })
            .collect(),
        enrollments: courses
            .iter()
            .map(|id| EnrollmentChange {
                course_id: id.clone(),
                student_id: sam.clone(),
                active: true,
            })
            .collect(),
    };
    let store = server.state().store.clone();
    store
        .provision(provisioning)
        .await?
        .map_err(|e| anyhow::anyhow!("provisioning: {e}"))?;
    let mut chats = Vec::new();
    for course in &courses {
        let (chat, _) = store
            .find_or_create_chat(course, &sam, &ada, chrono::Utc::now())
            .await?;
        chats.push(chat.id);
    }
    Ok(chats)
}

fn report(what: &str, samples: &mut [Duration], target: Duration) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let worst = samples[samples.len() - 1];
    let verdict = if median < target { "meets" } else { "MISSES" };
    println!(
        "{what}: median {:.1} ms, worst {:.1} ms over {} runs — {verdict} the {:?} target",
        median.as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3,
        samples.len(),
        target
    );
}

fn free_addr() -> anyhow::Result<std::net::SocketAddr> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(probe.local_addr()?)
}

async fn start_server(addr: std::net::SocketAddr, dir: &Path) -> anyhow::Result<Server> {
    let args = [
        "tutorchat-server",
        "--listen",
        &addr.to_string(),
        "--data-dir",
        &dir.display().to_string(),
        "--jwt-secret",
        "bench-client-secret",
        "--demo",
        "--log",
        "error",
        "--message-rate-per-second",
        "1000000",
        "--message-burst",
        "1000000",
        "--api-rate-per-second",
        "1000000",
        "--api-burst",
        "1000000",
        "--ws-frame-rate-per-second",
        "1000000",
        "--ws-frame-burst",
        "1000000",
        // In-process, the server's overload shedding would measure the client core beside it.
        "--shed-delay-ms",
        "0",
    ];
    let config = <Config as clap::Parser>::try_parse_from(args)?;
    let mut last = None;
    for _ in 0..50 {
        match Server::start(config.clone()).await {
            Ok(server) => return Ok(server),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last.map_or_else(
        || anyhow::anyhow!("server did not start"),
        anyhow::Error::from,
    ))
}

async fn open(url: &str, dir: &Path) -> anyhow::Result<Client> {
    let mut options = ClientOptions::new(url, dir);
    options.credentials = CredentialStore::File;
    Ok(Client::open(options).await?)
}

async fn signed_in(url: &str, dir: &Path) -> anyhow::Result<Client> {
    let client = open(url, dir).await?;
    client.login(SAM, PASSWORD).await?;
    Ok(client)
}

async fn signed_in_then_closed(url: &str, dir: &Path) -> anyhow::Result<()> {
    let client = signed_in(url, dir).await?;
    anyhow::ensure!(
        client.wait_online(Duration::from_secs(30)).await,
        "first sync"
    );
    client.close().await;
    Ok(())
}

fn cache_file(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::read_dir(dir.join("accounts"))?
        .filter_map(Result::ok)
        .map(|e| e.path().join("cache.db"))
        .find(|p| p.exists())
        .context("no cache file")
}

/// Chat 1 gets `count` messages in all (seq 1..=count), contiguous and synced.
async fn fill_one_chat(dir: &Path, count: u64) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(cache_file(dir)?)?;
    let tx = conn.unchecked_transaction()?;
    tx.execute("DELETE FROM messages WHERE chat_id = 1", [])?;
    insert_messages(&tx, 1, 1, count, 10_000_000)?;
    tx.execute(
        "UPDATE chats SET last_seq = ?1, synced_seq = ?1, history_from = 1, my_read_seq = ?1 WHERE id = 1",
        [i64::try_from(count)?],
    )?;
    tx.commit()?;
    Ok(())
}

/// `total` messages over `chats` chats (chat 1 plus made-up ones).
async fn fill_many_chats(dir: &Path, total: u64, chats: u64) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(cache_file(dir)?)?;
    let tx = conn.unchecked_transaction()?;
    tx.execute("DELETE FROM messages", [])?;
    let per_chat = total / chats.max(1);
    let now = chrono::Utc::now().timestamp_millis();
    for chat in 1..=chats {
        let id = i64::try_from(chat)?;
        tx.execute(
            "INSERT OR IGNORE INTO chats (id, course_id, course_title, peer_id, peer_name, peer_role, created_at, last_activity_at)
             VALUES (?1, 'rust-101', 'Rust from Zero', ?2, ?3, 'tutor', ?4, ?4)",
            rusqlite::params![id, format!("t-{chat}"), format!("Tutor {chat}"), now - id * 1000],
        )?;
        insert_messages(&tx, chat, 1, per_chat, chat * 10_000_000)?;
        tx.execute(
            "UPDATE chats SET last_seq = ?2, synced_seq = ?2, history_from = 1, my_read_seq = ?2 - 5 WHERE id = ?1",
            rusqlite::params![id, i64::try_from(per_chat)?],
        )?;
    }
    tx.commit()?;
    Ok(())
}

fn insert_messages(
    tx: &rusqlite::Transaction<'_>,
    chat: u64,
    from_seq: u64,
    count: u64,
    id_base: u64,
) -> anyhow::Result<()> {
    let mut insert = tx.prepare(
        "INSERT INTO messages (id, chat_id, seq, sender_id, client_id, kind, content, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'text', ?6, ?7)",
    )?;
    let start = chrono::Utc::now().timestamp_millis() - i64::try_from(count)? * 1000;
    for i in 0..count {
        let seq = from_seq + i;
        let sender = if i % 2 == 0 { "s-sam" } else { "t-ada" };
        insert.execute(rusqlite::params![
            i64::try_from(id_base + seq)?,
            i64::try_from(chat)?,
            i64::try_from(seq)?,
            sender,
            format!("bench-{chat}-{seq}"),
            format!("message {seq} of chat {chat}: some words about ownership and lifetimes"),
            start + i64::try_from(i)? * 1000,
        ])?;
    }
    Ok(())
}
