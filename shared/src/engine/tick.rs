//! Ticks: time as an input. [`Engine::tick`] runs the same decision with no new matches for every
//! key whose state item is due, found through the store's due index (never a scan).

use std::collections::HashSet;

use super::{
    AlertSink, Decided1, Engine, KeyState, Outcome, Pending, commit_unit, key_write,
    parse_key_state, parse_silence, policy, publish_and_mark, rule_due, shares_digests,
    silence_write,
};
use crate::state::{DueKey, MAX_COMMIT_ITEMS, StateError, StateStore, Write};

/// Keys asked of the due index per round.
pub const TICK_BATCH: usize = 100;
/// Rounds per tick at most: a tick handles at most `TICK_BATCH × TICK_ROUNDS` keys, the rest stay
/// due for the next tick.
pub const TICK_ROUNDS: usize = 50;

impl Engine {
    /// Publish what time made due by `now_ms` (engine clock): summaries of closed realert windows,
    /// `resolved` for quiet incidents, the rule types' time-based triggers, and every pending
    /// outbox entry. An idle tick is one [`StateStore::due`] query.
    ///
    /// A key that changed concurrently is left for the next tick (it stays due); a key whose rule
    /// is gone only has its pending publications published.
    pub async fn tick<S: StateStore, P: AlertSink>(
        &self,
        store: &S,
        sink: &P,
        now_ms: i64,
    ) -> Outcome {
        let mut outcome = Outcome::default();
        let mut seen: HashSet<String> = HashSet::new();
        for _ in 0..TICK_ROUNDS {
            let due = match store.due(now_ms, seen.len() + TICK_BATCH).await {
                Ok(d) => d,
                Err(e) => {
                    outcome.metrics.state_failures += 1;
                    outcome.errors.push(format!("tick: {e}"));
                    break;
                }
            };
            let fresh: Vec<DueKey> = due.into_iter().filter(|d| !seen.contains(&d.key)).collect();
            if fresh.is_empty() {
                break;
            }
            seen.extend(fresh.iter().map(|d| d.key.clone()));
            let (decided, fail_open) = self.tick_keys(store, &fresh, now_ms, &mut outcome).await;
            publish_and_mark(self, store, sink, decided, fail_open, now_ms, &mut outcome).await;
        }
        outcome
    }

    /// read → decide (no matches) → commit for a round of due keys; returns the committed ones,
    /// and the publications of keys whose commit the store could not make (the store unavailable,
    /// not a conflict): those are published directly — the tick **fails open** as an invocation
    /// does, so a summary or a `resolved` due during an outage still goes out (decided over what
    /// the store wrapper could answer, e.g. log-filter's container cache).
    async fn tick_keys<S: StateStore>(
        &self,
        store: &S,
        due: &[DueKey],
        now_ms: i64,
        outcome: &mut Outcome,
    ) -> (Vec<Decided1>, Vec<(String, Pending)>) {
        let keys: Vec<String> = due.iter().map(|d| d.key.clone()).collect();
        let records = match store.get_many(&keys).await {
            Ok(r) => r,
            Err(e) => {
                outcome.metrics.state_failures += 1;
                outcome.errors.push(format!("tick: {e}"));
                return (Vec::new(), Vec::new());
            }
        };
        let mut planned: Vec<(Option<Write>, Decided1)> = Vec::new();
        // Keys whose rule type raised a trigger and whose rule shares items with other keys (a
        // silence, digest items).
        let mut with_shared: Vec<(&DueKey, Option<u64>, KeyState, usize)> = Vec::new();
        for (d, r) in due.iter().zip(&records) {
            let read = parse_key_state(&d.key, r);
            let Some(before) = read.state else {
                if let Some(v) = read.version {
                    // Unreadable: drop it rather than find it due forever.
                    planned.push((Some(Write::delete(&d.key, Some(v))), placeholder(&d.key)));
                }
                continue;
            };
            let rule = self.rule_named(&before.rule);
            let mut st = before.clone();
            if let Some(ri) = rule {
                let rule = &self.rules.rules[ri];
                let decided = if before.digest_item {
                    policy::close_digest(&self.config, rule, &mut st, now_ms)
                } else {
                    policy::decide(&self.config, rule, &mut st, &[], None, now_ms)
                };
                // Without a trigger the shared items cannot matter (a silence only turns a
                // trigger's alert into a suppression; a digest item only takes triggers), so
                // they are read only then — and the key decided again over them, below.
                if decided.triggers > 0
                    && !before.digest_item
                    && (self.silence_of(ri, before.query_key.as_deref()).is_some()
                        || shares_digests(rule))
                {
                    with_shared.push((d, read.version, before, ri));
                    continue;
                }
                for _ in 0..decided.alerts {
                    outcome.metrics.add_alert(&st.rule);
                }
                outcome.decided += decided.publications as usize;
            }
            let next = rule_due(rule.map(|i| &self.rules.rules[i]), &st);
            let version = read.version.unwrap_or(0);
            let write = (st != before || next != Some(d.due_at))
                .then(|| key_write(&d.key, next, &st, read.version, now_ms));
            planned.push((
                write.clone(),
                Decided1 {
                    rule,
                    key: d.key.clone(),
                    version: version + u64::from(write.is_some()),
                    state: st,
                },
            ));
        }
        let mut committed = Vec::new();
        let mut fail_open: Vec<(String, Pending)> = Vec::new();
        let mut publish_directly = |d: &Decided1, e: &StateError, outcome: &mut Outcome| {
            outcome.metrics.state_failures += 1;
            tracing::warn!(error = %e, key = %d.key, "tick commit failed; publishing anyway (fail open)");
            fail_open.extend(d.state.outbox.iter().map(|p| (d.key.clone(), p.clone())));
        };
        for chunk in planned.chunks(MAX_COMMIT_ITEMS) {
            let writes: Vec<Write> = chunk.iter().filter_map(|(w, _)| w.clone()).collect();
            match commit_unit(store, &writes).await {
                Ok(()) => committed.extend(chunk.iter().map(|(_, d)| d.clone())),
                Err(StateError::Conflict) => {
                    // One commit per key, so a concurrent change holds back only that key.
                    outcome.conflicts += 1;
                    for (w, d) in chunk {
                        let single: Vec<Write> = w.iter().cloned().collect();
                        match commit_unit(store, &single).await {
                            Ok(()) => committed.push(d.clone()),
                            Err(StateError::Conflict) => outcome.conflicts += 1,
                            Err(e) => publish_directly(d, &e, outcome),
                        }
                    }
                }
                Err(e) => {
                    for (_, d) in chunk {
                        publish_directly(d, &e, outcome);
                    }
                }
            }
        }
        for (d, version, before, ri) in with_shared {
            let items = self
                .tick_shared(store, d, version, &before, ri, now_ms, outcome)
                .await;
            match items {
                Ok((decided, writes)) => match commit_unit(store, &writes).await {
                    Ok(()) => committed.extend(decided),
                    // Left for the next tick (it stays due).
                    Err(StateError::Conflict) => outcome.conflicts += 1,
                    Err(e) => decided
                        .iter()
                        .for_each(|k| publish_directly(k, &e, outcome)),
                },
                Err((decided, e)) => decided
                    .iter()
                    .for_each(|k| publish_directly(k, &e, outcome)),
            }
        }
        committed.retain(|d| !d.state.rule.is_empty());
        (committed, fail_open)
    }

