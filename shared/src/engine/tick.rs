//! Ticks: time as an input. [`Engine::tick`] runs the same decision with no new matches for every
//! key whose state item is due, found through the store's due index (never a scan).

use std::collections::HashSet;

use super::{
    AlertSink, Decided1, Engine, KeyState, Outcome, Pending, commit_unit, key_write,
    parse_key_state, parse_silence, policy, publish_and_mark, rule_due, silence_write,
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
        // Keys whose rule type raised a trigger and whose rule shares a silence (`realert_key`).
        let mut with_silence: Vec<(&DueKey, Option<u64>, KeyState, usize, String)> = Vec::new();
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
                let decided = policy::decide(
                    &self.config,
                    &self.rules.rules[ri],
                    &mut st,
                    &[],
                    None,
                    now_ms,
                );
                // Without a trigger the silence cannot matter (it only turns a trigger's alert
                // into a suppression), so it is read only then — decided again over it, below.
                if decided.triggers > 0
                    && let Some(sk) = self.silence_of(ri, before.query_key.as_deref())
                {
                    with_silence.push((d, read.version, before, ri, sk));
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
        for (d, version, before, ri, sk) in with_silence {
            let (silence_version, silence) = match store.get(&sk).await {
                Ok(r) => parse_silence(&sk, &r),
                Err(e) => {
                    // Fail open as for a commit: decided over no silence, published directly.
                    let decided =
                        self.tick_with_silence(d, version, &before, ri, None, now_ms, outcome);
                    publish_directly(&decided.0, &e, outcome);
                    continue;
                }
            };
            let (decided, after) =
                self.tick_with_silence(d, version, &before, ri, silence.clone(), now_ms, outcome);
            let mut writes: Vec<Write> =
                decided_write(&decided, &before, d, version, self, ri, now_ms)
                    .into_iter()
                    .collect();
            if after != silence
                && let Some(s) = &after
            {
                writes.push(silence_write(&sk, s, silence_version, now_ms));
            }
            match commit_unit(store, &writes).await {
                Ok(()) => committed.push(decided),
                // Left for the next tick (it stays due).
                Err(StateError::Conflict) => outcome.conflicts += 1,
                Err(e) => publish_directly(&decided, &e, outcome),
            }
        }
        committed.retain(|d| !d.state.rule.is_empty());
        (committed, fail_open)
    }

    /// The tick's decision of a key whose rule shares a silence, over the silence read; the key
    /// as decided and the silence after it.
    #[allow(clippy::too_many_arguments)]
    fn tick_with_silence(
        &self,
        d: &DueKey,
        version: Option<u64>,
        before: &KeyState,
        ri: usize,
        mut silence: Option<super::Silence>,
        now_ms: i64,
        outcome: &mut Outcome,
    ) -> (Decided1, Option<super::Silence>) {
        let rule = &self.rules.rules[ri];
        let mut st = before.clone();
        let decided = policy::decide_with(
            &self.config,
            rule,
            &mut st,
            &[],
            None,
            now_ms,
            policy::Shared {
                silence: Some(&mut silence),
            },
        );
        for _ in 0..decided.alerts {
            outcome.metrics.add_alert(&st.rule);
        }
        outcome.decided += decided.publications as usize;
        let changed = st != *before || rule_due(Some(rule), &st) != Some(d.due_at);
        let decided = Decided1 {
            rule: Some(ri),
            key: d.key.clone(),
            version: version.unwrap_or(0) + u64::from(changed),
            state: st,
        };
        (decided, silence)
    }
}

/// The key write of a tick decision (none when nothing changed, not even the due time).
fn decided_write(
    decided: &Decided1,
    before: &KeyState,
    d: &DueKey,
    version: Option<u64>,
    engine: &Engine,
    ri: usize,
    now_ms: i64,
) -> Option<Write> {
    let next = rule_due(Some(&engine.rules.rules[ri]), &decided.state);
    (decided.state != *before || next != Some(d.due_at))
        .then(|| key_write(&d.key, next, &decided.state, version, now_ms))
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
