//! The rules schema, declared once.
//!
//! Every key a rule may hold is one row of [`KEYS`]: its YAML name, its [`Kind`] (type and parser),
//! its default, the rule types that use it, whether `defaults:` may set it, and its doc line. Every
//! rule type is one row of [`TYPES`], with the constructor that turns the parsed keys into a
//! [`RuleKind`]. Everything else follows from the two tables: loading and its errors, the
//! `defaults:` merge, "did you mean" hints, the per-type required / forbidden checks and the key
//! table in the README ([`key_table_markdown`]; a test keeps the README in step).
//!
//! ```
//! use logalert::rules::schema::{self, Need};
//! let timeframe = schema::key("timeframe").unwrap();
//! assert_eq!(timeframe.need("frequency"), Some(Need::Required));
//! assert_eq!(timeframe.need("any"), None, "a frequency-only key");
//! assert_eq!(schema::key("realert").unwrap().default, Some("1m"));
//! ```
//!
//! # Adding a key
//! One row in [`KEYS`]. Its value reaches the code that uses it through [`Values`]: a rule type's
//! [`TypeSpec::build`] reads its own keys (`v.duration("spike_window")`); a key every rule has also
//! gets its field on [`Rule`], filled in [`rule_from`] just below the table.
//!
//! # Adding a rule type
//! One row in [`TYPES`] (name, doc, constructor), and `(name, Need::…)` in the `used_by` of each
//! key it reads. `type:` accepts it, its required keys are enforced, keys it does not use are
//! refused on its rules.

use super::load::{Cx, Node};
use super::values::{Report, Value, Values};
use super::{MAX_MAX_SAMPLES, MAX_NUM_EVENTS, Rule, RuleKind};
use crate::pattern::FilterPattern;

/// One rule key.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// The YAML key.
    pub name: &'static str,
    /// Its type and parser.
    pub kind: Kind,
    /// The default, written as YAML and parsed by `kind` (so the docs show exactly what applies).
    pub default: Option<&'static str>,
    /// Which rule types use the key, and whether they require it.
    pub used_by: UsedBy,
    /// May `defaults:` set it?
    pub in_defaults: bool,
    /// Appended to "a rule needs a `key`" when a required key is missing.
    pub missing_hint: &'static str,
    /// One line of documentation (Markdown), the README's "meaning" column.
    pub doc: &'static str,
}

/// Which rule types use a key.
#[derive(Debug, Clone, Copy)]
pub enum UsedBy {
    /// Every rule type.
    Every(Need),
    /// Only these types; written on a rule of another type it is an error. (In `defaults:` it is
    /// fine: defaults serve the rules that use them.)
    Types(&'static [(&'static str, Need)]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The rule (or `defaults:`) must set it.
    Required,
    Optional,
}

/// How a key's value is written and parsed. The parsers live in `rules/parse.rs`.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Any string.
    Text,
    /// `true` or `false`.
    Bool,
    /// An integer within `min..=max`.
    Int { min: i64, max: i64 },
    /// A number (integer or decimal) within `min..=max`.
    Number { min: f64, max: f64 },
    /// A duration: `30s`, `5m`, `1h30m`, `1.5h`, `{minutes: 5}`; `0` unless `nonzero`.
    Duration { nonzero: bool },
    /// One of these strings; errors read "unknown {what} `x` (expected a, b or c)".
    Choice {
        what: &'static str,
        values: &'static [&'static str],
    },
    /// One selector: `$.json.path`, `$field` (space-delimited), `@logGroup` or `@logStream`.
    Selector,
    /// A selector or a list of them.
    Selectors,
    /// A string or a list of strings.
    Strings,
    /// One of [`TYPES`].
    RuleType,
    /// Anything else: `ty` is the docs' type column.
    Custom {
        ty: &'static str,
        parse: fn(&mut Cx<'_>, &KeySpec, &Node<'_>) -> Option<Value>,
    },
}

/// One rule type.
#[derive(Debug, Clone, Copy)]
pub struct TypeSpec {
    /// The `type:` value.
    pub name: &'static str,
    /// One line of documentation.
    pub doc: &'static str,
    /// Builds the type's configuration from the rule's effective keys. Called only when every key
    /// the type requires has a valid value; cross-key problems go to the [`Report`] (and `None`).
    pub build: fn(&Values, &mut Report) -> Option<RuleKind>,
}

