//! Value tests shared by JSON and space-delimited patterns: wildcard strings, numbers, regexes,
//! and how each kind of value in a message compares with each kind of pattern value.

use std::borrow::Cow;
use std::cmp::Ordering;

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
    /// Any operator with a number: its exact value, and its spelling (compared with strings).
    /// `small`: the value as an `f64` when it is an integer of at most 15 digits (exact, see
    /// [`Test::compare_number`]).
    Num {
        op: CmpOp,
        n: Decimal,
        text: String,
        small: Option<f64>,
    },
    /// `=` / `!=` a `%regex%` (unanchored search).
    Regex { negate: bool, re: Regex },
}

impl Test {
    pub(crate) fn new(op: CmpOp, value: &Value) -> Test {
        let negate = op == CmpOp::Ne;
        match value {
            Value::Number { text, .. } => {
                // The parser accepted `text` by the same grammar, so this never falls back.
                let n = Decimal::parse(text).unwrap_or_default();
                Test::Num {
                    op,
                    small: n.small_integer().map(|i| i as f64),
                    n,
                    text: text.clone(),
                }
            }
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

    /// Test a space-delimited field. Every field is text; a number condition compares
    /// numerically when the field is a number (`1.0` = `1`), and a field that is not one is
    /// "not equal" (`!=` holds) and fails every other operator.
    pub(crate) fn test_field(&self, text: &str) -> bool {
        match self {
            Test::Str { negate, pat } => pat.is_match(text) != *negate,
            Test::Regex { negate, re } => re.is_match(text) != *negate,
            Test::Num { op, n, small, .. } => {
                if !is_aws_number(text) {
                    return *op == CmpOp::Ne;
                }
                match Test::compare_number(*op, n, *small, JsonNumber::new(text)) {
                    Some(holds) => holds,
                    None => *op == CmpOp::Ne,
                }
            }
        }
    }

    /// Test a JSON string. A string is compared as text, with a number condition too: `= 1`
    /// holds for `"1"` but not for `"01"` or `"1.0"`, `!= 1` holds for any other string; the
    /// ordering operators never hold for strings.
    pub(crate) fn test_json_str(&self, s: &str) -> bool {
        match self {
            Test::Str { negate, pat } => pat.is_match(s) != *negate,
            Test::Regex { negate, re } => re.is_match(s) != *negate,
            Test::Num { op, text, .. } => match op {
                CmpOp::Eq => s == text,
                CmpOp::Ne => s != text,
                _ => false,
            },
        }
    }

    /// Test a JSON number, `raw` as written in the message. A number condition compares its
    /// exact value ([`JsonNumber`]); a number out of range (`1e309`) fails every operator,
    /// `!=` too. A string condition or a regex sees the number as AWS prints it
    /// ([`JsonNumber::text`]: `1e3` is `1000.0`).
    pub(crate) fn test_json_num(&self, raw: &str) -> bool {
        let num = JsonNumber::new(raw);
        match self {
            Test::Num { op, n, small, .. } => {
                Test::compare_number(*op, n, *small, num).unwrap_or(false)
            }
            Test::Str { negate, pat } => pat.is_match(&num.text()) != *negate,
            Test::Regex { negate, re } => re.is_match(&num.text()) != *negate,
        }
    }
}

impl Test {
    /// `num op n`, `None` when `num` is out of range ([`JsonNumber::value`]).
    ///
    /// The fast path, without building a [`Decimal`] (most conditions are small integers —
    /// `status >= 500`, `latency > 100`): when `n` is an integer of at most 15 digits (`small`,
    /// exactly an `f64`), an integer `num` of at most 15 digits is exactly an `f64` too, and
    /// any other `num` is compared as the double `d` it reads as. That is exact: `num`'s value
    /// is the shortest decimal that reads back as `d`, a strictly increasing function of `d`,
    /// and `n` is its own shortest decimal, so `value op n` holds exactly when `d op n` does.
    fn compare_number(
        op: CmpOp,
        n: &Decimal,
        small: Option<f64>,
        num: JsonNumber<'_>,
    ) -> Option<bool> {
        if let (Some(n), Some(plain)) = (small, num.plain())
            && let Some(answer) = compare_plain(op, plain, n)
        {
            return Some(answer);
        }
        match (small, num.small_f64()) {
            (Some(n), Some(d)) => d.map(|d| compare_f64(op, d, n)),
            _ => num.value().map(|v| compare(op, &v, n)),
        }
    }
}

/// `plain op n` for a plain number ([`JsonNumber::plain`]) and a small integer bound, in one
/// pass, when it can be told without reading the number as a double; `None` leaves it to
/// [`Test::compare_number`]'s other paths, which give the same answer wherever this one gives
/// one (it is only faster).
fn compare_plain(op: CmpOp, plain: Plain, n: f64) -> Option<bool> {
    match plain {
        // Exactly an `f64`, as `small_f64` would read it.
        Plain::Integer(i) => Some(compare_f64(op, i as f64, n)),
        Plain::Fraction { whole } => {
            // The number is in [whole, whole + 1), so the double it reads as is in
            // [whole, whole + 1] (both exact doubles; rounding is monotonic): when `n` is
            // outside that range, `whole` compares with it as that double does, without
            // reading the fraction.
            let whole = whole as f64;
            (whole + 1.0 < n || whole > n).then(|| compare_f64(op, whole, n))
        }
    }
}

fn compare_f64(op: CmpOp, d: f64, n: f64) -> bool {
    match op {
        CmpOp::Eq => d == n,
        CmpOp::Ne => d != n,
        CmpOp::Lt => d < n,
        CmpOp::Gt => d > n,
        CmpOp::Le => d <= n,
        CmpOp::Ge => d >= n,
    }
}

/// `value op n`.
pub(crate) fn compare(op: CmpOp, value: &Decimal, n: &Decimal) -> bool {
    let ord = value.cmp(n);
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    }
}

/// A number from a message, read the way AWS reads it (Jackson-style): an integer (no `.`, no
/// exponent) keeps its exact value, however long; anything else becomes an IEEE double first —
/// `1e-999` is `0`, and `1e309`, beyond the double range, is not a number at all.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonNumber<'a> {
    raw: &'a str,
}

