//! ElastAlert / ElastAlert 2 rule files → a logalert rules file.
//!
//! ```
//! use logalert::import::elastalert::{convert, Options, SourceFile};
//! let rule = SourceFile::new("rules/errors.yaml", r##"
//! name: payment errors
//! type: frequency
//! index: logs-*
//! num_events: 5
//! timeframe: {minutes: 10}
//! filter:
//! - query: {query_string: {query: "level:ERROR AND service:payments"}}
//! query_key: user.id
//! alert: [slack]
//! slack_webhook_url: https://hooks.slack.com/services/T/B/X
//! slack_channel_override: "#payments"
//! "##);
//! let out = convert(&[rule], None, &Options::default());
//! assert_eq!(out.usable, 1);
//! assert!(out.yaml.contains(r#"filter_pattern: '{ $.level = "ERROR" && $.service = "payments" }'"#));
//! assert!(out.yaml.contains("timeframe: 10m"));
//! assert!(out.yaml.contains("query_key: $.user.id"));
//! assert!(out.yaml.contains("channel: payments"));
//! assert!(!out.yaml.contains("hooks.slack.com"), "webhook URLs are secrets: never in the rules file");
//! assert!(logalert::rules::load(&out.yaml, "out.yaml").is_ok());
//! ```
//!
//! What each ElastAlert key becomes:
//!
//! * `filter` (query_string, term, terms, wildcard, prefix, range, exists, match, match_phrase,
//!   bool must/filter/should/must_not, and/or/not) → `filter_pattern` (see [`super::query`]);
//! * `type` and its options keep their ElastAlert names (`num_events`, `compare_key`,
//!   `spike_height`, …); field references (`query_key`, `compare_key`, `fields`,
//!   `cardinality_field`, `metric_agg_key`, `top_count_keys`, `include`, …) become selectors
//!   (`$.user.id`); durations (`{minutes: 5}`) become `5m`;
//! * `alert_subject` / `alert_text` with `_args` or `_kw` (Python `str.format`) → Jinja
//!   (`{{ user }}`, `{{ event.host.name }}`, `num_matches` → `{{ count }}`); `alert_text_type:
//!   alert_text_jinja` is kept (`_data` → `event`);
//! * `is_enabled` → `enabled`; `priority` (1–4) → `severity`;
//! * alerters → `channel`: `slack` (named after `slack_channel_override`), `ms_teams`,
//!   `ms_power_automate` → `teams`, `pagerduty` (v1 and v2, whose payload severity sets the rule's
//!   severity), `post` / `post2` → `webhook`. Webhook URLs and keys are credentials: they are never
//!   written into the rules file — [`Conversion::channels`] lists them for the webhook secret;
//! * the global `config.yaml`: rule options in it (`query_key`, `realert`, alerters, …) apply to
//!   every rule that does not set them; its connection and scheduling keys are ignored.
//!
//! What cannot be carried over (an Elasticsearch-only query, an `email` alerter, a custom rule
//! type, …) is written as a comment on that rule, and reported as a [`Warning`]. A rule this
//! logalert's rules schema does not accept (a rule type it does not know yet) is written commented
//! out with the schema's errors, so the file always validates.

use serde_json::{Map, Value};

use super::Draft;
use super::query::{self, Convert, Query};
use super::yaml::{flow, scalar};

/// One input file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// How to convert.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub query: Convert,
    /// `log_groups` for every rule (ElastAlert's `index` has no equivalent).
    pub log_groups: Vec<String>,
}

/// Something not carried over, or carried over approximately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub file: String,
    /// 1-based line and column, for a file that is not valid YAML.
    pub at: Option<(usize, usize)>,
    pub rule: Option<String>,
    pub message: String,
}

/// A destination a converted rule's `channel` needs in the webhook secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub name: String,
    /// The secret's destination entry, e.g. `{"type":"slack-webhook","url":"…"}`.
    pub entry: Value,
    /// Which rule files use it.
    pub used_by: Vec<String>,
}

/// The result of a conversion.
#[derive(Debug, Clone, Default)]
pub struct Conversion {
    /// The rules file.
    pub yaml: String,
    /// Rules written live (accepted by this logalert's schema).
    pub usable: usize,
    /// Rules written commented out.
    pub unusable: usize,
    /// Files that are not YAML, or documents that are not rules (each also a warning).
    pub unreadable: usize,
    pub warnings: Vec<Warning>,
    pub channels: Vec<Channel>,
}

