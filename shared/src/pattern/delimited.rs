//! Space-delimited patterns: split the message into fields, line fields up with the pattern,
//! test conditions, report extracted values.
//!
//! Splitting a message (the choices are listed in the module docs of [`super`]):
//! * fields are separated by runs of ASCII whitespace (spaces and tabs; leading/trailing
//!   whitespace is ignored);
//! * a field that starts with `"` runs to the next unescaped `"`, one that starts with `[` runs
//!   to the next `]`; both may contain spaces, and the value has the enclosing quotes/brackets
//!   removed. Characters right after the closing `"`/`]` (up to whitespace) stay part of the
//!   field and its value. Without a closing character the field is an ordinary word.

use std::borrow::Cow;

use super::Extracted;
use super::ast::{Field, FieldExpr};
use super::compare::Test;

#[derive(Debug, Clone)]
pub(crate) struct DelimitedMatcher {
    fields: Vec<CField>,
    /// Index ranges into `fields` of the runs between ellipses (`None` when no `...`).
    segments: Option<Vec<(usize, usize)>>,
}

#[derive(Debug, Clone)]
enum CField {
    Ellipsis,
    /// A named (`Some`) or unnamed field, with an optional condition.
    Field {
        name: Option<String>,
        cond: Option<CExpr>,
    },
}

#[derive(Debug, Clone)]
enum CExpr {
    Or(Vec<CExpr>),
    And(Vec<CExpr>),
    Leaf(Test),
}

impl CExpr {
    fn new(e: &FieldExpr) -> CExpr {
        match e {
            FieldExpr::Or(v) => CExpr::Or(v.iter().map(CExpr::new).collect()),
            FieldExpr::And(v) => CExpr::And(v.iter().map(CExpr::new).collect()),
            FieldExpr::Cond { op, value, .. } => CExpr::Leaf(Test::new(*op, value)),
        }
    }

    fn eval(&self, value: &str) -> bool {
        match self {
            CExpr::Or(v) => v.iter().any(|e| e.eval(value)),
            CExpr::And(v) => v.iter().all(|e| e.eval(value)),
            CExpr::Leaf(t) => t.test_text(value),
        }
    }
}

/// One field of a message, as byte offsets.
#[derive(Debug, Clone, Copy)]
struct Token {
    /// Whole field, quotes/brackets included.
    start: usize,
    end: usize,
    /// Inside of the quotes/brackets (the whole field when not grouped).
    inner: (usize, usize),
    /// Characters after the closing quote/bracket (empty when none).
    trail: (usize, usize),
}

impl Token {
    fn value<'a>(&self, msg: &'a str) -> Cow<'a, str> {
        let inner = &msg[self.inner.0..self.inner.1];
        if self.trail.0 == self.trail.1 {
            Cow::Borrowed(inner)
        } else {
            Cow::Owned(format!("{inner}{}", &msg[self.trail.0..self.trail.1]))
        }
    }
}

fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0B' | b'\x0C')
}

