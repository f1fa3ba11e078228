//! How a search result shows its text: the words of the query marked wherever they occur
//! (case-insensitively, as the search matched them), and a long message cut to a snippet
//! around its first match. Pure; the page renders the segments as text, never as HTML.

/// Characters a snippet keeps before its first match.
const BEFORE: usize = 40;
/// Longest snippet, in characters.
const SNIPPET: usize = 160;

/// One run of text, and whether it matched the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub text: String,
    pub hit: bool,
}

fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// Which characters of `text` belong to an occurrence of a word of `query`.
fn hits(text: &[char], query: &str) -> Vec<bool> {
    let words: Vec<Vec<char>> = query
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| *c != '"')
                .map(fold)
                .collect::<Vec<_>>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let mut hit = vec![false; text.len()];
    for start in 0..text.len() {
        for word in &words {
            let end = start + word.len();
            if end <= text.len()
                && text[start..end]
                    .iter()
                    .map(|c| fold(*c))
                    .eq(word.iter().copied())
            {
                hit[start..end].iter_mut().for_each(|h| *h = true);
            }
        }
    }
    hit
}

/// `text` as segments with the query's words marked, cut to a snippet around the first match
/// when long (an ellipsis marks each cut).
pub(crate) fn highlight(text: &str, query: &str) -> Vec<Segment> {
    let chars: Vec<char> = text.chars().collect();
    let hit = hits(&chars, query);
    let first = hit.iter().position(|h| *h).unwrap_or(0);
    let (from, to) = if chars.len() <= SNIPPET {
        (0, chars.len())
    } else {
        let from = first.saturating_sub(BEFORE);
        (from, (from + SNIPPET).min(chars.len()))
    };
    let mut segments: Vec<Segment> = Vec::new();
    if from > 0 {
        segments.push(Segment {
            text: "…".to_owned(),
            hit: false,
        });
    }
    for i in from..to {
        match segments.last_mut() {
            Some(last) if last.hit == hit[i] && !(i == from && from > 0) => {
                last.text.push(chars[i])
            }
            _ => segments.push(Segment {
                text: chars[i].to_string(),
                hit: hit[i],
            }),
        }
    }
    if to < chars.len() {
        segments.push(Segment {
            text: "…".to_owned(),
            hit: false,
        });
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(segments: &[Segment]) -> String {
        segments
            .iter()
            .map(|s| {
                if s.hit {
                    format!("[{}]", s.text)
                } else {
                    s.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn every_word_is_marked_wherever_it_occurs_in_any_case() {
        assert_eq!(
            marked(&highlight(
                "Ownership and the borrow checker: OWNERSHIP again",
                "owner borrow"
            )),
            "[Owner]ship and the [borrow] checker: [OWNER]SHIP again"
        );
    }

    #[test]
    fn text_without_a_match_is_one_plain_segment() {
        assert_eq!(
            highlight("nothing here", "zebra"),
            [Segment {
                text: "nothing here".into(),
                hit: false
            }]
        );
        assert_eq!(marked(&highlight("anything", "  ")), "anything");
    }

    #[test]
    fn a_long_message_is_cut_around_its_first_match() {
        let text = format!("{}needle{}", "a".repeat(300), "b".repeat(300));
        let shown = marked(&highlight(&text, "needle"));
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert!(shown.contains("[needle]"));
        assert!(shown.chars().count() <= SNIPPET + 4, "{shown}");
    }

    #[test]
    fn letters_that_change_length_when_lowercased_do_not_break_the_marks() {
        assert_eq!(
            marked(&highlight("İstanbul and Straße", "straße")),
            "İstanbul and [Straße]"
        );
    }
}