/// Base row: an optional key of every rule type, settable in `defaults:`.
const KEY: KeySpec = KeySpec {
    name: "",
    kind: Kind::Text,
    default: None,
    used_by: UsedBy::Every(Need::Optional),
    in_defaults: true,
    missing_hint: "",
    doc: "",
};

const FREQUENCY: &[(&str, Need)] = &[("frequency", Need::Required)];

use Need::{Optional as Opt, Required as Req};

const FILTER_PATTERN: &[(&str, Need)] = &[
    ("any", Req),
    ("frequency", Req),
    ("blacklist", Opt),
    ("whitelist", Opt),
    ("change", Opt),
    ("spike", Opt),
    ("flatline", Opt),
    ("new_term", Opt),
    ("cardinality", Opt),
    ("percentage_match", Opt),
    ("metric_aggregation", Opt),
    ("spike_aggregation", Opt),
];
const TIMEFRAME: &[(&str, Need)] = &[
    ("frequency", Req),
    ("change", Opt),
    ("spike", Req),
    ("flatline", Req),
    ("cardinality", Req),
    ("spike_aggregation", Req),
];
const SPIKES: &[(&str, Need)] = &[("spike", Req), ("spike_aggregation", Req)];
const SPIKE_THRESHOLDS: &[(&str, Need)] = &[("spike", Opt), ("spike_aggregation", Opt)];
const AGGREGATIONS: &[(&str, Need)] = &[("metric_aggregation", Req), ("spike_aggregation", Req)];
const AGGREGATIONS_OPT: &[(&str, Need)] =
    &[("metric_aggregation", Opt), ("spike_aggregation", Opt)];
const BUFFERED: &[(&str, Need)] = &[("percentage_match", Req), ("metric_aggregation", Req)];

