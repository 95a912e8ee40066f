//! What an alert message says, read the same way by every destination: which stage of an incident
//! it is ([`Stage`]), its state label, a one-line headline of its counts, and the incident line.
//! Everything here is **plain, unescaped text**; each destination escapes it for its own markup.
//! Only numbers, times and fixed words are produced here, never log-derived text (the rule name and
//! subject are passed through by the destinations' own safe-text functions).
//!
//! ```
//! use logalert::alert::AlertMessage;
//! use logalert::render::view::{AlertView, Stage};
//! let mut alert: AlertMessage = serde_json::from_str(r#"{"version":1,"kind":"log-match",
//!   "alert_id":"a-2","incident_id":"i-1","incident_opened_at":1700000000000,"incident_total":12,
//!   "rule":{"name":"errors","type":"any","severity":"error","description":null},
//!   "account":"1","region":"us-east-1","log_group":"/app","query_key":null,
//!   "count":2,"suppressed":0,"first_timestamp":1700000840000,"last_timestamp":1700000840000,
//!   "samples":[],"truncated":false,"channel":"default","mention":[]}"#).unwrap();
//! let view = AlertView::of(&alert);
//! assert_eq!(view.stage, Stage::FollowUp);
//! assert_eq!(view.headline(), "2 more matches");
//! assert_eq!(view.incident_line().unwrap(), "open since 2023-11-14 22:13:20Z (14 min), 12 matches so far");
//! ```

use crate::alert::{AlertMessage, KIND_RESOLVED, KIND_SUMMARY, Severity};
use crate::links;

/// Where a publication sits in its incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The first alert of an incident (or an alert without incident information).
    First,
    /// A later alert of an open incident (the incident had matches before this one).
    FollowUp,
    /// The report of a realert window's suppressed matches, sent when the window closed.
    Summary,
    /// The end of the incident.
    Resolved,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::First => "first",
            Stage::FollowUp => "follow-up",
            Stage::Summary => "summary",
            Stage::Resolved => "resolved",
        }
    }
}

/// An alert message read for rendering.
#[derive(Debug, Clone, Copy)]
pub struct AlertView<'a> {
    pub alert: &'a AlertMessage,
    pub stage: Stage,
}

impl<'a> AlertView<'a> {
    pub fn of(alert: &'a AlertMessage) -> AlertView<'a> {
        let stage = match alert.kind.as_str() {
            KIND_SUMMARY => Stage::Summary,
            KIND_RESOLVED => Stage::Resolved,
            // A log-match is a follow-up when the incident counted matches before it.
            _ if alert
                .incident_total
                .is_some_and(|t| t > alert.count.saturating_add(alert.suppressed)) =>
            {
                Stage::FollowUp
            }
            _ => Stage::First,
        };
        AlertView { alert, stage }
    }

    /// The untrusted title: the rendered `alert_subject` as written, else the rule name.
    pub fn title_raw(&self) -> &'a str {
        self.alert
            .subject
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(&self.alert.rule.name)
    }

