//! Microsoft Teams: an Adaptive Card 1.5 in the message envelope a Teams **Workflows** webhook
//! ("Post to a channel when a webhook request is received") accepts. Office 365 connectors are
//! retired; Workflows takes exactly this shape.
//!
//! ```
//! use logalert::alert::AlertMessage;
//! use logalert::render::teams;
//! use logalert::slack::{Incoming, RenderOptions};
//! let alert = r#"{"version":1,"kind":"log-match","alert_id":"a-1","incident_id":"i-1",
//!   "rule":{"name":"payments","type":"any","severity":"error","description":null},
//!   "account":"123456789012","region":"us-east-1","log_group":"/app","query_key":null,
//!   "count":1,"suppressed":0,"first_timestamp":1700000000000,"last_timestamp":1700000000000,
//!   "samples":[{"id":"1","timestamp":1700000000000,"log_stream":"s",
//!     "message":"ERROR [click](https://evil.example) <at>CEO</at>","extracted":{}}],
//!   "truncated":false,"channel":"default","mention":[]}"#;
//! let msg = teams::render(&Incoming::classify(alert), None, None, &RenderOptions::default());
//! assert_eq!(msg["type"], "message");
//! let card = &msg["attachments"][0]["content"];
//! assert_eq!(card["version"], "1.5");
//! let text = msg.to_string();
//! assert!(!text.contains("https://evil.example") && !text.contains("<at>"));
//! ```
//!
//! **Safety.** Untrusted text (log lines, log group and stream names, subjects, descriptions) is
//! placed in `TextRun`s of `RichTextBlock`s, which Adaptive Cards never interpret as Markdown; the
//! `FactSet` values, which Teams does interpret, are Markdown-escaped. Everywhere, untrusted text
//! is also *defanged* ([`inert`]): a zero-width space after `<` (no `<at>` mention, no HTML), inside
//! `://` and `www.`, and after `@` (no auto-detected link or e-mail address). Links on the card come
//! only from this crate (`Action.OpenUrl` to the CloudWatch console). The rule's `mention` list
//! holds Slack ids, which mean nothing in Teams, so a Teams card pings nobody.
//!
//! **Limits.** Teams drops messages over about 28 KB; [`render`] keeps the serialised envelope
//! under [`MAX_BYTES`] by cutting samples shorter, then dropping samples, then shortening text.

use serde_json::{Value, json};

use crate::alarm::{AlarmEnrichment, AlarmNotification, AlarmState};
use crate::alert::{AlertMessage, Severity};
use crate::links::{self, LogEventsLink};
use crate::render::view::{AlertView, Stage, plural};
use crate::slack::card::{
    alarm_facts, alarm_link, insights_link, log_events_link, readable, readable_code,
};
use crate::slack::{Incoming, RenderOptions};

/// The largest serialised message this renderer produces (Teams' limit is about 28 KB).
pub const MAX_BYTES: usize = 27_000;
/// Longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest paragraph (description, text, alarm reason), in characters.
pub const PARAGRAPH_MAX: usize = 1_500;
/// Longest fact value, in characters.
pub const FACT_MAX: usize = 300;

const ZWSP: char = '\u{200B}';

/// Render whatever [`Incoming::classify`] found as a Workflows webhook message.
pub fn render(
    incoming: &Incoming,
    subject: Option<&str>,
    enrichment: Option<&AlarmEnrichment>,
    opts: &RenderOptions,
) -> Value {
    let mut budget = Budget {
        sample_chars: opts.sample_max_chars.max(1),
        samples: opts.max_samples,
        paragraph_chars: PARAGRAPH_MAX,
    };
    loop {
        let card = match incoming {
            Incoming::Alert(alert) => alert_card(alert, opts, &budget),
            Incoming::Alarm(alarm) => alarm_card(alarm, enrichment, opts, &budget),
            Incoming::Json { .. } | Incoming::Text(_) => {
                other_card(subject, incoming, opts, &budget)
            }
        };
        let message = envelope(card);
        if message.to_string().len() <= MAX_BYTES || !budget.shrink() {
            return message;
        }
    }
}

/// The Workflows webhook envelope around one Adaptive Card.
pub fn envelope(card: Value) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

/// How much content a card may carry; shrunk until the message fits [`MAX_BYTES`].
#[derive(Debug, Clone)]
struct Budget {
    sample_chars: usize,
    samples: usize,
    paragraph_chars: usize,
}

