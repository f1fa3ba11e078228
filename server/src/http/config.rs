//! `/api/config`: what the server publishes for clients to know before they act — its content
//! limits and the automatic archiving period.

use axum::extract::State;
use axum::Json;
use tutorchat_shared::api::ServerConfig;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(config))
}

/// The limits this server enforces, so an app can refuse over-long input before sending it.
/// Public: no token needed.
#[utoipa::path(get, path = "/api/config", tag = "auth",
    responses((status = 200, body = ServerConfig)))]
async fn config(State(state): State<AppState>) -> Json<ServerConfig> {
    Json(ServerConfig {
        limits: state.limits,
        uploads: state.config.upload_limits(),
        archive_after_days: state.config.archive_after_days,
    })
}
