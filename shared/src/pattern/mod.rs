//! CloudWatch Logs filter patterns — the same syntax, and the same answers, as CloudWatch Logs
//! metric filters, subscription filters and `TestMetricFilter`.
//!
//! ```
//! use logalert::pattern::{FilterPattern, PatternKind};
//!
//! // Unstructured terms: case-sensitive substrings, AND-ed; `-` excludes.
//! let p = FilterPattern::parse("ERROR -healthcheck").unwrap();
//! assert!(p.is_match("ERROR db down"));
//! assert!(!p.is_match("ERROR healthcheck failed"));
//!
//! // JSON: selectors, comparisons, `&&`/`||`, parentheses.
//! let p = FilterPattern::parse(r#"{ $.level = "ERROR" && $.latency > 100 }"#).unwrap();
//! assert_eq!(p.kind(), PatternKind::Json);
//! assert!(p.is_match(r#"{"level":"ERROR","latency":250}"#));
//!
//! // Space-delimited: fields, conditions, extracted values as TestMetricFilter reports them.
//! let p = FilterPattern::parse("[ip, user, ..., status_code = 4*, bytes]").unwrap();
//! let m = p.matches(r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET / HTTP/1.0" 404 1534"#).unwrap();
//! assert_eq!(m.extracted[0], ("$ip".to_string(), "127.0.0.1".to_string()));
//! assert_eq!(m.extracted[5], ("$status_code".to_string(), "404".to_string()));
//!
//! // Invalid patterns say where and why, with a caret.
//! let err = FilterPattern::parse("{ $.level == \"ERROR\" }").unwrap_err();
//! assert_eq!(err.position, 10);
//! ```
//!
//! # Pattern kinds
//!
//! The first non-blank character decides ([`PatternKind`]): `{` JSON, `[` space-delimited,
//! `%` a whole-pattern regular expression, anything else a list of terms. Empty (or blank)
//! patterns and `" "` match every event.
//!
//! * **Terms**: `ERROR`, `"exact phrase"` (`\"` escapes a quote, `\\` a backslash), `-excluded`,
//!   `?optional`. Unquoted terms are letters and digits of any script and `_`, with `.` and `-`
//!   inside a term ([rule 1](#rules-from-awss-answers)). Plain terms are AND-ed; `?` terms are
//!   OR-ed, and are **ignored** when the pattern also has plain or `-` terms, as AWS documents
//!   and answers (`?ERROR timeout` = `timeout`). Matching is substring search (`ERROR` matches
//!   `ERRORCODE`).
//! * **JSON** `{ … }`: `$.a.b`, `$.a[0]`, `$.a[0][1]`, `$.*`, `$.a[*]`, `$.['key.with.dots']`;
//!   `=`/`!=` with strings (leading/trailing `*` are wildcards, `*` alone means "present"),
//!   numbers with `= != < > <= >=`, `%regex%`, `IS NULL`, `IS TRUE`, `IS FALSE`,
//!   `NOT EXISTS`; `&&` binds tighter than `||`; parentheses group.
//! * **Space-delimited** `[ … ]`: see [below](#space-delimited-fields).
//! * **Regex** `%…%`: CloudWatch's restricted dialect (see `regex.rs`), searched anywhere in the
//!   message unless anchored with `^`/`$`; matched by the `regex` crate in linear time.
//!
//! Limits: 1024 characters; at most 2 regular expressions in a JSON or delimited pattern; at
//! most 1 wildcard per selector and 3 wildcard selectors per pattern; one `...` per
//! space-delimited pattern.
//!
//! # Space-delimited fields
//!
//! A message is split at runs of spaces/tabs; `"…"` and `[…]` groups are one field, the
//! extracted value drops the quotes/brackets, and the closing `"`/`]` ends the field (`"b"c` is
//! the two fields `b` and `c`). An unclosed `"` or `[` is an ordinary character. Pattern fields
//! are matched in order:
//!
//! * without `...`, field *i* is the *i*-th field and **the last pattern field takes the rest
//!   of the line**: when one message field is left, that field (unquoted); when more are left,
//!   the rest of the message exactly as written — quotes, brackets and trailing spaces kept
//!   (`[a, rest]` on `a "b" c ` gives `rest` = `"b" c `). So `[w1=ERROR, w2]` matches any line
//!   whose first word is `ERROR`, while `[w1=ERROR]` matches only a line that is `ERROR`; a
//!   message with fewer fields than the pattern does not match;
//! * `...` (at most one) stands for any number (zero or more) of fields: fields before it line
//!   up with the start of the message, fields after it with its end (`[..., size]`: `size` is
//!   the last field);
//! * `[]` reports every field, like `[...]`;
//! * an empty entry (`[a,,b]`, a trailing comma) is an unnamed field of its own;
//! * extracted values use `$name` for named fields and `$N` (1-based position in the message)
//!   for unnamed ones and those covered by `...` (TestMetricFilter's output).
//!
//! # Rules from AWS's answers
//!
//! Real `TestMetricFilter` answers (`tests/fixtures/aws/filter-pattern-aws.json`, every case a
//! test in `tests/pattern_aws_captures.rs`) override AWS's documentation and our earlier
//! readings. What each group of cases reveals, tested with cases of our own in
//! `tests/pattern_aws_rules.rs` (rule numbers match the test names):
//!
//! 1. **Term characters.** An unquoted term starts with a letter or digit of any script or
//!    `_` (`café`, `日本語`, `ERROR_code`) and may continue with those and `.` and `-`
//!    (`v1.2`, `user-id`), matched literally. A leading `-`/`?` is the operator. (Inferred:
//!    AWS accepts non-ASCII and some punctuation in unquoted terms while refusing `*`, `!`, `:`;
//!    which punctuation beyond `.`/`-` it accepts is not in the captures.)
//! 2. **Lexical errors** read like AWS's lexer: `Invalid character(s) in term 'X'`, where X is
//!    the text of the token being read, from its first character through the first one that
//!    cannot continue it. After a complete term that is just the character (`ERR*` → `'*'`,
//!    `ERROR:` → `':'`); an unclosed phrase is all of it (`'"ERROR'`); `""` is `'""'`; in a
//!    regex it runs from the `%` (`%(ab)+%` → `'%('`, `%café%` → `'%café'`); in a selector from
//!    the `$` or `[` (`$['a']` → `'$['`, `$.["a"]` → `'$.["'`, `$.a[-1]` → `'[-'`); a field
//!    name starting with a digit is the whole word (`[1a]` → `'1a'`); a string or regex where
//!    `<`, `>`, … need a number is the whole value (`> "0"` → `'"0"'`). A quoted phrase glued
//!    to a term (`"ERROR"WARN`) is `Invalid metric filter pattern`. Our hint follows AWS's text.
//! 3. **Regex errors**: a character the dialect refuses (`(`, `)` even escaped, `!`, `&`,
//!    multi-byte characters, an empty `%%`) is a lexical error (rule 2); an expression that
//!    does not compile (`\p`, `[z-a]`, a repeated repetition `a++`, `a**`, `a{2}*`) is
//!    `Failed to compile regular expression.` Lazy repetitions (`a+?`) are fine.
//! 4. **A regex pattern is one `%…%`**: anything after its closing `%` is a lexical error
//!    (`%ERROR% %WARN%` → `' '`).
//! 5. **Numbers compare by exact value.** The pattern's number is exact (`9007199254740992` ≠
//!    `9007199254740993`; `1e309` is a number larger than any message's). A message's integer
//!    keeps every digit; a number with a fraction or exponent is read as a double (`1.0` = `1`,
//!    `1e3` = `1000`, `1e-999` = `0`), and one beyond the double range (`1e309`) satisfies no
//!    comparison at all, `!=` included (it is still present for `= *`).
//! 6. **Numbers meet strings as text.** A number in the pattern against a JSON string compares
//!    the pattern's spelling (`= 1` holds for `"1"`, not `"01"`, `"1.0"`, `"1e3"`; `!= 1` holds
//!    for any other string) and `<`, `>`, … never hold for strings. A string, `*`-wildcard or
//!    regex in the pattern against a JSON number sees the number as AWS prints it: an integer
//!    as written, any other number as Java prints a double (`1.0`, `1000.0` for `1e3`, `0.0`
//!    for `1e-999`, `Infinity` for `1e309`, `1.0E-4`).
//! 7. **`true`, `false` and `null` only answer `IS`.** They satisfy no `=`, `!=`, `= *`,
//!    ordering or regex; a bare word in the pattern is a string (`= true` matches `"true"`).
//! 8. **Arrays.** `IS NULL`/`IS TRUE`/`IS FALSE` on a selector that points at an array hold when
//!    one of its elements is null/true/false (`$.a IS NULL` on `[null,2]`); comparisons on an
//!    array never hold (AWS documents it for `=` and `!=`).
//! 9. **`!=` over a wildcard** (`$.a[*] != 2`) holds when the wildcard's container exists and
//!    none of the selected values equals the value — `[1,2]` fails, `[{"b":1}]`, `[]` and
//!    `null` pass, a missing `a` fails. `=`, `<`, … over a wildcard hold when some selected
//!    value satisfies them.
//! 10. **Selectors** start with `$.`; `$[…]` and `$.["…"]` are lexical errors (rule 2).
//! 11. **Space-delimited splitting**: see [above](#space-delimited-fields) (closing quotes end
//!     a field; the last field's rest-of-line value).
//! 12. **One `...`**: a second is `Duplicate field '...'`; field names start with a letter or
//!     `_`.
//! 13. **Field numbers** compare by value when the field is a number (`1.0` = `1`, read as in
//!     rule 5; out of range is not a number); quoted pattern values compare as text
//!     (`[a="1"]` does not match `1.0`).
//!
//! # Decisions where AWS is silent
//!
//! These are covered by `tests/pattern_decisions.rs`.
//!
//! 1. **A missing JSON property** fails every comparison, `=`, `!=` and `<`… alike, and every
//!    `IS`; only `NOT EXISTS` holds. (AWS's answers agree: capture `json-missing`.)
//! 2. See rules 5–7: the type of the message's value and of the pattern's value decide together.
//!    In space-delimited patterns every field is text: numeric comparisons apply when the field
//!    is a number, and a field that is not one satisfies `!=` and fails `=`, `<`, `>`, ….
//! 3. **`*` in the middle** of a string value is a literal character (AWS: "`Ev*ent` will only
//!    match the actual string `Ev*ent`"); only a leading and a trailing `*` are wildcards.
//! 4. **JSON after a text prefix** (Lambda's `2024-…\tRequestId\tINFO\t{…}`) does not match a
//!    JSON pattern: the message must be exactly one JSON object (surrounding whitespace
//!    allowed). A JSON array, a scalar, or trailing text never matches (AWS agrees: captures
//!    `selector-*` with `[1,2]` and `{"a":2} trailing`).
//! 5. **Field counts**: see [above](#space-delimited-fields). Runs of whitespace are one
//!    separator.
//! 6. **Wildcard selectors** (`$.*`, `$.a[*]`) select the values of an object or the elements of
//!    an array; `NOT EXISTS` holds when nothing is selected; `!=` is rule 9. Nested
//!    arrays/objects never match a comparison.
//! 7. **Duplicate JSON keys**: the last occurrence wins (as in serde_json and JavaScript).
//! 8. **Keywords** (`IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`) must be upper case, as
//!    documented; lower case is an error that says so. `AND`/`OR` words, `==` and `!==` are
//!    errors too (AWS agrees: `Invalid metric filter pattern`).
//! 9. **`%regex%` mixed with terms** (`ERROR %x%`) is an error: a regex is a whole pattern, a
//!    JSON value or a field condition. `""` (empty phrase) is rejected, as AWS rejects it.
//! 10. **Empty lines / messages**: a term pattern never matches an empty message unless it has
//!     no (effective) terms; `[]` matches it with nothing extracted.
//!
//! # Value references
//!
//! [`ValueRef`] resolves a metric value, a dimension or a rule's `query_key` against a matched
//! event: `$.a.b` (JSON), `$name`/`$3` (space-delimited), or a number.

