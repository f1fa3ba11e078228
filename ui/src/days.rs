//! A chat's messages grouped by the reader's local day, for the day separators. Pure, so the
//! grouping is unit-tested without a browser; `components::MessageList` draws the rows.

use chrono::{FixedOffset, NaiveDate};
use tutorchat_shared::app::LocalMessage;

use crate::format::{day_label, local_day};

/// One row of a message list.
#[derive(Debug, PartialEq)]
pub(crate) enum Row<'a> {
    /// A separator before the first message of a local day ("Today", "Yesterday", a date).
    Day {
        day: NaiveDate,
        label: String,
    },
    Message(&'a LocalMessage),
}

/// The messages in their order, with a separator wherever the local day changes (and before
/// the first). `today` is the reader's local date, for the labels.
pub(crate) fn by_day(
    messages: &[LocalMessage],
    offset: FixedOffset,
    today: NaiveDate,
) -> Vec<Row<'_>> {
    let mut rows = Vec::with_capacity(messages.len() + 4);
    let mut previous = None;
    for message in messages {
        let day = local_day(message.created_at, offset);
        if previous != Some(day) {
            rows.push(Row::Day {
                day,
                label: day_label(day, today),
            });
            previous = Some(day);
        }
        rows.push(Row::Message(message));
    }
    rows
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::testing::{base_time, message, PEER};

    /// A message `hours` after the tests' base time (2025-03-10 09:00 UTC).
    fn at_hour(seq: u64, hours: i64) -> LocalMessage {
        let mut m = message(seq, &format!("m{seq}"), PEER);
        m.created_at = base_time() + Duration::hours(hours);
        m
    }

    fn shape(rows: &[Row<'_>]) -> Vec<String> {
        rows.iter()
            .map(|row| match row {
                Row::Day { day, .. } => format!("day {day}"),
                Row::Message(m) => m.client_id.to_string(),
            })
            .collect()
    }

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).expect("offset")
    }

    #[test]
    fn a_separator_opens_each_local_day() {
        let messages = [at_hour(1, 0), at_hour(2, 1), at_hour(3, 24), at_hour(4, 49)];
        let today = NaiveDate::from_ymd_opt(2025, 3, 12).expect("date");
        let rows = by_day(&messages, utc(), today);
        assert_eq!(
            shape(&rows),
            [
                "day 2025-03-10",
                "m1",
                "m2",
                "day 2025-03-11",
                "m3",
                "day 2025-03-12",
                "m4"
            ]
        );
        let labels: Vec<_> = rows
            .iter()
            .filter_map(|r| match r {
                Row::Day { label, .. } => Some(label.as_str()),
                Row::Message(_) => None,
            })
            .collect();
        assert_eq!(labels[1..], ["Yesterday", "Today"]);
    }

    #[test]
    fn days_are_the_readers_local_days() {
        // 09:00 and 20:00 UTC are one day in London, two in Auckland (UTC+13).
        let messages = [at_hour(1, 0), at_hour(2, 11)];
        let today = NaiveDate::from_ymd_opt(2025, 3, 20).expect("date");
        assert_eq!(by_day(&messages, utc(), today).len(), 3);
        let auckland = FixedOffset::east_opt(13 * 3600).expect("offset");
        assert_eq!(
            shape(&by_day(&messages, auckland, today)),
            ["day 2025-03-10", "m1", "day 2025-03-11", "m2"]
        );
    }

    #[test]
    fn no_messages_no_rows() {
        let today = NaiveDate::from_ymd_opt(2025, 3, 20).expect("date");
        assert!(by_day(&[], utc(), today).is_empty());
    }
}
