//! Destinations: what one entry of the channel map (the webhook secret) says to deliver to.
//!
//! The secret is a JSON object of channel → entry. An entry is either a URL (a Slack incoming
//! webhook, as before) or an object with a `type`:
//!
//! ```json
//! {
//!   "default":   "https://hooks.slack.com/services/T000/B000/XXXX",
//!   "ops":       {"type": "slack-webhook", "url": "https://hooks.slack.com/services/…"},
//!   "payments":  {"type": "slack-app", "token": "xoxb-…", "channel": "C0123ABCD"},
//!   "platform":  {"type": "teams", "url": "https://prod-00.westeurope.logic.azure.com/workflows/…"},
//!   "oncall":    {"type": "pagerduty", "routing_key": "R0UTINGKEY…"},
//!   "archive":   {"type": "webhook", "url": "https://hooks.example.com/logalert", "secret": "…"}
//! }
//! ```
//!
//! Optional keys: `pagerduty.url` (default `https://events.pagerduty.com/v2/enqueue`; the EU
//! service is `https://events.eu.pagerduty.com/v2/enqueue`), `slack-app.api_url` (default
//! `https://slack.com/api`). URLs must be `https://` (plain `http://` only for loopback
//! addresses: local test servers). Unknown keys are errors (a typo would otherwise be ignored).
//!
//! Every error names the channel and the key, never a value: the values are credentials.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// A credential (token, routing key, signing secret): never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The value itself: only for making the request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A destination URL. `Debug`/`Display` print only the host (the path of a webhook URL is its
/// credential).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

/// Why a URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    NotAUrl,
    NotHttps,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::NotAUrl => "is not a URL",
            UrlError::NotHttps => {
                "must use https:// (plain http:// is accepted only for loopback test servers)"
            }
        })
    }
}

impl WebhookUrl {
    /// `https://host/…`, or `http://` to a loopback address (127.0.0.0/8, `localhost`, `[::1]`).
    pub fn parse(url: &str) -> Result<WebhookUrl, UrlError> {
        let url = url.trim();
        let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            _ => return Err(UrlError::NotAUrl),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.is_empty()
            || authority.contains('@')
            || url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(UrlError::NotAUrl);
        }
        if !https && !is_loopback(authority) {
            return Err(UrlError::NotHttps);
        }
        Ok(WebhookUrl(url.to_string()))
    }

    /// The URL itself: only for making the request.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The same URL with `path` appended (`https://slack.com/api` + `/chat.postMessage`).
    pub fn join(&self, path: &str) -> WebhookUrl {
        WebhookUrl(format!(
            "{}/{}",
            self.0.trim_end_matches('/'),
            path.trim_start_matches('/')
        ))
    }

    fn host(&self) -> &str {
        let rest = self.0.split_once("://").map(|(_, r)| r).unwrap_or("");
        rest.split(['/', '?', '#']).next().unwrap_or("")
    }
}

fn is_loopback(authority: &str) -> bool {
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({}/…)", self.host())
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/…", self.host())
    }
}

pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";
pub const SLACK_API_URL: &str = "https://slack.com/api";

/// Where one channel's messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A Slack incoming webhook (not idempotent).
    SlackWebhook { url: WebhookUrl },
    /// A Slack app's bot token and a channel id: threads per incident, parent updated on resolve.
    SlackApp {
        token: Secret,
        channel_id: String,
        api_url: WebhookUrl,
    },
    /// A Microsoft Teams Workflows webhook (not idempotent).
    Teams { url: WebhookUrl },
    /// PagerDuty Events API v2 (idempotent on `dedup_key`).
    PagerDuty {
        routing_key: Secret,
        url: WebhookUrl,
    },
    /// A signed generic webhook (idempotent on the `Logalert-Alert-Id` header, by contract).
    Webhook { url: WebhookUrl, secret: Secret },
}

impl Destination {
    /// The URL requests go to (the Slack app: its API base).
    pub fn url(&self) -> &WebhookUrl {
        match self {
            Destination::SlackWebhook { url }
            | Destination::Teams { url }
            | Destination::PagerDuty { url, .. }
            | Destination::Webhook { url, .. } => url,
            Destination::SlackApp { api_url, .. } => api_url,
        }
    }

    /// The `type` name, also the metric dimension.
    pub fn type_name(&self) -> &'static str {
        match self {
            Destination::SlackWebhook { .. } => "slack-webhook",
            Destination::SlackApp { .. } => "slack-app",
            Destination::Teams { .. } => "teams",
            Destination::PagerDuty { .. } => "pagerduty",
            Destination::Webhook { .. } => "webhook",
        }
    }
}

pub const TYPES: [&str; 5] = [
    "slack-webhook",
    "slack-app",
    "teams",
    "pagerduty",
    "webhook",
];

