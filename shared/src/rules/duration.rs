//! Durations in rules files: `30s`, `5m`, `1h30m`, `1.5h`, `2d`, `1w`, `0`, and everything else
//! jiff's "friendly" format reads (`90 minutes`, `1h 30m`, ISO 8601 `PT5M`), or ElastAlert's
//! `{minutes: 5}` mapping (handled by the loader, which calls [`unit_seconds`]).
//!
//! Parsing is jiff's ([`jiff::Span`]'s `FromStr`; days and weeks count 24 hours each); this module
//! only adds what a rules file needs on top: a bare number is refused (which unit?), months and
//! years are refused (no fixed length), and nothing may exceed [`MAX_DURATION`].

use std::time::Duration;

use jiff::{Span, SpanRelativeTo};

/// The longest duration a rules file may hold: 365 days. Longer windows and suppressions are
/// almost certainly a typo (`99999999999999d`), and state records expire on this scale.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 86_400);

const HINT: &str =
    "expected a duration such as `30s`, `5m`, `1h30m`, `1.5h` or `2d` (or `{minutes: 5}`)";

/// Parse a duration: `30s`, `5m`, `1h30m`, `1.5h`, `2d`, `1w`, `0`, …
///
/// ```
/// use logalert::rules::parse_duration;
/// assert_eq!(parse_duration("5m").unwrap().as_secs(), 300);
/// assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
/// assert_eq!(parse_duration("1.5h").unwrap().as_secs(), 5400);
/// assert_eq!(parse_duration("0").unwrap().as_secs(), 0);
/// assert!(parse_duration("5").is_err());
/// assert!(parse_duration("400d").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(format!("duration `{s}` has no unit: {HINT}"));
    }
    if s.starts_with('-') {
        return Err(format!("duration `{s}` is negative"));
    }
    let span: Span = match s.parse() {
        Ok(span) => span,
        Err(e) => return Err(explain(s, &e.to_string())),
    };
    if span.is_negative() {
        return Err(format!("duration `{s}` is negative"));
    }
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(format!(
            "duration `{s}`: months and years have no fixed length; write days (`30d`) or weeks"
        ));
    }
    let d = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|_| too_long(s))?;
    let d = Duration::try_from(d).map_err(|_| format!("duration `{s}` is negative"))?;
    if d > MAX_DURATION {
        return Err(too_long(s));
    }
    Ok(d)
}

/// Why jiff refused `s`, in rules-file words: an unknown unit gets named; a number too large for
/// its unit is the same mistake as one over [`MAX_DURATION`].
fn explain(s: &str, jiff: &str) -> String {
    let unit_start = s.find(|c: char| !(c.is_ascii_digit() || c == '.'));
    if let Some(i) = unit_start.filter(|&i| i > 0) {
        let unit = &s[i..];
        if unit.chars().all(|c| c.is_alphabetic() || c == ' ') {
            if format!("1{unit}").parse::<Span>().is_ok() {
                return too_long(s);
            }
            return format!("unknown duration unit `{unit}` in `{s}`: {HINT}");
        }
    }
    if jiff.contains("too big") || jiff.contains("out of range") || jiff.contains("overflow") {
        return too_long(s);
    }
    format!("invalid duration `{s}`: {HINT}")
}

fn too_long(s: &str) -> String {
    format!("duration `{s}` is longer than 365 days, the longest logalert accepts")
}

/// Seconds per unit of ElastAlert's mapping form (`{minutes: 5}`), or `None` for an unknown unit.
pub(super) fn unit_seconds(unit: &str) -> Option<u64> {
    Some(match unit {
        "seconds" => 1,
        "minutes" => 60,
        "hours" => 3600,
        "days" => 86_400,
        "weeks" => 604_800,
        _ => return None,
    })
}

/// The units of the mapping form, for "did you mean" hints.
pub(super) const MAPPING_UNITS: &[&str] = &["seconds", "minutes", "hours", "days", "weeks"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_compound_forms() {
        for (text, secs) in [
            ("30s", 30),
            ("2h", 7200),
            ("1d", 86400),
            ("1w", 604800),
            ("1h30m", 5400),
            ("1h 30m", 5400),
            ("1.5h", 5400),
            ("90 minutes", 5400),
            ("2 days", 172800),
            ("PT5M", 300),
            (" 5m ", 300),
            ("365d", 365 * 86400),
        ] {
            assert_eq!(parse_duration(text).unwrap().as_secs(), secs, "{text}");
        }
        assert_eq!(parse_duration("500ms").unwrap().as_millis(), 500);
    }

    #[test]
    fn errors_say_why() {
        let cases = [
            (
                "5x",
                "unknown duration unit `x` in `5x`: expected a duration such as `30s`, `5m`, `1h30m`, `1.5h` or `2d` (or `{minutes: 5}`)",
            ),
            (
                "m",
                "invalid duration `m`: expected a duration such as `30s`, `5m`, `1h30m`, `1.5h` or `2d` (or `{minutes: 5}`)",
            ),
            (
                "10",
                "duration `10` has no unit: expected a duration such as `30s`, `5m`, `1h30m`, `1.5h` or `2d` (or `{minutes: 5}`)",
            ),
            ("-5m", "duration `-5m` is negative"),
            (
                "366d",
                "duration `366d` is longer than 365 days, the longest logalert accepts",
            ),
            (
                "99999999999999d",
                "duration `99999999999999d` is longer than 365 days, the longest logalert accepts",
            ),
            (
                "99999999999999999999s",
                "duration `99999999999999999999s` is longer than 365 days, the longest logalert accepts",
            ),
            (
                "1mo",
                "duration `1mo`: months and years have no fixed length; write days (`30d`) or weeks",
            ),
            (
                "1y",
                "duration `1y`: months and years have no fixed length; write days (`30d`) or weeks",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text).unwrap_err(), want, "{text}");
        }
    }
}
