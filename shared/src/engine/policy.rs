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
//! **Keys a rule type reports** (`Trigger::key_override`: new_term's terms) have their own incident
//! and realert window ([`KeyState::sub`]): a second new term is an alert of its own, never
//! suppressed by the first one's window.
//!
//! **`exponential_realert`**: each realert window is `realert × 2ⁿ`; `n` grows by one when an alert
//! comes within `realert × 2ⁿ` of the previous window's end, and shrinks after a quiet period
//! (ElastAlert's rule, [`next_realert`]); the window never exceeds the cap.
//!
//! **`aggregation`** (digest mode): triggers are not published one by one. The first opens a
//! digest window of `aggregation` (event time); every trigger in it adds its count, samples,
//! summary-table rows and top counts; when the window ends (a tick, or a later match), **one**
//! `log-match` publication carries them all (`digest` in the alert). `realert` does not apply.
//! Without `resolve_after` each digest is an incident of its own; with it, the digests of a busy
//! period share one incident, resolved once quiet (a digest still open is published first).
//!
//! Every publication goes into the state's outbox with its ids (see [`super::ids`]); it leaves the
//! outbox only when the sink has accepted it. When the outbox already holds
//! [`MAX_OUTBOX_PENDING`] publications (the sink has been failing), nothing new is published:
//! triggers are folded into the window and closings wait, so the counts stay exact and the state
//! stays bounded.
//!
//! **State stays bounded** (DynamoDB's 400 KB item limit): every record's encoding stays within
//! [`STATE_BODY_BUDGET`] (392 KB), by rules that never change a count:
//!
//! * the outbox holds at most [`MAX_OUTBOX_PENDING`] publications **and** at most
//!   [`OUTBOX_BUDGET`] bytes: a publication is decided only while one of the largest size
//!   ([`PENDING_MAX_BYTES`]) still fits, else it waits as when the outbox is full;
//! * keys are stored cut to [`MAX_STORED_KEY_BYTES`] (encoded) with a hash of the whole
//!   ([`stored_key`]: the record's query key, new_term's terms), at most [`MAX_SUB_KEYS`] of them;
//! * a digest keeps the latest observation cut to 1 KB;
//! * then, after each decision, if the record is still over the budget, it **sheds** what only
//!   illustrates, in this order until it fits: samples held for later publications (the events
//!   held for the window types' alerts; the sub-keys' windows, the last sub-key first; then the
//!   record's window; then the digest's — each newest first, marking the publication `truncated`),
//!   then the digest's summary-table and top-count rows, smallest first (their counts move to
//!   `other`, so the figures still add up).
//!
//! **Samples of a window decided later.** The window types (`percentage_match`,
//! `metric_aggregation`, `spike_aggregation`) decide a window when it closes — on a tick, or in a
//! later invocation — so its sample events are not among the matches given then. The type names
//! the ids it may want ([`types::held_ids`]: the first 5 counted events of each open window), and
//! the policy holds those events in the record ([`KeyState::held`], messages cut to
//! [`HELD_MESSAGE_BYTES`]) until the type stops naming them: the alert then carries the log
//! lines that made it, as every other type's alerts do.
//!
//! What cannot be shed — the outbox (≤ 160 KB), the sub-keys' identities and counters (≤ 64 ×
//! ~1.3 KB) and the rule type's own state (each type bounds it: ≤ 80 KB for new_term's terms,
//! ≤ 72 KB for cardinality's exact set, …; see each type's docs) — adds up to less than the budget.
//!
//! The accounting invariant: every trigger's `count` ends up exactly once in a publication's
//! `count` (alert, digest) or `suppressed` (summary, resolved, or a later alert's carried count).
//!
//! All timestamp arithmetic saturates: `i64::MIN`/`MAX` event times never wrap.

use super::EngineConfig;
use super::build::{self, Draft};
use super::ids;
pub use super::key_state::{
    DYNAMODB_ITEM_LIMIT, HELD_MESSAGE_BYTES, MAX_STORED_KEY_BYTES, STATE_BODY_BUDGET, cut_encoded,
    encoded_len, stored_key,
};
use super::key_state::{
    DigestWindow, HeldEvent, Incident, KeyState, MAX_SUB_KEYS, Pending, RealertExp, RealertWindow,
    Silence, SubKey, Tally,
};
use super::types::select::Selector;
use super::types::{self, MatchView, Trigger};
use crate::alert::{
    Digest, KIND_LOG_MATCH, KIND_RESOLVED, KIND_SUMMARY, Observation, Sample, SummaryTable,
    TableRow, TopCount, TopValue,
};
use crate::rules::{QueryKeyPart, Rule};

/// Publications an outbox holds at most (more: new decisions wait, counts are kept).
pub const MAX_OUTBOX_PENDING: usize = 4;
/// Longest sample message kept in a realert window or digest (for its publication), in bytes.
pub const WINDOW_SAMPLE_MESSAGE_BYTES: usize = 2048;
/// Most bytes an outbox entry takes in the record: a publication body of at most
/// [`super::PUBLICATION_BUDGET`] (its subject and attributes included), plus their JSON escaping.
pub const PENDING_MAX_BYTES: usize = super::PUBLICATION_BUDGET + 4 * 1024;
/// Most bytes the outbox takes in the record (see "State stays bounded" above).
pub const OUTBOX_BUDGET: usize = 160 * 1024;
/// Longest observation a digest keeps of its latest trigger (encoded text), in bytes.
pub const DIGEST_OBSERVATION_BYTES: usize = 1024;

/// What one decision did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    /// `log-match` publications decided (alerts and digests).
    pub alerts: u64,
    /// All publications decided (alerts, digests, summaries, resolutions).
    pub publications: u64,
    /// Matches the type represented in triggers (alerted, aggregated or suppressed).
    pub represented: u64,
    /// Triggers the rule type reported (a trigger may represent no event: flatline).
    pub triggers: u64,
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
    decide_with(config, rule, st, matches, origin, now_ms, Shared::default())
}

/// What a decision shares with other (rule, key)s: items the driver reads in the same unit as the
/// key item and writes in the same atomic commit (so concurrent decisions serialise on them).
#[derive(Debug, Default)]
pub struct Shared<'a> {
    /// A shared `realert_key` ([`Rule::realert_key`]): the silence of (realert_key, this query
    /// key) — inner `None`: none was ever opened (or it expired). A trigger of the record's own
    /// key (not a type-reported one) while it is open is suppressed into the record's realert
    /// window, which ends with the silence; an alert opens it (the rule's `realert`, or its
    /// `exponential_realert` backoff continued from the silence's).
    pub silence: Option<&'a mut Option<Silence>>,
    /// `aggregation_key` with `query_key` ([`Rule::aggregation_key`]): the rule's digest items
    /// by aggregation value (as stored, [`stored_key`]). Triggers are split by the aggregation
    /// value of the events they list (the rest of a count, and a trigger listing none, goes to
    /// the value of the latest listed event, else of the key's latest match,
    /// [`KeyState::aggregation_value`]); each part goes into that value's digest window, which is
    /// published first if it has ended. The driver supplies the items of every value the
    /// decision can need (its matches' values and the key's latest); a value not supplied is
    /// created fresh.
    pub digests: Option<&'a mut SharedDigests>,
}

/// Digest items by aggregation value ([`Shared::digests`]).
pub type SharedDigests = std::collections::BTreeMap<String, KeyState>;

/// The aggregation value of a match (`aggregation_key`'s values joined by `, `, a missing one
/// [`super::MISSING_VALUE`]), as records store it.
pub fn aggregation_value(rule: &Rule, m: &MatchView) -> String {
    let value = rule
        .aggregation_key
        .iter()
        .map(|(_, part)| {
            Selector::from(part)
                .get(m)
                .unwrap_or_else(|| super::MISSING_VALUE.to_string())
        })
        .collect::<Vec<_>>()
        .join(", ");
    stored_key(&value).into_owned()
}

/// A digest item's own decision (a tick): publish its digest when its window has ended, resolve
/// its incident when quiet (`resolve_after`). Pure.
pub fn close_digest(config: &EngineConfig, rule: &Rule, st: &mut KeyState, now_ms: i64) -> Decided {
    let mut p = Policy::new(config, rule, st, now_ms, Shared::default(), &[]);
    p.close_due(now_ms);
    let decided = p.decided;
    fit(st);
    decided
}

/// [`decide`] with the items shared with other keys ([`Shared`]). Pure.
pub fn decide_with(
    config: &EngineConfig,
    rule: &Rule,
    st: &mut KeyState,
    matches: &[MatchView],
    origin: Option<Origin>,
    now_ms: i64,
    shared: Shared,
) -> Decided {
    if let Some(o) = origin {
        o.log_group.clone_into(&mut st.log_group);
        o.account.clone_into(&mut st.account);
    }
    if shared.digests.is_some()
        && let Some(last) = matches.last()
    {
        st.aggregation_value = Some(aggregation_value(rule, last));
    }
    let mut triggers = if matches.is_empty() {
        types::on_tick(&rule.kind, &mut st.type_state, now_ms)
    } else {
        types::on_matches(&rule.kind, &mut st.type_state, matches, now_ms)
    };
    triggers.sort_by_key(|t| t.last_ms);
    // A trigger's samples are among the matches given, or events held from earlier ones.
    let held = std::mem::take(&mut st.held);
    let log_group = st.log_group.clone();
    let seen: std::borrow::Cow<[MatchView]> = if held.is_empty() {
        std::borrow::Cow::Borrowed(matches)
    } else {
        let views = matches.iter().copied();
        std::borrow::Cow::Owned(
            views
                .chain(held.iter().map(|h| h.view(&log_group)))
                .collect(),
        )
    };
    let mut p = Policy::new(config, rule, st, now_ms, shared, &held);
    p.close_due(now_ms);
    for t in triggers {
        p.decided.represented = p.decided.represented.saturating_add(t.count);
        p.decided.triggers += 1;
        p.close_due(now_ms.max(t.last_ms));
        p.apply(t, &seen);
    }
    p.st.held = still_held(rule, &p.st.type_state, matches, &held);
    let cap = exponential_cap_ms(rule);
    p.st.sub.retain(|s| {
        s.incident.is_some()
            || s.window.is_some()
            || s.realert_exp
                .zip(cap)
                .is_some_and(|(e, cap)| now_ms < e.until_ms.saturating_add(cap))
    });
    fit(p.st);
    p.decided
}

/// Shed what only illustrates until the record's encoding is within [`STATE_BODY_BUDGET`] (see
/// "State stays bounded" in the module docs); counts never change. Returns the encoded size.
pub fn fit(st: &mut KeyState) -> usize {
    let mut size = encoded_len(st);
    while size > STATE_BODY_BUDGET {
        let over = size - STATE_BODY_BUDGET;
        let mut freed = 0;
        while freed < over {
            match shed_sample(st) {
                Some(n) => freed += n,
                None => break,
            }
        }
        while freed < over {
            match shed_tally_row(st) {
                Some(n) => freed += n,
                None => break,
            }
        }
        if freed == 0 {
            // Nothing left to shed: the bounds of what stays (module docs) keep this unreachable.
            tracing::error!(size, rule = %st.rule, "state record over its budget with nothing left to shed");
            return size;
        }
        size = encoded_len(st);
    }
    size
}

/// Drop the newest sample held for a later publication (events held for the rule type's
/// windows; then the sub-keys' windows, the last sub-key first; then the record's window; then
/// the digest), marking it cut (a held event's publication then has one sample fewer); its
/// encoded bytes.
fn shed_sample(st: &mut KeyState) -> Option<usize> {
    if let Some(h) = st.held.pop() {
        return Some(encoded_len(&h) + 1);
    }
    let windows = st
        .sub
        .iter_mut()
        .rev()
        .filter_map(|s| s.window.as_mut())
        .chain(st.window.as_mut());
    for w in windows {
        if let Some(s) = w.samples.pop() {
            w.truncated = true;
            return Some(encoded_len(&s) + 1);
        }
    }
    let d = st.digest.as_mut()?;
    let s = d.samples.pop()?;
    d.truncated = true;
    Some(encoded_len(&s) + 1)
}

