//! Elasticsearch queries (Lucene `query_string` and the query DSL ElastAlert filters use) →
//! CloudWatch Logs filter patterns.
//!
//! ```
//! use logalert::import::query::{Convert, parse_query_string, to_pattern};
//! let q = parse_query_string("level:ERROR AND NOT service:healthcheck", false).unwrap();
//! let p = to_pattern(&q, &Convert::default()).unwrap();
//! assert_eq!(
//!     p.pattern,
//!     r#"{ $.level = "ERROR" && ($.service != "healthcheck" || $.service NOT EXISTS) }"#
//! );
//! ```
//!
//! Semantics kept, and where they cannot be:
//!
//! * `field:value` is an exact comparison (keyword semantics). On the fields named as full text
//!   ([`Convert::text_fields`], default `message`) a value matches as a substring, as a search for
//!   words in an analysed field does — but case-sensitively: CloudWatch has no case folding.
//! * `NOT` is pushed down to the comparisons (CloudWatch JSON patterns cannot negate a group);
//!   `NOT field:v` also matches events without the field, as in Elasticsearch.
//! * A query of bare words only (`"connection refused" AND NOT healthcheck`) becomes a terms
//!   pattern (searching the whole event text), so it works on events that are not JSON.
//! * Wildcards `*` at either end stay wildcards; `?` and inner `*` become a `%regex%`.
//! * Date math (`now-1h`), fuzziness (`~`), boosts (`^2`) and proximity cannot be expressed: the
//!   conversion fails with a reason (or, for boosts, drops them with a note).
//!
//! This is a hand-written recursive-descent parser (no maintained Rust crate parses Lucene query
//! syntax into a tree we could translate).

use std::fmt::Write as _;

/// A query, after parsing.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Matches everything (`*`, `*:*`, `match_all`).
    All,
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
    /// `field:value`; `field` None: any field (a bare word).
    Term {
        field: Option<String>,
        value: Value,
    },
    /// `field:[lo TO hi]`, `field:>=5`, the `range` query. Bounds are numbers.
    Range {
        field: String,
        lo: Option<(f64, bool)>,
        hi: Option<(f64, bool)>,
    },
    /// `_exists_:field`, the `exists` query.
    Exists(String),
}

/// The value side of a term.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A single word or keyword value.
    Exact(String),
    /// A `"quoted phrase"`.
    Phrase(String),
    /// With `*` / `?` wildcards.
    Wildcard(String),
    /// A Lucene `/regex/` (matches the whole value).
    Regex(String),
}

/// Why a query cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn unsupported<T>(msg: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(msg.into()))
}

// ------------------------------------------------------------------------- query_string

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Plus,
    Minus,
    /// `name:` (the colon consumed).
    Field(String),
    Word(String),
    Quoted(String),
    Regex(String),
    /// `[a TO b]` / `{a TO b}` with inclusivity.
    Range(String, bool, String, bool),
    /// `>=5`, `<3` …
    Cmp(String, String),
}