/// Every rule key, in the order the docs list them.
pub static KEYS: &[KeySpec] = &[
    KeySpec {
        name: "name",
        kind: Kind::Custom {
            ty: "string",
            parse: |cx, k, n| cx.rule_name(k, n),
        },
        used_by: UsedBy::Every(Need::Required),
        in_defaults: false,
        doc: "Unique rule name; appears as the alert's title, in the `rule` SNS attribute, metrics and state keys.",
        ..KEY
    },
    KeySpec {
        name: "description",
        doc: "Free text carried in the alert.",
        ..KEY
    },
    KeySpec {
        name: "log_groups",
        kind: Kind::Custom {
            ty: "glob or list of globs (`*`, `?`)",
            parse: |cx, k, n| cx.log_groups(k, n),
        },
        doc: "Which log groups the rule sees. Default: every log group delivered to log-filter.",
        ..KEY
    },
    KeySpec {
        name: "filter_pattern",
        kind: Kind::Custom {
            ty: "CloudWatch filter pattern",
            parse: |cx, k, n| cx.filter_pattern(k, n),
        },
        used_by: UsedBy::Types(FILTER_PATTERN),
        missing_hint: " (use \"\" to match every event)",
        doc: "Which events match: exactly the syntax of metric/subscription filters (below). `\"\"` matches everything. Required for `any` and `frequency`; the other types default to every event (their own condition selects).",
        ..KEY
    },
    KeySpec {
        name: "type",
        kind: Kind::RuleType,
        default: Some("any"),
        doc: "What makes the rule alert (see the types below).",
        ..KEY
    },
    KeySpec {
        name: "num_events",
        kind: Kind::Int {
            min: 1,
            max: MAX_NUM_EVENTS as i64,
        },
        used_by: UsedBy::Types(FREQUENCY),
        doc: "Alert when at least this many matches fall within `timeframe`.",
        ..KEY
    },
    KeySpec {
        name: "timeframe",
        kind: Kind::Duration { nonzero: true },
        used_by: UsedBy::Types(TIMEFRAME),
        doc: "The window `num_events` must fall within. Windows use event timestamps, not arrival time, and hold across invocations (DynamoDB).",
        ..KEY
    },
    KeySpec {
        name: "query_key",
        kind: Kind::Selectors,
        doc: "`$.field` (JSON), `$name` / `$3` (space-delimited field), `@logGroup` or `@logStream`. Matches are grouped, counted and suppressed per value.",
        ..KEY
    },
    KeySpec {
        name: "realert",
        kind: Kind::Duration { nonzero: false },
        default: Some("1m"),
        doc: "After an alert, further matches for the same rule+key are suppressed for this long; the next alert reports how many were suppressed. `0` disables.",
        ..KEY
    },
    KeySpec {
        name: "resolve_after",
        kind: Kind::Duration { nonzero: false },
        doc: "After this long without a match (event time), the rule+key's open incident ends with one `resolved` publication (carrying any last suppressed count); the next match opens a new incident. Default off (`0` is off).",
        ..KEY
    },
    KeySpec {
        name: "severity",
        kind: Kind::Custom {
            ty: "`critical` \\| `error` \\| `warning` \\| `info`",
            parse: |cx, k, n| cx.severity(k, n),
        },
        default: Some("error"),
        doc: "Alert colour and the `severity` SNS attribute.",
        ..KEY
    },
    KeySpec {
        name: "channel",
        kind: Kind::Custom {
            ty: "string",
            parse: |cx, k, n| cx.channel(k, n),
        },
        default: Some("default"),
        doc: "Routing key; the notifier maps it to a destination (unknown → `default`).",
        ..KEY
    },
    KeySpec {
        name: "mention",
        kind: Kind::Custom {
            ty: "`here` \\| `channel` \\| list of user/group ids",
            parse: |cx, k, n| cx.mention(k, n),
        },
        doc: "Who the Slack message pings. Only from here — log text can never ping anyone.",
        ..KEY
    },
    KeySpec {
        name: "max_samples",
        kind: Kind::Int {
            min: 0,
            max: MAX_MAX_SAMPLES as i64,
        },
        default: Some("5"),
        doc: "Log events carried in the alert.",
        ..KEY
    },
    KeySpec {
        name: "alert_subject",
        kind: Kind::Custom {
            ty: "Jinja template",
            parse: |cx, k, n| cx.template(k, n),
        },
        doc: "The alert's subject (see Templates below).",
        ..KEY
    },
    KeySpec {
        name: "alert_text",
        kind: Kind::Custom {
            ty: "Jinja template",
            parse: |cx, k, n| cx.template(k, n),
        },
        doc: "The alert's text (see Templates below).",
        ..KEY
    },
    KeySpec {
        name: "metric",
        kind: Kind::Custom {
            ty: "`{name, value, unit, dimensions}`",
            parse: |cx, k, n| cx.metric(k, n),
        },
        doc: "Emit a CloudWatch metric (embedded metric format) per match: `value` is a number or a reference (`$.latency`, `$bytes`), dimensions likewise (≤ 3).",
        ..KEY
    },
    KeySpec {
        name: "enabled",
        kind: Kind::Bool,
        default: Some("true"),
        doc: "Keep a rule in the file without running it.",
        ..KEY
    },
    KeySpec {
        name: "exponential_realert",
        kind: Kind::Duration { nonzero: false },
        doc: "While alerts keep coming, each realert window doubles (`realert` × 2ⁿ) up to this; a quiet period as long as the current window brings it back down (ElastAlert's semantics). Default off (`0` is off).",
        ..KEY
    },
    KeySpec {
        name: "realert_key",
        kind: Kind::Text,
        in_defaults: false,
        doc: "Rules with the same `realert_key` share one silence per query-key value (ElastAlert's semantics): an alert of one suppresses the others' matches for the alerting rule's `realert` (with `exponential_realert`, its backoff, shared). Suppressed matches are counted in each rule's own summary when the silence ends. Default: the rule's name (its own realert). Not with `aggregation` or `type: new_term`.",
        ..KEY
    },
    KeySpec {
        name: "aggregation",
        kind: Kind::Duration { nonzero: false },
        doc: "Digest mode: the alerts of a window (from the first one, this long, event time) are published as **one** alert when the window ends (by the scheduler tick), with their total count, samples, the summary table and top counts. Per query key, or per `aggregation_key` value across query keys. `realert` does not apply. Default off (`0` is off).",
        ..KEY
    },
    KeySpec {
        name: "aggregation_key",
        kind: Kind::Selectors,
        doc: "With `aggregation`: one digest per value of this selector. Alone, it is the rule's grouping key; with `query_key`, the rule type still decides per query key and the digests group its alerts by this value across query keys (ElastAlert's semantics).",
        ..KEY
    },
    KeySpec {
        name: "summary_table_fields",
        kind: Kind::Selectors,
        doc: "With `aggregation`: the digest carries a table of events per combination of these values, largest first (≤ 5 selectors; the first 50 distinct rows counted exactly, later ones as \"other\"). Rows are exact for the types that list their events, from the samples for window types (README, \"How exact the tables are\").",
        ..KEY
    },
    KeySpec {
        name: "summary_table_max_rows",
        kind: Kind::Int { min: 1, max: 50 },
        default: Some("10"),
        doc: "Rows the summary table lists; the rest are summed in one \"other\" row.",
        ..KEY
    },
    KeySpec {
        name: "top_count_keys",
        kind: Kind::Selectors,
        doc: "Every alert (and digest) lists the most frequent values of each of these selectors among the events it represents, with counts (≤ 5 selectors; exact for the types that list their events, from the samples for window types).",
        ..KEY
    },
    KeySpec {
        name: "top_count_number",
        kind: Kind::Int { min: 1, max: 50 },
        default: Some("5"),
        doc: "Values listed per `top_count_keys` selector.",
        ..KEY
    },
    KeySpec {
        name: "include",
        kind: Kind::Selectors,
        doc: "Values shown with each sample (`$.user`, `@fingerprint`, …), in the alert JSON (`samples[].fields`) and every destination (≤ 10 selectors).",
        ..KEY
    },
    KeySpec {
        name: "alert_missing_value",
        kind: Kind::Text,
        default: Some("\"<missing>\""),
        doc: "Stands for an absent value in `include`, summary tables and top counts.",
        ..KEY
    },
    // The keys of the rule types beyond any/frequency (issue 9; ElastAlert 2's names).
    KeySpec {
        name: "compare_key",
        kind: Kind::Selectors,
        used_by: UsedBy::Types(&[("blacklist", Req), ("whitelist", Req), ("change", Req)]),
        doc: "blacklist / whitelist: the selector whose value is checked (one); change: the selector(s) whose value is watched. `@fingerprint` works too.",
        ..KEY
    },
    KeySpec {
        name: "blacklist",
        kind: Kind::Strings,
        used_by: UsedBy::Types(&[("blacklist", Req)]),
        doc: "Values that alert (exact text).",
        ..KEY
    },
    KeySpec {
        name: "whitelist",
        kind: Kind::Strings,
        used_by: UsedBy::Types(&[("whitelist", Req)]),
        doc: "Values that do not alert (exact text); any other value does.",
        ..KEY
    },
    KeySpec {
        name: "ignore_null",
        kind: Kind::Bool,
        default: Some("false"),
        used_by: UsedBy::Types(&[("whitelist", Opt), ("change", Opt)]),
        doc: "Events without the `compare_key` field(s) neither alert (whitelist) nor count as a change.",
        ..KEY
    },
    KeySpec {
        name: "spike_height",
        kind: Kind::Number {
            min: 1e-9,
            max: 1e9,
        },
        used_by: UsedBy::Types(SPIKES),
        doc: "The ratio: current ≥ reference × spike_height (up) or ≤ reference ÷ spike_height (down).",
        ..KEY
    },
    KeySpec {
        name: "spike_type",
        kind: Kind::Choice {
            what: "spike type",
            values: &["up", "down", "both"],
        },
        used_by: UsedBy::Types(SPIKES),
        doc: "Which direction alerts. Down-spikes (also to zero) are decided by the scheduler tick.",
        ..KEY
    },
    KeySpec {
        name: "threshold_cur",
        kind: Kind::Number {
            min: 0.0,
            max: 1e15,
        },
        used_by: UsedBy::Types(SPIKE_THRESHOLDS),
        doc: "No spike unless the current window holds at least this (events, or the aggregate's value).",
        ..KEY
    },
    KeySpec {
        name: "threshold_ref",
        kind: Kind::Number {
            min: 0.0,
            max: 1e15,
        },
        used_by: UsedBy::Types(SPIKE_THRESHOLDS),
        doc: "No spike unless the reference window holds at least this.",
        ..KEY
    },
    KeySpec {
        name: "alert_on_new_data",
        kind: Kind::Bool,
        default: Some("false"),
        used_by: UsedBy::Types(&[("spike", Opt)]),
        doc: "Alert before a key has two timeframes of history (a new key may spike at once).",
        ..KEY
    },
    KeySpec {
        name: "threshold",
        kind: Kind::Int {
            min: 1,
            max: crate::engine::types::flatline::MAX_THRESHOLD as i64,
        },
        used_by: UsedBy::Types(&[("flatline", Req)]),
        doc: "flatline: fewer than this many events within `timeframe` alert.",
        ..KEY
    },
    KeySpec {
        name: "forget_keys",
        kind: Kind::Bool,
        default: Some("false"),
        used_by: UsedBy::Types(&[("flatline", Opt)]),
        doc: "flatline with `query_key`: a key that went flat alerts once, then is forgotten until it is seen again.",
        ..KEY
    },
    KeySpec {
        name: "fields",
        kind: Kind::Custom {
            ty: "list of selectors or lists of them",
            parse: |cx, k, n| cx.selector_lists(k, n),
        },
        used_by: UsedBy::Types(&[("new_term", Req)]),
        doc: "new_term: each entry is watched for new values; a list entry is one composite term. `@fingerprint` alerts on a new kind of message.",
        ..KEY
    },
    KeySpec {
        name: "terms_window_size",
        kind: Kind::Duration { nonzero: true },
        default: Some("30d"),
        used_by: UsedBy::Types(&[("new_term", Opt)]),
        doc: "A term unseen for this long is new again.",
        ..KEY
    },
    KeySpec {
        name: "learning_period",
        kind: Kind::Duration { nonzero: false },
        default: Some("1d"),
        used_by: UsedBy::Types(&[("new_term", Opt)]),
        doc: "Terms seen this long after the rule (and key) first sees an event are learned without alerting. `0`: alert from the first event.",
        ..KEY
    },
    KeySpec {
        name: "alert_on_missing_field",
        kind: Kind::Bool,
        default: Some("false"),
        used_by: UsedBy::Types(&[("new_term", Opt)]),
        doc: "new_term: events missing a field alert (one alert per batch and field).",
        ..KEY
    },
    KeySpec {
        name: "cardinality_field",
        kind: Kind::Selectors,
        used_by: UsedBy::Types(&[("cardinality", Req)]),
        doc: "The selector whose distinct values are counted (one).",
        ..KEY
    },
    KeySpec {
        name: "max_cardinality",
        kind: Kind::Int {
            min: 0,
            max: i64::MAX,
        },
        used_by: UsedBy::Types(&[("cardinality", Opt)]),
        doc: "More distinct values than this within `timeframe` alert (each raising event).",
        ..KEY
    },
    KeySpec {
        name: "min_cardinality",
        kind: Kind::Int {
            min: 0,
            max: i64::MAX,
        },
        used_by: UsedBy::Types(&[("cardinality", Opt)]),
        doc: "Fewer distinct values than this within `timeframe` alert (decided by the tick too).",
        ..KEY
    },
    KeySpec {
        name: "match_bucket_filter",
        kind: Kind::Custom {
            ty: "CloudWatch filter pattern",
            parse: |cx, k, n| cx.filter_pattern(k, n),
        },
        used_by: UsedBy::Types(&[("percentage_match", Req)]),
        doc: "percentage_match: the events counted in the numerator (the rule's `filter_pattern` selects the denominator).",
        ..KEY
    },
    KeySpec {
        name: "min_percentage",
        kind: Kind::Number {
            min: 0.0,
            max: 100.0,
        },
        used_by: UsedBy::Types(&[("percentage_match", Opt)]),
        doc: "A share below this alerts.",
        ..KEY
    },
    KeySpec {
        name: "max_percentage",
        kind: Kind::Number {
            min: 0.0,
            max: 100.0,
        },
        used_by: UsedBy::Types(&[("percentage_match", Opt)]),
        doc: "A share above this alerts.",
        ..KEY
    },
    KeySpec {
        name: "min_denominator",
        kind: Kind::Int {
            min: 0,
            max: i64::MAX,
        },
        default: Some("0"),
        used_by: UsedBy::Types(&[("percentage_match", Opt)]),
        doc: "Windows with fewer events are not judged.",
        ..KEY
    },
    KeySpec {
        name: "buffer_time",
        kind: Kind::Duration { nonzero: true },
        used_by: UsedBy::Types(BUFFERED),
        doc: "The window (epoch-aligned, event time) a percentage or aggregate is computed over; decided when it closes (+1 min grace for late events).",
        ..KEY
    },
    KeySpec {
        name: "metric_agg_key",
        kind: Kind::Selectors,
        used_by: UsedBy::Types(AGGREGATIONS),
        doc: "The numeric field aggregated (one selector).",
        ..KEY
    },
    KeySpec {
        name: "metric_agg_type",
        kind: Kind::Choice {
            what: "aggregation",
            values: &[
                "min",
                "max",
                "avg",
                "sum",
                "count",
                "value_count",
                "cardinality",
                "percentiles",
            ],
        },
        used_by: UsedBy::Types(AGGREGATIONS),
        doc: "How `metric_agg_key` is aggregated (percentiles: DDSketch, 1 % relative error; cardinality: exact to 1,000, then HyperLogLog ≈ 3 %).",
        ..KEY
    },
    KeySpec {
        name: "percentile_range",
        kind: Kind::Number {
            min: 0.0,
            max: 100.0,
        },
        used_by: UsedBy::Types(AGGREGATIONS_OPT),
        doc: "With `metric_agg_type: percentiles`: which percentile (e.g. 95).",
        ..KEY
    },
    KeySpec {
        name: "max_threshold",
        kind: Kind::Number {
            min: -1e300,
            max: 1e300,
        },
        used_by: UsedBy::Types(&[("metric_aggregation", Opt)]),
        doc: "An aggregate above this alerts.",
        ..KEY
    },
    KeySpec {
        name: "min_threshold",
        kind: Kind::Number {
            min: -1e300,
            max: 1e300,
        },
        used_by: UsedBy::Types(&[("metric_aggregation", Opt)]),
        doc: "An aggregate below this alerts.",
        ..KEY
    },
    KeySpec {
        name: "metric_unit",
        kind: Kind::Text,
        used_by: UsedBy::Types(AGGREGATIONS_OPT),
        doc: "Shown after the figures in the alert (`ms` → \"avg latency 903 ms\").",
        ..KEY
    },
];

