//! CloudWatch's regular-expression dialect (`%…%`), checked and translated to the `regex` crate.
//!
//! AWS allows only: ASCII letters and digits; the symbols `: _ # = @ / ; , -` (and spaces, which
//! AWS's own examples use); the operators `^ $ ? [ ] { } | \ * + .`; the escapes `\d \D \s \S \w
//! \W \xhh` and `\` before an operator or symbol. `(`, `)` (even escaped) and multi-byte
//! characters are rejected. Everything else is rejected too, with the `\xhh` spelling to use.
//!
//! Matching is an unanchored search (use `^`/`$` to anchor) done by the `regex` crate, which
//! runs in time linear in the input: no pattern can make matching backtrack.
//!
//! Translation keeps AWS's ASCII meanings: `\d` is `[0-9]`, `\w` is `[a-zA-Z_0-9]`, `\s` is
//! `[\t\n\x0B\x0C\r ]` (the `regex` crate's versions are Unicode-aware); `{,n}` becomes `{0,n}`
//! and spaces inside `{m, n}` are dropped.

use regex::{Regex, RegexBuilder};

const COMPILE: &str = "Failed to compile regular expression.";

/// Compiled-program size cap: keeps hostile patterns (`a{1000}{1000}`) from using much memory.
const SIZE_LIMIT: usize = 1 << 20;

/// Check `body` (the text between the `%`s, starting at character `start` of the pattern)
/// and translate it to `regex` syntax. Errors are (character position, message).
pub(crate) fn translate(body: &str, start: usize) -> Result<String, (usize, String)> {
    let chars: Vec<char> = body.chars().collect();
    if chars.is_empty() {
        return Err((
            start,
            format!("{COMPILE} The regular expression between the '%' signs is empty."),
        ));
    }
    let mut out = String::with_capacity(body.len() + 8);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = start + i;
        if !c.is_ascii() {
            return Err((
                at,
                format!(
                    "{COMPILE} Multi-byte characters are not supported in regular expressions (found '{c}')."
                ),
            ));
        }
        match c {
            '(' | ')' => {
                return Err((
                    at,
                    format!(
                        "{COMPILE} '(' and ')' are not supported (no sub-patterns); to match a literal '{c}' write \\x{:02X}.",
                        c as u32
                    ),
                ));
            }
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err((
                        at,
                        format!("{COMPILE} The regular expression ends with a lone '\\'."),
                    ));
                };
                match n {
                    'd' => out.push_str("[0-9]"),
                    'D' => out.push_str("[^0-9]"),
                    'w' => out.push_str("[a-zA-Z_0-9]"),
                    'W' => out.push_str("[^a-zA-Z_0-9]"),
                    's' => out.push_str(r"[\t\n\x0B\x0C\r ]"),
                    'S' => out.push_str(r"[^\t\n\x0B\x0C\r ]"),
                    'x' => {
                        let hex: String = chars.iter().skip(i + 2).take(2).collect();
                        if hex.len() != 2 || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                            return Err((
                                at,
                                format!(
                                    "{COMPILE} '\\x' must be followed by two hexadecimal digits, e.g. \\x3A for ':'."
                                ),
                            ));
                        }
                        out.push_str(r"\x");
                        out.push_str(&hex);
                        i += 2;
                    }
                    '(' | ')' => {
                        return Err((
                            at,
                            format!(
                                "{COMPILE} '(' and ')' are not supported, even escaped; write \\x{:02X} instead.",
                                n as u32
                            ),
                        ));
                    }
                    n if n.is_ascii_punctuation() || n == ' ' => {
                        // An escaped operator or symbol is itself, literally.
                        out.push_str(&regex::escape(&n.to_string()));
                    }
                    n => {
                        return Err((
                            at,
                            format!(
                                "{COMPILE} '\\{n}' is not a supported escape; use \\d \\D \\s \\S \\w \\W, \\xhh, or '\\' before an operator."
                            ),
                        ));
                    }
                }
                i += 2;
                continue;
            }
            '[' => {
                // A '[' inside a class is literal in AWS's dialect; the regex crate would read it
                // as a nested class.
                if in_class {
                    out.push_str(r"\[");
                } else {
                    in_class = true;
                    out.push('[');
                    // `[]…]` and `[^]…]`: a leading ']' is a literal.
                    if chars.get(i + 1) == Some(&'^') {
                        out.push('^');
                        i += 1;
                    }
                    if chars.get(i + 1) == Some(&']') {
                        out.push_str(r"\]");
                        i += 1;
                    }
                }
            }
            ']' => {
                if in_class {
                    in_class = false;
                    out.push(']');
                } else {
                    out.push_str(r"\]");
                }
            }
            '{' if !in_class => {
                // `{m,n}`, `{m,}`, `{,n}`, `{m}`, with optional spaces.
                let close = chars[i..].iter().position(|&c| c == '}').map(|p| i + p);
                let Some(close) = close else {
                    return Err((at, format!("{COMPILE} This '{{' has no closing '}}'.")));
                };
                let inner: String = chars[i + 1..close].iter().filter(|c| **c != ' ').collect();
                let valid = !inner.is_empty()
                    && inner.chars().all(|c| c.is_ascii_digit() || c == ',')
                    && inner.matches(',').count() <= 1
                    && inner != ",";
                if !valid {
                    return Err((
                        at,
                        format!(
                            "{COMPILE} A repetition must look like {{m,n}}, {{m,}}, {{,n}} or {{m}}."
                        ),
                    ));
                }
                out.push('{');
                if inner.starts_with(',') {
                    out.push('0');
                }
                out.push_str(&inner);
                out.push('}');
                i = close + 1;
                continue;
            }
            '{' | '}' if in_class => {
                out.push('\\');
                out.push(c);
            }
            '^' | '$' | '?' | '}' | '|' | '*' | '+' | '.' => out.push(c),
            c if c.is_ascii_alphanumeric()
                || matches!(c, ':' | '_' | '#' | '=' | '@' | '/' | ';' | ',' | '-' | ' ') =>
            {
                if c == '#' {
                    out.push_str(r"\#");
                } else {
                    out.push(c);
                }
            }
            c => {
                let shown = if c.is_ascii_graphic() {
                    format!("'{c}'")
                } else {
                    format!("the control character U+{:04X}", c as u32)
                };
                return Err((
                    at,
                    format!(
                        "{COMPILE} {shown} is not allowed in a filter-pattern regular expression; write \\x{:02X} to match it.",
                        c as u32
                    ),
                ));
            }
        }
        i += 1;
    }
    // Compile once here so that every error surfaces when the pattern is parsed.
    build(&out).map_err(|e| (start, format!("{COMPILE} {e}")))?;
    Ok(out)
}