fn lex(q: &str) -> Result<Vec<Tok>, Unsupported> {
    let chars: Vec<char> = q.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            '&' if chars.get(i + 1) == Some(&'&') => {
                out.push(Tok::And);
                i += 2;
            }
            '|' if chars.get(i + 1) == Some(&'|') => {
                out.push(Tok::Or);
                i += 2;
            }
            '!' => {
                out.push(Tok::Not);
                i += 1;
            }
            '+' => {
                out.push(Tok::Plus);
                i += 1;
            }
            '-' => {
                out.push(Tok::Minus);
                i += 1;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return unsupported("a quoted phrase is not closed"),
                        Some('\\') => {
                            if let Some(n) = chars.get(i + 1) {
                                s.push(*n);
                            }
                            i += 2;
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some(c) => {
                            s.push(*c);
                            i += 1;
                        }
                    }
                }
                if chars.get(i) == Some(&'~') {
                    return unsupported(format!(
                        "proximity search \"{s}\"~ has no CloudWatch form"
                    ));
                }
                out.push(Tok::Quoted(s));
            }
            '/' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return unsupported("a /regex/ is not closed"),
                        Some('\\') if chars.get(i + 1) == Some(&'/') => {
                            s.push('/');
                            i += 2;
                        }
                        Some('/') => {
                            i += 1;
                            break;
                        }
                        Some(c) => {
                            s.push(*c);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Regex(s));
            }
            '[' | '{' => {
                let inclusive_lo = c == '[';
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == ']' || c == '}')
                    .map(|p| p + i)
                    .ok_or_else(|| Unsupported("a range is not closed".into()))?;
                let inner: String = chars[i + 1..close].iter().collect();
                let parts: Vec<&str> = inner.split(" TO ").collect();
                let [lo, hi] = parts.as_slice() else {
                    return unsupported(format!("range `{inner}`: expected `lo TO hi`"));
                };
                out.push(Tok::Range(
                    lo.trim().to_string(),
                    inclusive_lo,
                    hi.trim().to_string(),
                    chars[close] == ']',
                ));
                i = close + 1;
            }
            '>' | '<' => {
                let mut op = c.to_string();
                i += 1;
                if chars.get(i) == Some(&'=') {
                    op.push('=');
                    i += 1;
                }
                let start = i;
                while i < chars.len() && !chars[i].is_whitespace() && chars[i] != ')' {
                    i += 1;
                }
                out.push(Tok::Cmp(op, chars[start..i].iter().collect()));
            }
            _ => {
                let mut s = String::new();
                let mut field = false;
                while let Some(&c) = chars.get(i) {
                    if c == '\\' {
                        if let Some(n) = chars.get(i + 1) {
                            s.push('\\');
                            s.push(*n);
                        }
                        i += 2;
                        continue;
                    }
                    if c.is_whitespace() || matches!(c, '(' | ')' | '"') {
                        break;
                    }
                    if c == ':' {
                        field = true;
                        i += 1;
                        break;
                    }
                    s.push(c);
                    i += 1;
                }
                if field {
                    out.push(Tok::Field(unescape(&s)));
                } else {
                    match s.as_str() {
                        "AND" => out.push(Tok::And),
                        "OR" => out.push(Tok::Or),
                        "NOT" => out.push(Tok::Not),
                        _ => {
                            if let Some(boost) = s.find('^') {
                                s.truncate(boost); // scoring only: no effect on which events match
                            }
                            if s.contains('~') {
                                return unsupported(format!(
                                    "fuzzy term `{s}` has no CloudWatch form"
                                ));
                            }
                            out.push(Tok::Word(s));
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Remove Lucene backslash escapes, keeping `\*` and `\?` distinguishable by the caller (which
/// checks escapes before wildcards).
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    default_and: bool,
}

/// Parse a Lucene `query_string`. `default_and`: the query's `default_operator` is AND (ES
/// defaults to OR).
pub fn parse_query_string(q: &str, default_and: bool) -> Result<Query, Unsupported> {
    let mut p = Parser {
        toks: lex(q)?,
        pos: 0,
        default_and,
    };
    if p.toks.is_empty() {
        return Ok(Query::All);
    }
    let query = p.or_expr(None)?;
    if p.pos < p.toks.len() {
        return unsupported(format!("unexpected `{:?}` in the query", p.toks[p.pos]));
    }
    Ok(query)
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    /// Clauses joined by AND / OR / adjacency, AND binding tighter than OR.
    fn or_expr(&mut self, field: Option<&str>) -> Result<Query, Unsupported> {
        let mut ors: Vec<Vec<Query>> = vec![vec![self.clause(field)?]];
        loop {
            match self.peek() {
                None | Some(Tok::RParen) => break,
                Some(Tok::Or) => {
                    self.pos += 1;
                    ors.push(vec![self.clause(field)?]);
                }
                Some(Tok::And) => {
                    self.pos += 1;
                    let c = self.clause(field)?;
                    ors.last_mut().expect("never empty").push(c);
                }
                Some(_) => {
                    let c = self.clause(field)?;
                    if self.default_and || matches!(c, Query::Not(_)) {
                        // `a -b` / `a NOT b`: the negation always restricts, as in ES.
                        ors.last_mut().expect("never empty").push(c);
                    } else {
                        ors.push(vec![c]);
                    }
                }
            }
        }
        let mut groups: Vec<Query> = ors.into_iter().map(and).collect();
        Ok(if groups.len() == 1 {
            groups.remove(0)
        } else {
            Query::Or(groups)
        })
    }

    fn clause(&mut self, field: Option<&str>) -> Result<Query, Unsupported> {
        match self.peek() {
            Some(Tok::Not | Tok::Minus) => {
                self.pos += 1;
                Ok(Query::Not(Box::new(self.clause(field)?)))
            }
            Some(Tok::Plus) => {
                self.pos += 1;
                self.clause(field)
            }
            _ => self.primary(field),
        }
    }

    fn primary(&mut self, field: Option<&str>) -> Result<Query, Unsupported> {
        let Some(tok) = self.peek().cloned() else {
            return unsupported("the query ends where a term is expected");
        };
        self.pos += 1;
        match tok {
            Tok::LParen => {
                let q = self.or_expr(field)?;
                if self.peek() != Some(&Tok::RParen) {
                    return unsupported("a `(` is not closed");
                }
                self.pos += 1;
                Ok(q)
            }
            Tok::Field(f) => {
                if field.is_some() {
                    return unsupported(format!("`{f}:` inside a field group"));
                }
                if f == "_exists_" {
                    return match self.peek().cloned() {
                        Some(Tok::Word(w)) => {
                            self.pos += 1;
                            Ok(Query::Exists(strip_keyword(&unescape(&w))))
                        }
                        _ => unsupported("`_exists_:` needs a field name"),
                    };
                }
                let f = strip_keyword(&f);
                self.primary(Some(&f))
            }
            Tok::Word(w) => word(field, &w),
            Tok::Quoted(s) => Ok(Query::Term {
                field: field.map(str::to_string),
                value: Value::Phrase(s),
            }),
            Tok::Regex(r) => Ok(Query::Term {
                field: field.map(str::to_string),
                value: Value::Regex(r),
            }),
            Tok::Range(lo, li, hi, hi_inc) => {
                let Some(f) = field else {
                    return unsupported("a range needs a field");
                };
                Ok(Query::Range {
                    field: f.to_string(),
                    lo: bound(&lo, li)?,
                    hi: bound(&hi, hi_inc)?,
                })
            }
            Tok::Cmp(op, v) => {
                let Some(f) = field else {
                    return unsupported("a comparison needs a field");
                };
                let n = number(&v)?;
                let (lo, hi) = match op.as_str() {
                    ">" => (Some((n, false)), None),
                    ">=" => (Some((n, true)), None),
                    "<" => (None, Some((n, false))),
                    _ => (None, Some((n, true))),
                };
                Ok(Query::Range {
                    field: f.to_string(),
                    lo,
                    hi,
                })
            }
            other => unsupported(format!("unexpected {other:?} where a term is expected")),
        }
    }
}

fn word(field: Option<&str>, w: &str) -> Result<Query, Unsupported> {
    if (w == "*" && field.is_none()) || (w == "*:*") {
        return Ok(Query::All);
    }
    if w == "*" {
        return Ok(Query::Exists(field.unwrap_or_default().to_string()));
    }
    let has_wild = {
        let mut escaped = false;
        let mut wild = false;
        for c in w.chars() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '*' || c == '?' {
                wild = true;
            }
        }
        wild
    };
    let value = if has_wild {
        Value::Wildcard(w.to_string())
    } else {
        Value::Exact(unescape(w))
    };
    Ok(Query::Term {
        field: field.map(str::to_string),
        value,
    })
}

fn bound(s: &str, inclusive: bool) -> Result<Option<(f64, bool)>, Unsupported> {
    if s == "*" {
        return Ok(None);
    }
    Ok(Some((number(s)?, inclusive)))
}

fn number(s: &str) -> Result<f64, Unsupported> {
    s.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| {
            Unsupported(format!(
                "range bound `{s}` is not a number (date math and string ranges have no CloudWatch form)"
            ))
        })
}

/// `field.keyword` (an Elasticsearch multi-field) is the field itself in a log event.
pub fn strip_keyword(f: &str) -> String {
    f.strip_suffix(".keyword").unwrap_or(f).to_string()
}

fn and(mut v: Vec<Query>) -> Query {
    if v.len() == 1 {
        v.remove(0)
    } else {
        Query::And(v)
    }
}

// ------------------------------------------------------------------------------ query DSL

/// An Elasticsearch query DSL object (`{"term": …}`, `{"bool": …}`, `{"query_string": …}`, …).
pub fn parse_dsl(v: &serde_json::Value) -> Result<Query, Unsupported> {
    let serde_json::Value::Object(m) = v else {
        return unsupported(format!("a query must be an object, found {v}"));
    };
    if m.len() != 1 {
        // `{term: …, range: …}` is not valid ES, but ElastAlert users write filter lists; be lenient.
        let parts: Result<Vec<Query>, Unsupported> = m
            .iter()
            .map(|(k, v)| parse_dsl(&serde_json::json!({ k: v })))
            .collect();
        return Ok(and(parts?));
    }
    let (kind, body) = m.iter().next().expect("one entry");
    match kind.as_str() {
        "query" | "filter" | "constant_score" => match body {
            serde_json::Value::Array(items) => Ok(and(items
                .iter()
                .map(parse_dsl)
                .collect::<Result<_, _>>()?)),
            _ => parse_dsl(body),
        },
        "match_all" => Ok(Query::All),
        "query_string" | "simple_query_string" => {
            let q = body
                .get("query")
                .and_then(|q| q.as_str())
                .ok_or_else(|| Unsupported(format!("`{kind}` without a `query` string")))?;
            let default_and = body
                .get("default_operator")
                .and_then(|o| o.as_str())
                .is_some_and(|o| o.eq_ignore_ascii_case("and"));
            let parsed = parse_query_string(q, default_and)?;
            match body.get("default_field").and_then(|f| f.as_str()) {
                Some(f) if f != "*" && f != "_all" => Ok(with_field(parsed, &strip_keyword(f))),
                _ => Ok(parsed),
            }
        }
        "term" | "match" | "match_phrase" | "wildcard" | "prefix" | "regexp" => {
            let (field, value) = single(body, kind)?;
            let text = match value {
                serde_json::Value::Object(o) => o
                    .get("value")
                    .or_else(|| o.get("query"))
                    .cloned()
                    .ok_or_else(|| Unsupported(format!("`{kind}` on `{field}` without a value")))?,
                v => v.clone(),
            };
            let text = scalar(&text)?;
            let value = match kind.as_str() {
                "term" => Value::Exact(text),
                "match" | "match_phrase" => Value::Phrase(text),
                "wildcard" => Value::Wildcard(text),
                "prefix" => Value::Wildcard(format!("{}*", escape_wild(&text))),
                _ => Value::Regex(text),
            };
            Ok(Query::Term {
                field: Some(strip_keyword(&field)),
                value,
            })
        }
        "terms" => {
            let (field, values) = single(body, kind)?;
            let serde_json::Value::Array(values) = values else {
                return unsupported(format!("`terms` on `{field}` needs a list of values"));
            };
            let field = strip_keyword(&field);
            Ok(Query::Or(
                values
                    .iter()
                    .map(|v| {
                        Ok(Query::Term {
                            field: Some(field.clone()),
                            value: Value::Exact(scalar(v)?),
                        })
                    })
                    .collect::<Result<_, Unsupported>>()?,
            ))
        }
        "range" => {
            let (field, spec) = single(body, kind)?;
            let get = |k: &str| spec.get(k).map(|v| scalar(v).and_then(|s| number(&s)));
            let lo = match (get("gte"), get("gt"), get("from")) {
                (Some(v), _, _) => Some((v?, true)),
                (_, Some(v), _) => Some((v?, false)),
                (_, _, Some(v)) => Some((v?, true)),
                _ => None,
            };
            let hi = match (get("lte"), get("lt"), get("to")) {
                (Some(v), _, _) => Some((v?, true)),
                (_, Some(v), _) => Some((v?, false)),
                (_, _, Some(v)) => Some((v?, true)),
                _ => None,
            };
            Ok(Query::Range {
                field: strip_keyword(&field),
                lo,
                hi,
            })
        }
        "exists" => {
            let field = body
                .get("field")
                .and_then(|f| f.as_str())
                .ok_or_else(|| Unsupported("`exists` without a `field`".into()))?;
            Ok(Query::Exists(strip_keyword(field)))
        }
        "bool" => {
            let list = |k: &str| -> Result<Vec<Query>, Unsupported> {
                match body.get(k) {
                    None => Ok(Vec::new()),
                    Some(serde_json::Value::Array(items)) => items.iter().map(parse_dsl).collect(),
                    Some(one) => Ok(vec![parse_dsl(one)?]),
                }
            };
            let mut all = list("must")?;
            all.extend(list("filter")?);
            let should = list("should")?;
            let min_should = body.get("minimum_should_match").and_then(|m| {
                m.as_u64()
                    .or_else(|| m.as_str().and_then(|s| s.parse().ok()))
            });
            if !should.is_empty() {
                match min_should {
                    Some(0) => {}
                    Some(1) | None if all.is_empty() || min_should == Some(1) => {
                        all.push(Query::Or(should))
                    }
                    None => {} // with must/filter, should clauses only score
                    Some(n) => {
                        return unsupported(format!(
                            "`minimum_should_match: {n}` has no CloudWatch form"
                        ));
                    }
                }
            }
            for q in list("must_not")? {
                all.push(Query::Not(Box::new(q)));
            }
            Ok(if all.is_empty() { Query::All } else { and(all) })
        }
        "not" => Ok(Query::Not(Box::new(parse_dsl(body)?))),
        "and" | "or" => {
            let items = match body {
                serde_json::Value::Array(items) => items.clone(),
                serde_json::Value::Object(o) => o
                    .get("filters")
                    .and_then(|f| f.as_array())
                    .cloned()
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            let parts: Vec<Query> = items.iter().map(parse_dsl).collect::<Result<_, _>>()?;
            Ok(if kind == "and" {
                and(parts)
            } else {
                Query::Or(parts)
            })
        }
        other => unsupported(format!("the `{other}` query has no CloudWatch form")),
    }
}

/// `{field: value}` → (field, value).
fn single(
    body: &serde_json::Value,
    kind: &str,
) -> Result<(String, serde_json::Value), Unsupported> {
    match body {
        serde_json::Value::Object(o) => {
            let mut it = o
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "boost" | "_name"));
            match (it.next(), it.next()) {
                (Some((k, v)), None) => Ok((k.clone(), v.clone())),
                _ => unsupported(format!("`{kind}` must name exactly one field")),
            }
        }
        _ => unsupported(format!("`{kind}` must be an object")),
    }
}

fn scalar(v: &serde_json::Value) -> Result<String, Unsupported> {
    match v {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        other => unsupported(format!("expected a value, found {other}")),
    }
}

fn escape_wild(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('*', "\\*")
        .replace('?', "\\?")
}

/// Give bare words a field (a query_string's `default_field`).
fn with_field(q: Query, f: &str) -> Query {
    match q {
        Query::And(v) => Query::And(v.into_iter().map(|q| with_field(q, f)).collect()),
        Query::Or(v) => Query::Or(v.into_iter().map(|q| with_field(q, f)).collect()),
        Query::Not(q) => Query::Not(Box::new(with_field(*q, f))),
        Query::Term { field: None, value } => Query::Term {
            field: Some(f.to_string()),
            value,
        },
        other => other,
    }
}

// ----------------------------------------------------------------------------- to pattern

/// How to convert.
#[derive(Debug, Clone)]
pub struct Convert {
    /// Fields searched as full text (a value matches as a substring). Bare words search the first.
    pub text_fields: Vec<String>,
}

impl Default for Convert {
    fn default() -> Convert {
        Convert {
            text_fields: vec!["message".to_string()],
        }
    }
}

/// A converted pattern, with what the reader should know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    pub pattern: String,
    /// Approximations made (one line each).
    pub notes: Vec<String>,
}

