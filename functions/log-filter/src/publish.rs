//! Publish: alerts to the SNS topic (`ALERTS_TOPIC_ARN`), one `Publish` per alert.
//!
//! One `Publish` per alert rather than `PublishBatch`: an invocation sends at most one alert per
//! (rule, query key), each alert may approach SNS's 256 KiB limit on its own (which is also the
//! limit of a whole `PublishBatch` request), and per-alert results keep failure handling simple.
//! The SDK retries throttling and transient errors itself; on top of that each alert gets
//! [`PUBLISH_ATTEMPTS`] attempts with back-off before it counts as failed, which fails the
//! invocation (direct) or its records (Kinesis) so nothing is lost.

use std::time::Duration;

use aws_sdk_sns::types::MessageAttributeValue;
use logalert::engine::{AlertSink, Publication};

/// Attempts per alert (each of which includes the SDK's own retries).
pub const PUBLISH_ATTEMPTS: u32 = 3;

/// The SNS side of log-filter.
#[derive(Debug, Clone)]
pub struct SnsSink {
    client: aws_sdk_sns::Client,
    topic_arn: String,
    backoff: Duration,
}

impl SnsSink {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> SnsSink {
        SnsSink {
            client,
            topic_arn: topic_arn.into(),
            backoff: Duration::from_millis(200),
        }
    }

    /// Back-off before the second attempt (doubled before each later one).
    pub fn with_backoff(mut self, backoff: Duration) -> SnsSink {
        self.backoff = backoff;
        self
    }

    async fn publish_one(&self, p: &Publication) -> Result<(), String> {
        let mut last = String::new();
        for attempt in 0..PUBLISH_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(self.backoff * 2u32.pow(attempt - 1)).await;
            }
            let mut req = self
                .client
                .publish()
                .topic_arn(&self.topic_arn)
                .subject(&p.subject)
                .message(&p.body);
            for (name, value) in &p.attributes {
                let attr = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(value)
                    .build()
                    .map_err(|e| e.to_string())?;
                req = req.message_attributes(name, attr);
            }
            match req.send().await {
                Ok(out) => {
                    tracing::info!(
                        rule = %p.alert.rule.name,
                        query_key = p.alert.query_key.as_deref().unwrap_or(""),
                        count = p.alert.count,
                        message_id = out.message_id().unwrap_or(""),
                        "alert published"
                    );
                    return Ok(());
                }
                Err(e) => {
                    last = aws_sdk_sns::error::DisplayErrorContext(&e).to_string();
                    tracing::warn!(rule = %p.alert.rule.name, attempt = attempt + 1, error = %last, "SNS publish failed");
                }
            }
        }
        Err(format!(
            "SNS Publish failed after {PUBLISH_ATTEMPTS} attempts: {last}"
        ))
    }
}

impl AlertSink for SnsSink {
    async fn publish(&self, publications: &[Publication]) -> Vec<Result<(), String>> {
        let mut results = Vec::with_capacity(publications.len());
        for p in publications {
            results.push(self.publish_one(p).await);
        }
        results
    }
}
