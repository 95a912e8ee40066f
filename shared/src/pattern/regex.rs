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
use regex_syntax::hir::literal::{Extractor, Seq};
use regex_syntax::hir::{Hir, HirKind};

const COMPILE: &str = "Failed to compile regular expression.";

/// Compiled-program size cap: keeps hostile patterns (`a{1000}{1000}`) from using much memory.
const SIZE_LIMIT: usize = 1 << 20;

/// Why a regular expression was refused, and where (character position in the pattern).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegexError {
    pub(crate) at: usize,
    /// A character AWS's lexer refuses (AWS: `Invalid character(s) in term '%…'`, the text from
    /// the opening `%` through that character); otherwise the expression does not compile
    /// (AWS: `Failed to compile regular expression.`).
    pub(crate) lexical: bool,
    /// For a lexical error the hint; otherwise the whole message.
    pub(crate) msg: String,
}

fn lexical(at: usize, hint: impl Into<String>) -> RegexError {
    RegexError {
        at,
        lexical: true,
        msg: hint.into(),
    }
}

fn uncompilable(at: usize, detail: impl std::fmt::Display) -> RegexError {
    RegexError {
        at,
        lexical: false,
        msg: format!("{COMPILE} {detail}"),
    }
}

/// Check `body` (the text between the `%`s, starting at character `start` of the pattern)
/// and translate it to `regex` syntax.
pub(crate) fn translate(body: &str, start: usize) -> Result<String, RegexError> {
    let chars: Vec<char> = body.chars().collect();
    if chars.is_empty() {
        // The closing '%' cannot follow the opening one.
        return Err(lexical(
            start,
            "the regular expression between the '%' signs is empty",
        ));
    }
    let mut out = String::with_capacity(body.len() + 8);
    let mut in_class = false;
    // 1 right after a repetition operator, 2 after a lazy one (`+?`): AWS's engine (like RE2)
    // refuses a repetition of a repetition (`a++`, `a*+`, `a{2}*`), which the `regex` crate allows.
    let mut repeated = 0u8;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = start + i;
        if !in_class && matches!(c, '*' | '+' | '?' | '{') {
            repeated = match (repeated, c) {
                (0, _) => 1,
                (1, '?') => 2,
                _ => {
                    return Err(uncompilable(
                        at,
                        format!("The expression is invalid: '{c}' repeats a repetition."),
                    ));
                }
            };
        } else {
            repeated = 0;
        }
        if !c.is_ascii() {
            return Err(lexical(
                at,
                format!(
                    "multi-byte characters are not supported in regular expressions (found '{c}')"
                ),
            ));
        }
        match c {
            '(' | ')' => {
                return Err(lexical(
                    at,
                    format!(
                        "'(' and ')' are not supported (no sub-patterns); to match a literal '{c}' write \\x{:02X}",
                        c as u32
                    ),
                ));
            }
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err(uncompilable(
                        at,
                        "The regular expression ends with a lone '\\'.",
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
                            return Err(uncompilable(
                                at,
                                "'\\x' must be followed by two hexadecimal digits, e.g. \\x3A for ':'.",
                            ));
                        }
                        out.push_str(r"\x");
                        out.push_str(&hex);
                        i += 2;
                    }
                    '(' | ')' => {
                        return Err(lexical(
                            at + 1,
                            format!(
                                "'(' and ')' are not supported, even escaped; write \\x{:02X} instead",
                                n as u32
                            ),
                        ));
                    }
                    n if n.is_ascii_punctuation() || n == ' ' => {
                        // An escaped operator or symbol is itself, literally.
                        out.push_str(&regex::escape(&n.to_string()));
                    }
                    n if !n.is_ascii() => {
                        return Err(lexical(
                            at + 1,
                            format!(
                                "multi-byte characters are not supported in regular expressions (found '{n}')"
                            ),
                        ));
                    }
                    n => {
                        return Err(uncompilable(
                            at,
                            format!(
                                "'\\{n}' is not a supported escape; use \\d \\D \\s \\S \\w \\W, \\xhh, or '\\' before an operator."
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
                    return Err(uncompilable(at, "This '{' has no closing '}'."));
                };
                let inner: String = chars[i + 1..close].iter().filter(|c| **c != ' ').collect();
                let valid = !inner.is_empty()
                    && inner.chars().all(|c| c.is_ascii_digit() || c == ',')
                    && inner.matches(',').count() <= 1
                    && inner != ",";
                if !valid {
                    return Err(uncompilable(
                        at,
                        "A repetition must look like {m,n}, {m,}, {,n} or {m}.",
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
                return Err(lexical(
                    at,
                    format!(
                        "{shown} is not allowed in a filter-pattern regular expression; write \\x{:02X} to match it",
                        c as u32
                    ),
                ));
            }
        }
        i += 1;
    }
    // Compile once here so that every error surfaces when the pattern is parsed.
    build(&out).map_err(|e| uncompilable(start, e))?;
    Ok(out)
}

/// Compile a checked, translated expression.
pub(crate) fn compile(body: &str) -> Regex {
    let translated = translate(body, 0).expect("regex was validated by the parser");
    build(&translated).expect("regex compiled during validation")
}

/// Literals of which at least one occurs in the message wherever `translated` (a compiled
/// expression's [`Regex::as_str`]) matches, so a message with none of them cannot match; `None`
/// when there is no such set worth searching for (the expression must then always run).
///
/// ```text
/// timeout|deadline   → deadline, timeout
/// [Tt]imed? out      → Time out, Timed out, time out, timed out
/// .*connection reset → connection reset  (an inner literal: the prefix `.` is any character)
/// err|.*             → none              (`.*` matches without any literal)
/// ```
///
/// Built on regex-syntax's prefix [`Extractor`]: every match of an expression starts with one of
/// the literals it extracts (exact or not; look-arounds such as `^`/`$` count as empty, which
/// only adds candidates). A finite sequence of non-empty literals is therefore necessary for a
/// match; an infinite one (a class too big to list, like `.` or `\d+` repeated) or one with the
/// empty literal (`a*`) is not. Beyond the prefix of the whole expression this tries, in a
/// concatenation, the prefixes of every tail (`a.*timeout`: a match contains a match of
/// `timeout`), and in an alternation the union of the branches' sets. Sets with a literal shorter
/// than [`GATE_MIN_LEN`] bytes or more than [`GATE_MAX_LITERALS`] literals are refused: they
/// would occur in most messages and slow down the search that looks for them. The expression is
/// parsed exactly as [`build`] compiles it (regex-syntax's defaults are the `regex` crate's:
/// Unicode, case-sensitive, no multi-line); the dialect has no `(?flags)` to change that.
pub(crate) fn required_literals(translated: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(translated)
        .ok()?;
    required(&hir, &Extractor::new())
}

/// Shortest literal [`required_literals`] offers: shorter ones are in too many messages.
pub(crate) const GATE_MIN_LEN: usize = 3;
/// Most literals [`required_literals`] offers for one expression.
pub(crate) const GATE_MAX_LITERALS: usize = 16;

fn required(hir: &Hir, extractor: &Extractor) -> Option<Vec<Vec<u8>>> {
    let mut best = usable(extractor.extract(hir));
    match hir.kind() {
        HirKind::Concat(parts) => {
            for (i, part) in parts.iter().enumerate() {
                // The tail from the start is the whole expression: `best` already.
                if i > 0 {
                    let tail = Hir::concat(parts[i..].to_vec());
                    best = better(best, usable(extractor.extract(&tail)));
                }
                best = better(best, required(part, extractor));
            }
        }
        HirKind::Alternation(branches) => {
            let union = branches
                .iter()
                .map(|b| required(b, extractor))
                .collect::<Option<Vec<_>>>()
                .map(|sets| sets.concat())
                .and_then(usable_literals);
            best = better(best, union);
        }
        // The dialect has no groups: a repetition repeats one character or class, whose
        // literals are too short, and there is no capture. The extractor covers both.
        _ => {}
    }
    best
}

/// The literals of `seq` when it is a necessary set worth gating on.
fn usable(seq: Seq) -> Option<Vec<Vec<u8>>> {
    let literals = seq.literals()?;
    usable_literals(literals.iter().map(|l| l.as_bytes().to_vec()).collect())
}

fn usable_literals(mut literals: Vec<Vec<u8>>) -> Option<Vec<Vec<u8>>> {
    literals.sort();
    literals.dedup();
    // An empty set means the expression never matches: leave that to the expression.
    let ok = !literals.is_empty()
        && literals.len() <= GATE_MAX_LITERALS
        && literals.iter().all(|l| l.len() >= GATE_MIN_LEN);
    ok.then_some(literals)
}

/// The more selective of two sets: longer shortest literal, then fewer literals.
fn better(a: Option<Vec<Vec<u8>>>, b: Option<Vec<Vec<u8>>>) -> Option<Vec<Vec<u8>>> {
    let score = |s: &Vec<Vec<u8>>| {
        let shortest = s.iter().map(Vec::len).min().unwrap_or(0);
        (shortest, std::cmp::Reverse(s.len()))
    };
    match (a, b) {
        (Some(a), Some(b)) => Some(if score(&b) > score(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
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
        // (body, position, lexical): characters AWS's lexer refuses, or expressions that do not
        // compile (real AWS answers: regex-*-rejected, regex-possessive, regex-bad-range).
        for (body, at, lex) in [
            ("something!", 9, true),
            ("(a)", 0, true),
            (r"a\(", 2, true),
            ("é", 0, true),
            ("a\"b", 1, true),
            ("[a&&b]", 2, true),
            ("", 0, true),
            (r"\q", 0, false),
            (r"\p", 0, false),
            (r"\x4", 0, false),
            ("a{x}", 1, false),
            ("a++", 2, false),
            ("a*+", 2, false),
            ("a{2}*", 4, false),
            ("a+??", 3, false),
            ("[z-a]", 0, false),
        ] {
            let err = translate(body, 0).unwrap_err();
            assert_eq!((err.at, err.lexical), (at, lex), "{body}: {}", err.msg);
            assert_eq!(err.msg.starts_with(COMPILE), !lex, "{}", err.msg);
        }
    }

    #[test]
    fn lazy_repetitions_compile() {
        assert!(ok("a+?").is_match("aa"));
        assert!(ok("a*?b").is_match("aab"));
        assert!(ok("a??").is_match(""));
        assert!(ok("a{1,2}?").is_match("a"));
        // A repetition after an escape or a class is fine.
        assert!(ok(r"\d+\.+").is_match("1.."));
        assert!(ok("[+*]+").is_match("+*"));
    }

    /// The literals a `%…%` body's compiled expression requires, as strings.
    fn required_of(body: &str) -> Option<Vec<String>> {
        required_literals(ok(body).as_str()).map(|set| {
            set.into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect()
        })
    }

    #[test]
    fn required_literals_of_alternations_classes_and_tails() {
        for (body, want) in [
            ("timeout|deadline", Some(&["deadline", "timeout"][..])),
            ("^timeout$", Some(&["timeout"])),
            ("[Tt]imeout", Some(&["Timeout", "timeout"])),
            ("colou?r", Some(&["color", "colour"])),
            (
                "[Tt]imed? out",
                Some(&["Time out", "Timed out", "time out", "timed out"]),
            ),
            // An inner literal: the prefix `.` (any character) is too big to list.
            (".*connection reset", Some(&["connection reset"])),
            (r"\d+ms timeout", Some(&["ms timeout"])),
            ("a*timeout", Some(&["timeout"])),
            // A later candidate better than an earlier one wins (`abc` is usable, `timeout` longer).
            ("abc.*timeout", Some(&["timeout"])),
            // The translation's ASCII `\s`: six literals, one per space character.
            (
                r"time\sout",
                Some(&[
                    "time\tout",
                    "time\nout",
                    "time\x0Bout",
                    "time\x0Cout",
                    "time\rout",
                    "time out",
                ]),
            ),
            // Every branch brings its own required set: the union.
            (".*timeout|^dead.*line", Some(&["dead", "timeout"])),
            (r"\x41BC", Some(&["ABC"])),
        ] {
            let mut want: Option<Vec<String>> =
                want.map(|w| w.iter().map(|s| s.to_string()).collect());
            if let Some(w) = &mut want {
                w.sort();
            }
            assert_eq!(required_of(body), want, "{body}");
        }
    }

    #[test]
    fn no_required_literals_where_a_match_needs_none() {
        for body in [
            // Matches the empty string, or any character.
            "a*",
            ".",
            ".*",
            "x?",
            "^",
            "$",
            "^$",
            // One branch matches without any literal.
            "err|.*",
            "timeout|[a-z]+",
            // Literals too short to be worth searching for.
            "ab",
            "a|bc",
            "[0-9]",
            r"\d{3}",
            // Classes too big to list.
            r"\w+",
            r"[^x]{4}",
            r"\S+",
            // Too many literals: 3 × 3 × 3 = 27.
            "[abc][def][ghi]",
        ] {
            assert_eq!(required_of(body), None, "{body}");
        }
    }

    /// Every match of the expression contains one of its required literals (searched over
    /// strings made of the literals' own pieces, where a wrong set would show).
    #[test]
    fn a_match_contains_a_required_literal() {
        let bodies = [
            "timeout|deadline",
            "[Tt]ime ?out",
            ".*timeout|^dead.*line",
            "colou?r",
            r"\d+ms timeout",
            "abc$|^xyz",
            "[Tt][Ii]meout",
        ];
        let pieces = [
            "time", "Time", "TI", "out", " ", "dead", "line", "x", "yz", "ms", "1", "a", "b", "c",
            "d", "colo", "u", "r", "meout", " timeout",
        ];
        for body in bodies {
            let translated = translate(body, 0).unwrap();
            let re = build(&translated).unwrap();
            let set = required_literals(&translated).expect(body);
            let mut matches = 0;
            for a in pieces {
                for b in pieces {
                    for c in pieces {
                        let msg = format!("{a}{b}{c}");
                        if re.is_match(&msg) {
                            matches += 1;
                            assert!(
                                set.iter()
                                    .any(|l| msg.as_bytes().windows(l.len()).any(|w| w == &l[..])),
                                "{body} matches {msg:?} without any of {set:?}"
                            );
                        }
                    }
                }
            }
            assert!(matches > 0, "{body} matched none of the strings");
        }
    }

    #[test]
    fn huge_repetition_is_an_error_not_a_hang() {
        assert!(translate("a{1000}{1000}{1000}", 0).is_err());
    }
}
