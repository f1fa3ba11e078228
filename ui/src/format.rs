//! Display helpers: message times ("14:05"), day separators ("Today", "Yesterday",
//! "Monday", "3 March", "3 March 2024"), the chat list's short times and previews, delivery
//! state names, and avatar initials and colours.
//!
//! Pure: callers pass the current time and the local UTC offset ([`local_offset`] reads
//! the latter from the webview once per render).

use chrono::{DateTime, Datelike, FixedOffset, Local, NaiveDate, Utc};
use tutorchat_shared::app::{DeliveryState, LocalMessage};

/// The webview's current UTC offset.
pub(crate) fn local_offset() -> FixedOffset {
    *Local::now().offset()
}

/// A message's time of day, 24-hour: "09:05".
pub(crate) fn clock(at: DateTime<Utc>, offset: FixedOffset) -> String {
    at.with_timezone(&offset).format("%H:%M").to_string()
}

/// The local calendar day of an instant.
pub(crate) fn local_day(at: DateTime<Utc>, offset: FixedOffset) -> NaiveDate {
    at.with_timezone(&offset).date_naive()
}

/// A day separator: "Today", "Yesterday", the weekday within the last week, else the date
/// (with the year when it is not this year's).
pub(crate) fn day_label(day: NaiveDate, today: NaiveDate) -> String {
    let days_ago = (today - day).num_days();
    match days_ago {
        // A clock slightly behind the sender's still says today.
        days if days <= 0 => "Today".to_owned(),
        1 => "Yesterday".to_owned(),
        2..=6 => day.format("%A").to_string(),
        _ if day.year() == today.year() => day.format("%-d %B").to_string(),
        _ => day.format("%-d %B %Y").to_string(),
    }
}

/// The chat list's time: the clock today, "Yesterday", a short weekday within the week,
/// else a short date.
pub(crate) fn list_time(at: DateTime<Utc>, now: DateTime<Utc>, offset: FixedOffset) -> String {
    let day = local_day(at, offset);
    let today = local_day(now, offset);
    match (today - day).num_days() {
        days if days <= 0 => clock(at, offset),
        1 => "Yesterday".to_owned(),
        2..=6 => day.format("%a").to_string(),
        _ if day.year() == today.year() => day.format("%-d %b").to_string(),
        _ => day.format("%-d %b %Y").to_string(),
    }
}

/// A full timestamp for tooltips: "Monday 10 March 2025, 09:05".
pub(crate) fn full(at: DateTime<Utc>, offset: FixedOffset) -> String {
    at.with_timezone(&offset)
        .format("%A %-d %B %Y, %H:%M")
        .to_string()
}

/// The `data-state` of a message: pending, sent, read or failed.
pub(crate) fn delivery_name(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Pending => "pending",
        DeliveryState::Sent => "sent",
        DeliveryState::Read => "read",
        DeliveryState::Failed => "failed",
    }
}

/// A one-line preview of a message for the chat list.
pub(crate) fn preview(message: &LocalMessage) -> String {
    let first_line = message
        .content
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default()
        .trim();
    tutorchat_shared::model::preview(
        message.kind,
        first_line,
        message.attachment.as_ref().map(|a| a.name.as_str()),
    )
}

/// Up to two initials for an avatar: "Ada Lovelace" → "AL".
pub(crate) fn initials(name: &str) -> String {
    let letters: String = name
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() {
        "?".to_owned()
    } else {
        letters
    }
}