/// Negation-normal form: negations only on leaves.
#[derive(Debug, Clone)]
enum Nnf {
    True,
    False,
    And(Vec<Nnf>),
    Or(Vec<Nnf>),
    Leaf(bool, Query),
}

fn nnf(q: &Query, positive: bool) -> Nnf {
    match (q, positive) {
        (Query::All, true) => Nnf::True,
        (Query::All, false) => Nnf::False,
        (Query::And(v), true) | (Query::Or(v), false) => {
            Nnf::And(v.iter().map(|q| nnf(q, positive)).collect())
        }
        (Query::Or(v), true) | (Query::And(v), false) => {
            Nnf::Or(v.iter().map(|q| nnf(q, positive)).collect())
        }
        (Query::Not(q), p) => nnf(q, !p),
        (leaf, p) => Nnf::Leaf(p, leaf.clone()),
    }
}

fn simplify(n: Nnf) -> Nnf {
    match n {
        Nnf::And(v) => {
            let mut out = Vec::new();
            for x in v.into_iter().map(simplify) {
                match x {
                    Nnf::True => {}
                    Nnf::False => return Nnf::False,
                    Nnf::And(inner) => out.extend(inner),
                    x => out.push(x),
                }
            }
            match out.len() {
                0 => Nnf::True,
                1 => out.remove(0),
                _ => Nnf::And(out),
            }
        }
        Nnf::Or(v) => {
            let mut out = Vec::new();
            for x in v.into_iter().map(simplify) {
                match x {
                    Nnf::False => {}
                    Nnf::True => return Nnf::True,
                    Nnf::Or(inner) => out.extend(inner),
                    x => out.push(x),
                }
            }
            match out.len() {
                0 => Nnf::False,
                1 => out.remove(0),
                _ => Nnf::Or(out),
            }
        }
        x => x,
    }
}

