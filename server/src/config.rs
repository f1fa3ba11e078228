//! The server's one configuration: every flag is also a `TUTORCHAT_*` environment variable,
//! and nothing else in the server reads the environment. `.env.sample` lists them all.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tutorchat_shared::Limits;

/// Command line: an optional subcommand over the shared [`Config`].
#[derive(Debug, Clone, Parser)]
#[command(
    name = "tutorchat-server",
    version,
    about = "Tutorchat's companion server",
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Every flag is global, so it may come before or after the subcommand
    /// (`tutorchat-server import FILE --data-dir DIR`).
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the REST API and WebSocket (the default).
    Serve,
    /// Apply a provisioning file (users, courses with tutors, enrollments) to the data
    /// directory, all or nothing, then exit.
    Import {
        /// JSON file shaped like the body of `POST /api/admin/import`.
        file: PathBuf,
    },
    /// Move a single-node installation (its data directory's SQLite database) into an empty
    /// PostgreSQL database, all or nothing, and print what arrived (rows per table, each
    /// chat's last seq checked), uploaded files included.
    Migrate {
        /// The data directory of the installation to move.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database to move it into (`postgres://…`); it must be empty.
        #[arg(long)]
        to: String,
    },
}

/// Everything an operator can set.
#[derive(Debug, Clone, Parser)]
#[command(name = "tutorchat-server", args_override_self = true)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port; the chosen one is printed).
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: SocketAddr,

    /// Directory holding the database (created if missing).
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_DATA_DIR",
        default_value = "./data"
    )]
    pub data_dir: PathBuf,

    /// Where the data lives: `sqlite` (the default: a file in the data directory) or a
    /// PostgreSQL URL (`postgres://user@host:5432/db`), which several nodes may share. With
    /// PostgreSQL the data directory still holds the JWT secret (if generated) and uploads.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_DATABASE",
        default_value = "sqlite",
        hide_env_values = true
    )]
    pub database: String,

    /// Most PostgreSQL connections this node keeps open for reads and writes (sends have one
    /// more of their own).
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_DATABASE_POOL",
        default_value_t = 16
    )]
    pub database_pool: usize,

    /// The bus that joins this node to the others sharing its PostgreSQL database
    /// (`redis://host:6379`). Without it the node is alone.
    #[arg(long, global = true, env = "TUTORCHAT_BUS", hide_env_values = true)]
    pub bus: Option<String>,

    /// Seed an empty database with the demo school and print the demo logins.
    #[arg(long, global = true, env = "TUTORCHAT_DEMO")]
    pub demo: bool,

    /// HS256 secret for access tokens, shared with the course platform for single sign-on.
    /// Without it the server generates one and keeps it in the data directory.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_JWT_SECRET",
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,

    /// Service token for the course platform's provisioning endpoints (`/api/admin/*`).
    /// Without it only admin users' tokens reach them.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,

    /// Lifetime of an access token, in seconds.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 900
    )]
    pub access_token_ttl_secs: u64,

    /// Lifetime of a refresh token, in seconds (30 days by default).
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_REFRESH_TOKEN_TTL_SECS",
        default_value_t = 2_592_000
    )]
    pub refresh_token_ttl_secs: u64,

    /// Longest text message, in characters.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_MAX_MESSAGE_CHARS",
        default_value_t = 4000
    )]
    pub max_message_chars: usize,

    /// Longest attachment URL of an image or file message, in characters.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_MAX_URL_CHARS",
        default_value_t = 2048
    )]
    pub max_url_chars: usize,

    /// Chats with no activity for this many days move to each member's "Archived" section by
    /// themselves (0: never). Published to clients in `/api/config`.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_ARCHIVE_AFTER_DAYS",
        default_value_t = 90
    )]
    pub archive_after_days: u32,

    /// Largest REST request body, in bytes (provisioning imports go up to 64 times this).
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_MAX_BODY_BYTES",
        default_value_t = 65_536
    )]
    pub max_body_bytes: usize,

    /// Largest upload (an image or a file), in bytes.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_MAX_UPLOAD_BYTES",
        default_value_t = 25 * 1024 * 1024
    )]
    pub max_upload_bytes: u64,

    /// Bytes of uploads one user may keep (sent or not).
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_UPLOAD_QUOTA_BYTES",
        default_value_t = 1024 * 1024 * 1024
    )]
    pub upload_quota_bytes: u64,

    /// Media types taken as uploads, found from the content (never the name). Of these,
    /// image/png, image/jpeg, image/gif and image/webp are shown inline as images.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_UPLOAD_TYPES",
        value_delimiter = ',',
        default_value = crate::attachments::DEFAULT_TYPES
    )]
    pub upload_types: Vec<String>,

    /// Images over this many pixels are refused before they are decoded (8K UHD by default).
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_MAX_IMAGE_PIXELS",
        default_value_t = 7680 * 4320
    )]
    pub max_image_pixels: u64,

    /// Threads that decode and re-encode images at once (each may hold one decoded image).
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_IMAGE_WORKERS",
        default_value_t = 1
    )]
    pub image_workers: usize,

    /// An upload no message carries is removed this long after it started.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_UNSENT_UPLOAD_TTL_SECS",
        default_value_t = 24 * 60 * 60
    )]
    pub unsent_upload_ttl_secs: u64,

    /// History page size when the client names none.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_PAGE_DEFAULT",
        default_value_t = 50
    )]
    pub page_default: u32,

    /// Largest history page a client may ask for.
    #[arg(long, global = true, env = "TUTORCHAT_PAGE_MAX", default_value_t = 200)]
    pub page_max: u32,

    /// Login attempts per minute from one address.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_LOGIN_RATE_PER_MINUTE",
        default_value_t = 10
    )]
    pub login_rate_per_minute: u32,

    /// Threads that hash and verify passwords. Each holds ~19 MiB of argon2 memory for the
    /// life of the process; logins beyond what they and the queue can take are refused.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_PASSWORD_WORKERS",
        default_value_t = 2
    )]
    pub password_workers: usize,

    /// Password checks waiting for a worker before further logins are refused (429).
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_PASSWORD_QUEUE",
        default_value_t = 16
    )]
    pub password_queue: usize,

    /// Refreshes and sign-outs per minute from one address.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_REFRESH_RATE_PER_MINUTE",
        default_value_t = 60
    )]
    pub refresh_rate_per_minute: u32,

    /// Seconds after a refresh token was spent during which presenting it again returns the
    /// same successor (a client that crashed before saving the answer) instead of counting
    /// as theft and revoking the session.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_REFRESH_REUSE_GRACE_SECS",
        default_value_t = 30
    )]
    pub refresh_reuse_grace_secs: u64,

    /// Longest remaining lifetime accepted on an access token, in seconds (tokens the platform
    /// mints for single sign-on included). Never less than the access-token lifetime.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_MAX_TOKEN_LIFETIME_SECS",
        default_value_t = 3600
    )]
    pub max_token_lifetime_secs: u64,

    /// Open WebSockets one user may hold at once (devices); 0 for no limit.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_MAX_CONNECTIONS_PER_USER",
        default_value_t = 20
    )]
    pub max_connections_per_user: usize,

    /// Open TCP connections (HTTP and WebSocket) one client address may hold; 0 for no limit.
    /// Not applied with --trust-forwarded-for: behind a proxy every peer is the proxy.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_MAX_CONNECTIONS_PER_IP",
        default_value_t = 256
    )]
    pub max_connections_per_ip: usize,

    /// Seconds a client has to send a request's headers (also how long an idle keep-alive
    /// connection is kept).
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_HEADER_READ_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub header_read_timeout_secs: u64,

    /// Seconds a REST request (its body included) may take before it is answered 408.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_REQUEST_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub request_timeout_secs: u64,

    /// Most headers a request may carry.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_MAX_HEADERS",
        default_value_t = 64
    )]
    pub max_headers: usize,

    /// Sustained REST requests per second per user.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_API_RATE_PER_SECOND",
        default_value_t = 20
    )]
    pub api_rate_per_second: u32,

    /// REST requests a user may burst above the sustained rate.
    #[arg(long, global = true, env = "TUTORCHAT_API_BURST", default_value_t = 60)]
    pub api_burst: u32,

    /// Sustained messages per second per user.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_MESSAGE_RATE_PER_SECOND",
        default_value_t = 5
    )]
    pub message_rate_per_second: u32,

    /// Messages a user may burst above the sustained rate.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_MESSAGE_BURST",
        default_value_t = 30
    )]
    pub message_burst: u32,

    /// Microseconds the SQLite writer waits, while sends arrive together (its last commit held
    /// more than one), for more of them to share one durable sync; a lone send never waits.
    /// Trades up to this much latency for less CPU per message under load. 0: never waits;
    /// at most 100000 (0.1 s: past that every send under load would wait visibly).
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_COMMIT_LINGER_US",
        default_value_t = 2000,
        value_parser = clap::value_parser!(u64).range(0..=100_000)
    )]
    pub commit_linger_us: u64,

    /// Milliseconds committed messages may wait for the CPU before reaching a recipient's
    /// socket (the mean over 100 ms); over it for a second, a growing share of
    /// new messages is refused at once (`rate_limited`, retry in 1 s) instead of waiting in
    /// line. 0 never refuses.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_SHED_DELAY_MS",
        default_value_t = 50
    )]
    pub shed_delay_ms: u64,

    /// PEM certificate chain: with --tls-key, serve HTTPS (and WSS) directly.
    #[arg(long, global = true, env = "TUTORCHAT_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(long, global = true, env = "TUTORCHAT_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    #[arg(long, global = true, env = "TUTORCHAT_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Seconds open requests get to finish after SIGTERM/SIGINT.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_SHUTDOWN_GRACE_SECS",
        default_value_t = 10
    )]
    pub shutdown_grace_secs: u64,

    /// Largest WebSocket frame answered with an error rather than processed, in bytes.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_WS_MAX_FRAME_BYTES",
        default_value_t = 65_536
    )]
    pub ws_max_frame_bytes: usize,

    /// Frames a connection's outgoing queue holds before the connection counts as too slow
    /// and is closed (it reconnects and syncs).
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_WS_QUEUE_FRAMES",
        default_value_t = 1024
    )]
    pub ws_queue_frames: usize,

    /// Initial read buffer of a WebSocket, in bytes (it grows for larger frames). Small keeps
    /// idle connections cheap.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_WS_READ_BUFFER_BYTES",
        default_value_t = 128
    )]
    pub ws_read_buffer_bytes: usize,

    /// Seconds a connection without an `Authorization` header has to send its `auth` frame.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_WS_AUTH_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub ws_auth_timeout_secs: u64,

    /// Sustained frames per second one connection may send.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_WS_FRAME_RATE_PER_SECOND",
        default_value_t = 50
    )]
    pub ws_frame_rate_per_second: u32,

    /// Frames a connection may burst above the sustained rate.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_WS_FRAME_BURST",
        default_value_t = 200
    )]
    pub ws_frame_burst: u32,

    /// Messages per `sync_batch` frame.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_SYNC_BATCH",
        default_value_t = 500
    )]
    pub sync_batch: u32,

    /// Milliseconds a user stays online after their last connection closes.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_PRESENCE_GRACE_MS",
        default_value_t = 3000
    )]
    pub presence_grace_ms: u64,

    /// Milliseconds after which a typing indicator expires without a new `typing_start`.
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_TYPING_TTL_MS",
        default_value_t = 5000
    )]
    pub typing_ttl_ms: u64,

    /// Serve Prometheus metrics at `/metrics` on this separate address (e.g. 127.0.0.1:9090).
    /// Without it, `/metrics` is served on the main address to the admin token only.
    #[arg(long, global = true, env = "TUTORCHAT_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Log format: `text` (for people) or `json` (one object per line, for collectors).
    #[arg(
        long,
        global = true,
        env = "TUTORCHAT_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,

    /// Log filter (tracing's EnvFilter syntax), e.g. `info` or `tutorchat_server=debug`.
    #[arg(long, global = true, env = "TUTORCHAT_LOG", default_value = "info")]
    pub log: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// Content limits as the shared validation rules take them.
    pub fn limits(&self) -> Limits {
        Limits {
            max_text_chars: self.max_message_chars,
            max_url_chars: self.max_url_chars,
        }
    }

    /// What clients may upload, as `GET /api/config` publishes it.
    pub fn upload_limits(&self) -> tutorchat_shared::api::UploadLimits {
        tutorchat_shared::api::UploadLimits {
            max_bytes: self.max_upload_bytes,
            quota_bytes: self.upload_quota_bytes,
            image_types: crate::attachments::IMAGE_TYPES
                .iter()
                .filter(|t| self.upload_types.iter().any(|u| u == *t))
                .map(|t| (*t).to_owned())
                .collect(),
            allowed_types: self.upload_types.clone(),
            max_image_pixels: self.max_image_pixels,
        }
    }

    pub fn unsent_upload_ttl(&self) -> Duration {
        Duration::from_secs(self.unsent_upload_ttl_secs)
    }

    pub fn access_token_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_ttl_secs)
    }

    pub fn refresh_token_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_token_ttl_secs)
    }

    pub fn presence_grace(&self) -> Duration {
        Duration::from_millis(self.presence_grace_ms)
    }

    pub fn typing_ttl(&self) -> Duration {
        Duration::from_millis(self.typing_ttl_ms)
    }

    pub fn refresh_reuse_grace(&self) -> Duration {
        Duration::from_secs(self.refresh_reuse_grace_secs)
    }

    /// The longest remaining lifetime an access token may have.
    pub fn max_token_lifetime(&self) -> Duration {
        Duration::from_secs(self.max_token_lifetime_secs.max(self.access_token_ttl_secs))
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs.max(1))
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn flags_may_follow_the_subcommand() {
        let args = [
            "tutorchat-server",
            "import",
            "batch.json",
            "--data-dir",
            "d",
        ];
        let cli = Cli::try_parse_from(args).expect("flags after the subcommand parse");
        let file = match cli.command {
            Some(Command::Import { file }) => file,
            other => panic!("expected import, got {other:?}"),
        };
        assert_eq!(file, PathBuf::from("batch.json"));
        assert_eq!(cli.config.data_dir, PathBuf::from("d"));
        let cli = Cli::try_parse_from(["tutorchat-server", "--data-dir", "d", "import", "b.json"])
            .expect("flags before the subcommand parse");
        assert_eq!(cli.config.data_dir, PathBuf::from("d"));
        let cli = Cli::try_parse_from(["tutorchat-server"]).expect("defaults parse");
        assert!(cli.command.is_none());
        assert_eq!(cli.config.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn a_commit_linger_over_a_tenth_of_a_second_is_refused() {
        let parse = |value: &str| {
            Cli::try_parse_from(["tutorchat-server", "--commit-linger-us", value])
                .map(|cli| cli.config.commit_linger_us)
        };
        assert_eq!(parse("0").expect("off"), 0);
        assert_eq!(parse("100000").expect("the most"), 100_000);
        let refused = parse("100001").expect_err("too long");
        assert!(refused.to_string().contains("100000"), "{refused}");
        let cli = Cli::try_parse_from(["tutorchat-server"]).expect("defaults parse");
        assert_eq!(cli.config.commit_linger_us, 2000);
    }
}
