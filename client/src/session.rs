//! A signed-in session: the token pair, refreshed without the user noticing, and typed REST
//! calls that retry once after a refresh when the access token has expired.
//!
//! Refresh tokens are single-use (the server rotates them), so spending one is guarded three
//! ways: the successor is saved durably before the new access token is used or the refresh is
//! reported done; the access token is kept between runs and reused while valid, so a start
//! does not spend the refresh token at all; and one refresh at a time (the token mutex, and
//! across processes the data directory's lock, see [`crate::lock`]).
//!
//! A refresh the server refuses ends the session: the stored tokens are deleted, and every
//! call after that fails at once with `invalid_refresh_token` (the UI goes to the login screen).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Mutex;
use tutorchat_shared::api::{AuthTokens, LoginRequest, RefreshRequest, UserProfile};
use tutorchat_shared::{ApiError, ErrorCode};

use crate::credentials::{self, CredentialStore, SavedAccess, StoredIn};
use crate::error::{ClientError, Result};
use crate::options::Endpoints;

/// Refresh this long before the access token runs out (also the least validity a kept access
/// token must have left to be reused on start).
const REFRESH_MARGIN_SECS: i64 = 30;

#[derive(Debug)]
struct Tokens {
    access: String,
    access_expires_at: DateTime<Utc>,
    /// The access token was kept by an earlier run and the server has not confirmed it yet:
    /// one it calls invalid (a new signing key) is replaced by a refresh.
    access_from_disk: bool,
    refresh: String,
    /// Where the refresh token is kept; a rotated one goes to the same place.
    stored_in: StoredIn,
}