/// Keys of the global config.yaml (and rule keys) that are Elasticsearch or scheduler mechanics:
/// ignored without a warning — logalert sees every event as it arrives and has no query to tune.
const MECHANICS: &[&str] = &[
    "es_host",
    "es_port",
    "es_hosts",
    "es_url_prefix",
    "es_username",
    "es_password",
    "es_conn_timeout",
    "es_send_get_body_as",
    "es_api_key",
    "es_bearer",
    "use_ssl",
    "verify_certs",
    "ca_certs",
    "client_cert",
    "client_key",
    "ssl_show_warn",
    "aws_region",
    "profile",
    "rules_folder",
    "scan_subdirectories",
    "run_every",
    "buffer_time",
    "writeback_index",
    "writeback_alias",
    "alert_time_limit",
    "old_query_limit",
    "max_query_size",
    "max_scrolling_count",
    "scroll_keepalive",
    "max_aggregation",
    "max_threads",
    "disable_rules_on_error",
    "notify_email",
    "from_addr",
    "smtp_host",
    "email_reply_to",
    "query_delay",
    "doc_type",
    "use_count_query",
    "use_terms_query",
    "terms_size",
    "use_keyword_postfix",
    "timestamp_field",
    "timestamp_type",
    "timestamp_format",
    "timestamp_format_expr",
    "use_strftime_index",
    "scan_entire_timeframe",
    "query_timezone",
    "use_local_time",
    "kibana_url",
    "generate_kibana_link",
    "use_kibana4_dashboard",
    "kibana4_start_timedelta",
    "kibana4_end_timedelta",
    "kibana_discover_app_url",
    "kibana_discover_version",
    "kibana_discover_index_pattern_id",
    "kibana_discover_columns",
    "kibana_discover_from_timedelta",
    "kibana_discover_to_timedelta",
    "generate_kibana_discover_url",
    "shorten_kibana_discover_url",
    "opensearch_discover_app_url",
    "resolve_rule_references",
    "custom_pretty_ts_format",
    "show_ssl_warn",
    "string_multi_field_name",
    "add_metadata_alert",
    "jinja_root_name",
    "jinja_template_path",
    "five",
    "limit_execution",
    "base_path",
    "rules_loader",
    "statsd_host",
    "statsd_instance_tag",
    "prometheus_port",
    "replace_dots_in_field_names",
    "query_key_as_string",
    "is_enabled_default",
    "es_client",
    "alert_text_type",
    "index",
    "owner",
    "priority",
    "realert",
    "category",
    "description",
];

/// Options of each rule type, as ElastAlert names them, and how their values convert.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Verbatim,
    Duration,
    Selector,
    SelectorList,
    Pattern,
}

const TYPE_OPTIONS: &[(&str, &[(&str, Kind)])] = &[
    ("any", &[]),
    (
        "frequency",
        &[
            ("num_events", Kind::Verbatim),
            ("timeframe", Kind::Duration),
        ],
    ),
    (
        "spike",
        &[
            ("spike_height", Kind::Verbatim),
            ("spike_type", Kind::Verbatim),
            ("timeframe", Kind::Duration),
            ("threshold_ref", Kind::Verbatim),
            ("threshold_cur", Kind::Verbatim),
            ("alert_on_new_data", Kind::Verbatim),
        ],
    ),
    (
        "flatline",
        &[
            ("threshold", Kind::Verbatim),
            ("timeframe", Kind::Duration),
            ("forget_keys", Kind::Verbatim),
        ],
    ),
    (
        "blacklist",
        &[
            ("compare_key", Kind::Selector),
            ("blacklist", Kind::Verbatim),
        ],
    ),
    (
        "whitelist",
        &[
            ("compare_key", Kind::Selector),
            ("whitelist", Kind::Verbatim),
            ("ignore_null", Kind::Verbatim),
        ],
    ),
    (
        "change",
        &[
            ("compare_key", Kind::SelectorList),
            ("ignore_null", Kind::Verbatim),
            ("timeframe", Kind::Duration),
        ],
    ),
    (
        "new_term",
        &[
            ("fields", Kind::SelectorList),
            ("terms_window_size", Kind::Duration),
            ("alert_on_missing_field", Kind::Verbatim),
        ],
    ),
    (
        "cardinality",
        &[
            ("cardinality_field", Kind::Selector),
            ("max_cardinality", Kind::Verbatim),
            ("min_cardinality", Kind::Verbatim),
            ("timeframe", Kind::Duration),
        ],
    ),
    (
        "percentage_match",
        &[
            ("match_bucket_filter", Kind::Pattern),
            ("min_percentage", Kind::Verbatim),
            ("max_percentage", Kind::Verbatim),
            ("buffer_time", Kind::Duration),
            ("min_denominator", Kind::Verbatim),
        ],
    ),
    (
        "metric_aggregation",
        &[
            ("metric_agg_key", Kind::Selector),
            ("metric_agg_type", Kind::Verbatim),
            ("max_threshold", Kind::Verbatim),
            ("min_threshold", Kind::Verbatim),
            ("buffer_time", Kind::Duration),
            ("percentile_range", Kind::Verbatim),
        ],
    ),
    (
        "spike_aggregation",
        &[
            ("metric_agg_key", Kind::Selector),
            ("metric_agg_type", Kind::Verbatim),
            ("spike_height", Kind::Verbatim),
            ("spike_type", Kind::Verbatim),
            ("timeframe", Kind::Duration),
            ("threshold_ref", Kind::Verbatim),
            ("threshold_cur", Kind::Verbatim),
            ("buffer_time", Kind::Duration),
            ("percentile_range", Kind::Verbatim),
        ],
    ),
];

/// Options every type takes (the "Rule types" issue keeps ElastAlert's names).
const COMMON_OPTIONS: &[(&str, Kind)] = &[
    ("aggregation", Kind::Duration),
    ("aggregation_key", Kind::Selector),
    ("summary_table_fields", Kind::SelectorList),
    ("summary_table_max_rows", Kind::Verbatim),
    ("exponential_realert", Kind::Duration),
    ("realert_key", Kind::Verbatim),
    ("top_count_keys", Kind::SelectorList),
    ("top_count_number", Kind::Verbatim),
    ("include", Kind::SelectorList),
    ("alert_missing_value", Kind::Verbatim),
];

