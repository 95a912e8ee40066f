//! CloudWatch console deep links: a log stream (or a whole log group) at a time window with a filter
//! pattern applied, a Logs Insights query over a log group and window, and an alarm's page.
//!
//! ```
//! use logalert::links::{LogEventsLink, log_events_url};
//! let url = log_events_url(&LogEventsLink {
//!     region: "us-east-1",
//!     log_group: "/aws/lambda/WorkerFunction",
//!     log_stream: Some("2022/05/24/[$LATEST]1f89"),
//!     start_ms: 1_649_602_800_000,
//!     end_ms: 1_649_689_199_000,
//!     filter_pattern: Some("\"REQUEST_ID\""),
//! });
//! assert_eq!(
//!     url,
//!     "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1\
//!      #logsV2:log-groups/log-group/$252Faws$252Flambda$252FWorkerFunction\
//!      /log-events/2022$252F05$252F24$252F$255B$2524LATEST$255D1f89\
//!      $3Fstart$3D1649602800000$26end$3D1649689199000$26filterPattern$3D$2522REQUEST_ID$2522"
//! );
//! ```
//!
//! The console's fragment format is not documented by AWS; it is the de-facto format that the console
//! itself produces and that public link builders reproduce (see
//! `shared/reference/filter-patterns.md` §5 in the project notes):
//!
//! * a log group or stream name is `encodeURIComponent` applied **twice**, then every `%` replaced by
//!   `$` (`/` → `$252F`, `[` → `$255B`, `$` → `$2524`);
//! * the query part of the log-events view is `encodeURIComponent("?" + params)` with `%` → `$`, where
//!   the params are `start=<ms>&end=<ms>&filterPattern=<encodeURIComponent(pattern)>`;
//! * the Logs Insights `queryDetail` is a rison-like object whose structural characters `~ ( ) '` are
//!   double-encoded with `%` → `$` (`$257E`, `$2528`, `$2529`, `$2527`) and whose string values are
//!   URL-encoded once with `%` → `*`.
//!
//! URLs are not escaped for Slack here; callers put them inside `<url|label>` after checking them with
//! [`crate::slack::escape`]. Every character these functions emit is in `[A-Za-z0-9$*_.~!'()-]` plus the
//! fixed punctuation of the URL itself, so none of Slack's control characters (`<`, `>`, `|`, `&` outside
//! the query string) can appear.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters JavaScript's `encodeURIComponent` leaves alone: `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Characters left alone in a Logs Insights string value (`*` is the escape character there, so it
/// is encoded too, as are `~ ( ) '`, which are structural).
const INSIGHTS_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// JavaScript's `encodeURIComponent`.
pub fn encode_uri_component(s: &str) -> String {
    utf8_percent_encode(s, URI_COMPONENT).to_string()
}

/// The console's encoding of a log group or stream name: `encodeURIComponent` twice, `%` → `$`.
pub fn console_encode_name(name: &str) -> String {
    encode_uri_component(&encode_uri_component(name)).replace('%', "$")
}

/// The console origin for a region: `https://{region}.console.aws.amazon.com`, with the China
/// (`cn-*` → `console.amazonaws.cn`) and GovCloud (`us-gov-*` → `console.amazonaws-us-gov.com`)
/// partitions. A region that is not a plain `[a-z0-9-]` name falls back to `us-east-1` so that a
/// hostile value can never change the host.
pub fn console_origin(region: &str) -> String {
    let region = sanitize_region(region);
    let domain = if region.starts_with("cn-") {
        "console.amazonaws.cn"
    } else if region.starts_with("us-gov-") {
        "console.amazonaws-us-gov.com"
    } else {
        "console.aws.amazon.com"
    };
    format!("https://{region}.{domain}")
}

fn sanitize_region(region: &str) -> &str {
    let ok = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok { region } else { "us-east-1" }
}

fn cloudwatch_home(region: &str) -> String {
    let region = sanitize_region(region);
    format!("{}/cloudwatch/home?region={region}", console_origin(region))
}

/// What a log-events link shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogEventsLink<'a> {
    pub region: &'a str,
    pub log_group: &'a str,
    /// `None`: search every stream of the group ("Search log group" view).
    pub log_stream: Option<&'a str>,
    /// Window shown, epoch milliseconds.
    pub start_ms: i64,
    pub end_ms: i64,
    /// A CloudWatch filter pattern applied in the view.
    pub filter_pattern: Option<&'a str>,
}

