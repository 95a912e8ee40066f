//! Routing: an alert's channel → its incoming-webhook URL, from one JSON map (`{"default": "https://
//! hooks.slack.com/…", "payments-oncall": "…"}`) kept in Secrets Manager or an SSM SecureString, read
//! once per container and cached. A channel without an entry goes to `default`.
//!
//! Webhook URLs are credentials: [`WebhookUrl`] never prints itself, and no error here contains one.

use std::collections::BTreeMap;
use std::fmt;

use logalert::slack::incoming::DEFAULT_CHANNEL;
use tokio::sync::OnceCell;

/// Where the channel → webhook map lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookSource {
    /// A Secrets Manager secret id or ARN (`WEBHOOKS_SECRET_ID`), `SecretString` = the JSON map.
    SecretsManager(String),
    /// An SSM parameter name (`WEBHOOKS_SSM_PARAMETER`), read with decryption.
    Ssm(String),
    /// A map given directly (tests, `logalert-slack --post`).
    Fixed(BTreeMap<String, String>),
}

/// An incoming-webhook URL. `Debug`/`Display` print only the host.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Accepts `https://…` (and `http://…`, for local Slack stand-ins).
    pub fn parse(url: &str) -> Option<WebhookUrl> {
        let url = url.trim();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        (!host.is_empty() && !url.chars().any(char::is_whitespace)).then(|| WebhookUrl(url.into()))
    }

    /// The URL itself: only for making the request.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn host(&self) -> &str {
        let rest = self.0.split_once("://").map(|(_, r)| r).unwrap_or("");
        rest.split(['/', '?', '#']).next().unwrap_or("")
    }
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

/// Why a channel has no usable webhook. Never contains a URL.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RouteError {
    #[error("cannot read the webhook map from {source_name}: {message}")]
    Load {
        source_name: String,
        message: String,
    },
    #[error("the webhook map in {source_name} is not a JSON object of channel → URL: {message}")]
    BadMap {
        source_name: String,
        message: String,
    },
    #[error("no webhook for channel {channel:?} and no \"default\" entry in the webhook map")]
    NoWebhook { channel: String },
}

impl RouteError {
    /// A load failure may be transient (retry); the others need a configuration change.
    pub fn is_transient(&self) -> bool {
        matches!(self, RouteError::Load { .. })
    }
}

/// The webhook map, loaded on first use and cached for the container's life.
pub struct Webhooks {
    source: WebhookSource,
    secrets: Option<aws_sdk_secretsmanager::Client>,
    ssm: Option<aws_sdk_ssm::Client>,
    cache: OnceCell<BTreeMap<String, WebhookUrl>>,
}

impl fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhooks")
            .field("source", &self.source_name())
            .finish_non_exhaustive()
    }
}

impl Webhooks {
    pub fn new(
        source: WebhookSource,
        secrets: Option<aws_sdk_secretsmanager::Client>,
        ssm: Option<aws_sdk_ssm::Client>,
    ) -> Webhooks {
        Webhooks {
            source,
            secrets,
            ssm,
            cache: OnceCell::new(),
        }
    }

    /// A fixed map (no AWS).
    pub fn fixed(map: BTreeMap<String, String>) -> Webhooks {
        Webhooks::new(WebhookSource::Fixed(map), None, None)
    }

    fn source_name(&self) -> String {
        match &self.source {
            WebhookSource::SecretsManager(id) => format!("Secrets Manager secret {id:?}"),
            WebhookSource::Ssm(name) => format!("SSM parameter {name:?}"),
            WebhookSource::Fixed(_) => "the fixed webhook map".into(),
        }
    }

    /// The channel actually used (the one asked for, or `default`) and its webhook.
    pub async fn resolve(&self, channel: &str) -> Result<(String, WebhookUrl), RouteError> {
        let map = self.cache.get_or_try_init(|| self.load()).await?;
        if let Some(url) = map.get(channel) {
            return Ok((channel.to_string(), url.clone()));
        }
        map.get(DEFAULT_CHANNEL)
            .map(|url| (DEFAULT_CHANNEL.to_string(), url.clone()))
            .ok_or_else(|| RouteError::NoWebhook {
                channel: channel.to_string(),
            })
    }

