//! Durations in rules files: `30s`, `5m`, `2h`, `1d`, `0`, or ElastAlert's `{minutes: 5}` mapping
//! (the mapping form is handled by the loader, which calls [`unit_seconds`]).

use std::time::Duration;

/// Parse `30s`, `5m`, `2h`, `1d`, `1w` or `0`.
///
/// ```
/// use logalert::rules::parse_duration;
/// assert_eq!(parse_duration("5m").unwrap().as_secs(), 300);
/// assert_eq!(parse_duration("0").unwrap().as_secs(), 0);
/// assert!(parse_duration("5").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let hint = "expected a duration such as `30s`, `5m`, `2h`, `1d` (or `{minutes: 5}`)";
    if digits.is_empty() {
        return Err(format!("invalid duration `{s}`: {hint}"));
    }
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid duration `{s}`: number too large"))?;
    if unit.is_empty() {
        return Err(format!("duration `{s}` has no unit: {hint}"));
    }
    let per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("unknown duration unit `{unit}` in `{s}`: {hint}")),
    };
    n.checked_mul(per)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("invalid duration `{s}`: too large"))
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
    fn units() {
        assert_eq!(parse_duration("30s").unwrap().as_secs(), 30);
        assert_eq!(parse_duration("2h").unwrap().as_secs(), 7200);
        assert_eq!(parse_duration("1d").unwrap().as_secs(), 86400);
        assert_eq!(parse_duration("1w").unwrap().as_secs(), 604800);
    }

    #[test]
    fn errors_say_why() {
        assert_eq!(
            parse_duration("5x").unwrap_err(),
            "unknown duration unit `x` in `5x`: expected a duration such as `30s`, `5m`, `2h`, `1d` (or `{minutes: 5}`)"
        );
        assert!(
            parse_duration("m")
                .unwrap_err()
                .starts_with("invalid duration `m`")
        );
        assert!(parse_duration("10").unwrap_err().contains("has no unit"));
        assert!(parse_duration("99999999999999999999s").is_err());
        assert!(parse_duration("-5m").is_err());
    }
}
