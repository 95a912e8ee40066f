//! Per (rule, query key): de-duplicate, apply the frequency window and suppression, and later
//! commit the resulting state. See the module docs of [`crate::engine`] for the protocol.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Engine, Group, MatchRef, Publication, build, hex};
use crate::metrics::InvocationMetrics;
use crate::payload::LogsPayload;
use crate::rules::RuleKind;
use crate::state::{StateError, StateRecord, StateStore};

/// Hashed ids of handled matches kept per rule+key to recognise redeliveries.
pub const MAX_SEEN_IDS: usize = 1000;
/// Entries kept in a frequency window item (≥ 2 × the largest `num_events`).
pub const MAX_WINDOW_ENTRIES: usize = 4000;
/// How long the de-duplication memory outlives the last activity of a rule+key.
const SEEN_RETENTION_SECS: i64 = 86_400;
/// Attempts at a conditional write before giving up (conflicts with concurrent instances).
const COMMIT_ATTEMPTS: usize = 5;

/// `supp#…` item body.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct SuppState {
    /// Event time (ms) of the last match of the last alert.
    #[serde(default)]
    pub last_alert_ms: Option<i64>,
    /// Matches suppressed since that alert.
    #[serde(default)]
    pub suppressed: u64,
    /// Hashed ids of recently handled matches (oldest first).
    #[serde(default)]
    pub seen: Vec<String>,
}

/// `freq#…` item body: `[hashed id, event time ms, consumed by an alert]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct FreqState {
    #[serde(default)]
    pub events: Vec<(String, i64, bool)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every match was handled before.
    Duplicate,
    /// A frequency rule below its threshold.
    BelowThreshold,
    /// Inside the `realert` window.
    Suppressed { count: u64 },
    /// Alert; `at_ms` is the event time of the last represented match.
    Alert { at_ms: i64 },
}

#[derive(Debug)]
struct Read<T> {
    version: Option<u64>,
    body: T,
}

#[derive(Debug)]
pub(crate) struct Decision {
    pub group: Group,
    pub verdict: Verdict,
    pub publication: Option<Publication>,
    pub publish_failed: bool,
    supp_key: String,
    supp_read: Read<SuppState>,
    freq: Option<(String, Read<FreqState>)>,
    /// Hashed ids of the new (not yet handled) matches, and their times.
    new: Vec<(String, i64)>,
    /// Hashed ids an alert consumed from the frequency window.
    consumed: HashSet<String>,
}

fn hash_id(id: &str) -> String {
    hex(&Sha256::digest(id.as_bytes())[..8])
}

/// `prefix#rule#key`, hashing an over-long key (DynamoDB keys are at most 2048 bytes).
pub(crate) fn state_key(prefix: &str, rule: &str, query_key: Option<&str>) -> String {
    let key = query_key.unwrap_or("");
    if key.len() + rule.len() > 1500 {
        format!(
            "{prefix}#{rule}#sha256:{}",
            hex(&Sha256::digest(key.as_bytes()))
        )
    } else {
        format!("{prefix}#{rule}#{key}")
    }
}

async fn read<S: StateStore, T: for<'de> Deserialize<'de> + Default>(
    store: &S,
    key: &str,
    metrics: &mut InvocationMetrics,
) -> Read<T> {
    match store.get(key).await {
        Ok(Some(rec)) => match serde_json::from_value(rec.body) {
            Ok(body) => Read {
                version: Some(rec.version),
                body,
            },
            Err(e) => {
                // A body we cannot read is replaced on commit (version kept for the condition).
                tracing::warn!(key, error = %e, "unreadable state item; starting afresh");
                Read {
                    version: Some(rec.version),
                    body: T::default(),
                }
            }
        },
        Ok(None) => Read {
            version: None,
            body: T::default(),
        },
        Err(e) => {
            metrics.state_failures += 1;
            tracing::warn!(key, error = %e, "state read failed; deciding without it (fail open)");
            Read {
                version: None,
                body: T::default(),
            }
        }
    }
}