/// ElastAlert type names written as module paths in old rule files.
fn type_name(t: &str) -> &str {
    match t {
        "elastalert.ruletypes.AnyRule" => "any",
        "elastalert.ruletypes.FrequencyRule" => "frequency",
        "elastalert.ruletypes.SpikeRule" => "spike",
        "elastalert.ruletypes.FlatlineRule" => "flatline",
        "elastalert.ruletypes.BlacklistRule" => "blacklist",
        "elastalert.ruletypes.WhitelistRule" => "whitelist",
        "elastalert.ruletypes.ChangeRule" => "change",
        "elastalert.ruletypes.NewTermsRule" => "new_term",
        "elastalert.ruletypes.CardinalityRule" => "cardinality",
        other => other,
    }
}

/// Convert rule files (and optionally the global config.yaml).
pub fn convert(files: &[SourceFile], config: Option<&SourceFile>, opts: &Options) -> Conversion {
    let mut out = Conversion::default();
    let mut cx = Cx {
        opts,
        warnings: Vec::new(),
        channels: Vec::new(),
    };
    let defaults: Map<String, Value> = match config {
        None => Map::new(),
        Some(c) => match super::yaml::load(&c.text) {
            Ok(docs) => match docs.into_iter().next() {
                Some(Value::Object(m)) => m
                    .into_iter()
                    .filter(|(k, _)| !MECHANICS.contains(&k.as_str()) || k == "realert")
                    .collect(),
                Some(Value::Null) | None => Map::new(),
                Some(_) => {
                    cx.warn(&c.name, None, "the config file is not a mapping: ignored");
                    Map::new()
                }
            },
            Err((l, col, e)) => {
                cx.warn(
                    &c.name,
                    None,
                    format!("{l}:{col}: invalid YAML: {e}: ignored"),
                );
                Map::new()
            }
        },
    };
    let mut drafts: Vec<Draft> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for file in files {
        let docs = match super::yaml::load(&file.text) {
            Ok(d) => d,
            Err((l, col, e)) => {
                cx.warnings.push(Warning {
                    file: file.name.clone(),
                    at: Some((l, col)),
                    rule: None,
                    message: format!("invalid YAML: {e}"),
                });
                out.unreadable += 1;
                continue;
            }
        };
        for doc in docs {
            let Value::Object(mut rule) = doc else {
                if !doc.is_null() {
                    cx.warn(&file.name, None, "not a mapping: not an ElastAlert rule");
                    out.unreadable += 1;
                }
                continue;
            };
            for (k, v) in &defaults {
                rule.entry(k.clone()).or_insert_with(|| v.clone());
            }
            let mut converted = cx.rule(&file.name, &rule);
            // Unique names: ElastAlert requires them too, but across folders they can repeat.
            let mut name = converted.name.clone();
            let mut n = 2;
            while names.contains(&name) {
                name = format!("{} ({n})", converted.name);
                n += 1;
            }
            if name != converted.name {
                converted.notes.push(format!(
                    "renamed from `{}` (the name is used twice)",
                    converted.name
                ));
                converted.name = name.clone();
            }
            names.push(name);
            drafts.push(converted);
        }
    }
    let placed = super::place(&drafts);
    out.usable = placed.usable;
    out.unusable += placed.unusable;
    for (d, why) in &placed.refused {
        cx.warn(
            &d.file,
            Some(&d.name),
            format!("written commented out: {why}"),
        );
    }
    let mut header = format!(
        "Converted from ElastAlert by `logalert import-elastalert` ({}).\n\
         Check with `logalert validate`; try it on your logs with `logalert replay`.\n\
         Filters became CloudWatch filter patterns: field values compare exactly and \
         case-sensitively.",
        files
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !cx.channels.is_empty() {
        header.push_str(
            "\n\nChannels these rules use: add them to the webhook secret (WebhooksSecretArn).\n\
             URLs and keys are credentials and are not copied here (--channels-file writes them).",
        );
        for c in &cx.channels {
            header.push_str(&format!(
                "\n  {}: {} (from {})",
                c.name,
                c.entry["type"].as_str().unwrap_or("?"),
                c.used_by.join(", ")
            ));
        }
    }
    out.yaml = super::document(&header, &placed);
    out.warnings = cx.warnings;
    out.channels = cx.channels;
    out
}

struct Cx<'a> {
    opts: &'a Options,
    warnings: Vec<Warning>,
    channels: Vec<Channel>,
}

