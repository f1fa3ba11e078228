//! Every rule of `tutorchat_shared::validation`, checked against what its documentation
//! promises: an accepted input has the documented shape, a refusal names a true problem, and
//! nothing panics (including the messages shown to people).

use tutorchat_shared::validation::{
    validate_client_id, validate_email, validate_message, validate_name, validate_password,
    validate_platform_id, Limits, Problem, ValidationError, MAX_EMAIL_CHARS, MAX_ID_CHARS,
    MAX_NAME_CHARS, MIN_PASSWORD_CHARS,
};
use tutorchat_shared::{AttachmentId, ClientId, MessageKind};

/// The first byte picks the limits (small, so the length rules are reached often), the rest
/// is the input given to every rule; false for an empty input.
pub fn check_rules(data: &[u8]) -> bool {
    let Some((&selector, rest)) = data.split_first() else {
        return false;
    };
    let text = String::from_utf8_lossy(rest);
    let limits = Limits {
        max_text_chars: usize::from(selector & 0x3f),
        max_url_chars: usize::from(selector >> 2),
    };
    for kind in [MessageKind::Text, MessageKind::Image, MessageKind::File] {
        check_message(kind, &text, &limits);
        check_message(kind, &text, &Limits::default());
    }
    check_client_id(&text);
    check_platform_id(&text);
    check_name(&text);
    check_email(&text);
    check_password(&text);
    true
}

/// `validate_message`: text is non-blank, an attachment's caption may be blank; either is
/// within the limit and free of control characters but newline and tab; an image or file
/// names an attachment, a text none.
pub fn check_message(kind: MessageKind, content: &str, limits: &Limits) {
    let attachment = AttachmentId::new("att-1");
    let named = (kind != MessageKind::Text).then_some(&attachment);
    let result = validate_message(kind, content, named, limits);
    let chars = content.chars().count();
    match &result {
        Ok(()) => {
            assert!(
                kind != MessageKind::Text || !content.trim().is_empty(),
                "blank text accepted"
            );
            assert!(chars <= limits.max_text_chars, "long content accepted");
            assert!(
                !content
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t'),
                "control character accepted in content"
            );
        }
        Err(e) => check_refusal(e, "content", content),
    }
    let wrong = (kind == MessageKind::Text).then_some(&attachment);
    assert!(
        validate_message(kind, content, wrong, limits).is_err(),
        "an attachment on a text, or none on an image or file, accepted"
    );
}

/// `validate_client_id`: 1..=128 visible ASCII characters.
pub fn check_client_id(s: &str) {
    match validate_client_id(&ClientId::new(s)) {
        Ok(()) => {
            assert!(!s.is_empty() && s.len() <= MAX_ID_CHARS);
            assert!(s.bytes().all(|b| b.is_ascii_graphic()));
        }
        Err(e) => check_refusal(&e, "client_id", s),
    }
}

/// `validate_platform_id`: 1..=128 characters, no control characters, no surrounding
/// whitespace.
pub fn check_platform_id(s: &str) {
    match validate_platform_id("user_id", s) {
        Ok(()) => {
            assert!(!s.is_empty() && s.chars().count() <= MAX_ID_CHARS);
            assert!(!s.chars().any(char::is_control));
            assert_eq!(s.trim(), s);
        }
        Err(e) => check_refusal(&e, "user_id", s),
    }
}

/// `validate_name`: non-blank, at most 200 characters, no control characters.
pub fn check_name(s: &str) {
    match validate_name("name", s) {
        Ok(()) => {
            assert!(!s.trim().is_empty() && s.chars().count() <= MAX_NAME_CHARS);
            assert!(!s.chars().any(char::is_control));
        }
        Err(e) => check_refusal(&e, "name", s),
    }
}

/// `validate_email`: one `@` with something on both sides, no whitespace or control
/// characters, at most 254 characters.
pub fn check_email(s: &str) {
    match validate_email(s) {
        Ok(()) => {
            assert!(s.chars().count() <= MAX_EMAIL_CHARS);
            assert_eq!(s.matches('@').count(), 1, "not exactly one @");
            let (local, domain) = s.split_once('@').expect("one @");
            assert!(!local.is_empty() && !domain.is_empty());
            assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()));
        }
        Err(e) => check_refusal(&e, "email", s),
    }
}

/// `validate_password`: at least 8 characters.
pub fn check_password(s: &str) {
    match validate_password(s) {
        Ok(()) => assert!(s.chars().count() >= MIN_PASSWORD_CHARS),
        Err(e) => check_refusal(&e, "password", s),
    }
}

/// A refusal names the field it was given and a problem that is true of the input, and its
/// message renders.
fn check_refusal(e: &ValidationError, field: &str, input: &str) {
    assert_eq!(e.field, field);
    let _ = e.to_string();
    match e.problem {
        Problem::Empty => assert!(input.trim().is_empty(), "non-blank input called empty"),
        Problem::TooLong { max, actual } => {
            assert_eq!(actual, input.chars().count(), "wrong length reported");
            assert!(actual > max, "length within the limit refused as too long");
        }
        Problem::TooShort { min } => assert!(input.chars().count() < min),
        Problem::ControlCharacter { index } => {
            let c = input.chars().nth(index).expect("index within the input");
            assert!(
                c.is_control(),
                "{c:?} at {index} is not a control character"
            );
        }
        Problem::NotAUrl | Problem::NotAnEmail | Problem::Other(_) => {}
    }
}