/// Convert a query to a CloudWatch filter pattern.
pub fn to_pattern(q: &Query, cx: &Convert) -> Result<Converted, Unsupported> {
    let n = simplify(nnf(q, true));
    let mut notes = Vec::new();
    let pattern = match &n {
        Nnf::True => String::new(),
        Nnf::False => return unsupported("the query can never match"),
        _ => match terms_pattern(&n) {
            Some(p) => {
                notes.push(
                    "bare words search the whole event text, case-sensitively (Elasticsearch \
                     matches analysed words case-insensitively)"
                        .to_string(),
                );
                p
            }
            None => {
                let mut cv = JsonWriter {
                    cx,
                    notes: &mut notes,
                };
                format!("{{ {} }}", cv.expr(&n, true)?)
            }
        },
    };
    if pattern.chars().count() > 1024 {
        return unsupported(format!(
            "the converted pattern is {} characters; CloudWatch allows 1024",
            pattern.chars().count()
        ));
    }
    crate::pattern::FilterPattern::parse(&pattern).map_err(|e| {
        Unsupported(format!(
            "the converted pattern `{pattern}` is not valid: {}",
            e.message
        ))
    })?;
    notes.dedup();
    Ok(Converted { pattern, notes })
}

/// A terms pattern, when the query is bare words only: AND of words and NOT words, or an OR of
/// words.
fn terms_pattern(n: &Nnf) -> Option<String> {
    let word = |leaf: &Query| match leaf {
        Query::Term {
            field: None,
            value: Value::Exact(w) | Value::Phrase(w),
        } if !w.is_empty() => Some(quote_term(w)),
        _ => None,
    };
    match n {
        Nnf::Leaf(true, q) => word(q),
        Nnf::Leaf(false, q) => word(q).map(|w| format!("-{w}")),
        Nnf::And(v) => {
            let parts: Option<Vec<String>> = v
                .iter()
                .map(|x| match x {
                    Nnf::Leaf(true, q) => word(q),
                    Nnf::Leaf(false, q) => word(q).map(|w| format!("-{w}")),
                    _ => None,
                })
                .collect();
            let parts = parts?;
            // A terms pattern of only exclusions matches nothing in CloudWatch; use JSON then.
            parts
                .iter()
                .any(|p| !p.starts_with('-'))
                .then(|| parts.join(" "))
        }
        Nnf::Or(v) => {
            let parts: Option<Vec<String>> = v
                .iter()
                .map(|x| match x {
                    Nnf::Leaf(true, q) => word(q).map(|w| format!("?{w}")),
                    _ => None,
                })
                .collect();
            parts.map(|p| p.join(" "))
        }
        _ => None,
    }
}