/// Move the smallest row of the digest's largest tally (top counts or summary table) into its
/// `other`; the row's encoded bytes.
fn shed_tally_row(st: &mut KeyState) -> Option<usize> {
    let d = st.digest.as_mut()?;
    let tally = d
        .top
        .iter_mut()
        .chain(std::iter::once(&mut d.table))
        .filter(|t| !t.rows.is_empty())
        .max_by_key(|t| encoded_len(&t.rows))?;
    let smallest = (0..tally.rows.len())
        .rev()
        .min_by_key(|&i| tally.rows[i].1)
        .expect("not empty");
    let (values, n) = tally.rows.remove(smallest);
    tally.other = tally.other.saturating_add(n);
    tally.other_rows = tally.other_rows.saturating_add(1);
    Some(encoded_len(&(values, n)) + 1)
}

/// When this key next needs a tick (the `due_at` of its state item): pending publications at
/// once, a window with suppressed matches when it ends, a digest when its window ends, a quiet
/// incident at `resolve_after`, and whatever the rule type asks for. `None`: only a match brings
/// it back.
pub fn next_due(rule: &Rule, st: &KeyState) -> Option<i64> {
    let outbox = st.outbox.iter().map(|p| p.alert.decided_at).min();
    let ra = resolve_after_ms(rule);
    let slot_due = |incident: &Option<Incident>, window: &Option<RealertWindow>| {
        let window = window
            .as_ref()
            .filter(|w| w.suppressed > 0)
            .map(|w| w.until_ms);
        let resolve = match (incident, ra) {
            (Some(i), Some(ra)) => Some(i.last_match_ms.saturating_add(ra)),
            _ => None,
        };
        window.into_iter().chain(resolve).min()
    };
    let main = slot_due(&st.incident, &st.window);
    let subs = st
        .sub
        .iter()
        .filter_map(|s| slot_due(&s.incident, &s.window))
        .min();
    let digest = st.digest.as_ref().map(|d| d.until_ms);
    // A digest item holds no rule type state.
    let typed = (!st.digest_item)
        .then(|| types::next_due(&rule.kind, &st.type_state))
        .flatten();
    [outbox, main, subs, digest, typed]
        .into_iter()
        .flatten()
        .min()
}

/// `exponential_realert` (ElastAlert's `next_alert_time`): the realert window of an alert at event
/// time `t`, given the previous window (`prev`). An alert within `realert × 2ⁿ` of the previous
/// window's end doubles the window (`n + 1`); a longer quiet period lowers `n` by one for each
/// `realert × 2ⁿ` it lasted. A window that would reach `cap` is `cap` long (and `n` stays below it).
/// Without a previous window: `realert`, `n = 0`.
pub fn next_realert(realert_ms: i64, cap_ms: i64, prev: Option<RealertExp>, t: i64) -> RealertExp {
    let step = |e: u32| realert_ms.saturating_mul(1i64 << e.min(62));
    let Some(prev) = prev else {
        return RealertExp {
            until_ms: t.saturating_add(realert_ms),
            exponent: 0,
        };
    };
    let mut diff = t.saturating_sub(prev.until_ms);
    let mut e = prev.exponent;
    if diff < step(e) {
        e = e.saturating_add(1);
    } else {
        while diff > step(e) && e > 0 {
            diff = diff.saturating_sub(step(e));
            e -= 1;
        }
    }
    let wait = step(e);
    if wait >= cap_ms {
        RealertExp {
            until_ms: t.saturating_add(cap_ms),
            exponent: e.saturating_sub(1),
        }
    } else {
        RealertExp {
            until_ms: t.saturating_add(wait),
            exponent: e,
        }
    }
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn resolve_after_ms(rule: &Rule) -> Option<i64> {
    rule.resolve_after.map(ms)
}

fn realert_ms(rule: &Rule) -> i64 {
    ms(rule.realert)
}

fn exponential_cap_ms(rule: &Rule) -> Option<i64> {
    rule.exponential_realert.map(ms)
}

fn aggregation_ms(rule: &Rule) -> Option<i64> {
    rule.aggregation.map(ms)
}

/// Whose incident and window a trigger meets: the record's, a sub-key's, or (sub-keys full) a
/// one-off one that is not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Main,
    Sub(usize),
    Loose,
}

/// The policy state of [`Slot::Loose`] (discarded after the trigger).
#[derive(Debug, Default)]
struct Loose {
    key: String,
    incident: Option<Incident>,
    window: Option<RealertWindow>,
    realert_exp: Option<RealertExp>,
}

struct Policy<'a> {
    config: &'a EngineConfig,
    rule: &'a Rule,
    st: &'a mut KeyState,
    now_ms: i64,
    decided: Decided,
    loose: Loose,
    /// The outbox's encoded bytes.
    outbox_bytes: usize,
    /// [`Shared::silence`].
    silence: Option<&'a mut Option<Silence>>,
    /// [`Shared::digests`].
    digests: Option<&'a mut SharedDigests>,
    /// The events held from earlier decisions ([`KeyState::held`]; their messages may be cut).
    held: &'a [HeldEvent],
}

impl<'a> Policy<'a> {
    fn new(
        config: &'a EngineConfig,
        rule: &'a Rule,
        st: &'a mut KeyState,
        now_ms: i64,
        shared: Shared<'a>,
        held: &'a [HeldEvent],
    ) -> Policy<'a> {
        let outbox_bytes = st.outbox.iter().map(encoded_len).sum();
        Policy {
            config,
            rule,
            st,
            now_ms,
            decided: Decided::default(),
            loose: Loose::default(),
            outbox_bytes,
            silence: shared.silence,
            digests: shared.digests,
            held,
        }
    }
}

/// One publication's content (before ids and SNS's limits).
struct Out<'m> {
    kind: &'static str,
    counts: build::Counts,
    samples: (Vec<Sample>, bool),
    template_message: Option<&'m str>,
    observation: Option<Observation>,
    digest: Option<Digest>,
    top_counts: Vec<TopCount>,
}

impl<'m> Out<'m> {
    fn new(kind: &'static str, counts: build::Counts, samples: (Vec<Sample>, bool)) -> Out<'m> {
        Out {
            kind,
            counts,
            samples,
            template_message: None,
            observation: None,
            digest: None,
            top_counts: Vec::new(),
        }
    }
}

impl Policy<'_> {
    fn outbox_full(&self) -> bool {
        !self.outbox_has_room(1)
    }

    /// Whether `n` more publications of any size fit in the outbox (places and bytes).
    fn outbox_has_room(&self, n: usize) -> bool {
        self.st.outbox.len() + n <= MAX_OUTBOX_PENDING
            && self.outbox_bytes + n * PENDING_MAX_BYTES <= OUTBOX_BUDGET
    }

    fn incident(&mut self, s: Slot) -> &mut Option<Incident> {
        match s {
            Slot::Main => &mut self.st.incident,
            Slot::Sub(i) => &mut self.st.sub[i].incident,
            Slot::Loose => &mut self.loose.incident,
        }
    }

    fn window(&mut self, s: Slot) -> &mut Option<RealertWindow> {
        match s {
            Slot::Main => &mut self.st.window,
            Slot::Sub(i) => &mut self.st.sub[i].window,
            Slot::Loose => &mut self.loose.window,
        }
    }

    fn realert_exp(&mut self, s: Slot) -> &mut Option<RealertExp> {
        match s {
            Slot::Main => &mut self.st.realert_exp,
            Slot::Sub(i) => &mut self.st.sub[i].realert_exp,
            Slot::Loose => &mut self.loose.realert_exp,
        }
    }

    /// The key a slot's publications report (`None`: the record's query key).
    fn slot_key(&self, s: Slot) -> Option<String> {
        match s {
            Slot::Main => None,
            Slot::Sub(i) => Some(self.st.sub[i].key.clone()),
            Slot::Loose => Some(self.loose.key.clone()),
        }
    }

    fn slot_of(&mut self, key: Option<&str>) -> Slot {
        let Some(key) = key else {
            return Slot::Main;
        };
        let key = stored_key(key);
        if let Some(i) = self.st.sub.iter().position(|s| s.key == key) {
            return Slot::Sub(i);
        }
        if self.st.sub.len() < MAX_SUB_KEYS {
            self.st.sub.push(SubKey {
                key: key.into_owned(),
                incident: None,
                window: None,
                realert_exp: None,
            });
            return Slot::Sub(self.st.sub.len() - 1);
        }
        self.loose = Loose {
            key: key.into_owned(),
            ..Loose::default()
        };
        Slot::Loose
    }

    /// End what time `t` ends: a digest whose window passed, then per slot a quiet incident
    /// (resolved), else a passed window (summary).
    fn close_due(&mut self, t: i64) {
        if self.outbox_full() {
            return;
        }
        if self.st.digest.as_ref().is_some_and(|d| t >= d.until_ms) {
            self.publish_digest();
        }
        self.close_slot(Slot::Main, t);
        for i in 0..self.st.sub.len() {
            self.close_slot(Slot::Sub(i), t);
        }
    }

    fn close_slot(&mut self, s: Slot, t: i64) {
        if self.outbox_full() {
            return;
        }
        let ra = resolve_after_ms(self.rule);
        let quiet = match (&*self.incident(s), ra) {
            (Some(i), Some(ra)) => t >= i.last_match_ms.saturating_add(ra),
            _ => false,
        };
        if quiet {
            if s == Slot::Main && self.st.digest.is_some() {
                // The open digest goes out first, within the incident it belongs to.
                if !self.outbox_has_room(2) {
                    return;
                }
                self.publish_digest();
            }
            let window = self.window(s).take();
            let incident = self.incident(s).take().expect("quiet implies an incident");
            self.publish_resolved(s, incident, window);
            return;
        }
        if self.window(s).as_ref().is_some_and(|w| t >= w.until_ms) {
            let w = self.window(s).take().expect("checked");
            if w.suppressed > 0 {
                self.publish_summary(s, w);
            }
            if ra.is_none() {
                *self.incident(s) = None;
            }
        }
    }

    fn apply(&mut self, t: Trigger, matches: &[MatchView]) {
        if aggregation_ms(self.rule).is_some() && self.digests.is_some() {
            self.aggregate_shared(t, matches);
            return;
        }
        if aggregation_ms(self.rule).is_some() {
            if let Some(i) = &mut self.st.incident {
                i.total = i.total.saturating_add(t.count);
                i.last_match_ms = i.last_match_ms.max(t.last_ms);
            }
            self.aggregate(&t, matches);
            return;
        }
        let s = match self.slot_of(t.key_override.as_deref()) {
            // A one-off slot cannot hold a trigger back: with the outbox full, the record's own
            // window keeps its count (reported under the record's key, but never lost).
            Slot::Loose if self.outbox_full() => Slot::Main,
            s => s,
        };
        if let Some(i) = self.incident(s) {
            i.total = i.total.saturating_add(t.count);
            i.last_match_ms = i.last_match_ms.max(t.last_ms);
        }
        if s == Slot::Main && self.window(s).is_none() {
            self.hold_in_silence(&t);
        }
        if self.window(s).is_none() && self.outbox_full() {
            // Hold the trigger in a window that closes as soon as the outbox drains.
            *self.window(s) = Some(empty_window(t.last_ms));
        }
        let rule = self.rule;
        let max_samples = rule.max_samples;
        let held = self.held;
        if let Some(w) = self.window(s) {
            w.suppressed = w.suppressed.saturating_add(t.count);
            w.first_ms = Some(w.first_ms.map_or(t.first_ms, |f| f.min(t.first_ms)));
            w.last_ms = Some(w.last_ms.map_or(t.last_ms, |l| l.max(t.last_ms)));
            let room = max_samples.saturating_sub(w.samples.len());
            let (samples, cut) =
                samples_of(rule, &t, matches, held, room, WINDOW_SAMPLE_MESSAGE_BYTES);
            w.samples.extend(samples);
            w.truncated |= cut;
            return;
        }
        if self.rule.resolve_after.is_none() {
            // Without resolve_after an incident is one alert and its window.
            *self.incident(s) = None;
        }
        if self.incident(s).is_none() {
            let id = ids::incident_id(self.st, self.st.seq + 1);
            *self.incident(s) = Some(Incident {
                id,
                opened_at: self.now_ms,
                last_match_ms: t.last_ms,
                total: t.count,
            });
        }
        let samples = samples_of(
            self.rule,
            &t,
            matches,
            self.held,
            self.rule.max_samples,
            crate::alert::MAX_SAMPLE_MESSAGE_BYTES,
        );
        let mut out = Out::new(
            KIND_LOG_MATCH,
            build::Counts {
                count: t.count,
                suppressed: 0,
                first: t.first_ms,
                last: t.last_ms,
            },
            samples,
        );
        out.template_message = t
            .sample_ids
            .first()
            .and_then(|id| matches.iter().find(|m| m.id == id))
            .map(|m| m.message);
        out.top_counts = self.top_counts(&self.tallies_of(&t, matches));
        out.observation = Some(t.observation).filter(|o| !o.text.is_empty());
        self.publish(s, out);
        self.decided.alerts += 1;
        let realert = realert_ms(self.rule);
        if realert > 0 {
            let shared = s == Slot::Main && self.silence.is_some();
            let prev = if shared {
                self.silence
                    .as_deref()
                    .and_then(Option::as_ref)
                    .and_then(|x| x.exp)
            } else {
                *self.realert_exp(s)
            };
            let (until, exp) = match exponential_cap_ms(self.rule) {
                Some(cap) => {
                    let next = next_realert(realert, cap, prev, t.last_ms);
                    (next.until_ms, Some(next))
                }
                None => (t.last_ms.saturating_add(realert), None),
            };
            match self.silence.as_deref_mut() {
                Some(silence) if shared => {
                    *silence = Some(Silence {
                        until_ms: until,
                        rule: self.rule.name.clone(),
                        exp,
                    });
                }
                _ => {
                    if exp.is_some() {
                        *self.realert_exp(s) = exp;
                    }
                }
            }
            *self.window(s) = Some(empty_window(until));
        }
    }