pub(crate) async fn decide<S: StateStore>(
    engine: &Engine,
    payloads: &[LogsPayload],
    group: Group,
    store: &S,
    now_ms: i64,
    metrics: &mut InvocationMetrics,
) -> Decision {
    let rule = &engine.rules.rules[group.rule];
    let qk = group.query_key.as_deref();
    let supp_key = state_key("supp", &rule.name, qk);
    let supp_read: Read<SuppState> = read(store, &supp_key, metrics).await;
    let freq = match rule.kind {
        RuleKind::Frequency { .. } => {
            let key = state_key("freq", &rule.name, qk);
            let r: Read<FreqState> = read(store, &key, metrics).await;
            Some((key, r))
        }
        _ => None,
    };

    // New matches: not handled before, and not repeated within this invocation.
    let mut known: HashSet<&str> = supp_read.body.seen.iter().map(String::as_str).collect();
    if let Some((_, f)) = &freq {
        known.extend(f.body.events.iter().map(|(id, _, _)| id.as_str()));
    }
    let mut new: Vec<(String, i64)> = Vec::new();
    let mut new_matches: Vec<&MatchRef> = Vec::new();
    let mut this_batch: HashSet<String> = HashSet::new();
    for m in &group.matches {
        let ev = &payloads[m.payload].log_events[m.event];
        let h = hash_id(&ev.id);
        if known.contains(h.as_str()) || !this_batch.insert(h.clone()) {
            continue;
        }
        new.push((h, ev.timestamp));
        new_matches.push(m);
    }

    let mut consumed = HashSet::new();
    let mut verdict = Verdict::Duplicate;
    let mut represented: Option<(u64, i64, i64)> = None; // count, first, last
    let mut sample_matches: Vec<&MatchRef> = Vec::new();
    if !new.is_empty() {
        match &rule.kind {
            RuleKind::Any => {
                represented = Some((new.len() as u64, new[0].1, new[new.len() - 1].1));
                sample_matches = new_matches.clone();
            }
            &RuleKind::Frequency {
                num_events,
                timeframe,
            } => {
                let stored = &freq
                    .as_ref()
                    .expect("frequency rules read a window")
                    .1
                    .body
                    .events;
                match frequency_trigger(stored, &new, num_events, timeframe.as_millis() as i64) {
                    Some(ids) => {
                        let times: Vec<i64> = stored
                            .iter()
                            .map(|(id, ts, _)| (id, *ts))
                            .chain(new.iter().map(|(id, ts)| (id, *ts)))
                            .filter(|(id, _)| ids.contains(id.as_str()))
                            .map(|(_, ts)| ts)
                            .collect();
                        let first = times.iter().copied().min().unwrap_or(new[0].1);
                        let last = times.iter().copied().max().unwrap_or(new[0].1);
                        represented = Some((ids.len() as u64, first, last));
                        sample_matches = new_matches
                            .iter()
                            .zip(&new)
                            .filter(|(_, (id, _))| ids.contains(id.as_str()))
                            .map(|(m, _)| *m)
                            .collect();
                        consumed = ids;
                    }
                    None => verdict = Verdict::BelowThreshold,
                }
            }
            // The other types run on the engine v2 driver (engine::types dispatch).
            _ => verdict = Verdict::BelowThreshold,
        }
    }

    let mut publication = None;
    if let Some((count, first, last)) = represented {
        let realert_ms = rule.realert.as_millis() as i64;
        let suppressed_now = realert_ms > 0
            && supp_read
                .body
                .last_alert_ms
                .is_some_and(|la| last < la.saturating_add(realert_ms));
        if suppressed_now {
            verdict = Verdict::Suppressed { count };
        } else {
            verdict = Verdict::Alert { at_ms: last };
            publication = Some(build::publication(
                engine,
                payloads,
                rule,
                qk,
                &sample_matches,
                build::Counts {
                    count,
                    suppressed: supp_read.body.suppressed,
                    first,
                    last,
                },
            ));
        }
    }
    let _ = now_ms;
    Decision {
        group,
        verdict,
        publication,
        publish_failed: false,
        supp_key,
        supp_read,
        freq,
        new,
        consumed,
    }
}