/// A plain number ([`JsonNumber::plain`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plain {
    /// An integer of at most 15 digits.
    Integer(i64),
    /// A non-negative number with a fraction: its whole part, of at most 15 digits.
    Fraction { whole: u64 },
}

impl<'a> JsonNumber<'a> {
    pub(crate) fn new(raw: &'a str) -> JsonNumber<'a> {
        JsonNumber { raw }
    }

    fn is_integer(&self) -> bool {
        !self.raw.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
    }

    fn double(&self) -> f64 {
        self.raw.parse::<f64>().unwrap_or(f64::NAN)
    }

    /// The number read in one pass when it is plain: `-?[0-9]{1,15}` is an [`Plain::Integer`]
    /// (its value), a non-negative `[0-9]{1,15}\.[0-9]+` a [`Plain::Fraction`] (`24.1432` has
    /// the whole part 24); `None` for any other form (exponents, signs on fractions, longer
    /// numbers), which the full path reads.
    fn plain(&self) -> Option<Plain> {
        let b = self.raw.as_bytes();
        let negative = b.first() == Some(&b'-');
        let digits = &b[usize::from(negative)..];
        let whole_digits = digits
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        if !(1..=15).contains(&whole_digits) {
            return None;
        }
        let whole = digits[..whole_digits]
            .iter()
            .fold(0, |v, &d| v * 10 + u64::from(d - b'0'));
        let Some(rest) = digits[whole_digits..].strip_prefix(b".") else {
            // Fewer than 2^50: exactly an `i64`, and exactly an `f64`.
            let value = whole as i64;
            return (whole_digits == digits.len()).then_some(Plain::Integer(if negative {
                -value
            } else {
                value
            }));
        };
        (!negative && !rest.is_empty() && rest.iter().all(u8::is_ascii_digit))
            .then_some(Plain::Fraction { whole })
    }

    /// For [`Test::compare_number`]'s fast path: `Some(Some(d))` — an integer of at most 15
    /// digits (exactly `d`) or a non-integer that reads as the finite double `d`;
    /// `Some(None)` — a non-integer out of range; `None` — a longer integer (exact path).
    fn small_f64(&self) -> Option<Option<f64>> {
        if self.is_integer() {
            let digits = self.raw.trim_start_matches(['-', '+']);
            return (digits.len() <= 15)
                .then(|| self.raw.parse::<i64>().ok().map(|i| i as f64))
                .flatten()
                .map(Some);
        }
        let d = self.double();
        Some(d.is_finite().then_some(d))
    }

    /// The exact value compared with a pattern's number; `None` out of range.
    pub(crate) fn value(&self) -> Option<Decimal> {
        if self.is_integer() {
            return Decimal::parse(self.raw);
        }
        let d = self.double();
        // `{:e}` is the shortest text that reads back as the same double.
        d.is_finite()
            .then(|| Decimal::parse(&format!("{d:e}")))
            .flatten()
    }

    /// The number as text, for string conditions and regexes: an integer as written (`-0` is
    /// `0`), any other number as Java prints a double (`1.0`, `1000.0`, `1.0E-4`, `Infinity`).
    pub(crate) fn text(&self) -> Cow<'a, str> {
        if self.is_integer() {
            let digits = self.raw.trim_start_matches(['-', '+']);
            if digits.bytes().all(|b| b == b'0') {
                return Cow::Borrowed("0");
            }
            return Cow::Borrowed(self.raw.strip_prefix('+').unwrap_or(self.raw));
        }
        Cow::Owned(java_double(self.double()))
    }
}

