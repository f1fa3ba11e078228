//! Stable error codes and the JSON error body every denial carries.
//!
//! Clients branch on [`ErrorCode`], never on the human message. The extra fields are set where
//! they help the client act: `course_id` on `not_enrolled` (offer to buy the course),
//! `retry_after_secs` on `rate_limited`, `field` on `validation`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ClientId, CourseId};

/// A stable, machine-readable error code (serialized snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 401: no credentials where some are needed.
    Unauthorized,
    /// 401: a token that is malformed, forged, or names an unknown user or the wrong role.
    InvalidToken,
    /// 401: an access token past its `exp`; refresh and retry.
    TokenExpired,
    /// 401: wrong email or password.
    InvalidCredentials,
    /// 401: a refresh token that is unknown, expired, used or revoked; sign in again.
    InvalidRefreshToken,
    /// 403: the caller's role may not do this.
    Forbidden,
    /// 403: the caller is not a member of that chat.
    NotParticipant,
    /// 403: the student has not bought (or no longer has) that course.
    NotEnrolled,
    /// 403: the tutor does not teach that course.
    NotCourseTutor,
    /// 403: the recipient has blocked the sender.
    Blocked,
    /// 404
    NotFound,
    /// 405: the path exists but not with this HTTP method.
    MethodNotAllowed,
    /// 408: the request (its headers or body) did not arrive in time.
    RequestTimeout,
    /// 413: a body or frame over the configured size.
    PayloadTooLarge,
    /// 422: input breaks a validation rule; `field` names it.
    Validation,
    /// 415: an upload whose content is not a type the server takes (whatever its name says).
    UnsupportedMediaType,
    /// 413: the upload would take the user past their storage quota.
    QuotaExceeded,
    /// 409: an upload's bytes sent from another offset than the server holds
    /// (`upload_offset` says which), or while another request appends to it.
    UploadOffsetMismatch,
    /// 422: a message names an attachment that is not the sender's finished, unsent upload.
    AttachmentUnavailable,
    /// 429: too many requests; wait `retry_after_secs`.
    RateLimited,
    /// 429: too many open connections for this user or address; close one first.
    TooManyConnections,
    /// 431: too many request headers.
    HeadersTooLarge,
    /// 500: something broke on the server; the details are in its log, never here.
    Internal,
    /// 503: the server is shutting down or overloaded.
    Unavailable,
    /// WebSocket: a frame that is not JSON or lacks required fields.
    MalformedFrame,
    /// WebSocket: a frame whose `type` is unknown.
    UnknownType,
    /// WebSocket: a frame over the configured maximum size.
    FrameTooLarge,
    /// WebSocket: the first frame must be `auth` when the upgrade carried no token.
    AuthRequired,
    /// WebSocket: the connection fell too far behind and is being closed; reconnect and sync.
    SlowConsumer,
    /// Client only (never sent by the server): signing out would lose messages still waiting
    /// in the outbox; send, discard or force.
    OutboxNotEmpty,
    /// Client only: another process is using this device's data directory.
    DataDirBusy,
    /// Client only: the server address is not a URL, or not a secure one.
    InvalidServerUrl,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 32] = [
        ErrorCode::Unauthorized,
        ErrorCode::InvalidToken,
        ErrorCode::TokenExpired,
        ErrorCode::InvalidCredentials,
        ErrorCode::InvalidRefreshToken,
        ErrorCode::Forbidden,
        ErrorCode::NotParticipant,
        ErrorCode::NotEnrolled,
        ErrorCode::NotCourseTutor,
        ErrorCode::Blocked,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::RequestTimeout,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Validation,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::QuotaExceeded,
        ErrorCode::UploadOffsetMismatch,
        ErrorCode::AttachmentUnavailable,
        ErrorCode::RateLimited,
        ErrorCode::TooManyConnections,
        ErrorCode::HeadersTooLarge,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
        ErrorCode::MalformedFrame,
        ErrorCode::UnknownType,
        ErrorCode::FrameTooLarge,
        ErrorCode::AuthRequired,
        ErrorCode::SlowConsumer,
        ErrorCode::OutboxNotEmpty,
        ErrorCode::DataDirBusy,
        ErrorCode::InvalidServerUrl,
    ];

    /// The HTTP status a REST response with this code carries.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Unauthorized
            | ErrorCode::InvalidToken
            | ErrorCode::TokenExpired
            | ErrorCode::InvalidCredentials
            | ErrorCode::InvalidRefreshToken => 401,
            ErrorCode::Forbidden
            | ErrorCode::NotParticipant
            | ErrorCode::NotEnrolled
            | ErrorCode::NotCourseTutor
            | ErrorCode::Blocked => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::Validation | ErrorCode::AttachmentUnavailable => 422,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::QuotaExceeded => 413,
            ErrorCode::UploadOffsetMismatch => 409,
            ErrorCode::RateLimited | ErrorCode::TooManyConnections => 429,
            ErrorCode::HeadersTooLarge => 431,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable | ErrorCode::SlowConsumer => 503,
            ErrorCode::MalformedFrame | ErrorCode::UnknownType => 400,
            ErrorCode::FrameTooLarge => 413,
            ErrorCode::AuthRequired => 401,
            ErrorCode::OutboxNotEmpty | ErrorCode::DataDirBusy => 409,
            ErrorCode::InvalidServerUrl => 422,
        }
    }

    /// Whether the same request may succeed later without anything else changing
    /// (an outbox retries these; it marks the others failed).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimited
                | ErrorCode::Internal
                | ErrorCode::Unavailable
                | ErrorCode::TokenExpired
                | ErrorCode::SlowConsumer
                | ErrorCode::RequestTimeout
                | ErrorCode::TooManyConnections
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::InvalidRefreshToken => "invalid_refresh_token",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotParticipant => "not_participant",
            ErrorCode::NotEnrolled => "not_enrolled",
            ErrorCode::NotCourseTutor => "not_course_tutor",
            ErrorCode::Blocked => "blocked",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Validation => "validation",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::UploadOffsetMismatch => "upload_offset_mismatch",
            ErrorCode::AttachmentUnavailable => "attachment_unavailable",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooManyConnections => "too_many_connections",
            ErrorCode::HeadersTooLarge => "headers_too_large",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::MalformedFrame => "malformed_frame",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::AuthRequired => "auth_required",
            ErrorCode::SlowConsumer => "slow_consumer",
            ErrorCode::OutboxNotEmpty => "outbox_not_empty",
            ErrorCode::DataDirBusy => "data_dir_busy",
            ErrorCode::InvalidServerUrl => "invalid_server_url",
        }
    }
}

