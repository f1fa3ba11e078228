//! Tutorchat's headless client core: what makes the app offline-first.
//!
//! History opens from a local SQLite cache; a message written without a network waits in a
//! durable outbox and is delivered exactly once when the network returns; unread counts are
//! right on every device. This crate knows nothing of Tauri or Yew: the desktop shell and the
//! `tutorchat` CLI both ride on [`Client`].
//!
//! Map:
//! - [`Client`] (this file): the API for a shell — sign in/out, chats, pages, send/retry/discard,
//!   read pointers, typing, drafts, contacts, blocks, search — and the event stream.
//! - [`session`]: tokens and typed REST calls, refreshed without the user noticing.
//! - [`credentials`]: the refresh token in the OS keyring, or a private file; the access
//!   token kept between runs.
//! - `lock`: one process per data directory.
//! - [`cache`]: the SQLite cache of one account (chats, messages, outbox, drafts, search).
//! - [`engine`]: the WebSocket sync engine (connect, catch up, apply, flush the outbox).
//! - [`live`]: presence and typing with expiry. [`options`]: server address and TLS.

mod account;
pub mod cache;
pub mod credentials;
mod engine;
pub mod error;
mod live;
mod lock;
pub mod options;
mod session;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use chrono::Utc;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, watch, Mutex};
use tokio::task::JoinHandle;
use tutorchat_shared::api::{
    BlockStatus, ContactsByCourse, CreateChatRequest, CreateChatResponse, MessagePage, UserProfile,
};
use tutorchat_shared::app::{AppEvent, ChatItem, ChatPage, LocalMessage, SessionEndReason};
use tutorchat_shared::validation::validate_message;
use tutorchat_shared::ws::ClientFrame;
use tutorchat_shared::{ChatId, ClientId, CourseId, Limits, MessageKind, UserId};

use crate::account::Account;
use crate::cache::{chats, messages, outbox, Cache};
pub use crate::credentials::CredentialStore;
use crate::credentials::StoredIn;
pub use crate::error::{ClientError, Result};
use crate::lock::DataDirLock;
pub use crate::options::ClientOptions;
use crate::options::Endpoints;
use crate::session::Session;

/// Events buffered for a slow listener; one that lags re-reads state from the cache.
const EVENT_BUFFER: usize = 4096;
/// History page size when asking the server for older messages.
const SERVER_PAGE: u32 = 200;
const SESSION_FILE: &str = "session.json";

/// The client core. Cheap to clone; one per app.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    options: ClientOptions,
    http: reqwest::Client,
    events: broadcast::Sender<AppEvent>,
    /// The signed-in account. A tokio mutex: sign-in and sign-out await the network while
    /// holding it, so they cannot interleave.
    account: Mutex<Option<Running>>,
    /// This process's hold on the data directory, from `open` to `close` (or sign-out). A std
    /// mutex: swapped in and out, never held across `.await`.
    dir_lock: std::sync::Mutex<Option<DataDirLock>>,
}

#[derive(Debug)]
struct Running {
    account: Arc<Account>,
    shutdown: watch::Sender<bool>,
    /// None for a session that had already ended: nothing to sync until the next sign-in.
    engine: Option<JoinHandle<()>>,
}

/// Where the stored session stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStatus {
    /// Nobody has signed in (or they signed out).
    SignedOut,
    SignedIn(UserProfile),
    /// The server refused this user's refresh token (revoked, expired, or spent elsewhere):
    /// they must sign in again. The account's cache is still open, and messages sent now wait
    /// in its outbox until they do.
    Ended(UserProfile),
}

/// What survives a restart (no secrets: the refresh token is in the credential store).
#[derive(Debug, Serialize, Deserialize)]
struct SessionPointer {
    server: String,
    user: UserProfile,
    account_dir: PathBuf,
    stored_in: StoredIn,
}

