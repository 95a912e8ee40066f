//! `alert_subject` / `alert_text` templates (Jinja syntax, rendered with minijinja).
//!
//! ```
//! use logalert::rules::template::{render, TemplateVars};
//! let vars = TemplateVars {
//!     message: r#"{"level":"ERROR","user":{"id":42}}"#,
//!     ..TemplateVars::example()
//! };
//! assert_eq!(render("{{ level }} for {{ user.id }}", &vars), "ERROR for 42");
//! assert_eq!(render("{{ event.user.name }}", &vars), "<missing: event.user.name>");
//! assert_eq!(render("{{ nope | default('n/a') }}", &vars), "n/a");
//! ```
//!
//! Variables (as ElastAlert's templates see them, plus a few):
//!
//! * every top-level field of the first matching event, when its message is a JSON object;
//! * `event` — that whole parsed event (`{{ event['log.level'] }}` reaches dotted keys);
//! * `message` — its raw text; `log_group`, `log_stream`; `timestamp` (RFC 3339, UTC) and
//!   `timestamp_ms` (epoch ms) of the first match;
//! * `rule` — `name`, `type`, `severity`, `description`; `count`, `suppressed`, `query_key`;
//! * `links` — `console` (the log stream from a minute before the first match to a minute after
//!   the last, filtered by the rule's pattern) and `insights` (a Logs Insights query over the log
//!   group, five minutes either side).
//!
//! Where a name is both a reserved variable and an event field (`message`, `timestamp`, …) the
//! reserved one wins; the field stays reachable as `event.message`.
//!
//! A variable that does not exist renders as `<missing: name>` (never an error, never blank). It is
//! falsy, so `{% if field %}` works, and `default(…)`, `is defined` and `is undefined` treat it as
//! undefined. A template that fails at render time (e.g. a filter applied to the wrong type) renders
//! as `<template error: …>` so the alert still goes out.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use minijinja::machinery::Instruction;
use minijinja::value::{Enumerator, Object, ObjectRepr, Rest};
use minijinja::{Environment, Error, Value};

use crate::alert::Severity;

/// What a template sees. Built by the engine for the first sample of an alert.
#[derive(Debug, Clone)]
pub struct TemplateVars<'a> {
    pub rule_name: &'a str,
    pub rule_type: &'a str,
    pub severity: Severity,
    pub description: Option<&'a str>,
    pub count: u64,
    pub suppressed: u64,
    pub log_group: &'a str,
    pub log_stream: &'a str,
    pub timestamp_ms: i64,
    /// Raw message of the first matching event.
    pub message: &'a str,
    pub query_key: Option<&'a str>,
    /// `links.<name>` → URL.
    pub links: Vec<(&'a str, String)>,
}

impl TemplateVars<'static> {
    /// A filled-in example (for docs and tests).
    pub fn example() -> TemplateVars<'static> {
        TemplateVars {
            rule_name: "payment-errors",
            rule_type: "any",
            severity: Severity::Error,
            description: None,
            count: 3,
            suppressed: 0,
            log_group: "/aws/lambda/payments",
            log_stream: "2024/01/01/[$LATEST]abc",
            timestamp_ms: 1_700_000_000_000,
            message: "ERROR boom",
            query_key: None,
            links: Vec::new(),
        }
    }
}

/// A syntax error in a template: message and byte range in the template source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    pub range: Option<std::ops::Range<usize>>,
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_filter("default", default_filter);
        env.add_filter("d", default_filter);
        env.add_test("defined", |v: Value| !is_missing(&v));
        env.add_test("undefined", |v: Value| is_missing(&v));
        env
    })
}

fn is_missing(v: &Value) -> bool {
    v.is_undefined() || v.downcast_object_ref::<Missing>().is_some()
}

/// `default(value, default="", boolean=false)` that also treats `<missing>` values as undefined.
fn default_filter(value: &Value, args: Rest<Value>) -> Result<Value, Error> {
    if args.len() > 2 {
        return Err(Error::new(
            minijinja::ErrorKind::TooManyArguments,
            "default takes at most 2 arguments",
        ));
    }
    let other = args.first().cloned().unwrap_or_else(|| Value::from(""));
    let lax = args.get(1).is_some_and(|v| v.is_true());
    if is_missing(value) || (lax && !value.is_true()) {
        Ok(other)
    } else {
        Ok(value.clone())
    }
}

