//! Engine v2: match → read → decide → commit → publish → mark sent, over at-least-once delivery.
//!
//! ```
//! use logalert::engine::{Engine, EngineConfig, Publication};
//! use logalert::payload::{LogEvent, LogsPayload, MessageType};
//! use logalert::state::MemoryStore;
//!
//! let rules = logalert::rules::load(
//!     "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n",
//!     "rules.yaml",
//! ).unwrap();
//! let engine = Engine::new(rules, EngineConfig::new("us-east-1"));
//! let payload = LogsPayload {
//!     message_type: MessageType::Data,
//!     owner: "123456789012".into(),
//!     log_group: "/app".into(),
//!     log_stream: "s1".into(),
//!     subscription_filters: vec![],
//!     policy_level: None,
//!     log_events: vec![LogEvent { id: "1".into(), timestamp: 1_700_000_000_000, message: "ERROR db down".into() }],
//! };
//! let store = MemoryStore::default();
//! let sink = logalert::engine::CollectingSink::default();
//! let outcome = logalert::state::block_on(engine.process(&[payload.clone()], &store, &sink, 1_700_000_000_000));
//! assert!(outcome.failed_payloads.is_empty());
//! let published: Vec<Publication> = sink.take();
//! assert_eq!(published[0].alert.count, 1);
//! assert_eq!(published[0].subject, "[ERROR] errors: 1 match in /app");
//! // A redelivery is recognised: nothing is counted or published again.
//! let again = logalert::state::block_on(engine.process(&[payload], &store, &sink, 1_700_000_000_000));
//! assert_eq!((again.duplicate_payloads, sink.take().len()), (1, 0));
//! ```
//!
//! The same code runs in the Lambda function (DynamoDB state, SNS sink, wall clock) and in
//! `logalert replay` (memory state, printing sink, event time as the clock).
//!
//! ## One invocation ([`Engine::process`])
//!
//! 1. **match** ([`Engine::match_payloads`]): every event of every `DATA_MESSAGE` payload is
//!    matched against the enabled rules whose `log_groups` cover the payload's log group
//!    (`CONTROL_MESSAGE`s and ignored log groups are skipped); matches are grouped per (rule, query
//!    key), an event id seen twice in one group is kept once, and a payload seen twice in one
//!    invocation is read once.
//! 2. The groups are cut into **units** of at most [`MAX_COMMIT_ITEMS`] state items (key items plus
//!    the `batch#` markers of the payloads they hold) — nearly always one unit.
//! 3. Per unit: **read** ([`read_unit`]) the key items and markers (one batch get); drop the
//!    matches of payloads whose marker says they were handled for that key (a redelivery);
//!    **decide** ([`decide_unit`]) — the pure per-key decision ([`policy::decide`]: the rule type,
//!    then realert, summaries, incidents, `resolve_after`, ids, outbox); **commit**
//!    ([`commit_unit`]) every changed key item *and* the markers in one atomic, conditional commit.
//!    On a conflict the unit is read and decided again from scratch (never re-applied).
//! 4. **publish** ([`publish_outboxes`]): everything in the outboxes of the committed items —
//!    the publications just decided and any left pending by an earlier crash — with their
//!    `alert_id`s. Then **mark sent** ([`mark_sent`]): accepted publications leave the outbox
//!    (a conditional commit; if it fails they are published again later, with the same id).
//!
//! Metrics (`Matches`, the rules' own metrics, `Alerts`) count only what a commit made new, so a
//! redelivery or a retried conflict counts nothing twice.
//!
//! The state store unavailable (not a conflict): the engine **fails open** — it decides over
//! what it could read (or fresh state), publishes directly, counts `StateFailures`, and does not
//! fail the payloads. A publish that fails leaves the publication in the outbox (committed):
//! the payloads behind it are reported failed so the caller retries soon (a retried payload is a
//! duplicate, and republishes its keys' outbox); a tick republishes it in any case.
//!
//! ## Time ([`Engine::tick`])
//!
//! A tick finds the keys with due work through the store's due index ([`StateStore::due`]) and
//! runs the same decide with no matches: summaries of closed realert windows, `resolved` for
//! quiet incidents, the rule types' time-based triggers, pending outbox entries.

mod build;
mod ids;
mod key_state;
pub mod policy;
mod tick;
pub mod types;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::alert::AlertMessage;
use crate::metrics::InvocationMetrics;
use crate::pattern::{CompiledValueRef, Extracted, PatternSet, SetScratch, ValueSlot, Walked};
use crate::payload::LogsPayload;
use crate::rules::{LogGroupGlob, QueryKeyPart, Rule, RuleSet};
use crate::state::{MAX_COMMIT_ITEMS, StateError, StateRecord, StateStore, Write};

pub use build::{MISSING_VALUE, PUBLICATION_BUDGET};
pub use ids::{alert_id, batch_marker_key, incident_id};
pub use key_state::{
    Incident, KEY_STATE_SCHEMA, KeyState, Pending, RealertWindow, Silence, key_state_key,
    silence_key,
};
pub use policy::{Decided, MAX_OUTBOX_PENDING};

/// How long a `batch#` marker lives: longer than anything can redeliver a payload (Lambda's async
/// retries: 6 h; a dead-letter queue replayed within SQS's maximum retention: 14 days).
pub const BATCH_MARKER_TTL_SECS: i64 = 15 * 86_400;
/// How long a key's state item outlives its last activity or due time.
pub const KEY_STATE_TTL_SECS: i64 = 7 * 86_400;
/// Attempts at one unit's read → decide → commit under conflicts before its payloads fail.
pub const COMMIT_ATTEMPTS: usize = 10;

/// Builds the `links` of an alert (console, Logs Insights) for templates: (name, URL) pairs.
/// Arguments: region, log group, log stream, first and last match time (epoch ms), filter pattern.
pub type LinkBuilder = fn(&str, &str, &str, i64, i64, &str) -> Vec<(&'static str, String)>;

/// Deployment facts the engine needs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// AWS region alerts are reported in (`AWS_REGION`).
    pub region: String,
    /// Log groups never evaluated (logalert's own: no feedback loop). Globs.
    pub ignore_log_groups: Vec<LogGroupGlob>,
    /// Fills the templates' `links` variable ([`alert_links`] by default); `None` leaves
    /// `links.*` missing.
    pub links: Option<LinkBuilder>,
    /// Redacts what is published (`REDACT_PATTERNS`; the defaults otherwise) — security stream.
    pub redactor: crate::render::text::Redactor,
}

impl EngineConfig {
    pub fn new(region: impl Into<String>) -> EngineConfig {
        EngineConfig {
            region: region.into(),
            ignore_log_groups: Vec::new(),
            links: Some(alert_links),
            redactor: crate::render::text::Redactor::default(),
        }
    }

    /// Extra redaction patterns from `REDACT_PATTERNS` (a JSON list of regexes; unset or blank:
    /// the defaults) — the same variable and meaning as the notifier's.
    pub fn with_redact_patterns(
        mut self,
        json: Option<&str>,
    ) -> Result<EngineConfig, crate::render::text::redact::RedactPatternError> {
        self.redactor = crate::render::text::Redactor::from_env_value(json)?;
        Ok(self)
    }

