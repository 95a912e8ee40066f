//! Building the alert message and its SNS publication, within SNS's limits.

use super::types::MatchView;
use super::{EngineConfig, Publication};
use crate::alert::{
    ALERT_VERSION, AlertMessage, AlertRule, Digest, KIND_LOG_MATCH, KIND_RESOLVED, KIND_SUMMARY,
    MAX_SAMPLE_MESSAGE_BYTES, Observation, SNS_MAX_MESSAGE_BYTES, Sample, TopCount,
    sanitize_subject, truncate_utf8,
};
use crate::metrics::InvocationMetrics;
use crate::pattern::Match;
use crate::render::text::publication::redact_alert;
use crate::rules::template::{self, TemplateVars};
use crate::rules::{MetricSpec, Rule};

/// Stands for an absent query-key part or metric dimension value.
pub const MISSING_VALUE: &str = "<missing>";

/// Room left under SNS's limit for the SNS request's own overhead.
const SIZE_MARGIN: usize = 1024;

/// Most bytes one publication's body may take: SNS's limit, and small enough that the outbox of a
/// state item (at most `MAX_OUTBOX_PENDING` of them, plus the window's samples and the type's
/// state) stays under DynamoDB's 400 KB item limit.
pub const PUBLICATION_BUDGET: usize = if SNS_MAX_MESSAGE_BYTES < 64 * 1024 {
    SNS_MAX_MESSAGE_BYTES
} else {
    64 * 1024
};

/// Longest rendered `alert_text` carried in the message.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

pub(crate) struct Counts {
    pub count: u64,
    pub suppressed: u64,
    pub first: i64,
    pub last: i64,
}

pub(crate) fn record_rule_metric(
    metrics: &mut InvocationMetrics,
    spec: &MetricSpec,
    message: &str,
    m: &Match,
    timestamp: i64,
) {
    let Some(value) = spec
        .value
        .resolve(message, m)
        .and_then(|v| v.trim().parse::<f64>().ok())
    else {
        return;
    };
    if !value.is_finite() {
        return;
    }
    let dims = spec
        .dimensions
        .iter()
        .map(|(name, r)| {
            let mut v = r
                .resolve(message, m)
                .unwrap_or_else(|| MISSING_VALUE.to_string());
            truncate_utf8(&mut v, 255);
            (name.clone(), v)
        })
        .collect();
    metrics.add_rule_metric(&spec.name, &spec.unit, dims, timestamp, value);
}

fn default_subject(rule: &Rule, d: &Draft) -> String {
    let key = d.query_key.map(|k| format!(" [{k}]")).unwrap_or_default();
    let severity = rule.severity.as_str().to_uppercase();
    let log_group = d.log_group;
    let plural = |n: u64| if n == 1 { "match" } else { "matches" };
    match d.kind {
        KIND_SUMMARY => format!(
            "[{severity}] {}{key}: {} more {} suppressed in {log_group}",
            rule.name,
            d.counts.suppressed,
            plural(d.counts.suppressed)
        ),
        KIND_RESOLVED => format!("[RESOLVED] {}{key}: quiet in {log_group}", rule.name),
        _ if d.digest.is_some() => format!(
            "[{severity}] {}{key}: digest of {} {} in {log_group}",
            rule.name,
            d.counts.count,
            plural(d.counts.count)
        ),
        _ => format!(
            "[{severity}] {}{key}: {} {} in {log_group}",
            rule.name,
            d.counts.count,
            plural(d.counts.count)
        ),
    }
}

/// Everything a publication is built from (a decision's output, before SNS's limits).
pub(crate) struct Draft<'a> {
    pub kind: &'static str,
    pub query_key: Option<&'a str>,
    pub log_group: &'a str,
    pub account: &'a str,
    pub counts: Counts,
    pub samples: Vec<Sample>,
    /// Sample messages were cut.
    pub truncated: bool,
    /// The full message of the first sample (templates read its JSON fields); log-match only.
    pub template_message: Option<&'a str>,
    pub observation: Option<Observation>,
    pub alert_id: String,
    pub incident_id: String,
    pub decided_at: i64,
    pub incident_opened_at: Option<i64>,
    pub incident_total: Option<u64>,
    /// `aggregation`: the digest this publication is.
    pub digest: Option<Digest>,
    pub top_counts: Vec<TopCount>,
}