impl Cx<'_> {
    fn warn(&mut self, file: &str, rule: Option<&str>, message: impl Into<String>) {
        self.warnings.push(Warning {
            file: file.to_string(),
            at: None,
            rule: rule.map(str::to_string),
            message: message.into(),
        });
    }

    fn rule(&mut self, file: &str, r: &Map<String, Value>) -> Draft {
        let name = match r.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            _ => std::path::Path::new(file)
                .file_stem()
                .map_or_else(|| "rule".to_string(), |s| s.to_string_lossy().into_owned()),
        };
        let mut out = Draft {
            file: file.to_string(),
            name: name.clone(),
            keys: Vec::new(),
            notes: Vec::new(),
            blocked: None,
        };
        let mut lost: Vec<String> = Vec::new();
        let mut used: Vec<&str> = vec!["name"];

        if let Some(Value::String(d)) = r.get("description") {
            out.set("description", scalar(d));
        }
        used.push("description");
        if !self.opts.log_groups.is_empty() {
            out.set(
                "log_groups",
                flow(&Value::from(self.opts.log_groups.clone())),
            );
        } else if let Some(index) = r.get("index") {
            out.notes.push(format!(
                "index {}: no CloudWatch equivalent; add `log_groups` (default: every subscribed group)",
                flow(index)
            ));
        }
        used.push("index");

        // type
        let ty = r
            .get("type")
            .and_then(|t| t.as_str())
            .map(type_name)
            .unwrap_or("any")
            .to_string();
        used.push("type");
        let known = TYPE_OPTIONS.iter().find(|(t, _)| *t == ty);

        // filter
        match self.filter(r.get("filter")) {
            Ok((pattern, notes)) => {
                out.set("filter_pattern", scalar(&pattern));
                out.notes.extend(notes);
            }
            Err(e) => {
                lost.push(format!("filter: {e}"));
                out.set("filter_pattern", scalar(""));
                out.blocked = Some(format!(
                    "its filter did not carry over ({e}); write a filter_pattern, then enable it"
                ));
            }
        }
        used.push("filter");

        match known {
            Some((t, options)) => {
                if *t != "any" {
                    out.set("type", scalar(t));
                }
                for (key, kind) in options.iter() {
                    used.push(key);
                    if let Some(v) = r.get(*key) {
                        match self.option(v, *kind) {
                            Ok(s) => out.set(key, s),
                            Err(e) => lost.push(format!("{key}: {e}")),
                        }
                    }
                }
            }
            None => {
                lost.push(format!(
                    "type `{ty}`: a custom ElastAlert rule type has no logalert equivalent"
                ));
                out.blocked = Some(format!("type `{ty}` has no logalert equivalent"));
            }
        }

        // query_key (and compound_query_key)
        for key in ["query_key", "compound_query_key"] {
            used.push(key);
            if let Some(v) = r.get(key) {
                if out.keys.iter().any(|(k, _)| k == "query_key") {
                    continue;
                }
                match self.option(v, Kind::SelectorList) {
                    Ok(s) => out.set("query_key", s),
                    Err(e) => lost.push(format!("{key}: {e}")),
                }
            }
        }

        used.push("realert");
        if let Some(v) = r.get("realert") {
            match duration(v) {
                Ok(d) => out.set("realert", d),
                Err(e) => lost.push(format!("realert: {e}")),
            }
        }

        // severity from priority; alerters may refine it
        used.push("priority");
        if let Some(p) = r.get("priority").and_then(|p| p.as_i64()) {
            let sev = match p {
                i64::MIN..=1 => "critical",
                2 => "error",
                3 => "warning",
                _ => "info",
            };
            out.set("severity", sev.to_string());
        }

        // alerters
        let (channel, severity, alerter_keys, alerter_lost) = self.alerters(file, &name, r);
        used.extend(alerter_keys);
        lost.extend(alerter_lost);
        if let Some(sev) = severity {
            out.keys.retain(|(k, _)| k != "severity");
            out.set("severity", sev.to_string());
        }
        if let Some(c) = channel {
            out.set("channel", scalar(&c));
        }

        // templates
        for (key, args_key, kw_key) in [
            ("alert_subject", "alert_subject_args", "alert_subject_kw"),
            ("alert_text", "alert_text_args", "alert_text_kw"),
        ] {
            used.extend([key, args_key, kw_key]);
            if let Some(Value::String(t)) = r.get(key) {
                let jinja = r.get("alert_text_type").and_then(|v| v.as_str())
                    == Some("alert_text_jinja")
                    && key == "alert_text";
                match template(t, r.get(args_key), r.get(kw_key), jinja) {
                    Ok((s, notes)) => {
                        out.set(key, scalar(&s));
                        out.notes.extend(notes);
                    }
                    Err(e) => lost.push(format!("{key}: {e}")),
                }
            }
        }
        used.push("alert_text_type");
        if let Some(Value::String(t)) = r.get("alert_text_type")
            && t != "alert_text_jinja"
        {
            out.notes.push(format!(
                "alert_text_type {t}: logalert always shows the matches and counts with the text"
            ));
        }

        for (key, kind) in COMMON_OPTIONS {
            used.push(key);
            if let Some(v) = r.get(*key) {
                let v = without_metadata_fields(key, v, &mut out.notes);
                if v.as_array().is_some_and(|a| a.is_empty()) {
                    continue;
                }
                match self.option(&v, *kind) {
                    Ok(s) => out.set(key, s),
                    Err(_) if *key == "aggregation" && v.get("schedule").is_some() => lost.push(
                        format!("aggregation {}: a cron schedule; logalert's digest window is a duration from the first alert (`aggregation: 10m`)", flow(&v)),
                    ),
                    Err(e) => lost.push(format!("{key}: {e}")),
                }
            }
        }
        reconcile_common(&mut out, r, &name, &mut lost);
        if ty == "new_term" {
            out.notes.push(
                "ElastAlert queried `terms_window_size` of history for the known terms at start-up; logalert has none to query and learns the terms seen during `learning_period` (default 1d) silently".to_string(),
            );
        }

        used.push("is_enabled");
        match r.get("is_enabled") {
            Some(Value::Bool(false)) => out.set("enabled", "false".to_string()),
            Some(Value::Bool(true)) | None => {}
            Some(other) => lost.push(format!("is_enabled: {} is not true or false", flow(other))),
        }

        used.push("import");
        if let Some(i) = r.get("import") {
            lost.push(format!(
                "import {}: merge the imported file into this one and convert again",
                flow(i)
            ));
        }

        // Every other key: Elasticsearch mechanics are dropped quietly; the rest is reported.
        for k in r.keys() {
            if used.contains(&k.as_str()) || MECHANICS.contains(&k.as_str()) {
                continue;
            }
            if is_alerter_option(k) {
                continue; // options of an alerter this rule does not use
            }
            // The key only: values of unknown keys may be credentials.
            lost.push(format!("`{k}`: no logalert equivalent"));
        }
        if !lost.is_empty() {
            for l in &lost {
                self.warn(file, Some(&name), format!("not carried over: {l}"));
            }
            out.notes
                .push(format!("not carried over:\n  {}", lost.join("\n  ")));
        }
        out
    }

    /// `filter` (a list of query DSL objects, ANDed) → a pattern and notes.
    fn filter(&self, f: Option<&Value>) -> Result<(String, Vec<String>), query::Unsupported> {
        let q = match f {
            None | Some(Value::Null) => Query::All,
            Some(Value::Array(items)) => Query::And(
                items
                    .iter()
                    .map(query::parse_dsl)
                    .collect::<Result<_, _>>()?,
            ),
            Some(one) => query::parse_dsl(one)?,
        };
        let c = query::to_pattern(&q, &self.opts.query)?;
        Ok((c.pattern, c.notes))
    }

    fn option(&self, v: &Value, kind: Kind) -> Result<String, String> {
        match kind {
            Kind::Verbatim => Ok(flow(v)),
            Kind::Duration => duration(v),
            Kind::Selector => match v {
                Value::String(s) => sel(s),
                Value::Array(items) if items.len() == 1 => self.option(&items[0], kind),
                other => Err(format!("{} is not a field name", flow(other))),
            },
            Kind::SelectorList => match v {
                Value::String(s) => sel(s),
                Value::Array(items) => {
                    let parts: Result<Vec<String>, String> = items
                        .iter()
                        .map(|i| match i {
                            Value::Array(_) => self.option(i, Kind::SelectorList),
                            _ => self.option(i, Kind::Selector),
                        })
                        .collect();
                    Ok(format!("[{}]", parts?.join(", ")))
                }
                other => Err(format!("{} is not a field name or list", flow(other))),
            },
            Kind::Pattern => self
                .filter(Some(v))
                .map(|(p, _)| scalar(&p))
                .map_err(|e| e.to_string()),
        }
    }

    /// The rule's alerters → (channel, severity, keys consumed, not carried over).
    fn alerters(
        &mut self,
        file: &str,
        rule: &str,
        r: &Map<String, Value>,
    ) -> (
        Option<String>,
        Option<&'static str>,
        Vec<&'static str>,
        Vec<String>,
    ) {
        let mut lost = Vec::new();
        let mut severity = None;
        let names: Vec<(String, Map<String, Value>)> = match r.get("alert") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![(s.clone(), Map::new())],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| match i {
                    Value::String(s) => Some((s.clone(), Map::new())),
                    Value::Object(m) => m
                        .iter()
                        .next()
                        .map(|(k, v)| (k.clone(), v.as_object().cloned().unwrap_or_default())),
                    _ => None,
                })
                .collect(),
            Some(other) => {
                lost.push(format!("alert: {}", flow(other)));
                Vec::new()
            }
        };
        let mut channels: Vec<String> = Vec::new();
        for (alerter, inline) in &names {
            // Options may be inline (`- slack: {slack_webhook_url: …}`) or at the rule's top level.
            let get = |k: &str| inline.get(k).or_else(|| r.get(k));
            let first = |k: &str| match get(k) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Array(a)) => a.first().and_then(|v| v.as_str()).map(str::to_string),
                _ => None,
            };
            let found = match alerter.as_str() {
                "slack" | "elastalert.alerters.slack.SlackAlerter" => {
                    let name = first("slack_channel_override")
                        .map(|c| c.trim_start_matches(['#', '@']).to_string())
                        .filter(|c| !c.is_empty())
                        .unwrap_or_else(|| "slack".to_string());
                    if let Some(Value::String(c)) = get("slack_msg_color") {
                        severity = severity.or(match c.as_str() {
                            "danger" => Some("error"),
                            "warning" => Some("warning"),
                            "good" => Some("info"),
                            _ => None,
                        });
                    }
                    first("slack_webhook_url")
                        .map(|u| (name, serde_json::json!({"type": "slack-webhook", "url": u})))
                }
                "ms_teams" => first("ms_teams_webhook_url").map(|u| {
                    (
                        "teams".to_string(),
                        serde_json::json!({"type": "teams", "url": u}),
                    )
                }),
                "ms_power_automate" => first("ms_power_automate_webhook_url").map(|u| {
                    (
                        "teams".to_string(),
                        serde_json::json!({"type": "teams", "url": u}),
                    )
                }),
                "pagerduty" => {
                    if let Some(Value::String(s)) = get("pagerduty_v2_payload_severity") {
                        severity = match s.as_str() {
                            "critical" => Some("critical"),
                            "error" => Some("error"),
                            "warning" => Some("warning"),
                            "info" => Some("info"),
                            _ => severity,
                        };
                    }
                    first("pagerduty_service_key").map(|k| {
                        (
                            "pagerduty".to_string(),
                            serde_json::json!({"type": "pagerduty", "routing_key": k}),
                        )
                    })
                }
                "post" | "post2" => {
                    let key = if alerter == "post" {
                        "http_post_url"
                    } else {
                        "http_post2_url"
                    };
                    first(key).map(|u| {
                        (
                            "webhook".to_string(),
                            serde_json::json!({"type": "webhook", "url": u}),
                        )
                    })
                }
                "debug" => continue,
                other => {
                    lost.push(format!(
                        "alert `{other}`: logalert delivers to Slack, Teams, PagerDuty and webhooks \
                         (or subscribe to the SNS topic)"
                    ));
                    continue;
                }
            };
            match found {
                Some((base, entry)) => {
                    let name = self.channel(base, entry, file);
                    channels.push(name);
                }
                None => lost.push(format!(
                    "alert `{alerter}`: no webhook URL / key found in the rule or config"
                )),
            }
        }
        if channels.len() > 1 {
            lost.push(format!(
                "alerters {}: a logalert rule has one channel; it uses `{}` — route that channel \
                 to the other destinations too, or copy the rule",
                channels.join(", "),
                channels[0]
            ));
        }
        let _ = rule;
        (channels.into_iter().next(), severity, vec!["alert"], lost)
    }

    /// A channel for this destination: the same destination reuses its name, a different one with
    /// the same base name gets `-2`, `-3`.
    fn channel(&mut self, base: String, entry: Value, file: &str) -> String {
        if let Some(c) = self.channels.iter_mut().find(|c| c.entry == entry) {
            if !c.used_by.iter().any(|f| f == file) {
                c.used_by.push(file.to_string());
            }
            return c.name.clone();
        }
        let mut name = base.clone();
        let mut n = 2;
        while self.channels.iter().any(|c| c.name == name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        self.channels.push(Channel {
            name: name.clone(),
            entry,
            used_by: vec![file.to_string()],
        });
        name
    }
}