    /// The tick's decision of a key whose rule shares items with other keys: its silence
    /// (`realert_key`) and the digest item of its latest aggregation value, read now; the key and
    /// digest item as decided, and the writes of everything that changed (one commit). The
    /// store unavailable: decided over none, to publish directly (`Err`).
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    async fn tick_shared<S: StateStore>(
        &self,
        store: &S,
        d: &DueKey,
        version: Option<u64>,
        before: &KeyState,
        ri: usize,
        now_ms: i64,
        outcome: &mut Outcome,
    ) -> Result<(Vec<Decided1>, Vec<Write>), (Vec<Decided1>, StateError)> {
        let rule = &self.rules.rules[ri];
        let silence_key = self.silence_of(ri, before.query_key.as_deref());
        let digest = shares_digests(rule).then(|| {
            let value = before
                .aggregation_value
                .clone()
                .unwrap_or_else(|| super::MISSING_VALUE.to_string());
            let key = super::key_state::digest_key(&rule.name, &value);
            (value, key)
        });
        let keys: Vec<String> = silence_key
            .iter()
            .cloned()
            .chain(digest.iter().map(|(_, k)| k.clone()))
            .collect();
        let (records, failed) = match store.get_many(&keys).await {
            Ok(r) => (r, None),
            Err(e) => (vec![None; keys.len()], Some(e)),
        };
        let (silence_version, silence_read) = match &silence_key {
            Some(k) => parse_silence(k, &records[0]),
            None => (None, None),
        };
        let digest_read = digest
            .as_ref()
            .map(|(_, k)| parse_key_state(k, records.last().expect("read")));
        let mut silence = silence_read.clone();
        let mut digests = policy::SharedDigests::new();
        if let (Some((value, _)), Some(r)) = (&digest, &digest_read) {
            let st = r
                .state
                .clone()
                .unwrap_or_else(|| KeyState::new_digest(&rule.name, value, now_ms));
            digests.insert(value.clone(), st);
        }
        let digests_before = digests.clone();
        let mut st = before.clone();
        let decided = policy::decide_with(
            &self.config,
            rule,
            &mut st,
            &[],
            None,
            now_ms,
            policy::Shared {
                silence: silence_key.is_some().then_some(&mut silence),
                digests: digest.is_some().then_some(&mut digests),
            },
        );
        for _ in 0..decided.alerts {
            outcome.metrics.add_alert(&st.rule);
        }
        outcome.decided += decided.publications as usize;
        let next = rule_due(Some(rule), &st);
        let changed = st != *before || next != Some(d.due_at);
        let mut writes: Vec<Write> = Vec::new();
        if changed {
            writes.push(key_write(&d.key, next, &st, version, now_ms));
        }
        let mut out = vec![Decided1 {
            rule: Some(ri),
            key: d.key.clone(),
            version: version.unwrap_or(0) + u64::from(changed),
            state: st,
        }];
        if let (Some(k), Some(s)) = (&silence_key, &silence)
            && silence != silence_read
        {
            writes.push(silence_write(k, s, silence_version, now_ms));
        }
        for (value, item) in digests {
            let key = item.key();
            let read_version = digest_read.as_ref().and_then(|r| r.version);
            let item_changed = digests_before.get(&value) != Some(&item);
            if item_changed {
                let due = rule_due(Some(rule), &item);
                writes.push(key_write(&key, due, &item, read_version, now_ms));
            }
            out.push(Decided1 {
                rule: Some(ri),
                key,
                version: read_version.unwrap_or(0) + u64::from(item_changed),
                state: item,
            });
        }
        match failed {
            None => Ok((out, writes)),
            Some(e) => Err((out, e)),
        }
    }
}

/// A stand-in for a deleted key (nothing to publish).
fn placeholder(key: &str) -> Decided1 {
    Decided1 {
        rule: None,
        key: key.to_string(),
        version: 0,
        state: KeyState::new("", None, 0),
    }
}