/// Compile a checked, translated expression.
pub(crate) fn compile(body: &str) -> Regex {
    let translated = translate(body, 0).expect("regex was validated by the parser");
    build(&translated).expect("regex compiled during validation")
}

fn build(translated: &str) -> Result<Regex, String> {
    RegexBuilder::new(translated)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::Syntax(s) => s
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("error: "))
                .map(|l| format!("The expression is invalid: {l}."))
                .unwrap_or_else(|| "The expression is invalid.".to_string()),
            regex::Error::CompiledTooBig(_) => {
                "The expression is too large once repetitions are expanded.".to_string()
            }
            _ => "The expression is invalid.".to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> Regex {
        build(&translate(body, 0).unwrap()).unwrap()
    }

    #[test]
    fn aws_documented_examples() {
        assert!(ok("^[hc]at").is_match("hat trick"));
        assert!(!ok("^[hc]at").is_match("that"));
        assert!(ok("colou?r").is_match("color"));
        assert!(ok("a{3,5}").is_match("aaa"));
        assert!(ok("a{3, 5}").is_match("aaaa"));
        assert!(ok("a{,2}b").is_match("b"));
        assert!(ok("gray|grey").is_match("grey"));
        assert!(ok(r"\[.\]").is_match("[]]"));
        assert!(ok(r"10\.10\.0\.1").is_match("10.10.0.1"));
        assert!(!ok(r"10\.10\.0\.1").is_match("10010,051"));
        assert!(ok("10.10.0.1").is_match("10010,051"));
        assert!(ok(r"\x3A").is_match(":"));
        assert!(ok(r"\x28").is_match("("));
        assert!(ok(r"\w").is_match("_"));
        assert!(!ok(r"\w").is_match("é"));
        assert!(!ok(r"\d").is_match("٣"));
        assert!(ok("^starting|^initializing|^shutting down").is_match("shutting down now"));
        assert!(!ok("^starting|^initializing|^shutting down").is_match("skipping initializing"));
        assert!(ok("abcc|ab[^c]$").is_match("aba"));
        assert!(!ok("abcc|ab[^c]$").is_match("aac"));
    }

    #[test]
    fn rejects_what_aws_rejects() {
        for (body, at) in [
            ("something!", 9),
            ("(a)", 0),
            (r"a\(", 1),
            ("é", 0),
            ("a\"b", 1),
            (r"\q", 0),
            (r"\x4", 0),
            ("a{x}", 1),
            ("", 0),
        ] {
            let err = translate(body, 0).unwrap_err();
            assert_eq!(err.0, at, "{body}: {}", err.1);
            assert!(err.1.starts_with(COMPILE), "{}", err.1);
        }
    }

    #[test]
    fn huge_repetition_is_an_error_not_a_hang() {
        assert!(translate("a{1000}{1000}{1000}", 0).is_err());
    }
}
