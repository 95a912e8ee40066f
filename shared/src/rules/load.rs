//! Loading `rules.yaml`: parse with positions (saphyr's marked nodes), then validate the spanned tree
//! against the schema ([`super::schema`]) ourselves, so that every error in the file is reported at
//! once (a serde deserialiser stops at the first one).
//!
//! Per rule: each written key is looked up in [`KEYS`] and parsed by its [`Kind`](super::schema::Kind)
//! (`parse.rs`); then the rule's type decides which keys are required and which are refused; then
//! the effective values (rule over `defaults:` over the schema's defaults) build the type's
//! configuration ([`TypeSpec::build`]) and the [`Rule`].

use std::collections::HashMap;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::hints;
use super::parse::{describe, did_you_mean};
use super::schema::{KEYS, KeySpec, Need, TypeSpec, UsedBy, rule_from, rule_type};
use super::values::{Entry, Pos, Report, Source, Values};
use super::{Rule, RuleError, RuleErrors, RuleSet};

const TOP_KEYS: &[&str] = &["version", "defaults", "rules"];

/// Load and validate a rules file. `origin` names the file in error messages.
///
/// On failure, returns every error found, sorted by position.
pub fn load(source: &str, origin: &str) -> Result<RuleSet, RuleErrors> {
    load_files(&[(origin, source)])
}

/// Load several rules files as one set (ElastAlert's `rules_folder` habit): `(origin, source)`
/// pairs, in order. Rule names must be unique across all of them. On failure, returns every error
/// of every file, by file then position.
///
/// ```
/// let a = "version: 1\nrules:\n  - name: x\n    filter_pattern: ERROR\n";
/// let b = "version: 1\nrules:\n  - name: y\n    filter_pattern: WARN\n  - name: x\n    filter_pattern: x\n";
/// let e = logalert::rules::load_files(&[("a.yaml", a), ("b.yaml", b)]).unwrap_err();
/// assert_eq!(e.to_string(), "b.yaml:5:11: duplicate rule name `x` (first defined in a.yaml:3:11)");
/// ```
pub fn load_files(files: &[(&str, &str)]) -> Result<RuleSet, RuleErrors> {
    let mut all_rules = Vec::new();
    let mut all_errors = Vec::new();
    let mut all_warnings = Vec::new();
    let mut names: HashMap<String, (String, Pos)> = HashMap::new();
    for (origin, source) in files {
        let (rules, mut errors, file_names, mut warnings) = load_one(source, origin);
        warnings.sort_by_key(|e| (e.line, e.column));
        all_warnings.extend(warnings);
        for (name, at) in file_names {
            match names.get(&name) {
                Some((first_file, first)) if first_file != origin => errors.push(RuleError {
                    file: origin.to_string(),
                    line: at.line,
                    column: at.column,
                    message: format!(
                        "duplicate rule name `{name}` (first defined in {first_file}:{}:{})",
                        first.line, first.column
                    ),
                }),
                Some(_) => {}
                None => {
                    names.insert(name, (origin.to_string(), at));
                }
            }
        }
        errors.sort_by_key(|e| (e.line, e.column));
        errors.dedup();
        all_errors.extend(errors);
        all_rules.extend(rules.unwrap_or_default());
    }
    if all_errors.is_empty() {
        share_realert_keys(&mut all_rules);
        Ok(RuleSet {
            rules: all_rules,
            warnings: all_warnings,
        })
    } else {
        Err(RuleErrors(all_errors))
    }
}

/// `realert_key`: a rule's silence is named by its `realert_key`, else by its name (ElastAlert's
/// default), so a rule without one shares the silence of rules whose `realert_key` is its name.
/// A name two or more rules share becomes each one's [`Rule::realert_key`] (their shared silence);
/// a name only one rule has is that rule's own realert (`None`: no shared silence item). Disabled,
/// digest and `new_term` rules neither open nor honour a shared silence (`check_common` refuses `realert_key`
/// on them).
fn share_realert_keys(rules: &mut [Rule]) {
    let takes_part = |r: &Rule| {
        r.enabled && r.aggregation.is_none() && !matches!(r.kind, super::RuleKind::NewTerm(_))
    };
    let name_of = |r: &Rule| r.realert_key.clone().unwrap_or_else(|| r.name.clone());
    let mut uses: HashMap<String, usize> = HashMap::new();
    for r in rules.iter().filter(|r| takes_part(r)) {
        *uses.entry(name_of(r)).or_default() += 1;
    }
    for r in rules.iter_mut() {
        let name = name_of(r);
        r.realert_key = (takes_part(r) && uses[&name] > 1).then_some(name);
    }
}