impl Client {
    /// Opens the client; resumes the last session if one was kept (the engine then connects
    /// in the background, and the cache answers at once even without a network).
    ///
    /// Takes the data directory's lock first, waiting up to `options.lock_wait` for another
    /// process to let go of it; then fails with [`ClientError::DataDirBusy`].
    pub async fn open(options: ClientOptions) -> Result<Client> {
        // Several TLS crypto providers may be compiled in (feature unification): pick one, so
        // rustls never has to guess.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = options::http_client(options.extra_ca.as_deref())?;
        let lock = DataDirLock::acquire(&options.data_dir, options.lock_wait).await?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let client = Client {
            inner: Arc::new(Inner {
                options,
                http,
                events,
                account: Mutex::new(None),
                dir_lock: std::sync::Mutex::new(Some(lock)),
            }),
        };
        client.resume().await?;
        Ok(client)
    }

    /// Takes the data directory's lock again if `close` or `logout` let it go.
    async fn relock(&self) -> Result<()> {
        if self.lock_slot().is_some() {
            return Ok(());
        }
        let options = &self.inner.options;
        let lock = DataDirLock::acquire(&options.data_dir, options.lock_wait).await?;
        self.lock_slot().get_or_insert(lock);
        Ok(())
    }

    fn lock_slot(&self) -> std::sync::MutexGuard<'_, Option<DataDirLock>> {
        self.inner
            .dir_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    async fn resume(&self) -> Result<()> {
        let options = &self.inner.options;
        let path = options.data_dir.join(SESSION_FILE);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(());
        };
        let Ok(pointer) = serde_json::from_str::<SessionPointer>(&text) else {
            return Ok(());
        };
        let endpoints = Endpoints::parse(&options.server)?;
        if pointer.server != endpoints.http {
            return Ok(());
        }
        let session = Session::resume(
            self.inner.http.clone(),
            endpoints,
            pointer.user,
            pointer.account_dir,
            pointer.stored_in,
        )
        .await?;
        self.start(session).await
    }

    /// Signs in and starts syncing.
    pub async fn login(&self, email: &str, password: &str) -> Result<UserProfile> {
        self.relock().await?;
        let options = &self.inner.options;
        let endpoints = Endpoints::parse(&options.server)?;
        let accounts = options.data_dir.join("accounts");
        let (session, stored_in) = Session::login(
            self.inner.http.clone(),
            endpoints,
            email,
            password,
            &accounts,
            options.credentials,
        )
        .await?;
        let pointer = SessionPointer {
            server: session.endpoints.http.clone(),
            user: session.user.clone(),
            account_dir: session.account_dir.clone(),
            stored_in,
        };
        let json =
            serde_json::to_vec_pretty(&pointer).map_err(|e| ClientError::Config(e.to_string()))?;
        // Atomic and durable: a crash mid-write must not leave a pointer that cannot be read.
        let path = options.data_dir.join(SESSION_FILE);
        tokio::task::spawn_blocking(move || credentials::write_private(&path, &json)).await??;
        let user = session.user.clone();
        self.stop().await;
        self.start(session).await?;
        Ok(user)
    }

    async fn start(&self, session: Session) -> Result<()> {
        let cache = Cache::open(&session.account_dir.join("cache.db"))?;
        let ws_connector = options::ws_connector(self.inner.options.extra_ca.as_deref())?;
        let (frames_tx, frames_rx) = mpsc::channel(256);
        let account = Arc::new(Account {
            session,
            cache,
            live: live::LiveState::default(),
            events: self.inner.events.clone(),
            outbox_wake: tokio::sync::Notify::new(),
            network_wake: tokio::sync::Notify::new(),
            frames: frames_tx,
            connected: AtomicBool::new(false),
            online: AtomicBool::new(false),
            state: std::sync::Mutex::new(tutorchat_shared::app::ConnectionState::Offline),
            ws_connector,
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let engine = (!account.session.has_ended())
            .then(|| tokio::spawn(engine::run(account.clone(), frames_rx, shutdown_rx)));
        *self.inner.account.lock().await = Some(Running {
            account,
            shutdown,
            engine,
        });
        Ok(())
    }

    /// Stops syncing (the session stays stored).
    async fn stop(&self) {
        let running = self.inner.account.lock().await.take();
        if let Some(running) = running {
            let _ = running.shutdown.send(true);
            if let Some(engine) = running.engine {
                let _ = engine.await;
            }
        }
    }

    /// Shuts the engine down cleanly (closing the socket) and lets go of the data directory;
    /// the session stays for next time.
    pub async fn close(&self) {
        self.stop().await;
        self.lock_slot().take();
    }

    /// Signs out on the server, forgets the stored token, and deletes this account's cache.
    /// Refused while messages wait in the outbox, unless `force`.
    pub async fn logout(&self, force: bool) -> Result<()> {
        let account = self.account().await?;
        if !force {
            let me = account.session.user.id.clone();
            let waiting = account.cache.call(move |c| outbox::all(c, &me)).await?;
            if !waiting.is_empty() {
                return Err(ClientError::Config(format!(
                    "{} message(s) are still in the outbox; send, discard or force",
                    waiting.len()
                )));
            }
        }
        self.stop().await;
        account.session.logout().await;
        let dir = account.session.account_dir.clone();
        drop(account);
        let _ = std::fs::remove_file(self.inner.options.data_dir.join(SESSION_FILE));
        let _ = std::fs::remove_dir_all(dir);
        // Nothing of this client is left in the data directory: another process may use it.
        self.lock_slot().take();
        let _ = self.inner.events.send(AppEvent::SessionEnded {
            reason: SessionEndReason::SignedOut,
        });
        Ok(())
    }

    /// The signed-in user, if any (not once the session has ended).
    pub async fn me(&self) -> Option<UserProfile> {
        match self.session_status().await {
            SessionStatus::SignedIn(user) => Some(user),
            SessionStatus::SignedOut | SessionStatus::Ended(_) => None,
        }
    }

    /// Signed in, signed out, or ended by the server (sign in again; the cache stays usable).
    pub async fn session_status(&self) -> SessionStatus {
        match self.inner.account.lock().await.as_ref() {
            None => SessionStatus::SignedOut,
            Some(r) if r.account.session.has_ended() => {
                SessionStatus::Ended(r.account.session.user.clone())
            }
            Some(r) => SessionStatus::SignedIn(r.account.session.user.clone()),
        }
    }

    /// The one event stream. A receiver that lags should re-read the chat list and page.
    pub fn events(&self) -> broadcast::Receiver<AppEvent> {
        self.inner.events.subscribe()
    }

    /// The link to the server as last announced (`Offline` when signed out).
    pub async fn connection_state(&self) -> tutorchat_shared::app::ConnectionState {
        match self.account().await {
            Ok(account) => *account.state.lock().unwrap_or_else(|p| p.into_inner()),
            Err(_) => tutorchat_shared::app::ConnectionState::Offline,
        }
    }

    /// Connected to the server right now.
    pub async fn is_connected(&self) -> bool {
        match self.account().await {
            Ok(account) => account.is_connected(),
            Err(_) => false,
        }
    }

    /// The network is back (or the app came to the foreground): reconnect now, not after the
    /// current backoff.
    pub async fn network_changed(&self) {
        if let Ok(account) = self.account().await {
            account.network_wake.notify_one();
        }
    }

    async fn account(&self) -> Result<Arc<Account>> {
        self.inner
            .account
            .lock()
            .await
            .as_ref()
            .map(|r| r.account.clone())
            .ok_or(ClientError::NotSignedIn)
    }

    /// The chat list from the cache, with presence and typing.
    pub async fn chats(&self) -> Result<Vec<ChatItem>> {
        let account = self.account().await?;
        let me = account.session.user.id.clone();
        let me2 = me.clone();
        let mut items = account.cache.call(move |c| chats::list(c, &me2)).await?;
        for item in &mut items {
            item.peer.online = account.live.is_online(&item.peer.id);
            item.peer_typing = account.live.someone_typing(item.id, &me);
        }
        Ok(items)
    }

    /// Total unread messages over all chats.
    pub async fn unread_total(&self) -> Result<u64> {
        if self.inner.account.lock().await.is_none() {
            return Ok(0);
        }
        let account = self.account().await?;
        account.cache.call(|c| chats::total_unread(c)).await
    }

    /// A page of a chat: the newest (with the outbox's pending and failed messages after the
    /// stored ones) or the one before `before_seq`. Served from the cache; older history the
    /// cache lacks is fetched from the server into it, if the server is reachable.
    pub async fn messages(
        &self,
        chat: ChatId,
        before_seq: Option<u64>,
        limit: u32,
    ) -> Result<ChatPage> {
        let account = self.account().await?;
        let limit = limit.clamp(1, 500);
        let (synced, from) = account
            .cache
            .call(move |c| messages::run_bounds(c, chat))
            .await?;
        if synced == 0 {
            // Nothing of this chat here yet: its newest page comes from the server.
            if let Err(e) = fetch_newest(&account, chat, limit).await {
                tracing::debug!(error = %e, "could not fetch the newest page");
            }
        } else {
            let top = before_seq.map_or(synced, |b| b.saturating_sub(1).min(synced));
            let wanted_from = top.saturating_sub(u64::from(limit) - 1).max(1);
            if from > wanted_from {
                if let Err(e) = fetch_older(&account, chat, from, from - wanted_from).await {
                    tracing::debug!(error = %e, "could not fetch older history");
                }
            }
        }
        let me = account.session.user.id.clone();
        account
            .cache
            .call(move |c| {
                let mut page = messages::page(c, chat, before_seq, limit, &me)?;
                let lowest = page.first().and_then(|m| m.seq);
                let has_more_before = lowest.is_some_and(|s| s > 1);
                if before_seq.is_none() {
                    page.extend(outbox::in_chat(c, chat, &me)?);
                }
                Ok(ChatPage {
                    chat_id: chat,
                    messages: page,
                    has_more_before,
                })
            })
            .await
    }

    /// Writes a message to the outbox (durably) and returns its local echo at once; the
    /// engine delivers it when connected. Bad input is refused here and nothing is written.
    pub async fn send(
        &self,
        chat: ChatId,
        kind: MessageKind,
        content: &str,
    ) -> Result<LocalMessage> {
        validate_message(kind, content, &Limits::default())?;
        let account = self.account().await?;
        let me = account.session.user.id.clone();
        let client_id = ClientId::new(uuid::Uuid::new_v4().to_string());
        let content = content.to_owned();
        let local = account
            .cache
            .call(move |c| {
                if !chats::exists(c, chat)? {
                    return Err(ClientError::Config(format!(
                        "chat {chat} is not one of yours"
                    )));
                }
                // FULL for this write: the message must survive a crash right after `send`.
                c.pragma_update(None, "synchronous", "FULL")?;
                let local = outbox::enqueue(c, chat, &client_id, kind, &content, Utc::now(), &me);
                c.pragma_update(None, "synchronous", "NORMAL")?;
                local
            })
            .await?;
        account.emit(AppEvent::MessageUpserted {
            message: local.clone(),
        });
        account.emit(AppEvent::ChatsChanged);
        account.outbox_wake.notify_one();
        Ok(local)
    }

    /// Every outbox entry (pending and failed), oldest first.
    pub async fn outbox(&self) -> Result<Vec<LocalMessage>> {
        let account = self.account().await?;
        let me = account.session.user.id.clone();
        account.cache.call(move |c| outbox::all(c, &me)).await
    }

    /// Puts a failed message back in line.
    pub async fn retry(&self, client_id: &ClientId) -> Result<bool> {
        let account = self.account().await?;
        let (cid, me) = (client_id.clone(), account.session.user.id.clone());
        let message = account
            .cache
            .call(move |c| {
                let retried = outbox::retry(c, &cid)?;
                Ok(if retried {
                    outbox::get(c, &cid, &me)?
                } else {
                    None
                })
            })
            .await?;
        let Some(message) = message else {
            return Ok(false);
        };
        account.emit(AppEvent::MessageUpserted { message });
        account.outbox_wake.notify_one();
        Ok(true)
    }

    /// Drops an outbox entry. (One already on its way may still arrive; it then shows as sent.)
    pub async fn discard(&self, client_id: &ClientId) -> Result<bool> {
        let account = self.account().await?;
        let cid = client_id.clone();
        let chat = account.cache.call({
            let cid = cid.clone();
            move |c| outbox::chat_of(c, &cid)
        });
        let Some(chat_id) = chat.await? else {
            return Ok(false);
        };
        let removed = account.cache.call(move |c| outbox::remove(c, &cid)).await?;
        if removed {
            account.emit(AppEvent::MessageDiscarded {
                chat_id,
                client_id: client_id.clone(),
            });
            account.emit(AppEvent::ChatsChanged);
        }
        Ok(removed)
    }

    /// Marks a chat read up to `up_to_seq` here at once, and on the server (now, or when
    /// next connected), which clears the badge on the user's other devices.
    pub async fn mark_read(&self, chat: ChatId, up_to_seq: u64) -> Result<()> {
        let account = self.account().await?;
        let moved = account
            .cache
            .call(move |c| chats::read_locally(c, chat, up_to_seq))
            .await?;
        if !moved {
            return Ok(());
        }
        let (unread, total) = account.cache.call(move |c| chats::unread(c, chat)).await?;
        account.emit(AppEvent::UnreadChanged {
            chat_id: chat,
            unread,
            total,
        });
        let seq = account
            .cache
            .call(move |c| Ok(chats::pointers(c, chat)?.map_or(0, |(_, mine, _)| mine)))
            .await?;
        account.send_frame(ClientFrame::MarkRead {
            chat_id: chat,
            up_to_seq: seq,
        });
        Ok(())
    }

    /// This device views the chat (typing indicators come for it) or stops viewing it.
    pub async fn view_chat(&self, chat: ChatId, viewing: bool) -> Result<()> {
        let account = self.account().await?;
        let frame = if viewing {
            ClientFrame::JoinChat { chat_id: chat }
        } else {
            ClientFrame::LeaveChat { chat_id: chat }
        };
        account.send_frame(frame);
        Ok(())
    }

    /// Typing started or stopped (callers debounce; offline it is simply not sent).
    pub async fn typing(&self, chat: ChatId, typing: bool) -> Result<()> {
        let account = self.account().await?;
        let frame = if typing {
            ClientFrame::TypingStart { chat_id: chat }
        } else {
            ClientFrame::TypingStop { chat_id: chat }
        };
        account.send_frame(frame);
        Ok(())
    }

    pub async fn draft(&self, chat: ChatId) -> Result<Option<String>> {
        let account = self.account().await?;
        account
            .cache
            .call(move |c| cache::drafts::get(c, chat))
            .await
    }

    pub async fn set_draft(&self, chat: ChatId, text: &str) -> Result<()> {
        let account = self.account().await?;
        let text = text.to_owned();
        account
            .cache
            .call(move |c| cache::drafts::set(c, chat, &text, Utc::now()))
            .await
    }

    /// Cached history matching every word of `query`, newest first (works offline).
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<LocalMessage>> {
        let account = self.account().await?;
        let (query, me) = (query.to_owned(), account.session.user.id.clone());
        account
            .cache
            .call(move |c| messages::search(c, &query, limit, &me))
            .await
    }

    /// A student's tutors, by purchased course.
    pub async fn available_tutors(&self) -> Result<ContactsByCourse> {
        let account = self.account().await?;
        account
            .session
            .call(Method::GET, "/api/users/available-tutors", None::<&()>)
            .await
    }

    /// A tutor's students, by course (optionally one course).
    pub async fn students(&self, course: Option<&CourseId>) -> Result<ContactsByCourse> {
        let account = self.account().await?;
        let path = match course {
            Some(c) => format!("/api/tutors/students?course_id={}", urlencode(c.as_str())),
            None => "/api/tutors/students".to_owned(),
        };
        account.session.call(Method::GET, &path, None::<&()>).await
    }

    /// Opens (or finds) the chat with `with` in `course`. A course the student has not bought
    /// is refused with `not_enrolled` and the course id (see [`ClientError::api`]).
    pub async fn create_chat(&self, course: &CourseId, with: &UserId) -> Result<ChatItem> {
        let account = self.account().await?;
        let student = account.session.user.role == tutorchat_shared::Role::Student;
        let request = CreateChatRequest {
            course_id: course.clone(),
            tutor_id: student.then(|| with.clone()),
            student_id: (!student).then(|| with.clone()),
        };
        let created: CreateChatResponse = account
            .session
            .call(Method::POST, "/api/chats", Some(&request))
            .await?;
        let id = created.chat.id;
        account
            .live
            .set_online(&created.chat.peer.id, created.chat.peer.online);
        account
            .cache
            .call(move |c| chats::upsert_summary(c, &created.chat))
            .await?;
        account.emit(AppEvent::ChatsChanged);
        self.chats()
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| ClientError::Config("the new chat vanished".into()))
    }

    pub async fn block(&self, user: &UserId, blocked: bool) -> Result<BlockStatus> {
        let account = self.account().await?;
        let path = format!("/api/users/{}/block", urlencode(user.as_str()));
        let method = if blocked {
            Method::POST
        } else {
            Method::DELETE
        };
        account.session.call(method, &path, None::<&()>).await
    }

    /// The server this client talks to, as configured.
    pub fn server(&self) -> &str {
        self.inner.options.server.trim().trim_end_matches('/')
    }

    /// Where this client keeps its data.
    pub fn data_dir(&self) -> &Path {
        &self.inner.options.data_dir
    }
}

