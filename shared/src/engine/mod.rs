//! Batch evaluation: match → group per (rule, query key) → thresholds and suppression → alerts.
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
//! let outcome = logalert::state::block_on(engine.process(&[payload], &store, &sink, 1_700_000_000_000));
//! assert!(outcome.failed_payloads.is_empty());
//! let published: Vec<Publication> = sink.take();
//! assert_eq!(published[0].alert.count, 1);
//! assert_eq!(published[0].subject, "[ERROR] errors: 1 match in /app");
//! ```
//!
//! The same code runs in the Lambda function (DynamoDB state, SNS sink, wall clock) and in
//! `logalert replay` (memory state, printing sink, event time as the clock).
//!
//! ## Decisions and state
//!
//! One invocation is processed as **read → publish → commit** ([`Engine::process`]):
//!
//! 1. every event of every `DATA_MESSAGE` payload is matched against the enabled rules whose
//!    `log_groups` cover the payload's log group (`CONTROL_MESSAGE`s and ignored log groups are
//!    skipped), and matches are grouped per (rule, query key);
//! 2. a payload whose `batch#<hash of its event ids>` marker exists was fully handled before (a
//!    redelivery): its matches are dropped;
//! 3. per group, the suppression item `supp#<rule>#<key>` (last alert time, suppressed count, the
//!    hashed ids of recently handled matches) and, for frequency rules, the window item
//!    `freq#<rule>#<key>` (hashed id and time of recent matches) are read; matches already handled
//!    are dropped (so a retried invocation never counts or alerts twice); the decision is made;
//! 4. alerts are published through the [`AlertSink`];
//! 5. state is written for every group that did not alert or whose alert was published (optimistic
//!    concurrency, re-read and merge on conflict), then the payload markers for payloads whose
//!    alerts were all published.
//!
//! A group whose alert failed to publish writes no state and leaves its payloads unmarked, so a
//! retry decides again and alerts. If the state store fails, the engine alerts anyway (fail open),
//! counts `StateFailures` and goes on; a frequency rule then judges only the matches in hand.
//!
//! Known limit: two concurrent invocations deciding on the same (rule, key) at the same moment can
//! both alert (the decision is not a transaction); they cannot both count the same events.

mod build;
mod decide;
mod key_state;
pub mod types;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::alert::AlertMessage;
use crate::metrics::InvocationMetrics;
use crate::pattern::Extracted;
use crate::payload::LogsPayload;
use crate::rules::{LogGroupGlob, QueryKeyPart, Rule, RuleSet};
use crate::state::StateStore;

pub use build::MISSING_VALUE;
pub use key_state::{Incident, KEY_STATE_SCHEMA, KeyState, Pending, RealertWindow, key_state_key};

/// How long a `batch#` marker lives: longer than CloudWatch Logs' and Lambda's retry horizons.
pub const BATCH_MARKER_TTL_SECS: i64 = 2 * 86_400;

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

/// What happened to one invocation.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outcome {
    /// Alerts published.
    pub published: usize,
    /// Indices (into the payload slice) of payloads with an alert that failed to publish: the
    /// invocation must fail (direct) or report them as batch item failures (Kinesis).
    pub failed_payloads: Vec<usize>,
    /// Reasons for the failed publishes.
    pub errors: Vec<String>,
    /// Payloads skipped as redeliveries of fully handled ones.
    pub duplicate_payloads: usize,
    pub metrics: InvocationMetrics,
}

/// One match, pointing into the payloads.
#[derive(Debug, Clone)]
pub(crate) struct MatchRef {
    pub payload: usize,
    pub event: usize,
    pub extracted: Extracted,
}

/// Matches of one rule and query key.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub rule: usize,
    pub query_key: Option<String>,
    pub matches: Vec<MatchRef>,
}

