//! Value tests shared by JSON and space-delimited patterns: wildcard strings, numbers, regexes.

use memchr::memmem::Finder;
use regex::Regex;

use super::ast::{CmpOp, Value};
use super::parse::is_aws_number;
use super::regex as aws_regex;

/// A string value with optional leading/trailing `*` wildcards. Only a leading and a trailing
/// `*` are wildcards; a `*` anywhere else is a literal character (AWS: "`Ev*ent` will only match
/// the actual string `Ev*ent`").
#[derive(Debug, Clone)]
pub(crate) enum StrPattern {
    /// `*` alone: any value.
    Any,
    Exact(String),
    Prefix(String),
    Suffix(String),
    /// Boxed: a `Finder` is a few hundred bytes.
    Contains(Box<Finder<'static>>),
}

impl StrPattern {
    pub(crate) fn new(text: &str) -> StrPattern {
        let mut core = text;
        let lead = core.starts_with('*');
        if lead {
            core = &core[1..];
        }
        let trail = core.ends_with('*');
        if trail {
            core = &core[..core.len() - 1];
        }
        match (lead, trail) {
            _ if core.is_empty() && (lead || trail) => StrPattern::Any,
            (true, true) => {
                StrPattern::Contains(Box::new(Finder::new(core.as_bytes()).into_owned()))
            }
            (true, false) => StrPattern::Suffix(core.to_string()),
            (false, true) => StrPattern::Prefix(core.to_string()),
            (false, false) => StrPattern::Exact(core.to_string()),
        }
    }

    /// The text every matching value contains (`None` for `*` alone): the exact value, the
    /// prefix, the suffix or the infix.
    pub(crate) fn literal(&self) -> Option<&[u8]> {
        match self {
            StrPattern::Any => None,
            StrPattern::Exact(s) | StrPattern::Prefix(s) | StrPattern::Suffix(s) => {
                Some(s.as_bytes())
            }
            StrPattern::Contains(f) => Some(f.needle()),
        }
    }

    pub(crate) fn is_match(&self, s: &str) -> bool {
        match self {
            StrPattern::Any => true,
            StrPattern::Exact(e) => s == e,
            StrPattern::Prefix(p) => s.starts_with(p.as_str()),
            StrPattern::Suffix(p) => s.ends_with(p.as_str()),
            StrPattern::Contains(f) => f.find(s.as_bytes()).is_some(),
        }
    }
}

/// A compiled `op value`.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    /// `=` / `!=` a string (with wildcards).
    Str { negate: bool, pat: StrPattern },
    /// Any operator with a number.
    Num { op: CmpOp, n: f64 },
    /// `=` / `!=` a `%regex%` (unanchored search).
    Regex { negate: bool, re: Regex },
}

impl Test {
    pub(crate) fn new(op: CmpOp, value: &Value) -> Test {
        let negate = op == CmpOp::Ne;
        match value {
            Value::Number { value, .. } => Test::Num { op, n: *value },
            Value::Str { text, .. } => Test::Str {
                negate,
                pat: StrPattern::new(text),
            },
            Value::Regex(lit) => Test::Regex {
                negate,
                re: aws_regex::compile(&lit.body),
            },
        }
    }

    /// Test a present textual value (a space-delimited field, or a JSON string/number/bool
    /// as text). Numbers compare numerically when `text` is a number; a non-number is "not
    /// equal" (`!=` holds) and fails every other numeric operator.
    pub(crate) fn test_text(&self, text: &str) -> bool {
        match self {
            Test::Str { negate, pat } => pat.is_match(text) != *negate,
            Test::Regex { negate, re } => re.is_match(text) != *negate,
            Test::Num { op, n } => compare_num(*op, parse_number(text), *n),
        }
    }
}

/// `text` as a number, if it is one by AWS's grammar.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    if is_aws_number(text) {
        text.parse().ok()
    } else {
        None
    }
}

/// `value op n`; a missing number only satisfies `!=`.
pub(crate) fn compare_num(op: CmpOp, value: Option<f64>, n: f64) -> bool {
    let Some(v) = value else {
        return op == CmpOp::Ne;
    };
    match op {
        CmpOp::Eq => v == n,
        CmpOp::Ne => v != n,
        CmpOp::Lt => v < n,
        CmpOp::Gt => v > n,
        CmpOp::Le => v <= n,
        CmpOp::Ge => v >= n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_only_at_the_ends() {
        assert!(StrPattern::new("*Event").is_match("PutEvent"));
        assert!(StrPattern::new("Event*").is_match("EventName"));
        assert!(!StrPattern::new("Ev*ent").is_match("Event"));
        assert!(StrPattern::new("Ev*ent").is_match("Ev*ent"));
        assert!(StrPattern::new("*.html*").is_match("GET /index.html HTTP/1.0"));
        assert!(StrPattern::new("*").is_match(""));
        assert!(StrPattern::new("**").is_match("x"));
        assert!(!StrPattern::new("abc").is_match("abcd"));
    }
}
