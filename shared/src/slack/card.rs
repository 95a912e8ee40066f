//! The format-neutral content of a Slack message. Everything in a [`Card`] is already redacted and
//! escaped; the layouts ([`super::attachments`], [`super::blocks`]) only arrange and trim it.

use std::collections::BTreeSet;

use super::RenderOptions;
use super::escape::{escape, inline_code, link, mentions, neutralize_fences};
use super::incoming::Incoming;
use super::limits::{limit_lines, truncate, truncate_escaped};
use crate::alarm::{AlarmEnrichment, AlarmNotification, AlarmState};
use crate::alert::{AlertMessage, Severity};
use crate::links::{self, LogEventsLink};
use crate::render::text;
use crate::render::view::{AlertView, Stage, plural_word};

pub const COLOR_CRITICAL: &str = "#8b0000";
pub const COLOR_ERROR: &str = "#d50200";
pub const COLOR_WARNING: &str = "#daa038";
pub const COLOR_INFO: &str = "#9e9e9e";
pub const COLOR_RESOLVED: &str = "#2eb886";

/// Longest URL put in a link: a link must fit in a 3,000-character section with its label. AWS
/// names are short (log group and stream ≤ 512), so only hostile input reaches this.
pub const LINK_URL_MAX: usize = 2_000;

/// A log-events link that fits [`LINK_URL_MAX`]: drops the filter pattern, then the stream, then
/// falls back to the log groups list, so a link is always there.
pub fn log_events_link(mut link: LogEventsLink<'_>) -> String {
    let url = links::log_events_url(&link);
    if url.len() <= LINK_URL_MAX {
        return url;
    }
    link.filter_pattern = None;
    let url = links::log_events_url(&link);
    if url.len() <= LINK_URL_MAX {
        return url;
    }
    link.log_stream = None;
    let url = links::log_events_url(&link);
    if url.len() <= LINK_URL_MAX {
        return url;
    }
    links::log_groups_url(link.region)
}

/// The alarm's console page when the link fits [`LINK_URL_MAX`], else the alarms list; `None`
/// without a region (no `AlarmArn`).
pub fn alarm_link(alarm: &AlarmNotification) -> Option<String> {
    let region = alarm.region()?;
    let url = links::alarm_url(region, &alarm.alarm_name);
    Some(if url.len() <= LINK_URL_MAX {
        url
    } else {
        links::alarms_url(region)
    })
}

/// A Logs Insights link that fits [`LINK_URL_MAX`], else the Logs Insights page.
pub fn insights_link(region: &str, groups: &[&str], start_ms: i64, end_ms: i64) -> String {
    let url = links::insights_url(
        region,
        groups,
        start_ms,
        end_ms,
        links::DEFAULT_INSIGHTS_QUERY,
    );
    if url.len() <= LINK_URL_MAX {
        url
    } else {
        links::insights_home_url(region)
    }
}