/// Every rule type, in the order the docs list them.
pub static TYPES: &[TypeSpec] = &[
    TypeSpec {
        name: "any",
        doc: "Every match alerts (subject to `realert`).",
        build: |_, _| Some(RuleKind::Any),
    },
    TypeSpec {
        name: "frequency",
        doc: "Alert when at least `num_events` matches fall within `timeframe` (event time), per query key.",
        build: |v, _| {
            Some(RuleKind::Frequency {
                num_events: u64::try_from(v.int("num_events")?).ok()?,
                timeframe: v.duration("timeframe")?,
            })
        },
    },
    TypeSpec {
        name: "blacklist",
        doc: "Alert on events whose `compare_key` value is in `blacklist`.",
        build: crate::engine::types::keys::blacklist,
    },
    TypeSpec {
        name: "whitelist",
        doc: "Alert on events whose `compare_key` value is not in `whitelist`.",
        build: crate::engine::types::keys::whitelist,
    },
    TypeSpec {
        name: "change",
        doc: "Alert when `compare_key` differs from the last value seen for the same query key (shows old → new).",
        build: crate::engine::types::keys::change,
    },
    TypeSpec {
        name: "spike",
        doc: "The events of the current `timeframe` against the one before it: up, down (to zero, by the tick) or both by `spike_height`.",
        build: crate::engine::types::keys::spike,
    },
    TypeSpec {
        name: "flatline",
        doc: "Fewer than `threshold` events within `timeframe`, decided by the scheduler tick; per query key when set.",
        build: crate::engine::types::keys::flatline,
    },
    TypeSpec {
        name: "new_term",
        doc: "One alert per value of `fields` not seen for `terms_window_size` (after a `learning_period`); `@fingerprint`: a new kind of message.",
        build: crate::engine::types::keys::new_term,
    },
    TypeSpec {
        name: "cardinality",
        doc: "Distinct values of `cardinality_field` within `timeframe` above `max_cardinality` or below `min_cardinality`.",
        build: crate::engine::types::keys::cardinality,
    },
    TypeSpec {
        name: "percentage_match",
        doc: "The share of events matching `match_bucket_filter` per `buffer_time` above `max_percentage` or below `min_percentage`.",
        build: crate::engine::types::keys::percentage_match,
    },
    TypeSpec {
        name: "metric_aggregation",
        doc: "An aggregate (`metric_agg_type`) of `metric_agg_key` per `buffer_time` above `max_threshold` or below `min_threshold`.",
        build: crate::engine::types::keys::metric_aggregation,
    },
    TypeSpec {
        name: "spike_aggregation",
        doc: "Spike detection on an aggregate: this `timeframe`'s `metric_agg_type` against the previous one's.",
        build: crate::engine::types::keys::spike_aggregation,
    },
];

