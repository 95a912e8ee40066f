//! The rules file (`rules.yaml`, version 1): schema, strict loading, compiled rules.
//!
//! ```
//! use logalert::rules;
//! let yaml = r#"
//! version: 1
//! defaults:
//!   realert: 5m
//! rules:
//!   - name: payment-errors
//!     log_groups: ["/aws/lambda/payments-*"]
//!     filter_pattern: 'ERROR -healthcheck'
//!     severity: critical
//! "#;
//! let set = rules::load(yaml, "rules.yaml").unwrap();
//! assert_eq!(set.rules[0].name, "payment-errors");
//! assert_eq!(set.rules[0].realert.as_secs(), 300);
//!
//! let bad = "version: 1\nrules:\n  - name: x\n    filter_pattern: ERROR\n    severty: error\n";
//! let errors = rules::load(bad, "rules.yaml").unwrap_err();
//! assert_eq!(
//!     errors.to_string(),
//!     "rules.yaml:5:5: unknown key `severty` in a rule (did you mean `severity`?)"
//! );
//! ```
//!
//! Loading never stops at the first problem: every error in the file is collected and reported as
//! `file:line:column: message` (see [`RuleErrors`]). A filter-pattern error points at the offending
//! character inside the YAML string.
//!
//! Every key is declared once, in [`schema::KEYS`] (with the rule types in [`schema::TYPES`]);
//! the fields of [`Rule`] are the keys every rule has.

mod duration;
mod glob;
mod hints;
mod load;
mod parse;
pub mod schema;
pub mod template;
mod values;

use std::fmt;
use std::time::Duration;

use crate::alert::{Mention, Severity};
use crate::engine::types;
use crate::pattern::{FilterPattern, ValueRef};

pub use duration::{MAX_DURATION, parse_duration};
pub use glob::LogGroupGlob;
pub use load::{load, load_files, source_line};
pub use values::{Entry, Pos, Report, Source, Value, Values};

/// Largest `max_samples` accepted.
pub const MAX_MAX_SAMPLES: usize = 100;
/// Largest `num_events` accepted (the frequency window of one rule+key is stored in one DynamoDB
/// item, which must stay well under DynamoDB's 400 KB item limit).
pub const MAX_NUM_EVENTS: u64 = 2000;

/// A loaded, validated and compiled rules file.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// Every rule in file order, including disabled ones (see [`Rule::enabled`]).
    pub rules: Vec<Rule>,
    /// Problems that do not stop the rules loading (e.g. a template variable one typo away from a
    /// logalert variable), in file order. `logalert validate` prints them.
    pub warnings: Vec<RuleError>,
}

impl RuleSet {
    /// Rules that run.
    pub fn enabled(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.enabled)
    }

    /// `N rules (M enabled: a any, f frequency)` — the summary `logalert validate` prints. `any`
    /// and `frequency` are always counted; other types when a rule has them.
    pub fn summary(&self) -> String {
        let enabled = self.enabled().count();
        let per_type: Vec<String> = schema::TYPES
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                let n = self.enabled().filter(|r| r.kind.as_str() == t.name).count();
                (i < 2 || n > 0).then(|| format!("{n} {}", t.name))
            })
            .collect();
        let plural = if self.rules.len() == 1 { "" } else { "s" };
        format!(
            "{} rule{plural} ({enabled} enabled: {})",
            self.rules.len(),
            per_type.join(", ")
        )
    }
}

/// What makes a rule alert. The types beyond `any` and `frequency` carry their configuration
/// (see each module in [`crate::engine::types`]).
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// Every match alerts (subject to `realert`).
    Any,
    /// Alert when at least `num_events` matches fall within `timeframe` (event time), per query key.
    Frequency {
        num_events: u64,
        timeframe: Duration,
    },
    Blacklist(Box<types::blacklist::Config>),
    Whitelist(Box<types::whitelist::Config>),
    Change(Box<types::change::Config>),
    Spike(Box<types::spike::Config>),
    Flatline(Box<types::flatline::Config>),
    NewTerm(Box<types::new_term::Config>),
    Cardinality(Box<types::cardinality::Config>),
    PercentageMatch(Box<types::percentage_match::Config>),
    MetricAggregation(Box<types::metric_aggregation::Config>),
    SpikeAggregation(Box<types::spike_aggregation::Config>),
}

impl RuleKind {
    /// The `type` as written in the rules file and carried in alerts.
    pub fn as_str(&self) -> &'static str {
        match self {
            RuleKind::Any => "any",
            RuleKind::Frequency { .. } => "frequency",
            RuleKind::Blacklist(_) => "blacklist",
            RuleKind::Whitelist(_) => "whitelist",
            RuleKind::Change(_) => "change",
            RuleKind::Spike(_) => "spike",
            RuleKind::Flatline(_) => "flatline",
            RuleKind::NewTerm(_) => "new_term",
            RuleKind::Cardinality(_) => "cardinality",
            RuleKind::PercentageMatch(_) => "percentage_match",
            RuleKind::MetricAggregation(_) => "metric_aggregation",
            RuleKind::SpikeAggregation(_) => "spike_aggregation",
        }
    }
}