mod ast;
mod compare;
mod delimited;
mod display;
mod error;
mod json;
mod parse;
mod regex;
mod set;
mod terms;

use std::fmt;

pub use ast::{
    Ast, CmpOp, Field, FieldExpr, JsonCond, JsonExpr, JsonTest, RegexLit, Segment, Selector, Span,
    Term, TermMode, Value,
};
pub use error::PatternError;
pub use parse::{
    MAX_PATTERN_CHARS, MAX_REGEXES, MAX_WILDCARD_SELECTORS, MAX_WILDCARDS_PER_SELECTOR,
};
pub use set::{PatternSet, SetScratch, ValueSlot, Walked};

use delimited::DelimitedMatcher;
use json::JsonMatcher;
use terms::TermMatcher;

/// Which sub-language a pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind {
    /// Empty pattern or `" "`: matches every event.
    MatchAll,
    Terms,
    Json,
    Delimited,
    Regex,
}

/// Values a space-delimited pattern extracted: (`$name` or `$N`, value) in field order.
/// Empty for every other kind of pattern (as TestMetricFilter reports).
pub type Extracted = Vec<(String, String)>;

/// A successful match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Match {
    pub extracted: Extracted,
}

/// A compiled filter pattern.
///
/// `Display` prints the canonical form of the pattern (which parses back to the same syntax
/// tree); [`FilterPattern::source`] is the text as written.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    source: String,
    ast: Ast,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    All,
    Terms(TermMatcher),
    Regex(::regex::Regex),
    Json(JsonMatcher),
    Delimited(DelimitedMatcher),
}