/// A wire name that is no [`ErrorCode`] (a newer server's, or a corrupt stored value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code {0:?}")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    /// The inverse of [`ErrorCode::as_str`] (and of the serde form).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_owned()))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON body of every error response: `{code, message, ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    /// For people; may change wording between versions.
    pub message: String,
    /// On `not_enrolled`: the course to offer for purchase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<CourseId>,
    /// On `not_enrolled`: the course's title, to name it in the offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_title: Option<String>,
    /// On `not_enrolled`: where to buy it, if the platform provisioned the address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_url: Option<String>,
    /// On `validation`: the offending field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// On `rate_limited`: seconds to wait (also the `Retry-After` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// On WebSocket errors about one send: the message it concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientId>,
    /// On WebSocket errors about one chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<ChatId>,
    /// On `upload_offset_mismatch`: the bytes the server holds; resume from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_offset: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            course_id: None,
            course_title: None,
            purchase_url: None,
            field: None,
            retry_after_secs: None,
            client_id: None,
            chat_id: None,
            upload_offset: None,
        }
    }

    pub fn with_course(mut self, course_id: CourseId) -> Self {
        self.course_id = Some(course_id);
        self
    }

    /// The offer on `not_enrolled`: the course's title and where to buy it.
    pub fn with_offer(mut self, title: Option<String>, purchase_url: Option<String>) -> Self {
        self.course_title = title;
        self.purchase_url = purchase_url;
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    pub fn with_client_id(mut self, client_id: ClientId) -> Self {
        self.client_id = Some(client_id);
        self
    }

    pub fn with_chat(mut self, chat_id: ChatId) -> Self {
        self.chat_id = Some(chat_id);
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_serializes_with_only_the_fields_set() {
        let body = ApiError::new(ErrorCode::NotEnrolled, "buy it first")
            .with_course(CourseId::new("rust-101"));
        let json = serde_json::to_string(&body).expect("serialize");
        assert_eq!(
            json,
            r#"{"code":"not_enrolled","message":"buy it first","course_id":"rust-101"}"#
        );
    }

    #[test]
    fn every_code_round_trips_through_its_wire_name() {
        for code in [
            ErrorCode::Unauthorized,
            ErrorCode::InvalidToken,
            ErrorCode::TokenExpired,
            ErrorCode::NotParticipant,
            ErrorCode::NotEnrolled,
            ErrorCode::Blocked,
            ErrorCode::Validation,
            ErrorCode::RateLimited,
        ] {
            let json = serde_json::to_string(&code).expect("serialize");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, code);
        }
    }

    #[test]
    fn every_code_parses_from_its_wire_name_and_serializes_to_it() {
        for code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
            assert_eq!(
                serde_json::to_string(&code).expect("serialize"),
                format!("\"{code}\"")
            );
        }
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len(), "wire names are distinct");
        assert!("teleported".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn permanent_denials_are_not_transient() {
        assert!(!ErrorCode::NotEnrolled.is_transient());
        assert!(!ErrorCode::Blocked.is_transient());
        assert!(!ErrorCode::Validation.is_transient());
        assert!(ErrorCode::RateLimited.is_transient());
    }
}
