//! The typed syntax tree of a filter pattern. Every node carries the [`Span`] (character
//! positions) it was parsed from, so later checks can point at the right place.
//!
//! [`fmt::Display`](std::fmt::Display) (in `display.rs`) prints a canonical form that parses
//! back to the same tree.

/// Half-open range of 0-based character positions in the pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// A whole pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    /// Empty (or all-whitespace) pattern: matches every event.
    Empty,
    /// Unstructured terms: `ERROR -healthcheck "Task timed out"`, `?ERROR ?WARN`.
    Terms(Vec<Term>),
    /// A whole-pattern regular expression: `%ERROR|WARN%`.
    Regex(RegexLit),
    /// `{ $.level = "ERROR" && $.latency > 100 }`
    Json(JsonExpr),
    /// `[ip, user, ..., status_code = 4*, bytes]`
    Delimited(Vec<Field>),
}

/// How a term takes part in matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermMode {
    /// `ERROR`: must occur.
    Include,
    /// `-ERROR`: must not occur.
    Exclude,
    /// `?ERROR`: at least one optional term must occur (ignored when mixed with other terms).
    Optional,
}

/// One unstructured term.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub mode: TermMode,
    /// The text searched for (quotes removed, `\"` unescaped).
    pub text: String,
    /// Written as a `"quoted phrase"`.
    pub quoted: bool,
    pub span: Span,
}

/// A `%regex%` as written (without the `%` delimiters), with its span (including the `%`s).
#[derive(Debug, Clone, PartialEq)]
pub struct RegexLit {
    pub body: String,
    pub span: Span,
}

/// A JSON condition tree. `&&` binds tighter than `||`; parentheses group.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonExpr {
    Or(Vec<JsonExpr>),
    And(Vec<JsonExpr>),
    Cond(JsonCond),
}

/// `selector test`, e.g. `$.latency > 100`, `$.user IS NULL`.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonCond {
    pub selector: Selector,
    pub test: JsonTest,
    pub span: Span,
}

/// What a JSON condition checks.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTest {
    Compare { op: CmpOp, value: Value },
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

/// A JSON property selector: `$.a.b[0]`, `$.*`, `$.['key.with.dots']`.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub segments: Vec<Segment>,
    pub span: Span,
}

impl Selector {
    /// Number of `*` segments.
    pub fn wildcards(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Wildcard { .. }))
            .count()
    }
}

/// One step of a selector.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// `.name` (letters, digits, `-`, `_`), or `['name']` when `bracketed`.
    Key { name: String, bracketed: bool },
    /// `[n]`
    Index(usize),
    /// `.*` or, when `bracketed`, `[*]`.
    Wildcard { bracketed: bool },
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Gt => ">",
            CmpOp::Le => "<=",
            CmpOp::Ge => ">=",
        }
    }

    /// `=` and `!=` work on strings; the others only on numbers.
    pub fn is_equality(self) -> bool {
        matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number as written (`404`, `-1.5`, `1e+3`), with its value.
    Number { text: String, value: f64 },
    /// A string, possibly with a leading and/or trailing `*` wildcard (`"*"` alone: any value).
    /// `quoted` records whether it was written in double quotes.
    Str { text: String, quoted: bool },
    /// `%regex%`
    Regex(RegexLit),
}

/// One entry of a space-delimited pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// `...`: any number of unnamed fields.
    Ellipsis { span: Span },
    /// An empty entry (`[a,,b]`, a trailing comma): one unnamed field.
    Unnamed { span: Span },
    /// `name` or `name = value || name = other`.
    Named {
        name: String,
        cond: Option<FieldExpr>,
        span: Span,
    },
}

/// Conditions on one space-delimited field; every leaf names the same field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldExpr {
    Or(Vec<FieldExpr>),
    And(Vec<FieldExpr>),
    Cond {
        name: String,
        op: CmpOp,
        value: Value,
        span: Span,
    },
}