/// Parse the whole channel map. Errors name the channel and key, never a value.
pub fn parse_map(text: &str) -> Result<BTreeMap<String, Destination>, String> {
    let raw: BTreeMap<String, Value> = serde_json::from_str(text)
        // serde_json's message can quote the input: keep only the position.
        .map_err(|e| format!("invalid JSON at line {} column {}", e.line(), e.column()))?;
    if raw.is_empty() {
        return Err("the map is empty".into());
    }
    let mut map = BTreeMap::new();
    let mut errors = Vec::new();
    for (channel, entry) in raw {
        match parse_entry(&entry) {
            Ok(d) => {
                map.insert(channel, d);
            }
            Err(e) => errors.push(format!("channel {channel:?}: {e}")),
        }
    }
    if errors.is_empty() {
        Ok(map)
    } else {
        Err(errors.join("; "))
    }
}

/// One entry: a URL string (Slack incoming webhook) or `{type, …}`.
pub fn parse_entry(entry: &Value) -> Result<Destination, String> {
    let obj = match entry {
        Value::String(url) => {
            return url_of(url, "the URL").map(|url| Destination::SlackWebhook { url });
        }
        Value::Object(obj) => obj,
        _ => return Err("must be a URL string or an object with a \"type\"".into()),
    };
    let ty = match obj.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(_) => return Err("\"type\" must be a string".into()),
        None => return Err(format!("has no \"type\" (one of {})", TYPES.join(", "))),
    };
    let allowed: &[&str] = match ty {
        "slack-webhook" | "teams" => &["type", "url"],
        "slack-app" => &["type", "token", "channel", "api_url"],
        "pagerduty" => &["type", "routing_key", "url"],
        "webhook" => &["type", "url", "secret"],
        _ => {
            let hint = TYPES
                .iter()
                .find(|t| strsim::levenshtein(t, &ty.to_ascii_lowercase()) <= 2)
                .map(|t| format!(" (did you mean {t:?}?)"))
                .unwrap_or_default();
            return Err(format!(
                "unknown type {:?}{hint}: use one of {}",
                cut(ty),
                TYPES.join(", ")
            ));
        }
    };
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "type {ty:?} has no key {:?} (keys: {})",
            cut(k),
            allowed[1..].join(", ")
        ));
    }
    let string = |key: &str| -> Result<Option<&str>, String> {
        match obj.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim())),
            Some(_) => Err(format!("\"{key}\" must be a non-empty string")),
        }
    };
    let required = |key: &str| -> Result<&str, String> {
        string(key)?.ok_or_else(|| format!("type {ty:?} needs \"{key}\""))
    };
    Ok(match ty {
        "slack-webhook" => Destination::SlackWebhook {
            url: url_of(required("url")?, "\"url\"")?,
        },
        "teams" => Destination::Teams {
            url: url_of(required("url")?, "\"url\"")?,
        },
        "slack-app" => {
            let token = required("token")?;
            if !token.starts_with("xoxb-") {
                return Err("\"token\" must be a Slack bot token (xoxb-…)".into());
            }
            let channel_id = required("channel")?;
            if !is_channel_id(channel_id) {
                return Err(
                    "\"channel\" must be a Slack channel id (C…, G… or D…, as in the channel's \"About\" tab), not a name"
                        .into(),
                );
            }
            Destination::SlackApp {
                token: Secret::new(token),
                channel_id: channel_id.to_string(),
                api_url: url_of(string("api_url")?.unwrap_or(SLACK_API_URL), "\"api_url\"")?,
            }
        }
        "pagerduty" => Destination::PagerDuty {
            routing_key: Secret::new(required("routing_key")?),
            url: url_of(string("url")?.unwrap_or(PAGERDUTY_EVENTS_URL), "\"url\"")?,
        },
        "webhook" => Destination::Webhook {
            url: url_of(required("url")?, "\"url\"")?,
            secret: Secret::new(required("secret")?),
        },
        _ => unreachable!("types checked above"),
    })
}

fn url_of(url: &str, what: &str) -> Result<WebhookUrl, String> {
    WebhookUrl::parse(url).map_err(|e| format!("{what} {e}"))
}