/// Longest `include` value carried with a sample, in bytes.
pub const MAX_INCLUDE_VALUE_BYTES: usize = 1024;

/// A sample of a match, its message cut to `max_bytes` (and whether it was), with the rule's
/// `include` values.
pub(crate) fn sample(rule: &Rule, m: &MatchView, max_bytes: usize) -> (Sample, bool) {
    let mut message = m.message.to_string();
    let mut cut = truncate_utf8(&mut message, max_bytes);
    let fields = rule
        .include
        .iter()
        .map(|(written, part)| {
            let mut v = crate::engine::types::select::Selector::from(part)
                .get(m)
                .unwrap_or_else(|| rule.alert_missing_value.clone());
            cut |= truncate_utf8(&mut v, MAX_INCLUDE_VALUE_BYTES);
            (written.clone(), serde_json::Value::from(v))
        })
        .collect();
    let sample = Sample {
        id: m.id.to_string(),
        timestamp: m.timestamp,
        log_stream: m.log_stream.to_string(),
        message,
        extracted: m
            .extracted
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
            .collect(),
        fields,
    };
    (sample, cut)
}

/// Render the rule's templates (log-match alerts only: summaries and resolutions carry the
/// engine's own subject, since a template written for an alert would misreport them).
fn templates(config: &EngineConfig, rule: &Rule, d: &Draft) -> (Option<String>, Option<String>) {
    let (Some(first), Some(message)) = (d.samples.first(), d.template_message) else {
        return (None, None);
    };
    if d.kind != KIND_LOG_MATCH {
        return (None, None);
    }
    let links = config.links.map_or_else(Vec::new, |f| {
        f(
            &config.region,
            d.log_group,
            &first.log_stream,
            d.counts.first,
            d.counts.last,
            rule.filter_pattern.source(),
        )
    });
    let vars = TemplateVars {
        rule_name: &rule.name,
        rule_type: rule.kind.as_str(),
        severity: rule.severity,
        description: rule.description.as_deref(),
        count: d.counts.count,
        suppressed: d.counts.suppressed,
        log_group: d.log_group,
        log_stream: &first.log_stream,
        timestamp_ms: first.timestamp,
        message,
        query_key: d.query_key,
        links,
    };
    (
        rule.alert_subject
            .as_deref()
            .map(|t| template::render(t, &vars)),
        rule.alert_text
            .as_deref()
            .map(|t| template::render(t, &vars)),
    )
}

pub(crate) fn publication(config: &EngineConfig, rule: &Rule, d: Draft) -> Publication {
    let mut truncated = d.truncated;
    let (subject_tpl, mut text) = templates(config, rule, &d);
    if let Some(t) = &mut text {
        truncated |= truncate_utf8(t, MAX_TEXT_BYTES);
    }
    // Redacted before it is sanitised (control characters → spaces, cut to 99 characters), which
    // could otherwise split a secret from its key (security, issue 11).
    let subject = sanitize_subject(
        &config.redactor.redact(
            &subject_tpl
                .clone()
                .unwrap_or_else(|| default_subject(rule, &d)),
        ),
    );
    let log_group = d.log_group;
    let mut alert = AlertMessage {
        version: ALERT_VERSION,
        kind: d.kind.to_string(),
        rule: AlertRule {
            name: rule.name.clone(),
            rule_type: rule.kind.as_str().to_string(),
            severity: rule.severity,
            description: rule.description.clone(),
            filter_pattern: Some(rule.filter_pattern.source().to_string()),
        },
        account: d.account.to_string(),
        region: config.region.clone(),
        log_group: log_group.to_string(),
        query_key: d.query_key.map(str::to_string),
        count: d.counts.count,
        suppressed: d.counts.suppressed,
        first_timestamp: d.counts.first,
        last_timestamp: d.counts.last,
        samples: d.samples,
        truncated,
        channel: rule.channel.clone(),
        mention: rule.mention.clone(),
        // As written (Korean, emoji…): only the SNS `Subject` attribute is ASCII-sanitised.
        subject: subject_tpl,
        text,
        alert_id: d.alert_id,
        incident_id: d.incident_id,
        decided_at: d.decided_at,
        observation: d.observation,
        incident_opened_at: d.incident_opened_at,
        incident_total: d.incident_total,
        digest: d.digest,
        top_counts: d.top_counts,
    };
    // Every SNS subscriber gets redacted samples, text and subject (security, issue 11).
    let subject = redact_alert(&config.redactor, &mut alert, &subject);
    // SNS rejects empty attribute values; every value here is non-empty by construction except a
    // log group name from a malformed payload.
    let non_empty = |v: &str| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.to_string()
        }
    };
    let attributes = vec![
        ("severity".to_string(), rule.severity.as_str().to_string()),
        ("rule".to_string(), rule.name.clone()),
        ("log_group".to_string(), non_empty(log_group)),
        ("channel".to_string(), rule.channel.clone()),
    ];
    let overhead = subject.len()
        + attributes
            .iter()
            .map(|(k, v)| k.len() + v.len() + "String".len())
            .sum::<usize>()
        + SIZE_MARGIN;
    let (alert, body) = fit(alert, PUBLICATION_BUDGET.saturating_sub(overhead));
    Publication {
        subject,
        alert,
        body,
        attributes,
    }
}