impl FilterPattern {
    /// Parse and compile a pattern. Errors carry the character position.
    pub fn parse(source: &str) -> Result<FilterPattern, PatternError> {
        let ast = parse::parse(source)?;
        let matcher = match &ast {
            Ast::Empty => Matcher::All,
            Ast::Terms(terms) => {
                let m = TermMatcher::new(terms);
                if m.is_match_all() {
                    Matcher::All
                } else {
                    Matcher::Terms(m)
                }
            }
            Ast::Regex(lit) => Matcher::Regex(regex::compile(&lit.body)),
            Ast::Json(expr) => Matcher::Json(JsonMatcher::new(expr)),
            Ast::Delimited(fields) => Matcher::Delimited(DelimitedMatcher::new(fields)),
        };
        Ok(FilterPattern {
            source: source.to_string(),
            ast,
            matcher,
        })
    }

    /// The pattern text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The syntax tree.
    pub fn ast(&self) -> &Ast {
        &self.ast
    }

    pub fn kind(&self) -> PatternKind {
        match &self.matcher {
            Matcher::All => PatternKind::MatchAll,
            Matcher::Terms(_) => PatternKind::Terms,
            Matcher::Regex(_) => PatternKind::Regex,
            Matcher::Json(_) => PatternKind::Json,
            Matcher::Delimited(_) => PatternKind::Delimited,
        }
    }

