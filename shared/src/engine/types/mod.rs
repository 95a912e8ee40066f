//! Rule types: the pure, type-specific part of a decision.
//!
//! A rule type sees the new distinct matches of one (rule, query key) — or a tick with none — and
//! its own state, and says what happened in [`Trigger`]s. Everything common to every type is the
//! engine's policy around it (`super::policy`): realert suppression (counting and sampling what it
//! suppresses), summaries when a realert window closes, incidents, `resolve_after`, ids, the outbox.
//!
//! ```
//! use logalert::engine::types::{Any, MatchView, RuleType};
//! let extracted = vec![];
//! let m = MatchView { id: "1", timestamp: 1000, log_group: "/g", log_stream: "s", message: "ERROR x", extracted: &extracted };
//! let mut st = Default::default();
//! let t = Any::on_matches(&(), &mut st, &[m], 1000);
//! assert_eq!((t[0].count, t[0].first_ms, t[0].last_ms), (1, 1000, 1000));
//! assert_eq!(t[0].sample_ids, ["1"]);
//! ```
//!
//! To add a type: a file here with a `RuleType` impl and its tests, a [`crate::rules::RuleKind`]
//! variant carrying its `Config`, and one arm in each of [`on_matches`], [`on_tick`] and
//! [`next_due`] below.

mod any;
pub mod blacklist;
pub mod cardinality;
pub mod change;
pub mod common;
pub mod flatline;
mod frequency;
pub mod keys;
pub mod metric_aggregation;
pub mod new_term;
pub mod percentage_match;
pub mod select;
pub mod sketch;
pub mod spike;
pub mod spike_aggregation;
pub mod whitelist;

pub use any::Any;
pub use frequency::{Frequency, FrequencyConfig, FrequencyState};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::alert::Observation;
use crate::pattern::{Extracted, Match, ValueRef};
use crate::rules::RuleKind;

/// Most sample ids a type needs to return per trigger (the largest `max_samples`); the engine
/// keeps the rule's `max_samples` of them.
pub const MAX_TRIGGER_SAMPLES: usize = crate::rules::MAX_MAX_SAMPLES;

/// The pure part of a rule type. No I/O, no clock but `now_ms`.
pub trait RuleType {
    /// Parsed from the rule's keys (owned by the type).
    type Config;
    /// The type's own per-(rule, key) state, stored as JSON inside the key's state item. Keep it
    /// bounded (the whole item must stay well under DynamoDB's 400 KB).
    type State: Default + Serialize + DeserializeOwned;
    /// New distinct matches (already de-duplicated, sorted by (timestamp, id)) for this key.
    fn on_matches(
        cfg: &Self::Config,
        st: &mut Self::State,
        m: &[MatchView],
        now_ms: i64,
    ) -> Vec<Trigger>;
    /// A tick (no new matches): time-based decisions (flatline, down-spike, digests).
    fn on_tick(cfg: &Self::Config, st: &mut Self::State, now_ms: i64) -> Vec<Trigger>;
    /// When this key next needs a tick (None: only when a match arrives).
    fn next_due(cfg: &Self::Config, st: &Self::State) -> Option<i64>;
    /// Ids of events already seen that a later trigger may name in `sample_ids` (the window
    /// types: a window is decided when it closes, on a tick or a later invocation). The policy
    /// holds those events' messages in the key's state until the ids are no longer named here.
    fn held_ids(_st: &Self::State) -> Vec<&str> {
        Vec::new()
    }
}

/// One new match, as a rule type sees it.
#[derive(Debug, Clone, Copy)]
pub struct MatchView<'a> {
    /// The CloudWatch event id.
    pub id: &'a str,
    /// Event time, epoch ms.
    pub timestamp: i64,
    pub log_group: &'a str,
    pub log_stream: &'a str,
    pub message: &'a str,
    /// Values the filter pattern extracted (space-delimited patterns).
    pub extracted: &'a Extracted,
}

impl MatchView<'_> {
    /// A value of this event: `$.json.selector`, `$field` / `$N` (extracted), or a number literal.
    pub fn field(&self, sel: &ValueRef) -> Option<String> {
        match sel {
            ValueRef::Field(name) => self
                .extracted
                .iter()
                .find(|(k, _)| k.strip_prefix('$') == Some(name.as_str()))
                .map(|(_, v)| v.clone()),
            other => other.resolve(self.message, &Match::default()),
        }
    }
}

