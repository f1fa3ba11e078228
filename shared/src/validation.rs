//! Input rules that server, client and UI apply alike, with configurable limits.
//!
//! The server is the authority (it applies these with its configured [`Limits`]); the client
//! and the UI apply the same functions to refuse bad input before it reaches the outbox.

use std::fmt;

use crate::api::ProvisioningBatch;
use crate::ids::{AttachmentId, ClientId, CourseId, UploadId, UserId};
use crate::model::MessageKind;

/// Length limits, in Unicode scalar values (what a person counts as characters). The server
/// publishes the ones it enforces (`GET /api/config`), so clients check against those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Limits {
    /// Longest text message.
    pub max_text_chars: usize,
    /// Longest attachment URL of an image or file message.
    pub max_url_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_text_chars: 4000,
            max_url_chars: 2048,
        }
    }
}

/// Longest platform id (user or course) and client id.
pub const MAX_ID_CHARS: usize = 128;
/// Longest display name or course title.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest email address (RFC 5321).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Shortest password the server accepts when provisioning one.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A broken rule: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: &'static str,
    pub problem: Problem,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Empty,
    TooLong {
        max: usize,
        actual: usize,
    },
    TooShort {
        min: usize,
    },
    /// A control character (other than newline and tab in text) at this character index.
    ControlCharacter {
        index: usize,
    },
    NotAUrl,
    NotAnEmail,
    Other(&'static str),
}

impl ValidationError {
    pub fn new(field: &'static str, problem: Problem) -> Self {
        Self { field, problem }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.field;
        match &self.problem {
            Problem::Empty => write!(f, "{field} must not be empty"),
            Problem::TooLong { max, actual } => {
                write!(
                    f,
                    "{field} is {actual} characters long; the maximum is {max}"
                )
            }
            Problem::TooShort { min } => write!(f, "{field} must be at least {min} characters"),
            Problem::ControlCharacter { index } => {
                write!(
                    f,
                    "{field} contains a control character at position {index}"
                )
            }
            Problem::NotAUrl => write!(f, "{field} must be an http(s) URL"),
            Problem::NotAnEmail => write!(f, "{field} must be an email address"),
            Problem::Other(why) => write!(f, "{field}: {why}"),
        }
    }
}

impl std::error::Error for ValidationError {}

/// Checks a message for its kind. Text must have something besides whitespace, no control
/// characters but newline and tab, and at most `max_text_chars` characters. An image or a file
/// names its upload (`attachment_id`) and may carry a caption under the same rules, empty
/// allowed; a text names none.
pub fn validate_message(
    kind: MessageKind,
    content: &str,
    attachment: Option<&AttachmentId>,
    limits: &Limits,
) -> Result<(), ValidationError> {
    const FIELD: &str = "content";
    const ATTACHMENT: &str = "attachment_id";
    match (kind, attachment) {
        (MessageKind::Text, Some(_)) => {
            return Err(ValidationError::new(
                ATTACHMENT,
                Problem::Other("only an image or file message carries an attachment"),
            ))
        }
        (MessageKind::Text, None) if content.trim().is_empty() => {
            return Err(ValidationError::new(FIELD, Problem::Empty))
        }
        (MessageKind::Image | MessageKind::File, None) => {
            return Err(ValidationError::new(ATTACHMENT, Problem::Empty))
        }
        (MessageKind::Image | MessageKind::File, Some(id)) => {
            check_length(ATTACHMENT, id.as_str(), MAX_ID_CHARS)?;
        }
        (MessageKind::Text, None) => {}
    }
    check_length(FIELD, content, limits.max_text_chars)?;
    if let Some(index) = content
        .chars()
        .position(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ValidationError::new(
            FIELD,
            Problem::ControlCharacter { index },
        ));
    }
    Ok(())
}

/// Longest file name an upload may carry.
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// An upload's file name: something to show and to save under, never a path (no `/` or `\\`,
/// no control characters, not `.` or `..`), at most [`MAX_FILE_NAME_CHARS`].
pub fn validate_file_name(name: &str) -> Result<(), ValidationError> {
    const FIELD: &str = "name";
    if name.trim().is_empty() {
        return Err(ValidationError::new(FIELD, Problem::Empty));
    }
    check_length(FIELD, name, MAX_FILE_NAME_CHARS)?;
    check_no_controls(FIELD, name)?;
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(ValidationError::new(
            FIELD,
            Problem::Other("a file name, not a path"),
        ));
    }
    Ok(())
}

/// An `http(s)://` address of at most `max` characters, with no spaces or control characters
/// (an attachment's URL, a course's purchase page): nothing a webview could run.
pub fn validate_web_url(field: &'static str, url: &str, max: usize) -> Result<(), ValidationError> {
    check_length(field, url, max)?;
    check_no_controls(field, url)?;
    let is_url = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(char::is_whitespace)
        && url
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.is_empty());
    if !is_url {
        return Err(ValidationError::new(field, Problem::NotAUrl));
    }
    Ok(())
}