/// The names of `rule.*`.
pub const RULE_FIELDS: &[&str] = &["name", "type", "severity", "description"];
/// The names of `links.*` (the engine fills them).
pub const LINK_NAMES: &[&str] = &["console", "insights"];
/// The reserved variables that hold a plain value (no attributes).
const SCALARS: &[(&str, &str)] = &[
    ("count", "a number"),
    ("suppressed", "a number"),
    ("timestamp_ms", "a number"),
    ("timestamp", "a string"),
    ("message", "a string (the event as parsed is `event`)"),
    ("log_group", "a string"),
    ("log_stream", "a string"),
    ("query_key", "a string"),
];
/// ElastAlert's template variables, and what logalert calls them.
const ELASTALERT_VARS: &[(&str, &str)] = &[
    ("num_hits", "`count`"),
    ("num_matches", "`count`"),
    ("_data", "`event`"),
    ("match_body", "`event`"),
    ("kibana_discover_url", "`links.console`"),
    ("kibana_link", "`links.console`"),
    ("rule_name", "`rule.name`"),
];

/// Check a template at rules-load time: its syntax, that every filter and test it applies exists,
/// and that it names no variable that can never exist (`rule.nme`, `count.x`, ElastAlert's
/// `num_hits`). Any other name may be a field of the event, so it is left alone.
///
/// Everything comes from minijinja itself: its parser, [`minijinja::Template::undeclared_variables`]
/// for the free variables, and the compiled instructions (the `unstable_machinery` feature, pinned
/// by Cargo.lock; the tests below fail if an upgrade changes it) for the filters and tests applied
/// and where.
///
/// ```
/// use logalert::rules::template::check;
/// assert!(check("{{ rule.name }}: {{ count }} × {{ errorCode | upper }}").is_ok());
/// let e = check("{{ count | nosuchfilter }}").unwrap_err();
/// assert_eq!(e[0].message, "unknown filter `nosuchfilter`");
/// ```
pub fn check(source: &str) -> Result<(), Vec<TemplateError>> {
    let tmpl = env().template_from_str(source).map_err(|e| {
        vec![TemplateError {
            message: e
                .detail()
                .map_or_else(|| e.kind().to_string(), |d| format!("{}: {d}", e.kind())),
            range: e.range(),
        }]
    })?;
    let mut errors = Vec::new();
    let code = &minijinja::machinery::get_compiled_template(&tmpl).instructions;
    let mut seen = std::collections::HashSet::new();
    for idx in 0.. {
        let Some(instr) = code.get(idx) else { break };
        let (what, name) = match instr {
            Instruction::ApplyFilter(name, ..) => ("filter", *name),
            Instruction::PerformTest(name, ..) => ("test", *name),
            _ => continue,
        };
        if !seen.insert((what, name)) || exists(what, name) {
            continue;
        }
        errors.push(TemplateError {
            message: format!("unknown {what} `{name}`"),
            range: find_word(source, code.get_span(idx), name),
        });
    }
    let mut vars: Vec<String> = tmpl.undeclared_variables(true).into_iter().collect();
    vars.sort();
    for path in vars {
        let (top, attr) = match path.split_once('.') {
            Some((t, a)) => (t, Some(a.split('.').next().unwrap_or(a))),
            None => (path.as_str(), None),
        };
        let message = if let Some((_, ours)) = ELASTALERT_VARS.iter().find(|(n, _)| *n == top) {
            format!(
                "`{top}` is an ElastAlert variable; logalert's is {ours} (an event field of that name is `event.{top}`)"
            )
        } else if let (Some(attr), Some(names)) = (attr, object_fields(top)) {
            if names.contains(&attr) {
                continue;
            }
            let paths: Vec<String> = names.iter().map(|n| format!("{top}.{n}")).collect();
            let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
            let hint = super::parse::did_you_mean(&format!("{top}.{attr}"), &paths);
            let list = names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("`{top}.{attr}` can never exist: `{top}` has {list}{hint}")
        } else if let (Some(attr), Some((_, kind))) =
            (attr, SCALARS.iter().find(|(n, _)| *n == top))
        {
            format!("`{top}.{attr}` can never exist: `{top}` is {kind}")
        } else {
            continue;
        };
        let range = first_lookup(source, code, top);
        errors.push(TemplateError { message, range });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        errors.sort_by_key(|e| e.range.as_ref().map_or(0, |r| r.start));
        Err(errors)
    }
}

/// The variables every template sees (see the module docs).
pub const RESERVED: &[&str] = &[
    "rule",
    "count",
    "suppressed",
    "log_group",
    "log_stream",
    "timestamp",
    "timestamp_ms",
    "message",
    "query_key",
    "links",
    "event",
];

