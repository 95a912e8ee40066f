//! Delivery over HTTP to any destination: a timeout on every request, retries with backoff for 5xx
//! and connect failures, `Retry-After` honoured on 429 while the invocation has time left, permanent
//! errors (other 4xx, 3xx: redirects are never followed) reported at once.
//!
//! **Maybe delivered.** Once a request has been sent, a timeout (or a connection lost before the
//! answer) does not say whether the destination acted on it. A destination that de-duplicates
//! ([`Idempotence::Idempotent`]: PagerDuty's `dedup_key`, a webhook receiver keyed on `alert_id`) is
//! simply sent the request again. One that cannot (a Slack incoming webhook, `chat.postMessage`,
//! a Teams Workflow: [`Idempotence::NotIdempotent`]) is **not**: the attempt ends with
//! [`DeliveryError::MaybeDelivered`], which the handler logs, counts (`SlackUncertainDeliveries`)
//! and records so no retry posts it again. A duplicate chat message is the failure people notice;
//! an uncertain one is counted and alarmed on.
//!
//! No error or log line here contains the URL (reqwest errors are stripped of it).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::destination::WebhookUrl;

/// Whether the destination recognises a repeated request as the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotence {
    /// Re-sending is harmless: uncertain attempts are retried like connect failures.
    Idempotent,
    /// Re-sending may duplicate: an uncertain attempt ends the delivery as "maybe delivered".
    NotIdempotent,
}

/// One HTTP POST to a destination. The body is bytes so that a signature covers exactly what is sent.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub url: &'a WebhookUrl,
    pub body: Vec<u8>,
    /// Extra headers (`Content-Type: application/json` unless one is given here).
    pub headers: Vec<(String, String)>,
    pub idempotence: Idempotence,
}

impl<'a> Request<'a> {
    /// A JSON POST.
    pub fn json(url: &'a WebhookUrl, payload: &Value, idempotence: Idempotence) -> Request<'a> {
        Request {
            url,
            body: serde_json::to_vec(payload).expect("a JSON value serialises"),
            headers: Vec::new(),
            idempotence,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Request<'a> {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

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

/// A successful (2xx) answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub attempts: u32,
    pub status: u16,
    /// The response body (Slack's Web API answers `{"ok":…,"ts":…}` with HTTP 200).
    pub body: String,
}

impl Delivered {
    pub fn retries(&self) -> u32 {
        self.attempts.saturating_sub(1)
    }
}

/// Why a delivery failed. Never contains the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The destination refused the message for good (4xx other than 429, or a redirect): retrying
    /// cannot help.
    #[error("rejected the message: HTTP {status} {error} (after {attempts} attempt(s))")]
    Permanent {
        status: u16,
        error: String,
        attempts: u32,
    },
    /// Rate limited, and waiting `retry_after` would pass the invocation deadline.
    #[error(
        "rate limit (HTTP 429), Retry-After {retry_after:?} exceeds the time left (after {attempts} attempt(s))"
    )]
    RateLimited {
        retry_after: Duration,
        attempts: u32,
    },
    /// 5xx or network failures on every attempt.
    #[error("unavailable: {last} (after {attempts} attempt(s))")]
    Exhausted { last: String, attempts: u32 },
    /// No time left in the invocation for another attempt.
    #[error("out of time before the invocation deadline: {last} (after {attempts} attempt(s))")]
    OutOfTime { last: String, attempts: u32 },
    /// The request was sent and no answer came back; the destination cannot de-duplicate, so it is
    /// not sent again (see the module docs).
    #[error(
        "maybe delivered: {last} after the request was sent; not re-sent (after {attempts} attempt(s))"
    )]
    MaybeDelivered { last: String, attempts: u32 },
}

impl DeliveryError {
    pub fn attempts(&self) -> u32 {
        match self {
            DeliveryError::Permanent { attempts, .. }
            | DeliveryError::RateLimited { attempts, .. }
            | DeliveryError::Exhausted { attempts, .. }
            | DeliveryError::OutOfTime { attempts, .. }
            | DeliveryError::MaybeDelivered { attempts, .. } => *attempts,
        }
    }

    pub fn is_permanent(&self) -> bool {
        matches!(self, DeliveryError::Permanent { .. })
    }

    pub fn is_maybe_delivered(&self) -> bool {
        matches!(self, DeliveryError::MaybeDelivered { .. })
    }
}

enum Outcome {
    Done(Delivered),
    /// Not delivered (nothing reached the destination, or it answered 5xx): retry.
    Retry(String),
    /// Sent, no answer.
    Uncertain(String),
    Wait(Duration),
    Fail(DeliveryError),
}

/// Shortest request worth starting.
const MIN_ATTEMPT: Duration = Duration::from_millis(200);

impl Deliverer {
    pub fn new(timeout: Duration) -> Result<Deliverer, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            // Shorter than the request timeout, so a connection that never opens is reported as a
            // connect failure (retried), not as a request timeout (maybe delivered).
            .connect_timeout((timeout / 2).min(Duration::from_secs(3)))
            // A destination that redirects is misconfigured (or an attacker's): never follow it.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("logalert-notifier/", env!("CARGO_PKG_VERSION")))
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

    /// Post `payload` to a Slack incoming webhook (not idempotent), finishing before `deadline`.
    pub async fn post(
        &self,
        url: &WebhookUrl,
        payload: &Value,
        deadline: Instant,
    ) -> Result<Delivered, DeliveryError> {
        self.send(
            &Request::json(url, payload, Idempotence::NotIdempotent),
            deadline,
        )
        .await
    }