/// A link to the log events of a stream (or of a whole group) in a time window, optionally filtered.
pub fn log_events_url(link: &LogEventsLink<'_>) -> String {
    let mut url = format!(
        "{}#logsV2:log-groups/log-group/{}/log-events",
        cloudwatch_home(link.region),
        console_encode_name(link.log_group)
    );
    if let Some(stream) = link.log_stream {
        url.push('/');
        url.push_str(&console_encode_name(stream));
    }
    let mut query = format!("?start={}&end={}", link.start_ms, link.end_ms);
    if let Some(pattern) = link.filter_pattern.filter(|p| !p.trim().is_empty()) {
        query.push_str("&filterPattern=");
        query.push_str(&encode_uri_component(pattern));
    }
    url.push_str(&encode_uri_component(&query).replace('%', "$"));
    url
}

/// A link to a log group's page (streams list).
pub fn log_group_url(region: &str, log_group: &str) -> String {
    format!(
        "{}#logsV2:log-groups/log-group/{}",
        cloudwatch_home(region),
        console_encode_name(log_group)
    )
}

/// The log groups list (the fallback when a more precise link would be too long).
pub fn log_groups_url(region: &str) -> String {
    format!("{}#logsV2:log-groups", cloudwatch_home(region))
}

/// The Logs Insights page with no query (the fallback when a query link would be too long).
pub fn insights_home_url(region: &str) -> String {
    format!("{}#logsV2:logs-insights", cloudwatch_home(region))
}

/// The default Logs Insights query behind [`insights_url`] links: the newest events first.
pub const DEFAULT_INSIGHTS_QUERY: &str =
    "fields @timestamp, @logStream, @message\n| sort @timestamp desc\n| limit 100";

/// A Logs Insights link running `query` over `log_groups` in an absolute window (epoch ms), shown
/// in the reader's local time zone.
///
/// String values are percent-encoded (every byte except `A-Z a-z 0-9 - _ .`) and then `%` → `*`. The
/// reference builder writes a space as `+`; this writes `*20`, which decodes the same way and cannot be
/// confused with a literal `+`.
pub fn insights_url(
    region: &str,
    log_groups: &[&str],
    start_ms: i64,
    end_ms: i64,
    query: &str,
) -> String {
    const T: &str = "$257E"; // ~
    const OPEN: &str = "$2528"; // (
    const CLOSE: &str = "$2529"; // )
    const Q: &str = "$2527"; // '
    let value = |s: &str| {
        utf8_percent_encode(s, INSIGHTS_VALUE)
            .to_string()
            .replace('%', "*")
    };
    let mut detail = format!(
        "{T}{OPEN}end{T}{Q}{end}{T}start{T}{Q}{start}{T}timeType{T}{Q}ABSOLUTE{T}tz{T}{Q}Local\
         {T}editorString{T}{Q}{query}{T}isLiveTail{T}false",
        end = value(&iso_millis(end_ms)),
        start = value(&iso_millis(start_ms)),
        query = value(query),
    );
    if !log_groups.is_empty() {
        detail.push_str(&format!("{T}source{T}{OPEN}"));
        for group in log_groups {
            detail.push_str(&format!("{T}{Q}{}", value(group)));
        }
        detail.push_str(CLOSE);
    }
    detail.push_str(CLOSE);
    format!(
        "{}#logsV2:logs-insights$3FqueryDetail$3D{detail}",
        cloudwatch_home(region)
    )
}

/// A link to a CloudWatch alarm's page.
pub fn alarm_url(region: &str, alarm_name: &str) -> String {
    format!(
        "{}#alarmsV2:alarm/{}",
        cloudwatch_home(region),
        encode_uri_component(alarm_name)
    )
}