/// The compiled rule from its effective keys (every key with a default has a value here).
pub(super) fn rule_from(v: &Values, kind: RuleKind) -> Option<Rule> {
    Some(Rule {
        name: v.text("name")?.to_string(),
        description: v.text("description").map(str::to_string),
        log_groups: v.globs("log_groups").unwrap_or_default().to_vec(),
        // Optional for the types whose own condition selects events: then every event.
        filter_pattern: match v.pattern("filter_pattern") {
            Some(p) => p.clone(),
            None => FilterPattern::parse("").ok()?,
        },
        kind,
        // `aggregation_key` alone is the grouping key of a digest rule; with `query_key` too, the
        // type decides per query key and the digests group by `aggregation_key` across them.
        query_key: v
            .selectors("query_key")
            .or_else(|| v.selectors("aggregation_key"))
            .unwrap_or_default()
            .to_vec(),
        aggregation_key: match (v.selectors("query_key"), v.selectors("aggregation_key")) {
            // The same selectors as `query_key`: one digest per query key, as without it.
            (Some(q), Some(a)) if !same_selectors(q, a) => a.to_vec(),
            _ => Vec::new(),
        },
        realert: v.duration("realert")?,
        resolve_after: v.duration("resolve_after").filter(|d| !d.is_zero()),
        severity: v.severity("severity")?,
        channel: v.text("channel")?.to_string(),
        mention: v.mentions("mention").unwrap_or_default().to_vec(),
        max_samples: usize::try_from(v.int("max_samples")?).ok()?,
        alert_subject: v.text("alert_subject").map(str::to_string),
        alert_text: v.text("alert_text").map(str::to_string),
        metric: v.metric("metric").cloned(),
        enabled: v.bool("enabled")?,
        aggregation: v.duration("aggregation").filter(|d| !d.is_zero()),
        summary_table_fields: v
            .selectors("summary_table_fields")
            .unwrap_or_default()
            .to_vec(),
        summary_table_max_rows: usize::try_from(v.int("summary_table_max_rows")?).ok()?,
        exponential_realert: v.duration("exponential_realert").filter(|d| !d.is_zero()),
        // Resolved across the rule set once every file is loaded (`load::share_realert_keys`).
        realert_key: v.text("realert_key").map(str::to_string),
        top_count_keys: v.selectors("top_count_keys").unwrap_or_default().to_vec(),
        top_count_number: usize::try_from(v.int("top_count_number")?).ok()?,
        include: v.selectors("include").unwrap_or_default().to_vec(),
        alert_missing_value: v.text("alert_missing_value")?.to_string(),
    })
}