/// Serialise `alert`, shrinking it until the body is at most `budget` bytes: first by cutting
/// sample messages shorter (halving down to 256 bytes), then by dropping samples from the end,
/// then by cutting the rendered text. Sets `truncated` when anything was cut.
pub(crate) fn fit(mut alert: AlertMessage, budget: usize) -> (AlertMessage, String) {
    let mut body = serde_json::to_string(&alert).expect("alert serialises");
    if body.len() <= budget {
        return (alert, body);
    }
    alert.truncated = true;
    // An observation naming a huge log value (new_term's term, change's old → new) is cut first:
    // the figures are not worth more than the samples.
    if let Some(o) = alert.observation.as_mut().filter(|o| {
        o.text.len() > 1024 || serde_json::to_string(&o.details).map_or(0, |d| d.len()) > 4096
    }) {
        truncate_utf8(&mut o.text, 1024);
        o.details.clear();
    }
    let mut cap = MAX_SAMPLE_MESSAGE_BYTES / 2;
    loop {
        for s in &mut alert.samples {
            truncate_utf8(&mut s.message, cap);
            // Extracted and `include` values alike (ten 1 KiB values of control characters are
            // 60 KiB of JSON: uncut, no sample would fit).
            for v in s.extracted.values_mut().chain(s.fields.values_mut()) {
                if let serde_json::Value::String(x) = v {
                    truncate_utf8(x, cap);
                }
            }
        }
        body = serde_json::to_string(&alert).expect("alert serialises");
        if body.len() <= budget || cap <= 256 {
            break;
        }
        cap /= 2;
    }
    while body.len() > budget && !alert.samples.is_empty() {
        alert.samples.pop();
        body = serde_json::to_string(&alert).expect("alert serialises");
    }
    // Then the digest's table and the top counts, the smallest rows first (their counts move to
    // `other`, so the figures still add up).
    while body.len() > budget && shed_row(&mut alert) {
        body = serde_json::to_string(&alert).expect("alert serialises");
    }
    if body.len() > budget {
        if let Some(t) = &mut alert.text {
            truncate_utf8(t, 1024);
        }
        if let Some(d) = &mut alert.rule.description {
            truncate_utf8(d, 1024);
        }
        if let Some(q) = &mut alert.query_key {
            truncate_utf8(q, 1024);
        }
        // The observation names log values (new_term's term, change's old → new): its line is
        // cut and its figures dropped.
        if let Some(o) = &mut alert.observation {
            truncate_utf8(&mut o.text, 1024);
            o.details.clear();
        }
        body = serde_json::to_string(&alert).expect("alert serialises");
    }
    (alert, body)
}