/// One file loaded: its rules (if it parsed), its errors, where each rule name is written, and
/// its warnings.
type Loaded = (
    Option<Vec<Rule>>,
    Vec<RuleError>,
    Vec<(String, Pos)>,
    Vec<RuleError>,
);

fn load_one(source: &str, origin: &str) -> Loaded {
    let mut cx = Cx {
        source,
        origin,
        chars: None,
        errors: Vec::new(),
        names: Vec::new(),
        warnings: Vec::new(),
    };
    let docs = match MarkedYaml::load_from_str(source) {
        Ok(docs) => docs,
        Err(e) => {
            let m = e.marker();
            let line = m.line().max(1);
            let hint = source_line(source, line)
                .and_then(hints::yaml_trap)
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            cx.err_at(
                line,
                m.col() + 1,
                format!("invalid YAML: {}{hint}", e.info()),
            );
            return (None, cx.errors, Vec::new(), Vec::new());
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
    (rules, cx.errors, cx.names, cx.warnings)
}

pub type Node<'a> = MarkedYaml<'a>;

/// The loading context: the source (for positions) and the errors found so far.
pub struct Cx<'s> {
    source: &'s str,
    origin: &'s str,
    /// `source` as chars, built lazily for position arithmetic inside scalars.
    chars: Option<Vec<char>>,
    errors: Vec<RuleError>,
    /// Every valid rule name, where it is written (for uniqueness across files).
    names: Vec<(String, Pos)>,
    /// Problems that do not stop the rules loading.
    warnings: Vec<RuleError>,
}

/// What one mapping (a rule or `defaults:`) wrote.
#[derive(Default)]
struct Written<'a> {
    /// The valid values.
    values: Values,
    /// Every known key written, valid or not (so that no "missing" error follows an invalid one),
    /// with its key node.
    present: Vec<(&'static str, &'a Node<'a>)>,
    /// The value node of `type:`.
    type_node: Option<&'a Node<'a>>,
}

impl Written<'_> {
    fn has(&self, key: &str) -> bool {
        self.present.iter().any(|(k, _)| *k == key)
    }
}

fn pos(node: &Node<'_>) -> Pos {
    let m = node.span.start;
    Pos {
        line: m.line(),
        column: m.col() + 1,
    }
}

impl<'s> Cx<'s> {
    pub(super) fn err_at(&mut self, line: usize, column: usize, message: impl Into<String>) {
        self.errors.push(RuleError {
            file: self.origin.to_string(),
            line: line.max(1),
            column: column.max(1),
            message: message.into(),
        });
    }

    /// The source text of a one-line `node` (for hints that show it quoted): from its start to the
    /// end of its line, without a trailing comment. `None` when it spans several lines.
    pub(super) fn source_text(&mut self, node: &Node<'_>) -> Option<String> {
        let (start, end) = (node.span.start, node.span.end);
        if end.line() > start.line() {
            return None;
        }
        let line = source_line(self.source, start.line())?;
        let rest: String = line.chars().skip(start.col()).collect();
        let rest = rest.find(" #").map_or(rest.as_str(), |i| &rest[..i]);
        Some(rest.trim_end().to_string())
    }

    pub(super) fn err(&mut self, node: &Node<'_>, message: impl Into<String>) {
        let p = pos(node);
        self.err_at(p.line, p.column, message);
    }

    /// Report an error at the `offset`-th character of the string value of scalar `node` — pointing
    /// into the YAML source through quotes and escapes where the scalar style allows.
    pub(super) fn err_in_scalar(
        &mut self,
        node: &Node<'_>,
        offset: usize,
        message: impl Into<String>,
    ) {
        let (line, col) = self.pos_in_scalar(node, offset);
        self.err_at(line, col, message);
    }

    /// A warning (the rules still load) at the `offset`-th character of scalar `node`.
    pub(super) fn warn_in_scalar(
        &mut self,
        node: &Node<'_>,
        offset: usize,
        message: impl Into<String>,
    ) {
        let (line, column) = self.pos_in_scalar(node, offset);
        self.warnings.push(RuleError {
            file: self.origin.to_string(),
            line,
            column,
            message: message.into(),
        });
    }