/// The alarms list.
pub fn alarms_url(region: &str) -> String {
    format!("{}#alarmsV2:", cloudwatch_home(region))
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC) for epoch milliseconds; out-of-range values are clamped.
pub fn iso_millis(ms: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    });
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_names_like_the_console() {
        assert_eq!(
            console_encode_name("/aws/lambda/WorkerFunction"),
            "$252Faws$252Flambda$252FWorkerFunction"
        );
        assert_eq!(
            console_encode_name("2022/05/24/[$LATEST]1f89"),
            "2022$252F05$252F24$252F$255B$2524LATEST$255D1f89"
        );
        // Non-ASCII: UTF-8 bytes, double-encoded.
        assert_eq!(
            console_encode_name("로그"),
            "$25EB$25A1$259C$25EA$25B7$25B8"
        );
        // encodeURIComponent's unreserved punctuation passes through.
        assert_eq!(
            console_encode_name("a-b_c.d!e~f*g'h(i)"),
            "a-b_c.d!e~f*g'h(i)"
        );
        assert_eq!(console_encode_name("a b"), "a$2520b");
    }

    #[test]
    fn log_events_link_without_stream_or_pattern() {
        let url = log_events_url(&LogEventsLink {
            region: "eu-west-1",
            log_group: "app",
            log_stream: None,
            start_ms: 1,
            end_ms: 2,
            filter_pattern: Some("  "),
        });
        assert_eq!(
            url,
            "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1\
             #logsV2:log-groups/log-group/app/log-events$3Fstart$3D1$26end$3D2"
        );
    }

    #[test]
    fn filter_pattern_is_encoded_twice() {
        let url = log_events_url(&LogEventsLink {
            region: "us-east-1",
            log_group: "g",
            log_stream: Some("s"),
            start_ms: 0,
            end_ms: 10,
            filter_pattern: Some(r#"{ $.level = "ERROR" }"#),
        });
        assert!(
            url.ends_with(
                "$26filterPattern$3D$257B$2520$2524.level$2520$253D$2520$2522ERROR$2522$2520$257D"
            ),
            "{url}"
        );
    }

    #[test]
    fn partitions_and_hostile_regions() {
        assert_eq!(
            console_origin("cn-north-1"),
            "https://cn-north-1.console.amazonaws.cn"
        );
        assert_eq!(
            console_origin("us-gov-west-1"),
            "https://us-gov-west-1.console.amazonaws-us-gov.com"
        );
        assert_eq!(
            console_origin("evil.com/x?"),
            "https://us-east-1.console.aws.amazon.com"
        );
        assert_eq!(
            console_origin(""),
            "https://us-east-1.console.aws.amazon.com"
        );
    }

    #[test]
    fn insights_link_matches_reference_layout() {
        let url = insights_url(
            "ap-northeast-1",
            &["/aws/cloudtrail"],
            1_700_000_000_000,
            1_700_000_060_000,
            "fields @timestamp, @message\n| sort @timestamp desc",
        );
        assert_eq!(
            url,
            "https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1\
             #logsV2:logs-insights$3FqueryDetail$3D$257E$2528\
             end$257E$25272023-11-14T22*3A14*3A20.000Z$257E\
             start$257E$25272023-11-14T22*3A13*3A20.000Z$257E\
             timeType$257E$2527ABSOLUTE$257E\
             tz$257E$2527Local$257E\
             editorString$257E$2527fields*20*40timestamp*2C*20*40message*0A*7C*20sort*20*40timestamp*20desc$257E\
             isLiveTail$257Efalse$257E\
             source$257E$2528$257E$2527*2Faws*2Fcloudtrail$2529$2529"
        );
    }

    #[test]
    fn insights_values_escape_the_escape_character_and_structure() {
        let url = insights_url("us-east-1", &["g~(x)'*"], 0, 0, "");
        assert!(url.contains("$2527g*7E*28x*29*27*2A$2529"), "{url}");
    }

    #[test]
    fn alarm_link() {
        assert_eq!(
            alarm_url("us-east-1", "High 5xx / api"),
            "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1\
             #alarmsV2:alarm/High%205xx%20%2F%20api"
        );
    }

    #[test]
    fn iso_millis_formats_and_clamps() {
        assert_eq!(iso_millis(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(
            iso_millis(i64::MAX),
            iso_millis(jiff::Timestamp::MAX.as_millisecond())
        );
        assert_eq!(
            iso_millis(i64::MIN),
            iso_millis(jiff::Timestamp::MIN.as_millisecond())
        );
        assert_ne!(iso_millis(i64::MAX), iso_millis(i64::MIN));
    }
}
