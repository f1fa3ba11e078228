//! Request extractors for who is calling: `CurrentUser`, `AdminCaller`, `ClientIp`.
//!
//! Handlers name the caller they need in their signature; a missing, forged, expired or
//! mismatched credential never reaches a handler.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use tutorchat_shared::{ErrorCode, Role, UserId};

use super::tokens::{constant_time_eq, TokenRejection};
use crate::error::Error;
use crate::rate_limit::retry_after_secs;
use crate::state::AppState;
use crate::store::UserRecord;

/// Clock skew allowed between the platform minting a token and this server.
const TOKEN_LIFETIME_LEEWAY_SECS: i64 = 60;

/// A signed-in user with a valid access token, checked against the store, within its rate
/// limit. Who is calling, no more: every WebSocket keeps one for as long as it is open, so the
/// profile (name, email) is read where it is needed (`GET /api/me`), not carried here.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub role: Role,
    /// When the access token expires (seconds since the epoch): a WebSocket session ends then.
    pub expires_at: i64,
    /// The sign-in session the token belongs to (none for platform-minted tokens); shared
    /// with the hub's entry for the connection.
    pub session: Option<Arc<str>>,
}

/// The course platform's service token, or a signed-in admin.
#[derive(Debug, Clone)]
pub enum AdminCaller {
    Service,
    Admin(UserId),
}

impl AdminCaller {
    pub fn actor(&self) -> Option<UserId> {
        match self {
            AdminCaller::Service => None,
            AdminCaller::Admin(id) => Some(id.clone()),
        }
    }
}

/// The client's address: the socket peer, or `X-Forwarded-For` behind a trusted proxy.
#[derive(Debug, Clone)]
pub struct ClientIp(pub Option<String>);

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The user an access token names, if they exist and are not disabled.
async fn active_user(state: &AppState, id: &UserId) -> Result<UserRecord, Error> {
    state
        .store
        .user(id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| Error::api(ErrorCode::InvalidToken, "access token names no active user"))
}

impl CurrentUser {
    /// Checks an access token and loads its user: shared by REST and the WebSocket upgrade.
    pub async fn from_token(state: &AppState, token: &str) -> Result<CurrentUser, Error> {
        let claims = state
            .tokens
            .verify(token)
            .map_err(|rejection| match rejection {
                TokenRejection::Expired => {
                    Error::api(ErrorCode::TokenExpired, "access token expired; refresh it")
                }
                TokenRejection::Invalid => {
                    Error::api(ErrorCode::InvalidToken, "access token is invalid")
                }
            })?;
        let lifetime = claims.exp.saturating_sub(chrono::Utc::now().timestamp());
        let max = i64::try_from(state.config.max_token_lifetime().as_secs()).unwrap_or(i64::MAX);
        if lifetime > max.saturating_add(TOKEN_LIFETIME_LEEWAY_SECS) {
            return Err(Error::api(
                ErrorCode::InvalidToken,
                format!("access token lives too long: at most {max} seconds are accepted"),
            ));
        }
        if let Some(sid) = &claims.sid {
            if state.revoked.is_revoked(sid) {
                return Err(Error::api(
                    ErrorCode::InvalidToken,
                    "this session was signed out; sign in again",
                ));
            }
        }
        let user = active_user(state, &claims.sub).await?;
        if user.role != claims.role {
            return Err(Error::api(
                ErrorCode::InvalidToken,
                "access token's role does not match the user's",
            ));
        }
        Ok(CurrentUser {
            id: user.id,
            role: user.role,
            expires_at: claims.exp,
            session: claims.sid.map(Arc::from),
        })
    }

    /// The caller's stored record (name, email: the profile), found the way the token's
    /// user was.
    pub async fn record(&self, state: &AppState) -> Result<UserRecord, Error> {
        active_user(state, &self.id).await
    }

    /// Refuses callers whose role is not `role`.
    pub fn require(&self, role: Role) -> Result<(), Error> {
        if self.role == role {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "only a {} may do this",
                role.as_str()
            )))
        }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let token = bearer(&parts.headers).ok_or_else(Error::unauthorized)?;
        let user = CurrentUser::from_token(state, token).await?;
        state.rate.api.check(&user.id).map_err(|wait| {
            state.metrics.refused(crate::metrics::Limit::Api);
            Error::rate_limited(retry_after_secs(wait))
        })?;
        Ok(user)
    }
}

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let token = bearer(&parts.headers).ok_or_else(Error::unauthorized)?;
        if let Some(service) = &state.config.admin_token {
            if constant_time_eq(service.as_bytes(), token.as_bytes()) {
                return Ok(AdminCaller::Service);
            }
        }
        let user = CurrentUser::from_token(state, token).await?;
        user.require(Role::Admin)?;
        Ok(AdminCaller::Admin(user.id))
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.trust_forwarded_for {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty());
            if forwarded.is_some() {
                return Ok(ClientIp(forwarded));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        Ok(ClientIp(peer))
    }
}