/// A client id: 1..=128 visible ASCII characters (a UUID fits).
pub fn validate_client_id(id: &ClientId) -> Result<(), ValidationError> {
    check_device_id("client_id", id.as_str())
}

/// An upload's id follows the rules of a client id: 1..=128 visible ASCII characters.
pub fn validate_upload_id(id: &UploadId) -> Result<(), ValidationError> {
    check_device_id("upload_id", id.as_str())
}

fn check_device_id(field: &'static str, s: &str) -> Result<(), ValidationError> {
    if s.is_empty() {
        return Err(ValidationError::new(field, Problem::Empty));
    }
    check_length(field, s, MAX_ID_CHARS)?;
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ValidationError::new(
            field,
            Problem::Other("only visible ASCII is allowed"),
        ));
    }
    Ok(())
}

/// A platform id of a user or course: 1..=128 characters, no control characters, no
/// surrounding whitespace.
pub fn validate_platform_id(field: &'static str, id: &str) -> Result<(), ValidationError> {
    if id.is_empty() {
        return Err(ValidationError::new(field, Problem::Empty));
    }
    check_length(field, id, MAX_ID_CHARS)?;
    check_no_controls(field, id)?;
    if id.trim() != id {
        return Err(ValidationError::new(
            field,
            Problem::Other("surrounding whitespace"),
        ));
    }
    Ok(())
}

/// Convenience for [`validate_platform_id`] on a user id.
pub fn validate_user_id(id: &UserId) -> Result<(), ValidationError> {
    validate_platform_id("user_id", id.as_str())
}

/// Convenience for [`validate_platform_id`] on a course id.
pub fn validate_course_id(id: &CourseId) -> Result<(), ValidationError> {
    validate_platform_id("course_id", id.as_str())
}

/// A display name or title: non-blank, at most 200 characters, no control characters.
pub fn validate_name(field: &'static str, name: &str) -> Result<(), ValidationError> {
    if name.trim().is_empty() {
        return Err(ValidationError::new(field, Problem::Empty));
    }
    check_length(field, name, MAX_NAME_CHARS)?;
    check_no_controls(field, name)
}

/// An email address: something@something, no spaces, at most 254 characters.
pub fn validate_email(email: &str) -> Result<(), ValidationError> {
    const FIELD: &str = "email";
    if email.is_empty() {
        return Err(ValidationError::new(FIELD, Problem::Empty));
    }
    check_length(FIELD, email, MAX_EMAIL_CHARS)?;
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.contains(|c: char| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(FIELD, Problem::NotAnEmail))
    }
}

/// A password set by provisioning: at least 8 characters.
pub fn validate_password(password: &str) -> Result<(), ValidationError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ValidationError::new(
            "password",
            Problem::TooShort {
                min: MIN_PASSWORD_CHARS,
            },
        ));
    }
    Ok(())
}

/// A provisioning batch as the server applies it: something in it, and every id, email, name
/// and password valid (emails and names as they will be stored: trimmed).
pub fn validate_batch(batch: &ProvisioningBatch) -> Result<(), ValidationError> {
    if batch.users.is_empty() && batch.courses.is_empty() && batch.enrollments.is_empty() {
        return Err(ValidationError::new("body", Problem::Empty));
    }
    for u in &batch.users {
        validate_user_id(&u.id)?;
        validate_email(u.email.trim())?;
        validate_name("name", &u.name)?;
        if let Some(p) = &u.password {
            validate_password(p)?;
        }
    }
    for c in &batch.courses {
        validate_course_id(&c.id)?;
        validate_name("title", &c.title)?;
        if let Some(url) = &c.purchase_url {
            validate_web_url("purchase_url", url, Limits::default().max_url_chars)?;
        }
        for t in &c.tutor_ids {
            validate_user_id(t)?;
        }
    }
    for e in &batch.enrollments {
        validate_course_id(&e.course_id)?;
        validate_user_id(&e.student_id)?;
    }
    Ok(())
}

fn check_length(field: &'static str, s: &str, max: usize) -> Result<(), ValidationError> {
    // Cheap upper bound first: a string of at most `max` bytes has at most `max` chars.
    if s.len() <= max {
        return Ok(());
    }
    let actual = s.chars().count();
    if actual > max {
        return Err(ValidationError::new(
            field,
            Problem::TooLong { max, actual },
        ));
    }
    Ok(())
}