    /// Parse `IGNORE_LOG_GROUPS` (comma-separated names or globs; blanks ignored).
    pub fn with_ignored_log_groups(mut self, list: &str) -> EngineConfig {
        self.ignore_log_groups = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(LogGroupGlob::new)
            .collect();
        self
    }
}

/// Margin around the matches in the console link (CloudWatch's view of the log stream).
pub const CONSOLE_LINK_MARGIN_MS: i64 = 60_000;
/// Margin around the matches in the Logs Insights link.
pub const INSIGHTS_LINK_MARGIN_MS: i64 = 5 * 60_000;

/// The default [`LinkBuilder`]: `console` — the log stream from a minute before the first match to
/// a minute after the last, filtered by the rule's pattern; `insights` — a Logs Insights query over
/// the log group five minutes either side.
pub fn alert_links(
    region: &str,
    log_group: &str,
    log_stream: &str,
    first_ms: i64,
    last_ms: i64,
    filter_pattern: &str,
) -> Vec<(&'static str, String)> {
    use crate::links::{DEFAULT_INSIGHTS_QUERY, LogEventsLink, insights_url, log_events_url};
    let console = log_events_url(&LogEventsLink {
        region,
        log_group,
        log_stream: Some(log_stream),
        start_ms: first_ms.saturating_sub(CONSOLE_LINK_MARGIN_MS),
        end_ms: last_ms.saturating_add(CONSOLE_LINK_MARGIN_MS),
        filter_pattern: Some(filter_pattern),
    });
    let insights = insights_url(
        region,
        &[log_group],
        first_ms.saturating_sub(INSIGHTS_LINK_MARGIN_MS),
        last_ms.saturating_add(INSIGHTS_LINK_MARGIN_MS),
        DEFAULT_INSIGHTS_QUERY,
    );
    vec![("console", console), ("insights", insights)]
}

/// One SNS publish: what log-filter sends and `logalert replay` prints.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    /// SNS `Subject` (sanitised: ASCII, ≤ 99 characters).
    pub subject: String,
    /// The alert (the SNS body is its JSON, [`Publication::body`]).
    pub alert: AlertMessage,
    /// The serialised body, already checked against SNS's size limit.
    pub body: String,
    /// Message attributes (all `String`): `severity`, `rule`, `log_group`, `channel`.
    pub attributes: Vec<(String, String)>,
}

impl Publication {
    /// `{"subject":…,"message":{…alert…},"attributes":{…}}` — `logalert replay`'s output line.
    pub fn to_replay_json(&self) -> serde_json::Value {
        let attributes: serde_json::Map<String, serde_json::Value> = self
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().into()))
            .collect();
        serde_json::json!({
            "subject": self.subject,
            "message": self.alert,
            "attributes": attributes,
        })
    }
}

/// Where alerts go: SNS in the function, stdout in `logalert replay`, a vector in tests.
pub trait AlertSink: Sync {
    /// Publish each publication; one result per publication, in order (`Err` holds the reason).
    fn publish(
        &self,
        publications: &[Publication],
    ) -> impl Future<Output = Vec<Result<(), String>>> + Send;
}

/// A sink that keeps what it is given (tests, replay).
#[derive(Debug, Default)]
pub struct CollectingSink {
    published: Mutex<Vec<Publication>>,
}

impl CollectingSink {
    /// Everything published so far (and forget it).
    pub fn take(&self) -> Vec<Publication> {
        std::mem::take(&mut *self.published.lock().unwrap())
    }
}

impl AlertSink for CollectingSink {
    async fn publish(&self, publications: &[Publication]) -> Vec<Result<(), String>> {
        self.published
            .lock()
            .unwrap()
            .extend(publications.iter().cloned());
        vec![Ok(()); publications.len()]
    }
}

/// What happened to one invocation or tick.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outcome {
    /// Publications the sink accepted (new ones and republished pending ones).
    pub published: usize,
    /// Publications newly decided (committed to an outbox, or published directly when failing
    /// open).
    pub decided: usize,
    /// Publications the sink refused: they stay in their outbox (a later invocation or tick
    /// publishes them with the same `alert_id`).
    pub pending: usize,
    /// Indices (into the payload slice) of payloads the caller must retry: a publication behind
    /// them was refused, or their commit kept conflicting. Direct invocations fail; Kinesis reports
    /// them as batch item failures.
    pub failed_payloads: Vec<usize>,
    /// Reasons for the failures above.
    pub errors: Vec<String>,
    /// Payloads skipped as redeliveries of handled ones (or repeated within the invocation).
    pub duplicate_payloads: usize,
    /// Conditional commits that conflicted (and were re-decided).
    pub conflicts: usize,
    pub metrics: InvocationMetrics,
}

/// One match, pointing into the payloads: 16 bytes, as a group of a frequent rule holds one per
/// matching event and the match step moves them (growing, sorting, copying a unit's new ones).
#[derive(Debug, Clone)]
pub(crate) struct MatchRef {
    payload: u32,
    event: u32,
    /// What the pattern extracted; `None` for nothing (every pattern but a space-delimited one).
    extracted: Option<Box<Extracted>>,
}

/// The values of a match that extracted none.
static NO_VALUES: Extracted = Vec::new();

impl MatchRef {
    /// Event `event` of payload `payload`. An invocation's payloads fit in Lambda's 6 MB
    /// request (SQS/Kinesis batches included), far from 2^32 payloads or events.
    fn new(payload: usize, event: usize, extracted: Extracted) -> MatchRef {
        MatchRef {
            payload: u32::try_from(payload).expect("fewer than 2^32 payloads per invocation"),
            event: u32::try_from(event).expect("fewer than 2^32 events per payload"),
            extracted: (!extracted.is_empty()).then(|| Box::new(extracted)),
        }
    }

    /// Index of its payload.
    pub(crate) fn payload(&self) -> usize {
        self.payload as usize
    }

    /// Index of its event in the payload's `log_events`.
    pub(crate) fn event(&self) -> usize {
        self.event as usize
    }

    pub(crate) fn extracted(&self) -> &Extracted {
        self.extracted.as_deref().unwrap_or(&NO_VALUES)
    }
}

/// Matches of one rule and query key.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub rule: usize,
    pub query_key: Option<String>,
    /// The key state item's store key.
    pub key: String,
    /// Distinct (by event id) matches, sorted by (timestamp, id).
    pub matches: Vec<MatchRef>,
    /// Every payload with a match in this group (also one whose match repeated an earlier one).
    pub payloads: Vec<usize>,
}

/// The match step's result.
#[derive(Debug, Default)]
pub(crate) struct Matched {
    pub groups: Vec<Group>,
    /// Per payload: its `batch#` marker key, when it has matches.
    pub markers: Vec<Option<String>>,
    /// Payloads repeated within the invocation (skipped).
    pub repeated: usize,
}

impl Matched {
    /// Add an empty group for `rule` (index `ri`) and `query_key`; its index.
    fn new_group(&mut self, rule: &Rule, ri: usize, query_key: Option<String>) -> usize {
        self.groups.push(Group {
            rule: ri,
            key: key_state_key(&rule.name, query_key.as_deref()),
            query_key,
            matches: Vec::new(),
            payloads: Vec::new(),
        });
        self.groups.len() - 1
    }
}