/// Drop the last (smallest) row of the summary table, else of the longest top-count list; false
/// when none is left.
fn shed_row(alert: &mut AlertMessage) -> bool {
    if let Some(t) = alert.digest.as_mut().and_then(|d| d.table.as_mut())
        && let Some(row) = t.rows.pop()
    {
        t.other_rows = t.other_rows.saturating_add(1);
        t.other_count = t.other_count.saturating_add(row.count);
        return true;
    }
    if let Some(top) = alert
        .top_counts
        .iter_mut()
        .filter(|t| !t.values.is_empty())
        .max_by_key(|t| t.values.len())
        && let Some(v) = top.values.pop()
    {
        top.other_count = top.other_count.saturating_add(v.count);
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Mention, Severity};

    fn alert_with(samples: usize, bytes: usize) -> AlertMessage {
        AlertMessage {
            version: 1,
            kind: "log-match".into(),
            rule: AlertRule {
                name: "r".into(),
                rule_type: "any".into(),
                severity: Severity::Error,
                description: None,
                filter_pattern: None,
            },
            account: "1".into(),
            region: "us-east-1".into(),
            log_group: "/g".into(),
            query_key: None,
            count: samples as u64,
            suppressed: 0,
            first_timestamp: 0,
            last_timestamp: 0,
            samples: (0..samples)
                .map(|i| Sample {
                    id: i.to_string(),
                    timestamp: 0,
                    log_stream: "s".into(),
                    message: "é".repeat(bytes / 2),
                    extracted: Default::default(),
                    fields: Default::default(),
                })
                .collect(),
            truncated: false,
            channel: "default".into(),
            mention: vec![Mention::Here],
            subject: None,
            text: Some("t".repeat(100_000)),
            alert_id: String::new(),
            incident_id: String::new(),
            decided_at: 0,
            observation: None,
            incident_opened_at: None,
            incident_total: None,
            digest: None,
            top_counts: Vec::new(),
        }
    }

    #[test]
    fn include_values_and_the_observation_are_cut_too() {
        let mut a = alert_with(4, 100);
        a.text = None;
        for s in &mut a.samples {
            for i in 0..10 {
                s.fields
                    .insert(format!("$.i{i}"), "\u{1}".repeat(1_024).into());
            }
        }
        a.observation = Some(Observation {
            text: format!("new errorCode {}", "x".repeat(100_000)),
            sparkline: None,
            details: [("term".to_string(), "x".repeat(100_000).into())]
                .into_iter()
                .collect(),
        });
        // Four samples of ten 256-byte values of control characters: 4 × 15 KiB of JSON.
        let (a, body) = fit(a, 80_000);
        assert!(body.len() <= 80_000, "{}", body.len());
        assert_eq!(a.samples.len(), 4, "cut values, samples kept");
        assert!(a.samples[0].fields["$.i0"].as_str().unwrap().len() <= 256);
        let o = a.observation.unwrap();
        assert!(o.text.starts_with("new errorCode x") && o.text.len() <= 1024);
        assert!(o.details.is_empty());
    }

    #[test]
    fn fits_under_budget_by_cutting_messages_then_samples() {
        let (a, body) = fit(alert_with(3, 100), 200_000);
        assert!(!a.truncated, "small alerts are untouched");
        assert_eq!(a.samples[0].message.len(), 100);
        assert!(body.len() > 100_000);

        let (a, body) = fit(alert_with(1, 100), 10_000);
        assert!(
            a.truncated && body.len() <= 10_000,
            "a huge text is cut last"
        );
        assert_eq!(a.samples.len(), 0);

        let (a, body) = fit(alert_with(100, 8000), 200_000);
        assert!(a.truncated);
        assert!(body.len() <= 200_000, "{}", body.len());
        assert_eq!(a.samples.len(), 100, "cutting messages was enough");
        assert!(a.samples[0].message.len() < 8000);

        let (a, body) = fit(alert_with(100, 8000), 110_000);
        assert!(body.len() <= 110_000, "{}", body.len());
        assert!(a.samples.len() < 100);
        assert_eq!(serde_json::from_str::<AlertMessage>(&body).unwrap(), a);
    }
}
