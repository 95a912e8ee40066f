//! The common alerting policy around every rule type: the pure `decide` of one (rule, key).
//!
//! [`decide`] takes the key's [`KeyState`], the new distinct matches (or none: a tick) and the
//! engine clock, asks the rule type for [`Trigger`]s, and applies, in this order:
//!
//! 1. **Time** (at `now`, and again at each trigger's event time): an incident quiet for the rule's
//!    `resolve_after` ends with one `resolved` publication carrying whatever its open realert window
//!    still holds; otherwise a realert window whose end has passed closes, with a `summary`
//!    publication when it suppressed anything (the exact count and samples of those matches).
//!    Without `resolve_after`, an incident ends when its window closes.
//! 2. **Each trigger**: inside an open window it is suppressed (counted, sampled, part of the
//!    incident); otherwise it is an alert (`log-match`), opening an incident if none is open and a
//!    realert window of `realert` after its last event.
//!
//! Every publication goes into the state's outbox with its ids (see [`super::ids`]); it leaves the
//! outbox only when the sink has accepted it. When the outbox already holds
//! [`MAX_OUTBOX_PENDING`] publications (the sink has been failing), nothing new is published:
//! triggers are folded into the window and closings wait, so the counts stay exact and the state
//! stays bounded.
//!
//! The accounting invariant: every trigger's `count` ends up exactly once in a publication's
//! `count` (alert) or `suppressed` (summary, resolved, or a later alert's carried count).
//!
//! All timestamp arithmetic saturates: `i64::MIN`/`MAX` event times never wrap.

use super::EngineConfig;
use super::build::{self, Draft};
use super::ids;
use super::key_state::{Incident, KeyState, Pending, RealertWindow};
use super::types::{self, MatchView, Trigger};
use crate::alert::{KIND_LOG_MATCH, KIND_RESOLVED, KIND_SUMMARY, Observation, Sample};
use crate::rules::Rule;

/// Publications an outbox holds at most (more: new decisions wait, counts are kept).
pub const MAX_OUTBOX_PENDING: usize = 4;
/// Longest sample message kept in a realert window (for its summary), in bytes.
pub const WINDOW_SAMPLE_MESSAGE_BYTES: usize = 2048;

/// What one decision did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    /// `log-match` publications decided.
    pub alerts: u64,
    /// All publications decided (alerts, summaries, resolutions).
    pub publications: u64,
    /// Matches the type represented in triggers (alerted or suppressed).
    pub represented: u64,
}

/// Where the matches came from (the latest payload's log group and owner).
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub log_group: &'a str,
    pub account: &'a str,
}

/// Decide for one (rule, key): update `st` and append the publications to its outbox. Pure.
/// `matches` are new and distinct, sorted by (timestamp, id); empty for a tick.
pub fn decide(
    config: &EngineConfig,
    rule: &Rule,
    st: &mut KeyState,
    matches: &[MatchView],
    origin: Option<Origin>,
    now_ms: i64,
) -> Decided {
    if let Some(o) = origin {
        o.log_group.clone_into(&mut st.log_group);
        o.account.clone_into(&mut st.account);
    }
    let mut triggers = if matches.is_empty() {
        types::on_tick(&rule.kind, &mut st.type_state, now_ms)
    } else {
        types::on_matches(&rule.kind, &mut st.type_state, matches, now_ms)
    };
    triggers.sort_by_key(|t| t.last_ms);
    let mut p = Policy {
        config,
        rule,
        st,
        now_ms,
        decided: Decided::default(),
    };
    p.close_due(now_ms);
    for t in triggers {
        p.decided.represented = p.decided.represented.saturating_add(t.count);
        p.close_due(now_ms.max(t.last_ms));
        p.apply(t, matches);
    }
    p.decided
}