/// The event ids of one group's matches, to keep an id seen twice once.
///
/// While ids arrive in strictly ascending order (CloudWatch's ids are equal-length numbers that
/// grow with time, within a payload and from one payload to the next) none can repeat, and
/// comparing with the previous id is enough; the first id that does not ascend switches the
/// group to a hash set of every id so far.
#[derive(Debug, Default)]
struct SeenIds<'a> {
    last: Option<&'a str>,
    set: Option<HashSet<&'a str>>,
}

impl<'a> SeenIds<'a> {
    /// Record `id`; false when it was recorded before. `matches` are the group's matches so far
    /// (every recorded id is one of theirs, `id_of` reads it).
    fn first_time<M>(&mut self, id: &'a str, matches: &[M], id_of: impl Fn(&M) -> &'a str) -> bool {
        if let Some(set) = &mut self.set {
            return set.insert(id);
        }
        match self.last {
            Some(last) if id <= last => {
                let mut set: HashSet<&'a str> = matches.iter().map(id_of).collect();
                let new = set.insert(id);
                self.set = Some(set);
                new
            }
            _ => {
                self.last = Some(id);
                true
            }
        }
    }
}

/// A slice of the invocation committed at once: parts of groups, the payloads behind them, and
/// the items its parts share with other keys.
#[derive(Debug, Default)]
struct Unit {
    parts: Vec<Part>,
    payloads: Vec<usize>,
    shared: Vec<SharedItem>,
}

/// An item the keys of several groups read and write, in the same commit as they are.
#[derive(Debug, Clone, PartialEq)]
enum SharedItem {
    /// `silence#…` ([`Silence`], `realert_key`), by store key.
    Silence(String),
    /// `digest#…` (a digest item, `aggregation_key` with `query_key`) of rule `rule` for an
    /// aggregation value (as stored).
    Digest {
        rule: usize,
        value: String,
        key: String,
    },
}

impl SharedItem {
    fn key(&self) -> &str {
        match self {
            SharedItem::Silence(k) => k,
            SharedItem::Digest { key, .. } => key,
        }
    }
}

#[derive(Debug)]
struct Part {
    group: usize,
    /// The group's matches from these payloads.
    payloads: Vec<usize>,
}

/// A `batch#` marker's body: which key items of the payload are committed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct MarkerBody {
    /// Every key item the payload changes is committed (markers written before engine v2, which
    /// have no such field, meant that too).
    #[serde(default = "yes")]
    complete: bool,
    /// When not complete: the short names ([`ids::short_key`]) of the key items committed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    done: Vec<String>,
}

fn yes() -> bool {
    true
}

/// A key state as read: its version (None: absent) and body.
#[derive(Debug, Clone)]
struct Read {
    version: Option<u64>,
    state: Option<KeyState>,
}

#[derive(Debug, Default)]
struct UnitRead {
    keys: Vec<Read>,
    markers: HashMap<usize, (Option<u64>, MarkerBody)>,
    /// The unit's shared silences by key; absent: not stored.
    silences: HashMap<String, SilenceRead>,
    /// The unit's digest items by key: (rule, aggregation value, as read).
    digests: HashMap<String, (usize, String, Read)>,
}

/// A shared silence as read: its version (None: absent) and body (None: none, or unreadable).
type SilenceRead = (Option<u64>, Option<Silence>);

/// A decided key: its state after the decision and the version it will have once committed.
#[derive(Debug, Clone)]
pub(crate) struct Decided1 {
    pub rule: Option<usize>,
    pub key: String,
    pub version: u64,
    pub state: KeyState,
}

#[derive(Debug, Default)]
struct UnitDecision {
    writes: Vec<Write>,
    /// Every key of the unit after the decision (changed or not).
    keys: Vec<Decided1>,
    /// Publications decided now, with their key (published directly when failing open).
    new: Vec<(String, Pending)>,
    /// (rule, part index, new matches) — counted in metrics once committed.
    counted: Vec<(usize, Vec<MatchRef>)>,
    alerts: Vec<(usize, u64)>,
    /// Payloads found fully handled before.
    duplicates: Vec<usize>,
    /// Digest items the decision reached that were not read: (rule, value, key).
    unread: Vec<(usize, String, String)>,
}

/// The compiled rules plus deployment facts: the log-filter logic.
#[derive(Debug)]
pub struct Engine {
    rules: RuleSet,
    config: EngineConfig,
    by_name: HashMap<String, usize>,
    /// Per rule: its `query_key` parts, compiled once.
    query_keys: Vec<Vec<KeyPart>>,
    /// The rules of each log group seen and their compiled [`PatternSet`], built once per log
    /// group (log groups with the same rules share one).
    by_group: Mutex<HashMap<String, Arc<GroupRules>>>,
}

/// The enabled rules that apply to a log group, and their patterns compiled into one set
/// (pattern `k` of the set is rule `rules[k]`'s).
#[derive(Debug)]
struct GroupRules {
    rules: Vec<usize>,
    set: PatternSet,
    /// Per pattern `k`, per part of rule `rules[k]`'s query key: where the set's JSON walk
    /// finds that part's value (then the part is not looked up by walking the message again).
    key_slots: Vec<Vec<Option<ValueSlot>>>,
}

/// One part of a rule's query key, ready to resolve per match.
#[derive(Debug)]
enum KeyPart {
    LogGroup,
    LogStream,
    Fingerprint,
    Value(CompiledValueRef),
}

