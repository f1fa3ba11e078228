//! The shared application state: one cheap-to-clone handle passed to every handler and
//! service (axum `State`), never a global.

use std::ops::Deref;
use std::sync::Arc;

use tutorchat_shared::{ChatId, Limits, UserId};

use crate::attachments::Uploads;
use crate::auth::password::PasswordHasher;
use crate::auth::sessions::RevokedSessions;
use crate::auth::tokens::TokenKeys;
use crate::cluster::Cluster;
use crate::config::Config;
use crate::live::Hub;
use crate::locks::lock;
use crate::metrics::Metrics;
use crate::overload::Overload;
use crate::rate_limit::RateLimiter;
use crate::store::{ChatRecord, Store};

#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub tokens: TokenKeys,
    /// The argon2 workers: every password check and hash goes through them.
    pub passwords: PasswordHasher,
    /// Signed-out sessions whose access tokens are still unexpired.
    pub revoked: RevokedSessions,
    pub limits: Limits,
    /// Live connections, presence, typing, and the fan-out to them.
    pub hub: Arc<Hub>,
    pub rate: RateLimits,
    pub metrics: Arc<Metrics>,
    pub chats: ChatCache,
    /// The CPU's standing queue, and whether sends are shed.
    pub overload: Arc<Overload>,
    /// Partial uploads, blob storage and the image workers.
    pub uploads: Arc<Uploads>,
    /// This node's place among several (with `--bus`).
    pub cluster: std::sync::OnceLock<Arc<Cluster>>,
}

/// Chats by id. A chat's course and members never change, so a cached record is never
/// stale; the cache spares every send and typing frame a database read.
#[derive(Debug, Default)]
pub struct ChatCache {
    /// A std mutex: held only for a lookup or insert.
    chats: std::sync::Mutex<std::collections::HashMap<ChatId, ChatRecord>>,
}

/// Access-denied audit rows one user may cause per minute; the rest are counted in metrics.
const AUDIT_DENIALS_PER_MINUTE: f64 = 30.0;

/// Past this many chats the cache starts over (it refills on use).
const CHAT_CACHE_MAX: usize = 100_000;

impl ChatCache {
    pub fn get(&self, id: ChatId) -> Option<ChatRecord> {
        lock(&self.chats).get(&id).cloned()
    }

    pub fn insert(&self, chat: ChatRecord) {
        let mut chats = lock(&self.chats);
        if chats.len() >= CHAT_CACHE_MAX {
            chats.clear();
        }
        chats.insert(chat.id, chat);
    }
}

/// One limiter per kind of traffic, each configured separately.
#[derive(Debug)]
pub struct RateLimits {
    /// Login attempts per client address.
    pub login: RateLimiter<String>,
    /// Refreshes and sign-outs per client address.
    pub refresh: RateLimiter<String>,
    /// Access-denied audit rows per user: a flood of denials is counted, not written.
    pub audit_denials: RateLimiter<UserId>,
    /// Authenticated REST requests per user.
    pub api: RateLimiter<UserId>,
    /// Messages sent per user, over REST and WebSocket alike.
    pub messages: RateLimiter<UserId>,
}

impl AppState {
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        passwords: PasswordHasher,
        metrics: Arc<Metrics>,
        uploads: Uploads,
        jwt_secret: &[u8],
    ) -> Self {
        let tokens = TokenKeys::new(
            jwt_secret,
            config.access_token_ttl(),
            config.refresh_token_ttl(),
        );
        let rate = RateLimits {
            login: RateLimiter::new(
                f64::from(config.login_rate_per_minute) / 60.0,
                config.login_rate_per_minute,
            ),
            refresh: RateLimiter::new(
                f64::from(config.refresh_rate_per_minute) / 60.0,
                config.refresh_rate_per_minute,
            ),
            audit_denials: RateLimiter::new(
                AUDIT_DENIALS_PER_MINUTE / 60.0,
                AUDIT_DENIALS_PER_MINUTE as u32,
            ),
            api: RateLimiter::new(f64::from(config.api_rate_per_second), config.api_burst),
            messages: RateLimiter::new(
                f64::from(config.message_rate_per_second),
                config.message_burst,
            ),
        };
        let hub = Arc::new(Hub::new(config.ws_queue_frames));
        let overload = Overload::new(std::time::Duration::from_millis(config.shed_delay_ms));
        AppState(Arc::new(Inner {
            limits: config.limits(),
            config,
            store,
            tokens,
            passwords,
            revoked: RevokedSessions::default(),
            hub,
            rate,
            metrics,
            chats: ChatCache::default(),
            overload,
            uploads: Arc::new(uploads),
            cluster: std::sync::OnceLock::new(),
        }))
    }

    /// A handle that does not keep the state alive (for background tasks that end with it).
    pub fn downgrade(&self) -> std::sync::Weak<Inner> {
        Arc::downgrade(&self.0)
    }

    pub fn upgrade(weak: &std::sync::Weak<Inner>) -> Option<AppState> {
        weak.upgrade().map(AppState)
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
