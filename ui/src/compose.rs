//! The message input's rules: the character counter, the inline validation text (the shared
//! `validate_message` rules, worded for a person), and whether Enter sends. Pure.

use tutorchat_shared::validation::{validate_message, ValidationError};
use tutorchat_shared::{Limits, MessageKind};

/// What the input shows for the text being written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DraftCheck {
    /// Characters as a person counts them (Unicode scalar values, like the server).
    pub chars: usize,
    pub max: usize,
    /// The inline message; none for a blank draft (nothing to complain about yet).
    pub error: Option<String>,
    pub can_send: bool,
}

impl DraftCheck {
    /// "12 / 4000"
    pub(crate) fn counter(&self) -> String {
        format!("{} / {}", self.chars, self.max)
    }

    pub(crate) fn over_limit(&self) -> bool {
        self.chars > self.max
    }
}

/// Checks a text message as the client and server will.
pub(crate) fn check_draft(text: &str, limits: &Limits) -> DraftCheck {
    let chars = text.chars().count();
    let (error, can_send) = match validate_message(MessageKind::Text, text, None, limits) {
        Ok(()) => (None, true),
        Err(_) if text.trim().is_empty() => (None, false),
        // The shared wording, about "Message" rather than the wire field "content".
        Err(e) => (
            Some(ValidationError::new("Message", e.problem).to_string()),
            false,
        ),
    };
    DraftCheck {
        chars,
        max: limits.max_text_chars,
        error,
        can_send,
    }
}

/// What a key press in the input means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyIntent {
    /// Enter: send (the browser's newline is prevented).
    Send,
    /// Anything else, Shift+Enter included (a newline), and Enter that confirms an input
    /// method's composition.
    Type,
}

pub(crate) fn key_intent(key: &str, shift: bool, composing: bool) -> KeyIntent {
    if key == "Enter" && !shift && !composing {
        KeyIntent::Send
    } else {
        KeyIntent::Type
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize) -> Limits {
        Limits {
            max_text_chars: max,
            ..Limits::default()
        }
    }

    #[test]
    fn the_limit_is_the_shared_default() {
        let check = check_draft("hi", &Limits::default());
        assert_eq!(check.max, 4000);
        assert_eq!(check.counter(), "2 / 4000");
        assert!(check.can_send);
        assert_eq!(check.error, None);
    }

    #[test]
    fn a_blank_draft_cannot_be_sent_but_is_not_an_error() {
        for blank in ["", "   ", "\n\n"] {
            let check = check_draft(blank, &Limits::default());
            assert!(!check.can_send, "{blank:?}");
            assert_eq!(check.error, None, "{blank:?}");
        }
    }

    #[test]
    fn too_long_text_says_by_how_much_and_disables_send() {
        let check = check_draft("ééééééé", &limits(5));
        assert_eq!(check.chars, 7, "characters, not bytes");
        assert!(check.over_limit());
        assert!(!check.can_send);
        assert_eq!(
            check.error.as_deref(),
            Some("Message is 7 characters long; the maximum is 5")
        );
    }

    #[test]
    fn text_at_the_limit_is_fine() {
        let check = check_draft("日本語", &limits(3));
        assert!(check.can_send);
        assert!(!check.over_limit());
    }

    #[test]
    fn control_characters_are_reported() {
        let check = check_draft("ab\u{7}", &Limits::default());
        assert!(!check.can_send);
        assert_eq!(
            check.error.as_deref(),
            Some("Message contains a control character at position 2")
        );
    }

    #[test]
    fn enter_sends_and_shift_enter_is_a_newline() {
        assert_eq!(key_intent("Enter", false, false), KeyIntent::Send);
        assert_eq!(key_intent("Enter", true, false), KeyIntent::Type);
        assert_eq!(key_intent("Enter", false, true), KeyIntent::Type);
        assert_eq!(key_intent("a", false, false), KeyIntent::Type);
    }
}
