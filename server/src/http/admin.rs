//! `/api/admin/*`: the course platform's provisioning (service token or admin user) and the
//! audit log. Every write here is an upsert, so the platform can replay its state safely.

use axum::extract::{DefaultBodyLimit, State};
use axum::Json;
use tutorchat_shared::api::{
    AuditAction, AuditPage, AuditQuery, EnrollmentChange, ProvisioningBatch, ProvisioningReport,
    UpsertCourse, UpsertUser,
};
use tutorchat_shared::{ApiError, CourseId, UserId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::auth::AdminCaller;
use crate::error::Result;
use crate::service::{audit, provisioning};
use crate::state::AppState;

/// An import may be this many times larger than an ordinary body.
const IMPORT_BODY_FACTOR: usize = 64;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upsert_user))
        .routes(routes!(upsert_course))
        .routes(routes!(grant_enrollment))
        .routes(routes!(revoke_enrollment))
        .routes(routes!(import))
        .routes(routes!(audit_log))
}

/// Create or update a user (student, tutor or admin).
#[utoipa::path(post, path = "/api/admin/users", tag = "admin", security(("bearer" = [])),
    request_body = UpsertUser,
    responses((status = 200, body = ProvisioningReport), (status = 401, body = ApiError), (status = 422, body = ApiError)))]
async fn upsert_user(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiJson(user): ApiJson<UpsertUser>,
) -> Result<Json<ProvisioningReport>> {
    let batch = ProvisioningBatch {
        users: vec![user],
        ..Default::default()
    };
    Ok(Json(
        provisioning::apply(&state, caller.actor(), AuditAction::AdminUserUpsert, batch).await?,
    ))
}

/// Create or update a course; its tutor list replaces the previous one.
#[utoipa::path(post, path = "/api/admin/courses", tag = "admin", security(("bearer" = [])),
    request_body = UpsertCourse,
    responses((status = 200, body = ProvisioningReport), (status = 422, body = ApiError)))]
async fn upsert_course(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiJson(course): ApiJson<UpsertCourse>,
) -> Result<Json<ProvisioningReport>> {
    let batch = ProvisioningBatch {
        courses: vec![course],
        ..Default::default()
    };
    Ok(Json(
        provisioning::apply(
            &state,
            caller.actor(),
            AuditAction::AdminCourseUpsert,
            batch,
        )
        .await?,
    ))
}

/// Grant (or, with `active: false`, revoke) a student's enrollment in a course.
#[utoipa::path(post, path = "/api/admin/enrollments", tag = "admin", security(("bearer" = [])),
    request_body = EnrollmentChange,
    responses((status = 200, body = ProvisioningReport), (status = 422, body = ApiError)))]
async fn grant_enrollment(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiJson(change): ApiJson<EnrollmentChange>,
) -> Result<Json<ProvisioningReport>> {
    let batch = ProvisioningBatch {
        enrollments: vec![change],
        ..Default::default()
    };
    Ok(Json(
        provisioning::apply(&state, caller.actor(), AuditAction::AdminEnrollment, batch).await?,
    ))
}

/// Revoke a student's enrollment: their chats in the course become read-only.
#[utoipa::path(delete, path = "/api/admin/enrollments/{course_id}/{student_id}", tag = "admin",
    security(("bearer" = [])),
    params(("course_id" = String, Path, example = "algo-201"),
        ("student_id" = String, Path, example = "s-leo")),
    responses((status = 200, body = ProvisioningReport), (status = 422, body = ApiError)))]
async fn revoke_enrollment(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiPath((course_id, student_id)): ApiPath<(CourseId, UserId)>,
) -> Result<Json<ProvisioningReport>> {
    let change = EnrollmentChange {
        course_id,
        student_id,
        active: false,
    };
    let batch = ProvisioningBatch {
        enrollments: vec![change],
        ..Default::default()
    };
    Ok(Json(
        provisioning::apply(&state, caller.actor(), AuditAction::AdminEnrollment, batch).await?,
    ))
}

/// Apply a whole batch (users, then courses, then enrollments), all or nothing.
#[utoipa::path(post, path = "/api/admin/import", tag = "admin", security(("bearer" = [])),
    request_body = ProvisioningBatch,
    responses((status = 200, body = ProvisioningReport), (status = 422, body = ApiError)))]
async fn import(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiJson(batch): ApiJson<ProvisioningBatch>,
) -> Result<Json<ProvisioningReport>> {
    Ok(Json(
        provisioning::apply(&state, caller.actor(), AuditAction::AdminImport, batch).await?,
    ))
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/admin/audit", tag = "admin", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn audit_log(
    State(state): State<AppState>,
    _caller: AdminCaller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>> {
    Ok(Json(audit::page(&state, query).await?))
}

/// The larger body limit of the admin routes (imports), applied by the caller of [`routes`].
pub fn import_body_limit(max_body_bytes: usize) -> DefaultBodyLimit {
    DefaultBodyLimit::max(import_body_bytes(max_body_bytes))
}

/// The largest import body, in bytes.
pub fn import_body_bytes(max_body_bytes: usize) -> usize {
    max_body_bytes.saturating_mul(IMPORT_BODY_FACTOR)
}

/// Whether `path` is the import endpoint (which takes larger bodies).
pub fn is_import(path: &str) -> bool {
    path == IMPORT_PATH
}

const IMPORT_PATH: &str = "/api/admin/import";