impl Engine {
    pub fn new(rules: RuleSet, config: EngineConfig) -> Engine {
        let by_name = rules
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.clone(), i))
            .collect();
        let query_keys = rules
            .rules
            .iter()
            .map(|r| {
                r.query_key
                    .iter()
                    .map(|(_, part)| match part {
                        QueryKeyPart::LogGroup => KeyPart::LogGroup,
                        QueryKeyPart::LogStream => KeyPart::LogStream,
                        QueryKeyPart::Fingerprint => KeyPart::Fingerprint,
                        QueryKeyPart::Value(v) => KeyPart::Value(v.compile()),
                    })
                    .collect()
            })
            .collect();
        Engine {
            rules,
            config,
            by_name,
            query_keys,
            by_group: Mutex::new(HashMap::new()),
        }
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Is `log_group` one of the ignored ones?
    pub fn is_ignored(&self, log_group: &str) -> bool {
        self.config
            .ignore_log_groups
            .iter()
            .any(|g| g.is_match(log_group))
    }

    /// The enabled rule named `name`.
    pub(crate) fn rule_named(&self, name: &str) -> Option<usize> {
        self.by_name
            .get(name)
            .copied()
            .filter(|&i| self.rules.rules[i].enabled)
    }

    fn rules_for(&self, log_group: &str) -> Arc<GroupRules> {
        let mut cache = self.by_group.lock().unwrap();
        if let Some(r) = cache.get(log_group) {
            return r.clone();
        }
        let list: Vec<usize> = if self.is_ignored(log_group) {
            Vec::new()
        } else {
            (0..self.rules.rules.len())
                .filter(|&i| {
                    self.rules.rules[i].enabled && self.rules.rules[i].applies_to(log_group)
                })
                .collect()
        };
        // Most log groups get the same rules: compile their set once.
        let group = match cache.values().find(|g| g.rules == list) {
            Some(same) => same.clone(),
            None => {
                let set =
                    PatternSet::new(list.iter().map(|&ri| &self.rules.rules[ri].filter_pattern));
                let key_slots = list
                    .iter()
                    .map(|&ri| {
                        self.query_keys[ri]
                            .iter()
                            .map(|part| match part {
                                KeyPart::Value(v) => set.value_slot(v),
                                _ => None,
                            })
                            .collect()
                    })
                    .collect();
                Arc::new(GroupRules {
                    set,
                    rules: list,
                    key_slots,
                })
            }
        };
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(log_group.to_string(), group.clone());
        group
    }

    /// Step 1, **match**: every event against the rules of its log group, grouped per (rule,
    /// query key). Pure. Counts `events_processed` only (the other metrics wait for the commit).
    ///
    /// Per match it does what grouping needs and no more: a rule without a query key finds its
    /// group by index (no hashing), a query key is built in a reused buffer (allocated only for
    /// a new group), and repeated event ids are found by comparing each id with the group's
    /// previous one while they ascend (as CloudWatch's do) — a hash set only for a group whose
    /// ids stop ascending ([`SeenIds`]).
    pub(crate) fn match_payloads(
        &self,
        payloads: &[LogsPayload],
        metrics: &mut InvocationMetrics,
    ) -> Matched {
        let mut out = Matched {
            markers: vec![None; payloads.len()],
            ..Matched::default()
        };
        // Per rule: its group when it has no query key, else its groups by key.
        let mut unkeyed: Vec<Option<usize>> = vec![None; self.rules.rules.len()];
        let mut keyed: Vec<HashMap<String, usize>> = Vec::new();
        keyed.resize_with(self.rules.rules.len(), HashMap::new);
        let mut seen: Vec<SeenIds> = Vec::new();
        let mut seen_markers: HashSet<String> = HashSet::new();
        let mut scratches: Vec<(Arc<GroupRules>, SetScratch)> = Vec::new();
        let mut key_buf = String::new();
        for (pi, payload) in payloads.iter().enumerate() {
            if payload.is_control() || self.is_ignored(&payload.log_group) {
                continue;
            }
            metrics.events_processed += payload.log_events.len() as u64;
            let group_rules = self.rules_for(&payload.log_group);
            if group_rules.rules.is_empty() {
                continue;
            }
            let marker = batch_marker_key(payload);
            if !seen_markers.insert(marker.clone()) {
                out.repeated += 1;
                continue;
            }
            let mut any = false;
            // One pass per event for all of this log group's rules (pattern::PatternSet).
            let si = match scratches
                .iter()
                .position(|(g, _)| Arc::ptr_eq(g, &group_rules))
            {
                Some(si) => si,
                None => {
                    let scratch = group_rules.set.scratch();
                    scratches.push((group_rules.clone(), scratch));
                    scratches.len() - 1
                }
            };
            let scratch = &mut scratches[si].1;
            let rules = &group_rules.rules;
            for (ei, event) in payload.log_events.iter().enumerate() {
                group_rules
                    .set
                    .for_each_match_walked(&event.message, scratch, |k, m, walked| {
                        let ri = rules[k];
                        any = true;
                        let parts = &self.query_keys[ri];
                        let gi = if parts.is_empty() {
                            match unkeyed[ri] {
                                Some(gi) => gi,
                                None => {
                                    let gi = out.new_group(&self.rules.rules[ri], ri, None);
                                    seen.push(SeenIds::default());
                                    unkeyed[ri] = Some(gi);
                                    gi
                                }
                            }
                        } else {
                            key_buf.clear();
                            let slots = &group_rules.key_slots[k];
                            let key = KeyContext {
                                payload,
                                message: &event.message,
                                m: &m,
                                walked,
                            };
                            query_key_into(parts, slots, &key, &mut key_buf);
                            match keyed[ri].get(key_buf.as_str()) {
                                Some(&gi) => gi,
                                None => {
                                    let gi = out.new_group(
                                        &self.rules.rules[ri],
                                        ri,
                                        Some(key_buf.clone()),
                                    );
                                    seen.push(SeenIds::default());
                                    keyed[ri].insert(key_buf.clone(), gi);
                                    gi
                                }
                            }
                        };
                        let g = &mut out.groups[gi];
                        if g.payloads.last() != Some(&pi) {
                            g.payloads.push(pi);
                        }
                        let id_of =
                            |m: &MatchRef| payloads[m.payload()].log_events[m.event()].id.as_str();
                        if seen[gi].first_time(&event.id, &g.matches, id_of) {
                            g.matches.push(MatchRef::new(pi, ei, m.extracted));
                        }
                    });
            }
            if any {
                out.markers[pi] = Some(marker);
            }
        }
        // Deterministic order: rule order, then the time of each group's first match.
        let event = |m: &MatchRef| &payloads[m.payload()].log_events[m.event()];
        for g in &mut out.groups {
            g.matches.sort_by(|a, b| {
                let (ea, eb) = (event(a), event(b));
                (ea.timestamp, &ea.id).cmp(&(eb.timestamp, &eb.id))
            });
        }
        out.groups
            .sort_by_key(|g| (g.rule, event(&g.matches[0]).timestamp));
        out
    }

    /// Process one invocation's payloads: match, then per unit read → decide → commit, then
    /// publish → mark sent. `now_ms` is the engine clock (wall time in Lambda, event time in
    /// replay): `decided_at`, windows closing, TTLs.
    pub async fn process<S: StateStore, P: AlertSink>(
        &self,
        payloads: &[LogsPayload],
        store: &S,
        sink: &P,
        now_ms: i64,
    ) -> Outcome {
        let mut outcome = Outcome::default();
        let matched = self.match_payloads(payloads, &mut outcome.metrics);
        outcome.duplicate_payloads += matched.repeated;
        let mut committed: Vec<Decided1> = Vec::new();
        let mut fail_open: Vec<(String, Pending)> = Vec::new();
        let mut failed = vec![false; payloads.len()];
        let mut duplicates: HashSet<usize> = HashSet::new();
        let shared: Vec<Vec<SharedItem>> = matched
            .groups
            .iter()
            .map(|g| self.shared_items(payloads, g))
            .collect();
        for unit in plan_units(&matched, &shared) {
            match self
                .run_unit(payloads, &matched, &unit, store, now_ms, &mut outcome)
                .await
            {
                UnitResult::Committed(d) => {
                    duplicates.extend(d.duplicates.iter().copied());
                    self.count(payloads, &d, &mut outcome);
                    committed.extend(d.keys);
                }
                UnitResult::FailOpen(d) => {
                    self.count(payloads, &d, &mut outcome);
                    fail_open.extend(d.new);
                }
                UnitResult::GaveUp(reason) => {
                    for &p in &unit.payloads {
                        failed[p] = true;
                    }
                    outcome.errors.push(reason);
                }
            }
        }
        outcome.duplicate_payloads += duplicates.len();
        let refused = publish_and_mark(
            self,
            store,
            sink,
            committed,
            fail_open,
            now_ms,
            &mut outcome,
        )
        .await;
        for key in refused {
            for g in matched.groups.iter().filter(|g| g.key == key) {
                for &p in &g.payloads {
                    failed[p] = true;
                }
            }
        }
        outcome.failed_payloads = (0..payloads.len()).filter(|&i| failed[i]).collect();
        outcome
    }

    /// Metrics for what a unit made new: matches, the rules' own metrics, alerts.
    fn count(&self, payloads: &[LogsPayload], d: &UnitDecision, outcome: &mut Outcome) {
        for (ri, matches) in &d.counted {
            let rule = &self.rules.rules[*ri];
            outcome
                .metrics
                .add_matches(&rule.name, matches.len() as u64);
            if let Some(spec) = &rule.metric {
                for m in matches {
                    let ev = &payloads[m.payload()].log_events[m.event()];
                    let found = crate::pattern::Match {
                        extracted: m.extracted().clone(),
                    };
                    build::record_rule_metric(
                        &mut outcome.metrics,
                        spec,
                        &ev.message,
                        &found,
                        ev.timestamp,
                    );
                }
            }
        }
        for (ri, n) in &d.alerts {
            for _ in 0..*n {
                outcome.metrics.add_alert(&self.rules.rules[*ri].name);
            }
        }
        outcome.decided += d.new.len();
    }

    /// read → decide → commit for one unit, re-reading and re-deciding on conflicts.
    async fn run_unit<S: StateStore>(
        &self,
        payloads: &[LogsPayload],
        matched: &Matched,
        unit: &Unit,
        store: &S,
        now_ms: i64,
        outcome: &mut Outcome,
    ) -> UnitResult {
        for _ in 0..COMMIT_ATTEMPTS {
            let read = match read_unit(store, matched, unit).await {
                Ok(r) => r,
                Err(e) => {
                    outcome.metrics.state_failures += 1;
                    tracing::warn!(error = %e, "state read failed; deciding without it (fail open)");
                    let empty = UnitRead {
                        keys: vec![
                            Read {
                                version: None,
                                state: None
                            };
                            unit.parts.len()
                        ],
                        markers: HashMap::new(),
                        silences: HashMap::new(),
                        digests: HashMap::new(),
                    };
                    return UnitResult::FailOpen(
                        self.decide_unit(payloads, matched, unit, &empty, now_ms),
                    );
                }
            };
            let mut read = read;
            let mut decision = self.decide_unit(payloads, matched, unit, &read, now_ms);
            if !decision.unread.is_empty() {
                // A tick-like decision (a redelivery) reached a digest item the plan could not
                // know (the key's latest aggregation value): read it and decide again.
                let keys: Vec<String> = decision.unread.iter().map(|(_, _, k)| k.clone()).collect();
                match store.get_many(&keys).await {
                    Ok(records) => {
                        for ((ri, value, key), r) in decision.unread.iter().zip(&records) {
                            let parsed = parse_key_state(key, r);
                            read.digests
                                .insert(key.clone(), (*ri, value.clone(), parsed));
                        }
                        decision = self.decide_unit(payloads, matched, unit, &read, now_ms);
                    }
                    Err(e) => {
                        outcome.metrics.state_failures += 1;
                        tracing::warn!(error = %e, "state read failed; deciding without it (fail open)");
                        return UnitResult::FailOpen(decision);
                    }
                }
            }
            match commit_unit(store, &decision.writes).await {
                Ok(()) => return UnitResult::Committed(decision),
                Err(StateError::Conflict) => {
                    outcome.conflicts += 1;
                    tracing::info!("state changed concurrently; re-reading and re-deciding");
                }
                Err(e) => {
                    outcome.metrics.state_failures += 1;
                    tracing::warn!(error = %e, "state commit failed; publishing anyway (fail open)");
                    return UnitResult::FailOpen(decision);
                }
            }
        }
        UnitResult::GaveUp(format!(
            "state kept changing concurrently ({COMMIT_ATTEMPTS} attempts); the payloads will be retried"
        ))
    }

    /// The items a group's decision shares with other keys: its silence (`realert_key`), and
    /// (`aggregation_key` with `query_key`) the digest item of each aggregation value among its
    /// matches.
    fn shared_items(&self, payloads: &[LogsPayload], g: &Group) -> Vec<SharedItem> {
        let mut items: Vec<SharedItem> = self
            .silence_of(g.rule, g.query_key.as_deref())
            .into_iter()
            .map(SharedItem::Silence)
            .collect();
        let rule = &self.rules.rules[g.rule];
        if shares_digests(rule) {
            let mut seen: HashSet<String> = HashSet::new();
            for m in &g.matches {
                let value = policy::aggregation_value(rule, &match_view(payloads, m));
                if seen.insert(value.clone()) {
                    let key = key_state::digest_key(&rule.name, &value);
                    items.push(SharedItem::Digest {
                        rule: g.rule,
                        value,
                        key,
                    });
                }
            }
        }
        items
    }

    /// The store key of the silence rule `ri` shares for `query_key` (`realert_key`), if any.
    pub(crate) fn silence_of(&self, ri: usize, query_key: Option<&str>) -> Option<String> {
        let rule = &self.rules.rules[ri];
        rule.realert_key
            .as_deref()
            .map(|rk| silence_key(rk, query_key))
    }

    /// Step 3, **decide** every key of a unit over what was read. Pure. Parts sharing a silence
    /// decide in order over it (each sees the previous ones' changes); it is written once.
    fn decide_unit(
        &self,
        payloads: &[LogsPayload],
        matched: &Matched,
        unit: &Unit,
        read: &UnitRead,
        now_ms: i64,
    ) -> UnitDecision {
        let mut d = UnitDecision::default();
        let handled = |p: usize, key: &str| {
            read.markers.get(&p).is_some_and(|(_, m)| {
                m.complete || m.done.iter().any(|k| k == &ids::short_key(key))
            })
        };
        for &p in &unit.payloads {
            if read.markers.get(&p).is_some_and(|(_, m)| m.complete) {
                d.duplicates.push(p);
            }
        }
        let mut silences = read.silences.clone();
        // Digest items by rule, then aggregation value (as read, or fresh).
        let mut digests: HashMap<usize, policy::SharedDigests> = HashMap::new();
        for (ri, value, r) in read.digests.values() {
            let st = r.state.clone().unwrap_or_else(|| {
                KeyState::new_digest(&self.rules.rules[*ri].name, value, now_ms)
            });
            digests.entry(*ri).or_default().insert(value.clone(), st);
        }
        let digests_before = digests.clone();
        for (part, r) in unit.parts.iter().zip(&read.keys) {
            let g = &matched.groups[part.group];
            let rule = &self.rules.rules[g.rule];
            let new: Vec<MatchRef> = g
                .matches
                .iter()
                .filter(|m| part.payloads.contains(&m.payload()) && !handled(m.payload(), &g.key))
                .cloned()
                .collect();
            let views: Vec<types::MatchView> =
                new.iter().map(|m| match_view(payloads, m)).collect();
            let origin = new.last().map(|m| policy::Origin {
                log_group: &payloads[m.payload()].log_group,
                account: &payloads[m.payload()].owner,
            });
            let before = r.state.as_ref();
            let mut st = before
                .cloned()
                .unwrap_or_else(|| KeyState::new(&rule.name, g.query_key.as_deref(), now_ms));
            let old_outbox = st.outbox.len();
            let silence = self
                .silence_of(g.rule, g.query_key.as_deref())
                .map(|k| &mut silences.entry(k).or_insert((None, None)).1);
            let decided = policy::decide_with(
                &self.config,
                rule,
                &mut st,
                &views,
                origin,
                now_ms,
                policy::Shared {
                    silence,
                    digests: shares_digests(rule).then(|| digests.entry(g.rule).or_default()),
                },
            );
            d.new.extend(
                st.outbox[old_outbox..]
                    .iter()
                    .map(|p| (g.key.clone(), p.clone())),
            );
            if decided.alerts > 0 {
                d.alerts.push((g.rule, decided.alerts));
            }
            let changed = before != Some(&st)
                && !(before.is_none() && views.is_empty() && st.outbox.is_empty());
            let version = r.version.unwrap_or(0) + u64::from(changed);
            if changed {
                d.writes.push(key_write(
                    &g.key,
                    rule_due(Some(rule), &st),
                    &st,
                    r.version,
                    now_ms,
                ));
            }
            if !new.is_empty() {
                d.counted.push((g.rule, new));
            }
            d.keys.push(Decided1 {
                rule: Some(g.rule),
                key: g.key.clone(),
                version,
                state: st,
            });
        }
        // The digest items: written when changed (conditioned on the versions read), published
        // from like key items.
        let mut items: Vec<(usize, &KeyState)> = digests
            .iter()
            .flat_map(|(ri, m)| m.values().map(move |st| (*ri, st)))
            .collect();
        items.sort_by_key(|(_, st)| st.key());
        for (ri, st) in items {
            let key = st.key();
            let value = st.query_key.clone().unwrap_or_default();
            let Some((_, _, r)) = read.digests.get(&key) else {
                d.unread.push((ri, value, key));
                continue;
            };
            let before = &digests_before[&ri][&value];
            let old_outbox = before.outbox.len().min(st.outbox.len());
            d.new.extend(
                st.outbox[old_outbox..]
                    .iter()
                    .map(|p| (key.clone(), p.clone())),
            );
            let changed = before != st;
            if changed {
                let rule = &self.rules.rules[ri];
                d.writes.push(key_write(
                    &key,
                    rule_due(Some(rule), st),
                    st,
                    r.version,
                    now_ms,
                ));
            }
            if r.version.is_some() || changed {
                d.keys.push(Decided1 {
                    rule: Some(ri),
                    key,
                    version: r.version.unwrap_or(0) + u64::from(changed),
                    state: st.clone(),
                });
            }
        }
        // The shared silences the parts changed, conditioned on the versions read.
        let mut changed: Vec<(&String, &SilenceRead)> = silences
            .iter()
            .filter(|(k, now)| read.silences.get(*k).map_or(&None, |r| &r.1) != &now.1)
            .collect();
        changed.sort_by(|a, b| a.0.cmp(b.0));
        for (key, (version, silence)) in changed {
            let silence = silence
                .as_ref()
                .expect("a decision never removes a silence");
            d.writes.push(silence_write(key, silence, *version, now_ms));
        }
        // The markers of the unit's payloads, in the same commit.
        for &p in &unit.payloads {
            let (version, body) = read.markers.get(&p).cloned().unwrap_or_default();
            if body.complete && version.is_some() {
                continue;
            }
            let mut next = if version.is_some() {
                body.clone()
            } else {
                MarkerBody::default()
            };
            for part in unit.parts.iter().filter(|part| part.payloads.contains(&p)) {
                let short = ids::short_key(&matched.groups[part.group].key);
                if !next.done.contains(&short) {
                    next.done.push(short);
                }
            }
            let all: Vec<String> = matched
                .groups
                .iter()
                .filter(|g| g.payloads.contains(&p))
                .map(|g| ids::short_key(&g.key))
                .collect();
            next.complete = all.iter().all(|k| next.done.contains(k));
            if next.complete {
                next.done.clear();
            }
            if version.is_some() && next == body {
                continue;
            }
            let key = matched.markers[p]
                .clone()
                .expect("payloads in units have matches");
            let record = StateRecord {
                version: version.unwrap_or(0) + 1,
                expires_at: now_ms
                    .div_euclid(1000)
                    .saturating_add(BATCH_MARKER_TTL_SECS),
                body: serde_json::to_value(&next).expect("markers serialise"),
            };
            d.writes.push(Write::put(key, record, version));
        }
        d
    }
}