fn tokenize(msg: &str) -> Vec<Token> {
    let b = msg.as_bytes();
    let mut toks = Vec::with_capacity(16);
    let mut i = 0;
    while i < b.len() {
        if is_sep(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let close = match b[i] {
            b'"' => {
                let mut j = i + 1;
                loop {
                    match b.get(j) {
                        None => break None,
                        Some(b'\\') => j += 2,
                        Some(b'"') => break Some(j),
                        Some(_) => j += 1,
                    }
                }
            }
            b'[' => memchr::memchr(b']', &b[i + 1..]).map(|p| i + 1 + p),
            _ => None,
        };
        let (inner, after) = match close {
            Some(c) => ((start + 1, c), c + 1),
            None => ((start, start), start),
        };
        let mut j = after;
        while j < b.len() && !is_sep(b[j]) {
            j += 1;
        }
        let (inner, trail) = if close.is_some() {
            (inner, (after, j))
        } else {
            ((start, j), (j, j))
        };
        toks.push(Token {
            start,
            end: j,
            inner,
            trail,
        });
        i = j;
    }
    toks
}

impl DelimitedMatcher {
    pub(crate) fn new(fields: &[Field]) -> DelimitedMatcher {
        let fields: Vec<CField> = fields
            .iter()
            .map(|f| match f {
                Field::Ellipsis { .. } => CField::Ellipsis,
                Field::Unnamed { .. } => CField::Field {
                    name: None,
                    cond: None,
                },
                Field::Named { name, cond, .. } => CField::Field {
                    name: Some(name.clone()),
                    cond: cond.as_ref().map(CExpr::new),
                },
            })
            .collect();
        // `[]` reports every field, exactly like `[...]` (TestMetricFilter example 3).
        let fields = if fields.is_empty() {
            vec![CField::Ellipsis]
        } else {
            fields
        };
        let segments = if fields.iter().any(|f| matches!(f, CField::Ellipsis)) {
            let mut segs = Vec::new();
            let mut start = 0;
            for (i, f) in fields.iter().enumerate() {
                if matches!(f, CField::Ellipsis) {
                    segs.push((start, i));
                    start = i + 1;
                }
            }
            segs.push((start, fields.len()));
            Some(segs)
        } else {
            None
        };
        DelimitedMatcher { fields, segments }
    }

    fn field_ok(&self, field: usize, value: &str) -> bool {
        match &self.fields[field] {
            CField::Field {
                cond: Some(cond), ..
            } => cond.eval(value),
            _ => true,
        }
    }

    fn run_ok(&self, fields: (usize, usize), toks: &[Token], msg: &str, at: usize) -> bool {
        (fields.0..fields.1)
            .enumerate()
            .all(|(k, f)| self.field_ok(f, &toks[at + k].value(msg)))
    }

    /// Match `msg`; with `extract`, also report the values (`$name`, or `$N` by position).
    pub(crate) fn eval(&self, msg: &str, extract: bool) -> Option<Extracted> {
        let toks = tokenize(msg);
        let n = toks.len();
        // For each token: the pattern field it was assigned to (None: covered by `...`).
        let mut assigned: Vec<Option<usize>> = if extract { vec![None; n] } else { Vec::new() };
        match &self.segments {
            None => {
                // No `...`: one token per field, and the last field takes the rest of the line.
                let k = self.fields.len();
                if n < k {
                    return None;
                }
                for (f, tok) in toks.iter().enumerate().take(k - 1) {
                    if !self.field_ok(f, &tok.value(msg)) {
                        return None;
                    }
                }
                let last = if n == k {
                    toks[k - 1].value(msg)
                } else {
                    Cow::Borrowed(&msg[toks[k - 1].start..toks[n - 1].end])
                };
                if !self.field_ok(k - 1, &last) {
                    return None;
                }
                if !extract {
                    return Some(Extracted::new());
                }
                let mut out: Extracted = toks[..k - 1]
                    .iter()
                    .enumerate()
                    .map(|(f, tok)| (self.key(Some(f), f), tok.value(msg).into_owned()))
                    .collect();
                out.push((self.key(Some(k - 1), k - 1), last.into_owned()));
                return Some(out);
            }
            Some(segs) => {
                let need: usize = segs.iter().map(|(a, b)| b - a).sum();
                if n < need {
                    return None;
                }
                let prefix = segs[0];
                let suffix = segs[segs.len() - 1];
                let plen = prefix.1 - prefix.0;
                let slen = suffix.1 - suffix.0;
                if !self.run_ok(prefix, &toks, msg, 0) || !self.run_ok(suffix, &toks, msg, n - slen)
                {
                    return None;
                }
                let mut place = |seg: (usize, usize), at: usize| {
                    if extract {
                        for (k, f) in (seg.0..seg.1).enumerate() {
                            assigned[at + k] = Some(f);
                        }
                    }
                };
                place(prefix, 0);
                place(suffix, n - slen);
                // Middle runs: leftmost placement (enough for existence, as in glob matching).
                let mut lo = plen;
                let hi = n - slen;
                for &seg in &segs[1..segs.len() - 1] {
                    let len = seg.1 - seg.0;
                    let found =
                        (lo..=hi.checked_sub(len)?).find(|&at| self.run_ok(seg, &toks, msg, at))?;
                    place(seg, found);
                    lo = found + len;
                }
            }
        }
        if !extract {
            return Some(Extracted::new());
        }
        Some(
            toks.iter()
                .enumerate()
                .map(|(i, t)| (self.key(assigned[i], i), t.value(msg).into_owned()))
                .collect(),
        )
    }

    fn key(&self, field: Option<usize>, position: usize) -> String {
        match field.map(|f| &self.fields[f]) {
            Some(CField::Field {
                name: Some(name), ..
            }) => format!("${name}"),
            _ => format!("${}", position + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(msg: &str) -> Vec<String> {
        tokenize(msg)
            .iter()
            .map(|t| t.value(msg).into_owned())
            .collect()
    }

    #[test]
    fn splits_on_whitespace_runs_and_groups_quotes_and_brackets() {
        assert_eq!(
            values(r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /a HTTP/1.0" 200 1534"#),
            [
                "127.0.0.1",
                "-",
                "frank",
                "10/Oct/2000:13:25:15 -0700",
                "GET /a HTTP/1.0",
                "200",
                "1534"
            ]
        );
        assert_eq!(values("  a \t b  "), ["a", "b"]);
        assert_eq!(values(r#""unterminated x"#), ["\"unterminated", "x"]);
        assert_eq!(values(r#""a b",c d"#), ["a b,c", "d"]);
        assert_eq!(values(r#""say \"hi\"" x"#), [r#"say \"hi\""#, "x"]);
        assert_eq!(values("[a [b] c]"), ["a [b", "c]"]);
        assert!(values("").is_empty());
    }
}