/// Does the window (stored entries + new ones) reach `num_events` within `timeframe_ms` at a point
/// that involves a new match? Returns the ids the alert represents: the non-consumed entries of
/// the first such window plus every later new match.
fn frequency_trigger(
    stored: &[(String, i64, bool)],
    new: &[(String, i64)],
    num_events: u64,
    timeframe_ms: i64,
) -> Option<HashSet<String>> {
    let mut all: Vec<(&str, i64, bool)> = stored
        .iter()
        .filter(|(_, _, consumed)| !consumed)
        .map(|(id, ts, _)| (id.as_str(), *ts, false))
        .chain(new.iter().map(|(id, ts)| (id.as_str(), *ts, true)))
        .collect();
    all.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
    let mut start = 0;
    for end in 0..all.len() {
        while all[end].1 - all[start].1 > timeframe_ms {
            start += 1;
        }
        let window = &all[start..=end];
        if window.len() as u64 >= num_events && window.iter().any(|e| e.2) {
            let mut ids: HashSet<String> = window.iter().map(|e| e.0.to_string()).collect();
            ids.extend(
                all[end + 1..]
                    .iter()
                    .filter(|e| e.2)
                    .map(|e| e.0.to_string()),
            );
            return Some(ids);
        }
    }
    None
}

/// Write the decision's state (after a successful publish, or when nothing was published).
pub(crate) async fn commit<S: StateStore>(
    engine: &Engine,
    d: &Decision,
    store: &S,
    now_ms: i64,
    metrics: &mut InvocationMetrics,
) {
    if d.verdict == Verdict::Duplicate {
        return;
    }
    let rule = &engine.rules.rules[d.group.rule];
    let latest = d
        .new
        .iter()
        .map(|(_, ts)| *ts)
        .max()
        .unwrap_or(now_ms)
        .max(now_ms);
    if let Some((key, read)) = &d.freq {
        let RuleKind::Frequency { timeframe, .. } = rule.kind else {
            unreachable!()
        };
        let tf_ms = timeframe.as_millis() as i64;
        let expires_at = latest.div_euclid(1000) + timeframe.as_secs() as i64 + 3600;
        let apply = |prev: &FreqState| merge_window(prev, &d.new, &d.consumed, tf_ms);
        write(
            store,
            key,
            read.version,
            &read.body,
            apply,
            expires_at,
            metrics,
        )
        .await;
    }
    if d.verdict == Verdict::BelowThreshold {
        return; // the window item holds these ids; no suppression change
    }
    let expires_at = latest.div_euclid(1000) + rule.realert.as_secs() as i64 + SEEN_RETENTION_SECS;
    let apply = |prev: &SuppState| {
        let mut next = prev.clone();
        let fresh: HashSet<&str> = d.new.iter().map(|(id, _)| id.as_str()).collect();
        next.seen.retain(|id| !fresh.contains(id.as_str()));
        next.seen.extend(d.new.iter().map(|(id, _)| id.clone()));
        if next.seen.len() > MAX_SEEN_IDS {
            let drop = next.seen.len() - MAX_SEEN_IDS;
            next.seen.drain(..drop);
        }
        match d.verdict {
            Verdict::Alert { at_ms } => {
                next.last_alert_ms = Some(prev.last_alert_ms.map_or(at_ms, |la| la.max(at_ms)));
                // Matches suppressed concurrently after our read are carried forward.
                next.suppressed = prev.suppressed.saturating_sub(d.supp_read.body.suppressed);
            }
            Verdict::Suppressed { count } => next.suppressed = prev.suppressed + count,
            Verdict::Duplicate | Verdict::BelowThreshold => {}
        }
        next
    };
    write(
        store,
        &d.supp_key,
        d.supp_read.version,
        &d.supp_read.body,
        apply,
        expires_at,
        metrics,
    )
    .await;
}

fn merge_window(
    prev: &FreqState,
    new: &[(String, i64)],
    consumed: &HashSet<String>,
    timeframe_ms: i64,
) -> FreqState {
    let mut by_id: HashMap<&str, (i64, bool)> = HashMap::new();
    for (id, ts, c) in &prev.events {
        by_id.insert(id, (*ts, *c || consumed.contains(id)));
    }
    for (id, ts) in new {
        let e = by_id.entry(id).or_insert((*ts, false));
        e.1 |= consumed.contains(id);
    }
    let newest = by_id.values().map(|(ts, _)| *ts).max().unwrap_or(0);
    let mut events: Vec<(String, i64, bool)> = by_id
        .into_iter()
        .filter(|(_, (ts, _))| newest - ts <= timeframe_ms)
        .map(|(id, (ts, c))| (id.to_string(), ts, c))
        .collect();
    events.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    if events.len() > MAX_WINDOW_ENTRIES {
        let drop = events.len() - MAX_WINDOW_ENTRIES;
        events.drain(..drop);
    }
    FreqState { events }
}