enum UnitResult {
    Committed(UnitDecision),
    FailOpen(UnitDecision),
    GaveUp(String),
}

/// Cut the groups into units of at most [`MAX_COMMIT_ITEMS`] items (key items + markers + the
/// items their keys share, `shared[group]`: a silence, digest items).
fn plan_units(matched: &Matched, shared: &[Vec<SharedItem>]) -> Vec<Unit> {
    let mut units = Vec::new();
    let mut cur = Unit::default();
    let items = |u: &Unit, gi: usize, g: &Group| {
        let new_payloads = g
            .payloads
            .iter()
            .filter(|p| !u.payloads.contains(p))
            .count();
        let new_shared = shared[gi].iter().filter(|k| !u.shared.contains(k)).count();
        u.parts.len() + u.payloads.len() + u.shared.len() + 1 + new_payloads + new_shared
    };
    for (gi, g) in matched.groups.iter().enumerate() {
        if items(&cur, gi, g) > MAX_COMMIT_ITEMS && !cur.parts.is_empty() {
            units.push(std::mem::take(&mut cur));
        }
        if items(&cur, gi, g) <= MAX_COMMIT_ITEMS {
            for &p in &g.payloads {
                if !cur.payloads.contains(&p) {
                    cur.payloads.push(p);
                }
            }
            for k in &shared[gi] {
                if !cur.shared.contains(k) {
                    cur.shared.push(k.clone());
                }
            }
            cur.parts.push(Part {
                group: gi,
                payloads: g.payloads.clone(),
            });
            continue;
        }
        // One key behind more payloads than a commit holds: one unit per slice of payloads (a
        // key whose shared items alone fill a commit is still one unit: see docs/log-filter.md).
        let own = &shared[gi];
        let room = MAX_COMMIT_ITEMS.saturating_sub(1 + own.len()).max(1);
        for slice in g.payloads.chunks(room) {
            units.push(Unit {
                parts: vec![Part {
                    group: gi,
                    payloads: slice.to_vec(),
                }],
                payloads: slice.to_vec(),
                shared: own.clone(),
            });
        }
    }
    if !cur.parts.is_empty() {
        units.push(cur);
    }
    units
}

