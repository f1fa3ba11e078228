//! Tutorchat's companion server.
//!
//! The source of truth for every chat between the students and tutors of a course platform:
//! storage, identity, the course-enrollment gate and the REST API (the live WebSocket layer
//! builds on the same services). `main.rs` is a thin shell over [`Server`].
//!
//! Map, from the edge inwards:
//! - [`http`]: axum routers, one per resource, and the OpenAPI document. Handlers translate
//!   and delegate; they hold no rules.
//! - [`auth`]: passwords, tokens and the extractors that name the caller.
//! - [`service`]: the rules — who may open, read and write which chat.
//! - [`store`]: the `Store` trait and its SQLite backend (group-committing writer thread).
//! - [`ws`]: the WebSocket transport: upgrade, authentication, one task per connection.
//! - [`live`]: connections, presence, typing and the fan-out of live events.
//! - [`cluster`]: several nodes on one database — the bus between them (Redis), presence
//!   across nodes, and gaps the bus leaves filled from the database.
//! - [`attachments`]: partial uploads, content sniffing, the image pipeline, blob storage.
//! - [`net`]: the listener: per-address connection caps, header and request timeouts.
//! - [`overload`]: how long deliveries wait for the CPU; past a threshold a share of new sends
//!   is refused at once.
//! - [`metrics`]: Prometheus counters, gauges and histograms (`/metrics`).
//! - [`state`], [`rate_limit`], [`config`], [`error`]: shared plumbing.
//! - [`demo`]: the demo school that `--demo` seeds.

pub mod attachments;
pub mod auth;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod error;
pub mod http;
pub mod live;
mod locks;
pub mod metrics;
pub mod net;
pub mod overload;
pub mod rate_limit;
pub mod service;
pub mod state;
pub mod store;
pub mod ws;

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use tokio::task::JoinHandle;

use crate::auth::password::PasswordHasher;
pub use crate::config::{Cli, Command, Config};
use crate::state::AppState;
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::StoreError;

/// hyper's side of the defences: how long a client may take to send its headers (a
/// keep-alive connection waiting for its next request counts too), and how many headers it
/// may send — above what the router answers itself, so a request with too many headers gets
/// our JSON `headers_too_large` rather than an empty 431.
fn configure_http(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    config: &Config,
) {
    let mut http1 = builder.http1();
    http1
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(config.header_read_timeout())
        .max_headers(config.max_headers.saturating_mul(4).max(100));
    let mut http2 = builder.http2();
    http2
        .timer(hyper_util::rt::TokioTimer::new())
        .keep_alive_interval(config.header_read_timeout())
        .keep_alive_timeout(config.header_read_timeout());
}

/// Sessions signed out before a restart whose access tokens may not have expired yet.
async fn restore_revoked_sessions(state: &AppState) -> Result<(), StartError> {
    let ttl = state.tokens.access_ttl();
    let now = chrono::Utc::now();
    for family in state.store.revoked_families_since(now - ttl).await? {
        state.revoked.revoke(&family, now + ttl);
    }
    Ok(())
}

/// The store `--database` names: the SQLite file in the data directory, or PostgreSQL.
pub async fn open_store(config: &Config) -> Result<Arc<dyn store::Store>, StoreError> {
    Ok(open_backend(config).await?.store)
}

/// What `--database` opens: the store, where finished uploads live when not in the data
/// directory, and (PostgreSQL) the installation's id that names the cluster's channel.
struct Backend {
    store: Arc<dyn store::Store>,
    blobs: Option<Arc<dyn attachments::Blobs>>,
    installation: Option<String>,
}

async fn open_backend(config: &Config) -> Result<Backend, StoreError> {
    if config.database == "sqlite" {
        return Ok(Backend {
            store: Arc::new(SqliteStore::open_with_linger(
                &config.data_dir,
                std::time::Duration::from_micros(config.commit_linger_us),
            )?),
            blobs: None,
            installation: None,
        });
    }
    if config.database.starts_with("postgres://") || config.database.starts_with("postgresql://") {
        let store = PgStore::connect(&config.database, config.database_pool).await?;
        let installation = Some(store.installation().await?);
        let blobs: Arc<dyn attachments::Blobs> = Arc::new(store.blobs());
        return Ok(Backend {
            store: Arc::new(store),
            blobs: Some(blobs),
            installation,
        });
    }
    Err(StoreError::Unsupported(
        "--database takes `sqlite` or a postgres:// URL".into(),
    ))
}

/// The file in the data directory that keeps a generated JWT secret.
const JWT_SECRET_FILE: &str = "jwt-secret";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen: {0}")]
    Io(#[from] io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("cluster: {0}")]
    Cluster(String),
    #[error("seeding the demo school: {0}")]
    Demo(#[from] error::Error),
}

/// A running server: its address, its state, and a way to stop it gracefully.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    tls: bool,
    state: AppState,
    handle: Handle,
    /// Per-address counts, and the signal that drops connections that never spoke.
    limits: Arc<net::ConnectionLimits>,
    task: JoinHandle<io::Result<()>>,
}