fn check_no_controls(field: &'static str, s: &str) -> Result<(), ValidationError> {
    match s.chars().position(char::is_control) {
        Some(index) => Err(ValidationError::new(
            field,
            Problem::ControlCharacter { index },
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(content: &str) -> Result<(), ValidationError> {
        validate_message(MessageKind::Text, content, None, &Limits::default())
    }

    #[test]
    fn text_with_words_newlines_and_tabs_is_accepted() {
        assert_eq!(text("Hello,\n\tworld ✓"), Ok(()));
    }

    #[test]
    fn blank_text_is_empty() {
        for blank in ["", "   ", "\n\t "] {
            assert_eq!(text(blank).map_err(|e| e.problem), Err(Problem::Empty));
        }
    }

    #[test]
    fn text_over_the_limit_reports_both_lengths() {
        let limits = Limits {
            max_text_chars: 5,
            ..Limits::default()
        };
        let err =
            validate_message(MessageKind::Text, "ééééééé", None, &limits).expect_err("too long");
        assert_eq!(err.problem, Problem::TooLong { max: 5, actual: 7 });
        assert_eq!(
            err.to_string(),
            "content is 7 characters long; the maximum is 5"
        );
    }

    #[test]
    fn multibyte_text_at_the_limit_is_accepted() {
        let limits = Limits {
            max_text_chars: 3,
            ..Limits::default()
        };
        assert_eq!(
            validate_message(MessageKind::Text, "日本語", None, &limits),
            Ok(())
        );
    }

    #[test]
    fn control_characters_are_refused_with_their_position() {
        let err = text("ab\u{0007}c").expect_err("bell");
        assert_eq!(err.problem, Problem::ControlCharacter { index: 2 });
        assert!(text("a\u{0000}").is_err());
        assert!(
            text("a\r\nb").is_err(),
            "carriage return is a control character"
        );
    }

    #[test]
    fn an_attachment_message_names_its_upload_and_may_have_an_empty_caption() {
        let limits = Limits::default();
        let upload = AttachmentId::new("att-1");
        for kind in [MessageKind::Image, MessageKind::File] {
            assert_eq!(validate_message(kind, "", Some(&upload), &limits), Ok(()));
            assert_eq!(
                validate_message(kind, "page 2", Some(&upload), &limits),
                Ok(())
            );
            let missing = validate_message(kind, "caption", None, &limits).expect_err("none");
            assert_eq!(missing.field, "attachment_id");
            assert!(validate_message(kind, "a\u{7}", Some(&upload), &limits).is_err());
        }
        let text = validate_message(MessageKind::Text, "hi", Some(&upload), &limits)
            .expect_err("text with an attachment");
        assert_eq!(text.field, "attachment_id");
    }

    #[test]
    fn file_names_are_names_not_paths() {
        assert!(validate_file_name("notes week 3.pdf").is_ok());
        assert!(validate_file_name("фото.jpg").is_ok());
        for bad in [
            "",
            " ",
            "..",
            "a/b.png",
            "..\\x.exe",
            "a\u{0}b",
            &"x".repeat(256),
        ] {
            assert!(validate_file_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn client_ids_are_visible_ascii() {
        assert!(validate_client_id(&ClientId::new("6f1c-42")).is_ok());
        assert!(validate_client_id(&ClientId::new("")).is_err());
        assert!(validate_client_id(&ClientId::new("a b")).is_err());
        assert!(validate_client_id(&ClientId::new("x".repeat(129))).is_err());
    }

    #[test]
    fn emails_and_ids() {
        assert!(validate_email("sam@school.test").is_ok());
        assert!(validate_email("sam@").is_err());
        assert!(validate_email("sam school@x").is_err());
        assert!(validate_platform_id("user_id", "u-1").is_ok());
        assert!(validate_platform_id("user_id", " u-1").is_err());
        assert!(validate_platform_id("user_id", "").is_err());
    }

    #[test]
    fn published_limits_have_a_stable_wire_form() {
        let config = crate::api::ServerConfig {
            limits: Limits::default(),
            uploads: crate::api::UploadLimits {
                max_bytes: 100,
                quota_bytes: 1000,
                image_types: vec!["image/png".into()],
                allowed_types: vec!["image/png".into(), "application/pdf".into()],
                max_image_pixels: 64,
            },
            archive_after_days: 90,
        };
        let wire = serde_json::json!({
            "limits": {"max_text_chars": 4000, "max_url_chars": 2048},
            "uploads": {"max_bytes": 100, "quota_bytes": 1000, "image_types": ["image/png"],
                        "allowed_types": ["image/png", "application/pdf"],
                        "max_image_pixels": 64},
            "archive_after_days": 90,
        });
        assert_eq!(serde_json::to_value(&config).expect("serialize"), wire);
        assert_eq!(
            serde_json::from_value::<crate::api::ServerConfig>(wire).expect("parse"),
            config
        );
    }
}
