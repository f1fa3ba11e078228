//! The shared application state: one cheap-to-clone handle passed to every handler and
//! service (axum `State`), never a global.

use std::ops::Deref;
use std::sync::Arc;

use tutorchat_shared::{Limits, UserId};

use crate::auth::tokens::TokenKeys;
use crate::config::Config;
use crate::presence::Presence;
use crate::rate_limit::RateLimiter;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub tokens: TokenKeys,
    pub limits: Limits,
    pub presence: Presence,
    pub rate: RateLimits,
}

/// One limiter per kind of traffic, each configured separately.
#[derive(Debug)]
pub struct RateLimits {
    /// Login attempts per client address.
    pub login: RateLimiter<String>,
    /// Authenticated REST requests per user.
    pub api: RateLimiter<UserId>,
    /// Messages sent per user, over REST and WebSocket alike.
    pub messages: RateLimiter<UserId>,
}

impl AppState {
    pub fn new(config: Config, store: Arc<dyn Store>, jwt_secret: &[u8]) -> Self {
        let tokens =
            TokenKeys::new(jwt_secret, config.access_token_ttl(), config.refresh_token_ttl());
        let rate = RateLimits {
            login: RateLimiter::new(
                f64::from(config.login_rate_per_minute) / 60.0,
                config.login_rate_per_minute,
            ),
            api: RateLimiter::new(f64::from(config.api_rate_per_second), config.api_burst),
            messages: RateLimiter::new(
                f64::from(config.message_rate_per_second),
                config.message_burst,
            ),
        };
        AppState(Arc::new(Inner {
            limits: config.limits(),
            config,
            store,
            tokens,
            presence: Presence::default(),
            rate,
        }))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
