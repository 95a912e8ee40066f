//! Delivery to a Slack incoming webhook: a timeout on every request, retries with backoff for 5xx
//! and network failures, `Retry-After` honoured on 429 while the invocation has time left, and
//! permanent errors (`no_service`, `channel_not_found`, `channel_is_archived`, `invalid_payload`, …)
//! reported at once. Slack says: "interpret HTTP 200 as success and any other response as failure".
//!
//! No error or log line here contains the webhook URL (reqwest errors are stripped of it).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::route::WebhookUrl;

/// Retry policy and HTTP client.
#[derive(Debug, Clone)]
pub struct Deliverer {
    client: reqwest::Client,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Attempts for 5xx / network failures (429 waits are not limited by this, only by time).
    pub max_attempts: u32,
    /// First backoff; doubles per retry, capped at `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Time kept free before the invocation deadline (to record state and return).
    pub safety_margin: Duration,
}

/// A successful post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub attempts: u32,
}

impl Delivered {
    pub fn retries(&self) -> u32 {
        self.attempts.saturating_sub(1)
    }
}

/// Why a post failed. Never contains the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Slack refused the message for good (4xx other than 429): retrying cannot help.
    #[error("Slack rejected the message: HTTP {status} {error} (after {attempts} attempt(s))")]
    Permanent {
        status: u16,
        error: String,
        attempts: u32,
    },
    /// Rate limited, and waiting `retry_after` would pass the invocation deadline.
    #[error(
        "Slack rate limit (HTTP 429), Retry-After {retry_after:?} exceeds the time left (after {attempts} attempt(s))"
    )]
    RateLimited {
        retry_after: Duration,
        attempts: u32,
    },
    /// 5xx or network failures on every attempt.
    #[error("Slack unavailable: {last} (after {attempts} attempt(s))")]
    Exhausted { last: String, attempts: u32 },
    /// No time left in the invocation for another attempt.
    #[error("out of time before the invocation deadline: {last} (after {attempts} attempt(s))")]
    OutOfTime { last: String, attempts: u32 },
}

impl DeliveryError {
    pub fn attempts(&self) -> u32 {
        match self {
            DeliveryError::Permanent { attempts, .. }
            | DeliveryError::RateLimited { attempts, .. }
            | DeliveryError::Exhausted { attempts, .. }
            | DeliveryError::OutOfTime { attempts, .. } => *attempts,
        }
    }

    pub fn is_permanent(&self) -> bool {
        matches!(self, DeliveryError::Permanent { .. })
    }
}

enum Outcome {
    Done,
    Retry(String),
    Wait(Duration),
    Fail(DeliveryError),
}

/// Shortest request worth starting.
const MIN_ATTEMPT: Duration = Duration::from_millis(200);

