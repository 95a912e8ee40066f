//! The value parsers behind [`Kind`](super::schema::Kind): one YAML node in, a [`Value`] or an
//! error recorded at the node out. Errors name the key (`` `realert`: … ``) and point at the value,
//! inside the string where the problem is a character of it.

use std::time::Duration;

use saphyr::{Scalar, YamlData};

use super::duration::{MAPPING_UNITS, MAX_DURATION, parse_duration, unit_seconds};
use super::hints;
use super::load::{Cx, Node};
use super::schema::{KeySpec, Kind, TYPES};
use super::template;
use super::values::Value;
use super::{LogGroupGlob, MetricSpec, QueryKeyPart};
use crate::alert::{Mention, Severity};
use crate::pattern::{FilterPattern, ValueRef};

const METRIC_KEYS: &[&str] = &["name", "value", "unit", "dimensions"];
const SEVERITIES: &[&str] = &["critical", "error", "warning", "info"];
/// CloudWatch `StandardUnit` values.
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

pub(super) fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    let best = candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, c)) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

pub(super) fn describe(node: &Node<'_>) -> &'static str {
    match &node.data {
        YamlData::Value(Scalar::Null) => "null",
        YamlData::Value(Scalar::Boolean(_)) => "a boolean",
        YamlData::Value(Scalar::Integer(_)) => "an integer",
        YamlData::Value(Scalar::FloatingPoint(_)) => "a number",
        YamlData::Value(Scalar::String(_)) | YamlData::Representation(..) => "a string",
        YamlData::Sequence(_) => "a list",
        YamlData::Mapping(_) => "a mapping",
        YamlData::Tagged(..) => "a tagged value",
        YamlData::Alias(_) => "an alias",
        YamlData::BadValue => "an invalid value",
    }
}

impl Cx<'_> {
    pub(super) fn str<'n>(&mut self, node: &'n Node<'_>, what: &str) -> Option<&'n str> {
        match &node.data {
            YamlData::Value(Scalar::String(s)) => Some(s.as_ref()),
            data => {
                let key = what.trim_matches('`');
                let hint = match data {
                    YamlData::Mapping(_) | YamlData::Sequence(_) if what.starts_with('`') => {
                        let written = self.source_text(node);
                        let is_mapping = matches!(data, YamlData::Mapping(_));
                        hints::quote_it(key, written.as_deref(), is_mapping)
                    }
                    _ => String::new(),
                };
                self.err(
                    node,
                    format!("{what} must be a string, found {}{hint}", describe(node)),
                );
                None
            }
        }
    }

    /// `key: []` is refused everywhere: it reads as "none" but the key left out means "the
    /// default" (for `log_groups`: every log group), and nobody writes an empty list on purpose.
    fn refuse_empty_list(&mut self, node: &Node<'_>, what: &str) -> bool {
        let empty = matches!(&node.data, YamlData::Sequence(items) if items.is_empty());
        if empty {
            self.err(
                node,
                format!("{what} is an empty list: give at least one value, or leave the key out"),
            );
        }
        empty
    }

    fn string_list(&mut self, node: &Node<'_>, what: &str) -> Option<Vec<(String, usize)>> {
        // Returns (value, index) pairs; the index finds the item node again for errors.
        if self.refuse_empty_list(node, what) {
            return None;
        }
        match &node.data {
            YamlData::Sequence(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = self.str(item, what) {
                        out.push((s.to_string(), i));
                    }
                }
                Some(out)
            }
            YamlData::Value(Scalar::String(s)) => Some(vec![(s.to_string(), 0)]),
            _ => {
                self.err(
                    node,
                    format!(
                        "{what} must be a string or a list of strings, found {}",
                        describe(node)
                    ),
                );
                None
            }
        }
    }

    fn int(&mut self, node: &Node<'_>, what: &str, min: i64, max: i64) -> Option<i64> {
        match &node.data {
            YamlData::Value(Scalar::Integer(n)) if (min..=max).contains(n) => Some(*n),
            YamlData::Value(Scalar::Integer(n)) => {
                self.err(
                    node,
                    format!("{what} must be between {min} and {max}, found {n}"),
                );
                None
            }
            _ => {
                self.err(
                    node,
                    format!("{what} must be an integer, found {}", describe(node)),
                );
                None
            }
        }
    }

    fn duration(&mut self, node: &Node<'_>, what: &str) -> Option<Duration> {
        match &node.data {
            YamlData::Value(Scalar::String(s)) => match parse_duration(s) {
                Ok(d) => Some(d),
                Err(msg) => {
                    self.err(node, format!("{what}: {msg}"));
                    None
                }
            },
            YamlData::Value(Scalar::Integer(0)) => Some(Duration::ZERO),
            YamlData::Value(Scalar::Integer(n)) => {
                self.err(
                    node,
                    format!(
                        "{what}: duration `{n}` has no unit: write `{n}s`, `{n}m`, `{n}h` or `{n}d`"
                    ),
                );
                None
            }
            YamlData::Mapping(map) => {
                let mut total: u64 = 0;
                let mut ok = true;
                for (k, v) in map {
                    let Some(unit) = self.str(k, "a duration unit") else {
                        ok = false;
                        continue;
                    };
                    let Some(per) = unit_seconds(unit) else {
                        let hint = did_you_mean(unit, MAPPING_UNITS);
                        self.err(k, format!("{what}: unknown duration unit `{unit}`{hint}"));
                        ok = false;
                        continue;
                    };
                    match self.int(v, &format!("{what}.{unit}"), 0, i64::from(u32::MAX)) {
                        Some(n) => total = total.saturating_add((n as u64).saturating_mul(per)),
                        None => ok = false,
                    }
                }
                if map.is_empty() {
                    self.err(node, format!("{what}: empty duration mapping"));
                    ok = false;
                }
                if ok && Duration::from_secs(total) > MAX_DURATION {
                    self.err(
                        node,
                        format!("{what}: the duration is longer than 365 days, the longest logalert accepts"),
                    );
                    ok = false;
                }
                ok.then(|| Duration::from_secs(total))
            }
            _ => {
                self.err(
                    node,
                    format!(
                        "{what} must be a duration such as `5m`, found {}",
                        describe(node)
                    ),
                );
                None
            }
        }
    }

    fn value_ref(
        &mut self,
        node: &Node<'_>,
        s: &str,
        what: &str,
        allow_number: bool,
    ) -> Option<ValueRef> {
        let expected = if allow_number {
            "a number, `$.selector` or `$field`"
        } else {
            "`$.selector` or `$field`"
        };
        match ValueRef::parse(s) {
            Ok(ValueRef::Number(_)) if !allow_number => {
                self.err(node, format!("{what}: expected {expected}, found `{s}`"));
                None
            }
            Ok(r) => Some(r),
            Err(_) => {
                self.err(node, format!("{what}: `{s}` is not {expected}"));
                None
            }
        }
    }

    fn selectors(&mut self, node: &Node<'_>, what: &str) -> Option<Vec<(String, QueryKeyPart)>> {
        if self.refuse_empty_list(node, what) {
            return None;
        }
        let items: Vec<&Node<'_>> = match &node.data {
            YamlData::Sequence(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            let Some(s) = self.str(item, what) else {
                ok = false;
                continue;
            };
            let part = match s.trim() {
                "@logGroup" => Some(QueryKeyPart::LogGroup),
                "@logStream" => Some(QueryKeyPart::LogStream),
                "@fingerprint" => Some(QueryKeyPart::Fingerprint),
                t if t.starts_with('@') => {
                    let hint = did_you_mean(t, &["@logGroup", "@logStream", "@fingerprint"]);
                    self.err(item, format!("{what}: unknown field `{t}`{hint}"));
                    None
                }
                _ => self
                    .value_ref(item, s, what, false)
                    .map(QueryKeyPart::Value),
            };
            match part {
                Some(p) => out.push((s.trim().to_string(), p)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn mentions(&mut self, node: &Node<'_>) -> Option<Vec<Mention>> {
        if self.refuse_empty_list(node, "`mention`") {
            return None;
        }
        let items: Vec<&Node<'_>> = match &node.data {
            YamlData::Sequence(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut out = Vec::new();
        for item in items {
            let Some(s) = self.str(item, "`mention`") else {
                continue;
            };
            match s {
                "here" => out.push(Mention::Here),
                "channel" => out.push(Mention::Channel),
                id if is_slack_id(id) => out.push(Mention::Id(id.to_string())),
                other => {
                    let hint = did_you_mean(other, &["here", "channel"]);
                    self.err(
                        item,
                        format!(
                            "`mention`: `{other}` is not `here`, `channel` or a Slack user/group id \
                             (U…, W… or S…, e.g. U024BE7LH){hint}"
                        ),
                    );
                }
            }
        }
        Some(out)
    }

    fn metric_spec(&mut self, node: &Node<'_>) -> Option<MetricSpec> {
        let YamlData::Mapping(map) = &node.data else {
            self.err(
                node,
                format!("`metric` must be a mapping, found {}", describe(node)),
            );
            return None;
        };
        let (mut name, mut value, mut unit, mut dimensions) = (None, None, None, Some(Vec::new()));
        let mut ok = true;
        for (k, v) in map {
            let Some(key) = self.str(k, "a key") else {
                continue;
            };
            match key {
                "name" => match self.str(v, "`metric.name`") {
                    Some(s) if !s.is_empty() && s.len() <= 255 && !s.contains([':', '*', '$']) => {
                        name = Some(s.to_string())
                    }
                    Some(_) => {
                        self.err(
                            v,
                            "`metric.name` must be 1-255 characters without `:`, `*` or `$`",
                        );
                        ok = false;
                    }
                    None => ok = false,
                },
                "value" => {
                    let text = match &v.data {
                        YamlData::Value(Scalar::Integer(n)) => Some(n.to_string()),
                        YamlData::Value(Scalar::FloatingPoint(x)) => Some(x.to_string()),
                        _ => self.str(v, "`metric.value`").map(str::to_string),
                    };
                    value = text.and_then(|t| self.value_ref(v, &t, "`metric.value`", true));
                    ok &= value.is_some();
                }
                "unit" => match self.str(v, "`metric.unit`") {
                    Some(s) if UNITS.contains(&s) => unit = Some(s.to_string()),
                    Some(s) => {
                        let hint = did_you_mean(s, UNITS);
                        self.err(
                            v,
                            format!("`metric.unit`: unknown CloudWatch unit `{s}`{hint}"),
                        );
                        ok = false;
                    }
                    None => ok = false,
                },
                "dimensions" => {
                    let YamlData::Mapping(dims) = &v.data else {
                        self.err(
                            v,
                            format!(
                                "`metric.dimensions` must be a mapping, found {}",
                                describe(v)
                            ),
                        );
                        ok = false;
                        continue;
                    };
                    if dims.len() > 3 {
                        self.err(
                            v,
                            "`metric.dimensions`: at most 3 dimensions (CloudWatch's limit)",
                        );
                        ok = false;
                    }
                    let mut list = Vec::new();
                    for (dk, dv) in dims {
                        let (Some(dn), Some(ds)) = (
                            self.str(dk, "a dimension name"),
                            self.str(dv, "a dimension value"),
                        ) else {
                            ok = false;
                            continue;
                        };
                        match self.value_ref(dv, ds, "a dimension value", false) {
                            Some(r) => list.push((dn.to_string(), r)),
                            None => ok = false,
                        }
                    }
                    dimensions = Some(list);
                }
                other => {
                    let hint = did_you_mean(other, METRIC_KEYS);
                    self.err(k, format!("unknown key `{other}` in `metric`{hint}"));
                    ok = false;
                }
            }
        }
        if name.is_none() && ok && !map.keys().any(|k| k.data.as_str() == Some("name")) {
            self.err(node, "`metric` needs a `name`");
            ok = false;
        }
        if value.is_none() && ok && !map.keys().any(|k| k.data.as_str() == Some("value")) {
            self.err(
                node,
                "`metric` needs a `value` (a number such as \"1\", `$.field` or `$field`)",
            );
            ok = false;
        }
        if !ok {
            return None;
        }
        Some(MetricSpec {
            name: name?,
            value: value?,
            unit: unit.unwrap_or_else(|| "None".to_string()),
            dimensions: dimensions.unwrap_or_default(),
        })
    }
}

fn is_slack_id(s: &str) -> bool {
    s.len() >= 3
        && s.starts_with(['U', 'W', 'S'])
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// The parser of each [`Kind`], and the custom parsers the schema names.
impl Cx<'_> {
    /// Parse `node` as the value of key `spec`; `None` when it is invalid (the error is recorded).
    pub(super) fn value(&mut self, spec: &KeySpec, node: &Node<'_>) -> Option<Value> {
        let what = format!("`{}`", spec.name);
        match spec.kind {
            Kind::Text => self.str(node, &what).map(|s| Value::Text(s.to_string())),
            Kind::Bool => match &node.data {
                YamlData::Value(Scalar::Boolean(b)) => Some(Value::Bool(*b)),
                YamlData::Value(Scalar::String(s))
                    if ["yes", "no", "on", "off", "y", "n"]
                        .contains(&s.to_ascii_lowercase().as_str()) =>
                {
                    self.err(
                        node,
                        format!(
                            "{what} must be true or false, found the string `{s}` (YAML 1.2 reads yes/no/on/off as strings)"
                        ),
                    );
                    None
                }
                _ => {
                    let found = describe(node);
                    self.err(node, format!("{what} must be true or false, found {found}"));
                    None
                }
            },
            Kind::Int { min, max } => self.int(node, &what, min, max).map(Value::Int),
            Kind::Number { min, max } => self.number(node, &what, min, max).map(Value::Number),
            Kind::Duration { nonzero } => {
                let d = self.duration(node, &what)?;
                if nonzero && d.is_zero() {
                    self.err(node, format!("{what} must be longer than 0"));
                    return None;
                }
                Some(Value::Duration(d))
            }
            Kind::Choice { what: noun, values } => {
                let s = self.str(node, &what)?;
                if let Some(v) = values.iter().find(|v| **v == s) {
                    return Some(Value::Choice(v));
                }
                let hint = did_you_mean(s, values);
                let expected = english_or(values);
                self.err(
                    node,
                    format!("unknown {noun} `{s}` (expected {expected}){hint}"),
                );
                None
            }
            Kind::Selector => {
                if matches!(node.data, YamlData::Sequence(_)) {
                    self.err(node, format!("{what} takes one selector, found a list"));
                    return None;
                }
                self.selectors(node, &what).map(Value::Selectors)
            }
            Kind::Selectors => self.selectors(node, &what).map(Value::Selectors),
            Kind::Strings => self
                .string_list(node, &what)
                .map(|list| Value::Strings(list.into_iter().map(|(s, _)| s).collect())),
            Kind::RuleType => {
                let s = self.str(node, &what)?;
                if let Some(t) = TYPES.iter().find(|t| t.name == s) {
                    return Some(Value::Choice(t.name));
                }
                let names: Vec<&str> = TYPES.iter().map(|t| t.name).collect();
                let hint = did_you_mean(s, &names);
                let expected = english_or(&names);
                self.err(
                    node,
                    format!("unknown rule type `{s}` (expected {expected}){hint}"),
                );
                None
            }
            Kind::Custom { parse, .. } => parse(self, spec, node),
        }
    }

    fn number(&mut self, node: &Node<'_>, what: &str, min: f64, max: f64) -> Option<f64> {
        let x = match &node.data {
            YamlData::Value(Scalar::Integer(n)) => *n as f64,
            YamlData::Value(Scalar::FloatingPoint(x)) => **x,
            _ => {
                let found = describe(node);
                self.err(node, format!("{what} must be a number, found {found}"));
                return None;
            }
        };
        if !(min..=max).contains(&x) {
            self.err(
                node,
                format!("{what} must be between {min} and {max}, found {x}"),
            );
            return None;
        }
        Some(x)
    }

    pub(super) fn rule_name(&mut self, _spec: &KeySpec, node: &Node<'_>) -> Option<Value> {
        let s = self.str(node, "`name`")?;
        if s.trim().is_empty() {
            self.err(node, "`name` must not be empty");
        } else if s.chars().any(|c| c.is_control()) || s.len() > 256 {
            self.err(
                node,
                "`name` must be at most 256 bytes without control characters",
            );
        } else {
            return Some(Value::Text(s.to_string()));
        }
        None
    }

    pub(super) fn log_groups(&mut self, _spec: &KeySpec, node: &Node<'_>) -> Option<Value> {
        let list = self.string_list(node, "`log_groups`")?;
        Some(Value::Globs(
            list.iter().map(|(s, _)| LogGroupGlob::new(s)).collect(),
        ))
    }

    /// new_term's `fields`: a selector, or a list whose items are selectors or lists of them
    /// (composite terms).
    pub(super) fn selector_lists(&mut self, spec: &KeySpec, node: &Node<'_>) -> Option<Value> {
        let what = format!("`{}`", spec.name);
        let items: Vec<&Node<'_>> = match &node.data {
            YamlData::Sequence(items) => items.iter().collect(),
            _ => vec![node],
        };
        if items.is_empty() {
            self.err(node, format!("{what} needs at least one selector"));
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            if let YamlData::Sequence(inner) = &item.data
                && inner.is_empty()
            {
                self.err(
                    item,
                    format!("{what}: a composite term needs at least one selector"),
                );
                ok = false;
                continue;
            }
            match self.selectors(item, &what) {
                Some(list) => out.push(list),
                None => ok = false,
            }
        }
        ok.then_some(Value::SelectorLists(out))
    }

    pub(super) fn filter_pattern(&mut self, _spec: &KeySpec, node: &Node<'_>) -> Option<Value> {
        let s = self.str(node, "`filter_pattern`")?;
        match FilterPattern::parse(s) {
            Ok(p) => Some(Value::Pattern(p)),
            Err(e) => {
                self.err_in_scalar(
                    node,
                    e.position,
                    format!(
                        "invalid filter pattern: {} (at character {} of the pattern)",
                        e.message,
                        e.position + 1
                    ),
                );
                None
            }
        }
    }

    pub(super) fn severity(&mut self, _spec: &KeySpec, node: &Node<'_>) -> Option<Value> {
        let s = self.str(node, "`severity`")?;
        if let Some(sev) = Severity::parse(s) {
            return Some(Value::Severity(sev));
        }
        let hint = did_you_mean(&s.to_lowercase(), SEVERITIES);
        self.err(
            node,
            format!("unknown severity `{s}` (expected critical, error, warning or info){hint}"),
        );
        None
    }

    pub(super) fn channel(&mut self, _spec: &KeySpec, node: &Node<'_>) -> Option<Value> {
        let s = self.str(node, "`channel`")?;
        if s.is_empty() || s.len() > 256 || s.chars().any(|c| c.is_control()) {
            self.err(
                node,
                "`channel` must be 1-256 bytes without control characters",
            );
            return None;
        }
        Some(Value::Text(s.to_string()))
    }

    pub(super) fn mention(&mut self, _spec: &KeySpec, node: &Node<'_>) -> Option<Value> {
        self.mentions(node).map(Value::Mentions)
    }

    pub(super) fn metric(&mut self, _spec: &KeySpec, node: &Node<'_>) -> Option<Value> {
        self.metric_spec(node).map(Value::Metric)
    }

    /// `alert_subject` / `alert_text`: a Jinja template, checked now so that it cannot fail later.
    pub(super) fn template(&mut self, spec: &KeySpec, node: &Node<'_>) -> Option<Value> {
        let what = format!("`{}`", spec.name);
        let s = self.str(node, &what)?;
        match template::check(s) {
            Ok(()) => {
                for w in template::lint(s) {
                    let offset = w.range.map(|r| s[..r.start.min(s.len())].chars().count());
                    self.warn_in_scalar(
                        node,
                        offset.unwrap_or(0),
                        format!("{what}: {}", w.message),
                    );
                }
                Some(Value::Text(s.to_string()))
            }
            Err(errors) => {
                for e in errors {
                    let offset = e.range.map(|r| s[..r.start.min(s.len())].chars().count());
                    match offset {
                        Some(o) => self.err_in_scalar(node, o, format!("{what}: {}", e.message)),
                        None => self.err(node, format!("{what}: {}", e.message)),
                    }
                }
                None
            }
        }
    }
}

/// `a`, `a or b`, `a, b or c`.
fn english_or(values: &[&str]) -> String {
    match values {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