/// Longest description / alert text / alarm reason paragraph.
const PARAGRAPH_MAX: usize = 1_500;
/// Longest pretty-printed JSON body of an unrecognised message.
const JSON_BODY_MAX: usize = 3_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Paragraph {
    /// Safe mrkdwn (escaped; may contain links and inline code this crate built).
    Mrkdwn(String),
    /// Escaped text meant to be shown without mrkdwn interpretation.
    Plain(String),
    /// Escaped, fence-neutralized content of a code block (without the fences).
    Code(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub title: String,
    /// Escaped; shown as plain text (attachments) or inline code (blocks).
    pub value: String,
    /// Unescaped value, for inline-code rendering.
    pub raw: String,
    pub short: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SampleView {
    /// Safe mrkdwn line above the code block (a link to the event, the stream).
    pub heading: String,
    /// Escaped, fence-neutralized code block content.
    pub code: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// Top-level `text`: mentions + a one-line summary (safe mrkdwn). Mentions appear nowhere else.
    pub notify: String,
    /// Plain-text summary (escaped).
    pub fallback: String,
    pub color: &'static str,
    /// Escaped, never mrkdwn.
    pub title: String,
    pub title_link: Option<String>,
    pub body: Vec<Paragraph>,
    pub fields: Vec<Field>,
    /// At most `max_samples`; the layout may show fewer if space runs out.
    pub samples: Vec<SampleView>,
    /// Events represented in total (for "N more matches"), when known.
    pub total: Option<u64>,
    pub suppressed: u64,
    /// The sender already cut samples or messages.
    pub truncated: bool,
    /// Word for the things counted in the "more" line ("match" / "event").
    pub unit: &'static str,
    pub footer_link: Option<(String, &'static str)>,
    /// Escaped.
    pub footer_text: String,
    /// Event time, epoch seconds.
    pub ts: Option<i64>,
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => COLOR_CRITICAL,
        Severity::Error => COLOR_ERROR,
        Severity::Warning => COLOR_WARNING,
        Severity::Info => COLOR_INFO,
    }
}

fn severity_emoji(s: Severity) -> &'static str {
    match s {
        Severity::Critical => ":rotating_light:",
        Severity::Error => ":red_circle:",
        Severity::Warning => ":warning:",
        Severity::Info => ":information_source:",
    }
}

/// `HH:MM:SS.mmmZ` (and the date when `with_date`), UTC.
fn time_label(ms: i64, with_date: bool) -> String {
    let iso = links::iso_millis(ms);
    if with_date {
        iso.replacen('T', " ", 1)
    } else {
        iso.split_once('T')
            .map(|(_, t)| t.to_string())
            .unwrap_or(iso)
    }
}

/// Untrusted text as a person should see it, redacted, before any destination's escaping (line
/// breaks kept): the shared text pipeline ([`text::paragraph`]). Every non-Slack renderer starts here.
pub fn readable(raw: &str, opts: &RenderOptions) -> String {
    text::paragraph(raw, &opts.redactor)
}

/// A log message for a monospace block in any destination: [`text::code`] (visible, JSON
/// pretty-printed, redacted), cut to `max_lines` (with a "… (N more lines)" tail). Not escaped.
pub fn readable_code(raw: &str, opts: &RenderOptions, max_lines: usize) -> String {
    let shown = text::code(raw, &opts.redactor);
    let (kept, dropped) = limit_lines(&shown, max_lines.max(1));
    if dropped > 0 {
        format!(
            "{kept}\n… ({dropped} more {})",
            plural_word(dropped as u64, "line")
        )
    } else {
        kept
    }
}

/// A log message made ready for a code block: through the text pipeline (visible, JSON
/// pretty-printed, redacted), cut to `max_lines` and `max_chars`, escaped and fence-neutralized.
pub fn code_content(raw: &str, opts: &RenderOptions, max_lines: usize, max_chars: usize) -> String {
    let shown = text::code(raw, &opts.redactor);
    let (kept, dropped) = limit_lines(&shown, max_lines.max(1));
    let tail = if dropped > 0 {
        format!(
            "\n… ({dropped} more {})",
            plural_word(dropped as u64, "line")
        )
    } else {
        String::new()
    };
    let safe = neutralize_fences(&escape(&kept));
    let body = truncate_escaped(&safe, max_chars.saturating_sub(tail.chars().count()).max(1));
    if body.ends_with('…') && dropped == 0 {
        body
    } else {
        format!("{body}{tail}")
    }
}

/// Untrusted text → one line through the text pipeline, escaped, cut.
fn safe_line(raw: &str, opts: &RenderOptions, max: usize) -> String {
    let one_line = text::line(raw, &opts.redactor);
    truncate_escaped(&neutralize_fences(&escape(&one_line)), max)
}

/// Untrusted text → a paragraph through the text pipeline (line breaks kept), escaped, cut.
fn safe_paragraph(raw: &str, opts: &RenderOptions) -> String {
    let shown = text::paragraph(raw, &opts.redactor);
    truncate_escaped(&neutralize_fences(&escape(&shown)), PARAGRAPH_MAX)
}

fn field(title: &str, raw: &str, short: bool, opts: &RenderOptions) -> Field {
    let shown = text::paragraph(raw, &opts.redactor);
    let raw = truncate(&shown, super::limits::FIELD_VALUE_MAX / 2);
    Field {
        title: title.to_string(),
        value: escape(&raw),
        raw,
        short,
    }
}

pub fn alert_card(alert: &AlertMessage, opts: &RenderOptions) -> Card {
    let severity = alert.rule.severity;
    let pad = opts.link_padding_ms;
    let streams: BTreeSet<&str> = alert
        .samples
        .iter()
        .map(|s| s.log_stream.as_str())
        .collect();
    let single_stream = if streams.len() == 1 {
        streams.iter().next().copied()
    } else {
        None
    };
    let (first, last) = (
        alert.first_timestamp.min(alert.last_timestamp),
        alert.first_timestamp.max(alert.last_timestamp),
    );
    let title_link = log_events_link(LogEventsLink {
        region: &alert.region,
        log_group: &alert.log_group,
        log_stream: single_stream,
        start_ms: first.saturating_sub(pad),
        end_ms: last.saturating_add(pad),
        filter_pattern: alert.rule.filter_pattern.as_deref(),
    });
    let view = AlertView::of(alert);
    let title_raw = view.title_raw();
    let title = match view.stage {
        Stage::Summary => format!("Summary: {title_raw}"),
        Stage::Resolved => format!("Resolved: {title_raw}"),
        Stage::First | Stage::FollowUp => title_raw.to_string(),
    };
    let title = safe_line(&title, opts, super::limits::TITLE_MAX);
    let rule_name = safe_line(&alert.rule.name, opts, 200);
    let group = safe_line(&alert.log_group, opts, 300);
    let headline = view.headline();

    let who = if view.pings() {
        mentions(&alert.mention)
    } else {
        String::new()
    };
    let mut notify = String::new();
    if !who.is_empty() {
        notify.push_str(&who);
        notify.push(' ');
    }
    let (emoji, color) = match view.stage {
        Stage::Resolved => (":white_check_mark:", COLOR_RESOLVED),
        Stage::Summary => (":bar_chart:", severity_color(severity)),
        Stage::First | Stage::FollowUp => (severity_emoji(severity), severity_color(severity)),
    };
    let follow = if view.stage == Stage::FollowUp {
        " (follow-up)"
    } else {
        ""
    };
    notify.push_str(&format!(
        "{emoji} *{}* {rule_name}{follow}: {} in {}",
        view.state_label(),
        escape(&headline),
        inline_code(&alert.log_group),
    ));
    let fallback = truncate_escaped(
        &format!(
            "[{}] {}: {} in {}",
            view.state_label(),
            title,
            escape(&headline),
            group
        ),
        super::limits::FALLBACK_MAX,
    );

    let mut body = Vec::new();
    if let Some(o) = alert
        .observation
        .as_ref()
        .filter(|o| !o.text.trim().is_empty() || o.sparkline.is_some())
    {
        let mut line = safe_line(&o.text, opts, 500);
        if let Some(spark) = o.sparkline.as_deref().filter(|s| !s.trim().is_empty()) {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&inline_code(&truncate(spark, 120)));
        }
        body.push(Paragraph::Mrkdwn(line));
    }
    let clean = |v: &str| text::line(v, &opts.redactor);
    if let Some(table) = crate::render::view::summary_table_text(alert, clean, 60) {
        let fields: Vec<String> = alert
            .digest
            .iter()
            .flat_map(|d| d.table.iter())
            .flat_map(|t| t.fields.iter())
            .map(|f| inline_code(&truncate(&clean(f), 60)))
            .collect();
        body.push(Paragraph::Mrkdwn(format!(
            "*Summary* by {}",
            fields.join(", ")
        )));
        body.push(Paragraph::Code(truncate_escaped(
            &neutralize_fences(&escape(&table)),
            PARAGRAPH_MAX,
        )));
    }
    for (key, items, other) in crate::render::view::top_count_items(alert, clean) {
        let mut line = format!("*Top* {}: ", inline_code(&truncate(&key, 60)));
        let shown: Vec<String> = items
            .iter()
            .map(|i| neutralize_fences(&escape(&truncate(i, 80))))
            .collect();
        line.push_str(&shown.join(", "));
        if other > 0 {
            line.push_str(&format!(", {other} other"));
        }
        body.push(Paragraph::Mrkdwn(truncate_escaped(&line, 500)));
    }
    if let Some(d) = alert
        .rule
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        body.push(Paragraph::Mrkdwn(safe_paragraph(d, opts)));
    }
    if let Some(t) = alert.text.as_deref().filter(|t| !t.trim().is_empty()) {
        body.push(Paragraph::Mrkdwn(safe_paragraph(t, opts)));
    }

    let mut fields = vec![
        field("Log group", &alert.log_group, true, opts),
        match single_stream {
            Some(s) => field("Log stream", s, true, opts),
            None if streams.is_empty() => field("Log stream", "(none sampled)", true, opts),
            None => field(
                "Log streams",
                &format!("{} streams", streams.len()),
                true,
                opts,
            ),
        },
        match view.stage {
            Stage::Summary => field(
                "Suppressed matches",
                &view.reported().to_string(),
                true,
                opts,
            ),
            Stage::Resolved => field(
                "Total matches",
                &alert
                    .incident_total
                    .unwrap_or(alert.count.saturating_add(alert.suppressed))
                    .to_string(),
                true,
                opts,
            ),
            Stage::First | Stage::FollowUp => {
                field("Matches", &alert.count.to_string(), true, opts)
            }
        },
        field("Severity", severity.as_str(), true, opts),
    ];
    if let Some(line) = view.incident_line() {
        fields.push(field("Incident", &line, false, opts));
    }
    if let Some(qk) = alert.query_key.as_deref() {
        fields.push(field("Query key", qk, true, opts));
    }
    fields.push(field(
        "Account / region",
        &format!("{} / {}", alert.account, alert.region),
        true,
        opts,
    ));
    if first != last {
        fields.push(field(
            "Window (UTC)",
            &format!(
                "{} → {}",
                time_label(first, true),
                time_label(last, first / 86_400_000 != last / 86_400_000)
            ),
            true,
            opts,
        ));
    }

    let samples = alert
        .samples
        .iter()
        .take(opts.max_samples)
        .map(|s| {
            let url = log_events_link(LogEventsLink {
                region: &alert.region,
                log_group: &alert.log_group,
                log_stream: Some(&s.log_stream),
                start_ms: s.timestamp.saturating_sub(pad / 2),
                end_ms: s.timestamp.saturating_add(pad / 2),
                filter_pattern: None,
            });
            let mut heading = link(&url, &time_label(s.timestamp, false));
            if single_stream.is_none() {
                heading.push_str(" · ");
                heading.push_str(&inline_code(&truncate(&s.log_stream, 120)));
            }
            // `include`: the rule's fields of this event.
            for (name, value) in s.fields.iter().take(10) {
                let value = match value {
                    serde_json::Value::String(v) => v.clone(),
                    other => other.to_string(),
                };
                heading.push_str(" · ");
                heading.push_str(&neutralize_fences(&escape(&truncate(
                    &text::line(name, &opts.redactor),
                    60,
                ))));
                heading.push(' ');
                heading.push_str(&inline_code(&truncate(
                    &text::line(&value, &opts.redactor),
                    200,
                )));
            }
            SampleView {
                heading,
                code: code_content(
                    &s.message,
                    opts,
                    opts.sample_max_lines,
                    opts.sample_max_chars,
                ),
            }
        })
        .collect();

    let insights = insights_link(
        &alert.region,
        &[alert.log_group.as_str()],
        first.saturating_sub(pad),
        last.saturating_add(pad),
    );
    let (total, suppressed) = match view.stage {
        // The whole message is about the suppressed matches.
        Stage::Summary => (Some(view.reported()), 0),
        Stage::Resolved => ((alert.count > 0).then_some(alert.count), alert.suppressed),
        Stage::First | Stage::FollowUp => (Some(alert.count), alert.suppressed),
    };
    let footer_text = match view.short_incident() {
        Some(id) => format!(
            "logalert · {rule_name} · incident {}",
            safe_line(&id, opts, 40)
        ),
        None => format!("logalert · {rule_name}"),
    };
    Card {
        notify,
        fallback,
        color,
        title,
        title_link: Some(title_link),
        body,
        fields,
        samples,
        total,
        suppressed,
        truncated: alert.truncated,
        unit: "match",
        footer_link: Some((insights, "Logs Insights")),
        footer_text,
        ts: Some(last.div_euclid(1000)),
    }
}

