//! # slack-notifier
//!
//! The Lambda function subscribed to logalert's SNS topic. For each SNS record:
//! **receive** ([`receive`]) → classify (logalert alert, CloudWatch alarm, anything else) →
//! de-duplicate ([`dedup`]) → **enrich** alarms with the log lines behind them ([`enrich`]) →
//! **render** (`logalert::slack`, pure) → **route** to the channel's webhook ([`route`]) →
//! **deliver** with retries and rate-limit handling ([`deliver`]) → metrics ([`metrics`]).
//!
//! ```no_run
//! # async fn demo(event: lambda_runtime::LambdaEvent<aws_lambda_events::event::sns::SnsEvent>) {
//! use slack_notifier::{Notifier, config::Config, route::Webhooks, deliver::Deliverer, handle};
//! let config = Config::from_env(|k| std::env::var(k).ok()).unwrap();
//! let notifier = Notifier {
//!     state: logalert::state::MemoryStore::default(),
//!     webhooks: Webhooks::new(config.webhook_source.clone(), None, None),
//!     deliverer: Deliverer::new(config.slack_timeout).unwrap(),
//!     logs: None,
//!     config,
//! };
//! let summary = handle(&notifier, event).await;
//! # }
//! ```
//!
//! Nothing is lost: a record that cannot be delivered makes the invocation fail (after the other
//! records were tried), so Lambda retries it and, after its retries, sends it to the dead-letter
//! destination. Records already delivered are skipped on the retry (de-duplication).

pub mod config;
pub mod dedup;
pub mod deliver;
pub mod enrich;
pub mod metrics;
pub mod receive;
pub mod route;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::LambdaEvent;
use logalert::alarm::AlarmState;
use logalert::slack::{Incoming, SnsEnvelope, render_incoming};
use logalert::state::StateStore;
use serde_json::{Value, json};

use crate::config::Config;
use crate::dedup::Claim;
use crate::deliver::{Deliverer, DeliveryError};
use crate::metrics::Counters;
use crate::route::Webhooks;

/// Time budget assumed when the context carries no deadline (in-process tests use
/// `Context::default()`, whose deadline is 0).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(30);

/// The function's clients and configuration, built once per container by `main.rs`.
pub struct Notifier<S> {
    pub config: Config,
    pub state: S,
    pub webhooks: Webhooks,
    pub deliverer: Deliverer,
    /// CloudWatch Logs, for alarm enrichment (`None`: alarms are posted without log lines).
    pub logs: Option<aws_sdk_cloudwatchlogs::Client>,
}

/// What happened to one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    Delivered {
        channel: String,
        attempts: u32,
    },
    Duplicate,
    Failed {
        channel: String,
        error: String,
        permanent: bool,
    },
}

/// The invocation error: which messages failed and why (channel names, never URLs).
#[derive(Debug, thiserror::Error)]
#[error("{} of {total} SNS message(s) not delivered: {}", failures.len(), failures.join("; "))]
pub struct NotDelivered {
    pub total: usize,
    pub failures: Vec<String>,
}

