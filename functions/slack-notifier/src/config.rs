//! The notifier's configuration, from its environment (names fixed by the runtime contract in
//! `template.yaml`).

use std::collections::BTreeSet;
use std::time::Duration;

use logalert::slack::{RenderOptions, SlackFormat, redact::Redactor};

use crate::route::WebhookSource;

/// Everything the handler needs besides its clients.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the channel → webhook map lives.
    pub webhook_source: WebhookSource,
    /// The shared state table (DynamoDB), for de-duplication markers `sns#<MessageId>`.
    pub state_table: String,
    /// Timeout on every Slack request (`SLACK_TIMEOUT_MS`, default 5000).
    pub slack_timeout: Duration,
    /// Layout and redaction (`SLACK_FORMAT`, `REDACT_PATTERNS`).
    pub render: RenderOptions,
    /// Channels rendered with Block Kit whatever `SLACK_FORMAT` says (`SLACK_BLOCKS_CHANNELS`).
    pub blocks_channels: BTreeSet<String>,
    /// EMF namespace (`METRICS_NAMESPACE`, default `logalert`).
    pub metrics_namespace: String,
    /// How long a "delivered" marker is kept (SNS and Lambda retry for at most 6 hours after a
    /// failed invocation; a week leaves a wide margin).
    pub dedup_ttl: Duration,
    /// Log events shown under an alarm.
    pub alarm_max_events: usize,
}

/// A configuration problem, naming the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("{name}: {message}")]
    Invalid { name: &'static str, message: String },
}

impl Config {
    /// Read the configuration through `var` (use `|k| std::env::var(k).ok()` in Lambda).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |k: &str| {
            var(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let webhook_source = match (get("WEBHOOKS_SECRET_ID"), get("WEBHOOKS_SSM_PARAMETER")) {
            (Some(id), None) => WebhookSource::SecretsManager(id),
            (None, Some(name)) => WebhookSource::Ssm(name),
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid {
                    name: "WEBHOOKS_SECRET_ID",
                    message: "set either WEBHOOKS_SECRET_ID or WEBHOOKS_SSM_PARAMETER, not both"
                        .into(),
                });
            }
            (None, None) => {
                return Err(ConfigError::Missing(
                    "WEBHOOKS_SECRET_ID (or WEBHOOKS_SSM_PARAMETER)",
                ));
            }
        };
        let state_table = get("STATE_TABLE").ok_or(ConfigError::Missing("STATE_TABLE"))?;
        let slack_timeout = match get("SLACK_TIMEOUT_MS") {
            None => Duration::from_millis(5_000),
            Some(v) => match v.parse::<u64>() {
                Ok(ms) if (100..=60_000).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "SLACK_TIMEOUT_MS",
                        message: format!("{v:?} is not a number of milliseconds in 100..=60000"),
                    });
                }
            },
        };
        let format = match get("SLACK_FORMAT") {
            None => SlackFormat::Attachments,
            Some(v) => SlackFormat::parse(&v).ok_or_else(|| ConfigError::Invalid {
                name: "SLACK_FORMAT",
                message: format!("{v:?}: use attachments or blocks"),
            })?,
        };
        let redactor =
            Redactor::from_env_value(get("REDACT_PATTERNS").as_deref()).map_err(|e| {
                ConfigError::Invalid {
                    name: "REDACT_PATTERNS",
                    message: e.to_string(),
                }
            })?;
        let blocks_channels = get("SLACK_BLOCKS_CHANNELS")
            .map(|v| {
                v.split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Config {
            webhook_source,
            state_table,
            slack_timeout,
            render: RenderOptions {
                format,
                redactor,
                ..RenderOptions::default()
            },
            blocks_channels,
            metrics_namespace: get("METRICS_NAMESPACE").unwrap_or_else(|| "logalert".into()),
            dedup_ttl: Duration::from_secs(7 * 24 * 3600),
            alarm_max_events: 5,
        })
    }

    /// The layout for a channel: Block Kit if listed in `SLACK_BLOCKS_CHANNELS`, else `SLACK_FORMAT`.
    pub fn format_for(&self, channel: &str) -> SlackFormat {
        if self.blocks_channels.contains(channel) {
            SlackFormat::Blocks
        } else {
            self.render.format
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn minimal_and_defaults() {
        let c = Config::from_env(env(&[
            ("WEBHOOKS_SECRET_ID", "hooks"),
            ("STATE_TABLE", "t"),
        ]))
        .unwrap();
        assert_eq!(
            c.webhook_source,
            WebhookSource::SecretsManager("hooks".into())
        );
        assert_eq!(c.slack_timeout, Duration::from_millis(5000));
        assert_eq!(c.metrics_namespace, "logalert");
        assert_eq!(c.format_for("x"), SlackFormat::Attachments);
    }

    #[test]
    fn full() {
        let c = Config::from_env(env(&[
            ("WEBHOOKS_SSM_PARAMETER", "/logalert/hooks"),
            ("STATE_TABLE", "t"),
            ("SLACK_TIMEOUT_MS", "1500"),
            ("SLACK_FORMAT", "attachments"),
            ("SLACK_BLOCKS_CHANNELS", "ops, payments-oncall ,"),
            ("REDACT_PATTERNS", r#"["ssn=\\d+"]"#),
            ("METRICS_NAMESPACE", "acme"),
        ]))
        .unwrap();
        assert_eq!(
            c.webhook_source,
            WebhookSource::Ssm("/logalert/hooks".into())
        );
        assert_eq!(c.format_for("payments-oncall"), SlackFormat::Blocks);
        assert_eq!(c.format_for("default"), SlackFormat::Attachments);
        assert_eq!(c.render.redactor.redact("ssn=123"), "[REDACTED]");
    }

    #[test]
    fn errors_name_the_variable() {
        let e = Config::from_env(env(&[("STATE_TABLE", "t")])).unwrap_err();
        assert!(e.to_string().contains("WEBHOOKS_SECRET_ID"), "{e}");
        let e = Config::from_env(env(&[("WEBHOOKS_SECRET_ID", "h")])).unwrap_err();
        assert_eq!(e.to_string(), "STATE_TABLE is required");
        let base = [("WEBHOOKS_SECRET_ID", "h"), ("STATE_TABLE", "t")];
        for (k, v) in [
            ("SLACK_TIMEOUT_MS", "soon"),
            ("SLACK_FORMAT", "fancy"),
            ("REDACT_PATTERNS", r#"["(x"]"#),
            ("WEBHOOKS_SSM_PARAMETER", "also"),
        ] {
            let mut pairs = base.to_vec();
            pairs.push((k, v));
            let e = Config::from_env(env(&pairs)).unwrap_err();
            assert!(
                e.to_string().contains(if k == "WEBHOOKS_SSM_PARAMETER" {
                    "WEBHOOKS_SECRET_ID"
                } else {
                    k
                }),
                "{e}"
            );
        }
    }
}