    /// Does `message` match?
    pub fn is_match(&self, message: &str) -> bool {
        match &self.matcher {
            Matcher::All => true,
            Matcher::Terms(t) => t.is_match(message),
            Matcher::Regex(r) => r.is_match(message),
            Matcher::Json(j) => j.is_match(message),
            Matcher::Delimited(d) => d.eval(message, false).is_some(),
        }
    }

    /// Match `message`, returning extracted values on success.
    pub fn matches(&self, message: &str) -> Option<Match> {
        match &self.matcher {
            Matcher::Delimited(d) => d.eval(message, true).map(|extracted| Match { extracted }),
            _ => self.is_match(message).then(Match::default),
        }
    }

    /// The names a space-delimited pattern can extract (`name` for `$name`), in field order.
    /// Empty for other kinds.
    pub fn field_names(&self) -> Vec<&str> {
        match &self.ast {
            Ast::Delimited(fields) => fields
                .iter()
                .filter_map(|f| match f {
                    Field::Named { name, .. } => Some(name.as_str()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Can `r` ever resolve against events this pattern matches? For validating metric values,
    /// dimensions and query keys when a rule is loaded. Numbers always can; `$.selector` needs a
    /// JSON pattern; `$name` needs a space-delimited pattern with that field; `$N` needs a
    /// space-delimited pattern that can report position N.
    ///
    /// ```
    /// use logalert::pattern::{FilterPattern, ValueRef};
    /// let p = FilterPattern::parse("[ip, user, status, size]").unwrap();
    /// assert!(p.check_value_ref(&ValueRef::parse("$size").unwrap()).is_ok());
    /// assert!(p.check_value_ref(&ValueRef::parse("$bytes").unwrap()).is_err());
    /// assert!(p.check_value_ref(&ValueRef::parse("$.size").unwrap()).is_err());
    /// ```
    pub fn check_value_ref(&self, r: &ValueRef) -> Result<(), String> {
        match (r, &self.ast) {
            (ValueRef::Number(_), _) => Ok(()),
            (ValueRef::Json(_), Ast::Json(_)) => Ok(()),
            (ValueRef::Json(_), _) => Err(format!(
                "`{r}` selects from JSON events, but the filter pattern is not a JSON pattern ({{ … }})"
            )),
            (ValueRef::Field(name), Ast::Delimited(fields)) => {
                if let Ok(n) = name.parse::<usize>() {
                    let open_ended = fields.is_empty()
                        || fields.iter().any(|f| matches!(f, Field::Ellipsis { .. }));
                    let unnamed_at_n = fields
                        .get(n.wrapping_sub(1))
                        .is_some_and(|f| matches!(f, Field::Unnamed { .. }));
                    if n >= 1 && (open_ended || unnamed_at_n) {
                        return Ok(());
                    }
                    return Err(format!(
                        "`{r}`: the pattern never reports an unnamed field at position {n}"
                    ));
                }
                if self.field_names().contains(&name.as_str()) {
                    Ok(())
                } else {
                    Err(format!(
                        "`{r}`: the pattern has no field named '{name}' (fields: {})",
                        self.field_names().join(", ")
                    ))
                }
            }
            (ValueRef::Field(_), _) => Err(format!(
                "`{r}` names a space-delimited field, but the filter pattern is not a space-delimited pattern ([ … ])"
            )),
        }
    }
}

impl fmt::Display for FilterPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.ast)
    }
}

/// A reference to a value in a matched event: a metric value, a dimension, a query key.
/// `$.a.b[0]` (JSON selector), `$name` / `$3` (space-delimited field), or a number literal.
///
/// ```
/// use logalert::pattern::{FilterPattern, ValueRef};
/// let p = FilterPattern::parse("{ $.latency = * }").unwrap();
/// let msg = r#"{"latency": 50, "user": {"id": "u-1"}, "tags": ["a"], "gone": null}"#;
/// let m = p.matches(msg).unwrap();
/// assert_eq!(ValueRef::parse("$.latency").unwrap().resolve(msg, &m).as_deref(), Some("50"));
/// assert_eq!(ValueRef::parse("$.user.id").unwrap().resolve(msg, &m).as_deref(), Some("u-1"));
/// assert_eq!(ValueRef::parse("$.tags").unwrap().resolve(msg, &m), None); // arrays/objects
/// assert_eq!(ValueRef::parse("$.gone").unwrap().resolve(msg, &m), None); // null
/// assert_eq!(ValueRef::parse("1").unwrap().resolve(msg, &m).as_deref(), Some("1"));
///
/// let p = FilterPattern::parse("[ip, user, ...]").unwrap();
/// let m = p.matches("10.0.0.1 alice GET /").unwrap();
/// assert_eq!(ValueRef::parse("$user").unwrap().resolve("", &m).as_deref(), Some("alice"));
/// assert_eq!(ValueRef::parse("$3").unwrap().resolve("", &m).as_deref(), Some("GET"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum ValueRef {
    /// A number literal (`1`, `0.5`).
    Number(f64),
    /// A JSON selector, stored without its leading `$.` (`a.b[0]` for `$.a.b[0]`).
    Json(String),
    /// A space-delimited field: a name (`status` for `$status`) or a position (`3` for `$3`).
    Field(String),
}

impl ValueRef {
    /// Parse `$.selector`, `$name`, `$N` or a number.
    pub fn parse(source: &str) -> Result<ValueRef, PatternError> {
        let s = source.trim();
        let offset = source.chars().take_while(|c| c.is_whitespace()).count();
        if s.starts_with("$.") {
            let selector = parse::parse_selector(source)?;
            let text = selector.to_string();
            return Ok(ValueRef::Json(text["$.".len()..].to_string()));
        }
        if let Some(name) = s.strip_prefix('$') {
            if let Some(bad) = name
                .chars()
                .position(|c| !(c.is_ascii_alphanumeric() || c == '_'))
            {
                return Err(PatternError::new(
                    source,
                    offset + 1 + bad,
                    "a field reference is `$name` (letters, digits, '_') or `$N` (a position); JSON selectors start with `$.`",
                ));
            }
            if name.is_empty() {
                return Err(PatternError::new(
                    source,
                    offset + 1,
                    "expected a field name or position after '$' (e.g. `$status` or `$3`)",
                ));
            }
            return Ok(ValueRef::Field(name.to_string()));
        }
        match s.parse::<f64>() {
            Ok(n) if parse::is_aws_number(s) => Ok(ValueRef::Number(n)),
            _ => Err(PatternError::new(
                source,
                offset,
                "expected a number, a JSON selector (`$.field`) or a space-delimited field (`$name`, `$3`)",
            )),
        }
    }

