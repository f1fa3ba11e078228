//! `tutorchat://chat?course=<course id>&with=<user id>`: the course platform's "Message your
//! tutor" button. Parsing is pure and tested; opening the chat goes through the client core.

use tutorchat_shared::{CourseId, UserId};

/// The chat a deep link asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLink {
    pub course: CourseId,
    pub with: UserId,
}

pub fn parse(url: &str) -> Option<ChatLink> {
    let rest = url.strip_prefix("tutorchat://")?;
    let (path, query) = rest.split_once('?')?;
    if path.trim_end_matches('/') != "chat" {
        return None;
    }
    let mut course = None;
    let mut with = None;
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=')?;
        let value = percent_decode(value)?;
        if value.is_empty() {
            return None;
        }
        match key {
            "course" => course = Some(CourseId::new(value)),
            "with" => with = Some(UserId::new(value)),
            _ => {}
        }
    }
    Some(ChatLink {
        course: course?,
        with: with?,
    })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_link_names_course_and_person() {
        assert_eq!(
            parse("tutorchat://chat?course=rust-101&with=t-ada"),
            Some(ChatLink {
                course: CourseId::new("rust-101"),
                with: UserId::new("t-ada")
            })
        );
        assert_eq!(
            parse("tutorchat://chat/?with=u%2F42&course=c%207"),
            Some(ChatLink {
                course: CourseId::new("c 7"),
                with: UserId::new("u/42")
            })
        );
    }

    #[test]
    fn anything_else_is_ignored() {
        for bad in [
            "https://chat?course=a&with=b",
            "tutorchat://chat?course=a",
            "tutorchat://settings?course=a&with=b",
            "tutorchat://chat?course=&with=b",
            "tutorchat://chat?course=%zz&with=b",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