/// Conditional write with re-read and re-apply on conflict.
async fn write<S, T, F>(
    store: &S,
    key: &str,
    mut version: Option<u64>,
    first_body: &T,
    apply: F,
    expires_at: i64,
    metrics: &mut InvocationMetrics,
) where
    S: StateStore,
    T: Serialize + for<'de> Deserialize<'de> + Default + Clone,
    F: Fn(&T) -> T,
{
    let mut body = first_body.clone();
    for _ in 0..COMMIT_ATTEMPTS {
        let next = apply(&body);
        let rec = StateRecord {
            version: version.map_or(1, |v| v + 1),
            expires_at,
            body: serde_json::to_value(&next).expect("state bodies serialise"),
        };
        match store.put(key, &rec, version).await {
            Ok(()) => return,
            Err(StateError::Conflict) => match store.get(key).await {
                Ok(Some(r)) => {
                    version = Some(r.version);
                    body = serde_json::from_value(r.body).unwrap_or_default();
                }
                Ok(None) => {
                    version = None;
                    body = T::default();
                }
                Err(e) => {
                    metrics.state_failures += 1;
                    tracing::warn!(key, error = %e, "state re-read failed; state not saved");
                    return;
                }
            },
            Err(e) => {
                metrics.state_failures += 1;
                tracing::warn!(key, error = %e, "state write failed; state not saved");
                return;
            }
        }
    }
    metrics.state_failures += 1;
    tracing::warn!(key, "state write kept conflicting; state not saved");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(set: &HashSet<String>) -> Vec<String> {
        let mut v: Vec<String> = set.iter().cloned().collect();
        v.sort();
        v
    }

    #[test]
    fn window_triggers_only_with_enough_events_in_time() {
        let new = vec![
            ("a".to_string(), 0),
            ("b".to_string(), 1000),
            ("c".to_string(), 5000),
        ];
        assert!(frequency_trigger(&[], &new, 3, 4000).is_none());
        let got = frequency_trigger(&[], &new, 3, 5000).unwrap();
        assert_eq!(ids(&got), ["a", "b", "c"]);
        let got = frequency_trigger(&[], &new, 2, 1000).unwrap();
        assert_eq!(ids(&got), ["a", "b", "c"], "later new matches ride along");
    }

    #[test]
    fn stored_and_consumed_entries() {
        let stored = vec![("x".to_string(), 0, false), ("y".to_string(), 10, true)];
        let new = vec![("a".to_string(), 20)];
        assert_eq!(
            ids(&frequency_trigger(&stored, &new, 2, 100).unwrap()),
            ["a", "x"]
        );
        assert!(
            frequency_trigger(&stored, &new, 3, 100).is_none(),
            "consumed entries do not count"
        );
        let only_old = vec![("x".to_string(), 0, false), ("z".to_string(), 1, false)];
        assert!(
            frequency_trigger(&only_old, &[], 2, 100).is_none(),
            "no new match, no alert"
        );
    }

    #[test]
    fn window_merge_prunes_and_marks() {
        let prev = FreqState {
            events: vec![("old".into(), 0, false), ("x".into(), 9000, false)],
        };
        let consumed: HashSet<String> = ["x".to_string(), "n".to_string()].into();
        let merged = merge_window(&prev, &[("n".into(), 10_000)], &consumed, 5000);
        assert_eq!(
            merged.events,
            vec![
                ("x".to_string(), 9000, true),
                ("n".to_string(), 10_000, true)
            ]
        );
    }

    #[test]
    fn long_keys_are_hashed() {
        assert_eq!(state_key("supp", "r", Some("k")), "supp#r#k");
        assert_eq!(state_key("supp", "r", None), "supp#r#");
        let long = "k".repeat(3000);
        assert!(state_key("freq", "r", Some(&long)).len() < 100);
    }
}