/// Java's `Double.toString`: plain notation with at least one fraction digit for magnitudes in
/// [10⁻³, 10⁷), otherwise `d.dddE±n`; shortest round-trip digits.
pub(crate) fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let sign = if d.is_sign_negative() { "-" } else { "" };
    if d == 0.0 {
        return format!("{sign}0.0");
    }
    let sci = format!("{:e}", d.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-3..7).contains(&exp) {
        if exp < 0 {
            let zeros = "0".repeat((-exp - 1) as usize);
            format!("{sign}0.{zeros}{digits}")
        } else {
            let int_len = exp as usize + 1;
            let padded = format!("{digits:0<int_len$}");
            let (int, frac) = padded.split_at(int_len);
            let frac = if frac.is_empty() { "0" } else { frac };
            format!("{sign}{int}.{frac}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exp}")
    }
}

/// An exact decimal number: `0.d₁d₂… × 10^exp` with no leading or trailing zero digits (zero
/// has no digits). Compared exactly, so `9007199254740993` ≠ `9007199254740992` and the
/// pattern's `1e309` is a number (just larger than any double).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exp: i64,
}

/// Exponents are clamped here: far beyond any double, and no overflow in the arithmetic.
const MAX_EXP: i64 = 1 << 40;

impl Decimal {
    /// Parse AWS's number grammar (`-1.5`, `+1000`, `.5`, `1e+3`); `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<Decimal> {
        if !is_aws_number(text) {
            return None;
        }
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exp_text) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, "0"),
        };
        let exp_neg = exp_text.starts_with('-');
        let exp_digits = exp_text.trim_start_matches(['+', '-']);
        let mut e: i64 = 0;
        for b in exp_digits.bytes() {
            e = (e * 10 + i64::from(b - b'0')).min(MAX_EXP);
        }
        if exp_neg {
            e = -e;
        }
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
        let mut exp = e + int.len() as i64;
        let leading = digits.iter().take_while(|&&d| d == b'0').count();
        digits.drain(..leading);
        exp -= leading as i64;
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        if digits.is_empty() {
            return Some(Decimal::default());
        }
        Some(Decimal {
            negative,
            digits,
            exp,
        })
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The value when it is an integer of at most 15 digits (so exactly an `f64`).
    fn small_integer(&self) -> Option<i64> {
        if self.is_zero() {
            return Some(0);
        }
        let len = self.digits.len() as i64;
        if self.exp < len || self.exp > 15 {
            return None;
        }
        let mut v: i64 = 0;
        for &d in &self.digits {
            v = v * 10 + i64::from(d - b'0');
        }
        for _ in len..self.exp {
            v *= 10;
        }
        Some(if self.negative { -v } else { v })
    }

    fn cmp_magnitude(&self, other: &Decimal) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            // Both normalised: a larger exponent is a larger number; then digit by digit (no
            // trailing zeros, so a longer run of equal digits is the larger one).
            (false, false) => self
                .exp
                .cmp(&other.exp)
                .then_with(|| self.digits.cmp(&other.digits)),
        }
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Decimal) -> Ordering {
        let neg = |d: &Decimal| d.negative && !d.is_zero();
        match (neg(self), neg(other)) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Decimal) -> Option<Ordering> {
        Some(self.cmp(other))
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

    fn dec(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    const OPS: [CmpOp; 6] = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Gt,
        CmpOp::Le,
        CmpOp::Ge,
    ];

    /// The fast path of `compare_number` against the exact one (`Decimal` throughout).
    fn check_fast_path(raw: &str, n: &str) {
        let n = dec(n);
        let small = n.small_integer().map(|i| i as f64);
        for op in OPS {
            let exact = JsonNumber::new(raw).value().map(|v| compare(op, &v, &n));
            let fast = Test::compare_number(op, &n, small, JsonNumber::new(raw));
            assert_eq!(fast, exact, "{raw} {op:?} {n:?}");
        }
    }

    #[test]
    fn small_numbers_compare_like_decimals() {
        let raws = [
            "0",
            "-0",
            "1",
            "-1",
            "7",
            "450",
            "-450",
            "450.0",
            "4.5e2",
            "4.5E+2",
            "45e1",
            "449.99999999999999",
            "450.00000000000001",
            "450.0000000001",
            "449.9999999999",
            "448.99999999999999999",
            "449.99999999999999999",
            "451.00000000000000001",
            "24.143211813406175",
            "999999999999998.99999",
            "999999999999999.5",
            "9999999999999999.5",
            "0.99999999999999999999",
            "999999999999999",
            "-999999999999999",
            "1000000000000000",
            "9007199254740993",
            "0.1",
            "1e-999",
            "-1e-999",
            "1e309",
            "-1e309",
            "123.456",
            "1e15",
            "1e16",
            "5e-324",
            "1.7976931348623157e308",
            "100.000000000000000000001",
            "+5",
            "007",
            ".5",
            "5.",
        ];
        let ns = [
            "0",
            "1",
            "-1",
            "450",
            "500",
            "100",
            "999999999999999",
            "-999999999999999",
            "1000000000000000",
            "1e2",
            "4.5e2",
            "0.5",
            "0.1",
            "1e309",
            "9007199254740993",
        ];
        for raw in raws {
            for n in ns {
                check_fast_path(raw, n);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_fast_path_is_exact_on_random_numbers(
            i in -2_000_000i64..2_000_000,
            f in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
            n in -1_000_000i64..1_000_000,
            scale in 0u32..10,
        ) {
            let n = (n * 10i64.pow(scale % 4)).to_string();
            for raw in [i.to_string(), format!("{f:e}"), format!("{f}"), format!("{}.5", i / 3), format!("{i}e{scale}")] {
                check_fast_path(&raw, &n);
            }
        }
    }

    #[test]
    fn plain_numbers_are_answered_in_one_pass_except_a_fraction_next_to_the_bound() {
        let raws = [
            "0",
            "-0",
            "7",
            "24",
            "25",
            "-24",
            "450",
            "-450",
            "999999999999999",
            "0.5",
            "23.5",
            "24.5",
            "24.99999999999999999",
            "25.5",
            "449.9",
            "450.5",
            "451.5",
        ];
        for raw in raws {
            let num = JsonNumber::new(raw);
            let plain = num.plain().expect(raw);
            let exact = num.value().expect(raw);
            for bound in [-450i64, -24, 0, 24, 25, 26, 450, 451, 999_999_999_999_999] {
                let n = bound as f64;
                // Told in one pass: every integer, and a fraction whose whole part `w` is not
                // within [n - 1, n] (then the fraction cannot decide it).
                let told = match plain {
                    Plain::Integer(_) => true,
                    Plain::Fraction { whole } => (whole as f64) + 1.0 < n || (whole as f64) > n,
                };
                for op in OPS {
                    let answer = compare_plain(op, plain, n);
                    assert_eq!(answer.is_some(), told, "{raw} {op:?} {bound}");
                    if let Some(answer) = answer {
                        let expected = compare(op, &exact, &dec(&bound.to_string()));
                        assert_eq!(answer, expected, "{raw} {op:?} {bound}");
                    }
                }
            }
        }
    }

    #[test]
    fn plain_numbers_are_integers_and_fractions_of_at_most_15_whole_digits() {
        let plain = |raw| JsonNumber::new(raw).plain();
        assert_eq!(
            plain("24.143211813406175"),
            Some(Plain::Fraction { whole: 24 })
        );
        assert_eq!(plain("0.5"), Some(Plain::Fraction { whole: 0 }));
        assert_eq!(
            plain("999999999999999.9"),
            Some(Plain::Fraction {
                whole: 999_999_999_999_999
            })
        );
        assert_eq!(plain("401"), Some(Plain::Integer(401)));
        assert_eq!(plain("-401"), Some(Plain::Integer(-401)));
        assert_eq!(plain("-0"), Some(Plain::Integer(0)));
        assert_eq!(plain("007"), Some(Plain::Integer(7)));
        assert_eq!(
            plain("-999999999999999"),
            Some(Plain::Integer(-999_999_999_999_999))
        );
        // Any other form is left to the full path.
        for raw in [
            "",
            "-",
            "+5",
            "-1.5",
            "1e3",
            "1.5e3",
            "1E3",
            "24.",
            ".5",
            "-.5",
            "1000000000000000",
            "1000000000000000.5",
            "2x.5",
            "2.x",
            "2.5.1",
            "5-",
            "--5",
        ] {
            assert_eq!(plain(raw), None, "{raw}");
        }
    }

    proptest::proptest! {
        /// Fractions next to the condition's integer (the whole-part shortcut's edges).
        #[test]
        fn fractions_next_to_the_bound_compare_exactly(
            n in 0i64..1_000_000_000_000_000,
            delta in -2i64..=2,
            fraction in "(9{1,25}|0{1,25}1|[0-9]{1,20})",
        ) {
            let whole = (n + delta).max(0);
            check_fast_path(&format!("{whole}.{fraction}"), &n.to_string());
        }
    }

    #[test]
    fn decimals_compare_exactly() {
        assert_eq!(dec("1"), dec("1.0"));
        assert_eq!(dec("1e3"), dec("1000"));
        assert_eq!(dec("+1"), dec("1"));
        assert_eq!(dec("-0"), dec("0"));
        assert_eq!(dec("0.000"), dec("0e5"));
        assert_eq!(dec(".5"), dec("5e-1"));
        assert!(dec("9007199254740993") > dec("9007199254740992"));
        assert!(dec("1e309") > dec("1e308"));
        assert!(dec("-2") < dec("-1"));
        assert!(dec("-1") < dec("0"));
        assert!(dec("0.12") < dec("0.123"));
        assert!(dec("1e-999") > dec("0"));
        assert!(dec("-1e-999") < dec("0"));
        assert!(dec("99") < dec("100"));
        assert!(dec("1e99999999999999999999") > dec("1e308"));
        assert!(Decimal::parse("1e").is_none());
        assert!(Decimal::parse("0x10").is_none());
    }

    #[test]
    fn json_numbers_read_like_jackson() {
        let v = |raw: &str| JsonNumber::new(raw).value();
        assert_eq!(v("1.0"), Some(dec("1")));
        assert_eq!(v("1e3"), Some(dec("1000")));
        assert_eq!(v("1e-999"), Some(dec("0")));
        assert_eq!(v("-0.0"), Some(dec("0")));
        assert_eq!(v("1e309"), None);
        assert_eq!(v("-1e309"), None);
        assert_eq!(v("0.1"), Some(dec("0.1")));
        // Integers stay exact, doubles do not.
        assert_eq!(v("9007199254740993"), Some(dec("9007199254740993")));
        assert_eq!(v("9007199254740993.0"), Some(dec("9007199254740992")));
        assert_eq!(
            v("123456789012345678901234567890"),
            Some(dec("123456789012345678901234567890"))
        );
    }

    #[test]
    fn json_numbers_print_like_java() {
        let t = |raw: &str| JsonNumber::new(raw).text().into_owned();
        assert_eq!(t("1"), "1");
        assert_eq!(t("-0"), "0");
        assert_eq!(t("1.0"), "1.0");
        assert_eq!(t("1.50"), "1.5");
        assert_eq!(t("1e3"), "1000.0");
        assert_eq!(t("1e7"), "1.0E7");
        assert_eq!(t("12345678.9"), "1.23456789E7");
        assert_eq!(t("0.001"), "0.001");
        assert_eq!(t("0.0001"), "1.0E-4");
        assert_eq!(t("-2.5e-5"), "-2.5E-5");
        assert_eq!(t("1e-999"), "0.0");
        assert_eq!(t("-0.0"), "-0.0");
        assert_eq!(t("1e309"), "Infinity");
        assert_eq!(t("-1e309"), "-Infinity");
        assert_eq!(t("9007199254740993"), "9007199254740993");
    }
}