/// "This happened": what a type reports for the policy to alert on (or suppress).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trigger {
    /// Events this trigger represents (what the alert's `count` says).
    pub count: u64,
    /// Event time of the first and last represented event (for a tick trigger: the period judged).
    pub first_ms: i64,
    pub last_ms: i64,
    /// Ids among the matches given (≤ [`MAX_TRIGGER_SAMPLES`]), in order; the alert's samples.
    pub sample_ids: Vec<String>,
    /// What the type saw, in words (empty text: none).
    pub observation: Observation,
    /// A key to report instead of the rule's query key (new_term: the term). Realert and
    /// incidents apply per reported key: the policy keeps a sub-key state for it inside this
    /// (rule, key)'s record.
    pub key_override: Option<String>,
    /// Indices (into the matches given) of every event this trigger represents from them, when
    /// the type lists them (`any`, `blacklist`, `whitelist`, `change`, `new_term`, `cardinality`
    /// when it raises the count, and `frequency` for this invocation's events). Empty: the type
    /// does not (the window types decide on counts kept across invocations); summary tables and
    /// top counts then read the sampled events. Either way the rest of the trigger's count (beyond
    /// the listed events) is counted on the row of the latest listed one.
    pub events: Vec<usize>,
}

/// `45s`, `5m`, `1h 30m`, `2d` — a span in the units a person reads.
pub fn human_span(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 if s % 60 == 0 => format!("{}m", s / 60),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86_400 if s % 3600 == 0 => format!("{}h", s / 3600),
        3600..86_400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d", s / 86_400),
    }
}

/// The type's state could not be read (written by another version); the type starts afresh.
fn load<T: DeserializeOwned + Default>(v: &serde_json::Value) -> T {
    if v.is_null() {
        return T::default();
    }
    serde_json::from_value(v.clone()).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "unreadable rule-type state; starting afresh");
        T::default()
    })
}

fn store<T: Serialize>(st: &T) -> serde_json::Value {
    serde_json::to_value(st).expect("rule-type state serialises")
}

fn matches_of<T: RuleType>(
    cfg: &T::Config,
    state: &mut serde_json::Value,
    m: &[MatchView],
    now_ms: i64,
) -> Vec<Trigger> {
    let mut st: T::State = load(state);
    let out = T::on_matches(cfg, &mut st, m, now_ms);
    *state = store(&st);
    out
}

fn tick_of<T: RuleType>(
    cfg: &T::Config,
    state: &mut serde_json::Value,
    now_ms: i64,
) -> Vec<Trigger> {
    let mut st: T::State = load(state);
    let out = T::on_tick(cfg, &mut st, now_ms);
    *state = store(&st);
    out
}

fn held_of<T: RuleType>(state: &serde_json::Value) -> Vec<String> {
    let st = load::<T::State>(state);
    T::held_ids(&st).into_iter().map(str::to_string).collect()
}

fn due_of<T: RuleType>(cfg: &T::Config, state: &serde_json::Value) -> Option<i64> {
    T::next_due(cfg, &load::<T::State>(state))
}

fn frequency_config(num_events: u64, timeframe: std::time::Duration) -> FrequencyConfig {
    FrequencyConfig {
        num_events,
        timeframe_ms: i64::try_from(timeframe.as_millis()).unwrap_or(i64::MAX),
    }
}

/// Dispatch [`RuleType::on_matches`] on a rule's kind, over its JSON state.
pub fn on_matches(
    kind: &RuleKind,
    state: &mut serde_json::Value,
    m: &[MatchView],
    now_ms: i64,
) -> Vec<Trigger> {
    match kind {
        RuleKind::Any => matches_of::<Any>(&(), state, m, now_ms),
        &RuleKind::Frequency {
            num_events,
            timeframe,
        } => matches_of::<Frequency>(&frequency_config(num_events, timeframe), state, m, now_ms),
        RuleKind::Blacklist(c) => matches_of::<blacklist::Blacklist>(c, state, m, now_ms),
        RuleKind::Whitelist(c) => matches_of::<whitelist::Whitelist>(c, state, m, now_ms),
        RuleKind::Change(c) => matches_of::<change::Change>(c, state, m, now_ms),
        RuleKind::Spike(c) => matches_of::<spike::Spike>(c, state, m, now_ms),
        RuleKind::Flatline(c) => matches_of::<flatline::Flatline>(c, state, m, now_ms),
        RuleKind::NewTerm(c) => matches_of::<new_term::NewTerm>(c, state, m, now_ms),
        RuleKind::Cardinality(c) => matches_of::<cardinality::Cardinality>(c, state, m, now_ms),
        RuleKind::PercentageMatch(c) => {
            matches_of::<percentage_match::PercentageMatch>(c, state, m, now_ms)
        }
        RuleKind::MetricAggregation(c) => {
            matches_of::<metric_aggregation::MetricAggregation>(c, state, m, now_ms)
        }
        RuleKind::SpikeAggregation(c) => {
            matches_of::<spike_aggregation::SpikeAggregation>(c, state, m, now_ms)
        }
    }
}

