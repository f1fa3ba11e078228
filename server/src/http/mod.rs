//! The REST API: one router per resource, merged here with the OpenAPI document, the
//! middleware stack and the JSON fallback.
//!
//! - [`auth`]: the `/api/auth/*` endpoints and `/api/me`
//! - [`config`]: `/api/config`, the limits clients check against
//! - [`chats`]: the `/api/chats` endpoints
//! - [`people`]: available tutors, a tutor's students, blocking
//! - [`uploads`]: resumable uploads and attachment downloads
//! - [`admin`]: provisioning and the audit log (service token or admin)
//! - [`common_errors`]: the error answers the extractors add to every operation, declared on
//!   the OpenAPI document from each operation's shape
//! - [`extract`]: JSON, query and path extractors whose rejections are our JSON errors
//! - [`guard`]: refusals before a handler runs — too many headers, a body announced over the
//!   limit, a request that takes too long, a wrong method — each as our JSON error

pub mod admin;
pub mod auth;
pub mod chats;
pub mod common_errors;
pub mod config;
pub mod extract;
pub mod guard;
pub mod people;
pub mod uploads;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tutorchat_shared::api::Health;
use tutorchat_shared::ErrorCode;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::error::Error;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tutorchat",
        description = "Chat between the students and tutors of purchased courses. Errors are \
                       `{code, message, ...}` with a stable `code`; see ApiError."
    ),
    modifiers(&BearerAuth),
    components(schemas(tutorchat_shared::ApiError, tutorchat_shared::ErrorCode)),
    tags(
        (name = "auth", description = "Sign in, refresh, sign out"),
        (name = "chats", description = "Chats and their history"),
        (name = "people", description = "Tutors, students and blocking"),
        (name = "attachments", description = "Resumable uploads and attachment downloads"),
        (name = "admin", description = "Provisioning by the course platform; audit log"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The OpenAPI document, generated from the handlers' annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router(0).split_for_parts().1
}

fn api_router(max_body_bytes: usize) -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::routes())
        .merge(config::routes())
        .merge(chats::routes())
        .merge(people::routes())
        .merge(uploads::routes())
        .merge(admin::routes().layer(admin::import_body_limit(max_body_bytes)));
    common_errors::declare(router.get_openapi_mut());
    router
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api_router(state.config.max_body_bytes).split_for_parts();
    let doc = Arc::new(doc);
    let request_id = HeaderName::from_static("x-request-id");
    api.route(
        "/api/openapi.json",
        get(move || async move { Json(doc.as_ref().clone()) }),
    )
    .route("/healthz", get(health))
    .route("/ws", get(crate::ws::upgrade))
    .route("/metrics", get(guard::metrics_for_admin))
    .fallback(|| async { Error::api(ErrorCode::NotFound, "no such endpoint") })
    .method_not_allowed_fallback(guard::method_not_allowed)
    .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        guard::before_handler,
    ))
    .layer(PropagateRequestIdLayer::new(request_id.clone()))
    .layer(TraceLayer::new_for_http())
    .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
    .with_state(state)
}

/// `/metrics` alone, for `--metrics-listen` (an address only the operator's scraper reaches).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(guard::metrics))
        .with_state(state)
}

/// Whether this node can serve: its database answers (else 503, so a load balancer sends
/// clients elsewhere) and, with several nodes, whether its bus is connected (a node without
/// it still serves its own connections: `degraded`, but 200).
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let database = tokio::time::timeout(HEALTH_TIMEOUT, state.store.ping())
        .await
        .is_ok_and(|answer| answer.is_ok());
    let bus = state.cluster.get().map(|cluster| cluster.is_up());
    let status = if database && bus != Some(false) {
        "ok"
    } else {
        "degraded"
    };
    let code = if database {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let health = Health {
        status: status.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        database,
        bus,
    };
    (code, Json(health))
}

/// How long `/healthz` waits for the database.
const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