fn is_channel_id(id: &str) -> bool {
    let b = id.as_bytes();
    (9..=15).contains(&b.len())
        && matches!(b[0], b'C' | b'G' | b'D')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Names a user typed: shown cut (they are not secrets, but may be long).
fn cut(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_never_print() {
        let u = WebhookUrl::parse("https://hooks.slack.com/services/T0/B0/secret").unwrap();
        assert_eq!(format!("{u:?}"), "WebhookUrl(hooks.slack.com/…)");
        assert_eq!(u.to_string(), "hooks.slack.com/…");
        assert_eq!(format!("{:?}", Secret::new("xoxb-1")), "Secret(…)");
    }

    #[test]
    fn https_only_except_loopback() {
        assert!(WebhookUrl::parse("https://x.example/a").is_ok());
        for ok in [
            "http://127.0.0.1:9/x",
            "http://127.1.2.3/x",
            "http://localhost:8080/x",
            "http://[::1]:80/x",
        ] {
            assert!(WebhookUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://hooks.slack.com/services/x",
            "http://10.0.0.1/x",
            "http://127.0.0.1.evil.example/x",
            "http://localhost.evil.example/x",
        ] {
            assert_eq!(WebhookUrl::parse(bad), Err(UrlError::NotHttps), "{bad}");
        }
        for bad in [
            "ftp://x",
            "https://",
            "https://a b",
            "hooks.slack.com/x",
            "https://user:pw@x/",
        ] {
            assert_eq!(WebhookUrl::parse(bad), Err(UrlError::NotAUrl), "{bad}");
        }
    }

    #[test]
    fn every_type_parses() {
        let map = parse_map(
            &json!({
                "default": "https://hooks.slack.com/services/T/B/X",
                "a": {"type": "slack-webhook", "url": "https://hooks.slack.com/services/T/B/Y"},
                "b": {"type": "slack-app", "token": "xoxb-1-2-abc", "channel": "C0123ABCD"},
                "c": {"type": "teams", "url": "https://prod.logic.azure.com/workflows/1"},
                "d": {"type": "pagerduty", "routing_key": "R0UTE"},
                "e": {"type": "webhook", "url": "https://hooks.example/x", "secret": "s"},
                "f": {"type": "pagerduty", "routing_key": "R", "url": "https://events.eu.pagerduty.com/v2/enqueue"}
            })
            .to_string(),
        )
        .unwrap();
        let types: Vec<&str> = map.values().map(Destination::type_name).collect();
        assert_eq!(
            types,
            [
                "slack-webhook",
                "slack-app",
                "teams",
                "pagerduty",
                "slack-webhook",
                "webhook",
                "pagerduty"
            ]
        );
        let Destination::SlackApp { api_url, .. } = &map["b"] else {
            panic!()
        };
        assert_eq!(
            api_url.join("chat.postMessage").expose(),
            "https://slack.com/api/chat.postMessage"
        );
        let Destination::PagerDuty { url, .. } = &map["d"] else {
            panic!()
        };
        assert_eq!(url.expose(), PAGERDUTY_EVENTS_URL);
    }

    #[test]
    fn errors_name_the_channel_and_key_never_the_value() {
        let cases = [
            (
                json!({"ops": "http://hooks.slack.com/services/SECRET"}),
                "https",
            ),
            (json!({"ops": 42}), "URL string or an object"),
            (json!({"ops": {"url": "https://h/SECRET"}}), "no \"type\""),
            (
                json!({"ops": {"type": "pager-duty", "routing_key": "SECRET"}}),
                "did you mean \"pagerduty\"",
            ),
            (
                json!({"ops": {"type": "pagerduty"}}),
                "needs \"routing_key\"",
            ),
            (
                json!({"ops": {"type": "pagerduty", "routing_key": 12345}}),
                "\"routing_key\" must be a non-empty string",
            ),
            (
                json!({"ops": {"type": "webhook", "url": "https://h/x"}}),
                "needs \"secret\"",
            ),
            (
                json!({"ops": {"type": "webhook", "url": "https://h/x", "secret": "SECRET", "sekret": "x"}}),
                "no key \"sekret\"",
            ),
            (
                json!({"ops": {"type": "slack-app", "token": "SECRET", "channel": "C0123ABCD"}}),
                "bot token",
            ),
            (
                json!({"ops": {"type": "slack-app", "token": "xoxb-SECRET", "channel": "#ops"}}),
                "channel id",
            ),
            (
                json!({"ops": {"type": "teams", "url": "http://prod.logic.azure.com/SECRET"}}),
                "https",
            ),
        ];
        for (map, needle) in cases {
            let e = parse_map(&map.to_string()).unwrap_err();
            assert!(e.contains("channel \"ops\"") && e.contains(needle), "{e}");
            assert!(
                !e.contains("SECRET") && !e.contains("12345"),
                "leaks a value: {e}"
            );
        }
        // Every broken entry at once.
        let e =
            parse_map(&json!({"a": 1, "b": {"type": "teams"}, "c": "https://ok/x"}).to_string())
                .unwrap_err();
        assert!(
            e.contains("channel \"a\"") && e.contains("channel \"b\""),
            "{e}"
        );
        let e = parse_map(r#"{"default":"https://hooks.slack.com/services/SECRET"#).unwrap_err();
        assert!(!e.contains("SECRET") && e.contains("line 1"), "{e}");
        assert!(parse_map("{}").is_err());
    }
}