fn operator(op: &str) -> &str {
    match op {
        "GreaterThanOrEqualToThreshold" => ">=",
        "GreaterThanThreshold" => ">",
        "LessThanThreshold" => "<",
        "LessThanOrEqualToThreshold" => "<=",
        "LessThanLowerOrGreaterThanUpperThreshold" => "outside band",
        "LessThanLowerThreshold" => "below band",
        "GreaterThanUpperThreshold" => "above band",
        other => other,
    }
}

pub fn alarm_card(
    alarm: &AlarmNotification,
    enrichment: Option<&AlarmEnrichment>,
    opts: &RenderOptions,
) -> Card {
    let state = alarm.new_state();
    let (label, emoji, color) = match &state {
        AlarmState::Alarm => ("ALARM", ":rotating_light:", COLOR_ERROR),
        AlarmState::Ok if alarm.is_resolved() => ("Resolved", ":white_check_mark:", COLOR_RESOLVED),
        AlarmState::Ok => ("OK", ":white_check_mark:", COLOR_RESOLVED),
        AlarmState::InsufficientData => ("INSUFFICIENT_DATA", ":grey_question:", COLOR_INFO),
        AlarmState::Other(_) => (state.as_str(), ":grey_question:", COLOR_INFO),
    };
    let label = safe_line(label, opts, 40);
    let name = safe_line(&alarm.alarm_name, opts, 255);
    let title = truncate_escaped(&format!("{label}: {name}"), super::limits::TITLE_MAX);
    let region = alarm.region().unwrap_or("us-east-1");
    let title_link = alarm_link(alarm);
    let notify = format!("{emoji} *{label}* {name}");
    let fallback = truncate_escaped(&format!("{label}: {name}"), super::limits::FALLBACK_MAX);

    let mut body = Vec::new();
    if let Some(reason) = alarm
        .new_state_reason
        .as_deref()
        .filter(|r| !r.trim().is_empty())
    {
        body.push(Paragraph::Mrkdwn(safe_paragraph(reason, opts)));
    }
    if let Some(d) = alarm
        .alarm_description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        body.push(Paragraph::Mrkdwn(safe_paragraph(d, opts)));
    }

    let fields: Vec<Field> = alarm_facts(alarm)
        .iter()
        .map(|(title, value, short)| field(title, value, *short, opts))
        .collect();

    let mut samples = Vec::new();
    let mut footer_link = None;
    let mut total_events = 0u64;
    if let Some(e) = enrichment {
        for source in &e.sources {
            body.push(Paragraph::Mrkdwn(format!(
                "Log events behind this alarm — metric filter {} on {}, pattern {}{}",
                inline_code(&truncate(&source.filter_name, 200)),
                link(
                    &log_events_link(LogEventsLink {
                        region,
                        log_group: &source.log_group,
                        log_stream: None,
                        start_ms: e.start_ms,
                        end_ms: e.end_ms,
                        filter_pattern: Some(&source.filter_pattern),
                    }),
                    &truncate(&source.log_group, 200),
                ),
                if source.filter_pattern.trim().is_empty() {
                    "(empty: every event)".to_string()
                } else {
                    inline_code(&truncate(&source.filter_pattern, 300))
                },
                if source.events.is_empty() {
                    ": none found in the evaluation window."
                } else {
                    ":"
                },
            )));
            for ev in &source.events {
                total_events += 1;
                if samples.len() >= opts.max_samples {
                    continue;
                }
                let url = log_events_link(LogEventsLink {
                    region,
                    log_group: &source.log_group,
                    log_stream: Some(&ev.log_stream),
                    start_ms: ev.timestamp.saturating_sub(opts.link_padding_ms / 2),
                    end_ms: ev.timestamp.saturating_add(opts.link_padding_ms / 2),
                    filter_pattern: None,
                });
                samples.push(SampleView {
                    heading: format!(
                        "{} · {}",
                        link(&url, &time_label(ev.timestamp, false)),
                        inline_code(&truncate(&ev.log_stream, 120))
                    ),
                    code: code_content(
                        &ev.message,
                        opts,
                        opts.sample_max_lines,
                        opts.sample_max_chars,
                    ),
                });
            }
        }
        if let Some(failure) = e.failure.as_deref() {
            body.push(Paragraph::Mrkdwn(format!(
                ":warning: Could not fetch the log lines behind this alarm: {}",
                safe_line(failure, opts, 300)
            )));
        }
        let groups: Vec<&str> = e.sources.iter().map(|s| s.log_group.as_str()).collect();
        if !groups.is_empty() {
            footer_link = Some((
                insights_link(region, &groups, e.start_ms, e.end_ms),
                "Logs Insights",
            ));
        }
    }
    Card {
        notify,
        fallback,
        color,
        title,
        title_link,
        body,
        fields,
        samples,
        total: (total_events > 0).then_some(total_events),
        suppressed: 0,
        truncated: false,
        unit: "event",
        footer_link,
        footer_text: "logalert · CloudWatch alarm".to_string(),
        ts: alarm.state_change_ms().map(|ms| ms.div_euclid(1000)),
    }
}