    /// A trigger of the record's own key, with no window open, inside an open shared silence
    /// (another rule's alert): the record's window opens and ends with the silence, so its
    /// summary reports what it holds, in an incident of this key's own.
    fn hold_in_silence(&mut self, t: &Trigger) {
        let Some(open) = self.open_silence(t.last_ms) else {
            return;
        };
        let mut w = empty_window(open.until_ms);
        w.silenced_by = Some(open.rule.clone());
        self.st.window = Some(w);
        if self.st.incident.is_none() {
            self.st.incident = Some(Incident {
                id: ids::incident_id(self.st, self.st.seq + 1),
                opened_at: self.now_ms,
                last_match_ms: t.last_ms,
                total: t.count,
            });
        }
    }

    /// The shared silence, when one is open at event time `t`.
    fn open_silence(&self, t: i64) -> Option<&Silence> {
        self.silence.as_deref()?.as_ref().filter(|x| t < x.until_ms)
    }

    /// `aggregation_key` with `query_key`: each part of the trigger (by aggregation value) into
    /// its value's digest item, decided there as a digest rule's own trigger (its window ends
    /// first if it has passed).
    fn aggregate_shared(&mut self, t: Trigger, matches: &[MatchView]) {
        let parts = split_by_value(self.rule, &t, matches, self.st.aggregation_value.as_deref());
        let Some(digests) = self.digests.as_deref_mut() else {
            return;
        };
        for (value, part) in parts {
            let item = digests
                .entry(value)
                .or_insert_with_key(|v| KeyState::new_digest(&self.rule.name, v, self.now_ms));
            self.st.log_group.clone_into(&mut item.log_group);
            self.st.account.clone_into(&mut item.account);
            let at = self.now_ms.max(part.last_ms);
            let mut p = Policy::new(
                self.config,
                self.rule,
                item,
                self.now_ms,
                Shared::default(),
                self.held,
            );
            p.close_due(at);
            p.apply(part, matches);
            let d = p.decided;
            fit(item);
            self.decided.alerts += d.alerts;
            self.decided.publications += d.publications;
        }
    }

    /// `aggregation`: add a trigger to the open digest (opening one).
    fn aggregate(&mut self, t: &Trigger, matches: &[MatchView]) {
        let window = aggregation_ms(self.rule).unwrap_or_default();
        let top_keys = self.rule.top_count_keys.len();
        let tallies = self.tallies_of(t, matches);
        let table = self.tally_of(&self.rule.summary_table_fields, t, matches);
        let room = self
            .rule
            .max_samples
            .saturating_sub(self.st.digest.as_ref().map_or(0, |d| d.samples.len()));
        let (samples, cut) = samples_of(
            self.rule,
            t,
            matches,
            self.held,
            room,
            WINDOW_SAMPLE_MESSAGE_BYTES,
        );
        let d = self.st.digest.get_or_insert_with(|| DigestWindow {
            until_ms: t.last_ms.saturating_add(window),
            count: 0,
            triggers: 0,
            first_ms: t.first_ms,
            last_ms: t.last_ms,
            samples: Vec::new(),
            truncated: false,
            observation: None,
            table: Tally::default(),
            top: vec![Tally::default(); top_keys],
        });
        d.count = d.count.saturating_add(t.count);
        d.triggers = d.triggers.saturating_add(1);
        d.first_ms = d.first_ms.min(t.first_ms);
        d.last_ms = d.last_ms.max(t.last_ms);
        d.samples.extend(samples);
        d.truncated |= cut;
        if !t.observation.text.is_empty() {
            let mut o = t.observation.clone();
            if cut_encoded(&mut o.text, DIGEST_OBSERVATION_BYTES)
                || encoded_len(&o.details) > DIGEST_OBSERVATION_BYTES
            {
                o.details.clear();
            }
            d.observation = Some(o);
        }
        merge(&mut d.table, table);
        d.top.resize(top_keys, Tally::default());
        for (into, from) in d.top.iter_mut().zip(tallies) {
            merge(into, from);
        }
    }

    /// One tally per `top_count_keys` selector over the events a trigger represents.
    fn tallies_of(&self, t: &Trigger, matches: &[MatchView]) -> Vec<Tally> {
        self.rule
            .top_count_keys
            .iter()
            .map(|part| self.tally_of(std::slice::from_ref(part), t, matches))
            .collect()
    }

    /// Events per combination of `parts`' values among what `t` represents: the events it lists
    /// (else its samples), the rest of its count on the row of the latest of them.
    fn tally_of(
        &self,
        parts: &[(String, QueryKeyPart)],
        t: &Trigger,
        matches: &[MatchView],
    ) -> Tally {
        let mut tally = Tally::default();
        if parts.is_empty() || t.count == 0 {
            return tally;
        }
        let selectors: Vec<Selector> = parts.iter().map(|(_, p)| Selector::from(p)).collect();
        let missing = &self.rule.alert_missing_value;
        let values = |m: &MatchView| -> Vec<String> {
            selectors
                .iter()
                .map(|s| s.get(m).unwrap_or_else(|| missing.clone()))
                .collect()
        };
        let listed: Vec<&MatchView> = if t.events.is_empty() {
            t.sample_ids
                .iter()
                .filter_map(|id| matches.iter().find(|m| m.id == id))
                .collect()
        } else {
            t.events.iter().filter_map(|&i| matches.get(i)).collect()
        };
        let n = listed
            .len()
            .min(usize::try_from(t.count).unwrap_or(usize::MAX));
        for m in &listed[..n] {
            tally.add(values(m), 1);
        }
        let rest = t.count - n as u64;
        if rest > 0 {
            let row = listed[..n]
                .last()
                .map(|m| values(m))
                .unwrap_or_else(|| vec![missing.clone(); selectors.len()]);
            tally.add(row, rest);
        }
        tally
    }

    fn top_counts(&self, tallies: &[Tally]) -> Vec<TopCount> {
        self.rule
            .top_count_keys
            .iter()
            .zip(tallies)
            .map(|((written, _), tally)| {
                let (rows, _, other) = tally.top(self.rule.top_count_number);
                TopCount {
                    key: written.clone(),
                    values: rows
                        .into_iter()
                        .map(|(mut v, count)| TopValue {
                            value: v.pop().unwrap_or_default(),
                            count,
                        })
                        .collect(),
                    other_count: other,
                }
            })
            .collect()
    }

    /// Publish the open digest: one `log-match` for the window's triggers.
    fn publish_digest(&mut self) {
        let Some(d) = self.st.digest.take() else {
            return;
        };
        if self.st.incident.is_none() {
            self.st.incident = Some(Incident {
                id: ids::incident_id(self.st, self.st.seq + 1),
                opened_at: self.now_ms,
                last_match_ms: d.last_ms,
                total: d.count,
            });
        }
        let window = aggregation_ms(self.rule).unwrap_or_default();
        let table = (!self.rule.summary_table_fields.is_empty()).then(|| {
            let (rows, other_rows, other_count) = d.table.top(self.rule.summary_table_max_rows);
            SummaryTable {
                fields: self
                    .rule
                    .summary_table_fields
                    .iter()
                    .map(|(w, _)| w.clone())
                    .collect(),
                rows: rows
                    .into_iter()
                    .map(|(values, count)| TableRow { values, count })
                    .collect(),
                other_rows,
                other_count,
            }
        });
        let mut text = format!(
            "{} in {} ({} {})",
            types::common::plural(d.count, "event", "events"),
            types::common::fmt_duration(window),
            types::common::fmt_count(d.triggers),
            if d.triggers == 1 { "alert" } else { "alerts" },
        );
        if let Some(o) = d.observation.as_ref().filter(|o| !o.text.is_empty()) {
            text.push_str("; latest: ");
            text.push_str(&o.text);
        }
        let mut details = serde_json::Map::new();
        details.insert("alerts".into(), d.triggers.into());
        details.insert("window_ms".into(), window.into());
        let template_message = d.samples.first().map(|s| s.message.clone());
        let mut out = Out::new(
            KIND_LOG_MATCH,
            build::Counts {
                count: d.count,
                suppressed: 0,
                first: d.first_ms,
                last: d.last_ms,
            },
            (d.samples, d.truncated),
        );
        out.template_message = template_message.as_deref();
        out.observation = Some(Observation {
            text,
            sparkline: None,
            details,
        });
        out.top_counts = self.top_counts(&d.top);
        out.digest = Some(Digest {
            window_ms: window,
            alerts: d.triggers,
            table,
        });
        self.publish(Slot::Main, out);
        self.decided.alerts += 1;
        if self.rule.resolve_after.is_none() {
            // Without resolve_after each digest is an incident of its own.
            self.st.incident = None;
        }
    }

    fn publish_summary(&mut self, s: Slot, w: RealertWindow) {
        let first = w.first_ms.unwrap_or(w.until_ms);
        let last = w.last_ms.unwrap_or(first);
        let paused = match (&w.silenced_by, exponential_cap_ms(self.rule)) {
            (Some(by), _) => format!(
                "silenced by an alert of rule {by}, realert_key {}",
                self.rule.realert_key.as_deref().unwrap_or_default()
            ),
            (None, Some(cap)) => format!(
                "realert {}, doubling up to {}",
                super::types::human_span(realert_ms(self.rule)),
                super::types::human_span(cap)
            ),
            (None, None) => format!(
                "realert {}",
                super::types::human_span(realert_ms(self.rule))
            ),
        };
        let observation = Observation {
            text: format!(
                "{} more {} while alerts were paused ({paused})",
                w.suppressed,
                if w.suppressed == 1 {
                    "match"
                } else {
                    "matches"
                },
            ),
            sparkline: None,
            details: Default::default(),
        };
        let mut out = Out::new(
            KIND_SUMMARY,
            build::Counts {
                count: 0,
                suppressed: w.suppressed,
                first,
                last,
            },
            (w.samples, w.truncated),
        );
        out.observation = Some(observation);
        self.publish(s, out);
    }

    fn publish_resolved(&mut self, s: Slot, incident: Incident, window: Option<RealertWindow>) {
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
        *self.incident(s) = Some(incident);
        let mut out = Out::new(
            KIND_RESOLVED,
            build::Counts {
                count: 0,
                suppressed,
                first,
                last,
            },
            samples,
        );
        out.observation = Some(observation);
        self.publish(s, out);
        *self.incident(s) = None;
    }

