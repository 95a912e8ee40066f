//! Escaping untrusted text for Slack, and the only place mentions are produced.
//!
//! ```
//! use logalert::slack::escape::{escape, code_block};
//! assert_eq!(escape("user=<!channel> & <https://evil|click>"),
//!            "user=&lt;!channel&gt; &amp; &lt;https://evil|click&gt;");
//! assert_eq!(code_block("a ``` b"), "```\na `\u{200B}`\u{200B}` b\n```");
//! ```
//!
//! Slack treats `<…>` as a control sequence (`<!here>`, `<!channel>`, `<@U…>`, `<#C…>`, `<url|label>`)
//! in every text it renders, including attachment fields, titles and code blocks. Escaping `&`, `<` and
//! `>` — and nothing else, as Slack asks — makes any such sequence print literally. Everything that did
//! not come from the rule's own configuration passes through [`escape`] before it is placed in a
//! payload; mentions are built only by [`mentions`] from the rule's `mention` list.

use std::fmt::Write;

use crate::alert::Mention;

/// Replace `&`, `<`, `>` with `&amp;`, `&lt;`, `&gt;`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Make already-escaped text safe inside a ```` ``` ```` block: a run of backticks could close the
/// block early, so a zero-width space goes between consecutive backticks (the text reads the same).
pub fn neutralize_fences(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    let mut prev_tick = false;
    for c in escaped.chars() {
        if c == '`' && prev_tick {
            out.push('\u{200B}');
        }
        prev_tick = c == '`';
        out.push(c);
    }
    out
}

/// Escape `raw` and wrap it in a code block (` ``` ` on their own lines).
pub fn code_block(raw: &str) -> String {
    fenced(&neutralize_fences(&escape(raw)))
}

/// Wrap already-escaped, fence-neutralized text in a code block.
pub fn fenced(safe: &str) -> String {
    format!("```\n{safe}\n```")
}

/// Escaped text shown as inline code: backticks (which would end the span) become `ˋ` (U+02CB) and
/// line breaks become spaces. For identifiers such as log group names inside mrkdwn, where `_` or `*`
/// would otherwise start italics or bold.
pub fn inline_code(raw: &str) -> String {
    if raw.is_empty() {
        return String::new();
    }
    let cleaned: String = raw
        .chars()
        .map(|c| match c {
            '`' => '\u{02CB}',
            '\n' | '\r' | '\t' => ' ',
            c => c,
        })
        .collect();
    format!("`{}`", escape(&cleaned))
}

/// Escaped text inside a link label (`<url|label>`): `|` is allowed in a label but `>` is not, and
/// [`escape`] already handles it; line breaks are flattened so the link stays on one line, and
/// backtick runs are broken up so a label cannot open a code block.
pub fn link_label(raw: &str) -> String {
    neutralize_fences(&escape(&raw.replace(['\n', '\r'], " ")))
}

/// `<url|label>`. The URL must be one this crate built ([`crate::links`]) or an `http(s)` URL with no
/// `<`, `>`, `|` or whitespace; anything else is shown as the plain label.
pub fn link(url: &str, label: &str) -> String {
    if is_safe_url(url) {
        format!("<{url}|{}>", link_label(label))
    } else {
        link_label(label)
    }
}

/// An `http(s)` URL that cannot break out of `<url|label>`.
pub fn is_safe_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url
            .chars()
            .any(|c| matches!(c, '<' | '>' | '|' | '"') || c.is_whitespace() || c.is_control())
}

/// A Slack user (`U…`, `W…`) or user-group (`S…`) id: an upper-case letter then 2-20 upper-case
/// letters or digits.
pub fn is_slack_id(id: &str) -> bool {
    let b = id.as_bytes();
    (3..=21).contains(&b.len())
        && matches!(b[0], b'U' | b'W' | b'S')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Slack mention markup for a rule's `mention` list, space-separated. Ids that are not well-formed
/// Slack ids are dropped (they cannot have come from a valid rules file and could carry markup).
pub fn mentions(list: &[Mention]) -> String {
    let mut out = String::new();
    for m in list {
        let piece = match m {
            Mention::Here => "<!here>".to_string(),
            Mention::Channel => "<!channel>".to_string(),
            Mention::Id(id) if is_slack_id(id) && id.starts_with('S') => format!("<!subteam^{id}>"),
            Mention::Id(id) if is_slack_id(id) => format!("<@{id}>"),
            Mention::Id(_) => continue,
        };
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{piece}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_only_the_three() {
        assert_eq!(escape("a&b<c>d\"e'f*g_h`"), "a&amp;b&lt;c&gt;d\"e'f*g_h`");
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn fences() {
        assert_eq!(neutralize_fences("``"), "`\u{200B}`");
        assert_eq!(neutralize_fences("`a`"), "`a`");
        assert!(!code_block("``````").trim_matches('`').contains("```"));
    }

    #[test]
    fn inline_code_cannot_be_closed() {
        assert_eq!(inline_code("a`b\nc<d>"), "`a\u{02CB}b c&lt;d&gt;`");
        assert_eq!(inline_code(""), "");
    }

    #[test]
    fn links_only_from_safe_urls() {
        assert_eq!(
            link("https://x/y?a=1&b", "see <here>"),
            "<https://x/y?a=1&b|see &lt;here&gt;>"
        );
        assert_eq!(link("https://x|y", "l"), "l");
        assert_eq!(link("javascript:alert(1)", "l"), "l");
        assert_eq!(link("https://x/ y", "l"), "l");
    }

    #[test]
    fn mention_markup() {
        let list = vec![
            Mention::Here,
            Mention::Channel,
            Mention::Id("U123ABC".into()),
            Mention::Id("S0GROUP".into()),
            Mention::Id("U1>|<!everyone".into()),
            Mention::Id("u123".into()),
        ];
        assert_eq!(
            mentions(&list),
            "<!here> <!channel> <@U123ABC> <!subteam^S0GROUP>"
        );
        assert_eq!(mentions(&[]), "");
    }
}