fn quote_term(w: &str) -> String {
    let plain = w
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | ':' | '@'));
    if plain {
        w.to_string()
    } else {
        format!("\"{}\"", w.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

struct JsonWriter<'a> {
    cx: &'a Convert,
    notes: &'a mut Vec<String>,
}

impl JsonWriter<'_> {
    fn expr(&mut self, n: &Nnf, top: bool) -> Result<String, Unsupported> {
        Ok(match n {
            Nnf::True => return unsupported("match-everything inside a JSON condition"),
            Nnf::False => return unsupported("the query can never match"),
            Nnf::And(v) => {
                let parts: Vec<String> = v
                    .iter()
                    .map(|x| self.expr(x, false))
                    .collect::<Result<_, _>>()?;
                let s = parts.join(" && ");
                if top { s } else { format!("({s})") }
            }
            Nnf::Or(v) => {
                let parts: Vec<String> = v
                    .iter()
                    .map(|x| self.expr(x, false))
                    .collect::<Result<_, _>>()?;
                let s = parts.join(" || ");
                if top { s } else { format!("({s})") }
            }
            Nnf::Leaf(positive, q) => {
                let s = self.leaf(*positive, q)?;
                if !top && s.contains(" || ") && !s.starts_with('(') {
                    format!("({s})")
                } else {
                    s
                }
            }
        })
    }

    fn leaf(&mut self, positive: bool, q: &Query) -> Result<String, Unsupported> {
        match q {
            Query::Exists(f) => {
                let sel = selector(f)?;
                Ok(if positive {
                    format!("{sel} = \"*\"")
                } else {
                    format!("{sel} NOT EXISTS")
                })
            }
            Query::Range { field, lo, hi } => {
                self.notes.push(format!(
                    "`{field}`: numeric comparisons match JSON numbers only (Elasticsearch also \
                     coerces numeric strings such as \"599\")"
                ));
                let sel = selector(field)?;
                let mut parts = Vec::new();
                if let Some((n, inc)) = lo {
                    parts.push((if *inc { ">=" } else { ">" }, *n));
                }
                if let Some((n, inc)) = hi {
                    parts.push((if *inc { "<=" } else { "<" }, *n));
                }
                if parts.is_empty() {
                    return self.leaf(positive, &Query::Exists(field.clone()));
                }
                let num = |n: f64| {
                    if n.fract() == 0.0 && n.abs() < 1e15 {
                        format!("{}", n as i64)
                    } else {
                        format!("{n}")
                    }
                };
                if positive {
                    let s: Vec<String> = parts
                        .iter()
                        .map(|(op, n)| format!("{sel} {op} {}", num(*n)))
                        .collect();
                    Ok(if s.len() > 1 {
                        format!("({})", s.join(" && "))
                    } else {
                        s.join("")
                    })
                } else {
                    let flip = |op: &str| match op {
                        ">=" => "<",
                        ">" => "<=",
                        "<=" => ">",
                        _ => ">=",
                    };
                    let mut s: Vec<String> = parts
                        .iter()
                        .map(|(op, n)| format!("{sel} {} {}", flip(op), num(*n)))
                        .collect();
                    s.push(format!("{sel} NOT EXISTS"));
                    Ok(format!("({})", s.join(" || ")))
                }
            }
            Query::Term { field, value } => {
                let (field, text_field) = match field {
                    Some(f) => (f.clone(), self.cx.text_fields.iter().any(|t| t == f)),
                    None => {
                        let f = self
                            .cx
                            .text_fields
                            .first()
                            .cloned()
                            .unwrap_or_else(|| "message".to_string());
                        self.notes.push(format!(
                            "bare words are searched in `{f}` (Elasticsearch searches every field)"
                        ));
                        (f, true)
                    }
                };
                let sel = selector(&field)?;
                let rhs = self.value(value, text_field, &field)?;
                let op = if positive { "=" } else { "!=" };
                Ok(if positive {
                    format!("{sel} {op} {rhs}")
                } else {
                    format!("({sel} {op} {rhs} || {sel} NOT EXISTS)")
                })
            }
            other => unsupported(format!("cannot convert {other:?}")),
        }
    }

    /// The right-hand side for a value.
    fn value(&mut self, v: &Value, text_field: bool, field: &str) -> Result<String, Unsupported> {
        match v {
            Value::Exact(s) if !text_field && is_number(s) => Ok(s.clone()),
            Value::Exact(s) if !text_field => Ok(quoted(s)),
            Value::Exact(s) | Value::Phrase(s) => {
                if text_field {
                    self.notes.push(format!(
                        "`{field}` is searched as text: a substring, case-sensitively"
                    ));
                    if s.contains('*') {
                        Ok(regex(&regex_escape(s)))
                    } else {
                        Ok(quoted(&format!("*{s}*")))
                    }
                } else if s.contains('*') {
                    Ok(regex(&format!("^{}$", regex_escape(s))))
                } else {
                    Ok(quoted(s))
                }
            }
            Value::Wildcard(w) => {
                let (body, simple) = wildcard(w);
                if simple && !text_field {
                    Ok(quoted(&body))
                } else if simple && text_field {
                    Ok(quoted(&format!(
                        "{}{}{}",
                        if body.starts_with('*') { "" } else { "*" },
                        body,
                        if body.ends_with('*') { "" } else { "*" }
                    )))
                } else {
                    let re = wildcard_regex(w);
                    Ok(regex(&if text_field { re } else { format!("^{re}$") }))
                }
            }
            Value::Regex(r) => {
                self.notes.push(format!(
                    "`{field}`: the Lucene regex is used as a CloudWatch regex (AWS's subset)"
                ));
                Ok(regex(&format!("^{r}$")))
            }
        }
    }
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.parse::<f64>().is_ok_and(f64::is_finite) && !s.starts_with('+')
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn regex(body: &str) -> String {
    format!("%{body}%")
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$%".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A wildcard value as a CloudWatch string pattern: `(text, true)` when it only has `*` at either
/// end (CloudWatch's own wildcards); `(_, false)` when it needs a regex.
fn wildcard(w: &str) -> (String, bool) {
    let chars: Vec<char> = w.chars().collect();
    let mut out = String::new();
    let mut simple = true;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                if matches!(chars[i + 1], '*' | '?') {
                    simple = false; // a literal `*` cannot be written in a CloudWatch string
                }
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            '?' => simple = false,
            '*' if i != 0 && i != chars.len() - 1 => simple = false,
            _ => {}
        }
        out.push(chars[i]);
        i += 1;
    }
    (out, simple)
}