/// Option prefixes of ElastAlert alerters: consumed by the alerter conversion or irrelevant when
/// the rule does not use that alerter.
fn is_alerter_option(k: &str) -> bool {
    [
        "slack_",
        "ms_teams_",
        "ms_power_automate_",
        "pagerduty_",
        "http_post",
        "email",
        "smtp_",
        "jira_",
        "sns_",
        "telegram_",
        "discord_",
        "opsgenie_",
        "mattermost_",
        "victorops_",
        "gitter_",
        "command",
        "pipe_",
        "alertmanager_",
        "chatwork_",
        "datadog_",
        "dingtalk_",
        "exotel_",
        "googlechat_",
        "hivealerter_",
        "line_",
        "rocket_chat_",
        "servicenow_",
        "ses_",
        "stomp_",
        "twilio_",
        "zabbix_",
        "alerta_",
        "cc",
        "bcc",
        "from_addr",
        "reply_to",
    ]
    .iter()
    .any(|p| k.starts_with(p))
}

/// Elasticsearch's own document fields: a CloudWatch event has its timestamp and id in every
/// sample already, and no index or type.
const METADATA_FIELDS: &[&str] = &["@timestamp", "_id", "_index", "_type", "@version"];

/// `include`, `top_count_keys`, `summary_table_fields` without Elasticsearch's document fields
/// (with a note when any was dropped).
fn without_metadata_fields(key: &str, v: &Value, notes: &mut Vec<String>) -> Value {
    if !["include", "top_count_keys", "summary_table_fields"].contains(&key) {
        return v.clone();
    }
    let items: Vec<Value> = match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    let (meta, kept): (Vec<Value>, Vec<Value>) = items.into_iter().partition(|i| {
        i.as_str()
            .is_some_and(|s| METADATA_FIELDS.contains(&s.trim()))
    });
    if !meta.is_empty() {
        notes.push(format!(
            "{key}: {} dropped (every sample carries its CloudWatch timestamp and event id)",
            meta.iter().map(flow).collect::<Vec<_>>().join(", ")
        ));
    }
    Value::Array(kept)
}