    /// Resolve against a matched event. `None` when the value is absent, an object or an array.
    ///
    /// * `Number(n)`: `n` (`1`, `0.5`).
    /// * `Json(selector)`: the selected scalar in `message` — a string unquoted and unescaped,
    ///   a number exactly as written (`1.50` stays `1.50`), `true`/`false`; `null`, arrays,
    ///   objects and missing properties give `None`. With a wildcard, the first scalar.
    /// * `Field(name)`: the value `m` extracted as `$name` (or `$N`).
    pub fn resolve(&self, message: &str, m: &Match) -> Option<String> {
        match self {
            ValueRef::Number(n) => Some(n.to_string()),
            ValueRef::Field(name) => m
                .extracted
                .iter()
                .find(|(k, _)| k.strip_prefix('$') == Some(name.as_str()))
                .map(|(_, v)| v.clone()),
            ValueRef::Json(path) => compiled_selector(path)?.first_value(message),
        }
    }
}

/// A [`ValueRef`] compiled once, to resolve it on many events without a lookup or an
/// allocation per event (the engine's query keys).
///
/// ```
/// use logalert::pattern::{Match, ValueRef};
///
/// let r = ValueRef::parse("$.user.id").unwrap().compile();
/// let mut key = String::from("k=");
/// assert!(r.resolve_into(r#"{"user":{"id":42}}"#, &Match::default(), &mut key));
/// assert_eq!(key, "k=42");
/// assert!(!r.resolve_into(r#"{"user":{}}"#, &Match::default(), &mut key));
/// assert_eq!(key, "k=42");
/// ```
#[derive(Debug, Clone)]
pub struct CompiledValueRef {
    resolver: Resolver,
}

#[derive(Debug, Clone)]
enum Resolver {
    Text(String),
    Json(Option<std::sync::Arc<JsonMatcher>>),
    Field(String),
}

impl ValueRef {
    /// Compile for [`CompiledValueRef::resolve_into`].
    pub fn compile(&self) -> CompiledValueRef {
        let resolver = match self {
            ValueRef::Number(n) => Resolver::Text(n.to_string()),
            ValueRef::Json(path) => Resolver::Json(compiled_selector(path)),
            ValueRef::Field(name) => Resolver::Field(name.clone()),
        };
        CompiledValueRef { resolver }
    }
}

impl CompiledValueRef {
    /// The lone-selector matcher of a JSON value (for [`PatternSet::value_slot`]).
    pub(crate) fn json_matcher(&self) -> Option<&JsonMatcher> {
        match &self.resolver {
            Resolver::Json(m) => m.as_deref(),
            _ => None,
        }
    }