/// When this key next needs a tick (the `due_at` of its state item): pending publications at
/// once, a window with suppressed matches when it ends, a quiet incident at `resolve_after`, and
/// whatever the rule type asks for. `None`: only a match brings it back.
pub fn next_due(rule: &Rule, st: &KeyState) -> Option<i64> {
    let outbox = st.outbox.iter().map(|p| p.alert.decided_at).min();
    let window = st
        .window
        .as_ref()
        .filter(|w| w.suppressed > 0)
        .map(|w| w.until_ms);
    let resolve = match (&st.incident, resolve_after_ms(rule)) {
        (Some(i), Some(ra)) => Some(i.last_match_ms.saturating_add(ra)),
        _ => None,
    };
    let typed = types::next_due(&rule.kind, &st.type_state);
    [outbox, window, resolve, typed].into_iter().flatten().min()
}

fn resolve_after_ms(rule: &Rule) -> Option<i64> {
    rule.resolve_after
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn realert_ms(rule: &Rule) -> i64 {
    i64::try_from(rule.realert.as_millis()).unwrap_or(i64::MAX)
}

struct Policy<'a> {
    config: &'a EngineConfig,
    rule: &'a Rule,
    st: &'a mut KeyState,
    now_ms: i64,
    decided: Decided,
}