    fn publish(&mut self, s: Slot, out: Out) {
        self.st.seq += 1;
        let key = self.slot_key(s);
        let incident = self.incident(s).clone();
        let alert_id = ids::alert_id_in(
            self.st,
            incident.as_ref().map_or("", |i| i.id.as_str()),
            self.st.seq,
        );
        let draft = Draft {
            kind: out.kind,
            query_key: key.as_deref().or(self.st.query_key.as_deref()),
            log_group: &self.st.log_group,
            account: &self.st.account,
            counts: out.counts,
            samples: out.samples.0,
            truncated: out.samples.1,
            template_message: out.template_message,
            observation: out.observation,
            alert_id,
            incident_id: incident.as_ref().map(|i| i.id.clone()).unwrap_or_default(),
            decided_at: self.now_ms,
            incident_opened_at: incident.as_ref().map(|i| i.opened_at),
            incident_total: incident.as_ref().map(|i| i.total),
            digest: out.digest,
            top_counts: out.top_counts,
        };
        let publication = build::publication(self.config, self.rule, draft);
        let pending = Pending {
            subject: publication.subject,
            alert: publication.alert,
            attributes: publication.attributes,
        };
        self.outbox_bytes += encoded_len(&pending);
        self.st.outbox.push(pending);
        self.decided.publications += 1;
    }
}

/// Add `from`'s rows to `into` (a tally of one trigger into the digest's).
fn merge(into: &mut Tally, from: Tally) {
    for (values, n) in from.rows {
        into.add(values, n);
    }
    into.other = into.other.saturating_add(from.other);
    into.other_rows = into.other_rows.saturating_add(from.other_rows);
}

fn empty_window(until_ms: i64) -> RealertWindow {
    RealertWindow {
        until_ms,
        suppressed: 0,
        first_ms: None,
        last_ms: None,
        samples: Vec::new(),
        truncated: false,
        silenced_by: None,
    }
}

/// The index of `value`'s part in `parts`, a new one (of `t`'s observation, from `at_ms`) when
/// there is none.
fn part_for(parts: &mut Vec<(String, Trigger)>, value: String, t: &Trigger, at_ms: i64) -> usize {
    if let Some(at) = parts.iter().position(|(v, _)| *v == value) {
        return at;
    }
    parts.push((
        value,
        Trigger {
            first_ms: at_ms,
            last_ms: at_ms,
            observation: t.observation.clone(),
            ..Trigger::default()
        },
    ));
    parts.len() - 1
}

/// A trigger cut by aggregation value ([`Shared::digests`]): the events it lists, grouped by
/// their value (first-seen order); the rest of its count, and a trigger listing none, on the value
/// of the latest listed event, else `latest` (the key's latest match), else
/// [`super::MISSING_VALUE`]. Counts add up to the trigger's; samples follow their events (those
/// of no listed event go with the rest).
fn split_by_value(
    rule: &Rule,
    t: &Trigger,
    matches: &[MatchView],
    latest: Option<&str>,
) -> Vec<(String, Trigger)> {
    let listed: Vec<usize> = t
        .events
        .iter()
        .copied()
        .filter(|&i| i < matches.len())
        .take(usize::try_from(t.count).unwrap_or(usize::MAX))
        .collect();
    let mut parts: Vec<(String, Trigger)> = Vec::new();
    for &i in &listed {
        let m = &matches[i];
        let at = part_for(&mut parts, aggregation_value(rule, m), t, m.timestamp);
        let p = &mut parts[at].1;
        p.count += 1;
        p.first_ms = p.first_ms.min(m.timestamp);
        p.last_ms = p.last_ms.max(m.timestamp);
        p.events.push(i);
    }
    let rest = t.count - listed.len() as u64;
    // The part of the rest (and of samples of no listed event); the first part when no rest.
    let mut rest_at = 0;
    if rest > 0 || parts.is_empty() {
        let value = listed
            .last()
            .map(|&i| aggregation_value(rule, &matches[i]))
            .or_else(|| latest.map(str::to_string))
            .unwrap_or_else(|| super::MISSING_VALUE.to_string());
        rest_at = part_for(&mut parts, value, t, t.first_ms);
        let p = &mut parts[rest_at].1;
        p.count += rest;
        p.first_ms = p.first_ms.min(t.first_ms);
        p.last_ms = p.last_ms.max(t.last_ms);
    }
    // Samples with their event's part; the others (held events, unlisted) with the rest's part.
    for id in &t.sample_ids {
        let at = parts
            .iter()
            .position(|(_, p)| p.events.iter().any(|&i| matches[i].id == id))
            .unwrap_or(rest_at);
        parts[at].1.sample_ids.push(id.clone());
    }
    parts
}

/// The trigger's samples (at most `n`), built from the matches given (and held events), messages
/// cut to `bytes`; and whether a message was cut (here, or a held event's before).
fn samples_of(
    rule: &Rule,
    t: &Trigger,
    matches: &[MatchView],
    held: &[HeldEvent],
    n: usize,
    bytes: usize,
) -> (Vec<Sample>, bool) {
    let mut cut = false;
    let samples = t
        .sample_ids
        .iter()
        .filter_map(|id| matches.iter().find(|m| m.id == id))
        .take(n)
        .map(|m| {
            let (s, c) = build::sample(rule, m, bytes);
            cut |= c || held.iter().any(|h| h.cut && h.id == m.id);
            s
        })
        .collect();
    (samples, cut)
}

