//! Rule types: one pure module per `type:` (PROVISIONAL trait, verbatim from SEAMS.md until
//! engine-core lands its own; the type modules follow whatever lands).
//!
//! Each module holds a `Config` (parsed from the rule's keys), a `State` (serde, bounded, stored in
//! the (rule, key) item's `type_state`) and the [`RuleType`] functions, with its tests beside it.

pub mod blacklist;
pub mod cardinality;
pub mod change;
pub mod common;
pub mod flatline;
pub mod metric_aggregation;
pub mod new_term;
pub mod percentage_match;
pub mod select;
pub mod sketch;
pub mod spike;
pub mod spike_aggregation;
pub mod whitelist;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::alert::Observation;
use crate::pattern::{Extracted, Match, ValueRef};

/// A rule type's decisions, as pure functions over its own state.
pub trait RuleType {
    /// Parsed from the rule's keys (owned by the type).
    type Config;
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
}

/// One matched event as a rule type sees it.
#[derive(Debug, Clone, Copy)]
pub struct MatchView<'a> {
    pub id: &'a str,
    pub timestamp: i64,
    pub log_group: &'a str,
    pub log_stream: &'a str,
    pub message: &'a str,
    pub extracted: &'a Extracted,
}

impl MatchView<'_> {
    /// The value `sel` selects in this event (see [`ValueRef::resolve`]).
    pub fn field(&self, sel: &ValueRef) -> Option<String> {
        let m = Match {
            extracted: self.extracted.clone(),
        };
        sel.resolve(self.message, &m)
    }
}

/// What a type decided: one publication's worth.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trigger {
    /// Events represented (0 for an absence: flatline, a down-spike to zero).
    pub count: u64,
    pub first_ms: i64,
    pub last_ms: i64,
    /// Ids among the matches given (at most [`common::MAX_TRIGGER_SAMPLES`]; the engine cuts to
    /// the rule's `max_samples`).
    pub sample_ids: Vec<String>,
    pub observation: Observation,
    /// new_term: the term (the alert's `query_key`).
    pub key_override: Option<String>,
}