impl Budget {
    /// One step smaller; false when nothing is left to shrink.
    fn shrink(&mut self) -> bool {
        if self.sample_chars > 300 {
            self.sample_chars /= 2;
        } else if self.samples > 0 {
            self.samples -= 1;
        } else if self.paragraph_chars > 100 {
            self.paragraph_chars /= 2;
        } else {
            return false;
        }
        true
    }
}

/// Untrusted text made inert for Teams: see the module docs. Display is unchanged (zero-width
/// spaces are invisible).
pub fn inert(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 16);
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '.' && i >= 3 && chars[i - 3..i].iter().all(|c| c.eq_ignore_ascii_case(&'w')) {
            out.push(ZWSP);
        }
        out.push(c);
        match c {
            '<' | '@' => out.push(ZWSP),
            ':' if chars.get(i + 1) == Some(&'/') && chars.get(i + 2) == Some(&'/') => {
                out.push(ZWSP)
            }
            _ => {}
        }
    }
    out
}

/// Markdown-escape one line for a place Teams renders as Markdown (fact values), after [`inert`]:
/// emphasis, code and link brackets everywhere; list, heading and quote markers at the start.
pub fn markdown_escape(s: &str) -> String {
    let text: Vec<char> = inert(s).chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let digits = text.iter().take_while(|c| c.is_ascii_digit()).count();
    for (i, &c) in text.iter().enumerate() {
        let at_start = i == 0 && matches!(c, '#' | '-' | '+' | '>' | '=');
        // `12. item` (an ordered list), not `1.5`.
        let ordered_list = digits > 0
            && i == digits
            && matches!(c, '.' | ')')
            && text.get(i + 1).is_none_or(|n| n.is_whitespace());
        if at_start || ordered_list || matches!(c, '\\' | '*' | '_' | '~' | '`' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Cut to `max` characters, ending with `…` when cut.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Untrusted text on one line: readable, flattened, cut, inert.
fn line(raw: &str, opts: &RenderOptions, max: usize) -> String {
    inert(&cut(&readable(raw, opts).replace(['\n', '\t'], " "), max))
}

/// A plain (never Markdown) text run.
fn run(text: String) -> Value {
    json!({"type": "TextRun", "text": text})
}

fn rich(inlines: Vec<Value>) -> Value {
    json!({"type": "RichTextBlock", "inlines": inlines})
}

fn paragraph(raw: &str, opts: &RenderOptions, max: usize) -> Value {
    rich(vec![run(inert(&cut(readable(raw, opts).trim(), max)))])
}

fn fact(title: &str, raw_value: &str, opts: &RenderOptions) -> Value {
    let value = cut(
        &readable(raw_value, opts).replace(['\n', '\t'], " "),
        FACT_MAX,
    );
    json!({"title": title, "value": markdown_escape(&value)})
}

fn monospace(code: String) -> Value {
    rich(vec![
        json!({"type": "TextRun", "text": inert(&code), "fontType": "Monospace"}),
    ])
}

fn card(body: Vec<Value>, actions: Vec<Value>) -> Value {
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.5",
        "msteams": {"width": "Full"},
        "body": body,
    });
    if !actions.is_empty() {
        card["actions"] = Value::Array(actions);
    }
    card
}

fn open_url(title: &str, url: String) -> Option<Value> {
    // Only URLs this crate built reach here; still, only https.
    (url.starts_with("https://") && !url.chars().any(char::is_whitespace))
        .then(|| json!({"type": "Action.OpenUrl", "title": title, "url": url}))
}

fn severity_look(s: Severity) -> (&'static str, &'static str) {
    match s {
        Severity::Critical => ("🚨", "Attention"),
        Severity::Error => ("🔴", "Attention"),
        Severity::Warning => ("⚠️", "Warning"),
        Severity::Info => ("ℹ️", "Default"),
    }
}

/// The state line: emoji, state and counts — fixed words and numbers only (Markdown is safe).
fn state_line(emoji: &str, label: &str, rest: &str, color: &str) -> Value {
    json!({"type": "TextBlock", "text": format!("{emoji} **{label}** · {rest}"),
           "wrap": true, "weight": "Bolder", "color": color})
}

fn alert_card(alert: &AlertMessage, opts: &RenderOptions, budget: &Budget) -> Value {
    let view = AlertView::of(alert);
    let (emoji, color) = match view.stage {
        Stage::Resolved => ("✅", "Good"),
        Stage::Summary => ("📊", severity_look(alert.rule.severity).1),
        Stage::First | Stage::FollowUp => severity_look(alert.rule.severity),
    };
    let mut rest = view.headline();
    if view.stage == Stage::FollowUp {
        rest.push_str(" (follow-up)");
    }
    let mut body = vec![state_line(emoji, view.state_label(), &rest, color)];
    let title = match view.stage {
        Stage::Summary => format!("Summary: {}", view.title_raw()),
        Stage::Resolved => format!("Resolved: {}", view.title_raw()),
        _ => view.title_raw().to_string(),
    };
    body.push(rich(vec![
        json!({"type": "TextRun", "text": line(&title, opts, TITLE_MAX),
        "size": "Large", "weight": "Bolder"}),
    ]));
    if let Some(o) = &alert.observation {
        let mut inlines = Vec::new();
        if !o.text.trim().is_empty() {
            inlines.push(run(line(&o.text, opts, 500)));
        }
        if let Some(spark) = o.sparkline.as_deref().filter(|s| !s.trim().is_empty()) {
            inlines.push(
                json!({"type": "TextRun", "text": format!(" {}", line(spark, opts, 120)),
                "fontType": "Monospace"}),
            );
        }
        if !inlines.is_empty() {
            body.push(rich(inlines));
        }
    }
    // `aggregation`: the digest's summary table; `top_count_keys`: the top values.
    let one_line = |v: &str| readable(v, opts).replace(['\n', '\t'], " ");
    if let Some(table) = crate::render::view::summary_table_text(alert, one_line, 60) {
        body.push(monospace(cut(&table, budget.paragraph_chars)));
    }
    for (key, items, other) in crate::render::view::top_count_items(alert, one_line) {
        let mut text = format!("Top {}: {}", cut(&key, 60), items.join(", "));
        if other > 0 {
            text.push_str(&format!(", {other} other"));
        }
        body.push(rich(vec![run(inert(&cut(&text, 500)))]));
    }
    for p in [alert.rule.description.as_deref(), alert.text.as_deref()]
        .into_iter()
        .flatten()
        .filter(|p| !p.trim().is_empty())
    {
        body.push(paragraph(p, opts, budget.paragraph_chars));
    }

    let streams: std::collections::BTreeSet<&str> = alert
        .samples
        .iter()
        .map(|s| s.log_stream.as_str())
        .collect();
    let single_stream = (streams.len() == 1).then(|| *streams.iter().next().unwrap());
    let mut facts = vec![fact("Log group", &alert.log_group, opts)];
    match single_stream {
        Some(s) => facts.push(fact("Log stream", s, opts)),
        None if !streams.is_empty() => facts.push(fact(
            "Log streams",
            &format!("{} streams", streams.len()),
            opts,
        )),
        None => {}
    }
    let matches = match view.stage {
        Stage::Summary => ("Suppressed matches", view.reported()),
        Stage::Resolved => (
            "Total matches",
            alert
                .incident_total
                .unwrap_or(alert.count + alert.suppressed),
        ),
        _ => ("Matches", alert.count),
    };
    facts.push(fact(matches.0, &matches.1.to_string(), opts));
    facts.push(fact("Severity", alert.rule.severity.as_str(), opts));
    if let Some(qk) = alert.query_key.as_deref() {
        facts.push(fact("Query key", qk, opts));
    }
    facts.push(fact(
        "Account / region",
        &format!("{} / {}", alert.account, alert.region),
        opts,
    ));
    if let Some(incident) = view.incident_line() {
        facts.push(fact("Incident", &incident, opts));
    }
    if let Some(id) = view.short_incident() {
        facts.push(fact("Incident id", &id, opts));
    }
    body.push(json!({"type": "FactSet", "facts": facts}));

    let pad = opts.link_padding_ms;
    let shown = alert.samples.len().min(budget.samples);
    for s in alert.samples.iter().take(shown) {
        let mut heading = vec![
            json!({"type": "TextRun", "text": links::iso_millis(s.timestamp),
            "isSubtle": true}),
        ];
        if single_stream.is_none() {
            heading.push(
                json!({"type": "TextRun", "text": format!(" · {}", line(&s.log_stream, opts, 120)),
                "isSubtle": true}),
            );
        }
        // `include`: the rule's fields of this event.
        for (name, value) in s.fields.iter().take(10) {
            let value = match value {
                serde_json::Value::String(v) => v.clone(),
                other => other.to_string(),
            };
            heading.push(json!({"type": "TextRun",
                "text": format!(" · {} {}", line(name, opts, 60), line(&value, opts, 200)),
                "isSubtle": true}));
        }
        body.push(rich(heading));
        body.push(monospace(cut(
            &readable_code(&s.message, opts, opts.sample_max_lines),
            budget.sample_chars,
        )));
    }
    let total = match view.stage {
        Stage::Summary => view.reported(),
        _ => alert.count,
    };
    let mut more = Vec::new();
    let hidden = total.saturating_sub(shown as u64);
    if hidden > 0 {
        more.push(format!("{} more", plural(hidden, "match")));
    }
    if alert.suppressed > 0 && view.stage != Stage::Summary {
        more.push(format!(
            "{} suppressed since the last alert",
            alert.suppressed
        ));
    }
    if alert.truncated || shown < alert.samples.len().min(opts.max_samples) {
        more.push("samples were cut to fit size limits".into());
    }
    if !more.is_empty() {
        body.push(
            json!({"type": "TextBlock", "text": more.join(", "), "isSubtle": true,
            "wrap": true, "size": "Small"}),
        );
    }

    let (first, last) = (
        alert.first_timestamp.min(alert.last_timestamp),
        alert.first_timestamp.max(alert.last_timestamp),
    );
    let events = log_events_link(LogEventsLink {
        region: &alert.region,
        log_group: &alert.log_group,
        log_stream: single_stream,
        start_ms: first.saturating_sub(pad),
        end_ms: last.saturating_add(pad),
        filter_pattern: alert.rule.filter_pattern.as_deref(),
    });
    let insights = insights_link(
        &alert.region,
        &[alert.log_group.as_str()],
        first.saturating_sub(pad),
        last.saturating_add(pad),
    );
    let actions = [
        open_url(
            if single_stream.is_some() {
                "Log stream"
            } else {
                "Log events"
            },
            events,
        ),
        open_url("Logs Insights", insights),
    ]
    .into_iter()
    .flatten()
    .collect();
    card(body, actions)
}

/// `ALARM`, `Resolved`, `OK`, `INSUFFICIENT_DATA`, or the state as given.
pub fn alarm_label(alarm: &AlarmNotification) -> String {
    match alarm.new_state() {
        AlarmState::Alarm => "ALARM".into(),
        AlarmState::Ok if alarm.is_resolved() => "Resolved".into(),
        AlarmState::Ok => "OK".into(),
        AlarmState::InsufficientData => "INSUFFICIENT_DATA".into(),
        AlarmState::Other(s) => s,
    }
}

fn alarm_card(
    alarm: &AlarmNotification,
    enrichment: Option<&AlarmEnrichment>,
    opts: &RenderOptions,
    budget: &Budget,
) -> Value {
    let state = alarm.new_state();
    let (emoji, color) = match state {
        AlarmState::Alarm => ("🚨", "Attention"),
        AlarmState::Ok => ("✅", "Good"),
        _ => ("❔", "Default"),
    };
    let label = alarm_label(alarm);
    let mut body = vec![
        state_line(
            emoji,
            &markdown_escape(&cut(&label, 40)),
            "CloudWatch alarm",
            color,
        ),
        rich(vec![
            json!({"type": "TextRun", "text": line(&alarm.alarm_name, opts, TITLE_MAX),
            "size": "Large", "weight": "Bolder"}),
        ]),
    ];
    for p in [
        alarm.new_state_reason.as_deref(),
        alarm.alarm_description.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|p| !p.trim().is_empty())
    {
        body.push(paragraph(p, opts, budget.paragraph_chars));
    }
    let facts: Vec<Value> = alarm_facts(alarm)
        .iter()
        .map(|(t, v, _)| fact(t, v, opts))
        .collect();
    body.push(json!({"type": "FactSet", "facts": facts}));
    let region = alarm.region().unwrap_or("us-east-1");
    let mut actions = Vec::new();
    if let Some(url) = alarm_link(alarm) {
        actions.extend(open_url("Alarm", url));
    }
    if let Some(e) = enrichment {
        let mut shown = 0usize;
        let mut total = 0u64;
        for source in &e.sources {
            body.push(rich(vec![run(format!(
                "Log events behind this alarm — metric filter {} on {}{}",
                line(&source.filter_name, opts, 200),
                line(&source.log_group, opts, 200),
                if source.events.is_empty() {
                    ": none found in the evaluation window."
                } else {
                    ":"
                }
            ))]));
            for ev in &source.events {
                total += 1;
                if shown >= budget.samples {
                    continue;
                }
                shown += 1;
                body.push(rich(vec![json!({"type": "TextRun", "text": format!("{} · {}",
                    links::iso_millis(ev.timestamp), line(&ev.log_stream, opts, 120)), "isSubtle": true})]));
                body.push(monospace(cut(
                    &readable_code(&ev.message, opts, opts.sample_max_lines),
                    budget.sample_chars,
                )));
            }
        }
        if total > shown as u64 {
            body.push(
                json!({"type": "TextBlock", "isSubtle": true, "size": "Small", "wrap": true,
                "text": format!("{} more", plural(total - shown as u64, "event"))}),
            );
        }
        if let Some(failure) = e.failure.as_deref() {
            body.push(rich(vec![run(format!(
                "⚠️ Could not fetch the log lines behind this alarm: {}",
                line(failure, opts, 300)
            ))]));
        }
        let groups: Vec<&str> = e.sources.iter().map(|s| s.log_group.as_str()).collect();
        if !groups.is_empty() {
            actions.extend(open_url(
                "Logs Insights",
                insights_link(region, &groups, e.start_ms, e.end_ms),
            ));
        }
    }
    card(body, actions)
}

fn other_card(
    subject: Option<&str>,
    incoming: &Incoming,
    opts: &RenderOptions,
    budget: &Budget,
) -> Value {
    let subject = subject.map(str::trim).filter(|s| !s.is_empty());
    let mut body = vec![state_line(
        "📨",
        "SNS message",
        "not a logalert alert",
        "Default",
    )];
    let (default_title, content) = match incoming {
        Incoming::Json { value, note } => {
            if let Some(note) = note {
                body.push(rich(vec![run(format!("⚠️ {}", line(note, opts, 500)))]));
            }
            let pretty = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
            (
                "SNS message (JSON)",
                monospace(cut(
                    &readable_code(&pretty, opts, 60),
                    budget.sample_chars.max(budget.paragraph_chars),
                )),
            )
        }
        Incoming::Text(text) => (
            "SNS message",
            paragraph(text, opts, budget.paragraph_chars * 2),
        ),
        other => (
            "SNS message",
            monospace(cut(&format!("{other:?}"), budget.paragraph_chars)),
        ),
    };
    body.insert(
        1,
        rich(vec![json!({"type": "TextRun", "text": line(subject.unwrap_or(default_title), opts, TITLE_MAX),
            "size": "Large", "weight": "Bolder"})]),
    );
    body.push(content);
    card(body, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inert_breaks_links_and_mentions_but_not_display() {
        let s = inert("<at>CEO</at> https://evil.example www.evil.example me@x.io");
        assert!(
            !s.contains("<at>") && !s.contains("://") && !s.contains("www.") && !s.contains("@x")
        );
        assert_eq!(
            s.replace(ZWSP, ""),
            "<at>CEO</at> https://evil.example www.evil.example me@x.io"
        );
        assert_eq!(inert("WwW.x"), "WwW\u{200B}.x");
        assert_eq!(inert("a:/b"), "a:/b");
        assert_eq!(inert("한국어 🚨"), "한국어 🚨");
    }

    #[test]
    fn markdown_is_escaped_in_facts() {
        assert_eq!(
            markdown_escape("*b* _i_ [l](u)"),
            "\\*b\\* \\_i\\_ \\[l\\](u)"
        );
        assert_eq!(markdown_escape("a\\b"), "a\\\\b");
        assert_eq!(
            markdown_escape("/aws/lambda/payments-api"),
            "/aws/lambda/payments-api"
        );
        assert_eq!(markdown_escape("- x"), "\\- x");
        assert_eq!(markdown_escape("# x"), "\\# x");
        assert_eq!(markdown_escape("12. x"), "12\\. x");
        assert_eq!(markdown_escape("1.5"), "1.5");
        assert_eq!(markdown_escape("3)"), "3\\)");
    }

    #[test]
    fn cuts_on_characters() {
        assert_eq!(cut("결제 인증실패 🚨", 20), "결제 인증실패 🚨");
        assert_eq!(cut("결제 인증실패 🚨", 4), "결제 …");
        assert_eq!(cut("abc", 0), "…");
    }

    #[test]
    fn budget_shrinks_to_nothing() {
        let mut b = Budget {
            sample_chars: 1_200,
            samples: 5,
            paragraph_chars: 1_500,
        };
        let mut steps = 0;
        while b.shrink() {
            steps += 1;
        }
        assert!(steps > 5 && b.samples == 0 && b.paragraph_chars <= 100);
    }
}
