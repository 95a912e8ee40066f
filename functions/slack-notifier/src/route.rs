//! Routing: an alert's channel → its [`Destination`], from one JSON map (`{"default": "https://
//! hooks.slack.com/…", "oncall": {"type": "pagerduty", …}}`, see [`crate::destination`]) kept in
//! Secrets Manager or an SSM SecureString, read once per container (at cold start, see `main.rs`)
//! and cached. A channel without an entry goes to `default`.
//!
//! URLs, tokens and keys are credentials: they never print themselves, and no error here contains
//! one.

use std::collections::BTreeMap;
use std::fmt;

use logalert::slack::incoming::DEFAULT_CHANNEL;
use tokio::sync::OnceCell;

pub use crate::destination::{Destination, WebhookUrl};

/// Where the channel → destination map lives.
#[derive(Clone, PartialEq, Eq)]
pub enum WebhookSource {
    /// A Secrets Manager secret id or ARN (`WEBHOOKS_SECRET_ID`), `SecretString` = the JSON map.
    SecretsManager(String),
    /// An SSM parameter name (`WEBHOOKS_SSM_PARAMETER`), read with decryption.
    Ssm(String),
    /// A map given directly as JSON text (tests, `logalert-slack --post`).
    Fixed(String),
}

impl fmt::Debug for WebhookSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookSource::SecretsManager(id) => f.debug_tuple("SecretsManager").field(id).finish(),
            WebhookSource::Ssm(name) => f.debug_tuple("Ssm").field(name).finish(),
            // Holds credentials.
            WebhookSource::Fixed(_) => f.write_str("Fixed(…)"),
        }
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
    #[error("the webhook map in {source_name} is invalid: {message}")]
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
    cache: OnceCell<BTreeMap<String, Destination>>,
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

    /// A fixed map of channel → Slack incoming-webhook URL (no AWS).
    pub fn fixed(map: BTreeMap<String, String>) -> Webhooks {
        Webhooks::fixed_json(&serde_json::to_value(map).expect("a map serialises"))
    }

    /// A fixed map in the secret's format (no AWS).
    pub fn fixed_json(map: &serde_json::Value) -> Webhooks {
        Webhooks::new(WebhookSource::Fixed(map.to_string()), None, None)
    }

    fn source_name(&self) -> String {
        match &self.source {
            WebhookSource::SecretsManager(id) => format!("Secrets Manager secret {id:?}"),
            WebhookSource::Ssm(name) => format!("SSM parameter {name:?}"),
            WebhookSource::Fixed(_) => "the fixed webhook map".into(),
        }
    }

    /// Read and check the map now (cold start), so a broken entry is reported before any alert.
    pub async fn preload(&self) -> Result<usize, RouteError> {
        Ok(self.cache.get_or_try_init(|| self.load()).await?.len())
    }

    /// The channel actually used (the one asked for, or `default`) and its destination.
    pub async fn resolve(&self, channel: &str) -> Result<(String, Destination), RouteError> {
        let map = self.cache.get_or_try_init(|| self.load()).await?;
        if let Some(d) = map.get(channel) {
            return Ok((channel.to_string(), d.clone()));
        }
        map.get(DEFAULT_CHANNEL)
            .map(|d| (DEFAULT_CHANNEL.to_string(), d.clone()))
            .ok_or_else(|| RouteError::NoWebhook {
                channel: channel.to_string(),
            })
    }

    async fn load(&self) -> Result<BTreeMap<String, Destination>, RouteError> {
        let load_err = |message: String| RouteError::Load {
            source_name: self.source_name(),
            message,
        };
        let text = match &self.source {
            WebhookSource::Fixed(text) => text.clone(),
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
        crate::destination::parse_map(&text).map_err(|message| RouteError::BadMap {
            source_name: self.source_name(),
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn routes_to_channel_or_default() {
        let hooks = Webhooks::fixed(BTreeMap::from([
            ("default".to_string(), "https://hooks.example/d".to_string()),
            ("ops".to_string(), "https://hooks.example/o".to_string()),
        ]));
        assert_eq!(
            hooks.resolve("ops").await.unwrap().1,
            Destination::SlackWebhook {
                url: WebhookUrl::parse("https://hooks.example/o").unwrap()
            }
        );
        let (channel, d) = hooks.resolve("unknown").await.unwrap();
        assert_eq!(
            (channel.as_str(), d.type_name()),
            ("default", "slack-webhook")
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