/// An alarm's facts as (title, raw value, short) — the same for every destination, which escapes
/// the values its own way.
pub fn alarm_facts(alarm: &AlarmNotification) -> Vec<(&'static str, String, bool)> {
    let region = alarm.region().unwrap_or("us-east-1");
    let mut fields: Vec<(&'static str, String, bool)> = Vec::new();
    let trigger = alarm.trigger.clone().unwrap_or_default();
    let metrics = alarm.metrics();
    if let Some(rule) = alarm.alarm_rule.as_deref() {
        fields.push(("Composite rule", rule.to_string(), false));
    } else if let (Some(ns), Some(m)) = (&trigger.namespace, &trigger.metric_name) {
        fields.push(("Metric", format!("{ns} / {m}"), true));
    } else if !metrics.is_empty() {
        let list: Vec<String> = metrics
            .iter()
            .map(|(ns, m)| format!("{ns} / {m}"))
            .collect();
        fields.push(("Metrics (math)", list.join(", "), true));
    }
    if let (Some(op), Some(threshold)) = (&trigger.comparison_operator, trigger.threshold) {
        let stat = trigger
            .statistic
            .clone()
            .or(trigger.extended_statistic.clone())
            .unwrap_or_default();
        let mut cond = format!("{} {} {}", stat, operator(op), threshold)
            .trim()
            .to_string();
        if let (Some(p), Some(n)) = (trigger.period, trigger.evaluation_periods) {
            let dp = trigger.datapoints_to_alarm.unwrap_or(n);
            cond.push_str(&format!(" for {dp} of {n} × {p}s"));
        }
        fields.push(("Condition", cond, true));
    }
    if !trigger.dimensions.is_empty() {
        let dims: Vec<String> = trigger
            .dimensions
            .iter()
            .map(|d| format!("{}={}", d.name, d.value))
            .collect();
        fields.push(("Dimensions", dims.join(", "), true));
    }
    let transition = match alarm.old_state_value.as_deref() {
        Some(old) => format!("{old} → {}", alarm.new_state_value),
        None => alarm.new_state_value.clone(),
    };
    fields.push(("State", transition, true));
    fields.push((
        "Account / region",
        format!("{} / {}", alarm.account().unwrap_or("?"), region),
        true,
    ));

    fields
}

pub fn other_card(subject: Option<&str>, incoming: &Incoming, opts: &RenderOptions) -> Card {
    let subject = subject.map(str::trim).filter(|s| !s.is_empty());
    let (default_title, body) = match incoming {
        Incoming::Json { value, note } => {
            let pretty = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
            let mut body = Vec::new();
            if let Some(note) = note {
                body.push(Paragraph::Mrkdwn(format!(
                    ":warning: {}",
                    safe_line(note, opts, 500)
                )));
            }
            body.push(Paragraph::Code(code_content(
                &pretty,
                opts,
                60,
                JSON_BODY_MAX,
            )));
            ("SNS message (JSON)", body)
        }
        Incoming::Text(text) => (
            "SNS message",
            vec![Paragraph::Plain(safe_paragraph_long(text, opts))],
        ),
        // Not reached through render_incoming; rendered generically rather than dropped.
        other => (
            "SNS message",
            vec![Paragraph::Code(code_content(
                &format!("{other:?}"),
                opts,
                60,
                JSON_BODY_MAX,
            ))],
        ),
    };
    let title = safe_line(
        subject.unwrap_or(default_title),
        opts,
        super::limits::TITLE_MAX,
    );
    let preview = match &body.last() {
        Some(Paragraph::Plain(p)) => p.replace('\n', " "),
        _ => String::new(),
    };
    let fallback = truncate_escaped(
        &if preview.is_empty() {
            title.clone()
        } else {
            format!("{title}: {preview}")
        },
        super::limits::FALLBACK_MAX,
    );
    Card {
        notify: format!(":incoming_envelope: {title}"),
        fallback,
        color: COLOR_INFO,
        title,
        title_link: None,
        body,
        fields: Vec::new(),
        samples: Vec::new(),
        total: None,
        suppressed: 0,
        truncated: false,
        unit: "event",
        footer_link: None,
        footer_text: "logalert · SNS message".to_string(),
        ts: None,
    }
}

fn safe_paragraph_long(raw: &str, opts: &RenderOptions) -> String {
    let shown = text::paragraph(raw, &opts.redactor);
    truncate_escaped(
        &neutralize_fences(&escape(&shown)),
        super::limits::SECTION_TEXT_MAX - 100,
    )
}

/// "12 more matches, 3 suppressed since the last alert" (and a note when the sender cut samples).
pub fn more_line(card: &Card, shown: usize) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(total) = card.total {
        let more = total.saturating_sub(shown as u64);
        if more > 0 {
            parts.push(format!("{more} more {}", plural_word(more, card.unit)));
        }
    }
    if card.suppressed > 0 {
        parts.push(format!(
            "{} suppressed since the last alert",
            card.suppressed
        ));
    }
    if card.truncated {
        parts.push("samples were cut to fit size limits".to_string());
    }
    (!parts.is_empty()).then(|| format!("_{}_", parts.join(", ")))
}
