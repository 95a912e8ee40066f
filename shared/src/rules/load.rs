//! Loading `rules.yaml`: parse with positions (saphyr's marked nodes), then validate the spanned tree
//! ourselves so that every error in the file is reported at once (a serde deserialiser stops at the
//! first one).

use std::collections::HashMap;
use std::time::Duration;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::duration::{MAPPING_UNITS, parse_duration, unit_seconds};
use super::template;
use super::{
    DEFAULT_CHANNEL, DEFAULT_MAX_SAMPLES, DEFAULT_REALERT, LogGroupGlob, MAX_MAX_SAMPLES,
    MAX_NUM_EVENTS, MetricSpec, QueryKeyPart, Rule, RuleError, RuleErrors, RuleKind, RuleSet,
};
use crate::alert::{Mention, Severity};
use crate::pattern::{FilterPattern, ValueRef};

const TOP_KEYS: &[&str] = &["version", "defaults", "rules"];
const RULE_KEYS: &[&str] = &[
    "name",
    "description",
    "log_groups",
    "filter_pattern",
    "type",
    "num_events",
    "timeframe",
    "query_key",
    "realert",
    "resolve_after",
    "severity",
    "channel",
    "mention",
    "max_samples",
    "alert_subject",
    "alert_text",
    "metric",
    "enabled",
];
const METRIC_KEYS: &[&str] = &["name", "value", "unit", "dimensions"];
const RULE_TYPES: &[&str] = &["any", "frequency"];
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

/// Load and validate a rules file. `origin` names the file in error messages.
///
/// On failure, returns every error found, sorted by position.
pub fn load(source: &str, origin: &str) -> Result<RuleSet, RuleErrors> {
    let mut cx = Cx {
        source,
        origin,
        chars: None,
        errors: Vec::new(),
    };
    let docs = match MarkedYaml::load_from_str(source) {
        Ok(docs) => docs,
        Err(e) => {
            let m = e.marker();
            cx.errors.push(RuleError {
                file: origin.to_string(),
                line: m.line().max(1),
                column: m.col() + 1,
                message: format!("invalid YAML: {}", e.info()),
            });
            return Err(RuleErrors(cx.errors));
        }
    };
    let rules = match docs.as_slice() {
        [] => {
            cx.err_at(
                1,
                1,
                "the rules file is empty: expected `version: 1` and `rules:`",
            );
            None
        }
        [doc] => cx.top(doc),
        [_, second, ..] => {
            cx.err(
                second,
                "a rules file holds one YAML document; found several (`---`)",
            );
            None
        }
    };
    if cx.errors.is_empty() {
        Ok(RuleSet {
            rules: rules.unwrap_or_default(),
        })
    } else {
        cx.errors.sort_by_key(|e| (e.line, e.column));
        cx.errors.dedup();
        Err(RuleErrors(cx.errors))
    }
}

type Node<'a> = MarkedYaml<'a>;

struct Cx<'s> {
    source: &'s str,
    origin: &'s str,
    /// `source` as chars, built lazily for position arithmetic inside scalars.
    chars: Option<Vec<char>>,
    errors: Vec<RuleError>,
}

/// The fields of a rule (or of `defaults`), each already validated, with the key node for errors.
#[derive(Default, Clone)]
struct Fields<'a> {
    name: Option<(String, &'a Node<'a>)>,
    description: Option<String>,
    log_groups: Option<Vec<LogGroupGlob>>,
    filter_pattern: Option<FilterPattern>,
    kind: Option<(String, &'a Node<'a>)>,
    num_events: Option<(u64, &'a Node<'a>)>,
    timeframe: Option<(Duration, &'a Node<'a>)>,
    query_key: Option<Vec<(String, QueryKeyPart)>>,
    realert: Option<Duration>,
    resolve_after: Option<Duration>,
    severity: Option<Severity>,
    channel: Option<String>,
    mention: Option<Vec<Mention>>,
    max_samples: Option<usize>,
    alert_subject: Option<String>,
    alert_text: Option<String>,
    metric: Option<MetricSpec>,
    enabled: Option<bool>,
    /// Keys that were present, even when their value was invalid (so no "missing" error follows).
    present: Vec<&'static str>,
}