    async fn load(&self) -> Result<BTreeMap<String, WebhookUrl>, RouteError> {
        let load_err = |message: String| RouteError::Load {
            source_name: self.source_name(),
            message,
        };
        let text = match &self.source {
            WebhookSource::Fixed(map) => serde_json::to_string(map).expect("a map serializes"),
            WebhookSource::SecretsManager(id) => {
                let client = self
                    .secrets
                    .as_ref()
                    .ok_or_else(|| load_err("no Secrets Manager client".into()))?;
                let out = client
                    .get_secret_value()
                    .secret_id(id)
                    .send()
                    .await
                    .map_err(|e| {
                        load_err(aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string())
                    })?;
                out.secret_string
                    .ok_or_else(|| load_err("the secret has no SecretString".into()))?
            }
            WebhookSource::Ssm(name) => {
                let client = self
                    .ssm
                    .as_ref()
                    .ok_or_else(|| load_err("no SSM client".into()))?;
                let out = client
                    .get_parameter()
                    .name(name)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| {
                        load_err(aws_sdk_ssm::error::DisplayErrorContext(&e).to_string())
                    })?;
                out.parameter
                    .and_then(|p| p.value)
                    .ok_or_else(|| load_err("the parameter has no value".into()))?
            }
        };
        parse_map(&text).map_err(|message| RouteError::BadMap {
            source_name: self.source_name(),
            message,
        })
    }
}

/// Parse and check the map. Errors name channels, never URLs.
pub fn parse_map(text: &str) -> Result<BTreeMap<String, WebhookUrl>, String> {
    let raw: BTreeMap<String, serde_json::Value> = serde_json::from_str(text)
        // serde_json's message can quote the input: keep only the position.
        .map_err(|e| format!("invalid JSON at line {} column {}", e.line(), e.column()))?;
    let mut map = BTreeMap::new();
    for (channel, v) in raw {
        let url = v
            .as_str()
            .and_then(WebhookUrl::parse)
            .ok_or_else(|| format!("the entry for channel {channel:?} is not an http(s) URL"))?;
        map.insert(channel, url);
    }
    if map.is_empty() {
        return Err("the map is empty".into());
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_never_print() {
        let u = WebhookUrl::parse("https://hooks.slack.com/services/T0/B0/secret").unwrap();
        assert_eq!(format!("{u:?}"), "WebhookUrl(hooks.slack.com/…)");
        assert_eq!(u.to_string(), "hooks.slack.com/…");
        assert!(WebhookUrl::parse("ftp://x").is_none());
        assert!(WebhookUrl::parse("https://").is_none());
        assert!(WebhookUrl::parse("http://127.0.0.1:9/x").is_some());
    }

    #[test]
    fn map_errors_name_channels_not_urls() {
        let e =
            parse_map(r#"{"default":"https://hooks.slack.com/services/x","ops":"nope-secret"}"#)
                .unwrap_err();
        assert!(
            e.contains("\"ops\"") && !e.contains("nope-secret") && !e.contains("hooks"),
            "{e}"
        );
        let e = parse_map(r#"{"default":"https://hooks.slack.com/services/SECRET"#).unwrap_err();
        assert!(!e.contains("SECRET"), "{e}");
        assert!(parse_map("{}").is_err());
    }

    #[tokio::test]
    async fn routes_to_channel_or_default() {
        let hooks = Webhooks::fixed(BTreeMap::from([
            ("default".to_string(), "https://hooks.example/d".to_string()),
            ("ops".to_string(), "https://hooks.example/o".to_string()),
        ]));
        assert_eq!(
            hooks.resolve("ops").await.unwrap().1.expose(),
            "https://hooks.example/o"
        );
        let (channel, url) = hooks.resolve("unknown").await.unwrap();
        assert_eq!(
            (channel.as_str(), url.expose()),
            ("default", "https://hooks.example/d")
        );
        let no_default = Webhooks::fixed(BTreeMap::from([("ops".into(), "https://h/o".into())]));
        assert_eq!(
            no_default.resolve("x").await.unwrap_err(),
            RouteError::NoWebhook {
                channel: "x".into()
            }
        );
    }
}
