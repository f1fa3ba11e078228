//! The session lifecycle: opening the client (taking the data directory's lock and resuming a
//! kept session), signing in and out, closing, and where the session and the connection stand.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, watch, Mutex};
use tutorchat_shared::api::UserProfile;
use tutorchat_shared::app::{AppEvent, ConnectionState, SessionEndReason};

use crate::account::Account;
use crate::cache::{outbox, Cache};
use crate::credentials::{self, StoredIn};
use crate::error::{ClientError, Result};
use crate::lock::DataDirLock;
use crate::options::{self, ClientOptions, Endpoints};
use crate::session::Session;
use crate::{engine, live, Client, Inner, Running, EVENT_BUFFER};

const SESSION_FILE: &str = "session.json";

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
        let json = serde_json::to_vec_pretty(&pointer)?;
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
            transfers_wake: tokio::sync::Notify::new(),
            network_wake: tokio::sync::Notify::new(),
            frames: frames_tx,
            connected: AtomicBool::new(false),
            online: AtomicBool::new(false),
            state: std::sync::Mutex::new(ConnectionState::Offline),
            viewing: std::sync::Mutex::new(None),
            ws_connector,
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let live = !account.session.has_ended();
        let transfers = live.then(|| {
            tokio::spawn(engine::transfers::run(
                account.clone(),
                self.inner.options.file_cache_bytes,
                shutdown_rx.clone(),
            ))
        });
        let engine =
            live.then(|| tokio::spawn(engine::run(account.clone(), frames_rx, shutdown_rx)));
        *self.inner.account.lock().await = Some(Running {
            account,
            shutdown,
            engine,
            transfers,
        });
        Ok(())
    }

    /// Stops syncing (the session stays stored).
    async fn stop(&self) {
        let running = self.inner.account.lock().await.take();
        if let Some(running) = running {
            let _ = running.shutdown.send(true);
            for task in [running.engine, running.transfers].into_iter().flatten() {
                let _ = task.await;
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
                return Err(ClientError::OutboxNotEmpty(waiting.len()));
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

    /// The link to the server as last announced (`Offline` when signed out).
    pub async fn connection_state(&self) -> ConnectionState {
        match self.account().await {
            Ok(account) => *account.state.lock().unwrap_or_else(|p| p.into_inner()),
            Err(_) => ConnectionState::Offline,
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

    /// Waits until connected and caught up, or `timeout` passes. Returns whether it got there.
    pub async fn wait_online(&self, timeout: std::time::Duration) -> bool {
        let mut events = self.events();
        let deadline = tokio::time::Instant::now() + timeout;
        match self.account().await {
            Ok(account) if account.session.has_ended() => return false,
            Ok(account) if account.online.load(Ordering::Relaxed) => return true,
            Ok(_) | Err(_) => {}
        }
        loop {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Ok(AppEvent::Connection {
                    state: ConnectionState::Online,
                })) => return true,
                Ok(Ok(AppEvent::SessionEnded { .. })) => return false,
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => return false,
            }
        }
    }
}