fn did_you_mean(word: &str, candidates: &[&str]) -> String {
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

fn describe(node: &Node<'_>) -> &'static str {
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

impl<'s> Cx<'s> {
    fn err_at(&mut self, line: usize, column: usize, message: impl Into<String>) {
        self.errors.push(RuleError {
            file: self.origin.to_string(),
            line: line.max(1),
            column: column.max(1),
            message: message.into(),
        });
    }

    fn err(&mut self, node: &Node<'_>, message: impl Into<String>) {
        let m = node.span.start;
        self.err_at(m.line(), m.col() + 1, message);
    }

    /// Report an error at the `offset`-th character of the string value of scalar `node` — pointing
    /// into the YAML source through quotes and escapes where the scalar style allows.
    fn err_in_scalar(&mut self, node: &Node<'_>, offset: usize, message: impl Into<String>) {
        let chars = self
            .chars
            .get_or_insert_with(|| self.source.chars().collect());
        let start = node.span.start.index();
        let idx = scalar_char_index(chars, start, offset).unwrap_or(start);
        let (line, col) = line_col(chars, idx);
        self.err_at(line, col, message);
    }

    fn str<'n>(&mut self, node: &'n Node<'_>, what: &str) -> Option<&'n str> {
        match &node.data {
            YamlData::Value(Scalar::String(s)) => Some(s.as_ref()),
            _ => {
                self.err(
                    node,
                    format!("{what} must be a string, found {}", describe(node)),
                );
                None
            }
        }
    }

    fn string_list(&mut self, node: &Node<'_>, what: &str) -> Option<Vec<(String, usize)>> {
        // Returns (value, index) pairs; the index finds the item node again for errors.
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

    fn top<'a>(&mut self, doc: &'a Node<'a>) -> Option<Vec<Rule>> {
        let YamlData::Mapping(map) = &doc.data else {
            self.err(
                doc,
                format!(
                    "the rules file must be a mapping with `version` and `rules`, found {}",
                    describe(doc)
                ),
            );
            return None;
        };
        let (mut version, mut defaults, mut rules) = (None, None, None);
        for (k, v) in map {
            let Some(key) = self.str(k, "a key") else {
                continue;
            };
            match key {
                "version" => version = Some(v),
                "defaults" => defaults = Some(v),
                "rules" => rules = Some(v),
                other => {
                    let hint = did_you_mean(other, TOP_KEYS);
                    self.err(k, format!("unknown top-level key `{other}`{hint}"));
                }
            }
        }
        match version {
            None => self.err(doc, "missing `version: 1`"),
            Some(v) => match &v.data {
                YamlData::Value(Scalar::Integer(1)) => {}
                _ => self.err(v, "unsupported `version`: this logalert reads `version: 1`"),
            },
        }
        let defaults = match defaults {
            None => Fields::default(),
            Some(d) if matches!(d.data, YamlData::Value(Scalar::Null)) => Fields::default(),
            Some(d) => self.fields(d, true),
        };
        let Some(rules) = rules else {
            self.err(doc, "missing `rules:` (a list of rules)");
            return None;
        };
        let items: &[Node<'a>] = match &rules.data {
            YamlData::Sequence(items) => items,
            YamlData::Value(Scalar::Null) => &[],
            _ => {
                self.err(
                    rules,
                    format!("`rules` must be a list, found {}", describe(rules)),
                );
                return None;
            }
        };
        let mut out = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for item in items {
            let fields = self.fields(item, false);
            if let Some((name, node)) = &fields.name {
                if let Some(first) = names.get(name) {
                    self.err(
                        node,
                        format!("duplicate rule name `{name}` (first defined on line {first})"),
                    );
                } else {
                    names.insert(name.clone(), node.span.start.line());
                }
            }
            if let Some(rule) = self.merge(item, fields, &defaults) {
                out.push(rule);
            }
        }
        Some(out)
    }

    /// Validate one rule mapping (or `defaults`), collecting errors.
    fn fields<'a>(&mut self, node: &'a Node<'a>, is_defaults: bool) -> Fields<'a> {
        let mut f = Fields::default();
        let what = if is_defaults { "`defaults`" } else { "a rule" };
        let YamlData::Mapping(map) = &node.data else {
            self.err(
                node,
                format!("{what} must be a mapping, found {}", describe(node)),
            );
            return f;
        };
        for (k, v) in map {
            let Some(key) = self.str(k, "a key") else {
                continue;
            };
            let Some(&key) = RULE_KEYS.iter().find(|c| **c == key) else {
                let hint = did_you_mean(key, RULE_KEYS);
                self.err(k, format!("unknown key `{key}` in {what}{hint}"));
                continue;
            };
            f.present.push(key);
            let field = format!("`{key}`");
            match key {
                "name" if is_defaults => self.err(k, "`name` cannot have a default"),
                "name" => {
                    if let Some(s) = self.str(v, "`name`") {
                        if s.trim().is_empty() {
                            self.err(v, "`name` must not be empty");
                        } else if s.chars().any(|c| c.is_control()) || s.len() > 256 {
                            self.err(
                                v,
                                "`name` must be at most 256 bytes without control characters",
                            );
                        } else {
                            f.name = Some((s.to_string(), v));
                        }
                    }
                }
                "description" => f.description = self.str(v, &field).map(str::to_string),
                "log_groups" => {
                    f.log_groups = self
                        .string_list(v, &field)
                        .map(|list| list.iter().map(|(s, _)| LogGroupGlob::new(s)).collect())
                }
                "filter_pattern" => {
                    if let Some(s) = self.str(v, &field) {
                        match FilterPattern::parse(s) {
                            Ok(p) => f.filter_pattern = Some(p),
                            Err(e) => self.err_in_scalar(
                                v,
                                e.position,
                                format!(
                                    "invalid filter pattern: {} (at character {} of the pattern)",
                                    e.message,
                                    e.position + 1
                                ),
                            ),
                        }
                    }
                }
                "type" => {
                    if let Some(s) = self.str(v, &field) {
                        if RULE_TYPES.contains(&s) {
                            f.kind = Some((s.to_string(), v));
                        } else {
                            let hint = did_you_mean(s, RULE_TYPES);
                            self.err(
                                v,
                                format!(
                                    "unknown rule type `{s}` (expected any or frequency){hint}"
                                ),
                            );
                        }
                    }
                }
                "num_events" => {
                    f.num_events = self
                        .int(v, &field, 1, MAX_NUM_EVENTS as i64)
                        .map(|n| (n as u64, k))
                }
                "timeframe" => {
                    if let Some(d) = self.duration(v, &field) {
                        if d.is_zero() {
                            self.err(v, "`timeframe` must be longer than 0");
                        } else {
                            f.timeframe = Some((d, k));
                        }
                    }
                }
                "query_key" => f.query_key = self.query_key(v),
                "realert" => f.realert = self.duration(v, &field),
                "resolve_after" => f.resolve_after = self.duration(v, &field),
                "severity" => {
                    if let Some(s) = self.str(v, &field) {
                        match Severity::parse(s) {
                            Some(sev) => f.severity = Some(sev),
                            None => {
                                let hint = did_you_mean(&s.to_lowercase(), SEVERITIES);
                                self.err(
                                    v,
                                    format!(
                                        "unknown severity `{s}` (expected critical, error, warning or info){hint}"
                                    ),
                                );
                            }
                        }
                    }
                }
                "channel" => {
                    if let Some(s) = self.str(v, &field) {
                        if s.is_empty() || s.len() > 256 || s.chars().any(|c| c.is_control()) {
                            self.err(
                                v,
                                "`channel` must be 1-256 bytes without control characters",
                            );
                        } else {
                            f.channel = Some(s.to_string());
                        }
                    }
                }
                "mention" => f.mention = self.mention(v),
                "max_samples" => {
                    f.max_samples = self
                        .int(v, &field, 0, MAX_MAX_SAMPLES as i64)
                        .map(|n| n as usize)
                }
                "alert_subject" | "alert_text" => {
                    if let Some(s) = self.str(v, &field) {
                        if let Err(e) = template::check(s) {
                            let offset = e.range.map(|r| s[..r.start.min(s.len())].chars().count());
                            match offset {
                                Some(o) => {
                                    self.err_in_scalar(v, o, format!("{field}: {}", e.message))
                                }
                                None => self.err(v, format!("{field}: {}", e.message)),
                            }
                        } else if key == "alert_subject" {
                            f.alert_subject = Some(s.to_string());
                        } else {
                            f.alert_text = Some(s.to_string());
                        }
                    }
                }
                "metric" => f.metric = self.metric(v),
                "enabled" => match &v.data {
                    YamlData::Value(Scalar::Boolean(b)) => f.enabled = Some(*b),
                    _ => self.err(
                        v,
                        format!("`enabled` must be true or false, found {}", describe(v)),
                    ),
                },
                _ => unreachable!("every key in RULE_KEYS is handled"),
            }
        }
        f
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

    fn query_key(&mut self, node: &Node<'_>) -> Option<Vec<(String, QueryKeyPart)>> {
        let items: Vec<&Node<'_>> = match &node.data {
            YamlData::Sequence(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            let Some(s) = self.str(item, "`query_key`") else {
                ok = false;
                continue;
            };
            let part = match s.trim() {
                "@logGroup" => Some(QueryKeyPart::LogGroup),
                "@logStream" => Some(QueryKeyPart::LogStream),
                t if t.starts_with('@') => {
                    let hint = did_you_mean(t, &["@logGroup", "@logStream"]);
                    self.err(item, format!("`query_key`: unknown field `{t}`{hint}"));
                    None
                }
                _ => self
                    .value_ref(item, s, "`query_key`", false)
                    .map(QueryKeyPart::Value),
            };
            match part {
                Some(p) => out.push((s.trim().to_string(), p)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn mention(&mut self, node: &Node<'_>) -> Option<Vec<Mention>> {
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

    fn metric(&mut self, node: &Node<'_>) -> Option<MetricSpec> {
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

    /// Apply defaults and cross-field checks; compile the rule.
    fn merge<'a>(&mut self, item: &'a Node<'a>, f: Fields<'a>, d: &Fields<'a>) -> Option<Rule> {
        if !matches!(item.data, YamlData::Mapping(_)) {
            return None;
        }
        let has = |k: &str| f.present.contains(&k);
        if !has("name") {
            self.err(item, "a rule needs a `name`");
        }
        if !has("filter_pattern") && !d.present.contains(&"filter_pattern") {
            self.err(
                item,
                "a rule needs a `filter_pattern` (use \"\" to match every event)",
            );
        }
        let kind_name = f.kind.as_ref().or(d.kind.as_ref()).map(|(s, _)| s.as_str());
        let num_events = f.num_events.or(d.num_events);
        let timeframe = f.timeframe.or(d.timeframe);
        let kind = match kind_name {
            Some("frequency") => {
                let mut missing = Vec::new();
                if num_events.is_none() && !has("num_events") {
                    missing.push("`num_events`");
                }
                if timeframe.is_none() && !has("timeframe") {
                    missing.push("`timeframe`");
                }
                if !missing.is_empty() {
                    let at = f.kind.as_ref().map(|(_, n)| *n).unwrap_or(item);
                    self.err(
                        at,
                        format!("a frequency rule needs {}", missing.join(" and ")),
                    );
                }
                match (num_events, timeframe) {
                    (Some((n, _)), Some((t, _))) => Some(RuleKind::Frequency {
                        num_events: n,
                        timeframe: t,
                    }),
                    _ => None,
                }
            }
            _ => {
                // Only complain about keys written on the rule itself; defaults may serve other rules.
                for (present, key) in [
                    (f.num_events, "num_events"),
                    (f.timeframe.map(|(_, k)| (0, k)), "timeframe"),
                ] {
                    if let Some((_, node)) = present {
                        self.err(
                            node,
                            format!("`{key}` is only used by `type: frequency` rules"),
                        );
                    }
                }
                Some(RuleKind::Any)
            }
        };
        // A rule with an invalid field is not compiled (its error is already recorded).
        let (name, _) = f.name?;
        let filter_pattern = f.filter_pattern.or_else(|| d.filter_pattern.clone())?;
        let kind = kind?;
        Some(Rule {
            name,
            description: f.description.or_else(|| d.description.clone()),
            log_groups: f
                .log_groups
                .or_else(|| d.log_groups.clone())
                .unwrap_or_default(),
            filter_pattern,
            kind,
            query_key: f
                .query_key
                .or_else(|| d.query_key.clone())
                .unwrap_or_default(),
            realert: f.realert.or(d.realert).unwrap_or(DEFAULT_REALERT),
            resolve_after: f.resolve_after.or(d.resolve_after).filter(|d| !d.is_zero()),
            severity: f.severity.or(d.severity).unwrap_or_default(),
            channel: f
                .channel
                .or_else(|| d.channel.clone())
                .unwrap_or_else(|| DEFAULT_CHANNEL.to_string()),
            mention: f.mention.or_else(|| d.mention.clone()).unwrap_or_default(),
            max_samples: f
                .max_samples
                .or(d.max_samples)
                .unwrap_or(DEFAULT_MAX_SAMPLES),
            alert_subject: f.alert_subject.or_else(|| d.alert_subject.clone()),
            alert_text: f.alert_text.or_else(|| d.alert_text.clone()),
            metric: f.metric.or_else(|| d.metric.clone()),
            enabled: f.enabled.or(d.enabled).unwrap_or(true),
        })
    }
}

fn is_slack_id(s: &str) -> bool {
    s.len() >= 3
        && s.starts_with(['U', 'W', 'S'])
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// 1-based (line, column) of char index `idx`. Line breaks as YAML counts them: `\n`, `\r\n`,
/// and a lone `\r`.
fn line_col(chars: &[char], idx: usize) -> (usize, usize) {
    let idx = idx.min(chars.len());
    let (mut line, mut line_start) = (1, 0);
    for (i, &c) in chars[..idx].iter().enumerate() {
        if c == '\n' || (c == '\r' && chars.get(i + 1) != Some(&'\n')) {
            line += 1;
            line_start = i + 1;
        }
    }
    (line, idx - line_start + 1)
}

/// The char index in the YAML source of the `offset`-th character of the scalar starting at char
/// index `start`. Follows single- and double-quoted escapes and plain scalars on one line; other
/// styles (blocks, multi-line folding) return `None` and the caller points at the scalar itself.
fn scalar_char_index(src: &[char], start: usize, offset: usize) -> Option<usize> {
    let first = *src.get(start)?;
    let mut i = start;
    let mut produced = 0;
    match first {
        '"' => {
            i += 1;
            loop {
                let c = *src.get(i)?;
                if c == '"' || c == '\n' {
                    return (produced == offset).then_some(i);
                }
                if produced == offset {
                    return Some(i);
                }
                i += if c != '\\' {
                    1
                } else {
                    match src.get(i + 1)? {
                        'x' => 4,
                        'u' => 6,
                        'U' => 10,
                        _ => 2,
                    }
                };
                produced += 1;
            }
        }
        '\'' => {
            i += 1;
            loop {
                let c = *src.get(i)?;
                if c == '\'' && src.get(i + 1) == Some(&'\'') {
                    if produced == offset {
                        return Some(i);
                    }
                    i += 2;
                } else if c == '\'' || c == '\n' {
                    return (produced == offset).then_some(i);
                } else {
                    if produced == offset {
                        return Some(i);
                    }
                    i += 1;
                }
                produced += 1;
            }
        }
        '|' | '>' => None,
        _ => {
            let end = start + offset;
            (end <= src.len() && !src[start..end].contains(&'\n')).then_some(end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(src: &str, start_pat: &str, offset: usize) -> (usize, usize) {
        let chars: Vec<char> = src.chars().collect();
        let start = src[..src.find(start_pat).unwrap()].chars().count();
        line_col(&chars, scalar_char_index(&chars, start, offset).unwrap())
    }

    #[test]
    fn positions_inside_scalars() {
        assert_eq!(pos("k: abc def", "abc", 4), (1, 8));
        assert_eq!(pos("k: \"a\\\"bc\"", "\"a", 2), (1, 8));
        assert_eq!(pos("k: 'it''s x'", "'it", 3), (1, 9));
        assert_eq!(pos("x\nk: 'é' ", "'é", 1), (2, 6));
    }
}