/// Warnings for a template that [`check`] accepts: a variable one typo away from a reserved one
/// (`coutn`, `mesage`). It may be an event field, so it is not an error, but it renders as
/// `<missing: coutn>` unless the event has that field.
///
/// ```
/// use logalert::rules::template::lint;
/// assert_eq!(
///     lint("{{ coutn }} errors")[0].message,
///     "`coutn` is not a logalert variable and renders only if the event has a top-level field `coutn` (did you mean `count`?)"
/// );
/// assert!(lint("{{ counter }} {{ count }}").is_empty());
/// ```
pub fn lint(source: &str) -> Vec<TemplateError> {
    let Ok(tmpl) = env().template_from_str(source) else {
        return Vec::new();
    };
    let code = &minijinja::machinery::get_compiled_template(&tmpl).instructions;
    let mut names: Vec<String> = tmpl
        .undeclared_variables(false)
        .into_iter()
        .filter(|n| !RESERVED.contains(&n.as_str()) && !env().globals().any(|(g, _)| g == n))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let near = RESERVED
            .iter()
            .find(|r| name.chars().count() >= 4 && strsim::damerau_levenshtein(&name, r) == 1);
        if let Some(r) = near {
            out.push(TemplateError {
                message: format!(
                    "`{name}` is not a logalert variable and renders only if the event has a top-level field `{name}` (did you mean `{r}`?)"
                ),
                range: first_lookup(source, code, &name),
            });
        }
    }
    out
}

fn object_fields(name: &str) -> Option<&'static [&'static str]> {
    match name {
        "rule" => Some(RULE_FIELDS),
        "links" => Some(LINK_NAMES),
        _ => None,
    }
}

/// Does the environment know this filter (or test)? Asked by applying it: minijinja resolves
/// filters when a template runs and has no public list of them.
fn exists(what: &str, name: &str) -> bool {
    let probe = match what {
        "filter" => format!("{{{{ none | {name} }}}}"),
        _ => format!("{{{{ none is {name} }}}}"),
    };
    let unknown = match what {
        "filter" => minijinja::ErrorKind::UnknownFilter,
        _ => minijinja::ErrorKind::UnknownTest,
    };
    !matches!(env().render_str(&probe, ()), Err(e) if e.kind() == unknown)
}

/// Where variable `name` is first looked up in the template.
fn first_lookup(
    source: &str,
    code: &minijinja::machinery::Instructions<'_>,
    name: &str,
) -> Option<std::ops::Range<usize>> {
    (0..)
        .map_while(|idx| code.get(idx).map(|i| (idx, i)))
        .find(|(_, i)| matches!(i, Instruction::Lookup(n) if *n == name))
        .and_then(|(idx, _)| find_word(source, code.get_span(idx), name))
}

/// The byte range of the first whole-word `word` inside `span` (minijinja's spans cover the whole
/// expression a name appears in), else of the span itself.
fn find_word(
    source: &str,
    span: Option<minijinja::machinery::Span>,
    word: &str,
) -> Option<std::ops::Range<usize>> {
    let span = span?;
    let (start, end) = (span.start_offset as usize, span.end_offset as usize);
    let within = source.get(start..end.min(source.len()))?;
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let found = within.match_indices(word).find(|(i, _)| {
        let before = within[..*i].chars().next_back();
        let after = within[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    });
    Some(match found {
        Some((i, _)) => start + i..start + i + word.len(),
        None => start..end,
    })
}

/// Render a template; never fails (see the module docs).
pub fn render(source: &str, vars: &TemplateVars<'_>) -> String {
    let ctx = Value::from_object(Root::new(vars));
    match env().render_str(source, ctx) {
        Ok(s) => s,
        Err(e) => format!(
            "<template error: {}>",
            e.detail()
                .map_or_else(|| e.kind().to_string(), str::to_string)
        ),
    }
}

/// A missing variable: renders as `<missing: path>`, is falsy, and attribute access on it stays
/// missing with a longer path.
#[derive(Debug)]
struct Missing(String);

impl Object for Missing {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(Value::from_object(Missing(join_path(&self.0, key))))
    }
    fn is_true(self: &Arc<Self>) -> bool {
        false
    }
    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<missing: {}>", self.0)
    }
}

fn join_path(base: &str, key: &Value) -> String {
    match key.as_str() {
        Some(k) if k.chars().all(|c| c.is_alphanumeric() || c == '_') => format!("{base}.{k}"),
        Some(k) => format!("{base}[{k:?}]"),
        None => format!("{base}[{key}]"),
    }
}

/// A JSON object whose absent keys are [`Missing`].
#[derive(Debug)]
struct JsonMap {
    path: String,
    map: serde_json::Map<String, serde_json::Value>,
}

impl Object for JsonMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let path = join_path(&self.path, key);
        Some(match key.as_str().and_then(|k| self.map.get(k)) {
            Some(v) => json_to_value(v, path),
            None => Value::from_object(Missing(path)),
        })
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys: Vec<Value> = self.map.keys().map(|k| Value::from(k.as_str())).collect();
        Enumerator::Values(keys)
    }
    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", serde_json::Value::Object(self.map.clone()))
    }
}

fn json_to_value(v: &serde_json::Value, path: String) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::from(()),
        J::Bool(b) => Value::from(*b),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                Value::from(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        J::String(s) => Value::from(s.as_str()),
        J::Array(items) => Value::from(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| json_to_value(x, format!("{path}[{i}]")))
                .collect::<Vec<_>>(),
        ),
        J::Object(map) => Value::from_object(JsonMap {
            path,
            map: map.clone(),
        }),
    }
}