impl Server {
    /// Opens the store (seeding the demo school if asked and the store is empty), binds the
    /// listener and starts serving in the background.
    pub async fn start(mut config: Config) -> Result<Server, StartError> {
        let Backend {
            store,
            blobs,
            installation,
        } = open_backend(&config).await?;
        let secret = jwt_secret(&config)?;
        let passwords = PasswordHasher::start(config.password_workers, config.password_queue);
        if config.demo {
            demo::seed(store.as_ref(), &passwords).await?;
            if config.admin_token.is_none() {
                config.admin_token = Some(auth::tokens::new_refresh_token());
            }
        }
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(tls_config(cert, key).await?),
            _ => None,
        };
        let listener = std::net::TcpListener::bind(config.listen)?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let metrics_listener = match config.metrics_listen {
            Some(addr) => {
                let listener = std::net::TcpListener::bind(addr)?;
                listener.set_nonblocking(true)?;
                Some(listener)
            }
            None => None,
        };

        let metrics = Arc::new(metrics::Metrics::new());
        let observer = metrics.clone();
        store.observe_commits(Arc::new(move |jobs| observer.commit_batch(jobs)));
        let uploads = attachments::Uploads::open(&config, blobs)?;
        let state = AppState::new(config, store, passwords, metrics.clone(), uploads, &secret);
        restore_revoked_sessions(&state).await?;
        if let Some(url) = state.config.bus.clone() {
            if state.config.jwt_secret.is_none() {
                return Err(StartError::Cluster(
                    "--bus needs --jwt-secret, the same on every node (each would make its own)"
                        .into(),
                ));
            }
            let Some(installation) = installation else {
                return Err(StartError::Cluster(
                    "--bus joins nodes that share one database: use --database postgres://…".into(),
                ));
            };
            let channel = format!("tutorchat:{installation}:events");
            let cluster =
                cluster::Cluster::join(&state, &url, channel).map_err(StartError::Cluster)?;
            let _ = state.cluster.set(cluster);
        }
        state.overload.watch();
        state.hub.expire_tokens();
        service::uploads::sweep_periodically(&state);
        // Behind a trusted proxy every peer is the proxy: the per-address cap would be global.
        let per_address = if state.config.trust_forwarded_for {
            0
        } else {
            state.config.max_connections_per_ip
        };
        let limits = net::ConnectionLimits::new(per_address, metrics);
        let first_byte = state.config.header_read_timeout();
        let app = http::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let handle = Handle::new();
        let task = match tls.clone() {
            Some(tls) => {
                let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls)
                    .acceptor(net::LimitAcceptor::new(limits.clone(), first_byte));
                let mut server = axum_server::from_tcp(listener)
                    .acceptor(acceptor)
                    .handle(handle.clone());
                configure_http(server.http_builder(), &state.config);
                tokio::spawn(server.serve(app))
            }
            None => {
                let mut server = axum_server::from_tcp(listener)
                    .acceptor(net::LimitAcceptor::new(limits.clone(), first_byte))
                    .handle(handle.clone());
                configure_http(server.http_builder(), &state.config);
                tokio::spawn(server.serve(app))
            }
        };
        if let Some(listener) = metrics_listener {
            let addr = listener.local_addr()?;
            let app = http::metrics_router(state.clone()).into_make_service();
            let serve = axum_server::from_tcp(listener)
                .handle(handle.clone())
                .serve(app);
            tokio::spawn(async move {
                if let Err(e) = serve.await {
                    tracing::error!(error = %e, "metrics listener failed");
                }
            });
            tracing::info!(%addr, "metrics at /metrics");
        }
        tracing::info!(%local_addr, tls = tls.is_some(), "listening");
        Ok(Server {
            local_addr,
            tls: tls.is_some(),
            state,
            handle,
            limits,
            task,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://ADDR` or `https://ADDR`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting, lets open requests finish within the configured grace, and returns
    /// once the listener task has ended.
    pub async fn shutdown(self) -> io::Result<()> {
        // A connection still waiting for its first byte would hold the shutdown for the whole
        // header timeout (an HTTP client's spare pooled connection does exactly that).
        self.limits.close();
        self.handle
            .graceful_shutdown(Some(self.state.config.shutdown_grace()));
        // Upgraded WebSockets are no longer tracked by the HTTP server: close them ourselves.
        self.state.hub.close_all(live::CloseReason::ShuttingDown);
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(io::Error::other(e)),
        }
    }
}

/// The configured secret, or one generated once and kept (owner-only) in the data directory.
fn jwt_secret(config: &Config) -> Result<Vec<u8>, StartError> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.as_bytes().to_vec());
    }
    let path = config.data_dir.join(JWT_SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(secret) if !secret.trim().is_empty() => return Ok(secret.trim().as_bytes().to_vec()),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let secret = auth::tokens::new_refresh_token();
    write_private(&path, &secret)?;
    tracing::warn!(
        "no --jwt-secret given: generated one in the data directory; give the course platform \
         the same secret (TUTORCHAT_JWT_SECRET) for single sign-on"
    );
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

async fn tls_config(cert: &Path, key: &Path) -> Result<RustlsConfig, StartError> {
    // Both ring and (through dependencies) other providers may be compiled in: pick one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    RustlsConfig::from_pem_file(cert, key).await.map_err(|e| {
        StartError::Tls(format!(
            "reading {} and {}: {e}",
            cert.display(),
            key.display()
        ))
    })
}
