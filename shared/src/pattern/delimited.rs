//! Space-delimited patterns: split the message into fields, line fields up with the pattern,
//! test conditions, report extracted values.
//!
//! Splitting a message (the choices are listed in the module docs of [`super`]):
//! * fields are separated by runs of ASCII whitespace (spaces and tabs; leading/trailing
//!   whitespace is ignored);
//! * a field that starts with `"` runs to the next unescaped `"`, one that starts with `[` runs
//!   to the next `]`; both may contain spaces, and the value has the enclosing quotes/brackets
//!   removed. The closing `"`/`]` ends the field: what follows it starts the next field even
//!   without a space (`"b"c` is `b`, `c`). Without a closing character the field is an
//!   ordinary word (`"unclosed` is itself).

use super::Extracted;
use super::ast::{Field, FieldExpr};
use super::compare::Test;

#[derive(Debug, Clone)]
pub(crate) struct DelimitedMatcher {
    fields: Vec<CField>,
    /// With a `...` (the parser allows one): the index ranges into `fields` of the fields
    /// before it and after it.
    around_ellipsis: Option<((usize, usize), (usize, usize))>,
    /// The indices of the fields with a condition, ascending (the others accept any value).
    checked: Vec<usize>,
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

/// The shortest literal worth gating a pattern on: a shorter one (`5` of `status = 5*`) is in
/// nearly every message, and each occurrence costs the set's search a restart.
const MIN_GATE_LITERAL: usize = 3;

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

    /// Literals one of which every value satisfying this contains (`None`: no such set): an
    /// `=` string condition's text without its wildcards (of at least [`MIN_GATE_LITERAL`]
    /// bytes), any one operand's of an `&&`, every operand's of an `||`.
    fn required(&self) -> Option<Vec<&[u8]>> {
        match self {
            CExpr::Leaf(Test::Str { negate: false, pat }) => pat
                .literal()
                .filter(|l| l.len() >= MIN_GATE_LITERAL)
                .map(|l| vec![l]),
            CExpr::Leaf(_) => None,
            CExpr::And(v) => v.iter().find_map(CExpr::required),
            CExpr::Or(v) => v.iter().try_fold(Vec::new(), |mut all, e| {
                all.extend(e.required()?);
                Some(all)
            }),
        }
    }

    fn eval(&self, value: &str) -> bool {
        match self {
            CExpr::Or(v) => v.iter().any(|e| e.eval(value)),
            CExpr::And(v) => v.iter().all(|e| e.eval(value)),
            CExpr::Leaf(t) => t.test_field(value),
        }
    }
}

/// One field of a message, as byte offsets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    /// Whole field, quotes/brackets included.
    start: usize,
    /// Inside of the quotes/brackets (the whole field when not grouped).
    inner: (usize, usize),
}

impl Token {
    fn value<'a>(&self, msg: &'a str) -> &'a str {
        &msg[self.inner.0..self.inner.1]
    }
}

fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0B' | b'\x0C')
}

/// Where the field starting at `from` ends: the first separator at or after it, or the end.
///
/// Eight bytes at a time: Bit Twiddling Hacks' `hasless(w, 0x21)` flags every byte below 0x21
/// (every separator is one) and possibly some bytes above a flagged one, never a byte below it
/// (a borrow only carries upwards). So the lowest flagged byte is the first candidate; it ends
/// the field if it is a separator, else the search goes on after it. The last word of a message
/// overlaps the one before (its bytes before `j` are masked off; a borrow they carry can only
/// add candidates). By hand: memchr looks for at most three distinct bytes, and there are six
/// separators.
fn field_end(b: &[u8], from: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let word_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    let mut j = from;
    while j < b.len() && b.len() >= 8 {
        let at = j.min(b.len() - 8);
        let w = word_at(at);
        let flagged = w.wrapping_sub(ONES * 0x21) & !w & HIGHS & (u64::MAX << ((j - at) * 8));
        if flagged == 0 {
            j = at + 8;
            continue;
        }
        let k = at + flagged.trailing_zeros() as usize / 8;
        if is_sep(b[k]) {
            return k;
        }
        j = k + 1;
    }
    // A message shorter than a word.
    while j < b.len() && !is_sep(b[j]) {
        j += 1;
    }
    j
}

