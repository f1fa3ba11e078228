//! When a new message deserves a desktop notification, and what the badge says. Pure rules,
//! unit-tested; the shell applies them.

use tutorchat_shared::ChatId;

/// A message from someone else notifies unless that very chat is on screen in a focused
/// window.
pub fn should_notify(chat: ChatId, window_focused: bool, visible_chat: Option<ChatId>) -> bool {
    !(window_focused && visible_chat == Some(chat))
}

/// The window title for an unread total: "(3) Tutorchat", or "Tutorchat".
pub fn title(unread_total: u64) -> String {
    if unread_total == 0 {
        "Tutorchat".to_owned()
    } else {
        format!("({unread_total}) Tutorchat")
    }
}

/// The notification's title and body: who wrote, in which course, and the text (shortened).
pub fn notification(sender: &str, course: &str, text: &str) -> (String, String) {
    const MAX: usize = 140;
    let body: String = if text.chars().count() > MAX {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    } else {
        text.to_owned()
    };
    (format!("{sender} · {course}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_visible_chat_in_a_focused_window_does_not_notify() {
        assert!(!should_notify(ChatId(1), true, Some(ChatId(1))));
        assert!(
            should_notify(ChatId(1), false, Some(ChatId(1))),
            "window not focused"
        );
        assert!(
            should_notify(ChatId(1), true, Some(ChatId(2))),
            "another chat on screen"
        );
        assert!(should_notify(ChatId(1), true, None), "no chat on screen");
    }

    #[test]
    fn the_title_carries_the_unread_total() {
        assert_eq!(title(0), "Tutorchat");
        assert_eq!(title(3), "(3) Tutorchat");
    }

    #[test]
    fn notifications_name_sender_and_course_and_shorten_long_text() {
        let (title, body) = notification("Ada Lovelace", "Rust from Zero", &"x".repeat(300));
        assert_eq!(title, "Ada Lovelace · Rust from Zero");
        assert_eq!(body.chars().count(), 141);
    }
}
