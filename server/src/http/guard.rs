//! Refusals made before a handler runs, each answered with our JSON error body like every
//! other refusal: too many headers (431), a body announced over the limit (413, at once —
//! without waiting for the body), a request slower than the request timeout (408), and a
//! method the path does not take (405). Also `/metrics`.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tutorchat_shared::ErrorCode;

use super::{admin, uploads};
use crate::auth::AdminCaller;
use crate::error::Error;
use crate::metrics::Live;
use crate::state::AppState;

pub async fn before_handler(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let config = &state.config;
    if request.headers().len() > config.max_headers {
        return Error::api(
            ErrorCode::HeadersTooLarge,
            format!("a request may carry at most {} headers", config.max_headers),
        )
        .into_response();
    }
    let limit = if admin::is_import(request.uri().path()) {
        admin::import_body_bytes(config.max_body_bytes)
    } else if uploads::is_append(request.method(), request.uri().path()) {
        usize::try_from(config.max_upload_bytes).unwrap_or(usize::MAX)
    } else {
        config.max_body_bytes
    };
    if let Some(announced) = content_length(request.headers().get(header::CONTENT_LENGTH)) {
        if announced > limit as u64 {
            return Error::api(
                ErrorCode::PayloadTooLarge,
                format!("request body is {announced} bytes; the maximum is {limit}"),
            )
            .into_response();
        }
    }
    match tokio::time::timeout(config.request_timeout(), next.run(request)).await {
        Ok(response) => response,
        Err(_) => Error::api(
            ErrorCode::RequestTimeout,
            "the request did not complete in time",
        )
        .into_response(),
    }
}

fn content_length(value: Option<&HeaderValue>) -> Option<u64> {
    value?.to_str().ok()?.trim().parse().ok()
}

pub async fn method_not_allowed() -> Error {
    Error::api(
        ErrorCode::MethodNotAllowed,
        "this path does not take that method",
    )
}

/// `/metrics` on the main address: the course platform's service token (or an admin) only.
pub async fn metrics_for_admin(State(state): State<AppState>, _caller: AdminCaller) -> Response {
    metrics(State(state)).await
}

/// The Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let live = Live {
        websockets: state.hub.connection_count(),
        password_in_flight: state.passwords.in_flight(),
        revoked_sessions: state.revoked.len(),
    };
    let body = state.metrics.render(live);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
