//! `/api/auth/*` and `/api/me`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tutorchat_shared::api::{AuthTokens, LoginRequest, RefreshRequest, UserProfile};
use tutorchat_shared::ApiError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::ApiJson;
use crate::auth::{ClientIp, CurrentUser};
use crate::error::Result;
use crate::service;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = AuthTokens),
        (status = 401, description = "invalid_credentials", body = ApiError),
        (status = 429, description = "rate_limited", body = ApiError),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<AuthTokens>> {
    Ok(Json(service::auth::login(&state, req, ip).await?))
}

/// Trade a refresh token for a new pair; the presented token is spent.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, body = AuthTokens),
        (status = 401, description = "invalid_refresh_token", body = ApiError),
        (status = 429, description = "rate_limited", body = ApiError),
    ))]
async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<AuthTokens>> {
    Ok(Json(service::auth::refresh(&state, req, ip).await?))
}

/// Revoke a refresh token (and every token rotated from the same login).
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 204, description = "signed out"),
        (status = 429, description = "rate_limited", body = ApiError),
    ))]
async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<StatusCode> {
    service::auth::logout(&state, req, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserProfile), (status = 401, body = ApiError)))]
async fn me(State(state): State<AppState>, me: CurrentUser) -> Result<Json<UserProfile>> {
    Ok(Json(service::auth::me(&state, &me).await?))
}