/// Step 2, **read**: the unit's key items and markers, in one batch get.
async fn read_unit<S: StateStore>(
    store: &S,
    matched: &Matched,
    unit: &Unit,
) -> Result<UnitRead, StateError> {
    let mut keys: Vec<String> = unit
        .parts
        .iter()
        .map(|p| matched.groups[p.group].key.clone())
        .collect();
    keys.extend(unit.payloads.iter().map(|&p| {
        matched.markers[p]
            .clone()
            .expect("payloads in units have matches")
    }));
    keys.extend(unit.shared.iter().map(|i| i.key().to_string()));
    let records = store.get_many(&keys).await?;
    let (key_records, rest) = records.split_at(unit.parts.len());
    let (marker_records, shared_records) = rest.split_at(unit.payloads.len());
    Ok(UnitRead {
        keys: key_records.iter().zip(&keys).map(|(r, k)| parse_key_state(k, r)).collect(),
        markers: unit
            .payloads
            .iter()
            .zip(marker_records)
            .filter_map(|(&p, r)| {
                r.as_ref().map(|r| {
                    let body = serde_json::from_value(r.body.clone()).unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "unreadable batch marker; taking it as complete");
                        MarkerBody {
                            complete: true,
                            done: Vec::new(),
                        }
                    });
                    (p, (Some(r.version), body))
                })
            })
            .collect(),
        silences: unit
            .shared
            .iter()
            .zip(shared_records)
            .filter_map(|(item, r)| match item {
                SharedItem::Silence(k) => Some((k.clone(), parse_silence(k, r))),
                SharedItem::Digest { .. } => None,
            })
            .collect(),
        digests: unit
            .shared
            .iter()
            .zip(shared_records)
            .filter_map(|(item, r)| match item {
                SharedItem::Digest { rule, value, key } => {
                    Some((key.clone(), (*rule, value.clone(), parse_key_state(key, r))))
                }
                SharedItem::Silence(_) => None,
            })
            .collect(),
    })
}