    fn pos_in_scalar(&mut self, node: &Node<'_>, offset: usize) -> (usize, usize) {
        let chars = self
            .chars
            .get_or_insert_with(|| self.source.chars().collect());
        let start = node.span.start.index();
        let idx = scalar_char_index(chars, start, offset).unwrap_or(start);
        line_col(chars, idx)
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
        let mut first_rule_key: Option<usize> = None;
        for (k, v) in map {
            let Some(key) = self.str(k, "a key") else {
                continue;
            };
            match key {
                "version" => version = Some(v),
                "defaults" => defaults = Some(v),
                "rules" => rules = Some(v),
                other => {
                    // A rule laid out at the top (ElastAlert's one rule per file): explain once.
                    let hint = match (hints::rule_key_at_top(other), first_rule_key) {
                        (Some(_), Some(line)) => format!(" (a rule key: see line {line})"),
                        (Some(h), None) => {
                            first_rule_key = Some(pos(k).line);
                            format!(": {h}")
                        }
                        (None, _) => did_you_mean(other, TOP_KEYS),
                    };
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
            None => Written::default(),
            Some(d) if matches!(d.data, YamlData::Value(Scalar::Null)) => Written::default(),
            Some(d) => self.written(d, Source::Defaults),
        };
        let Some(rules) = rules else {
            self.err(doc, "missing `rules:` (a list of rules)");
            return None;
        };
        let items: &[Node<'a>] = match &rules.data {
            YamlData::Sequence(items) if !items.is_empty() => items,
            YamlData::Sequence(_) | YamlData::Value(Scalar::Null) => {
                self.err(
                    rules,
                    "`rules` is empty: a rules file needs at least one rule",
                );
                return None;
            }
            _ => {
                self.err(
                    rules,
                    format!("`rules` must be a list, found {}", describe(rules)),
                );
                return None;
            }
        };
        let schema_defaults = schema_defaults();
        let mut out = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for item in items {
            let written = self.written(item, Source::Rule);
            if let Some(e) = written.values.entry("name") {
                let name = written.values.text("name").unwrap_or_default();
                if let Some(first) = names.get(name) {
                    self.err_at(
                        e.at.line,
                        e.at.column,
                        format!("duplicate rule name `{name}` (first defined on line {first})"),
                    );
                } else {
                    names.insert(name.to_string(), e.at.line);
                    self.names.push((name.to_string(), e.at));
                }
            }
            if let Some(rule) = self.compile(item, &written, &defaults, &schema_defaults) {
                out.push(rule);
            }
        }
        Some(out)
    }

    /// Parse every key of one rule mapping (or of `defaults:`), collecting errors.
    fn written<'a>(&mut self, node: &'a Node<'a>, source: Source) -> Written<'a> {
        let mut w = Written::default();
        let what = match source {
            Source::Defaults => "`defaults`",
            _ => "a rule",
        };
        let YamlData::Mapping(map) = &node.data else {
            self.err(
                node,
                format!("{what} must be a mapping, found {}", describe(node)),
            );
            return w;
        };
        for (k, v) in map {
            let Some(key) = self.str(k, "a key") else {
                continue;
            };
            let Some(spec) = KEYS.iter().find(|s| s.name == key) else {
                let message = match hints::elastalert_key(key) {
                    Some(h) => {
                        format!("unknown key `{key}` in {what}: this is an ElastAlert key; {h}")
                    }
                    None => {
                        let names: Vec<&str> = KEYS.iter().map(|s| s.name).collect();
                        let hint = did_you_mean(key, &names);
                        format!("unknown key `{key}` in {what}{hint}")
                    }
                };
                self.err(k, message);
                continue;
            };
            if source == Source::Defaults && !spec.in_defaults {
                self.err(k, format!("`{key}` cannot have a default"));
                continue;
            }
            w.present.push((spec.name, k));
            if spec.name == "type" {
                w.type_node = Some(v);
            }
            if let Some(value) = self.value(spec, v) {
                let entry = Entry {
                    value,
                    at: pos(v),
                    source,
                };
                w.values.set(spec.name, entry);
            }
        }
        w
    }

    /// Check the rule's keys against its type, apply defaults and compile it.
    fn compile<'a>(
        &mut self,
        item: &'a Node<'a>,
        w: &Written<'a>,
        d: &Written<'a>,
        schema_defaults: &Values,
    ) -> Option<Rule> {
        if !matches!(item.data, YamlData::Mapping(_)) {
            return None;
        }
        let mut ok = true;
        // An invalid `type` was reported; checking keys against a guessed type would only add noise.
        let type_known = (!w.has("type") || w.values.get("type").is_some())
            && (w.has("type") || !d.has("type") || d.values.get("type").is_some());
        let type_name = w
            .values
            .choice("type")
            .or_else(|| d.values.choice("type"))
            .or_else(|| schema_defaults.choice("type"))
            .unwrap_or("any");
        let mut missing = Vec::new();
        for spec in KEYS {
            let written = w.has(spec.name) || d.has(spec.name);
            match (spec.used_by, spec.need(type_name)) {
                (UsedBy::Every(Need::Required), _) if !written => {
                    self.err(
                        item,
                        format!("a rule needs a `{}`{}", spec.name, spec.missing_hint),
                    );
                    ok = false;
                }
                (UsedBy::Types(_), _) if !type_known => {}
                // A key with its own hint (filter_pattern) keeps its own message.
                (UsedBy::Types(_), Some(Need::Required))
                    if !written && !spec.missing_hint.is_empty() =>
                {
                    self.err(
                        item,
                        format!("a rule needs a `{}`{}", spec.name, spec.missing_hint),
                    );
                    ok = false;
                }
                (UsedBy::Types(_), Some(Need::Required)) if !written => {
                    missing.push(format!("`{}`", spec.name));
                }
                (UsedBy::Types(_), None) => {
                    // Only keys written on the rule itself: defaults may serve other rules.
                    if let Some((_, key_node)) = w.present.iter().find(|(k, _)| *k == spec.name) {
                        self.err(
                            key_node,
                            format!("`{}` is only used by {} rules", spec.name, users(spec)),
                        );
                        ok = false;
                    }
                }
                _ => {}
            }
        }
        if !missing.is_empty() {
            let at = w.type_node.unwrap_or(item);
            self.err(
                at,
                format!("a {type_name} rule needs {}", english_and(&missing)),
            );
            ok = false;
        }
        let ty: &TypeSpec = rule_type(type_name).filter(|_| ok && type_known)?;
        let values = effective(item, w, d, schema_defaults);
        // A key that was written but invalid has no value; its error is already recorded.
        let complete = KEYS
            .iter()
            .filter(|s| s.need(type_name) == Some(Need::Required))
            .all(|s| values.get(s.name).is_some());
        if !complete {
            return None;
        }
        let mut report = Report::default();
        let kind = (ty.build)(&values, &mut report);
        super::schema::check_common(&values, &mut report);
        let common_ok = report.errors.is_empty();
        let at = pos(item);
        for (p, message) in report.errors {
            let p = if p.line == 0 { at } else { p };
            self.err_at(p.line, p.column, message);
        }
        let kind = kind.filter(|_| common_ok)?;
        rule_from(&values, kind)
    }
}

/// The rule's effective keys: written on the rule, else in `defaults:`, else the schema's default.
fn effective(item: &Node<'_>, w: &Written<'_>, d: &Written<'_>, schema: &Values) -> Values {
    let mut values = Values::default();
    let at = pos(item);
    for (key, entry) in schema.iter() {
        values.set(
            key,
            Entry {
                at,
                ..entry.clone()
            },
        );
    }
    for (key, entry) in d.values.iter().chain(w.values.iter()) {
        values.set(key, entry.clone());
    }
    values
}

/// The schema's defaults, parsed by each key's own parser.
fn schema_defaults() -> Values {
    let mut scratch = Cx {
        source: "",
        origin: "(schema default)",
        chars: None,
        errors: Vec::new(),
        names: Vec::new(),
        warnings: Vec::new(),
    };
    let mut values = Values::default();
    for spec in KEYS {
        if let Some(value) = default_value(&mut scratch, spec) {
            values.set(
                spec.name,
                Entry {
                    value,
                    at: Pos::default(),
                    source: Source::Schema,
                },
            );
        }
    }
    debug_assert!(scratch.errors.is_empty(), "{:?}", scratch.errors);
    values
}

fn default_value(cx: &mut Cx<'_>, spec: &KeySpec) -> Option<super::values::Value> {
    let docs = MarkedYaml::load_from_str(spec.default?).ok()?;
    cx.value(spec, docs.first()?)
}

/// `type: frequency`, `type: a` or `type: b`.
fn users(spec: &KeySpec) -> String {
    let UsedBy::Types(types) = spec.used_by else {
        return String::new();
    };
    let names: Vec<String> = types.iter().map(|(t, _)| format!("`type: {t}`")).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn english_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Line `line` (1-based) of `source`, counting line breaks as YAML does (`\n`, `\r\n` and a lone
/// `\r`), without its line break — the line an error's position refers to.
///
/// ```
/// use logalert::rules::source_line;
/// assert_eq!(source_line("a\r\nb\rc\n", 3), Some("c"));
/// assert_eq!(source_line("a\n", 3), None);
/// ```
pub fn source_line(source: &str, line: usize) -> Option<&str> {
    let mut rest = source;
    for _ in 1..line {
        let i = rest.find(['\n', '\r'])?;
        let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[i + skip..];
    }
    Some(rest.find(['\n', '\r']).map_or(rest, |i| &rest[..i])).filter(|_| line >= 1)
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