impl From<NotDelivered> for lambda_runtime::Diagnostic {
    fn from(e: NotDelivered) -> lambda_runtime::Diagnostic {
        lambda_runtime::Diagnostic {
            error_type: "SlackNotDelivered".into(),
            error_message: e.to_string(),
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The invocation deadline as an `Instant` and as epoch ms.
fn deadline_of(ctx: &lambda_runtime::Context) -> (Instant, i64) {
    let now = now_ms();
    // Real Lambda never starts an invocation whose deadline has passed; a deadline at or before now
    // (0 in `Context::default()`; `cargo lambda watch` sends 600000, a duration) means "unknown": use the default
    // budget rather than refusing to deliver at all.
    let deadline_ms = if (ctx.deadline as i64) <= now {
        if ctx.deadline != 0 {
            tracing::warn!(
                deadline_ms = ctx.deadline,
                now_ms = now,
                "context deadline already passed; using the default time budget"
            );
        }
        now + DEFAULT_BUDGET.as_millis() as i64
    } else {
        ctx.deadline as i64
    };
    let left = Duration::from_millis(deadline_ms.saturating_sub(now).max(0) as u64);
    (Instant::now() + left, deadline_ms)
}

/// The Lambda handler: deliver every record; fail the invocation if any record could not be
/// delivered. Returns a summary (`{"delivered":n,"duplicates":n,"records":[…]}`).
pub async fn handle<S: StateStore>(
    notifier: &Notifier<S>,
    event: LambdaEvent<SnsEvent>,
) -> Result<Value, NotDelivered> {
    let (deadline, deadline_ms) = deadline_of(&event.context);
    let request_id = event.context.request_id.clone();
    let mut counters = Counters::default();
    let mut outcomes = Vec::new();
    let envelopes = receive::envelopes(&event.payload);
    for env in &envelopes {
        let outcome = process(
            notifier,
            env,
            &request_id,
            deadline,
            deadline_ms,
            &mut counters,
        )
        .await;
        outcomes.push(outcome);
    }
    for line in counters.emf_lines(&notifier.config.metrics_namespace, now_ms()) {
        println!("{line}");
    }
    let failures: Vec<String> = envelopes
        .iter()
        .zip(&outcomes)
        .filter_map(|(env, o)| match o {
            RecordOutcome::Failed { channel, error, .. } => Some(format!(
                "MessageId {} (channel {channel:?}): {error}",
                env.message_id.as_deref().unwrap_or("?")
            )),
            _ => None,
        })
        .collect();
    if !failures.is_empty() {
        return Err(NotDelivered {
            total: envelopes.len(),
            failures,
        });
    }
    Ok(json!({
        "delivered": counters.delivered,
        "duplicates": counters.duplicates_skipped,
        "records": outcomes.iter().map(|o| match o {
            RecordOutcome::Delivered { channel, attempts } => json!({"status": "delivered", "channel": channel, "attempts": attempts}),
            RecordOutcome::Duplicate => json!({"status": "duplicate"}),
            RecordOutcome::Failed { .. } => json!({"status": "failed"}),
        }).collect::<Vec<_>>(),
    }))
}

async fn process<S: StateStore>(
    notifier: &Notifier<S>,
    env: &SnsEnvelope,
    request_id: &str,
    deadline: Instant,
    deadline_ms: i64,
    counters: &mut Counters,
) -> RecordOutcome {
    let config = &notifier.config;
    let ttl = config.dedup_ttl.as_secs() as i64;
    let incoming = Incoming::classify(&env.message);
    let channel = incoming.channel(env.attribute("channel")).to_string();
    let message_id = env.message_id.clone().unwrap_or_default();
    let span = tracing::info_span!("record", message_id = %message_id, kind = incoming.kind(), channel = %channel);
    let _guard = span.enter();

    // De-duplicate (records without a MessageId cannot be, and are delivered).
    let claim = if message_id.is_empty() {
        Claim::Unavailable("no MessageId".into())
    } else {
        dedup::claim(
            &notifier.state,
            &message_id,
            request_id,
            deadline_ms,
            now_ms(),
            ttl,
        )
        .await
    };
    match &claim {
        Claim::Delivered => {
            tracing::info!("already delivered: skipping duplicate");
            counters.duplicates_skipped += 1;
            return RecordOutcome::Duplicate;
        }
        Claim::InFlight { owner } => {
            tracing::warn!(%owner, "another invocation is delivering this message; failing so Lambda retries later");
            return RecordOutcome::Failed {
                channel,
                error: format!("being delivered by another invocation ({owner}); retry later"),
                permanent: false,
            };
        }
        Claim::Unavailable(e) => {
            tracing::warn!(error = %e, "state table unavailable: delivering without de-duplication")
        }
        Claim::Owned { .. } => {}
    }

    // Enrich alarms that fired.
    let mut enrichment = None;
    if let (Incoming::Alarm(alarm), Some(logs)) = (&incoming, &notifier.logs)
        && alarm.new_state() == AlarmState::Alarm
    {
        let budget = deadline.saturating_duration_since(Instant::now()) / 3;
        let budget = budget.min(Duration::from_secs(10));
        match tokio::time::timeout(
            budget,
            enrich::alarm_logs(logs, alarm, config.alarm_max_events),
        )
        .await
        {
            Ok(found) => enrichment = found,
            Err(_) => {
                enrichment = Some(logalert::alarm::AlarmEnrichment {
                    failure: Some(format!("CloudWatch Logs did not answer within {budget:?}")),
                    ..Default::default()
                })
            }
        }
        if let Some(failure) = enrichment.as_ref().and_then(|e| e.failure.as_deref()) {
            tracing::warn!(%failure, "alarm enrichment failed: posting the plain alarm");
            counters.enrichment_failures += 1;
        }
    }

    // Route, render, deliver.
    let result: Result<(String, u32), (String, String, bool)> = async {
        let (used_channel, url) = notifier
            .webhooks
            .resolve(&channel)
            .await
            .map_err(|e| (channel.clone(), e.to_string(), !e.is_transient()))?;
        let opts = config.render.with_format(config.format_for(&channel));
        let payload = render_incoming(&incoming, env.subject.as_deref(), enrichment.as_ref(), &opts);
        match notifier.deliverer.post(&url, &payload, deadline).await {
            Ok(d) => Ok((used_channel, d.attempts)),
            Err(e) => {
                counters.retries += u64::from(e.attempts().saturating_sub(1));
                let permanent = e.is_permanent();
                if let DeliveryError::Permanent { status, error, .. } = &e {
                    tracing::error!(webhook_channel = %used_channel, status, error = %error, "Slack rejected the message permanently");
                }
                Err((used_channel, e.to_string(), permanent))
            }
        }
    }
    .await;

    let now = now_ms();
    match result {
        Ok((used_channel, attempts)) => {
            counters.delivered += 1;
            counters.retries += u64::from(attempts.saturating_sub(1));
            tracing::info!(webhook_channel = %used_channel, attempts, "delivered to Slack");
            if let Claim::Owned { version } = claim
                && let Err(e) = dedup::settle(
                    &notifier.state,
                    &message_id,
                    version,
                    true,
                    &used_channel,
                    now,
                    ttl,
                )
                .await
            {
                // Never fail after a successful post: a retry would post again.
                tracing::warn!(error = %e, "delivered, but the de-duplication marker was not written");
            }
            RecordOutcome::Delivered {
                channel: used_channel,
                attempts,
            }
        }
        Err((used_channel, error, permanent)) => {
            if permanent {
                *counters
                    .permanent_failures
                    .entry(used_channel.clone())
                    .or_default() += 1;
            }
            tracing::error!(webhook_channel = %used_channel, %error, permanent, "not delivered");
            if let Claim::Owned { version } = claim
                && let Err(e) = dedup::settle(
                    &notifier.state,
                    &message_id,
                    version,
                    false,
                    &used_channel,
                    now,
                    ttl,
                )
                .await
            {
                tracing::warn!(error = %e, "could not release the de-duplication claim");
            }
            RecordOutcome::Failed {
                channel: used_channel,
                error,
                permanent,
            }
        }
    }
}
