//! Who the caller may chat with, and blocking.

use axum::extract::State;
use axum::Json;
use tutorchat_shared::api::{BlockStatus, ContactsByCourse, StudentsQuery};
use tutorchat_shared::{ApiError, UserId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiPath, ApiQuery};
use crate::auth::CurrentUser;
use crate::error::Result;
use crate::service::people;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(available_tutors))
        .routes(routes!(students))
        .routes(routes!(block, unblock))
}

/// The tutors of the student's purchased courses, grouped by course.
#[utoipa::path(get, path = "/api/users/available-tutors", tag = "people", security(("bearer" = [])),
    responses((status = 200, body = ContactsByCourse), (status = 403, description = "not a student", body = ApiError)))]
async fn available_tutors(
    State(state): State<AppState>,
    me: CurrentUser,
) -> Result<Json<ContactsByCourse>> {
    Ok(Json(people::available_tutors(&state, &me).await?))
}

/// The students of the tutor's courses, grouped by course; `course_id` narrows to one.
#[utoipa::path(get, path = "/api/tutors/students", tag = "people", security(("bearer" = [])),
    params(StudentsQuery),
    responses((status = 200, body = ContactsByCourse), (status = 403, description = "not a tutor, or not this course's", body = ApiError)))]
async fn students(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiQuery(query): ApiQuery<StudentsQuery>,
) -> Result<Json<ContactsByCourse>> {
    Ok(Json(people::students(&state, &me, query.course_id).await?))
}

/// Block a user: they can no longer message the caller.
#[utoipa::path(post, path = "/api/users/{id}/block", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id", example = "t-alan")),
    responses((status = 200, body = BlockStatus), (status = 404, body = ApiError)))]
async fn block(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiPath(id): ApiPath<UserId>,
) -> Result<Json<BlockStatus>> {
    Ok(Json(people::set_block(&state, &me, id, true).await?))
}

/// Unblock a user.
#[utoipa::path(delete, path = "/api/users/{id}/block", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id", example = "t-alan")),
    responses((status = 200, body = BlockStatus)))]
async fn unblock(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiPath(id): ApiPath<UserId>,
) -> Result<Json<BlockStatus>> {
    Ok(Json(people::set_block(&state, &me, id, false).await?))
}