    /// `ERROR` / `CRITICAL` / … for alerts, `SUMMARY`, `RESOLVED`.
    pub fn state_label(&self) -> &'static str {
        match self.stage {
            Stage::Summary => "SUMMARY",
            Stage::Resolved => "RESOLVED",
            Stage::First | Stage::FollowUp => match self.alert.rule.severity {
                Severity::Critical => "CRITICAL",
                Severity::Error => "ERROR",
                Severity::Warning => "WARNING",
                Severity::Info => "INFO",
            },
        }
    }

    /// Whether the rule's mentions ping on this publication: alerts do; summaries and resolutions
    /// report on something people were already told about, so they do not ping again.
    pub fn pings(&self) -> bool {
        matches!(self.stage, Stage::First | Stage::FollowUp)
    }

    /// Matches this publication reports: a summary reports the suppressed ones (and any it carries
    /// as `count`); an alert its `count`.
    pub fn reported(&self) -> u64 {
        match self.stage {
            Stage::Summary => self.alert.count.saturating_add(self.alert.suppressed),
            _ => self.alert.count,
        }
    }

    /// The counts in words: `3 matches`, `2 more matches`, `42 matches (digest of 9 alerts over 10
    /// min)`, `12 matches while alerts were suppressed`,
    /// `quiet since 22:41:02Z, 57 matches in 42 min`.
    pub fn headline(&self) -> String {
        let a = self.alert;
        let digest = a
            .digest
            .as_ref()
            .map(|d| {
                format!(
                    " (digest of {} over {})",
                    plural(d.alerts, "alert"),
                    human_duration(d.window_ms)
                )
            })
            .unwrap_or_default();
        match self.stage {
            Stage::First => format!("{}{digest}", plural(a.count, "match")),
            Stage::FollowUp => {
                format!("{} more {}{digest}", a.count, plural_word(a.count, "match"))
            }
            Stage::Summary => format!(
                "{} while alerts were suppressed",
                plural(self.reported(), "match")
            ),
            Stage::Resolved => {
                let total = a
                    .incident_total
                    .unwrap_or(a.count.saturating_add(a.suppressed));
                let mut s = format!("quiet since {}", utc_label(a.last_timestamp));
                match a.incident_opened_at {
                    Some(opened) => s.push_str(&format!(
                        ", {} in {}",
                        plural(total, "match"),
                        human_duration(a.last_timestamp.saturating_sub(opened))
                    )),
                    None => s.push_str(&format!(", {}", plural(total, "match"))),
                }
                s
            }
        }
    }

    /// The incident so far: `open since 2023-11-14 22:13:20Z (14 min), 12 matches so far`; for a
    /// resolution, how long it lasted. `None` without incident information, and for the first alert
    /// (which *is* the incident's start).
    pub fn incident_line(&self) -> Option<String> {
        let a = self.alert;
        let opened = a.incident_opened_at?;
        let age = human_duration(a.decided_at.max(a.last_timestamp).saturating_sub(opened));
        match self.stage {
            Stage::First => None,
            Stage::FollowUp | Stage::Summary => Some(format!(
                "open since {} ({age}){}",
                utc_label(opened),
                a.incident_total
                    .map(|t| format!(", {} so far", plural(t, "match")))
                    .unwrap_or_default()
            )),
            Stage::Resolved => Some(format!(
                "opened {}, lasted {}{}",
                utc_label(opened),
                human_duration(a.last_timestamp.saturating_sub(opened)),
                a.incident_total
                    .map(|t| format!(", {} in total", plural(t, "match")))
                    .unwrap_or_default()
            )),
        }
    }

    /// How long the incident lasted (resolved), from its opening to its last match.
    pub fn duration_ms(&self) -> Option<i64> {
        self.alert
            .incident_opened_at
            .map(|o| self.alert.last_timestamp.saturating_sub(o).max(0))
    }

    /// The incident id shortened for a footer (`i-7f3a9c2e…`), or `None`.
    pub fn short_incident(&self) -> Option<String> {
        let id = self.alert.incident_id.trim();
        if id.is_empty() {
            return None;
        }
        let short: String = id.chars().take(12).collect();
        Some(if short.len() < id.len() {
            format!("{short}…")
        } else {
            short
        })
    }
}