/// The events to hold after a decision: those the rule type still names ([`types::held_ids`]),
/// held before or among the matches given, in the type's order.
fn still_held(
    rule: &Rule,
    type_state: &serde_json::Value,
    matches: &[MatchView],
    held: &[HeldEvent],
) -> Vec<HeldEvent> {
    types::held_ids(&rule.kind, type_state)
        .iter()
        .filter_map(|id| match held.iter().find(|h| &h.id == id) {
            Some(h) => Some(h.clone()),
            None => matches.iter().find(|m| m.id == id).map(HeldEvent::of),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::types::common::test_support::{MIN, T0, ev, views};
    use crate::pattern::Extracted;

    fn rule(yaml: &str) -> Rule {
        let file = format!("version: 1\nrules:\n  - name: r\n{yaml}");
        crate::rules::load(&file, "t.yaml")
            .unwrap_or_else(|e| panic!("{e}"))
            .rules
            .remove(0)
    }

    /// Decide over `events` (id, time, message) at `now`, or a tick when empty; return the
    /// publications it added.
    fn run(
        rule: &Rule,
        st: &mut KeyState,
        events: &[(&str, i64, &str)],
        now: i64,
    ) -> Vec<crate::alert::AlertMessage> {
        let evs: Vec<_> = events.iter().map(|(id, ts, m)| ev(id, *ts, m)).collect();
        let views = views(&evs);
        let before = st.outbox.len();
        decide(&EngineConfig::new("eu-west-1"), rule, st, &views, None, now);
        let out = st.outbox[before..]
            .iter()
            .map(|p| p.alert.clone())
            .collect();
        st.outbox.clear();
        out
    }

    /// Two rules, `a` and `b` (each with `yaml` added), loaded as one set (so `realert_key`s are
    /// resolved across them).
    fn pair(yaml_a: &str, yaml_b: &str) -> (Rule, Rule) {
        let file = format!(
            "version: 1\nrules:\n  - name: a\n    filter_pattern: ERROR\n{yaml_a}  - name: b\n    filter_pattern: ERROR\n{yaml_b}"
        );
        let mut rules = crate::rules::load(&file, "t.yaml")
            .unwrap_or_else(|e| panic!("{e}"))
            .rules;
        let b = rules.remove(1);
        (rules.remove(0), b)
    }

    fn kinds(out: &[crate::alert::AlertMessage]) -> Vec<(&str, u64, u64)> {
        out.iter()
            .map(|a| (a.kind.as_str(), a.count, a.suppressed))
            .collect()
    }

    /// [`run`] over a shared silence.
    fn run_shared(
        rule: &Rule,
        st: &mut KeyState,
        silence: &mut Option<Silence>,
        events: &[(&str, i64, &str)],
        now: i64,
    ) -> Vec<crate::alert::AlertMessage> {
        let evs: Vec<_> = events.iter().map(|(id, ts, m)| ev(id, *ts, m)).collect();
        let views = views(&evs);
        let before = st.outbox.len();
        let shared = Shared {
            silence: Some(silence),
            digests: None,
        };
        decide_with(
            &EngineConfig::new("eu-west-1"),
            rule,
            st,
            &views,
            None,
            now,
            shared,
        );
        let out = st.outbox[before..]
            .iter()
            .map(|p| p.alert.clone())
            .collect();
        st.outbox.clear();
        out
    }

    #[test]
    fn an_alert_of_one_rule_silences_the_other_until_its_realert_ends() {
        let (a, b) = pair(
            "    realert: 10m\n    realert_key: db\n",
            "    realert: 1m\n    realert_key: db\n",
        );
        assert_eq!(a.realert_key.as_deref(), Some("db"));
        let mut silence = None;
        let (mut sa, mut sb) = (KeyState::new("a", None, T0), KeyState::new("b", None, T0));
        let out = run_shared(&a, &mut sa, &mut silence, &[("1", T0, "ERROR")], T0);
        assert_eq!(kinds(&out), [("log-match", 1, 0)]);
        let opened = silence.clone().expect("the alert opens the silence");
        assert_eq!(
            (opened.until_ms, opened.rule.as_str()),
            (T0 + 10 * MIN, "a")
        );
        // b's matches within a's realert (not b's own 1m) are suppressed into b's own window.
        let out = run_shared(
            &b,
            &mut sb,
            &mut silence,
            &[("2", T0 + MIN, "ERROR"), ("3", T0 + 10 * MIN - 1, "ERROR")],
            T0 + MIN,
        );
        assert!(out.is_empty(), "{out:?}");
        let w = sb.window.clone().expect("b holds what it suppressed");
        assert_eq!((w.until_ms, w.suppressed), (T0 + 10 * MIN, 2));
        assert_eq!(w.silenced_by.as_deref(), Some("a"));
        assert_eq!(next_due(&b, &sb), Some(T0 + 10 * MIN));
        assert_eq!(
            silence.as_ref(),
            Some(&opened),
            "a suppression changes no silence"
        );
        // b's own tick at the silence's end summarises them, naming the silence.
        assert!(run_shared(&b, &mut sb, &mut silence, &[], T0 + 10 * MIN - 1).is_empty());
        let out = run_shared(&b, &mut sb, &mut silence, &[], T0 + 10 * MIN);
        assert_eq!(kinds(&out), [("summary", 0, 2)]);
        assert_eq!(
            out[0].observation.as_ref().unwrap().text,
            "2 more matches while alerts were paused (silenced by an alert of rule a, realert_key db)"
        );
        assert_eq!(out[0].samples.len(), 2);
        assert!(!out[0].incident_id.is_empty(), "b's own episode");
        assert_eq!(out[0].incident_total, Some(2));
        assert!(sb.window.is_none() && sb.incident.is_none());
    }

    #[test]
    fn the_shared_silence_ends_exactly_at_its_end() {
        let (a, b) = pair("    realert_key: db\n", "    realert_key: db\n");
        let mut silence = None;
        let (mut sa, mut sb) = (KeyState::new("a", None, T0), KeyState::new("b", None, T0));
        run_shared(&a, &mut sa, &mut silence, &[("1", T0, "ERROR")], T0);
        // The last millisecond inside: suppressed; the end itself: b alerts and takes the silence.
        let out = run_shared(
            &b,
            &mut sb,
            &mut silence,
            &[("2", T0 + MIN - 1, "ERROR")],
            T0,
        );
        assert!(out.is_empty());
        let out = run_shared(
            &b,
            &mut sb,
            &mut silence,
            &[("3", T0 + MIN, "ERROR")],
            T0 + MIN,
        );
        assert_eq!(kinds(&out), [("summary", 0, 1), ("log-match", 1, 0)]);
        let s = silence.clone().unwrap();
        assert_eq!((s.until_ms, s.rule.as_str()), (T0 + 2 * MIN, "b"));
        // Now a is silenced by b.
        let out = run_shared(
            &a,
            &mut sa,
            &mut silence,
            &[("4", T0 + MIN + 1, "ERROR")],
            T0 + MIN,
        );
        assert!(out.is_empty());
        assert_eq!(
            sa.window.as_ref().unwrap().silenced_by.as_deref(),
            Some("b")
        );
        // Every match is accounted: 2 alerts + 2 suppressed (b's summary, a's window).
        assert_eq!(sa.window.as_ref().unwrap().suppressed, 1);
    }

    #[test]
    fn the_exponential_backoff_is_shared_by_the_rules() {
        let opts = "    realert: 1m\n    exponential_realert: 8m\n    realert_key: db\n";
        let (a, b) = pair(opts, opts);
        let mut silence = None;
        let (mut sa, mut sb) = (KeyState::new("a", None, T0), KeyState::new("b", None, T0));
        let exp = |s: &Option<Silence>| s.as_ref().and_then(|s| s.exp).unwrap();
        run_shared(&a, &mut sa, &mut silence, &[("1", T0, "ERROR")], T0);
        assert_eq!(
            (exp(&silence).until_ms, exp(&silence).exponent),
            (T0 + MIN, 0)
        );
        // b alerts as the silence ends: the backoff continues from a's (doubled), not from b's.
        let out = run_shared(
            &b,
            &mut sb,
            &mut silence,
            &[("2", T0 + MIN, "ERROR")],
            T0 + MIN,
        );
        assert_eq!(kinds(&out), [("log-match", 1, 0)]);
        assert_eq!(
            (exp(&silence).until_ms, exp(&silence).exponent),
            (T0 + 3 * MIN, 1)
        );
        assert_eq!(sb.window.as_ref().unwrap().until_ms, T0 + 3 * MIN);
        assert!(sb.realert_exp.is_none(), "the memory is the silence's");
        let out = run_shared(
            &a,
            &mut sa,
            &mut silence,
            &[("3", T0 + 3 * MIN, "ERROR")],
            T0 + 3 * MIN,
        );
        assert_eq!(kinds(&out), [("log-match", 1, 0)]);
        assert_eq!(
            (exp(&silence).until_ms, exp(&silence).exponent),
            (T0 + 7 * MIN, 2)
        );
        // b inside a's doubled window: suppressed until its end.
        run_shared(
            &b,
            &mut sb,
            &mut silence,
            &[("4", T0 + 6 * MIN, "ERROR")],
            T0 + 6 * MIN,
        );
        assert_eq!(sb.window.as_ref().unwrap().until_ms, T0 + 7 * MIN);
    }

    #[test]
    fn a_rule_without_realert_is_silenced_but_opens_no_silence() {
        let (a, b) = pair(
            "    realert: 0\n    realert_key: db\n",
            "    realert_key: db\n",
        );
        let mut silence = None;
        let (mut sa, mut sb) = (KeyState::new("a", None, T0), KeyState::new("b", None, T0));
        let out = run_shared(&a, &mut sa, &mut silence, &[("1", T0, "ERROR")], T0);
        assert_eq!(kinds(&out), [("log-match", 1, 0)]);
        assert!(silence.is_none());
        run_shared(&b, &mut sb, &mut silence, &[("2", T0, "ERROR")], T0);
        let out = run_shared(&a, &mut sa, &mut silence, &[("3", T0 + 1, "ERROR")], T0);
        assert!(out.is_empty(), "b's silence holds a too");
        assert_eq!(sa.window.as_ref().unwrap().suppressed, 1);
    }

    #[test]
    fn a_rule_named_by_another_rules_realert_key_shares_it() {
        let (a, b) = pair("", "    realert_key: a\n");
        assert_eq!(
            (a.realert_key.as_deref(), b.realert_key.as_deref()),
            (Some("a"), Some("a"))
        );
        let (c, d) = pair("    realert_key: x\n", "    realert_key: y\n");
        assert_eq!(
            (c.realert_key, d.realert_key),
            (None, None),
            "nothing shared"
        );
    }

    /// The samples of `alert`, as (id, message).
    fn sample_lines(alert: &crate::alert::AlertMessage) -> Vec<(String, String)> {
        alert
            .samples
            .iter()
            .map(|s| (s.id.clone(), s.message.clone()))
            .collect()
    }

    #[test]
    fn a_window_decided_by_the_tick_carries_the_events_that_made_it() {
        let r = rule(
            "    type: metric_aggregation\n    metric_agg_key: $.ms\n    metric_agg_type: avg\n    max_threshold: 500\n    buffer_time: 5m\n    include: [$.path]\n",
        );
        let mut st = KeyState::new("r", None, T0);
        let lines: Vec<String> = (0..7)
            .map(|i| format!(r#"{{"ms":{},"path":"/p{i}"}}"#, 900 + i))
            .collect();
        let ids: Vec<String> = (0..7).map(|i| format!("e{i}")).collect();
        let first: Vec<(&str, i64, &str)> = (0..4)
            .map(|i| (ids[i].as_str(), T0 + i as i64, lines[i].as_str()))
            .collect();
        let second: Vec<(&str, i64, &str)> = (4..7)
            .map(|i| (ids[i].as_str(), T0 + MIN + i as i64, lines[i].as_str()))
            .collect();
        assert!(run(&r, &mut st, &first, T0 + 10).is_empty());
        assert!(run(&r, &mut st, &second, T0 + MIN + 10).is_empty());
        assert_eq!(st.held.len(), 5, "the window's first 5 events are held");
        // No event arrives: the tick after the window and its grace decides it.
        let out = run(&r, &mut st, &[], T0 + 7 * MIN);
        assert_eq!(out.len(), 1);
        let want: Vec<(String, String)> =
            (0..5).map(|i| (ids[i].clone(), lines[i].clone())).collect();
        assert_eq!(sample_lines(&out[0]), want);
        assert_eq!(out[0].samples[4].fields["$.path"], "/p4");
        assert_eq!(out[0].samples[0].log_stream, "s1");
        assert!(!out[0].truncated);
        assert!(
            st.held.is_empty(),
            "nothing is held once the window is decided"
        );
    }

    #[test]
    fn held_events_go_once_their_window_is_decided_without_an_alert() {
        let r = rule(
            "    type: metric_aggregation\n    metric_agg_key: $.ms\n    metric_agg_type: max\n    max_threshold: 500\n    buffer_time: 5m\n",
        );
        let mut st = KeyState::new("r", None, T0);
        run(
            &r,
            &mut st,
            &[("a", T0, r#"{"ms":1}"#), ("b", T0 + 5 * MIN, r#"{"ms":2}"#)],
            T0 + 5 * MIN,
        );
        assert_eq!(
            st.held.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(run(&r, &mut st, &[], T0 + 7 * MIN).is_empty());
        assert_eq!(
            st.held.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        assert!(run(&r, &mut st, &[], T0 + 12 * MIN).is_empty());
        assert!(st.held.is_empty());
    }

    #[test]
    fn a_percentage_alert_shows_numerator_events_from_every_invocation_of_its_window() {
        let r = rule(
            "    type: percentage_match\n    match_bucket_filter: '{ $.status >= 500 }'\n    max_percentage: 10\n    buffer_time: 5m\n",
        );
        let mut st = KeyState::new("r", None, T0);
        let ok = r#"{"status":200}"#;
        run(
            &r,
            &mut st,
            &[("1", T0, ok), ("2", T0 + 1, r#"{"status":503}"#)],
            T0,
        );
        run(
            &r,
            &mut st,
            &[("3", T0 + 2, ok), ("4", T0 + 3, r#"{"status":500}"#)],
            T0 + 3,
        );
        // The window is decided by a later invocation's event (past the window and its grace).
        let out = run(&r, &mut st, &[("5", T0 + 7 * MIN, ok)], T0 + 7 * MIN);
        assert_eq!(out.len(), 1);
        assert_eq!(
            sample_lines(&out[0]),
            [
                ("2".into(), r#"{"status":503}"#.into()),
                ("4".into(), r#"{"status":500}"#.into())
            ]
        );
        assert!(st.held.is_empty(), "event 5 is no numerator event");
    }

    #[test]
    fn a_spike_aggregation_alert_shows_the_spiking_windows_events_only() {
        let r = rule(
            "    type: spike_aggregation\n    metric_agg_key: $.ms\n    metric_agg_type: avg\n    timeframe: 5m\n    spike_height: 3\n    spike_type: up\n",
        );
        let mut st = KeyState::new("r", None, T0);
        run(&r, &mut st, &[("a", T0, r#"{"ms":100}"#)], T0);
        run(
            &r,
            &mut st,
            &[("b", T0 + 5 * MIN, r#"{"ms":1000}"#)],
            T0 + 5 * MIN,
        );
        assert!(
            run(&r, &mut st, &[], T0 + 7 * MIN).is_empty(),
            "the first window has no reference"
        );
        let out = run(&r, &mut st, &[], T0 + 12 * MIN);
        assert_eq!(out.len(), 1);
        assert_eq!(
            sample_lines(&out[0]),
            [("b".into(), r#"{"ms":1000}"#.into())]
        );
        assert!(st.held.is_empty());
    }

    #[test]
    fn a_held_message_is_cut_and_its_alert_says_so() {
        let r = rule(
            "    type: metric_aggregation\n    metric_agg_key: $.ms\n    metric_agg_type: max\n    max_threshold: 5\n    buffer_time: 5m\n",
        );
        let mut st = KeyState::new("r", None, T0);
        let long = format!(r#"{{"ms":9,"pad":"{}"}}"#, "é".repeat(3000));
        run(&r, &mut st, &[("a", T0, &long)], T0);
        assert!(st.held[0].message.len() <= HELD_MESSAGE_BYTES && st.held[0].cut);
        let out = run(&r, &mut st, &[], T0 + 7 * MIN);
        assert_eq!(out.len(), 1);
        assert!(long.starts_with(out[0].samples[0].message.trim_end_matches('…')));
        assert!(out[0].truncated);
    }

    #[test]
    fn held_events_are_shed_first_when_the_record_is_over_its_budget() {
        let r = rule(
            "    type: percentage_match\n    match_bucket_filter: ERROR\n    max_percentage: 100\n    buffer_time: 5s\n",
        );
        let mut st = KeyState::new("r", None, T0);
        // Messages of control characters: 6 bytes each once encoded, so 8 open windows (5 s
        // each, all within the minute's grace) × 5 held events of 2 KB take ~480 KB: shed.
        let bad = format!("ERROR {}", "\u{1}".repeat(4000));
        let evs: Vec<(String, i64)> = (0..8)
            .flat_map(|w| (0..5).map(move |i| (format!("{w}-{i}"), T0 + w * 5_000 + i)))
            .collect();
        let batch: Vec<(&str, i64, &str)> = evs
            .iter()
            .map(|(id, t)| (id.as_str(), *t, bad.as_str()))
            .collect();
        run(&r, &mut st, &batch, T0 + 40_000);
        assert_eq!(
            st.held.first().map(|h| h.message.len()),
            Some(HELD_MESSAGE_BYTES)
        );
        assert!(encoded_len(&st) <= STATE_BODY_BUDGET);
        assert!(
            st.held.len() > 20 && st.held.len() < 40,
            "{} held",
            st.held.len()
        );
        // What stays is the oldest windows' first events, in order.
        let kept: Vec<&str> = st.held.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(
            kept,
            evs[..kept.len()]
                .iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>()
        );
    }

    const ACROSS: &str = "    filter_pattern: ''\n    query_key: $.host\n    aggregation: 10m\n    aggregation_key: $.svc\n    summary_table_fields: [$.host]\n";

    /// Decide for one key over shared digest items; the publications of the key and the items.
    fn run_digests(
        rule: &Rule,
        st: &mut KeyState,
        digests: &mut SharedDigests,
        events: &[(&str, i64, &str)],
        now: i64,
    ) -> Vec<crate::alert::AlertMessage> {
        let evs: Vec<_> = events.iter().map(|(id, ts, m)| ev(id, *ts, m)).collect();
        let views = views(&evs);
        let shared = Shared {
            silence: None,
            digests: Some(digests),
        };
        decide_with(
            &EngineConfig::new("eu-west-1"),
            rule,
            st,
            &views,
            None,
            now,
            shared,
        );
        let mut out: Vec<_> = st.outbox.drain(..).map(|p| p.alert).collect();
        for item in digests.values_mut() {
            out.extend(item.outbox.drain(..).map(|p| p.alert));
        }
        out
    }

    #[test]
    fn a_digest_per_aggregation_value_gathers_the_alerts_of_every_query_key() {
        let r = rule(ACROSS);
        assert_eq!(r.aggregation_key[0].0, "$.svc");
        assert_eq!(r.query_key[0].0, "$.host");
        let mut digests = SharedDigests::new();
        let (mut a, mut b) = (
            KeyState::new("r", Some("a"), T0),
            KeyState::new("r", Some("b"), T0),
        );
        let e = |host: &str, svc: &str| format!(r#"{{"host":"{host}","svc":"{svc}"}}"#);
        let (a1, a2, b1, b2) = (e("a", "pay"), e("a", "pay"), e("b", "pay"), e("b", "auth"));
        let out = run_digests(
            &r,
            &mut a,
            &mut digests,
            &[("1", T0, &a1), ("2", T0 + 1, &a2)],
            T0,
        );
        assert!(out.is_empty(), "digests wait for their window");
        let out = run_digests(
            &r,
            &mut b,
            &mut digests,
            &[("3", T0 + MIN, &b1), ("4", T0 + MIN, &b2)],
            T0 + MIN,
        );
        assert!(out.is_empty());
        assert!(
            a.digest.is_none() && b.digest.is_none(),
            "the keys hold no digest"
        );
        assert_eq!(a.aggregation_value.as_deref(), Some("pay"));
        let pay = digests["pay"].digest.clone().unwrap();
        assert_eq!(
            (pay.count, pay.triggers, pay.until_ms),
            (3, 2, T0 + 1 + 10 * MIN)
        );
        assert_eq!(digests["auth"].digest.as_ref().unwrap().count, 1);
        assert_eq!(digests["pay"].key(), "digest#r#pay");
        // The window ends by the tick: one publication per value, the table across hosts.
        let cfg = EngineConfig::new("eu-west-1");
        let item = digests.get_mut("pay").unwrap();
        assert_eq!(next_due(&r, item), Some(T0 + 1 + 10 * MIN));
        assert_eq!(close_digest(&cfg, &r, item, T0 + 10 * MIN).publications, 0);
        let d = close_digest(&cfg, &r, item, T0 + 1 + 10 * MIN);
        assert_eq!((d.alerts, d.publications), (1, 1));
        let published = item.outbox[0].alert.clone();
        assert_eq!((published.kind.as_str(), published.count), ("log-match", 3));
        assert_eq!(published.query_key.as_deref(), Some("pay"));
        let table = published.digest.as_ref().unwrap().table.as_ref().unwrap();
        let rows: Vec<(Vec<String>, u64)> = table
            .rows
            .iter()
            .map(|r| (r.values.clone(), r.count))
            .collect();
        assert_eq!(
            rows,
            [(vec!["a".to_string()], 2), (vec!["b".to_string()], 1)]
        );
        assert!(!published.incident_id.is_empty());
        assert!(item.digest.is_none());
        assert_eq!(
            next_due(&r, item),
            Some(published.decided_at),
            "its outbox is due"
        );
    }

    #[test]
    fn a_later_alert_after_the_window_publishes_the_digest_first() {
        let r = rule(ACROSS);
        let mut digests = SharedDigests::new();
        let mut a = KeyState::new("r", Some("a"), T0);
        let m = r#"{"host":"a","svc":"pay"}"#;
        run_digests(&r, &mut a, &mut digests, &[("1", T0, m)], T0);
        let out = run_digests(
            &r,
            &mut a,
            &mut digests,
            &[("2", T0 + 10 * MIN, m)],
            T0 + 10 * MIN,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].count, 1);
        assert_eq!(
            digests["pay"].digest.as_ref().unwrap().count,
            1,
            "a new window"
        );
    }

    #[test]
    fn triggers_split_by_aggregation_value_and_add_up() {
        let r = rule(ACROSS);
        let evs = [
            ev("1", T0, r#"{"svc":"x"}"#),
            ev("2", T0 + 5, r#"{"svc":"y"}"#),
            ev("3", T0 + 9, r#"{"svc":"x"}"#),
            ev("4", T0 + 9, r#"{}"#),
        ];
        let views = views(&evs);
        let t = Trigger {
            count: 6,
            first_ms: T0 - 100,
            last_ms: T0 + 9,
            sample_ids: vec!["2".into(), "9".into()],
            events: vec![0, 1, 2, 3],
            ..Trigger::default()
        };
        let parts = split_by_value(&r, &t, &views, Some("z"));
        let got: Vec<(&str, u64, i64, i64, Vec<&str>)> = parts
            .iter()
            .map(|(v, p)| {
                (
                    v.as_str(),
                    p.count,
                    p.first_ms,
                    p.last_ms,
                    p.sample_ids.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        // The 2 events not listed go with the latest listed one (missing svc); so does sample 9.
        assert_eq!(
            got,
            [
                ("x", 2, T0, T0 + 9, vec![]),
                ("y", 1, T0 + 5, T0 + 5, vec!["2"]),
                ("<missing>", 3, T0 - 100, T0 + 9, vec!["9"]),
            ]
        );
        assert_eq!(parts.iter().map(|(_, p)| p.count).sum::<u64>(), 6);
        // The rest goes with the latest listed event's value even when that value came first:
        // its count and the samples of no listed event (sample 9) with it, not with the last part.
        let back = Trigger {
            count: 4,
            first_ms: T0,
            last_ms: T0 + 9,
            sample_ids: vec!["9".into(), "2".into()],
            events: vec![0, 1, 2],
            ..Trigger::default()
        };
        let parts = split_by_value(&r, &back, &views, None);
        let got: Vec<(&str, u64, Vec<&str>)> = parts
            .iter()
            .map(|(v, p)| {
                (
                    v.as_str(),
                    p.count,
                    p.sample_ids.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(got, [("x", 3, vec!["9"]), ("y", 1, vec!["2"])]);
        // A trigger listing no event (a tick's): the key's latest value, else <missing>.
        let tick = Trigger {
            count: 0,
            first_ms: T0,
            last_ms: T0 + MIN,
            ..Trigger::default()
        };
        assert_eq!(split_by_value(&r, &tick, &[], Some("z"))[0].0, "z");
        assert_eq!(split_by_value(&r, &tick, &[], None)[0].0, "<missing>");
    }

    /// A record over its budget by exactly one shed sample (its encoding and the comma before
    /// it): fit sheds that one and no more (its freed-bytes count is exact).
    fn over_by_one_sample(place: fn(&mut KeyState, Vec<Sample>, Vec<HeldEvent>)) -> KeyState {
        let ex = Vec::new();
        let msg = "x".repeat(1000);
        let view = |id: &'static str| MatchView {
            id,
            timestamp: T0,
            log_group: "/g",
            log_stream: "s",
            message: &msg,
            extracted: &ex,
        };
        let held = vec![HeldEvent::of(&view("1")), HeldEvent::of(&view("2"))];
        let r = rule("    filter_pattern: x\n");
        let samples = vec![
            build::sample(&r, &view("1"), 2048).0,
            build::sample(&r, &view("2"), 2048).0,
        ];
        let mut st = KeyState::new("r", None, T0);
        place(&mut st, samples, held);
        let one = |st: &KeyState| {
            let mut less = st.clone();
            shed_sample(&mut less);
            encoded_len(st) - encoded_len(&less)
        };
        let step = one(&st);
        st.type_state = serde_json::Value::String(String::new());
        let pad = STATE_BODY_BUDGET + step - encoded_len(&st);
        st.type_state = serde_json::Value::String("p".repeat(pad));
        assert_eq!(encoded_len(&st), STATE_BODY_BUDGET + step);
        st
    }

    #[test]
    fn fit_sheds_exactly_what_the_budget_needs() {
        let held: fn(&mut KeyState, Vec<Sample>, Vec<HeldEvent>) = |st, _, h| st.held = h;
        let window: fn(&mut KeyState, Vec<Sample>, Vec<HeldEvent>) = |st, s, _| {
            let mut w = empty_window(T0);
            w.samples = s;
            // Already marked cut: the shed sample is all that changes.
            w.truncated = true;
            st.window = Some(w);
        };
        let digest: fn(&mut KeyState, Vec<Sample>, Vec<HeldEvent>) = |st, s, _| {
            st.digest = Some(DigestWindow {
                until_ms: T0,
                count: 2,
                triggers: 1,
                first_ms: T0,
                last_ms: T0,
                samples: s,
                truncated: true,
                observation: None,
                table: Tally::default(),
                top: Vec::new(),
            });
        };
        for (name, place) in [("held", held), ("window", window), ("digest", digest)] {
            let mut st = over_by_one_sample(place);
            assert_eq!(fit(&mut st), STATE_BODY_BUDGET, "{name}");
            let left = st.held.len()
                + st.window.as_ref().map_or(0, |w| w.samples.len())
                + st.digest.as_ref().map_or(0, |d| d.samples.len());
            assert_eq!(left, 1, "{name}: one sample shed, one kept");
        }
    }

    #[test]
    fn a_held_event_keeps_its_extracted_values_within_the_message_budget() {
        let view = |ex: &'static Extracted| MatchView {
            id: "1",
            timestamp: T0,
            log_group: "/g",
            log_stream: "s",
            message: "short",
            extracted: ex,
        };
        // Each value cut to 256 bytes; `$f0`…`$f9` are 3 bytes: 7 × 259 fit in 2 KiB, not 8.
        let many: &'static Extracted = Box::leak(Box::new(
            (0..20)
                .map(|i| (format!("$f{i}"), "x".repeat(300)))
                .collect(),
        ));
        let h = HeldEvent::of(&view(many));
        assert!(h.cut);
        assert_eq!(h.extracted.len(), 7);
        assert!(
            h.extracted
                .iter()
                .all(|(_, v)| v.len() == 256 && v.ends_with('…'))
        );
        // Two values cut, both kept: still cut.
        let two: &'static Extracted = Box::leak(Box::new(vec![
            ("$a".into(), "y".repeat(300)),
            ("$b".into(), "z".repeat(300)),
        ]));
        let h = HeldEvent::of(&view(two));
        assert_eq!((h.extracted.len(), h.cut), (2, true));
        // Small values are kept whole.
        let small: &'static Extracted = Box::leak(Box::new(vec![("$a".into(), "1".into())]));
        let h = HeldEvent::of(&view(small));
        assert_eq!(
            (&h.extracted, h.cut, h.message.as_str()),
            (small, false, "short")
        );
    }

    #[test]
    fn exponential_realert_follows_elastalert() {
        let r = 60_000;
        let cap = 8 * r;
        let first = next_realert(r, cap, None, 0);
        assert_eq!(
            first,
            RealertExp {
                until_ms: r,
                exponent: 0
            }
        );
        // An alert right when the window ends: doubled.
        let second = next_realert(r, cap, Some(first), r);
        assert_eq!(
            second,
            RealertExp {
                until_ms: 3 * r,
                exponent: 1
            }
        );
        let third = next_realert(r, cap, Some(second), 3 * r);
        assert_eq!(
            third,
            RealertExp {
                until_ms: 7 * r,
                exponent: 2
            }
        );
        // 8 × realert reaches the cap: the window is the cap, the exponent stays below.
        let fourth = next_realert(r, cap, Some(third), 7 * r);
        assert_eq!(
            fourth,
            RealertExp {
                until_ms: 15 * r,
                exponent: 2
            }
        );
        // Quiet for exactly realert × 2²: not less, not more: the exponent stays.
        let even = next_realert(r, cap, Some(third), 7 * r + 4 * r);
        assert_eq!(
            even,
            RealertExp {
                until_ms: 15 * r,
                exponent: 2
            }
        );
        // Quiet for 5 × realert: more than 2² × realert, so it comes down by one (2 × realert).
        let after_quiet = next_realert(r, cap, Some(third), 7 * r + 5 * r);
        assert_eq!(
            after_quiet,
            RealertExp {
                until_ms: 12 * r + 2 * r,
                exponent: 1
            }
        );
        // A long quiet period brings it back to realert.
        let reset = next_realert(r, cap, Some(third), 7 * r + 100 * r);
        assert_eq!(reset.exponent, 0);
        assert_eq!(reset.until_ms, 107 * r + r);
        // Saturating: huge times and caps never wrap.
        let far = next_realert(
            r,
            i64::MAX,
            Some(RealertExp {
                until_ms: i64::MAX,
                exponent: 70,
            }),
            i64::MAX,
        );
        assert_eq!(far.until_ms, i64::MAX);
    }

    #[test]
    fn exponential_realert_lengthens_windows_and_counts_stay_exact() {
        let rule =
            rule("    filter_pattern: ERROR\n    realert: 1m\n    exponential_realert: 4m\n");
        let mut st = KeyState::new("r", None, T0);
        let mut total = 0;
        let mut alerts = Vec::new();
        // One error every 30 s for 20 minutes, then ticks.
        for i in 0..40 {
            let t = T0 + i * 30_000;
            let id = format!("{i}");
            for a in run(&rule, &mut st, &[(&id, t, "ERROR x")], t) {
                total += a.count + a.suppressed;
                if a.kind == KIND_LOG_MATCH {
                    alerts.push(a.last_timestamp);
                }
            }
        }
        for a in run(&rule, &mut st, &[], T0 + 60 * MIN) {
            total += a.count + a.suppressed;
        }
        assert_eq!(total, 40, "every match reported once");
        let gaps: Vec<i64> = alerts.windows(2).map(|w| (w[1] - w[0]) / 1000).collect();
        // Windows of 1, 2, 4 minutes, then capped at 4 (the next match after each window alerts).
        assert_eq!(gaps[..3], [60, 120, 240], "{gaps:?}");
        assert!(gaps[3..].iter().all(|g| *g == 240), "{gaps:?}");
    }

    #[test]
    fn aggregation_publishes_one_digest_per_window_with_its_table() {
        let rule = rule(concat!(
            "    filter_pattern: ERROR\n    aggregation: 10m\n",
            "    summary_table_fields: [$.code, $.host]\n    summary_table_max_rows: 2\n",
            "    top_count_keys: $.host\n    top_count_number: 1\n    include: [$.host, $.user]\n",
            "    alert_missing_value: n/a\n    max_samples: 2\n",
        ));
        let mut st = KeyState::new("r", None, T0);
        let e1 = r#"{"code":"E1","host":"a"}"#;
        let e2 = r#"{"code":"E2","host":"b"}"#;
        let e3 = r#"{"code":"E3","host":"b"}"#;
        assert!(run(&rule, &mut st, &[("1", T0, e1), ("2", T0 + 1, e1)], T0).is_empty());
        assert!(
            run(
                &rule,
                &mut st,
                &[("3", T0 + MIN, e2), ("4", T0 + MIN, e2)],
                T0 + MIN
            )
            .is_empty()
        );
        assert!(run(&rule, &mut st, &[("5", T0 + 2 * MIN, e3)], T0 + 2 * MIN).is_empty());
        assert_eq!(
            next_due(&rule, &st),
            Some(T0 + 1 + 10 * MIN),
            "the tick publishes it"
        );
        assert!(run(&rule, &mut st, &[], T0 + 9 * MIN).is_empty());
        let out = run(&rule, &mut st, &[], T0 + 10 * MIN + 1);
        assert_eq!(out.len(), 1);
        let a = &out[0];
        assert_eq!(
            (a.kind.as_str(), a.count, a.suppressed),
            ("log-match", 5, 0)
        );
        assert_eq!((a.first_timestamp, a.last_timestamp), (T0, T0 + 2 * MIN));
        let d = a.digest.as_ref().unwrap();
        assert_eq!((d.window_ms, d.alerts), (10 * MIN, 3));
        let table = d.table.as_ref().unwrap();
        assert_eq!(table.fields, ["$.code", "$.host"]);
        let rows: Vec<(Vec<&str>, u64)> = table
            .rows
            .iter()
            .map(|r| (r.values.iter().map(String::as_str).collect(), r.count))
            .collect();
        assert_eq!(rows, [(vec!["E1", "a"], 2), (vec!["E2", "b"], 2)]);
        assert_eq!(
            (table.other_rows, table.other_count),
            (1, 1),
            "the rows add up to count"
        );
        assert_eq!(a.top_counts[0].key, "$.host");
        assert_eq!(a.top_counts[0].values[0].value, "b");
        assert_eq!(
            (a.top_counts[0].values[0].count, a.top_counts[0].other_count),
            (3, 2)
        );
        assert_eq!(a.samples.len(), 2);
        assert_eq!(a.samples[0].fields["$.host"], "a");
        assert_eq!(a.samples[0].fields["$.user"], "n/a", "alert_missing_value");
        assert!(
            a.observation
                .as_ref()
                .unwrap()
                .text
                .starts_with("5 events in 10 min (3 alerts)")
        );
        assert!(
            st.incident.is_none(),
            "without resolve_after a digest is its own incident"
        );
        assert!(!a.incident_id.is_empty());
        // The next match opens the next window.
        assert!(run(&rule, &mut st, &[("6", T0 + 30 * MIN, e1)], T0 + 30 * MIN).is_empty());
        // A later match past the window publishes it too (no tick needed).
        let out = run(&rule, &mut st, &[("7", T0 + 41 * MIN, e1)], T0 + 41 * MIN);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].count, 1);
        assert_ne!(out[0].incident_id, a.incident_id);
        assert_eq!(
            st.digest.as_ref().unwrap().count,
            1,
            "the late match opened the next one"
        );
    }

    #[test]
    fn aggregation_with_resolve_after_shares_an_incident() {
        let rule =
            rule("    filter_pattern: ERROR\n    aggregation: 10m\n    resolve_after: 15m\n");
        let mut st = KeyState::new("r", None, T0);
        assert!(run(&rule, &mut st, &[("1", T0, "ERROR")], T0).is_empty());
        // A match after the window: the first digest goes out, the match opens the second.
        let first = run(
            &rule,
            &mut st,
            &[("2", T0 + 11 * MIN, "ERROR")],
            T0 + 11 * MIN,
        );
        assert_eq!((first.len(), first[0].count), (1, 1));
        let second = run(&rule, &mut st, &[], T0 + 21 * MIN);
        assert_eq!((second.len(), second[0].count), (1, 1));
        assert_eq!(second[0].incident_id, first[0].incident_id);
        assert_eq!(next_due(&rule, &st), Some(T0 + 26 * MIN));
        let resolved = run(&rule, &mut st, &[], T0 + 26 * MIN);
        assert_eq!(resolved[0].kind, "resolved");
        assert_eq!(resolved[0].incident_id, first[0].incident_id);
        assert_eq!(resolved[0].incident_total, Some(2));
        assert!(st.digest.is_none() && st.incident.is_none());
    }

    #[test]
    fn a_digest_still_open_goes_out_before_the_resolution() {
        let rule =
            rule("    filter_pattern: ERROR\n    aggregation: 10m\n    resolve_after: 15m\n");
        let mut st = KeyState::new("r", None, T0);
        run(&rule, &mut st, &[("1", T0, "ERROR")], T0);
        let first = run(
            &rule,
            &mut st,
            &[("2", T0 + 11 * MIN, "ERROR")],
            T0 + 11 * MIN,
        );
        // The second digest's close was held back (as when the outbox was full): the incident
        // goes quiet while it is still open.
        st.digest.as_mut().unwrap().until_ms = T0 + 60 * MIN;
        let out = run(&rule, &mut st, &[], T0 + 26 * MIN);
        let kinds: Vec<&str> = out.iter().map(|a| a.kind.as_str()).collect();
        assert_eq!(kinds, ["log-match", "resolved"]);
        assert!(out.iter().all(|a| a.incident_id == first[0].incident_id));
        assert_eq!(out[0].count + first[0].count, 2);
    }

    #[test]
    fn flushing_a_digest_before_its_resolution_waits_for_two_outbox_places() {
        let rule =
            rule("    filter_pattern: ERROR\n    aggregation: 10m\n    resolve_after: 15m\n");
        let setup = || {
            let mut st = KeyState::new("r", None, T0);
            run(&rule, &mut st, &[("1", T0, "ERROR")], T0);
            run(
                &rule,
                &mut st,
                &[("2", T0 + 11 * MIN, "ERROR")],
                T0 + 11 * MIN,
            );
            st.digest.as_mut().unwrap().until_ms = T0 + 60 * MIN;
            let evs = [ev("x", T0, "ERROR")];
            let mut other = KeyState::new("r", None, T0);
            decide(
                &EngineConfig::new("eu-west-1"),
                &super::tests::rule("    filter_pattern: ERROR\n"),
                &mut other,
                &views(&evs),
                None,
                T0 + 11 * MIN,
            );
            (st, other.outbox[0].clone())
        };
        let tick = |st: &mut KeyState| {
            decide(
                &EngineConfig::new("eu-west-1"),
                &rule,
                st,
                &[],
                None,
                T0 + 26 * MIN,
            )
        };
        // Two places: the digest and the resolution go out together.
        let (mut st, p) = setup();
        st.outbox = vec![p.clone(); MAX_OUTBOX_PENDING - 2];
        assert_eq!(tick(&mut st).publications, 2);
        assert_eq!(st.outbox.len(), MAX_OUTBOX_PENDING);
        // One place: both wait (the outbox never grows beyond its bound).
        let (mut st, p) = setup();
        st.outbox = vec![p; MAX_OUTBOX_PENDING - 1];
        assert_eq!(tick(&mut st).publications, 0);
        assert!(st.digest.is_some() && st.incident.is_some());
    }

    #[test]
    fn a_summary_says_when_a_suppressed_sample_was_cut() {
        let rule = rule("    filter_pattern: ERROR\n    realert: 5m\n");
        let mut st = KeyState::new("r", None, T0);
        run(&rule, &mut st, &[("1", T0, "ERROR")], T0);
        let long = format!("ERROR {}", "x".repeat(WINDOW_SAMPLE_MESSAGE_BYTES));
        run(&rule, &mut st, &[("2", T0 + MIN, "ERROR short")], T0 + MIN);
        assert!(!st.window.as_ref().unwrap().truncated);
        run(&rule, &mut st, &[("3", T0 + 2 * MIN, &long)], T0 + 2 * MIN);
        let out = run(&rule, &mut st, &[], T0 + 5 * MIN);
        assert_eq!((out[0].kind.as_str(), out[0].suppressed), ("summary", 2));
        assert!(out[0].truncated);
        assert!(out[0].samples[1].message.len() <= WINDOW_SAMPLE_MESSAGE_BYTES);
    }

    #[test]
    fn top_counts_on_plain_alerts() {
        let rule = rule("    filter_pattern: ERROR\n    top_count_keys: [$.user, $.code]\n");
        let mut st = KeyState::new("r", None, T0);
        let out = run(
            &rule,
            &mut st,
            &[
                ("1", T0, r#"{"user":"al","code":1}"#),
                ("2", T0, r#"{"user":"bo","code":1}"#),
                ("3", T0, r#"{"user":"bo"}"#),
            ],
            T0,
        );
        let t = &out[0].top_counts;
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].values[0].value.as_str(), t[0].values[0].count),
            ("bo", 2)
        );
        assert_eq!(
            (t[1].values[0].value.as_str(), t[1].values[0].count),
            ("1", 2)
        );
        assert_eq!(t[1].values[1].value, "<missing>");
    }

    #[test]
    fn top_counts_are_exact_for_types_that_list_their_events() {
        // One sample, seven events: the counts come from every listed event, not the sample.
        for kind in [
            "    type: blacklist\n    compare_key: $.user\n    blacklist: [mal, eve]\n",
            "    type: whitelist\n    compare_key: $.user\n    whitelist: [bob]\n",
            "    type: new_term\n    fields: [$.code]\n    learning_period: 0\n",
            "    type: cardinality\n    cardinality_field: $.user\n    max_cardinality: 1\n    timeframe: 1h\n",
        ] {
            let rule = rule(&format!(
                "{kind}    max_samples: 1\n    top_count_keys: $.user\n    top_count_number: 5\n"
            ));
            let mut st = KeyState::new("r", None, T0);
            let users = ["eve", "mal", "mal", "bob", "mal", "eve", "mal"];
            let msgs: Vec<String> = users
                .iter()
                .map(|u| format!(r#"{{"user":"{u}","code":"E"}}"#))
                .collect();
            let events: Vec<(String, i64, &str)> = msgs
                .iter()
                .enumerate()
                .map(|(i, m)| (format!("{i}"), T0 + i as i64, m.as_str()))
                .collect();
            let refs: Vec<(&str, i64, &str)> = events
                .iter()
                .map(|(a, b, c)| (a.as_str(), *b, *c))
                .collect();
            let out = run(&rule, &mut st, &refs, T0 + 10);
            let a = &out[0];
            assert_eq!(a.samples.len(), 1, "{kind}");
            let got: Vec<(&str, u64)> = a.top_counts[0]
                .values
                .iter()
                .map(|v| (v.value.as_str(), v.count))
                .collect();
            let want: &[(&str, u64)] = match rule.kind.as_str() {
                // The blacklisted events; the unlisted ones.
                "blacklist" | "whitelist" => &[("mal", 4), ("eve", 2)],
                // Every event of the new term.
                "new_term" => &[("mal", 4), ("eve", 2), ("bob", 1)],
                // The events that raised the number of distinct users.
                _ => &[("eve", 1), ("mal", 1), ("bob", 1)],
            };
            assert_eq!(got, want, "{kind}");
            assert_eq!(
                got.iter().map(|v| v.1).sum::<u64>() + a.top_counts[0].other_count,
                a.count,
                "{kind}"
            );
        }
    }

    #[test]
    fn new_terms_have_their_own_realert_window_and_incident() {
        let rule = rule(concat!(
            "    type: new_term\n    fields: [$.code]\n    learning_period: 0\n",
            "    realert: 10m\n    alert_on_missing_field: true\n",
        ));
        let mut st = KeyState::new("r", None, T0);
        let a = run(&rule, &mut st, &[("1", T0, r#"{"code":"E1"}"#)], T0);
        let b = run(
            &rule,
            &mut st,
            &[("2", T0 + MIN, r#"{"code":"E2"}"#)],
            T0 + MIN,
        );
        assert_eq!(
            (a.len(), b.len()),
            (1, 1),
            "a second new term within realert alerts"
        );
        assert_eq!(a[0].query_key.as_deref(), Some("E1"));
        assert_eq!(b[0].query_key.as_deref(), Some("E2"));
        assert_ne!(a[0].incident_id, b[0].incident_id);
        // The same key again within its own window is suppressed (missing field, twice).
        let m1 = run(
            &rule,
            &mut st,
            &[("3", T0 + 2 * MIN, r#"{"x":1}"#)],
            T0 + 2 * MIN,
        );
        let m2 = run(
            &rule,
            &mut st,
            &[("4", T0 + 3 * MIN, r#"{"x":1}"#)],
            T0 + 3 * MIN,
        );
        assert_eq!((m1.len(), m2.len()), (1, 0));
        let summary = run(&rule, &mut st, &[], T0 + 13 * MIN);
        let sums: Vec<(&str, Option<&str>, u64)> = summary
            .iter()
            .map(|a| (a.kind.as_str(), a.query_key.as_deref(), a.suppressed))
            .collect();
        assert_eq!(sums, [("summary", m1[0].query_key.as_deref(), 1)]);
        assert!(st.sub.is_empty(), "closed sub-keys are dropped");
        assert_eq!(next_due(&rule, &st), None);
    }

    #[test]
    fn a_quiet_term_resolves_on_its_own() {
        let rule = rule(concat!(
            "    type: new_term\n    fields: [$.code]\n    learning_period: 0\n",
            "    realert: 1m\n    resolve_after: 5m\n",
        ));
        let mut st = KeyState::new("r", None, T0);
        let a = run(&rule, &mut st, &[("1", T0, r#"{"code":"E1"}"#)], T0);
        // Its window closed, its incident still open: the term's state is kept for the resolve.
        assert!(run(&rule, &mut st, &[], T0 + 2 * MIN).is_empty());
        assert_eq!(st.sub.len(), 1);
        assert_eq!(next_due(&rule, &st), Some(T0 + 5 * MIN));
        let r = run(&rule, &mut st, &[], T0 + 5 * MIN);
        assert_eq!((r.len(), r[0].kind.as_str()), (1, "resolved"));
        assert_eq!(r[0].incident_id, a[0].incident_id);
        assert_eq!(r[0].query_key.as_deref(), Some("E1"));
        assert!(st.sub.is_empty());
    }

    #[test]
    fn a_term_held_while_the_outbox_is_full_keeps_its_window() {
        let rule = rule(
            "    type: new_term\n    fields: [$.code]\n    learning_period: 0\n    realert: 1m\n",
        );
        let mut st = KeyState::new("r", None, T0);
        let evs = [ev("x", T0, r#"{"code":"E0"}"#)];
        decide(
            &EngineConfig::new("eu-west-1"),
            &rule,
            &mut st,
            &views(&evs),
            None,
            T0,
        );
        let pending = st.outbox[0].clone();
        st.outbox = vec![pending; MAX_OUTBOX_PENDING];
        let evs = [ev("y", T0 + 1, r#"{"code":"E1"}"#)];
        decide(
            &EngineConfig::new("eu-west-1"),
            &rule,
            &mut st,
            &views(&evs),
            None,
            T0 + 1,
        );
        // E1's window holds it (no incident yet): the sub-key must survive.
        let e1 = st.sub.iter().find(|s| s.key == "E1").expect("kept");
        assert_eq!(
            (
                e1.window.as_ref().unwrap().suppressed,
                e1.incident.is_none()
            ),
            (1, true)
        );
        st.outbox.clear();
        let out = run(&rule, &mut st, &[], T0 + MIN);
        let e1: Vec<_> = out
            .iter()
            .filter(|a| a.query_key.as_deref() == Some("E1"))
            .collect();
        assert_eq!(
            (e1.len(), e1[0].kind.as_str(), e1[0].suppressed),
            (1, "summary", 1)
        );
    }

    #[test]
    fn a_terms_realert_backoff_is_remembered_between_its_windows_up_to_the_cap() {
        let rule = rule(concat!(
            "    type: new_term\n    fields: [$.code]\n    learning_period: 0\n",
            "    alert_on_missing_field: true\n    realert: 1m\n    exponential_realert: 4m\n",
        ));
        let missing =
            |id: &str, t: i64, st: &mut KeyState| run(&rule, st, &[(id, t, r#"{"x":1}"#)], t);
        let mut st = KeyState::new("r", None, T0);
        assert_eq!(missing("1", T0, &mut st).len(), 1);
        // The window closes at T0+1m; the memory stays while it still matters (until + cap).
        assert!(run(&rule, &mut st, &[], T0 + MIN).is_empty());
        assert_eq!(st.sub.len(), 1);
        assert!(st.sub[0].window.is_none() && st.sub[0].incident.is_none());
        assert_eq!(missing("2", T0 + MIN + 1, &mut st).len(), 1);
        assert_eq!(
            st.sub[0].window.as_ref().unwrap().until_ms,
            T0 + MIN + 1 + 2 * MIN,
            "doubled: the backoff was remembered"
        );
        // Exactly `until + cap` after the last window: forgotten.
        let until = st.sub[0].realert_exp.unwrap().until_ms;
        assert!(run(&rule, &mut st, &[], until + 4 * MIN - 1).is_empty());
        assert_eq!(st.sub.len(), 1, "still within until + cap");
        assert!(run(&rule, &mut st, &[], until + 4 * MIN).is_empty());
        assert!(st.sub.is_empty(), "forgotten at until + cap");
    }

    #[test]
    fn a_resolution_needs_one_free_outbox_place() {
        let rule = rule("    filter_pattern: ERROR\n    realert: 0\n    resolve_after: 5m\n");
        let mut st = KeyState::new("r", None, T0);
        let evs = [ev("1", T0, "ERROR")];
        decide(
            &EngineConfig::new("eu-west-1"),
            &rule,
            &mut st,
            &views(&evs),
            None,
            T0,
        );
        let pending = st.outbox[0].clone();
        st.outbox = vec![pending; MAX_OUTBOX_PENDING - 1];
        decide(
            &EngineConfig::new("eu-west-1"),
            &rule,
            &mut st,
            &[],
            None,
            T0 + 5 * MIN,
        );
        assert_eq!(st.outbox.len(), MAX_OUTBOX_PENDING);
        assert_eq!(st.outbox[MAX_OUTBOX_PENDING - 1].alert.kind, "resolved");
    }

    #[test]
    fn an_alerts_empty_window_needs_no_tick() {
        let rule = rule("    filter_pattern: ERROR\n    realert: 5m\n");
        let mut st = KeyState::new("r", None, T0);
        assert_eq!(run(&rule, &mut st, &[("1", T0, "ERROR")], T0).len(), 1);
        assert!(st.window.is_some());
        assert_eq!(
            next_due(&rule, &st),
            None,
            "nothing suppressed: only a match brings it back"
        );
        run(&rule, &mut st, &[("2", T0 + MIN, "ERROR")], T0 + MIN);
        assert_eq!(next_due(&rule, &st), Some(T0 + 5 * MIN));
    }

    #[test]
    fn sub_keys_beyond_the_limit_still_alert() {
        let rule = rule(
            "    type: new_term\n    fields: [$.code]\n    learning_period: 0\n    realert: 10m\n",
        );
        let mut st = KeyState::new("r", None, T0);
        let msgs: Vec<String> = (0..MAX_SUB_KEYS + 3)
            .map(|i| format!(r#"{{"code":"E{i}"}}"#))
            .collect();
        let ids: Vec<String> = (0..msgs.len()).map(|i| i.to_string()).collect();
        let events: Vec<(&str, i64, &str)> = msgs
            .iter()
            .zip(&ids)
            .map(|(m, id)| (id.as_str(), T0, m.as_str()))
            .collect();
        let mut keys = Vec::new();
        for chunk in events.chunks(3) {
            keys.extend(
                run(&rule, &mut st, chunk, T0)
                    .into_iter()
                    .map(|a| a.query_key),
            );
        }
        assert_eq!(keys.len(), MAX_SUB_KEYS + 3);
        assert_eq!(st.sub.len(), MAX_SUB_KEYS);
        // The ones beyond the limit still report their own term.
        let last: Vec<Option<String>> = (MAX_SUB_KEYS..MAX_SUB_KEYS + 3)
            .map(|i| Some(format!("E{i}")))
            .collect();
        assert_eq!(keys[MAX_SUB_KEYS..], last[..]);
    }

    #[test]
    fn a_key_beyond_the_limit_is_held_in_the_records_window_when_the_outbox_is_full() {
        let rule = rule(
            "    type: new_term\n    fields: [$.code]\n    learning_period: 0\n    realert: 10m\n",
        );
        let mut st = KeyState::new("r", None, T0);
        let msgs: Vec<String> = (0..MAX_SUB_KEYS)
            .map(|i| format!(r#"{{"code":"E{i}"}}"#))
            .collect();
        for (i, m) in msgs.iter().enumerate() {
            run(&rule, &mut st, &[(&i.to_string(), T0, m)], T0);
        }
        assert_eq!(st.sub.len(), MAX_SUB_KEYS);
        // The sink has been refusing: the outbox is full.
        let evs = [ev("x", T0, r#"{"code":"E-first"}"#)];
        let mut full = KeyState::new("r", None, T0);
        decide(
            &EngineConfig::new("eu-west-1"),
            &rule,
            &mut full,
            &views(&evs),
            None,
            T0,
        );
        let pending = full.outbox[0].clone();
        st.outbox = vec![pending; MAX_OUTBOX_PENDING];
        let evs = [ev("n", T0 + MIN, r#"{"code":"E-new"}"#)];
        let d = decide(
            &EngineConfig::new("eu-west-1"),
            &rule,
            &mut st,
            &views(&evs),
            None,
            T0 + MIN,
        );
        assert_eq!((d.publications, d.represented), (0, 1));
        assert_eq!(st.window.as_ref().unwrap().suppressed, 1, "held, not lost");
        // Once the sink accepts again, the count goes out.
        st.outbox.clear();
        let out = run(&rule, &mut st, &[], T0 + 2 * MIN);
        assert_eq!(
            (out.len(), out[0].kind.as_str(), out[0].suppressed),
            (1, "summary", 1)
        );
    }
}