/// Does `rule` keep its digests in digest items (`aggregation_key` with `query_key`)?
pub(crate) fn shares_digests(rule: &Rule) -> bool {
    rule.aggregation.is_some() && !rule.aggregation_key.is_empty()
}

/// A match as the rule types see it.
fn match_view<'a>(payloads: &'a [LogsPayload], m: &'a MatchRef) -> types::MatchView<'a> {
    let p = &payloads[m.payload()];
    let ev = &p.log_events[m.event()];
    types::MatchView {
        id: &ev.id,
        timestamp: ev.timestamp,
        log_group: &p.log_group,
        log_stream: &p.log_stream,
        message: &ev.message,
        extracted: m.extracted(),
    }
}

/// A shared silence as read: (version, body); unreadable: none open (the version kept for the
/// condition).
pub(crate) fn parse_silence(key: &str, r: &Option<StateRecord>) -> SilenceRead {
    match r {
        None => (None, None),
        Some(r) => match serde_json::from_value::<Silence>(r.body.clone()) {
            Ok(s) => (Some(r.version), Some(s)),
            Err(e) => {
                tracing::warn!(key, error = %e, "unreadable shared silence; taking it as none");
                (Some(r.version), None)
            }
        },
    }
}

/// The write of a shared silence (conditioned on the version read). It lives as long as its
/// backoff memory matters: a week past its end, as key items do.
pub(crate) fn silence_write(
    key: &str,
    silence: &Silence,
    read_version: Option<u64>,
    now_ms: i64,
) -> Write {
    let record = StateRecord {
        version: read_version.unwrap_or(0) + 1,
        expires_at: silence
            .until_ms
            .max(now_ms)
            .div_euclid(1000)
            .saturating_add(KEY_STATE_TTL_SECS),
        body: serde_json::to_value(silence).expect("silences serialise"),
    };
    Write::put(key, record, read_version)
}

fn parse_key_state(key: &str, r: &Option<StateRecord>) -> Read {
    match r {
        None => Read {
            version: None,
            state: None,
        },
        Some(r) => match serde_json::from_value::<KeyState>(r.body.clone()) {
            Ok(st) => Read {
                version: Some(r.version),
                state: Some(st),
            },
            Err(e) => {
                // Written by another version: started afresh, the version kept for the condition.
                tracing::warn!(key, error = %e, "unreadable key state; starting afresh");
                Read {
                    version: Some(r.version),
                    state: None,
                }
            }
        },
    }
}

/// When a key's state item must next be looked at: the policy's due time, or for a rule no longer
/// loaded, only its pending publications.
pub(crate) fn rule_due(rule: Option<&Rule>, st: &KeyState) -> Option<i64> {
    match rule {
        Some(r) => policy::next_due(r, st),
        None => st.outbox.iter().map(|p| p.alert.decided_at).min(),
    }
}

/// The write of a key's state item (conditioned on the version read).
pub(crate) fn key_write(
    key: &str,
    due: Option<i64>,
    st: &KeyState,
    read_version: Option<u64>,
    now_ms: i64,
) -> Write {
    let horizon = due.map_or(now_ms, |d| d.max(now_ms));
    let record = StateRecord {
        version: read_version.unwrap_or(0) + 1,
        expires_at: horizon.div_euclid(1000).saturating_add(KEY_STATE_TTL_SECS),
        body: serde_json::to_value(st).expect("key states serialise"),
    };
    Write::put(key, record, read_version).due_at(due)
}

/// Step 3, **commit**: every write of the unit, atomically.
async fn commit_unit<S: StateStore>(store: &S, writes: &[Write]) -> Result<(), StateError> {
    if writes.is_empty() {
        return Ok(());
    }
    store.commit(writes).await
}

/// The publication of an outbox entry (its body is the alert's JSON, as decided).
pub(crate) fn publication_of(p: &Pending) -> Publication {
    Publication {
        subject: p.subject.clone(),
        body: serde_json::to_string(&p.alert).expect("alerts serialise"),
        alert: p.alert.clone(),
        attributes: p.attributes.clone(),
    }
}

/// Steps 4 and 5, **publish** every outbox entry of the committed keys (and the fail-open
/// publications), then **mark sent** what the sink accepted. Returns the keys with a refused
/// publication.
pub(crate) async fn publish_and_mark<S: StateStore, P: AlertSink>(
    engine: &Engine,
    store: &S,
    sink: &P,
    committed: Vec<Decided1>,
    fail_open: Vec<(String, Pending)>,
    now_ms: i64,
    outcome: &mut Outcome,
) -> Vec<String> {
    let (publications, owners) = publish_outboxes(&committed, &fail_open);
    if publications.is_empty() {
        return Vec::new();
    }
    let results = sink.publish(&publications).await;
    let mut accepted: HashMap<String, HashSet<String>> = HashMap::new();
    let mut refused = Vec::new();
    for (i, (p, key)) in publications.iter().zip(owners).enumerate() {
        match results
            .get(i)
            .cloned()
            .unwrap_or_else(|| Err("the sink returned no result".to_string()))
        {
            Ok(()) => {
                outcome.published += 1;
                accepted
                    .entry(key)
                    .or_default()
                    .insert(p.alert.alert_id.clone());
            }
            Err(e) => {
                outcome.metrics.publish_failures += 1;
                outcome.pending += 1;
                outcome
                    .errors
                    .push(format!("rule {}: {e}", p.alert.rule.name));
                refused.push(key);
            }
        }
    }
    let fail_open_keys: HashSet<&str> = fail_open.iter().map(|(k, _)| k.as_str()).collect();
    accepted.retain(|k, _| !fail_open_keys.contains(k.as_str()));
    mark_sent(engine, store, committed, &accepted, now_ms, outcome).await;
    refused.sort();
    refused.dedup();
    refused
}