/// Two selector lists as written (`$.host` and `[$.host]` are the same).
fn same_selectors(
    a: &[(String, super::QueryKeyPart)],
    b: &[(String, super::QueryKeyPart)],
) -> bool {
    a.iter()
        .map(|(w, _)| w.trim())
        .eq(b.iter().map(|(w, _)| w.trim()))
}

/// Most selectors in `summary_table_fields` / `top_count_keys`, and in `include`.
pub const MAX_TABLE_FIELDS: usize = 5;
pub const MAX_INCLUDE: usize = 10;

/// Checks across the keys every rule type has (reported at the key they name).
pub(super) fn check_common(v: &Values, r: &mut Report) {
    // Written on the rule itself (`defaults:` may serve rules that do not use a key).
    let written = |k: &str| {
        v.entry(k)
            .is_some_and(|e| e.source == super::values::Source::Rule)
    };
    let aggregating = v.duration("aggregation").is_some_and(|d| !d.is_zero());
    for k in ["aggregation_key", "summary_table_fields"] {
        if written(k) && !aggregating {
            r.error(
                v,
                k,
                format!("`{k}` needs `aggregation` (it shapes the digest of a window)"),
            );
        }
    }
    for (k, max) in [
        ("summary_table_fields", MAX_TABLE_FIELDS),
        ("top_count_keys", MAX_TABLE_FIELDS),
        ("include", MAX_INCLUDE),
    ] {
        if v.selectors(k).is_some_and(|s| s.len() > max) {
            r.error(v, k, format!("`{k}` takes at most {max} selectors"));
        }
    }
    if let Some(key) = v.text("realert_key").filter(|k| Some(*k) != v.text("name")) {
        let why = if aggregating {
            Some(
                "a digest rule (`aggregation`) publishes one digest per window and does not realert, so it neither opens nor honours a silence",
            )
        } else if v.choice("type") == Some("new_term") {
            Some(
                "`new_term` realerts per new term (each term has its own realert window), so a silence per query-key value shared with other rules would not apply to its terms",
            )
        } else {
            None
        };
        if let Some(why) = why {
            r.error(
                v,
                "realert_key",
                format!("`realert_key: {key}` cannot be used here: {why}; remove `realert_key`"),
            );
        } else if key.trim().is_empty() {
            r.error(
                v,
                "realert_key",
                "`realert_key` is empty: name the silence the rules share (e.g. `realert_key: db-down`), or remove it",
            );
        }
    }
    if written("exponential_realert")
        && v.duration("exponential_realert")
            .zip(v.duration("realert"))
            .is_some_and(|(cap, realert)| !cap.is_zero() && cap < realert)
    {
        r.error(
            v,
            "exponential_realert",
            "`exponential_realert` is the longest realert window: it cannot be shorter than `realert`",
        );
    }
}