/// One part of a `query_key`.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryKeyPart {
    /// `$.selector` (JSON) or `$field` (space-delimited field).
    Value(ValueRef),
    /// `@logGroup`: the event's log group (for rules spanning several groups).
    LogGroup,
    /// `@logStream`: the event's log stream.
    LogStream,
    /// `@fingerprint`: the message with its variable parts replaced ([`crate::fingerprint`]).
    Fingerprint,
}

/// A rule's own CloudWatch metric (`metric:`), emitted as EMF for every match.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSpec {
    /// Metric name (≤ 255 characters, none of `:`, `*`, `$`).
    pub name: String,
    /// Value per match: a number, `$.selector` or `$field`. Matches whose value is absent or not
    /// numeric are not counted.
    pub value: ValueRef,
    /// CloudWatch unit (`Count`, `Milliseconds`, …); default `None`.
    pub unit: String,
    /// Up to 3 dimensions: name → `$.selector` / `$field`. A match lacking a dimension value reports
    /// `<missing>` for it.
    pub dimensions: Vec<(String, ValueRef)>,
}

/// One rule, compiled. Field docs describe the YAML keys of the same name.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `name` (required, unique): shows in alerts, metrics (`Rule` dimension), state keys.
    pub name: String,
    /// `description`: free text carried in alerts.
    pub description: Option<String>,
    /// `log_groups`: glob list (`*` matches any run of characters); empty = every subscribed group.
    pub log_groups: Vec<LogGroupGlob>,
    /// `filter_pattern` (required): CloudWatch Logs filter-pattern syntax; `""` matches everything.
    pub filter_pattern: FilterPattern,
    /// `type` (`any`, default) with `num_events`/`timeframe` for `frequency`.
    pub kind: RuleKind,
    /// `query_key`: one selector or a list; matches are grouped, counted and suppressed per value.
    /// The written form is kept for display.
    pub query_key: Vec<(String, QueryKeyPart)>,
    /// `realert` (default 1m; `0` disables): after an alert, further matches for the same rule and
    /// query key within this time (event time) are suppressed and counted into the next alert.
    pub realert: Duration,
    /// `resolve_after` (default off; `0` is off): after this long without a match (event time),
    /// the open incident of a rule+key ends with one `resolved` publication; the next match opens
    /// a new incident.
    pub resolve_after: Option<Duration>,
    /// `severity`: critical | error (default) | warning | info.
    pub severity: Severity,
    /// `channel`: routing key the notifier maps to a Slack webhook (default `default`).
    pub channel: String,
    /// `mention`: `here`, `channel` or a list of Slack user/group ids.
    pub mention: Vec<Mention>,
    /// `max_samples` (default 5, at most 100): sample events carried per alert.
    pub max_samples: usize,
    /// `alert_subject`: Jinja template for the alert's subject (see [`template`]).
    pub alert_subject: Option<String>,
    /// `alert_text`: Jinja template for the alert's text.
    pub alert_text: Option<String>,
    /// `metric`: the rule's own metric.
    pub metric: Option<MetricSpec>,
    /// `enabled` (default true).
    pub enabled: bool,
    /// `aggregation` (default off; `0` is off): the rule type's alerts of one window are
    /// published as one digest when the window ends (`realert` does not apply then).
    pub aggregation: Option<Duration>,
    /// `aggregation_key` together with `query_key`: the rule type decides per query key, and its
    /// alerts go into one digest per value of this key, across query keys (a digest item per
    /// (rule, value)). Empty otherwise — `aggregation_key` alone *is* the rule's `query_key`.
    pub aggregation_key: Vec<(String, QueryKeyPart)>,
    /// `summary_table_fields`: the digest's table counts events per combination of these values.
    pub summary_table_fields: Vec<(String, QueryKeyPart)>,
    /// `summary_table_max_rows` (default 10): rows the digest's table lists.
    pub summary_table_max_rows: usize,
    /// `exponential_realert` (default off): realert doubles while alerts keep coming, up to this.
    pub exponential_realert: Option<Duration>,
    /// `realert_key` (default: the rule's name): rules with the same key share one silence per
    /// query-key value — an alert of one suppresses the others for its realert window. After
    /// loading: the shared silence's name when another rule shares it, `None` when no other rule
    /// does (the rule's own realert, no shared item).
    pub realert_key: Option<String>,
    /// `top_count_keys`: the most frequent values of each, with counts, in every alert.
    pub top_count_keys: Vec<(String, QueryKeyPart)>,
    /// `top_count_number` (default 5): values listed per top-count key.
    pub top_count_number: usize,
    /// `include`: values shown with each sample.
    pub include: Vec<(String, QueryKeyPart)>,
    /// `alert_missing_value` (default `<missing>`): stands for an absent value in `include`,
    /// summary tables and top counts.
    pub alert_missing_value: String,
}

impl Rule {
    /// Does this rule apply to `log_group`?
    pub fn applies_to(&self, log_group: &str) -> bool {
        self.log_groups.is_empty() || self.log_groups.iter().any(|g| g.is_match(log_group))
    }
}

/// One problem in a rules file, at a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Every problem found in a rules file, in file order. `Display` prints one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleErrors(pub Vec<RuleError>);

impl fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleErrors {}