    /// Append what [`ValueRef::resolve`] gives to `out`; `false` (and `out` unchanged) when
    /// it gives `None`.
    pub fn resolve_into(&self, message: &str, m: &Match, out: &mut String) -> bool {
        match &self.resolver {
            Resolver::Text(t) => {
                out.push_str(t);
                true
            }
            Resolver::Field(name) => match m
                .extracted
                .iter()
                .find(|(k, _)| k.strip_prefix('$') == Some(name.as_str()))
            {
                Some((_, v)) => {
                    out.push_str(v);
                    true
                }
                None => false,
            },
            Resolver::Json(matcher) => matcher
                .as_ref()
                .is_some_and(|j| j.first_value_into(message, out)),
        }
    }
}

/// The matcher for a `ValueRef::Json` path, compiled once per process (a rule's query key or
/// metric value is resolved for every match; parsing the selector each time cost more than
/// the lookup). `None` if the path does not parse (a `ValueRef` from [`ValueRef::parse`]
/// always does).
fn compiled_selector(path: &str) -> Option<std::sync::Arc<JsonMatcher>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<JsonMatcher>>>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(hit) = cache.get(path) {
        return hit.clone();
    }
    let compiled = parse::parse_selector(&format!("$.{path}"))
        .ok()
        .map(|selector| Arc::new(JsonMatcher::for_selector(&selector)));
    // Paths come from rules files: a handful. Bound it anyway.
    if cache.len() >= 4096 {
        cache.clear();
    }
    cache.insert(path.to_string(), compiled.clone());
    compiled
}

impl fmt::Display for ValueRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Number(n) => write!(f, "{n}"),
            ValueRef::Json(path) => write!(f, "$.{path}"),
            ValueRef::Field(name) => write!(f, "${name}"),
        }
    }
}