/// The row of `name`.
pub fn key(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name == name)
}

/// The row of rule type `name`.
pub fn rule_type(name: &str) -> Option<&'static TypeSpec> {
    TYPES.iter().find(|t| t.name == name)
}

impl KeySpec {
    /// How rule type `ty` uses this key: `None` when it does not (the key is refused on its rules).
    pub fn need(&self, ty: &str) -> Option<Need> {
        match self.used_by {
            UsedBy::Every(need) => Some(need),
            UsedBy::Types(types) => types.iter().find(|(t, _)| *t == ty).map(|(_, n)| *n),
        }
    }

    /// The docs' type column.
    pub fn type_doc(&self) -> String {
        match self.kind {
            Kind::Text => "string".into(),
            Kind::Bool => "`true` \\| `false`".into(),
            Kind::Int { min, max } if max == i64::MAX => format!("integer ≥ {min}"),
            Kind::Int { min, max } => format!("integer {min}–{max}"),
            Kind::Number { min, max } if min <= -1e15 && max >= 1e15 => "number".into(),
            Kind::Number { min, max } if max >= 1e15 => format!("number ≥ {min}"),
            Kind::Number { min, max } => format!("number {min}–{max}"),
            Kind::Duration { .. } => "duration".into(),
            Kind::Choice { values, .. } => alternatives(values),
            Kind::Selector => "selector".into(),
            Kind::Selectors => "selector or list".into(),
            Kind::Strings => "string or list".into(),
            Kind::RuleType => alternatives(&TYPES.iter().map(|t| t.name).collect::<Vec<_>>()),
            Kind::Custom { ty, .. } => ty.into(),
        }
    }

