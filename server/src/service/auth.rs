//! Login, refresh and logout.
//!
//! Refresh tokens rotate: each is good for one refresh, which returns its successor in the same
//! family. Presenting a spent token means it was copied, so the whole family is revoked and the
//! reuse is audited — except within a short grace after it was spent, when the same exchange is
//! answered again with the same successor: a client that crashed (or whose server crashed)
//! before the answer was saved is not signed out for it.
//!
//! A family is a sign-in session: its access tokens carry it as `sid`, and signing out revokes
//! them too (they are refused, and the session's sockets are closed).

use chrono::Utc;
use tutorchat_shared::api::{AuditAction, AuthTokens, LoginRequest, RefreshRequest, UserProfile};
use tutorchat_shared::ErrorCode;

use tutorchat_shared::UserId;

use crate::auth::tokens::{hash_refresh_token, new_family_id, new_refresh_token};
use crate::auth::CurrentUser;
use crate::error::{Error, Result};
use crate::metrics::Limit;
use crate::rate_limit::{retry_after_secs, RateLimiter};
use crate::service::audit;
use crate::state::AppState;
use crate::store::{RefreshRecord, RotateOutcome, UserRecord};

pub async fn login(state: &AppState, req: LoginRequest, ip: Option<String>) -> Result<AuthTokens> {
    limit_address(state, &state.rate.login, Limit::Login, ip.as_deref())?;
    let email = req.email.trim().to_owned();
    if email.is_empty() || req.password.is_empty() {
        return Err(Error::validation(
            "email",
            "email and password are required",
        ));
    }
    let user = state.store.user_by_email(&email).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password_ok = state
        .passwords
        .verify(req.password, hash)
        .await
        .inspect_err(|e| {
            if e.code() == ErrorCode::RateLimited {
                state.metrics.refused(Limit::Passwords);
            }
        })?;
    match user {
        Some(user) if password_ok && !user.disabled => {
            audit::record(state, AuditAction::LoginOk, Some(&user.id), None, None, ip).await;
            issue(state, &user, new_family_id()).await
        }
        _ => {
            audit::record(state, AuditAction::LoginFailed, None, Some(email), None, ip).await;
            Err(Error::api(
                ErrorCode::InvalidCredentials,
                "wrong email or password",
            ))
        }
    }
}

/// One try per address from `limiter`, or `rate_limited`.
fn limit_address(
    state: &AppState,
    limiter: &RateLimiter<String>,
    kind: Limit,
    ip: Option<&str>,
) -> Result<()> {
    let key = ip.unwrap_or_default().to_owned();
    limiter.check(&key).map_err(|wait| {
        state.metrics.refused(kind);
        Error::rate_limited(retry_after_secs(wait))
    })
}

pub async fn refresh(
    state: &AppState,
    req: RefreshRequest,
    ip: Option<String>,
) -> Result<AuthTokens> {
    limit_address(state, &state.rate.refresh, Limit::Refresh, ip.as_deref())?;
    let now = Utc::now();
    let next_token = state.tokens.successor_of(&req.refresh_token);
    let next = RefreshRecord {
        token_hash: hash_refresh_token(&next_token),
        // The store fills in the user and family of the presented token.
        user_id: tutorchat_shared::UserId::new(""),
        family_id: String::new(),
        created_at: now,
        expires_at: state.tokens.refresh_expiry(now),
    };
    let presented = hash_refresh_token(&req.refresh_token);
    let invalid = || {
        Error::api(
            ErrorCode::InvalidRefreshToken,
            "refresh token is not valid; sign in again",
        )
    };
    match state
        .store
        .rotate_refresh_token(
            &presented,
            next.clone(),
            now,
            state.config.refresh_reuse_grace(),
        )
        .await?
    {
        RotateOutcome::Rotated { user_id, family_id } => {
            let user = state
                .store
                .user(&user_id)
                .await?
                .filter(|u| !u.disabled)
                .ok_or_else(invalid)?;
            let (access_token, access_expires_at) =
                state
                    .tokens
                    .access_token(&user.id, user.role, Some(&family_id), now)?;
            Ok(AuthTokens {
                access_token,
                access_expires_at,
                refresh_token: next_token,
                refresh_expires_at: next.expires_at,
                user: profile(&user),
            })
        }
        RotateOutcome::Reused { user_id, family_id } => {
            // Its family is revoked: so are the session's access tokens and sockets.
            end_session(state, &user_id, &family_id);
            audit::record(
                state,
                AuditAction::RefreshReuse,
                Some(&user_id),
                None,
                Some("spent refresh token presented; family revoked".into()),
                None,
            )
            .await;
            Err(invalid())
        }
        RotateOutcome::Invalid => Err(invalid()),
    }
}

/// Revokes the token's family, the session's access tokens, and closes its sockets. Unknown
/// tokens are accepted silently: logging out is idempotent.
pub async fn logout(state: &AppState, req: RefreshRequest, ip: Option<String>) -> Result<()> {
    limit_address(state, &state.rate.refresh, Limit::Refresh, ip.as_deref())?;
    let hash = hash_refresh_token(&req.refresh_token);
    if let Some((user, family)) = state.store.revoke_refresh_family(&hash, Utc::now()).await? {
        end_session(state, &user, &family);
        audit::record(state, AuditAction::Logout, Some(&user), None, None, ip).await;
    }
    Ok(())
}

/// The session's access tokens stop working now, and its open sockets close.
fn end_session(state: &AppState, user: &UserId, family: &str) {
    let until = Utc::now() + state.tokens.access_ttl();
    state.revoked.revoke(family, until);
    state.hub.close_session(user, family);
}

async fn issue(state: &AppState, user: &UserRecord, family_id: String) -> Result<AuthTokens> {
    let now = Utc::now();
    let (access_token, access_expires_at) =
        state
            .tokens
            .access_token(&user.id, user.role, Some(&family_id), now)?;
    let refresh_token = new_refresh_token();
    let record = RefreshRecord {
        token_hash: hash_refresh_token(&refresh_token),
        user_id: user.id.clone(),
        family_id,
        created_at: now,
        expires_at: state.tokens.refresh_expiry(now),
    };
    let refresh_expires_at = record.expires_at;
    state.store.insert_refresh_token(record).await?;
    Ok(AuthTokens {
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at,
        user: profile(user),
    })
}

/// The caller's profile, read from the store (the caller carries only who they are).
pub async fn me(state: &AppState, me: &CurrentUser) -> Result<UserProfile> {
    Ok(profile(&me.record(state).await?))
}

pub fn profile(user: &UserRecord) -> UserProfile {
    UserProfile {
        id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role,
    }
}