/// A stable hue (0..360) per name, so each person keeps their avatar colour.
pub(crate) fn hue(name: &str) -> u32 {
    name.chars().fold(7_u32, |acc, c| {
        acc.wrapping_mul(31).wrapping_add(u32::from(c))
    }) % 360
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::testing::base_time;

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).expect("UTC")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    #[test]
    fn clock_is_24_hour_in_the_local_offset() {
        let at = base_time() + Duration::minutes(5); // 09:05 UTC
        assert_eq!(clock(at, utc()), "09:05");
        let plus_five_thirty = FixedOffset::east_opt(5 * 3600 + 1800).expect("offset");
        assert_eq!(clock(at, plus_five_thirty), "14:35");
        let minus_ten = FixedOffset::west_opt(10 * 3600).expect("offset");
        assert_eq!(clock(at, minus_ten), "23:05");
    }

    #[test]
    fn the_local_day_follows_the_offset() {
        let at = base_time(); // Monday 10 March 2025, 09:00 UTC
        let minus_ten = FixedOffset::west_opt(10 * 3600).expect("offset");
        assert_eq!(local_day(at, utc()), date(2025, 3, 10));
        assert_eq!(local_day(at, minus_ten), date(2025, 3, 9));
    }

    #[test]
    fn day_separators_name_recent_days() {
        let today = date(2025, 3, 10); // a Monday
        assert_eq!(day_label(today, today), "Today");
        assert_eq!(day_label(date(2025, 3, 9), today), "Yesterday");
        assert_eq!(day_label(date(2025, 3, 6), today), "Thursday");
        assert_eq!(day_label(date(2025, 3, 4), today), "Tuesday");
        assert_eq!(day_label(date(2025, 3, 3), today), "3 March");
        assert_eq!(day_label(date(2024, 12, 31), today), "31 December 2024");
    }

    #[test]
    fn chat_list_times_are_short() {
        let now = base_time() + Duration::hours(5); // Monday 14:00 UTC
        assert_eq!(list_time(base_time(), now, utc()), "09:00");
        assert_eq!(
            list_time(base_time() - Duration::days(1), now, utc()),
            "Yesterday"
        );
        assert_eq!(
            list_time(base_time() - Duration::days(3), now, utc()),
            "Fri"
        );
        assert_eq!(
            list_time(base_time() - Duration::days(20), now, utc()),
            "18 Feb"
        );
        assert_eq!(
            list_time(base_time() - Duration::days(100), now, utc()),
            "30 Nov 2024"
        );
        // A clock slightly behind the server's still says the time, not a date.
        assert_eq!(list_time(now + Duration::minutes(1), now, utc()), "14:01");
    }

    #[test]
    fn delivery_states_have_stable_names() {
        assert_eq!(delivery_name(DeliveryState::Pending), "pending");
        assert_eq!(delivery_name(DeliveryState::Sent), "sent");
        assert_eq!(delivery_name(DeliveryState::Read), "read");
        assert_eq!(delivery_name(DeliveryState::Failed), "failed");
    }

    #[test]
    fn previews_show_the_first_line_with_words() {
        use tutorchat_shared::MessageKind;
        let mut m = crate::testing::message(1, "a", "u");
        m.content = "\n  Hello there  \nsecond line".to_owned();
        assert_eq!(preview(&m), "Hello there");
        m.kind = MessageKind::Image;
        assert_eq!(preview(&m), "📷 Photo · Hello there");
        m.content.clear();
        assert_eq!(preview(&m), "📷 Photo");
        m.kind = MessageKind::File;
        m.attachment = Some(tutorchat_shared::app::LocalAttachment {
            id: None,
            name: "week 3.pdf".into(),
            size: 10,
            mime: "application/pdf".into(),
            width: None,
            height: None,
            thumbnail: false,
        });
        assert_eq!(preview(&m), "📎 week 3.pdf");
    }

    #[test]
    fn initials_take_two_words() {
        assert_eq!(initials("Ada Lovelace"), "AL");
        assert_eq!(initials("grace brewster hopper"), "GB");
        assert_eq!(initials("Émile"), "É");
        assert_eq!(initials("  "), "?");
        assert_eq!(hue("Ada"), hue("Ada"));
        assert!(hue("Ada Lovelace") < 360);
    }

    #[test]
    fn full_timestamps_for_tooltips() {
        assert_eq!(full(base_time(), utc()), "Monday 10 March 2025, 09:00");
    }
}