impl Policy<'_> {
    fn outbox_full(&self) -> bool {
        self.st.outbox.len() >= MAX_OUTBOX_PENDING
    }

    /// End what time `t` ends: a quiet incident (resolved), else a passed window (summary).
    fn close_due(&mut self, t: i64) {
        if self.outbox_full() {
            return;
        }
        let quiet = match (&self.st.incident, resolve_after_ms(self.rule)) {
            (Some(i), Some(ra)) => t >= i.last_match_ms.saturating_add(ra),
            _ => false,
        };
        if quiet {
            let window = self.st.window.take();
            let incident = self.st.incident.take().expect("quiet implies an incident");
            self.publish_resolved(incident, window);
            return;
        }
        if self.st.window.as_ref().is_some_and(|w| t >= w.until_ms) {
            let w = self.st.window.take().expect("checked");
            if w.suppressed > 0 {
                self.publish_summary(w);
            }
            if self.rule.resolve_after.is_none() {
                self.st.incident = None;
            }
        }
    }

    fn apply(&mut self, t: Trigger, matches: &[MatchView]) {
        if let Some(i) = &mut self.st.incident {
            i.total = i.total.saturating_add(t.count);
            i.last_match_ms = i.last_match_ms.max(t.last_ms);
        }
        if self.st.window.is_none() && self.outbox_full() {
            // Hold the trigger in a window that closes as soon as the outbox drains.
            self.st.window = Some(empty_window(t.last_ms));
        }
        if let Some(w) = &mut self.st.window {
            w.suppressed = w.suppressed.saturating_add(t.count);
            w.first_ms = Some(w.first_ms.map_or(t.first_ms, |f| f.min(t.first_ms)));
            w.last_ms = Some(w.last_ms.map_or(t.last_ms, |l| l.max(t.last_ms)));
            let room = self.rule.max_samples.saturating_sub(w.samples.len());
            let (samples, cut) = samples_of(&t, matches, room, WINDOW_SAMPLE_MESSAGE_BYTES);
            w.samples.extend(samples);
            w.truncated |= cut;
            return;
        }
        if self.rule.resolve_after.is_none() {
            // Without resolve_after an incident is one alert and its window.
            self.st.incident = None;
        }
        if self.st.incident.is_none() {
            self.st.incident = Some(Incident {
                id: ids::incident_id(self.st, self.st.seq + 1),
                opened_at: self.now_ms,
                last_match_ms: t.last_ms,
                total: t.count,
            });
        }
        let (samples, truncated) = samples_of(
            &t,
            matches,
            self.rule.max_samples,
            crate::alert::MAX_SAMPLE_MESSAGE_BYTES,
        );
        let template_message = t
            .sample_ids
            .first()
            .and_then(|id| matches.iter().find(|m| m.id == id))
            .map(|m| m.message);
        let query_key = t.key_override.clone();
        self.publish(
            KIND_LOG_MATCH,
            build::Counts {
                count: t.count,
                suppressed: 0,
                first: t.first_ms,
                last: t.last_ms,
            },
            (samples, truncated),
            template_message,
            Some(t.observation).filter(|o| !o.text.is_empty()),
            query_key,
        );
        self.decided.alerts += 1;
        let realert = realert_ms(self.rule);
        if realert > 0 {
            self.st.window = Some(empty_window(t.last_ms.saturating_add(realert)));
        }
    }

    fn publish_summary(&mut self, w: RealertWindow) {
        let first = w.first_ms.unwrap_or(w.until_ms);
        let last = w.last_ms.unwrap_or(first);
        let observation = Observation {
            text: format!(
                "{} more {} while alerts were paused (realert {})",
                w.suppressed,
                if w.suppressed == 1 {
                    "match"
                } else {
                    "matches"
                },
                super::types::human_span(realert_ms(self.rule)),
            ),
            sparkline: None,
            details: Default::default(),
        };
        self.publish(
            KIND_SUMMARY,
            build::Counts {
                count: 0,
                suppressed: w.suppressed,
                first,
                last,
            },
            (w.samples, w.truncated),
            None,
            Some(observation),
            None,
        );
    }

    fn publish_resolved(&mut self, incident: Incident, window: Option<RealertWindow>) {
        let (suppressed, samples, first, last) = match window {
            Some(w) if w.suppressed > 0 => (
                w.suppressed,
                (w.samples, w.truncated),
                w.first_ms.unwrap_or(incident.last_match_ms),
                w.last_ms.unwrap_or(incident.last_match_ms),
            ),
            _ => (
                0,
                (Vec::new(), false),
                incident.last_match_ms,
                incident.last_match_ms,
            ),
        };
        let quiet = resolve_after_ms(self.rule).unwrap_or_default();
        let observation = Observation {
            text: format!(
                "No match for {}; {} {} in this incident",
                super::types::human_span(quiet),
                incident.total,
                if incident.total == 1 {
                    "match"
                } else {
                    "matches"
                },
            ),
            sparkline: None,
            details: Default::default(),
        };
        // The publication belongs to the incident it ends.
        self.st.incident = Some(incident);
        self.publish(
            KIND_RESOLVED,
            build::Counts {
                count: 0,
                suppressed,
                first,
                last,
            },
            samples,
            None,
            Some(observation),
            None,
        );
        self.st.incident = None;
    }

    #[allow(clippy::too_many_arguments)]
    fn publish(
        &mut self,
        kind: &'static str,
        counts: build::Counts,
        (samples, truncated): (Vec<Sample>, bool),
        template_message: Option<&str>,
        observation: Option<Observation>,
        key_override: Option<String>,
    ) {
        self.st.seq += 1;
        let incident = self.st.incident.as_ref();
        let draft = Draft {
            kind,
            query_key: key_override.as_deref().or(self.st.query_key.as_deref()),
            log_group: &self.st.log_group,
            account: &self.st.account,
            counts,
            samples,
            truncated,
            template_message,
            observation,
            alert_id: ids::alert_id(self.st, self.st.seq),
            incident_id: incident.map(|i| i.id.clone()).unwrap_or_default(),
            decided_at: self.now_ms,
            incident_opened_at: incident.map(|i| i.opened_at),
            incident_total: incident.map(|i| i.total),
        };
        let publication = build::publication(self.config, self.rule, draft);
        self.st.outbox.push(Pending {
            subject: publication.subject,
            alert: publication.alert,
            attributes: publication.attributes,
        });
        self.decided.publications += 1;
    }
}

fn empty_window(until_ms: i64) -> RealertWindow {
    RealertWindow {
        until_ms,
        suppressed: 0,
        first_ms: None,
        last_ms: None,
        samples: Vec::new(),
        truncated: false,
    }
}

/// The trigger's samples (at most `n`), built from the matches given, messages cut to `bytes`;
/// and whether a message was cut.
fn samples_of(t: &Trigger, matches: &[MatchView], n: usize, bytes: usize) -> (Vec<Sample>, bool) {
    let mut cut = false;
    let samples = t
        .sample_ids
        .iter()
        .filter_map(|id| matches.iter().find(|m| m.id == id))
        .take(n)
        .map(|m| {
            let (s, c) = build::sample(m, bytes);
            cut |= c;
            s
        })
        .collect();
    (samples, cut)
}