#[derive(Debug)]
pub struct Session {
    pub user: UserProfile,
    pub endpoints: Endpoints,
    http: reqwest::Client,
    /// A tokio mutex, held across the refresh request on purpose: concurrent callers wait for
    /// the one refresh instead of spending the same single-use refresh token twice.
    tokens: Mutex<Tokens>,
    /// The server refused the refresh token (or none was left): signed out.
    ended: AtomicBool,
    /// Where the tokens are kept between runs.
    pub account_key: String,
    pub account_dir: PathBuf,
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
            endpoints.url(&["api", "auth", "login"]),
            None,
            Some(&body),
        )
        .await?;
        let account_key = account_key(&endpoints.http, tokens.user.id.as_str());
        let account_dir = accounts_dir.join(dir_name(&account_key));
        let stored =
            credentials::save(store, &account_key, &account_dir, &tokens.refresh_token).await?;
        keep_access(&account_dir, &tokens.access_token, tokens.access_expires_at).await;
        let session = Session {
            user: tokens.user.clone(),
            endpoints,
            http,
            tokens: Mutex::new(Tokens {
                access: tokens.access_token,
                access_expires_at: tokens.access_expires_at,
                access_from_disk: false,
                refresh: tokens.refresh_token,
                stored_in: stored,
            }),
            ended: AtomicBool::new(false),
            account_key,
            account_dir,
        };
        Ok((session, stored))
    }

    /// Resumes from the stored tokens, without asking the server: the kept access token is
    /// used while it is valid, and the refresh token only when it is not. Without a refresh
    /// token the session has ended (it was refused earlier): the account's cache is still
    /// there, but every call says to sign in again.
    pub async fn resume(
        http: reqwest::Client,
        endpoints: Endpoints,
        user: UserProfile,
        account_dir: PathBuf,
        stored: StoredIn,
    ) -> Result<Session> {
        let account_key = account_key(&endpoints.http, user.id.as_str());
        let refresh = credentials::load(stored, &account_key, &account_dir).await?;
        let ended = refresh.is_none();
        let dir = account_dir.clone();
        let access = tokio::task::spawn_blocking(move || credentials::load_access(&dir))
            .await?
            .filter(|_| !ended)
            .unwrap_or(SavedAccess {
                token: String::new(),
                expires_at: DateTime::<Utc>::UNIX_EPOCH,
            });
        Ok(Session {
            user,
            endpoints,
            http,
            tokens: Mutex::new(Tokens {
                access: access.token,
                access_expires_at: access.expires_at,
                access_from_disk: true,
                refresh: refresh.unwrap_or_default(),
                stored_in: stored,
            }),
            ended: AtomicBool::new(ended),
            account_key,
            account_dir,
        })
    }

    /// The server refused the refresh token: sign in again.
    pub fn has_ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }

    /// A valid access token, refreshed first if it is about to expire.
    pub async fn access_token(&self) -> Result<String> {
        Ok(self.access().await?.0)
    }

    /// The access token, and whether it is one kept by an earlier run and not yet confirmed.
    async fn access(&self) -> Result<(String, bool)> {
        let mut tokens = self.tokens.lock().await;
        if self.has_ended() {
            return Err(session_expired());
        }
        if tokens.access_expires_at <= Utc::now() + Duration::seconds(REFRESH_MARGIN_SECS) {
            self.refresh_locked(&mut tokens).await?;
        }
        Ok((tokens.access.clone(), tokens.access_from_disk))
    }

    /// Refreshes after the server refused `refused`, unless a concurrent caller already
    /// replaced it (then the refresh token is not spent again).
    pub async fn refresh_after(&self, refused: &str) -> Result<()> {
        let mut tokens = self.tokens.lock().await;
        if tokens.access != refused {
            return if self.has_ended() {
                Err(session_expired())
            } else {
                Ok(())
            };
        }
        self.refresh_locked(&mut tokens).await
    }

    async fn refresh_locked(&self, tokens: &mut Tokens) -> Result<()> {
        if self.has_ended() {
            return Err(session_expired());
        }
        let body = RefreshRequest {
            refresh_token: tokens.refresh.clone(),
        };
        let url = self.endpoints.url(&["api", "auth", "refresh"]);
        match send::<AuthTokens, _>(&self.http, Method::POST, url, None, Some(&body)).await {
            Ok(fresh) => {
                // The old refresh token is spent now: keep the new one even if it cannot be
                // saved, and save it before anything uses the new access token. If saving
                // fails the access token stays stale, so the next call refreshes (with the
                // new token) and tries to save again.
                tokens.refresh = fresh.refresh_token;
                tokens.stored_in = credentials::save(
                    credentials::for_rotation(tokens.stored_in),
                    &self.account_key,
                    &self.account_dir,
                    &tokens.refresh,
                )
                .await?;
                keep_access(
                    &self.account_dir,
                    &fresh.access_token,
                    fresh.access_expires_at,
                )
                .await;
                tokens.access = fresh.access_token;
                tokens.access_expires_at = fresh.access_expires_at;
                tokens.access_from_disk = false;
                Ok(())
            }
            Err(ClientError::Server(e)) if e.code == ErrorCode::InvalidRefreshToken => {
                self.ended.store(true, Ordering::Relaxed);
                credentials::delete(&self.account_key, &self.account_dir).await;
                Err(session_expired())
            }
            Err(e) => Err(e),
        }
    }

    /// Signs out on the server (best effort) and forgets the stored token.
    pub async fn logout(&self) {
        let refresh = self.tokens.lock().await.refresh.clone();
        if self.has_ended() {
            credentials::delete(&self.account_key, &self.account_dir).await;
            return;
        }
        let url = self.endpoints.url(&["api", "auth", "logout"]);
        let body = RefreshRequest {
            refresh_token: refresh,
        };
        if let Err(e) =
            send::<serde_json::Value, _>(&self.http, Method::POST, url, None, Some(&body)).await
        {
            tracing::warn!(error = %e, "could not sign out on the server; the token stays revocable there");
        }
        credentials::delete(&self.account_key, &self.account_dir).await;
    }

    /// The URL of a REST resource on this session's server (see [`Endpoints::url`]).
    pub fn url(&self, segments: &[&str]) -> Url {
        self.endpoints.url(segments)
    }

    /// Runs `request` with the access token; if the server says the token expired (or, for
    /// one kept from an earlier run, that it is not valid any more), refreshes once and runs
    /// it again with the new one. Every authenticated request goes through here.
    async fn authorized<T, F, Fut>(&self, request: F) -> Result<T>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let (token, from_disk) = self.access().await?;
        match request(token.clone()).await {
            Err(ClientError::Server(e))
                if e.code == ErrorCode::TokenExpired
                    || (from_disk && e.code == ErrorCode::InvalidToken) =>
            {
                self.refresh_after(&token).await?;
                request(self.access_token().await?).await
            }
            other => other,
        }
    }

    /// A REST call as the signed-in user; one retry after refreshing on `token_expired`.
    pub async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<T> {
        self.authorized(|token| {
            let (method, url) = (method.clone(), url.clone());
            async move { send(&self.http, method, url, Some(&token), body).await }
        })
        .await
    }

    /// `bytes` appended to an upload at `offset` (`PATCH`, raw body); refreshed like [`call`].
    ///
    /// [`call`]: Session::call
    pub async fn append_upload<T: DeserializeOwned>(
        &self,
        url: Url,
        offset: u64,
        bytes: Vec<u8>,
    ) -> Result<T> {
        self.authorized(|token| {
            let request = self
                .http
                .patch(url.clone())
                .bearer_auth(token)
                .header("Upload-Offset", offset.to_string())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/offset+octet-stream",
                )
                .body(bytes.clone());
            async move { answer(request.send().await?).await }
        })
        .await
    }

    /// A `GET` whose body the caller streams (a download): the response once it is a success,
    /// else the server's refusal. Refreshed like [`call`].
    ///
    /// [`call`]: Session::call
    pub async fn fetch(&self, url: Url) -> Result<reqwest::Response> {
        self.authorized(|token| {
            let request = self.http.get(url.clone()).bearer_auth(token);
            async move {
                let response = request.send().await?;
                if response.status().is_success() {
                    Ok(response)
                } else {
                    Err(refusal(response).await)
                }
            }
        })
        .await
    }
}

/// A response's error body as our error.
async fn refusal(response: reqwest::Response) -> ClientError {
    let status = response.status();
    match response.bytes().await {
        Ok(bytes) => match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(api) => api.into(),
            Err(_) => ClientError::Network(format!("HTTP {status} from the server")),
        },
        Err(e) => e.into(),
    }
}

/// A response's JSON body, or our error body mapped to `ClientError::Server`.
async fn answer<T: DeserializeOwned>(response: reqwest::Response) -> Result<T> {
    if !response.status().is_success() {
        return Err(refusal(response).await);
    }
    let bytes = response.bytes().await?;
    let bytes = if bytes.is_empty() {
        &b"null"[..]
    } else {
        &bytes[..]
    };
    serde_json::from_slice(bytes)
        .map_err(|e| ClientError::Network(format!("unexpected answer from the server: {e}")))
}

/// Keeps the access token for the next start (off the async threads; best effort).
async fn keep_access(dir: &std::path::Path, token: &str, expires_at: DateTime<Utc>) {
    let (dir, access) = (
        dir.to_path_buf(),
        SavedAccess {
            token: token.to_owned(),
            expires_at,
        },
    );
    let _ = tokio::task::spawn_blocking(move || credentials::save_access(&dir, &access)).await;
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
    url: Url,
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
    answer(request.send().await?).await
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
