//! PagerDuty Events API v2 (`POST https://events.pagerduty.com/v2/enqueue`): a `trigger` per alert,
//! summary and alarm, de-duplicated on `dedup_key` = the incident id, and a `resolve` with the same key
//! when the incident resolves (or the alarm returns to OK).
//!
//! ```
//! use logalert::render::pagerduty;
//! use logalert::slack::{Incoming, RenderOptions};
//! let alert = r#"{"version":1,"kind":"resolved","alert_id":"a-9","incident_id":"inc-1",
//!   "rule":{"name":"payments","type":"any","severity":"critical","description":null},
//!   "account":"123456789012","region":"us-east-1","log_group":"/app","query_key":null,
//!   "count":0,"suppressed":0,"first_timestamp":1700000000000,"last_timestamp":1700000000000,
//!   "samples":[],"truncated":false,"channel":"default","mention":[]}"#;
//! let event = pagerduty::render(&Incoming::classify(alert), None, None, "R0UTINGKEY", &RenderOptions::default());
//! assert_eq!(event["event_action"], "resolve");
//! assert_eq!(event["dedup_key"], "inc-1");
//! ```
//!
//! `summary` is at most 1,024 characters (PagerDuty's limit), `severity` one of `critical`, `error`,
//! `warning`, `info`; `custom_details` carries the counts, the incident and the samples (redacted,
//! control characters removed, each cut to [`SAMPLE_MAX`]); `links` point to the CloudWatch console.
//! PagerDuty shows these as plain text, so no escaping is needed beyond that; the whole event stays
//! under [`MAX_BYTES`] (PagerDuty accepts 512 KB).

use serde_json::{Map, Value, json};

use crate::alarm::{AlarmEnrichment, AlarmNotification, AlarmState};
use crate::alert::{AlertMessage, Severity};
use crate::links::{self, LogEventsLink};
use crate::render::teams::{alarm_label, cut};
use crate::render::view::{AlertView, Stage};
use crate::slack::card::{
    alarm_facts, alarm_link, insights_link, log_events_link, readable, readable_code,
};
use crate::slack::{Incoming, RenderOptions};

/// PagerDuty's limit on `payload.summary`, in characters.
pub const SUMMARY_MAX: usize = 1_024;
/// Longest sample message in `custom_details`, in characters.
pub const SAMPLE_MAX: usize = 2_000;
/// The largest serialised event this renderer produces.
pub const MAX_BYTES: usize = 500 * 1024;
/// `payload.source` / `component` / `group` / `class`: PagerDuty truncates long ones; keep them short.
const SHORT_MAX: usize = 255;

/// Render a message as a PagerDuty event for the integration whose routing key is `routing_key`.
pub fn render(
    incoming: &Incoming,
    subject: Option<&str>,
    enrichment: Option<&AlarmEnrichment>,
    routing_key: &str,
    opts: &RenderOptions,
) -> Value {
    let mut event = match incoming {
        Incoming::Alert(alert) => alert_event(alert, opts),
        Incoming::Alarm(alarm) => alarm_event(alarm, enrichment, opts),
        Incoming::Json { .. } | Incoming::Text(_) => other_event(subject, incoming, opts),
    };
    event.insert("routing_key".into(), json!(routing_key));
    let mut event = Value::Object(event);
    // Keep under the size limit: drop samples from the end, then the details.
    let mut cleared = false;
    while event.to_string().len() > MAX_BYTES && !cleared {
        let Some(details) = event
            .pointer_mut("/payload/custom_details")
            .and_then(Value::as_object_mut)
        else {
            break;
        };
        let popped = details
            .get_mut("samples")
            .and_then(Value::as_array_mut)
            .and_then(|s| s.pop())
            .is_some();
        if !popped {
            details.clear();
            details.insert(
                "note".into(),
                json!("details dropped to fit PagerDuty's size limit"),
            );
            cleared = true;
        }
    }
    event
}

/// The event's `dedup_key` for an alert: its incident id (so every publication of one incident —
/// alerts, summaries, the resolution — is one PagerDuty alert), else its alert id.
pub fn dedup_key(alert: &AlertMessage) -> Option<String> {
    [&alert.incident_id, &alert.alert_id]
        .into_iter()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .map(|s| cut(s, 255))
}

/// logalert severity → PagerDuty severity (the same four words).
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn one_line(raw: &str, opts: &RenderOptions, max: usize) -> String {
    cut(&readable(raw, opts).replace(['\n', '\r', '\t'], " "), max)
}

fn link(href: String, text: &str) -> Option<Value> {
    href.starts_with("https://")
        .then(|| json!({"href": href, "text": text}))
}