fn wildcard_regex(w: &str) -> String {
    let mut out = String::new();
    let mut chars = w.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push_str(&regex_escape(&n.to_string()));
                }
            }
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            c => out.push_str(&regex_escape(&c.to_string())),
        }
    }
    out
}

/// `a.b` → `$.a.b`; segments that are not plain names use brackets: `$.['@timestamp']`.
pub fn selector(field: &str) -> Result<String, Unsupported> {
    if field.is_empty() {
        return unsupported("an empty field name");
    }
    let mut s = String::from("$");
    for seg in field.split('.') {
        if seg.is_empty() {
            return unsupported(format!("field `{field}` has an empty part"));
        }
        if seg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        {
            let _ = write!(s, ".{seg}");
        } else if seg.contains(['\'', ']', '\\']) {
            return unsupported(format!(
                "field `{field}` has characters a selector cannot hold"
            ));
        } else {
            let _ = write!(s, ".['{seg}']");
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(q: &str) -> String {
        let parsed = parse_query_string(q, false).unwrap_or_else(|e| panic!("{q}: {e}"));
        to_pattern(&parsed, &Convert::default())
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .pattern
    }

    #[test]
    fn query_string_forms() {
        assert_eq!(conv("level:ERROR"), r#"{ $.level = "ERROR" }"#);
        assert_eq!(
            conv("level:ERROR AND service:pay*"),
            r#"{ $.level = "ERROR" && $.service = "pay*" }"#
        );
        assert_eq!(
            conv("level:ERROR OR level:FATAL"),
            r#"{ $.level = "ERROR" || $.level = "FATAL" }"#
        );
        assert_eq!(
            conv("a:1 OR b:2 AND c:3"),
            r#"{ $.a = 1 || ($.b = 2 && $.c = 3) }"#
        );
        assert_eq!(
            conv("level:(ERROR OR WARN) AND status:[500 TO 599]"),
            r#"{ ($.level = "ERROR" || $.level = "WARN") && ($.status >= 500 && $.status <= 599) }"#
        );
        assert_eq!(conv("latency:>500"), r#"{ $.latency > 500 }"#);
        assert_eq!(conv("_exists_:user"), r#"{ $.user = "*" }"#);
        assert_eq!(conv("NOT _exists_:user"), r#"{ $.user NOT EXISTS }"#);
        assert_eq!(conv("host.name:web-1"), r#"{ $.host.name = "web-1" }"#);
        assert_eq!(conv("@version:1"), r#"{ $.['@version'] = 1 }"#);
        assert_eq!(conv("user.keyword:ann"), r#"{ $.user = "ann" }"#);
        assert_eq!(
            conv(r#"message:"connection refused""#),
            r#"{ $.message = "*connection refused*" }"#
        );
        assert_eq!(conv("code:E?01"), r#"{ $.code = %^E.01$% }"#);
        assert_eq!(conv("*"), "");
    }

    #[test]
    fn negation_is_pushed_down_and_matches_missing_fields() {
        assert_eq!(
            conv("NOT (a:1 AND b:x)"),
            r#"{ ($.a != 1 || $.a NOT EXISTS) || ($.b != "x" || $.b NOT EXISTS) }"#
        );
        assert_eq!(
            conv("level:ERROR -env:test"),
            r#"{ $.level = "ERROR" && ($.env != "test" || $.env NOT EXISTS) }"#
        );
        assert_eq!(
            conv("NOT status:[200 TO 299]"),
            r#"{ ($.status < 200 || $.status > 299 || $.status NOT EXISTS) }"#
        );
    }

    #[test]
    fn bare_words_become_a_terms_pattern() {
        assert_eq!(conv(r#""Task timed out""#), r#""Task timed out""#);
        assert_eq!(conv("ERROR AND NOT healthcheck"), "ERROR -healthcheck");
        assert_eq!(conv("ERROR OR FATAL"), "?ERROR ?FATAL");
        assert_eq!(
            conv("ERROR AND level:x"),
            r#"{ $.message = "*ERROR*" && $.level = "x" }"#
        );
    }

    #[test]
    fn dsl_forms() {
        let dsl = serde_json::json!({"bool": {
            "must": [{"term": {"level": "ERROR"}}],
            "should": [{"term": {"x": 1}}],
            "must_not": [{"terms": {"service.keyword": ["a", "b"]}}],
            "filter": {"range": {"latency": {"gte": 100, "lt": 200}}}
        }});
        let q = parse_dsl(&dsl).unwrap();
        assert_eq!(
            to_pattern(&q, &Convert::default()).unwrap().pattern,
            r#"{ $.level = "ERROR" && ($.latency >= 100 && $.latency < 200) && ($.service != "a" || $.service NOT EXISTS) && ($.service != "b" || $.service NOT EXISTS) }"#
        );
        let q = parse_dsl(&serde_json::json!({"wildcard": {"host": {"value": "web-*"}}})).unwrap();
        assert_eq!(
            to_pattern(&q, &Convert::default()).unwrap().pattern,
            r#"{ $.host = "web-*" }"#
        );
        let q = parse_dsl(&serde_json::json!({"exists": {"field": "trace_id"}})).unwrap();
        assert_eq!(
            to_pattern(&q, &Convert::default()).unwrap().pattern,
            r#"{ $.trace_id = "*" }"#
        );
    }

    #[test]
    fn what_cannot_be_converted_says_why() {
        for q in ["a:b~", r#""a b"~3"#, "t:[now-1h TO now]", "(a:1"] {
            let r = parse_query_string(q, false).and_then(|q| to_pattern(&q, &Convert::default()));
            assert!(r.is_err(), "{q}: {r:?}");
        }
        assert!(parse_dsl(&serde_json::json!({"geo_distance": {}})).is_err());
    }
}
