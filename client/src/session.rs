//! A signed-in session: the token pair, refreshed without the user noticing, and typed REST
//! calls that retry once after a refresh when the access token has expired.
//!
//! A refresh the server refuses ends the session: the stored token is deleted and the caller
//! is told `SessionExpired` (the UI goes to the login screen).

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Mutex;
use tutorchat_shared::api::{AuthTokens, LoginRequest, RefreshRequest, UserProfile};
use tutorchat_shared::{ApiError, ErrorCode};

use crate::credentials::{self, CredentialStore, StoredIn};
use crate::error::{ClientError, Result};
use crate::options::Endpoints;

/// Refresh this long before the access token runs out.
const REFRESH_MARGIN_SECS: i64 = 30;

#[derive(Debug)]
struct Tokens {
    access: String,
    access_expires_at: DateTime<Utc>,
    refresh: String,
}

#[derive(Debug)]
pub struct Session {
    pub user: UserProfile,
    pub endpoints: Endpoints,
    http: reqwest::Client,
    /// A tokio mutex, held across the refresh request on purpose: concurrent callers wait for
    /// the one refresh instead of spending the same single-use refresh token twice.
    tokens: Mutex<Tokens>,
    /// Where the refresh token is kept between runs.
    pub account_key: String,
    pub account_dir: PathBuf,
    store: CredentialStore,
}

impl Session {
    /// Signs in with email and password.
    pub async fn login(
        http: reqwest::Client,
        endpoints: Endpoints,
        email: &str,
        password: &str,
        accounts_dir: &std::path::Path,
        store: CredentialStore,
    ) -> Result<(Session, StoredIn)> {
        let body = LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        let tokens: AuthTokens = send(
            &http,
            Method::POST,
            &format!("{}/api/auth/login", endpoints.http),
            None,
            Some(&body),
        )
        .await?;
        let account_key = account_key(&endpoints.http, tokens.user.id.as_str());
        let account_dir = accounts_dir.join(dir_name(&account_key));
        let stored =
            credentials::save(store, &account_key, &account_dir, &tokens.refresh_token).await?;
        let session = Session {
            user: tokens.user.clone(),
            endpoints,
            http,
            tokens: Mutex::new(Tokens {
                access: tokens.access_token,
                access_expires_at: tokens.access_expires_at,
                refresh: tokens.refresh_token,
            }),
            account_key,
            account_dir,
            store,
        };
        Ok((session, stored))
    }

    /// Resumes from a stored refresh token (refreshing at once, which also checks it).
    pub async fn resume(
        http: reqwest::Client,
        endpoints: Endpoints,
        user: UserProfile,
        account_dir: PathBuf,
        stored: StoredIn,
        store: CredentialStore,
    ) -> Result<Option<Session>> {
        let account_key = account_key(&endpoints.http, user.id.as_str());
        let Some(refresh) = credentials::load(stored, &account_key, &account_dir).await? else {
            return Ok(None);
        };
        let session = Session {
            user,
            endpoints,
            http,
            tokens: Mutex::new(Tokens {
                access: String::new(),
                access_expires_at: DateTime::<Utc>::UNIX_EPOCH,
                refresh,
            }),
            account_key,
            account_dir,
            store,
        };
        Ok(Some(session))
    }

    /// A valid access token, refreshed first if it is about to expire.
    pub async fn access_token(&self) -> Result<String> {
        let mut tokens = self.tokens.lock().await;
        if tokens.access_expires_at <= Utc::now() + Duration::seconds(REFRESH_MARGIN_SECS) {
            self.refresh_locked(&mut tokens).await?;
        }
        Ok(tokens.access.clone())
    }

    /// Refreshes now (after the server said `token_expired`).
    pub async fn force_refresh(&self) -> Result<()> {
        let mut tokens = self.tokens.lock().await;
        self.refresh_locked(&mut tokens).await
    }

    async fn refresh_locked(&self, tokens: &mut Tokens) -> Result<()> {
        let body = RefreshRequest {
            refresh_token: tokens.refresh.clone(),
        };
        let url = format!("{}/api/auth/refresh", self.endpoints.http);
        match send::<AuthTokens, _>(&self.http, Method::POST, &url, None, Some(&body)).await {
            Ok(fresh) => {
                tokens.access = fresh.access_token;
                tokens.access_expires_at = fresh.access_expires_at;
                tokens.refresh = fresh.refresh_token;
                credentials::save(
                    self.store,
                    &self.account_key,
                    &self.account_dir,
                    &tokens.refresh,
                )
                .await?;
                Ok(())
            }
            Err(ClientError::Server(e)) if e.code == ErrorCode::InvalidRefreshToken => {
                credentials::delete(&self.account_key, &self.account_dir).await;
                Err(session_expired())
            }
            Err(e) => Err(e),
        }
    }

    /// Signs out on the server (best effort) and forgets the stored token.
    pub async fn logout(&self) {
        let refresh = self.tokens.lock().await.refresh.clone();
        let url = format!("{}/api/auth/logout", self.endpoints.http);
        let body = RefreshRequest {
            refresh_token: refresh,
        };
        if let Err(e) =
            send::<serde_json::Value, _>(&self.http, Method::POST, &url, None, Some(&body)).await
        {
            tracing::warn!(error = %e, "could not sign out on the server; the token stays revocable there");
        }
        credentials::delete(&self.account_key, &self.account_dir).await;
    }

    /// A REST call as the signed-in user; one retry after refreshing on `token_expired`.
    pub async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let url = format!("{}{path}", self.endpoints.http);
        let token = self.access_token().await?;
        match send(&self.http, method.clone(), &url, Some(&token), body).await {
            Err(ClientError::Server(e)) if e.code == ErrorCode::TokenExpired => {
                self.force_refresh().await?;
                let token = self.access_token().await?;
                send(&self.http, method, &url, Some(&token), body).await
            }
            other => other,
        }
    }
}

/// The error that means "sign in again".
pub fn session_expired() -> ClientError {
    ApiError::new(
        ErrorCode::InvalidRefreshToken,
        "the session has ended; sign in again",
    )
    .into()
}

pub fn is_session_expired(e: &ClientError) -> bool {
    matches!(e, ClientError::Server(api) if api.code == ErrorCode::InvalidRefreshToken)
}

/// One HTTP request with our JSON error body mapped to `ClientError::Server`.
async fn send<T: DeserializeOwned, B: Serialize + ?Sized>(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<&B>,
) -> Result<T> {
    let mut request = http.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    if status.is_success() {
        let bytes = if bytes.is_empty() {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        return serde_json::from_slice(bytes)
            .map_err(|e| ClientError::Network(format!("unexpected answer from the server: {e}")));
    }
    match serde_json::from_slice::<ApiError>(&bytes) {
        Ok(api) => Err(api.into()),
        Err(_) => Err(ClientError::Network(format!(
            "HTTP {status} from the server"
        ))),
    }
}

/// A stable key for one account on one server.
pub fn account_key(server: &str, user: &str) -> String {
    format!("{server}|{user}")
}

/// A file-system-safe directory name for an account key.
pub fn dir_name(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
