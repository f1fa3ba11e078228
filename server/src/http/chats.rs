//! `/api/chats…`: the caller's chats, opening one, history, sending, reading, and the caller's
//! own settings for one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tutorchat_shared::api::{
    ChatList, ChatSettingsChange, CreateChatRequest, CreateChatResponse, MarkReadRequest,
    MarkReadResponse, MessagePage, MessagesQuery, SendMessageRequest, SendMessageResponse,
};
use tutorchat_shared::{ApiError, ChatId, ChatSummary};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::auth::CurrentUser;
use crate::error::Result;
use crate::service::{chat_settings, chats};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one))
        .routes(routes!(messages, send))
        .routes(routes!(mark_read))
        .routes(routes!(settings))
}

/// The caller's chats, newest activity first.
#[utoipa::path(get, path = "/api/chats", tag = "chats", security(("bearer" = [])),
    responses((status = 200, body = ChatList), (status = 401, body = ApiError)))]
async fn list(State(state): State<AppState>, me: CurrentUser) -> Result<Json<ChatList>> {
    Ok(Json(chats::list(&state, &me).await?))
}

/// Open the chat with a tutor (as a student) or a student (as a tutor) in a course. Needs the
/// student enrolled and the tutor teaching it; returns the existing chat if there is one.
#[utoipa::path(post, path = "/api/chats", tag = "chats", security(("bearer" = [])),
    request_body = CreateChatRequest,
    responses(
        (status = 201, description = "created", body = CreateChatResponse),
        (status = 200, description = "already existed", body = CreateChatResponse),
        (status = 403, description = "not_enrolled (with course_id), not_course_tutor, blocked", body = ApiError),
        (status = 404, body = ApiError),
        (status = 422, body = ApiError),
    ))]
async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(req): ApiJson<CreateChatRequest>,
) -> Result<(StatusCode, Json<CreateChatResponse>)> {
    let response = chats::create(&state, &me, req).await?;
    let status = if response.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(response)))
}

/// One of the caller's chats.
#[utoipa::path(get, path = "/api/chats/{id}", tag = "chats", security(("bearer" = [])),
    params(("id" = i64, Path, description = "chat id", example = 1)),
    responses((status = 200, body = ChatSummary), (status = 403, description = "not_participant", body = ApiError)))]
async fn get_one(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiPath(id): ApiPath<ChatId>,
) -> Result<Json<ChatSummary>> {
    Ok(Json(chats::get(&state, &me, id).await?))
}

/// A page of history, ascending by seq: the newest page by default, or before/after a seq.
#[utoipa::path(get, path = "/api/chats/{id}/messages", tag = "chats", security(("bearer" = [])),
    params(("id" = i64, Path, description = "chat id", example = 1), MessagesQuery),
    responses(
        (status = 200, body = MessagePage),
        (status = 403, description = "not_participant", body = ApiError),
        (status = 422, body = ApiError),
    ))]
async fn messages(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiPath(id): ApiPath<ChatId>,
    ApiQuery(query): ApiQuery<MessagesQuery>,
) -> Result<Json<MessagePage>> {
    Ok(Json(chats::messages(&state, &me, id, query).await?))
}

/// Send a message (idempotent on `client_id`). The WebSocket's `send_message` is the live path.
#[utoipa::path(post, path = "/api/chats/{id}/messages", tag = "chats", security(("bearer" = [])),
    params(("id" = i64, Path, description = "chat id", example = 1)),
    request_body = SendMessageRequest,
    responses(
        (status = 201, description = "stored", body = SendMessageResponse),
        (status = 200, description = "duplicate client_id: the original", body = SendMessageResponse),
        (status = 403, description = "not_participant, not_enrolled, blocked", body = ApiError),
        (status = 422, body = ApiError),
        (status = 429, body = ApiError),
    ))]
async fn send(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiPath(id): ApiPath<ChatId>,
    ApiJson(req): ApiJson<SendMessageRequest>,
) -> Result<(StatusCode, Json<SendMessageResponse>)> {
    let response = chats::send(&state, &me, id, req, None).await?;
    let status = if response.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(response)))
}

/// Move the caller's read pointer forward.
#[utoipa::path(put, path = "/api/chats/{id}/read", tag = "chats", security(("bearer" = [])),
    params(("id" = i64, Path, description = "chat id", example = 1)),
    request_body = MarkReadRequest,
    responses((status = 200, body = MarkReadResponse), (status = 403, body = ApiError)))]
async fn mark_read(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiPath(id): ApiPath<ChatId>,
    ApiJson(req): ApiJson<MarkReadRequest>,
) -> Result<Json<MarkReadResponse>> {
    Ok(Json(chats::mark_read(&state, &me, id, req).await?))
}

/// Change the caller's own settings for a chat (muted, archived): the same on all of their
/// devices, which get the new view as `chat_updated`.
#[utoipa::path(put, path = "/api/chats/{id}/settings", tag = "chats", security(("bearer" = [])),
    params(("id" = i64, Path, description = "chat id", example = 1)),
    request_body = ChatSettingsChange,
    responses(
        (status = 200, body = ChatSummary),
        (status = 403, description = "not_participant", body = ApiError),
        (status = 422, body = ApiError),
    ))]
async fn settings(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiPath(id): ApiPath<ChatId>,
    ApiJson(change): ApiJson<ChatSettingsChange>,
) -> Result<Json<ChatSummary>> {
    Ok(Json(chat_settings::update(&state, &me, id, change).await?))
}
