//! The server's one error type and its mapping to HTTP.
//!
//! [`Error::Api`] carries a denial the caller can act on (its stable code goes out as is);
//! every other variant is the server's fault: logged in full, answered as a bare `internal`.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tutorchat_shared::validation::ValidationError;
use tutorchat_shared::{ApiError, ChatId, CourseId, ErrorCode};

use crate::store::StoreError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A refusal with a stable code, safe to show the caller.
    #[error("{0}")]
    Api(Box<ApiError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Password(String),
    #[error("token signing failed: {0}")]
    Token(#[from] jsonwebtoken::errors::Error),
    #[error("background task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// Files: an upload's partial file, the blob storage.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    pub fn api(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Api(Box::new(ApiError::new(code, message)))
    }

    /// Adds detail to a refusal (internal errors pass through unchanged).
    pub fn map_api(self, f: impl FnOnce(ApiError) -> ApiError) -> Self {
        match self {
            Error::Api(api) => Error::Api(Box::new(f(*api))),
            other => other,
        }
    }

    pub fn unauthorized() -> Self {
        Self::api(
            ErrorCode::Unauthorized,
            "sign in first: no bearer token was sent",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::api(ErrorCode::Forbidden, message)
    }

    /// The same answer for "no such chat" and "not yours", so chat ids reveal nothing.
    pub fn not_participant(chat: ChatId) -> Self {
        ApiError::new(
            ErrorCode::NotParticipant,
            "you are not a participant of this chat",
        )
        .with_chat(chat)
        .into()
    }

    pub fn not_enrolled(course: &CourseId) -> Self {
        ApiError::new(
            ErrorCode::NotEnrolled,
            format!("course {course} has not been purchased; buy it to chat with its tutors"),
        )
        .with_course(course.clone())
        .into()
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::api(ErrorCode::NotFound, format!("{} not found", what.into()))
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Validation, message)
            .with_field(field)
            .into()
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        ApiError::new(ErrorCode::RateLimited, "too many requests; slow down")
            .with_retry_after(retry_after_secs)
            .into()
    }

    /// The stable code this error answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Api(e) => e.code,
            _ => ErrorCode::Internal,
        }
    }

    /// The body sent to the caller: the denial itself, or a bare `internal`.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            Error::Api(e) => e.as_ref().clone(),
            _ => ApiError::new(ErrorCode::Internal, "internal error; it has been logged"),
        }
    }

    /// The body about to be sent, over HTTP or a WebSocket: a server fault is logged here,
    /// once, with its cause, which the answer never carries.
    pub fn into_answer(self) -> ApiError {
        match self {
            Error::Api(e) => *e,
            fault => {
                tracing::error!(error = %fault, "request failed");
                fault.to_api_error()
            }
        }
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::validation(e.field, e.to_string())
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::BytesRejection(_)
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Error::api(ErrorCode::PayloadTooLarge, "request body is too large")
            }
            JsonRejection::MissingJsonContentType(_) => {
                Error::validation("body", "send JSON with Content-Type: application/json")
            }
            other => Error::validation("body", other.body_text()),
        }
    }
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Error::validation("query", rejection.body_text())
    }
}

impl From<PathRejection> for Error {
    fn from(rejection: PathRejection) -> Self {
        Error::validation("path", rejection.body_text())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let body = self.into_answer();
        let status = StatusCode::from_u16(body.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = body.retry_after_secs;
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
