//! What a file's content is, from its first bytes (never from its name): the magic bytes
//! `infer` knows, else plain text if it is UTF-8 without control characters and is not
//! markup. SVG and HTML are markup: never images, and never plain text either. The server
//! decides with this; a device checks with the same rule before it uploads anything. Also a
//! file's size as people read it, the same in the app and the CLI.

/// The image types shown inline (and re-encoded, which strips their metadata).
pub const IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// The types taken unless the operator says otherwise: images, PDF, plain text, office
/// documents and common archives.
pub const DEFAULT_TYPES: &str = "image/png,image/jpeg,image/gif,image/webp,\
application/pdf,text/plain,application/rtf,\
application/msword,application/vnd.openxmlformats-officedocument.wordprocessingml.document,\
application/vnd.ms-excel,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,\
application/vnd.ms-powerpoint,\
application/vnd.openxmlformats-officedocument.presentationml.presentation,\
application/vnd.oasis.opendocument.text,application/vnd.oasis.opendocument.spreadsheet,\
application/vnd.oasis.opendocument.presentation,\
application/zip,application/gzip,application/x-7z-compressed,application/x-tar,application/vnd.rar";

/// Bytes of the head that sniffing looks at.
pub const HEAD_BYTES: usize = 64 * 1024;

/// Bytes for people: "25.0 MB", "730 KB", "1.5 KB".
pub fn human_size(bytes: u64) -> String {
    const KB: f64 = 1000.0;
    let b = bytes as f64;
    if b >= KB * KB {
        format!("{:.1} MB", b / (KB * KB))
    } else if b >= 100.0 * KB {
        format!("{:.0} KB", b / KB)
    } else if b >= KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The content's media type, judged from `head` (its first bytes; `complete` when that is
/// all of it). `None`: nothing recognisable (binary of no known type).
pub fn sniff(head: &[u8], complete: bool) -> Option<&'static str> {
    if let Some(kind) = infer::get(head) {
        return Some(kind.mime_type());
    }
    if looks_like_markup(head) {
        return Some("text/html");
    }
    is_text(head, complete).then_some("text/plain")
}

pub fn is_image(mime: &str) -> bool {
    IMAGE_TYPES.contains(&mime)
}

/// UTF-8 with no control characters but tab, newline, carriage return and form feed (a
/// multi-byte character cut at the end of an incomplete head is fine).
fn is_text(head: &[u8], complete: bool) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let valid = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if !complete && e.error_len().is_none() => {
            // Only an incomplete last character: judge the part before it.
            match std::str::from_utf8(&head[..e.valid_up_to()]) {
                Ok(text) => text,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && !valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
}

/// Starts (after a byte-order mark and whitespace) like an XML, SVG or HTML document.
fn looks_like_markup(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    head.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide_not_the_name() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", false),
            Some("image/png")
        );
        assert_eq!(sniff(b"%PDF-1.7\n", false), Some("application/pdf"));
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.resize(64, 0);
        assert_eq!(sniff(&elf, false), Some("application/x-executable"));
    }

    #[test]
    fn plain_text_is_utf8_without_controls() {
        assert_eq!(
            sniff("week 3 — notes\r\n\tok".as_bytes(), true),
            Some("text/plain")
        );
        assert_eq!(sniff(b"ab\0cd", true), None);
        assert_eq!(sniff(b"\xff\xfe", true), None);
        // A character cut at the end of a partial head.
        assert_eq!(sniff(&"é".as_bytes()[..1], false), None);
        assert_eq!(sniff(&"aé".as_bytes()[..2], false), Some("text/plain"));
    }

    #[test]
    fn svg_and_html_are_markup_never_images_or_text() {
        for markup in [
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"[..],
            b"  <!DOCTYPE html><html>",
            b"\xEF\xBB\xBF<?xml version=\"1.0\"?><svg/>",
        ] {
            let found = sniff(markup, true);
            assert!(
                found.is_some_and(|t| !t.starts_with("image/") && t != "text/plain"),
                "{found:?}"
            );
        }
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(142), "142 bytes");
        assert_eq!(human_size(1_000), "1.0 KB");
        assert_eq!(human_size(1_540), "1.5 KB");
        assert_eq!(human_size(730_000), "730 KB");
        assert_eq!(human_size(26_214_400), "26.2 MB");
    }

    #[test]
    fn every_default_type_is_named_once() {
        let types: Vec<_> = DEFAULT_TYPES.split(',').collect();
        let mut unique = types.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), types.len());
        for image in IMAGE_TYPES {
            assert!(types.contains(&image));
        }
    }
}