impl Deliverer {
    pub fn new(timeout: Duration) -> Result<Deliverer, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .user_agent(concat!(
                "logalert-slack-notifier/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Deliverer {
            client,
            timeout,
            max_attempts: 4,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            safety_margin: Duration::from_millis(500),
        })
    }

    /// Post `payload` to `url`, retrying as described in the module docs, finishing before
    /// `deadline`.
    pub async fn post(
        &self,
        url: &WebhookUrl,
        payload: &Value,
        deadline: Instant,
    ) -> Result<Delivered, DeliveryError> {
        let mut attempts = 0u32;
        let mut failures = 0u32;
        let mut last = String::from("no attempt made");
        loop {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .saturating_sub(self.safety_margin);
            if left < MIN_ATTEMPT {
                return Err(DeliveryError::OutOfTime { last, attempts });
            }
            attempts += 1;
            let outcome = self.attempt(url, payload, self.timeout.min(left)).await;
            let wait = match outcome {
                Outcome::Done => return Ok(Delivered { attempts }),
                Outcome::Fail(e) => return Err(with_attempts(e, attempts)),
                Outcome::Wait(retry_after) => {
                    last = format!("HTTP 429 rate_limited, Retry-After {retry_after:?}");
                    let left = deadline
                        .saturating_duration_since(Instant::now())
                        .saturating_sub(self.safety_margin);
                    if retry_after + MIN_ATTEMPT > left {
                        return Err(DeliveryError::RateLimited {
                            retry_after,
                            attempts,
                        });
                    }
                    tracing::warn!(?retry_after, attempts, "Slack rate limit: waiting as asked");
                    retry_after
                }
                Outcome::Retry(why) => {
                    failures += 1;
                    last = why;
                    if failures >= self.max_attempts {
                        return Err(DeliveryError::Exhausted { last, attempts });
                    }
                    let backoff = self.backoff_for(failures);
                    let left = deadline
                        .saturating_duration_since(Instant::now())
                        .saturating_sub(self.safety_margin);
                    if backoff + MIN_ATTEMPT > left {
                        return Err(DeliveryError::OutOfTime { last, attempts });
                    }
                    tracing::warn!(error = %last, attempts, ?backoff, "Slack delivery failed: retrying");
                    backoff
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// `backoff × 2^(n-1)`, capped, plus up to 25 % jitter (so retries from many containers spread).
    fn backoff_for(&self, failures: u32) -> Duration {
        let base = self
            .backoff
            .saturating_mul(1u32 << failures.saturating_sub(1).min(16))
            .min(self.max_backoff);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        base + base.mul_f64(f64::from(nanos % 1000) / 4000.0)
    }

    async fn attempt(&self, url: &WebhookUrl, payload: &Value, timeout: Duration) -> Outcome {
        let response = self
            .client
            .post(url.expose())
            .timeout(timeout)
            .json(payload)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            // `without_url`: reqwest puts the URL in its Display otherwise.
            Err(e) => return Outcome::Retry(describe(e.without_url())),
        };
        let status = response.status();
        if status.is_success() {
            return Outcome::Done;
        }
        let retry_after = retry_after(response.headers());
        let body = match tokio::time::timeout(timeout, response.text()).await {
            Ok(Ok(text)) => text,
            _ => String::new(),
        };
        let error = slack_error(&body);
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Outcome::Wait(retry_after.unwrap_or(Duration::from_secs(1)));
        }
        if status.is_server_error() {
            return Outcome::Retry(format!("HTTP {} {error}", status.as_u16()));
        }
        Outcome::Fail(DeliveryError::Permanent {
            status: status.as_u16(),
            error,
            attempts: 0,
        })
    }
}

fn with_attempts(e: DeliveryError, n: u32) -> DeliveryError {
    match e {
        DeliveryError::Permanent { status, error, .. } => DeliveryError::Permanent {
            status,
            error,
            attempts: n,
        },
        other => other,
    }
}

fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "request timed out".to_string()
    } else if e.is_connect() {
        format!("cannot connect: {e}")
    } else {
        e.to_string()
    }
}

/// `Retry-After` in seconds (Slack sends seconds; an HTTP date is also accepted).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = jiff::fmt::rfc2822::parse(v).ok()?.timestamp();
    let secs = (when - jiff::Timestamp::now()).get_seconds().max(0);
    Some(Duration::from_secs(secs as u64))
}

/// Slack's error code from a webhook response body: plain text (`no_service`) or JSON
/// (`{"ok":false,"error":"rate_limited"}`). Cut to 100 characters.
fn slack_error(body: &str) -> String {
    let body = body.trim();
    let code = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.to_string());
    let code: String = code.chars().filter(|c| !c.is_control()).take(100).collect();
    if code.is_empty() {
        "(empty body)".into()
    } else {
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes() {
        assert_eq!(slack_error("no_service"), "no_service");
        assert_eq!(
            slack_error(r#"{"ok":false,"error":"rate_limited"}"#),
            "rate_limited"
        );
        assert_eq!(slack_error(""), "(empty body)");
        assert_eq!(slack_error(&"x".repeat(500)).len(), 100);
    }

    #[test]
    fn retry_after_forms() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn backoff_grows_and_caps() {
        let d = Deliverer::new(Duration::from_secs(1)).unwrap();
        let b1 = d.backoff_for(1);
        assert!(b1 >= Duration::from_millis(250) && b1 <= Duration::from_millis(313));
        let b3 = d.backoff_for(3);
        assert!(b3 >= Duration::from_secs(1));
        assert!(d.backoff_for(30) <= Duration::from_secs(5));
    }
}