/// Fetches a chat's newest page and makes it the top of the cached run.
async fn fetch_newest(account: &Account, chat: ChatId, limit: u32) -> Result<()> {
    let path = format!(
        "/api/chats/{chat}/messages?limit={}",
        limit.min(SERVER_PAGE)
    );
    let page: MessagePage = account
        .session
        .call(Method::GET, &path, None::<&()>)
        .await?;
    let me = account.session.user.id.clone();
    account
        .cache
        .transaction(move |tx| {
            let stored: Vec<_> = page.messages.iter().map(|v| v.message.clone()).collect();
            messages::store(tx, chat, &stored, &me)?;
            if let (Some(first), Some(last)) = (stored.first(), stored.last()) {
                if !page.has_more_after {
                    messages::adopt_newest_page(tx, chat, first.seq, last.seq)?;
                }
            }
            for p in &page.read_pointers {
                chats::set_read(tx, chat, p.user_id == me, p.up_to_seq)?;
            }
            Ok(())
        })
        .await
}

/// Fetches up to `count` messages just below `from` and extends the cached run down to them.
async fn fetch_older(account: &Account, chat: ChatId, from: u64, count: u64) -> Result<()> {
    let limit = u32::try_from(count)
        .unwrap_or(SERVER_PAGE)
        .clamp(1, SERVER_PAGE);
    let path = format!("/api/chats/{chat}/messages?before_seq={from}&limit={limit}");
    let page: MessagePage = account
        .session
        .call(Method::GET, &path, None::<&()>)
        .await?;
    let me = account.session.user.id.clone();
    account
        .cache
        .transaction(move |tx| {
            let stored: Vec<_> = page.messages.iter().map(|v| v.message.clone()).collect();
            messages::store(tx, chat, &stored, &me)?;
            // The server's page is contiguous and ends right below `from`.
            if let Some(first) = stored.first() {
                if stored.last().is_some_and(|l| l.seq + 1 == from) {
                    messages::extend_history(tx, chat, first.seq)?;
                }
            }
            Ok(())
        })
        .await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Client {
    /// Waits until connected and caught up, or `timeout` passes. Returns whether it got there.
    pub async fn wait_online(&self, timeout: std::time::Duration) -> bool {
        let mut events = self.events();
        let deadline = tokio::time::Instant::now() + timeout;
        match self.account().await {
            Ok(account) if account.session.has_ended() => return false,
            Ok(account) if account.online.load(std::sync::atomic::Ordering::Relaxed) => {
                return true
            }
            Ok(_) | Err(_) => {}
        }
        loop {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Ok(AppEvent::Connection {
                    state: tutorchat_shared::app::ConnectionState::Online,
                })) => return true,
                Ok(Ok(AppEvent::SessionEnded { .. })) => return false,
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => return false,
            }
        }
    }
}