    /// The docs' "rule types" column.
    pub fn types_doc(&self) -> String {
        match self.used_by {
            UsedBy::Every(Need::Required) => "all, required".into(),
            UsedBy::Every(Need::Optional) => "all".into(),
            UsedBy::Types(types) => types
                .iter()
                .map(|(t, n)| match n {
                    Need::Required => format!("`{t}` (required)"),
                    Need::Optional => format!("`{t}`"),
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

fn alternatives(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(" \\| ")
}

/// The README's key table (Markdown), generated from [`KEYS`] and [`TYPES`].
pub fn key_table_markdown() -> String {
    let mut out = String::from(
        "| key | type | default | rule types | in `defaults:` | meaning |\n|---|---|---|---|---|---|\n",
    );
    for k in KEYS {
        let default = k
            .default
            .map_or_else(|| "—".to_string(), |d| format!("`{d}`"));
        let in_defaults = if k.in_defaults { "yes" } else { "no" };
        out.push_str(&format!(
            "| `{}` | {} | {default} | {} | {in_defaults} | {} |\n",
            k.name,
            k.type_doc(),
            k.types_doc(),
            k.doc
        ));
    }
    out.push_str("\n| type | alerts when |\n|---|---|\n");
    for t in TYPES {
        out.push_str(&format!("| `{}` | {} |\n", t.name, t.doc));
    }
    out
}