/// The compiled rules plus deployment facts: the log-filter logic.
#[derive(Debug)]
pub struct Engine {
    rules: RuleSet,
    config: EngineConfig,
    /// Rule indices per log group, computed once per log group seen.
    by_group: Mutex<HashMap<String, std::sync::Arc<Vec<usize>>>>,
}

impl Engine {
    pub fn new(rules: RuleSet, config: EngineConfig) -> Engine {
        Engine {
            rules,
            config,
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

    fn rules_for(&self, log_group: &str) -> std::sync::Arc<Vec<usize>> {
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
        let list = std::sync::Arc::new(list);
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(log_group.to_string(), list.clone());
        list
    }

    /// Step 1: match every event and group the matches. Pure.
    pub(crate) fn evaluate(
        &self,
        payloads: &[LogsPayload],
        metrics: &mut InvocationMetrics,
    ) -> Vec<Group> {
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<(usize, Option<String>), usize> = HashMap::new();
        for (pi, payload) in payloads.iter().enumerate() {
            if payload.is_control() {
                continue;
            }
            let rules = self.rules_for(&payload.log_group);
            if self.is_ignored(&payload.log_group) {
                continue;
            }
            metrics.events_processed += payload.log_events.len() as u64;
            if rules.is_empty() {
                continue;
            }
            for (ei, event) in payload.log_events.iter().enumerate() {
                for &ri in rules.iter() {
                    let rule = &self.rules.rules[ri];
                    let Some(m) = rule.filter_pattern.matches(&event.message) else {
                        continue;
                    };
                    let query_key = query_key_of(rule, payload, &event.message, &m);
                    if let Some(spec) = &rule.metric {
                        build::record_rule_metric(
                            metrics,
                            spec,
                            &event.message,
                            &m,
                            event.timestamp,
                        );
                    }
                    let gi = *index.entry((ri, query_key.clone())).or_insert_with(|| {
                        groups.push(Group {
                            rule: ri,
                            query_key,
                            matches: Vec::new(),
                        });
                        groups.len() - 1
                    });
                    groups[gi].matches.push(MatchRef {
                        payload: pi,
                        event: ei,
                        extracted: m.extracted,
                    });
                }
            }
        }
        // Deterministic order: rule order, then the time of each group's first match.
        for g in &mut groups {
            g.matches.sort_by(|a, b| {
                let (ea, eb) = (
                    &payloads[a.payload].log_events[a.event],
                    &payloads[b.payload].log_events[b.event],
                );
                (ea.timestamp, &ea.id).cmp(&(eb.timestamp, &eb.id))
            });
        }
        groups.sort_by_key(|g| {
            let m = &g.matches[0];
            (g.rule, payloads[m.payload].log_events[m.event].timestamp)
        });
        groups
    }

    /// Process one invocation's payloads: match, decide against `store`, publish to `sink`, commit
    /// state. `now_ms` is the clock (wall time in Lambda, event time in replay) used for TTLs.
    pub async fn process<S: StateStore, P: AlertSink>(
        &self,
        payloads: &[LogsPayload],
        store: &S,
        sink: &P,
        now_ms: i64,
    ) -> Outcome {
        let mut outcome = Outcome::default();
        let mut groups = self.evaluate(payloads, &mut outcome.metrics);

        // Redeliveries: drop payloads already fully handled.
        let mut involved: Vec<usize> = groups
            .iter()
            .flat_map(|g| g.matches.iter().map(|m| m.payload))
            .collect();
        involved.sort_unstable();
        involved.dedup();
        let mut markers: HashMap<usize, String> = HashMap::new();
        let mut duplicate = vec![false; payloads.len()];
        for &pi in &involved {
            let key = batch_marker_key(&payloads[pi]);
            match store.get(&key).await {
                Ok(Some(_)) => {
                    duplicate[pi] = true;
                    outcome.duplicate_payloads += 1;
                    tracing::info!(
                        marker = %key,
                        events = payloads[pi].log_events.len(),
                        log_group = %payloads[pi].log_group,
                        "skipping a redelivered payload"
                    );
                }
                Ok(None) => {}
                Err(e) => {
                    outcome.metrics.state_failures += 1;
                    tracing::warn!(marker = %key, error = %e, "state read failed (continuing)");
                }
            }
            markers.insert(pi, key);
        }
        if duplicate.iter().any(|d| *d) {
            for g in &mut groups {
                g.matches.retain(|m| !duplicate[m.payload]);
            }
            groups.retain(|g| !g.matches.is_empty());
        }
        for g in &groups {
            outcome
                .metrics
                .add_matches(&self.rules.rules[g.rule].name, g.matches.len() as u64);
        }

        // Decide.
        let mut decisions = Vec::with_capacity(groups.len());
        for g in groups {
            let d = decide::decide(self, payloads, g, store, now_ms, &mut outcome.metrics).await;
            decisions.push(d);
        }

        // Publish.
        let publications: Vec<Publication> = decisions
            .iter()
            .filter_map(|d| d.publication.clone())
            .collect();
        let results = if publications.is_empty() {
            Vec::new()
        } else {
            sink.publish(&publications).await
        };
        let mut results = results.into_iter();
        let mut failed = vec![false; payloads.len()];
        for d in &mut decisions {
            if d.publication.is_none() {
                continue;
            }
            match results
                .next()
                .unwrap_or_else(|| Err("the sink returned no result".to_string()))
            {
                Ok(()) => {
                    outcome.published += 1;
                    outcome
                        .metrics
                        .add_alert(&self.rules.rules[d.group.rule].name);
                }
                Err(e) => {
                    outcome.metrics.publish_failures += 1;
                    outcome
                        .errors
                        .push(format!("rule {}: {e}", self.rules.rules[d.group.rule].name));
                    d.publish_failed = true;
                    for m in &d.group.matches {
                        failed[m.payload] = true;
                    }
                }
            }
        }

        // Commit.
        for d in &decisions {
            if !d.publish_failed {
                decide::commit(self, d, store, now_ms, &mut outcome.metrics).await;
            }
        }
        for &pi in &involved {
            if duplicate[pi] || failed[pi] {
                continue;
            }
            let key = &markers[&pi];
            let rec = crate::state::StateRecord {
                version: 1,
                expires_at: now_ms.div_euclid(1000) + BATCH_MARKER_TTL_SECS,
                body: serde_json::json!({"events": payloads[pi].log_events.len()}),
            };
            match store.put(key, &rec, None).await {
                Ok(()) | Err(crate::state::StateError::Conflict) => {}
                Err(e) => {
                    outcome.metrics.state_failures += 1;
                    tracing::warn!(marker = %key, error = %e, "state write failed");
                }
            }
        }
        outcome.failed_payloads = (0..payloads.len()).filter(|&i| failed[i]).collect();
        outcome
    }
}

/// `batch#<sha256(log group, log stream, event ids)>`.
pub fn batch_marker_key(payload: &LogsPayload) -> String {
    let mut h = Sha256::new();
    h.update(payload.log_group.as_bytes());
    h.update([0]);
    h.update(payload.log_stream.as_bytes());
    for e in &payload.log_events {
        h.update([0]);
        h.update(e.id.as_bytes());
    }
    format!("batch#{}", hex(&h.finalize()[..16]))
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

fn query_key_of(
    rule: &Rule,
    payload: &LogsPayload,
    message: &str,
    m: &crate::pattern::Match,
) -> Option<String> {
    if rule.query_key.is_empty() {
        return None;
    }
    let parts: Vec<String> = rule
        .query_key
        .iter()
        .map(|(_, part)| match part {
            QueryKeyPart::LogGroup => payload.log_group.clone(),
            QueryKeyPart::LogStream => payload.log_stream.clone(),
            QueryKeyPart::Value(v) => v
                .resolve(message, m)
                .unwrap_or_else(|| MISSING_VALUE.to_string()),
        })
        .collect();
    Some(parts.join(", "))
}