/// The root context: reserved variables, then the event's top-level fields, then [`Missing`]
/// (except for the environment's globals such as `range`, which must stay reachable).
#[derive(Debug)]
struct Root {
    vars: BTreeMap<&'static str, Value>,
    event: serde_json::Map<String, serde_json::Value>,
}

impl Root {
    fn new(v: &TemplateVars<'_>) -> Root {
        let event = match serde_json::from_str::<serde_json::Value>(v.message) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let mut vars = BTreeMap::new();
        let mut rule = serde_json::Map::new();
        rule.insert("name".into(), v.rule_name.into());
        rule.insert("type".into(), v.rule_type.into());
        rule.insert("severity".into(), v.severity.as_str().into());
        if let Some(d) = v.description {
            rule.insert("description".into(), d.into());
        }
        vars.insert(
            "rule",
            Value::from_object(JsonMap {
                path: "rule".into(),
                map: rule,
            }),
        );
        vars.insert("count", Value::from(v.count));
        vars.insert("suppressed", Value::from(v.suppressed));
        vars.insert("log_group", Value::from(v.log_group));
        vars.insert("log_stream", Value::from(v.log_stream));
        vars.insert("timestamp_ms", Value::from(v.timestamp_ms));
        vars.insert("timestamp", Value::from(rfc3339(v.timestamp_ms)));
        vars.insert("message", Value::from(v.message));
        vars.insert(
            "query_key",
            v.query_key.map_or_else(|| Value::from(()), Value::from),
        );
        let links: serde_json::Map<String, serde_json::Value> = v
            .links
            .iter()
            .map(|(k, url)| (k.to_string(), url.as_str().into()))
            .collect();
        vars.insert(
            "links",
            Value::from_object(JsonMap {
                path: "links".into(),
                map: links,
            }),
        );
        vars.insert(
            "event",
            Value::from_object(JsonMap {
                path: "event".into(),
                map: event.clone(),
            }),
        );
        Root { vars, event }
    }
}

impl Object for Root {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let k = key.as_str()?;
        if let Some(v) = self.vars.get(k) {
            return Some(v.clone());
        }
        if let Some(v) = self.event.get(k) {
            return Some(json_to_value(v, k.to_string()));
        }
        if env().globals().any(|(name, _)| name == k) {
            return None;
        }
        Some(Value::from_object(Missing(k.to_string())))
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.vars.keys().map(|k| Value::from(*k)).collect())
    }
}

/// Epoch ms → `2024-01-01T00:00:00.123Z`.
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| format!("{t:.3}"))
        .unwrap_or_else(|_| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(message: &str) -> TemplateVars<'_> {
        TemplateVars {
            message,
            ..TemplateVars::example()
        }
    }

    #[test]
    fn reserved_and_event_fields() {
        let v = vars(r#"{"message":"inner","service":"api","log.level":"WARN","n":[1,2]}"#);
        assert_eq!(render("{{ message }}", &v), v.message);
        assert_eq!(render("{{ event.message }}/{{ service }}", &v), "inner/api");
        assert_eq!(render("{{ event['log.level'] }}", &v), "WARN");
        assert_eq!(render("{{ n[1] }} {{ n | length }}", &v), "2 2");
        assert_eq!(
            render("{{ rule.name }} {{ rule.severity }} {{ count }}", &v),
            "payment-errors error 3"
        );
        assert_eq!(render("{{ timestamp }}", &v), "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn missing_is_visible_falsy_and_defaultable() {
        let v = vars("plain text");
        assert_eq!(render("{{ user }}", &v), "<missing: user>");
        assert_eq!(render("{{ user.id }}", &v), "<missing: user.id>");
        assert_eq!(
            render("{{ event['a.b'] }}", &v),
            "<missing: event[\"a.b\"]>"
        );
        assert_eq!(render("{% if user %}yes{% else %}no{% endif %}", &v), "no");
        assert_eq!(render("{{ user | default('anon') }}", &v), "anon");
        assert_eq!(
            render("{{ user is defined }} {{ count is defined }}", &v),
            "False True"
        );
        assert_eq!(
            render("{% for i in range(2) %}{{ i }}{% endfor %}", &v),
            "01"
        );
        assert_eq!(
            render("{{ links.console }}", &v),
            "<missing: links.console>"
        );
    }

    #[test]
    fn render_errors_are_visible() {
        let v = vars("x");
        assert!(render("{{ count | nosuchfilter }}", &v).starts_with("<template error"));
        let e = check("hello {{ oops").unwrap_err();
        assert!(e[0].message.contains("syntax error"), "{}", e[0].message);
    }
}