/// Dispatch [`RuleType::on_tick`].
pub fn on_tick(kind: &RuleKind, state: &mut serde_json::Value, now_ms: i64) -> Vec<Trigger> {
    match kind {
        RuleKind::Any => tick_of::<Any>(&(), state, now_ms),
        &RuleKind::Frequency {
            num_events,
            timeframe,
        } => tick_of::<Frequency>(&frequency_config(num_events, timeframe), state, now_ms),
        RuleKind::Blacklist(c) => tick_of::<blacklist::Blacklist>(c, state, now_ms),
        RuleKind::Whitelist(c) => tick_of::<whitelist::Whitelist>(c, state, now_ms),
        RuleKind::Change(c) => tick_of::<change::Change>(c, state, now_ms),
        RuleKind::Spike(c) => tick_of::<spike::Spike>(c, state, now_ms),
        RuleKind::Flatline(c) => tick_of::<flatline::Flatline>(c, state, now_ms),
        RuleKind::NewTerm(c) => tick_of::<new_term::NewTerm>(c, state, now_ms),
        RuleKind::Cardinality(c) => tick_of::<cardinality::Cardinality>(c, state, now_ms),
        RuleKind::PercentageMatch(c) => {
            tick_of::<percentage_match::PercentageMatch>(c, state, now_ms)
        }
        RuleKind::MetricAggregation(c) => {
            tick_of::<metric_aggregation::MetricAggregation>(c, state, now_ms)
        }
        RuleKind::SpikeAggregation(c) => {
            tick_of::<spike_aggregation::SpikeAggregation>(c, state, now_ms)
        }
    }
}

/// Dispatch [`RuleType::next_due`].
pub fn next_due(kind: &RuleKind, state: &serde_json::Value) -> Option<i64> {
    match kind {
        RuleKind::Any => due_of::<Any>(&(), state),
        &RuleKind::Frequency {
            num_events,
            timeframe,
        } => due_of::<Frequency>(&frequency_config(num_events, timeframe), state),
        RuleKind::Blacklist(c) => due_of::<blacklist::Blacklist>(c, state),
        RuleKind::Whitelist(c) => due_of::<whitelist::Whitelist>(c, state),
        RuleKind::Change(c) => due_of::<change::Change>(c, state),
        RuleKind::Spike(c) => due_of::<spike::Spike>(c, state),
        RuleKind::Flatline(c) => due_of::<flatline::Flatline>(c, state),
        RuleKind::NewTerm(c) => due_of::<new_term::NewTerm>(c, state),
        RuleKind::Cardinality(c) => due_of::<cardinality::Cardinality>(c, state),
        RuleKind::PercentageMatch(c) => due_of::<percentage_match::PercentageMatch>(c, state),
        RuleKind::MetricAggregation(c) => due_of::<metric_aggregation::MetricAggregation>(c, state),
        RuleKind::SpikeAggregation(c) => due_of::<spike_aggregation::SpikeAggregation>(c, state),
    }
}

/// Dispatch [`RuleType::held_ids`] (only the window types hold events; the others answer
/// without reading their state).
pub fn held_ids(kind: &RuleKind, state: &serde_json::Value) -> Vec<String> {
    match kind {
        RuleKind::PercentageMatch(_) => held_of::<percentage_match::PercentageMatch>(state),
        RuleKind::MetricAggregation(_) => held_of::<metric_aggregation::MetricAggregation>(state),
        RuleKind::SpikeAggregation(_) => held_of::<spike_aggregation::SpikeAggregation>(state),
        RuleKind::Any
        | RuleKind::Frequency { .. }
        | RuleKind::Blacklist(_)
        | RuleKind::Whitelist(_)
        | RuleKind::Change(_)
        | RuleKind::Spike(_)
        | RuleKind::Flatline(_)
        | RuleKind::NewTerm(_)
        | RuleKind::Cardinality(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_access() {
        let ex: Extracted = vec![("$status".into(), "500".into())];
        let m = MatchView {
            id: "1",
            timestamp: 0,
            log_group: "/g",
            log_stream: "s",
            message: r#"{"user":"alice","n":2}"#,
            extracted: &ex,
        };
        assert_eq!(
            m.field(&ValueRef::parse("$status").unwrap()).as_deref(),
            Some("500")
        );
        assert_eq!(
            m.field(&ValueRef::parse("$.user").unwrap()).as_deref(),
            Some("alice")
        );
        assert_eq!(m.field(&ValueRef::parse("$.nope").unwrap()), None);
        assert_eq!(m.field(&ValueRef::parse("$other").unwrap()), None);
    }

    #[test]
    fn unreadable_state_starts_afresh_and_is_rewritten() {
        let kind = RuleKind::Frequency {
            num_events: 2,
            timeframe: std::time::Duration::from_secs(60),
        };
        let mut state = serde_json::json!({"events": "garbage"});
        let ex = vec![];
        let m = MatchView {
            id: "a",
            timestamp: 5,
            log_group: "/g",
            log_stream: "s",
            message: "x",
            extracted: &ex,
        };
        assert!(on_matches(&kind, &mut state, &[m], 5).is_empty());
        let st: FrequencyState = serde_json::from_value(state).unwrap();
        assert_eq!(st.pending.len(), 1);
    }
}