    /// Send `request`, retrying as described in the module docs, finishing before `deadline`.
    pub async fn send(
        &self,
        request: &Request<'_>,
        deadline: Instant,
    ) -> Result<Delivered, DeliveryError> {
        let mut attempts = 0u32;
        let mut failures = 0u32;
        let mut last = String::from("no attempt made");
        loop {
            let left = self.left(deadline);
            if left < MIN_ATTEMPT {
                return Err(DeliveryError::OutOfTime { last, attempts });
            }
            attempts += 1;
            let outcome = self.attempt(request, self.timeout.min(left)).await;
            let outcome = match (outcome, request.idempotence) {
                (Outcome::Uncertain(why), Idempotence::NotIdempotent) => {
                    return Err(DeliveryError::MaybeDelivered {
                        last: why,
                        attempts,
                    });
                }
                (Outcome::Uncertain(why), Idempotence::Idempotent) => Outcome::Retry(why),
                (other, _) => other,
            };
            let wait = match outcome {
                Outcome::Done(d) => return Ok(Delivered { attempts, ..d }),
                Outcome::Fail(e) => return Err(with_attempts(e, attempts)),
                Outcome::Wait(retry_after) => {
                    last = format!("HTTP 429, Retry-After {retry_after:?}");
                    if retry_after + MIN_ATTEMPT > self.left(deadline) {
                        return Err(DeliveryError::RateLimited {
                            retry_after,
                            attempts,
                        });
                    }
                    tracing::warn!(?retry_after, attempts, "rate limited: waiting as asked");
                    retry_after
                }
                Outcome::Retry(why) | Outcome::Uncertain(why) => {
                    failures += 1;
                    last = why;
                    if failures >= self.max_attempts {
                        return Err(DeliveryError::Exhausted { last, attempts });
                    }
                    let backoff = self.backoff_for(failures);
                    if backoff + MIN_ATTEMPT > self.left(deadline) {
                        return Err(DeliveryError::OutOfTime { last, attempts });
                    }
                    tracing::warn!(error = %last, attempts, ?backoff, "delivery failed: retrying");
                    backoff
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn left(&self, deadline: Instant) -> Duration {
        deadline
            .saturating_duration_since(Instant::now())
            .saturating_sub(self.safety_margin)
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

    async fn attempt(&self, request: &Request<'_>, timeout: Duration) -> Outcome {
        let mut builder = self
            .client
            .post(request.url.expose())
            .timeout(timeout)
            .body(request.body.clone());
        if !request
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            builder = builder.header(reqwest::header::CONTENT_TYPE, "application/json");
        }
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let response = match builder.send().await {
            Ok(r) => r,
            // `without_url`: reqwest puts the URL in its Display otherwise.
            Err(e) => return classify_send_error(e.without_url()),
        };
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = match tokio::time::timeout(timeout, response.text()).await {
            Ok(Ok(text)) => text,
            _ => String::new(),
        };
        if status.is_success() {
            return Outcome::Done(Delivered {
                attempts: 0,
                status: status.as_u16(),
                body,
            });
        }
        let error = error_code(&body);
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Outcome::Wait(retry_after.unwrap_or(Duration::from_secs(1)));
        }
        if status.is_server_error() {
            return Outcome::Retry(format!("HTTP {} {error}", status.as_u16()));
        }
        let error = if status.is_redirection() {
            "redirect (not followed: point the secret at the final URL)".to_string()
        } else {
            error
        };
        Outcome::Fail(DeliveryError::Permanent {
            status: status.as_u16(),
            error,
            attempts: 0,
        })
    }
}

/// A failed `send()`: nothing was sent when the connection could not be made; anything later (a
/// timeout waiting for the answer, a connection lost mid-exchange) leaves the outcome unknown.
fn classify_send_error(e: reqwest::Error) -> Outcome {
    if e.is_connect() {
        Outcome::Retry(format!("cannot connect: {e}"))
    } else if e.is_builder() {
        Outcome::Fail(DeliveryError::Permanent {
            status: 0,
            error: format!("invalid request: {e}"),
            attempts: 0,
        })
    } else if e.is_timeout() {
        Outcome::Uncertain("request timed out".to_string())
    } else {
        Outcome::Uncertain(format!("no answer: {e}"))
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

/// `Retry-After` in seconds (Slack sends seconds; an HTTP date is also accepted).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
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

/// The error code from a response body: plain text (`no_service`) or JSON (Slack
/// `{"ok":false,"error":"rate_limited"}`, PagerDuty `{"status":"invalid event","message":…}`).
/// Control characters dropped, cut to 100 characters.
pub fn error_code(body: &str) -> String {
    let body = body.trim();
    let code = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            ["error", "message", "status"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
        })
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
        assert_eq!(error_code("no_service"), "no_service");
        assert_eq!(
            error_code(r#"{"ok":false,"error":"rate_limited"}"#),
            "rate_limited"
        );
        assert_eq!(
            error_code(r#"{"status":"invalid event","message":"Event object is invalid"}"#),
            "Event object is invalid"
        );
        assert_eq!(error_code(""), "(empty body)");
        assert_eq!(error_code(&"x".repeat(500)).len(), 100);
        assert_eq!(error_code("a\u{1b}[31mb\n"), "a[31mb");
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