/// The common options as logalert accepts them together: `aggregation_key` is kept (alone, the
/// grouping key; with a different `query_key`, digests across query keys; the same as
/// `query_key`, dropped as redundant), digest options need `aggregation`, `realert_key` is kept
/// unless it is the rule's own name or the rule cannot share a silence (digests, new_term),
/// `exponential_realert` is at least `realert`.
fn reconcile_common(out: &mut Draft, r: &Map<String, Value>, name: &str, lost: &mut Vec<String>) {
    let has = |out: &Draft, k: &str| out.keys.iter().any(|(key, _)| key == k);
    let value = |out: &Draft, k: &str| {
        out.keys
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let aggregating = value(out, "aggregation").is_some_and(|v| v != "0");
    if has(out, "aggregation_key")
        && has(out, "query_key")
        && value(out, "aggregation_key") == value(out, "query_key")
    {
        // The same key: one digest per query key, as `query_key` alone says.
        out.keys.retain(|(k, _)| k != "aggregation_key");
    }
    for key in [
        "aggregation_key",
        "summary_table_fields",
        "summary_table_max_rows",
    ] {
        if has(out, key) && !aggregating {
            out.keys.retain(|(k, _)| k != key);
            out.notes.push(format!(
                "{key} dropped: it shapes aggregation digests, and this rule has none"
            ));
        }
    }
    if let Some(Value::String(key)) = r.get("realert_key") {
        // Shared silences carry over (ElastAlert's semantics); the rule's own name is the default.
        let new_term = value(out, "type").as_deref() == Some("new_term");
        if key.trim() == name || key.trim().is_empty() {
            out.keys.retain(|(k, _)| k != "realert_key");
        } else if aggregating || new_term {
            out.keys.retain(|(k, _)| k != "realert_key");
            lost.push(format!(
                "realert_key {}: shared silences do not apply to {} in logalert",
                scalar(key),
                if aggregating {
                    "digest rules (`aggregation`: no realert)"
                } else {
                    "new_term rules (each term realerts on its own)"
                }
            ));
        }
    }
    let secs = |v: Option<String>| v.and_then(|v| crate::rules::parse_duration(&v).ok());
    let realert = secs(value(out, "realert")).unwrap_or(std::time::Duration::from_secs(60));
    if let Some(cap) = secs(value(out, "exponential_realert"))
        && !cap.is_zero()
        && cap < realert
    {
        out.keys.retain(|(k, _)| k != "exponential_realert");
        lost.push(format!(
            "exponential_realert shorter than realert ({}s < {}s): ElastAlert then waits the cap; set `realert` to it",
            cap.as_secs(),
            realert.as_secs()
        ));
    }
}

fn sel(field: &str) -> Result<String, String> {
    let f = query::strip_keyword(field.trim());
    query::selector(&f)
        .map(|s| scalar(&s))
        .map_err(|e| e.to_string())
}

/// ElastAlert durations (`{minutes: 5}`, `{hours: 1, minutes: 30}`) → `5m`, `90m`.
pub fn duration(v: &Value) -> Result<String, String> {
    let Value::Object(m) = v else {
        return Err(format!(
            "{} is not a duration such as {{minutes: 5}}",
            flow(v)
        ));
    };
    let mut secs = 0f64;
    for (unit, n) in m {
        let n = n
            .as_f64()
            .filter(|n| *n >= 0.0 && n.is_finite())
            .ok_or_else(|| format!("`{unit}: {}` is not a number", flow(n)))?;
        let per = match unit.as_str() {
            "weeks" => 604_800.0,
            "days" => 86_400.0,
            "hours" => 3_600.0,
            "minutes" => 60.0,
            "seconds" => 1.0,
            "milliseconds" => 0.001,
            other => return Err(format!("unknown duration unit `{other}`")),
        };
        secs += n * per;
    }
    let secs = secs.round() as u64;
    Ok(if secs == 0 {
        "0".to_string()
    } else if secs.is_multiple_of(86_400) {
        format!("{}d", secs / 86_400)
    } else if secs.is_multiple_of(3_600) {
        format!("{}h", secs / 3_600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    })
}

/// An ElastAlert template field name → a Jinja expression over logalert's template variables.
fn jinja_var(field: &str) -> String {
    match field {
        "num_matches" | "num_hits" => return "count".to_string(),
        "@timestamp" => return "timestamp".to_string(),
        "@log_group" | "_index" => return "log_group".to_string(),
        "name" | "rule_name" => return "rule.name".to_string(),
        _ => {}
    }
    let f = query::strip_keyword(field);
    let ident = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = f.split('.').collect();
    if parts.len() == 1 && ident(&f) {
        return f;
    }
    let mut s = "event".to_string();
    for p in parts {
        if ident(p) {
            s.push('.');
            s.push_str(p);
        } else {
            s.push_str(&format!(
                "[{}]",
                serde_json::to_string(p).expect("strings serialize")
            ));
        }
    }
    s
}

/// A Python `str.format` template with positional `args` or named `kw` → Jinja.
fn template(
    t: &str,
    args: Option<&Value>,
    kw: Option<&Value>,
    already_jinja: bool,
) -> Result<(String, Vec<String>), String> {
    let mut notes = Vec::new();
    if already_jinja {
        return Ok((
            t.replace("_data.", "event.").replace("_data[", "event["),
            notes,
        ));
    }
    let args: Vec<String> = match args {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or("an `_args` entry is not a field name")
            })
            .collect::<Result<_, _>>()?,
        Some(Value::String(s)) => vec![s.clone()],
        Some(_) => return Err("`_args` must be a list of field names".to_string()),
    };
    let kw: Map<String, Value> = kw.and_then(|k| k.as_object().cloned()).unwrap_or_default();
    let chars: Vec<char> = t.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut next_auto = 0;
    while i < chars.len() {
        match chars[i] {
            '{' if chars.get(i + 1) == Some(&'{') => {
                out.push_str("{{ '{' }}");
                i += 2;
            }
            '}' if chars.get(i + 1) == Some(&'}') => {
                out.push_str("{{ '}' }}");
                i += 2;
            }
            '{' => {
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .map(|p| p + i)
                    .ok_or("a `{` is not closed")?;
                let inner: String = chars[i + 1..close].iter().collect();
                let (field_ref, spec) = match inner.split_once([':', '!']) {
                    Some((f, s)) => (f.to_string(), Some(s.to_string())),
                    None => (inner.clone(), None),
                };
                if let Some(spec) = spec {
                    notes.push(format!("format spec `{spec}` in `{{{inner}}}` dropped"));
                }
                let field = if field_ref.is_empty() {
                    let f = args.get(next_auto).cloned();
                    next_auto += 1;
                    f
                } else if let Ok(n) = field_ref.parse::<usize>() {
                    args.get(n).cloned()
                } else {
                    kw.get(&field_ref)
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                        .or(Some(field_ref.clone()))
                };
                let field =
                    field.ok_or_else(|| format!("`{{{inner}}}` has no matching `_args` entry"))?;
                out.push_str(&format!("{{{{ {} }}}}", jinja_var(&field)));
                i = close + 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok((out, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_options_are_reconciled_with_what_logalert_accepts() {
        let rule = SourceFile::new(
            "r.yaml",
            r#"
name: a
query_key: host
aggregation_key: host
aggregation: {minutes: 10}
summary_table_fields: [code, "@timestamp"]
realert: {minutes: 5}
exponential_realert: {minutes: 1}
realert_key: shared
---
name: b
query_key: host
aggregation_key: user
aggregation: {schedule: "0 * * * *"}
summary_table_fields: code
summary_table_max_rows: 3
realert_key: b
"#,
        );
        let out = convert(&[rule], None, &Options::default());
        assert_eq!(out.usable, 2, "{}", out.yaml);
        assert!(
            crate::rules::load(&out.yaml, "out.yaml").is_ok(),
            "{}",
            out.yaml
        );
        let warnings: Vec<String> = out.warnings.iter().map(|w| w.message.clone()).collect();
        let has = |s: &str| warnings.iter().any(|w| w.contains(s));
        // a: the same key twice is one key; a digest shares no silence (its realert_key goes);
        // a cap below realert is not kept.
        assert!(
            out.yaml
                .contains("    aggregation: 10m\n    summary_table_fields: [$.code]\n")
        );
        assert!(
            has("realert_key shared: shared silences do not apply to digest rules"),
            "{warnings:?}"
        );
        assert!(
            has("exponential_realert shorter than realert (60s < 300s)"),
            "{warnings:?}"
        );
        // b: a cron schedule is no duration, so no digest: its table keys and aggregation_key
        // go; the rule's own realert_key is simply dropped.
        assert!(has("a cron schedule"), "{warnings:?}");
        assert!(
            out.yaml
                .contains("aggregation_key dropped: it shapes aggregation digests")
        );
        assert!(
            out.yaml
                .contains("summary_table_fields dropped: it shapes aggregation digests")
        );
        assert!(
            !out.yaml.contains("\n    aggregation_key:")
                && !out.yaml.contains("\n    realert_key:")
        );
        assert_eq!(warnings.len(), 3, "{warnings:?}");
    }

    #[test]
    fn aggregation_key_with_a_different_query_key_carries_over() {
        let rule = SourceFile::new(
            "r.yaml",
            r#"
name: per-service-digest
filter: [{query: {query_string: {query: "level:ERROR"}}}]
query_key: host
aggregation_key: service
aggregation: {minutes: 10}
summary_table_fields: [host]
"#,
        );
        let out = convert(&[rule], None, &Options::default());
        let rules = crate::rules::load(&out.yaml, "out.yaml")
            .unwrap_or_else(|e| panic!("{e}\n{}", out.yaml));
        let r = &rules.rules[0];
        assert_eq!(r.query_key[0].0, "$.host", "{}", out.yaml);
        assert_eq!(r.aggregation_key[0].0, "$.service");
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    }

    #[test]
    fn a_shared_realert_key_carries_over() {
        let rule = SourceFile::new(
            "r.yaml",
            r#"
name: db-errors
filter: [{query: {query_string: {query: "level:ERROR"}}}]
query_key: host
realert_key: db
---
name: db-slow
filter: [{query: {query_string: {query: "slow"}}}]
query_key: host
realert_key: db
---
name: terms
type: new_term
fields: [code]
realert_key: db
"#,
        );
        let out = convert(&[rule], None, &Options::default());
        let rules = crate::rules::load(&out.yaml, "out.yaml")
            .unwrap_or_else(|e| panic!("{e}\n{}", out.yaml));
        let key = |n: &str| {
            rules
                .rules
                .iter()
                .find(|r| r.name == n)
                .map(|r| r.realert_key.clone())
        };
        assert_eq!(
            key("db-errors"),
            Some(Some("db".to_string())),
            "{}",
            out.yaml
        );
        assert_eq!(key("db-slow"), Some(Some("db".to_string())));
        assert_eq!(key("terms"), Some(None));
        let warnings: Vec<String> = out.warnings.iter().map(|w| w.message.clone()).collect();
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("realert_key db: shared silences do not apply to new_term")),
            "{warnings:?}"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(duration(&serde_json::json!({"minutes": 5})).unwrap(), "5m");
        assert_eq!(
            duration(&serde_json::json!({"hours": 1, "minutes": 30})).unwrap(),
            "90m"
        );
        assert_eq!(duration(&serde_json::json!({"weeks": 1})).unwrap(), "7d");
        assert_eq!(
            duration(&serde_json::json!({"seconds": 90})).unwrap(),
            "90s"
        );
        assert_eq!(duration(&serde_json::json!({"minutes": 0})).unwrap(), "0");
        assert!(duration(&serde_json::json!({"fortnights": 1})).is_err());
        assert!(duration(&serde_json::json!(5)).is_err());
    }

    #[test]
    fn templates() {
        let args = serde_json::json!(["user", "host.name", "num_matches"]);
        let (t, _) = template("{0} on {1}: {2} hits {{x}}", Some(&args), None, false).unwrap();
        assert_eq!(
            t,
            "{{ user }} on {{ event.host.name }}: {{ count }} hits {{ '{' }}x{{ '}' }}"
        );
        let (t, notes) = template(
            "{}/{:.1f}",
            Some(&serde_json::json!(["a", "b"])),
            None,
            false,
        )
        .unwrap();
        assert_eq!(t, "{{ a }}/{{ b }}");
        assert_eq!(notes.len(), 1);
        let kw = serde_json::json!({"who": "user.name"});
        assert_eq!(
            template("by {who}", None, Some(&kw), false).unwrap().0,
            "by {{ event.user.name }}"
        );
        assert!(template("{3}", Some(&args), None, false).is_err());
        assert_eq!(
            template("{{ _data['a-b'] }}", None, None, true).unwrap().0,
            "{{ event['a-b'] }}"
        );
        assert_eq!(jinja_var("@timestamp"), "timestamp");
        assert_eq!(jinja_var("k8s.pod-name"), "event.k8s[\"pod-name\"]");
    }
}