fn alert_event(alert: &AlertMessage, opts: &RenderOptions) -> Map<String, Value> {
    let view = AlertView::of(alert);
    let mut event = Map::new();
    if let Some(key) = dedup_key(alert) {
        event.insert("dedup_key".into(), json!(key));
    }
    if view.stage == Stage::Resolved {
        // A resolve needs only the key; PagerDuty ignores a payload on resolve.
        event.insert("event_action".into(), json!("resolve"));
        return event;
    }
    event.insert("event_action".into(), json!("trigger"));
    let summary = format!(
        "[{}] {}: {} in {}",
        view.state_label(),
        readable(view.title_raw(), opts).replace(['\n', '\r', '\t'], " "),
        view.headline(),
        readable(&alert.log_group, opts),
    );
    let mut details = Map::new();
    details.insert(
        "rule".into(),
        json!(one_line(&alert.rule.name, opts, SHORT_MAX)),
    );
    details.insert("kind".into(), json!(alert.kind));
    details.insert("stage".into(), json!(view.stage.as_str()));
    details.insert("count".into(), json!(alert.count));
    details.insert("suppressed".into(), json!(alert.suppressed));
    details.insert(
        "log_group".into(),
        json!(one_line(&alert.log_group, opts, 512)),
    );
    if let Some(qk) = &alert.query_key {
        details.insert("query_key".into(), json!(one_line(qk, opts, 512)));
    }
    if let Some(o) = &alert.observation {
        details.insert("observation".into(), json!(one_line(&o.text, opts, 500)));
    }
    if let Some(line) = view.incident_line() {
        details.insert("incident".into(), json!(line));
    }
    let clean = |v: &str| one_line(v, opts, 128);
    if let Some(table) = crate::render::view::summary_table_text(alert, clean, 60) {
        details.insert("summary_table".into(), json!(cut(&table, 1_500)));
    }
    for (key, items, other) in crate::render::view::top_count_items(alert, clean) {
        let mut text = items.join(", ");
        if other > 0 {
            text.push_str(&format!(", {other} other"));
        }
        details.insert(format!("top {key}"), json!(cut(&text, 500)));
    }
    if let Some(t) = alert.incident_total {
        details.insert("incident_total".into(), json!(t));
    }
    if !alert.alert_id.is_empty() {
        details.insert("alert_id".into(), json!(cut(&alert.alert_id, 255)));
    }
    if let Some(d) = alert
        .rule
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        details.insert("description".into(), json!(cut(&readable(d, opts), 1_500)));
    }
    if let Some(t) = alert.text.as_deref().filter(|t| !t.trim().is_empty()) {
        details.insert("text".into(), json!(cut(&readable(t, opts), 1_500)));
    }
    let samples: Vec<Value> = alert
        .samples
        .iter()
        .take(opts.max_samples)
        .map(|s| {
            let mut v = json!({
                "timestamp": links::iso_millis(s.timestamp),
                "log_stream": one_line(&s.log_stream, opts, 512),
                "message": cut(&readable_code(&s.message, opts, opts.sample_max_lines), SAMPLE_MAX),
            });
            // `include`: the rule's fields of this event.
            if !s.fields.is_empty() {
                v["fields"] = included(s, |x| one_line(x, opts, 200)).into();
            }
            v
        })
        .collect();
    details.insert("samples".into(), Value::Array(samples));
    if alert.truncated {
        details.insert("truncated".into(), json!(true));
    }

    let pad = opts.link_padding_ms;
    let (first, last) = (
        alert.first_timestamp.min(alert.last_timestamp),
        alert.first_timestamp.max(alert.last_timestamp),
    );
    let links: Vec<Value> = [
        link(
            log_events_link(LogEventsLink {
                region: &alert.region,
                log_group: &alert.log_group,
                log_stream: None,
                start_ms: first.saturating_sub(pad),
                end_ms: last.saturating_add(pad),
                filter_pattern: alert.rule.filter_pattern.as_deref(),
            }),
            "Log events",
        ),
        link(
            insights_link(
                &alert.region,
                &[alert.log_group.as_str()],
                first.saturating_sub(pad),
                last.saturating_add(pad),
            ),
            "Logs Insights",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    event.insert(
        "payload".into(),
        json!({
            "summary": cut(&summary, SUMMARY_MAX),
            "source": one_line(&alert.log_group, opts, SHORT_MAX),
            "severity": severity(alert.rule.severity),
            "timestamp": links::iso_millis(last),
            "component": one_line(&alert.rule.name, opts, SHORT_MAX),
            "group": one_line(&format!("{} / {}", alert.account, alert.region), opts, SHORT_MAX),
            "class": one_line(&alert.rule.rule_type, opts, SHORT_MAX),
            "custom_details": details,
        }),
    );
    event.insert("links".into(), Value::Array(links));
    event.insert("client".into(), json!("logalert"));
    event
}

fn alarm_event(
    alarm: &AlarmNotification,
    enrichment: Option<&AlarmEnrichment>,
    opts: &RenderOptions,
) -> Map<String, Value> {
    let mut event = Map::new();
    // One PagerDuty alert per CloudWatch alarm: triggered on ALARM, resolved on OK.
    let key = cut(
        &format!(
            "cloudwatch-alarm:{}",
            alarm.alarm_arn.as_deref().unwrap_or(&alarm.alarm_name)
        ),
        255,
    );
    event.insert("dedup_key".into(), json!(key));
    match alarm.new_state() {
        AlarmState::Ok => {
            event.insert("event_action".into(), json!("resolve"));
            return event;
        }
        AlarmState::Alarm => event.insert("event_action".into(), json!("trigger")),
        // INSUFFICIENT_DATA and others: worth a look, not a page.
        _ => event.insert("event_action".into(), json!("trigger")),
    };
    let label = alarm_label(alarm);
    let sev = if alarm.new_state() == AlarmState::Alarm {
        "error"
    } else {
        "warning"
    };
    let mut details = Map::new();
    for (title, value, _) in alarm_facts(alarm) {
        details.insert(title.to_string(), json!(one_line(&value, opts, 1_000)));
    }
    if let Some(r) = alarm.new_state_reason.as_deref() {
        details.insert("reason".into(), json!(cut(&readable(r, opts), 1_500)));
    }
    let mut samples = Vec::new();
    if let Some(e) = enrichment {
        for source in &e.sources {
            for ev in source.events.iter() {
                if samples.len() >= opts.max_samples {
                    break;
                }
                samples.push(json!({
                    "timestamp": links::iso_millis(ev.timestamp),
                    "log_group": one_line(&source.log_group, opts, 512),
                    "log_stream": one_line(&ev.log_stream, opts, 512),
                    "message": cut(&readable_code(&ev.message, opts, opts.sample_max_lines), SAMPLE_MAX),
                }));
            }
        }
        if let Some(f) = &e.failure {
            details.insert("enrichment_failure".into(), json!(one_line(f, opts, 300)));
        }
    }
    details.insert("samples".into(), Value::Array(samples));
    let mut links = Vec::new();
    if let Some(url) = alarm_link(alarm) {
        links.extend(link(url, "Alarm"));
    }
    event.insert(
        "payload".into(),
        json!({
            "summary": cut(&format!("[{label}] {}", one_line(&alarm.alarm_name, opts, 900)), SUMMARY_MAX),
            "source": one_line(alarm.alarm_arn.as_deref().unwrap_or(&alarm.alarm_name), opts, SHORT_MAX),
            "severity": sev,
            "component": one_line(&alarm.alarm_name, opts, SHORT_MAX),
            "class": "cloudwatch-alarm",
            "custom_details": details,
        }),
    );
    if let Some(ms) = alarm.state_change_ms() {
        event["payload"]["timestamp"] = json!(links::iso_millis(ms));
    }
    event.insert("links".into(), Value::Array(links));
    event.insert("client".into(), json!("logalert"));
    event
}

fn other_event(
    subject: Option<&str>,
    incoming: &Incoming,
    opts: &RenderOptions,
) -> Map<String, Value> {
    let body = match incoming {
        Incoming::Json { value, .. } => {
            serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
        }
        Incoming::Text(t) => t.clone(),
        other => format!("{other:?}"),
    };
    let title = subject
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("SNS message");
    let mut event = Map::new();
    event.insert("event_action".into(), json!("trigger"));
    event.insert(
        "payload".into(),
        json!({
            "summary": cut(&one_line(&format!("{title}: {body}"), opts, SUMMARY_MAX * 2), SUMMARY_MAX),
            "source": "logalert",
            "severity": "info",
            "custom_details": {"message": cut(&readable_code(&body, opts, 200), 20_000)},
        }),
    );
    event.insert("client".into(), json!("logalert"));
    event
}

/// A sample's `include` fields as (name → value) through `clean` (values: strings as they are,
/// others as JSON text).
fn included(
    s: &crate::alert::Sample,
    clean: impl Fn(&str) -> String,
) -> serde_json::Map<String, Value> {
    s.fields
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(x) => x.clone(),
                other => other.to_string(),
            };
            (clean(k), Value::String(clean(&v)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_map_one_to_one() {
        let got: Vec<&str> = Severity::ALL.iter().map(|s| severity(*s)).collect();
        assert_eq!(got, ["info", "warning", "error", "critical"]);
    }
}
