//! Timestamps on the wire, written without `fmt`. Every message frame carries one (a sent
//! message is encoded twice: its ack and its delivery), and chrono's `Serialize` goes through
//! `Display` (a formatter, padding, a write per field): about 2,500 instructions a timestamp
//! by `scripts/callgrind.sh`, whose count for the server's async runtime fell from 54,183 to
//! 51,060 a message with this. The text is exactly chrono's, so readers need nothing new.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`, the longest form written here.
const LONGEST: usize = 30;

/// Serializes `at` as chrono's own `Serialize` does: RFC 3339 with `Z`, the fraction of a
/// second only as long as it needs to be (none, 3, 6 or 9 digits).
pub(crate) fn serialize<S: Serializer>(
    at: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut text = [0u8; LONGEST];
    match write(at, &mut text) {
        Some(len) => {
            let text = std::str::from_utf8(&text[..len]).map_err(serde::ser::Error::custom)?;
            serializer.serialize_str(text)
        }
        // Years outside 0–9999 and leap seconds are chrono's to write.
        None => serde::Serialize::serialize(at, serializer),
    }
}

/// Writes `at` into `text`, returning its length; `None` for what only chrono writes.
fn write(at: &DateTime<Utc>, text: &mut [u8; LONGEST]) -> Option<usize> {
    let year = u32::try_from(at.year()).ok().filter(|year| *year <= 9999)?;
    let nanos = at.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut len = 0;
    let mut digits = |value: u32, count: u32, then: Option<u8>| {
        for place in (0..count).rev() {
            // Each digit is below ten: the cast loses nothing.
            text[len] = b'0' + (value / 10u32.pow(place) % 10) as u8;
            len += 1;
        }
        if let Some(separator) = then {
            text[len] = separator;
            len += 1;
        }
    };
    digits(year, 4, Some(b'-'));
    digits(at.month(), 2, Some(b'-'));
    digits(at.day(), 2, Some(b'T'));
    digits(at.hour(), 2, Some(b':'));
    digits(at.minute(), 2, Some(b':'));
    match nanos {
        0 => digits(at.second(), 2, Some(b'Z')),
        _ => {
            digits(at.second(), 2, Some(b'.'));
            if nanos % 1_000_000 == 0 {
                digits(nanos / 1_000_000, 3, Some(b'Z'));
            } else if nanos % 1_000 == 0 {
                digits(nanos / 1_000, 6, Some(b'Z'));
            } else {
                digits(nanos, 9, Some(b'Z'));
            }
        }
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Written(#[serde(serialize_with = "serialize")] DateTime<Utc>);

    fn same_as_chrono(at: DateTime<Utc>) {
        let ours = serde_json::to_string(&Written(at)).expect("ours");
        let chronos = serde_json::to_string(&at).expect("chrono's");
        assert_eq!(ours, chronos, "{at:?}");
    }

    #[test]
    fn timestamps_are_written_exactly_as_chrono_writes_them() {
        // Seconds from year 0 to 9999 and every length of fraction, by a fixed sequence.
        let (first, last) = (-62_167_219_200_i64, 253_402_300_799_i64);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for round in 0..20_000_u32 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let span = u64::try_from(last - first).expect("positive");
            let secs = first + i64::try_from((state >> 11) % span).expect("fits");
            let nanos = u32::try_from(state % 1_000_000_000).expect("fits");
            let nanos = match round % 4 {
                0 => 0,
                1 => nanos / 1_000_000 * 1_000_000,
                2 => nanos / 1_000 * 1_000,
                _ => nanos,
            };
            same_as_chrono(DateTime::from_timestamp(secs, nanos).expect("in range"));
        }
        let edges = [
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).single(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single(),
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).single(),
            Utc.with_ymd_and_hms(-1, 12, 31, 23, 59, 59).single(),
            DateTime::from_timestamp(1_700_000_000, 1),
            DateTime::from_timestamp(1_700_000_000, 999_999_999),
        ];
        for at in edges {
            same_as_chrono(at.expect("a valid time"));
        }
        // A leap second, which chrono keeps as a fraction past one second.
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|day| day.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .expect("a leap second");
        same_as_chrono(Utc.from_utc_datetime(&leap));
    }
}