/// The digest's summary table (`aggregation` + `summary_table_fields`) as aligned plain-text
/// lines for a monospace block: a header of the fields, one line per row (`count  value  value`),
/// and an "other" line when rows were left out. Every log-derived value goes through `clean`
/// (the destination's text pipeline: visible, one line, redacted) and is cut to `max_value`
/// characters; the caller escapes the result. `None` when the alert has no table.
pub fn summary_table_text(
    alert: &AlertMessage,
    clean: impl Fn(&str) -> String,
    max_value: usize,
) -> Option<String> {
    let t = alert.digest.as_ref()?.table.as_ref()?;
    let cut = |s: String| -> String {
        if s.chars().count() > max_value {
            let mut out: String = s.chars().take(max_value.saturating_sub(1)).collect();
            out.push('…');
            out
        } else {
            s
        }
    };
    let mut lines: Vec<Vec<String>> = Vec::new();
    lines.push(
        std::iter::once("count".to_string())
            .chain(t.fields.iter().map(|f| cut(clean(f))))
            .collect(),
    );
    for row in &t.rows {
        lines.push(
            std::iter::once(row.count.to_string())
                .chain(row.values.iter().map(|v| cut(clean(v))))
                .collect(),
        );
    }
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            lines
                .iter()
                .filter_map(|l| l.get(c))
                .map(|v| v.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out: Vec<String> = lines
        .iter()
        .map(|l| {
            l.iter()
                .enumerate()
                .map(|(c, v)| {
                    let pad = widths[c].saturating_sub(v.chars().count());
                    if c == 0 {
                        format!("{}{v}", " ".repeat(pad))
                    } else if c + 1 == l.len() {
                        v.clone()
                    } else {
                        format!("{v}{}", " ".repeat(pad))
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect();
    if t.other_rows > 0 || t.other_count > 0 {
        out.push(format!(
            "{:>w$}  ({} other {})",
            t.other_count,
            t.other_rows,
            plural_word(t.other_rows, "row"),
            w = widths.first().copied().unwrap_or(0)
        ));
    }
    Some(out.join("\n"))
}

/// `top_count_keys`: per key, its label and `value (count)` items (values through `clean`), and
/// the events with other values.
pub fn top_count_items(
    alert: &AlertMessage,
    clean: impl Fn(&str) -> String,
) -> Vec<(String, Vec<String>, u64)> {
    alert
        .top_counts
        .iter()
        .map(|t| {
            (
                clean(&t.key),
                t.values
                    .iter()
                    .map(|v| format!("{} ({})", clean(&v.value), v.count))
                    .collect(),
                t.other_count,
            )
        })
        .collect()
}

/// `1 match`, `3 matches`, `1 line`, `2 lines`.
pub fn plural(n: u64, one: &str) -> String {
    format!("{n} {}", plural_word(n, one))
}

pub fn plural_word(n: u64, one: &str) -> String {
    match (n, one.ends_with('h') || one.ends_with('s')) {
        (1, _) => one.to_string(),
        (_, true) => format!("{one}es"),
        (_, false) => format!("{one}s"),
    }
}

/// `2023-11-14 22:13:20Z` (seconds; UTC).
pub fn utc_label(ms: i64) -> String {
    let iso = links::iso_millis(ms);
    // `YYYY-MM-DDTHH:MM:SS.mmmZ` → `YYYY-MM-DD HH:MM:SSZ`
    match iso.split_once('.') {
        Some((head, _)) => format!("{}Z", head.replacen('T', " ", 1)),
        None => iso.replacen('T', " ", 1),
    }
}

/// A duration people read: `45 s`, `14 min`, `2 h 5 min`, `3 d 4 h`.
pub fn human_duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min", s / 60),
        3_600..86_400 => match (s % 3_600) / 60 {
            0 => format!("{} h", s / 3_600),
            m => format!("{} h {m} min", s / 3_600),
        },
        _ => match (s % 86_400) / 3_600 {
            0 => format!("{} d", s / 86_400),
            h => format!("{} d {h} h", s / 86_400),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertRule, KIND_LOG_MATCH};

    pub(crate) fn alert(kind: &str) -> AlertMessage {
        AlertMessage {
            version: 1,
            kind: kind.into(),
            alert_id: "a".into(),
            incident_id: "inc-0123456789abcdef".into(),
            decided_at: 1_700_000_900_000,
            rule: AlertRule {
                name: "r".into(),
                rule_type: "any".into(),
                severity: Severity::Warning,
                description: None,
                filter_pattern: None,
            },
            account: "1".into(),
            region: "us-east-1".into(),
            log_group: "/g".into(),
            query_key: None,
            count: 3,
            suppressed: 0,
            first_timestamp: 1_700_000_000_000,
            last_timestamp: 1_700_000_840_000,
            samples: vec![],
            truncated: false,
            channel: "c".into(),
            mention: vec![],
            subject: None,
            text: None,
            observation: None,
            incident_opened_at: Some(1_700_000_000_000),
            incident_total: Some(3),
            digest: None,
            top_counts: Vec::new(),
        }
    }

    #[test]
    fn stages() {
        let first = alert(KIND_LOG_MATCH);
        assert_eq!(AlertView::of(&first).stage, Stage::First);
        assert_eq!(AlertView::of(&first).headline(), "3 matches");
        assert_eq!(AlertView::of(&first).incident_line(), None);
        assert!(AlertView::of(&first).pings());
        let mut follow = alert(KIND_LOG_MATCH);
        follow.incident_total = Some(4);
        follow.count = 1;
        let v = AlertView::of(&follow);
        assert_eq!(
            (v.stage, v.headline().as_str()),
            (Stage::FollowUp, "1 more match")
        );
        assert_eq!(
            v.incident_line().unwrap(),
            "open since 2023-11-14 22:13:20Z (15 min), 4 matches so far"
        );
        // Suppressed matches carried by this alert count as its own, not the incident's past.
        follow.suppressed = 3;
        assert_eq!(AlertView::of(&follow).stage, Stage::First);
        // No incident information (messages before engine v2): a first alert.
        let mut old = alert(KIND_LOG_MATCH);
        old.incident_total = None;
        old.incident_opened_at = None;
        assert_eq!(AlertView::of(&old).stage, Stage::First);
    }

    #[test]
    fn summary_and_resolved() {
        let mut s = alert(KIND_SUMMARY);
        s.count = 0;
        s.suppressed = 12;
        let v = AlertView::of(&s);
        assert_eq!(v.stage, Stage::Summary);
        assert_eq!(v.reported(), 12);
        assert_eq!(v.headline(), "12 matches while alerts were suppressed");
        assert_eq!(v.state_label(), "SUMMARY");
        assert!(!v.pings());
        let mut r = alert(KIND_RESOLVED);
        r.incident_total = Some(57);
        let v = AlertView::of(&r);
        assert_eq!(v.stage, Stage::Resolved);
        assert_eq!(
            v.headline(),
            "quiet since 2023-11-14 22:27:20Z, 57 matches in 14 min"
        );
        assert_eq!(
            v.incident_line().unwrap(),
            "opened 2023-11-14 22:13:20Z, lasted 14 min, 57 matches in total"
        );
        assert_eq!(v.duration_ms(), Some(840_000));
        assert!(!v.pings());
        assert_eq!(v.short_incident().unwrap(), "inc-01234567…");
    }

    #[test]
    fn summary_table_and_top_counts_read_aligned() {
        use crate::alert::{Digest, SummaryTable, TableRow, TopCount, TopValue};
        let mut a = alert(KIND_LOG_MATCH);
        assert_eq!(summary_table_text(&a, str::to_string, 40), None);
        a.digest = Some(Digest {
            window_ms: 600_000,
            alerts: 3,
            table: Some(SummaryTable {
                fields: vec!["$.code".into(), "$.host".into()],
                rows: vec![
                    TableRow {
                        values: vec!["E1".into(), "web-1".into()],
                        count: 120,
                    },
                    TableRow {
                        values: vec!["E22".into(), "x".repeat(50)],
                        count: 7,
                    },
                ],
                other_rows: 2,
                other_count: 5,
            }),
        });
        assert_eq!(
            AlertView::of(&a).headline(),
            "3 matches (digest of 3 alerts over 10 min)"
        );
        let text = summary_table_text(&a, |s| s.to_uppercase(), 10).unwrap();
        assert_eq!(
            text,
            "count  $.CODE  $.HOST\n  120  E1      WEB-1\n    7  E22     XXXXXXXXX…\n    5  (2 other rows)"
        );
        a.top_counts = vec![TopCount {
            key: "$.user".into(),
            values: vec![TopValue {
                value: "alice".into(),
                count: 4,
            }],
            other_count: 1,
        }];
        assert_eq!(
            top_count_items(&a, str::to_string),
            vec![("$.user".to_string(), vec!["alice (4)".to_string()], 1)]
        );
    }

    #[test]
    fn durations_and_words() {
        assert_eq!(human_duration(-5), "0 s");
        assert_eq!(human_duration(59_999), "59 s");
        assert_eq!(human_duration(60_000), "1 min");
        assert_eq!(human_duration(3_600_000), "1 h");
        assert_eq!(human_duration(7_500_000), "2 h 5 min");
        assert_eq!(human_duration(86_400_000), "1 d");
        assert_eq!(human_duration(100_000_000), "1 d 3 h");
        assert_eq!(
            human_duration(i64::MAX),
            format!("{} d 7 h", i64::MAX / 1000 / 86_400)
        );
        assert_eq!(plural(1, "match"), "1 match");
        assert_eq!(plural(0, "match"), "0 matches");
        assert_eq!(plural(2, "line"), "2 lines");
        assert_eq!(utc_label(0), "1970-01-01 00:00:00Z");
        assert!(utc_label(i64::MIN).ends_with('Z') && utc_label(i64::MAX).ends_with('Z'));
    }
}