/// Continue splitting `msg` at byte `from` (where the last field of `toks` ended, 0 at first)
/// until `toks` holds `limit` fields or the message ends. Returns where to continue, `None`
/// when the message is exhausted.
pub(crate) fn tokenize_more(
    msg: &str,
    toks: &mut Vec<Token>,
    from: usize,
    limit: usize,
) -> Option<usize> {
    let b = msg.as_bytes();
    let mut i = from;
    while i < b.len() {
        if toks.len() >= limit {
            return Some(i);
        }
        if is_sep(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let close = match b[i] {
            b'"' => {
                // The next `"` not escaped by a `\` (which escapes the byte after it).
                let mut j = i + 1;
                loop {
                    let Some(p) = b
                        .get(j..)
                        .and_then(|rest| memchr::memchr2(b'\\', b'"', rest))
                    else {
                        break None;
                    };
                    if b[j + p] == b'"' {
                        break Some(j + p);
                    }
                    j += p + 2;
                }
            }
            b'[' => memchr::memchr(b']', &b[i + 1..]).map(|p| i + 1 + p),
            _ => None,
        };
        match close {
            // The closing quote/bracket ends the field: `"b"c` is the fields `b` and `c`.
            Some(c) => {
                toks.push(Token {
                    start,
                    inner: (start + 1, c),
                });
                i = c + 1;
            }
            None => {
                let j = field_end(b, start);
                toks.push(Token {
                    start,
                    inner: (start, j),
                });
                i = j;
            }
        }
    }
    None
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
        let around_ellipsis = fields
            .iter()
            .position(|f| matches!(f, CField::Ellipsis))
            .map(|e| ((0, e), (e + 1, fields.len())));
        let checked = (0..fields.len())
            .filter(|&f| matches!(fields[f], CField::Field { cond: Some(_), .. }))
            .collect();
        DelimitedMatcher {
            fields,
            around_ellipsis,
            checked,
        }
    }

    /// How many leading fields of a message decide whether this pattern matches (`extract`:
    /// and give its extracted values): a caller may split only that far ([`tokenize_more`]'s
    /// `limit`) before [`Self::eval_tokens`].
    /// * Without a `...`: one field more than the pattern has. The last field takes the rest of
    ///   the line, and all the rest decides is whether another field follows.
    /// * Ending with `...`: the fields before it to decide; every field to extract (each one is
    ///   reported).
    /// * A `...` elsewhere: every field.
    pub(crate) fn fields_needed(&self, extract: bool) -> usize {
        match self.around_ellipsis {
            None => self.fields.len() + 1,
            Some((prefix, suffix)) if suffix.0 == suffix.1 && !extract => prefix.1 - prefix.0,
            Some(_) => usize::MAX,
        }
    }

    /// Literals one of which every message this matches contains (`None`: no such set): a
    /// field's value is a part of the message, so a condition's literals are the message's
    /// (see `CExpr::required`); the first field that has any gives them.
    pub(crate) fn required_literals(&self) -> Option<Vec<&[u8]>> {
        self.fields.iter().find_map(|f| match f {
            CField::Field {
                cond: Some(cond), ..
            } => cond.required(),
            _ => None,
        })
    }

    fn field_ok(&self, field: usize, value: &str) -> bool {
        match &self.fields[field] {
            CField::Field {
                cond: Some(cond), ..
            } => cond.eval(value),
            _ => true,
        }
    }

    /// Do the tokens from `at` on satisfy the fields `fields.0..fields.1`? Only the fields with
    /// a condition are looked at.
    fn run_ok(&self, fields: (usize, usize), toks: &[Token], msg: &str, at: usize) -> bool {
        self.checked
            .iter()
            .filter(|&&f| (fields.0..fields.1).contains(&f))
            .all(|&f| self.field_ok(f, toks[at + f - fields.0].value(msg)))
    }

    /// Match `msg`; with `extract`, also report the values (`$name`, or `$N` by position).
    /// Splits only as far as [`Self::fields_needed`] says.
    pub(crate) fn eval(&self, msg: &str, extract: bool) -> Option<Extracted> {
        let mut toks = Vec::new();
        let mut rest = tokenize_more(msg, &mut toks, 0, self.fields_needed(false));
        self.eval_split(msg, &mut toks, &mut rest, extract)
    }

    /// [`Self::eval`] over a split that a caller shares between patterns: `toks` holds the
    /// first fields of `msg`, at least [`Self::fields_needed`]`(false)` of them unless `rest`
    /// (where [`tokenize_more`] stopped) is `None`. A match that needs more fields for its
    /// extracted values splits further.
    pub(crate) fn eval_split(
        &self,
        msg: &str,
        toks: &mut Vec<Token>,
        rest: &mut Option<usize>,
        extract: bool,
    ) -> Option<Extracted> {
        self.eval_tokens(msg, toks, false)?;
        if !extract {
            return Some(Extracted::new());
        }
        if let Some(at) = *rest
            && toks.len() < self.fields_needed(true)
        {
            *rest = tokenize_more(msg, toks, at, usize::MAX);
        }
        self.eval_tokens(msg, toks, true)
    }

    /// [`Self::eval`] on the first fields of `msg` ([`tokenize_more`]): all of them, or at least
    /// [`Self::fields_needed`]`(extract)`.
    fn eval_tokens(&self, msg: &str, toks: &[Token], extract: bool) -> Option<Extracted> {
        let n = toks.len();
        let Some((prefix, suffix)) = self.around_ellipsis else {
            // No `...`: one token per field, and the last field takes the rest of the line: its
            // one token (quotes/brackets removed) when only one is left, otherwise the rest of
            // the message exactly as written (quotes, brackets, trailing spaces).
            let k = self.fields.len();
            if n < k {
                return None;
            }
            for (f, tok) in toks.iter().enumerate().take(k - 1) {
                if !self.field_ok(f, tok.value(msg)) {
                    return None;
                }
            }
            let last = if n == k {
                toks[k - 1].value(msg)
            } else {
                &msg[toks[k - 1].start..]
            };
            if !self.field_ok(k - 1, last) {
                return None;
            }
            if !extract {
                return Some(Extracted::new());
            }
            let mut out: Extracted = toks[..k - 1]
                .iter()
                .enumerate()
                .map(|(f, tok)| (self.key(Some(f), f), tok.value(msg).to_string()))
                .collect();
            out.push((self.key(Some(k - 1), k - 1), last.to_string()));
            return Some(out);
        };
        let plen = prefix.1 - prefix.0;
        let slen = suffix.1 - suffix.0;
        if n < plen + slen {
            return None;
        }
        if !self.run_ok(prefix, toks, msg, 0) || !self.run_ok(suffix, toks, msg, n - slen) {
            return None;
        }
        if !extract {
            return Some(Extracted::new());
        }
        // Each token is reported: by its field's name when a field was assigned to it, by its
        // position when it is covered by the `...`.
        let field_of = |i: usize| {
            if i < plen {
                Some(prefix.0 + i)
            } else if i >= n - slen {
                Some(suffix.0 + i - (n - slen))
            } else {
                None
            }
        };
        Some(
            toks.iter()
                .enumerate()
                .map(|(i, t)| (self.key(field_of(i), i), t.value(msg).to_string()))
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

    fn tokenize(msg: &str) -> Vec<Token> {
        let mut toks = Vec::new();
        assert_eq!(tokenize_more(msg, &mut toks, 0, usize::MAX), None);
        toks
    }

    /// The split as it was written before `field_end` and the `memchr2` quote search: one byte
    /// at a time (the oracle of the property test below).
    fn tokenize_bytewise(msg: &str) -> Vec<Token> {
        let b = msg.as_bytes();
        let (mut toks, mut i) = (Vec::new(), 0);
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
                b'[' => b[i + 1..]
                    .iter()
                    .position(|&c| c == b']')
                    .map(|p| i + 1 + p),
                _ => None,
            };
            if let Some(c) = close {
                toks.push(Token {
                    start,
                    inner: (start + 1, c),
                });
                i = c + 1;
            } else {
                let mut j = start;
                while j < b.len() && !is_sep(b[j]) {
                    j += 1;
                }
                toks.push(Token {
                    start,
                    inner: (start, j),
                });
                i = j;
            }
        }
        toks
    }

    proptest::proptest! {
        /// Fields are split exactly as byte by byte: separators, quotes, escapes and brackets
        /// anywhere, long and short fields, bytes above 0x7F and just above the separators.
        #[test]
        fn the_split_equals_the_bytewise_split(
            parts in proptest::collection::vec(proptest::prop_oneof![
                "[ \t\n\r\x0B\x0C]{1,3}",
                "[a-z0-9!\x21\x7f]{1,20}",
                "\"[a-z \\\\\"]{0,12}\"?",
                "\\[[a-z ]{0,10}\\]?",
                "[é€😀]{1,4}",
                "\\\\",
            ], 0..12)
        ) {
            let msg: String = parts.concat();
            let mut toks = Vec::new();
            assert_eq!(tokenize_more(&msg, &mut toks, 0, usize::MAX), None);
            let got: Vec<_> = toks.iter().map(|t| (t.start, t.inner)).collect();
            let want: Vec<_> = tokenize_bytewise(&msg).iter().map(|t| (t.start, t.inner)).collect();
            proptest::prop_assert_eq!(got, want, "{:?}", msg);
        }
    }

    fn matcher(pattern: &str) -> DelimitedMatcher {
        let crate::pattern::ast::Ast::Delimited(fields) =
            crate::pattern::parse::parse(pattern).unwrap()
        else {
            panic!("{pattern} is not a delimited pattern");
        };
        DelimitedMatcher::new(&fields)
    }

    proptest::proptest! {
        /// Splitting only as far as `fields_needed` says decides and extracts exactly as the
        /// whole split does: with and without a `...`, messages with fewer, as many and more
        /// fields than the pattern, trailing spaces, quotes and brackets.
        #[test]
        fn a_split_as_far_as_needed_answers_like_the_whole_split(
            pattern in proptest::sample::select(&[
                "[a]", "[a, b]", "[a, b = 5*, c]", "[a, b, c = \"x y\"]", "[a = x*, b]",
                "[a, ...]", "[a = x*, ...]", "[..., z = 5*]", "[a, ..., z]", "[]", "[...]",
                "[a, b, c, d, e, f]", "[a != x, b = *5]",
            ][..]),
            parts in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(" ".to_string()),
                proptest::strategy::Just("  ".to_string()),
                proptest::strategy::Just("\t".to_string()),
                "[x5]{1,3}",
                proptest::strategy::Just("\"x y\"".to_string()),
                proptest::strategy::Just("[x 5]".to_string()),
                proptest::strategy::Just("\"5".to_string()),
            ], 0..14),
            extract in proptest::bool::ANY,
        ) {
            let msg: String = parts.concat();
            let m = matcher(pattern);
            let want = m.eval_tokens(&msg, &tokenize(&msg), extract);
            proptest::prop_assert_eq!(m.eval(&msg, extract), want.clone(), "{:?} on {:?}", pattern, msg);
            // As the set uses it: a split already made for another pattern that needs more.
            let mut toks = Vec::new();
            let needed = m.fields_needed(false).saturating_add(3);
            let mut rest = tokenize_more(&msg, &mut toks, 0, needed);
            proptest::prop_assert_eq!(m.eval_split(&msg, &mut toks, &mut rest, extract), want);
        }
    }

    #[test]
    fn a_pattern_needs_one_field_more_than_it_has_or_those_before_a_final_ellipsis() {
        assert_eq!(matcher("[a, b = 5*, c]").fields_needed(false), 4);
        assert_eq!(matcher("[a, b = 5*, c]").fields_needed(true), 4);
        assert_eq!(matcher("[a, b = 5*, ...]").fields_needed(false), 2);
        assert_eq!(matcher("[a, b = 5*, ...]").fields_needed(true), usize::MAX);
        assert_eq!(matcher("[a, ..., b]").fields_needed(false), usize::MAX);
        assert_eq!(matcher("[..., b]").fields_needed(false), usize::MAX);
    }

    proptest::proptest! {
        /// `field_end` finds the first separator at or after `from`, as a byte-by-byte scan
        /// does: control bytes that are not separators, `!` (0x21) just after a separator (a
        /// borrow of the word arithmetic reaches it), bytes above 0x7F, any start, short and
        /// long messages (the last word overlaps the one before).
        #[test]
        fn a_field_ends_where_a_bytewise_scan_finds_the_first_separator(
            bytes in proptest::collection::vec(proptest::sample::select(&[
                0x00u8, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x1F, 0x20, 0x21, 0x22, b'a',
                0x7F, 0x80, 0xFF,
            ][..]), 0..40),
            from in 0usize..41,
        ) {
            let from = from.min(bytes.len());
            let want = (from..bytes.len()).find(|&i| is_sep(bytes[i])).unwrap_or(bytes.len());
            proptest::prop_assert_eq!(field_end(&bytes, from), want, "{:?} from {}", bytes, from);
        }
    }

    #[test]
    fn a_field_ends_at_the_first_separator_of_any_kind() {
        for sep in [b' ', b'\t', b'\n', b'\r', 0x0B, 0x0C] {
            for at in 0..20 {
                let mut b = vec![b'x'; 24];
                b[at] = sep;
                assert_eq!(field_end(&b, 0), at, "separator {sep:#x} at {at}");
            }
        }
        // Bytes just above the separators and non-ASCII bytes are field bytes.
        let b = "!\x21\x7fé€x".repeat(3);
        assert_eq!(field_end(b.as_bytes(), 0), b.len());
        assert_eq!(field_end(b"ab cd", 3), 5);
        assert_eq!(field_end(b"", 0), 0);
    }

    fn values(msg: &str) -> Vec<String> {
        tokenize(msg)
            .iter()
            .map(|t| t.value(msg).to_string())
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
        assert_eq!(values(r#""a b",c d"#), ["a b", ",c", "d"]);
        assert_eq!(values(r#"a "b"c d"#), ["a", "b", "c", "d"]);
        assert_eq!(values("[x]y [z"), ["x", "y", "[z"]);
        assert_eq!(values(r#""say \"hi\"" x"#), [r#"say \"hi\""#, "x"]);
        assert_eq!(values("[a [b] c]"), ["a [b", "c]"]);
        assert!(values("").is_empty());
    }

    /// The literals `pattern` (a delimited pattern) gates on.
    fn gate(pattern: &str) -> Option<Vec<String>> {
        matcher(pattern).required_literals().map(|ls| {
            ls.into_iter()
                .map(|l| String::from_utf8(l.to_vec()).unwrap())
                .collect()
        })
    }

    #[test]
    fn a_pattern_gates_on_the_literals_its_string_conditions_need() {
        let some = |ls: &[&str]| Some(ls.iter().map(|l| l.to_string()).collect::<Vec<_>>());
        assert_eq!(gate("[a = ERROR, ...]"), some(&["ERROR"]));
        assert_eq!(gate("[a, b = *timeout*]"), some(&["timeout"]));
        assert_eq!(gate("[a = ERR*, b = *out, ...]"), some(&["ERR"]));
        assert_eq!(gate("[a, b = \"two words\", ...]"), some(&["two words"]));
        assert_eq!(
            gate("[a = ERROR || a = WARN, ...]"),
            some(&["ERROR", "WARN"])
        );
        assert_eq!(gate("[a = ERR* && a != ERRX, ...]"), some(&["ERR"]));
        assert_eq!(gate("[a != ERRX && a = WARN*, ...]"), some(&["WARN"]));
        // The first field with literals decides; one without literals does not stop the search.
        assert_eq!(gate("[a = 500, b = WARN]"), some(&["WARN"]));
        // Nothing to gate on: no condition, a negation, a number, a regex, `*`, a literal
        // shorter than 3 bytes (in nearly every message), an `||` with one operand without one.
        for pattern in [
            "[a, b, ...]",
            "[a != ERROR, ...]",
            "[a = 500, ...]",
            "[a = %ERROR%, ...]",
            "[a = *, ...]",
            "[a, b = 5*, ...]",
            "[a = ER, ...]",
            "[a = ERROR || a = 5, ...]",
            "[a = ERROR || a != WARN, ...]",
        ] {
            assert_eq!(gate(pattern), None, "{pattern}");
        }
    }
}
