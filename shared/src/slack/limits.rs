//! Slack's size limits and trimming that respects them.
//!
//! ```
//! use logalert::slack::limits::{slack_len, truncate_escaped};
//! assert_eq!(slack_len("한국어 🚨"), 6); // the emoji is two UTF-16 units
//! assert_eq!(truncate_escaped("a &amp; b", 5), "a …"); // never cuts inside an entity
//! ```
//!
//! Slack counts characters as JavaScript does (UTF-16 code units), so every length here is measured
//! in UTF-16 units — never more than the byte length, and at least the number of `char`s — and every
//! cut falls on a `char` boundary (so the result is valid UTF-8) and never inside an `&amp;`-style
//! entity produced by [`super::escape::escape`].

/// Top-level `text`: Slack truncates at 40,000; we stay far below (it is a notification line).
pub const MESSAGE_TEXT_MAX: usize = 3_000;
/// Attachment `text`: folded at ~700, truncated at ~8,000 (third-party measurements).
pub const ATTACHMENT_TEXT_MAX: usize = 7_900;
/// Attachment `title` (no documented limit; we keep the Block Kit header's 150).
pub const TITLE_MAX: usize = 150;
/// Attachment `fallback` (plain-text summary for notifications).
pub const FALLBACK_MAX: usize = 300;
/// Attachment `footer`: "Limited to 300 characters" — applied to the visible footer text.
pub const FOOTER_MAX: usize = 300;
/// Field `title` / value (Block Kit section field: 2,000 per item).
pub const FIELD_TITLE_MAX: usize = 150;
pub const FIELD_VALUE_MAX: usize = 2_000;
/// Block Kit: section text 3,000; header plain_text 150; ≤10 fields; ≤50 blocks; context ≤10 elements.
pub const SECTION_TEXT_MAX: usize = 3_000;
pub const HEADER_TEXT_MAX: usize = 150;
pub const SECTION_FIELDS_MAX: usize = 10;
pub const BLOCKS_MAX: usize = 50;
pub const CONTEXT_ELEMENTS_MAX: usize = 10;
/// Cumulative text across blocks: Slack rejects ~12-13k with `msg_blocks_too_long` (undocumented);
/// we stay under 10,000.
pub const BLOCKS_TOTAL_TEXT_MAX: usize = 10_000;
/// Attachments per message: ≤100 accepted, ≤20 recommended; we send one.
pub const ATTACHMENTS_MAX: usize = 20;

/// Length as Slack counts it (UTF-16 code units).
pub fn slack_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// The longest prefix of `s` of at most `max` UTF-16 units, cut on a `char` boundary.
pub fn prefix_units(s: &str, max: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += c.len_utf16();
        if used > max {
            return &s[..i];
        }
    }
    s
}

/// `s` cut to at most `max` units, ending in `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if slack_len(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = prefix_units(s, max - 1).to_string();
    out.push('…');
    out
}

/// Like [`truncate`], for text that is already escaped: a cut that would split an entity such as
/// `&amp;` backs off to before its `&`.
pub fn truncate_escaped(s: &str, max: usize) -> String {
    if slack_len(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut cut = prefix_units(s, max - 1);
    if let Some(amp) = cut.rfind('&')
        && !cut[amp..].contains(';')
    {
        cut = &cut[..amp];
    }
    let mut out = cut.to_string();
    out.push('…');
    out
}

/// Keep at most `max_lines` lines of `s`; says how many were dropped.
pub fn limit_lines(s: &str, max_lines: usize) -> (String, usize) {
    let total = s.lines().count();
    if total <= max_lines {
        return (s.to_string(), 0);
    }
    let kept: Vec<&str> = s.lines().take(max_lines).collect();
    (kept.join("\n"), total - max_lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(slack_len(""), 0);
        assert_eq!(slack_len("abc"), 3);
        assert_eq!(slack_len("😀"), 2);
        assert_eq!(slack_len("가"), 1);
    }

    #[test]
    fn truncation_on_boundaries() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("hello!", 5), "hell…");
        assert_eq!(truncate("😀😀😀", 4), "😀…");
        assert_eq!(truncate("가나다라", 3), "가나…");
        assert_eq!(truncate("abc", 0), "");
        assert!(slack_len(&truncate(&"😀".repeat(100), 7)) <= 7);
    }

    #[test]
    fn escaped_truncation_keeps_entities_whole() {
        assert_eq!(truncate_escaped("&lt;!channel&gt;", 4), "…");
        assert_eq!(truncate_escaped("&lt;!channel&gt;", 6), "&lt;!…");
        assert_eq!(truncate_escaped("ab&amp;", 6), "ab…");
    }

    #[test]
    fn lines() {
        assert_eq!(limit_lines("a\nb\nc", 2), ("a\nb".to_string(), 1));
        assert_eq!(limit_lines("a\nb", 2), ("a\nb".to_string(), 0));
    }
}