/// The publications of the committed outboxes, in order, and the key each belongs to.
fn publish_outboxes(
    committed: &[Decided1],
    fail_open: &[(String, Pending)],
) -> (Vec<Publication>, Vec<String>) {
    committed
        .iter()
        .flat_map(|k| k.state.outbox.iter().map(move |p| (k.key.as_str(), p)))
        .chain(fail_open.iter().map(|(k, p)| (k.as_str(), p)))
        .map(|(k, p)| (publication_of(p), k.to_string()))
        .unzip()
}

/// Attempts at marking one key's publications sent (then they are simply republished later).
const MARK_ATTEMPTS: usize = 3;

/// Step 5, **mark sent**: remove the accepted publications from their outboxes (conditional
/// commits; on a conflict the key is re-read and the same ids removed).
async fn mark_sent<S: StateStore>(
    engine: &Engine,
    store: &S,
    committed: Vec<Decided1>,
    accepted: &HashMap<String, HashSet<String>>,
    now_ms: i64,
    outcome: &mut Outcome,
) {
    let mut todo: Vec<Decided1> = committed
        .into_iter()
        .filter(|k| accepted.contains_key(&k.key))
        .collect();
    let rule_of = |k: &Decided1| k.rule.map(|i| &engine.rules.rules[i]);
    for attempt in 0..MARK_ATTEMPTS {
        let mut retry = Vec::new();
        // First all keys in as few commits as possible; after a conflict, one key per commit.
        let size = if attempt == 0 { MAX_COMMIT_ITEMS } else { 1 };
        for chunk in todo.chunks(size) {
            let mut writes = Vec::new();
            let mut states = Vec::new();
            for k in chunk {
                let mut st = k.state.clone();
                let sent = &accepted[&k.key];
                st.outbox.retain(|p| !sent.contains(&p.alert.alert_id));
                if st.outbox.len() == k.state.outbox.len() {
                    continue;
                }
                let version = (k.version > 0).then_some(k.version);
                writes.push(key_write(
                    &k.key,
                    rule_due(rule_of(k), &st),
                    &st,
                    version,
                    now_ms,
                ));
                states.push(k.clone());
            }
            match commit_unit(store, &writes).await {
                Ok(()) => {}
                Err(StateError::Conflict) => {
                    outcome.conflicts += 1;
                    retry.extend(states);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not mark publications sent; they will be republished (same alert_id)");
                }
            }
        }
        if retry.is_empty() {
            return;
        }
        // Re-read the conflicting keys and try them one by one.
        let keys: Vec<String> = retry.iter().map(|k| k.key.clone()).collect();
        let Ok(records) = store.get_many(&keys).await else {
            return;
        };
        todo = retry
            .into_iter()
            .zip(records)
            .filter_map(|(k, r)| {
                let read = parse_key_state(&k.key, &r);
                Some(Decided1 {
                    version: read.version?,
                    state: read.state?,
                    ..k
                })
            })
            .collect();
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// What a match's query key is resolved from.
struct KeyContext<'a, 'w, 'm> {
    payload: &'a LogsPayload,
    message: &'a str,
    m: &'a crate::pattern::Match,
    /// The rule set's JSON walk of the message, which may hold a part's value already.
    walked: &'a Walked<'w, 'm>,
}

/// Append a match's query key to `out`: its parts' values joined by `, ` (a value that cannot
/// be resolved is [`MISSING_VALUE`]). `slots[i]`: where the set's walk finds part `i`.
fn query_key_into(
    parts: &[KeyPart],
    slots: &[Option<ValueSlot>],
    c: &KeyContext,
    out: &mut String,
) {
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match part {
            KeyPart::LogGroup => out.push_str(&c.payload.log_group),
            KeyPart::LogStream => out.push_str(&c.payload.log_stream),
            KeyPart::Fingerprint => out.push_str(&crate::fingerprint::fingerprint(c.message)),
            KeyPart::Value(v) => {
                let served = slots[i].and_then(|slot| c.walked.value_into(slot, out));
                if !served.unwrap_or_else(|| v.resolve_into(c.message, c.m, out)) {
                    out.push_str(MISSING_VALUE);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::{LogEvent, MessageType};

    #[test]
    fn seen_ids_keep_each_id_once_in_any_order() {
        let ids = ["3", "5", "5", "9", "1", "5", "2", "1", "10"];
        let mut seen = SeenIds::default();
        let mut kept: Vec<&str> = Vec::new();
        for id in ids {
            if seen.first_time(id, &kept, |k| *k) {
                kept.push(id);
            }
        }
        assert_eq!(kept, ["3", "5", "9", "1", "2", "10"]);
    }

    fn payload(stream: &str, events: &[(&str, i64, &str)]) -> LogsPayload {
        LogsPayload {
            message_type: MessageType::Data,
            owner: "123456789012".into(),
            log_group: "/app".into(),
            log_stream: stream.into(),
            subscription_filters: vec![],
            policy_level: None,
            log_events: events
                .iter()
                .map(|&(id, timestamp, message)| LogEvent {
                    id: id.into(),
                    timestamp,
                    message: message.into(),
                })
                .collect(),
        }
    }

    #[test]
    fn overlapping_payloads_count_a_shared_event_once_per_group() {
        let rules = crate::rules::load(
            "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n  - name: by-code\n    filter_pattern: '{ $.level = \"ERROR\" }'\n    query_key: $.code\n",
            "rules.yaml",
        )
        .unwrap();
        let engine = Engine::new(rules, EngineConfig::new("us-east-1"));
        let a = r#"{"level":"ERROR","code":"a"}"#;
        let b = r#"{"level":"ERROR","code":"b"}"#;
        // The second payload repeats event 2 and goes back in time (ids stop ascending).
        let payloads = [
            payload("s1", &[("1", 10, a), ("2", 20, b), ("3", 30, a)]),
            payload("s2", &[("2", 20, b), ("0", 5, a), ("4", 40, "INFO")]),
        ];
        let mut metrics = InvocationMetrics::default();
        let matched = engine.match_payloads(&payloads, &mut metrics);
        assert_eq!(metrics.events_processed, 6);
        // (rule, query key, event ids, payloads) per group.
        type Summary<'a> = (usize, Option<&'a str>, Vec<&'a str>, Vec<usize>);
        let summary: Vec<Summary> = matched
            .groups
            .iter()
            .map(|g| {
                let ids = g
                    .matches
                    .iter()
                    .map(|m| payloads[m.payload()].log_events[m.event()].id.as_str())
                    .collect();
                (g.rule, g.query_key.as_deref(), ids, g.payloads.clone())
            })
            .collect();
        assert_eq!(
            summary,
            [
                (0, None, vec!["0", "1", "2", "3"], vec![0, 1]),
                (1, Some("a"), vec!["0", "1", "3"], vec![0, 1]),
                (1, Some("b"), vec!["2"], vec![0, 1]),
            ]
        );
        assert!(matched.markers.iter().all(Option::is_some));
    }
}
