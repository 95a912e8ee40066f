//! # slack-notifier
//!
//! The Lambda function subscribed to logalert's SNS topic. For each SNS record:
//! **receive** ([`receive`]) → classify (logalert alert, CloudWatch alarm, anything else) →
//! de-duplicate on the alert id ([`dedup`]) → **enrich** alarms with the log lines behind them
//! ([`enrich`]) → **route** to the channel's destination ([`route`], [`destination`]: Slack webhook
//! or app, Teams, PagerDuty, signed webhook) → **render** (`logalert::slack`, `logalert::render`,
//! pure) and **deliver** per destination ([`destinations`]) over HTTP with retries, rate limits and
//! the "maybe delivered" rule ([`deliver`]) → metrics ([`metrics`]).
//!
//! ```no_run
//! # async fn demo(event: lambda_runtime::LambdaEvent<aws_lambda_events::event::sns::SnsEvent>) {
//! use slack_notifier::{Notifier, config::Config, route::Webhooks, deliver::Deliverer, handle};
//! let config = Config::from_env(|k| std::env::var(k).ok()).unwrap();
//! let notifier = Notifier {
//!     state: logalert::state::MemoryStore::default(),
//!     webhooks: Webhooks::new(config.webhook_source.clone(), None, None),
//!     deliverer: Deliverer::new(config.slack_timeout).unwrap(),
//!     pacer: Default::default(),
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
pub mod destination;
pub mod destinations;
pub mod enrich;
pub mod metrics;
pub mod receive;
pub mod route;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::LambdaEvent;
use logalert::alarm::AlarmState;
use logalert::slack::{Incoming, SnsEnvelope};
use logalert::state::StateStore;
use serde_json::{Value, json};

use crate::config::Config;
use crate::dedup::{Claim, Settled};
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
    /// Spaces Slack app posts per channel (about one message per second).
    pub pacer: destinations::slack_app::Pacer,
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
    /// Not for this notifier (an alarm of another account): logged and counted, not posted.
    Ignored {
        reason: String,
    },
    /// Sent, no answer: counted, recorded, not re-posted, and not an invocation failure.
    MaybeDelivered {
        channel: String,
        error: String,
    },
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
/// delivered. Returns a summary (`{"delivered":n,"duplicates":n,"maybe_delivered":n,
/// "maybe_delivered_by_type":{"teams":n,…},"records":[…]}`).
pub async fn handle<S: StateStore>(
    notifier: &Notifier<S>,
    event: LambdaEvent<SnsEvent>,
) -> Result<Value, NotDelivered> {
    let envelopes = receive::envelopes(&event.payload);
    handle_envelopes(notifier, envelopes, &event.context).await
}

/// The Lambda handler for any payload: an SNS event, or a CloudWatch alarm state change delivered
/// directly (Lambda alarm action, EventBridge). Anything else fails the invocation (so it is
/// dead-lettered and seen, not dropped).
pub async fn handle_any<S: StateStore>(
    notifier: &Notifier<S>,
    event: LambdaEvent<Value>,
) -> Result<Value, NotDelivered> {
    match receive::envelopes_of(&event.payload) {
        Ok(envelopes) => handle_envelopes(notifier, envelopes, &event.context).await,
        Err(e) => {
            tracing::error!(error = %e, "unrecognised invocation payload");
            Err(NotDelivered {
                total: 1,
                failures: vec![e],
            })
        }
    }
}

async fn handle_envelopes<S: StateStore>(
    notifier: &Notifier<S>,
    envelopes: Vec<SnsEnvelope>,
    context: &lambda_runtime::Context,
) -> Result<Value, NotDelivered> {
    let (deadline, deadline_ms) = deadline_of(context);
    let request_id = context.request_id.clone();
    let mut counters = Counters::default();
    let mut outcomes = Vec::new();
    for env in &envelopes {
        let outcome = process(
            notifier,
            env,
            &request_id,
            own_account(context),
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
        "maybe_delivered": counters.uncertain_deliveries,
        "maybe_delivered_by_type": counters.uncertain_by_type,
        "records": outcomes.iter().map(|o| match o {
            RecordOutcome::Delivered { channel, attempts } => json!({"status": "delivered", "channel": channel, "attempts": attempts}),
            RecordOutcome::Duplicate => json!({"status": "duplicate"}),
            RecordOutcome::Ignored { reason } => json!({"status": "ignored", "reason": reason}),
            RecordOutcome::MaybeDelivered { channel, .. } => json!({"status": "maybe-delivered", "channel": channel}),
            RecordOutcome::Failed { .. } => json!({"status": "failed"}),
        }).collect::<Vec<_>>(),
    }))
}

/// This function's account, from its ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`); empty
/// when unknown (in-process tests).
fn own_account(context: &lambda_runtime::Context) -> &str {
    context.invoked_function_arn.split(':').nth(4).unwrap_or("")
}

#[allow(clippy::too_many_arguments)]
async fn process<S: StateStore>(
    notifier: &Notifier<S>,
    env: &SnsEnvelope,
    request_id: &str,
    account: &str,
    deadline: Instant,
    deadline_ms: i64,
    counters: &mut Counters,
) -> RecordOutcome {
    let config = &notifier.config;
    let ttl = config.dedup_ttl.as_secs() as i64;
    let incoming = Incoming::classify(&env.message);
    let channel = incoming.channel(env.attribute("channel")).to_string();
    let message_id = env.message_id.clone().unwrap_or_default();
    let alert_id = alert_id_of(&incoming).to_string();
    // An alarm naming another account is not ours to enrich or post (the topic policy should
    // never let one through; this guards against a loosened policy).
    if let Incoming::Alarm(alarm) = &incoming
        && !account.is_empty()
        && !alarm.is_from_account(account)
    {
        tracing::warn!(message_id = %message_id, alarm = %alarm.alarm_name,
            "ignoring an alarm notification from another account");
        counters.foreign_alarms_ignored += 1;
        return RecordOutcome::Ignored {
            reason: "alarm from another account".into(),
        };
    }
    let span = tracing::info_span!("record", message_id = %message_id, alert_id = %alert_id, kind = incoming.kind(), channel = %channel);
    let _guard = span.enter();

    // De-duplicate on the alert id (else the MessageId); a message with neither is delivered.
    let dedup_key = dedup::key_for(&incoming, env.message_id.as_deref());
    let claim = match &dedup_key {
        None => Claim::Unavailable("no alert_id and no MessageId".into()),
        Some(key) => {
            dedup::claim(&notifier.state, key, request_id, deadline_ms, now_ms(), ttl).await
        }
    };
    match &claim {
        Claim::Delivered => {
            tracing::info!(
                dedup_key = dedup_key.as_deref().unwrap_or(""),
                "already delivered: skipping duplicate"
            );
            counters.duplicates_skipped += 1;
            return RecordOutcome::Duplicate;
        }
        Claim::MaybeDelivered => {
            tracing::warn!(
                dedup_key = dedup_key.as_deref().unwrap_or(""),
                "an earlier attempt may have delivered this (no answer after sending): not posting again"
            );
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
    let result: Result<(String, u32), Failure> = async {
        let (used_channel, destination) =
            notifier
                .webhooks
                .resolve(&channel)
                .await
                .map_err(|e| Failure::NotDelivered {
                    channel: channel.clone(),
                    destination: "none",
                    error: e.to_string(),
                    permanent: !e.is_transient(),
                })?;
        let kind = destination.type_name();
        let opts = config.render.with_format(config.format_for(&used_channel));
        let message = destinations::Message {
            incoming: &incoming,
            subject: env.subject.as_deref(),
            enrichment: enrichment.as_ref(),
            opts: &opts,
            message_id: &message_id,
            request_id,
            deadline_ms,
        };
        let clients = destinations::Clients {
            deliverer: &notifier.deliverer,
            state: &notifier.state,
            pacer: &notifier.pacer,
        };
        match destinations::deliver(&destination, &message, &clients, deadline).await {
            Ok(d) => Ok((used_channel, d.attempts)),
            Err(e) => {
                counters.retries += u64::from(e.attempts().saturating_sub(1));
                if let DeliveryError::Permanent { status, error, .. } = &e {
                    tracing::error!(webhook_channel = %used_channel, destination = kind, status, error = %error, "the destination rejected the message permanently");
                }
                Err(if e.is_maybe_delivered() {
                    Failure::MaybeDelivered {
                        channel: used_channel,
                        destination: kind,
                        error: format!("{kind}: {e}"),
                    }
                } else {
                    Failure::NotDelivered {
                        channel: used_channel,
                        destination: kind,
                        permanent: e.is_permanent(),
                        error: format!("{kind}: {e}"),
                    }
                })
            }
        }
    }
    .await;

    let now = now_ms();
    let (settled, outcome) = match result {
        Ok((used_channel, attempts)) => {
            counters.delivered += 1;
            counters.retries += u64::from(attempts.saturating_sub(1));
            tracing::info!(webhook_channel = %used_channel, attempts, "delivered");
            (
                Settled::Delivered,
                RecordOutcome::Delivered {
                    channel: used_channel,
                    attempts,
                },
            )
        }
        Err(Failure::MaybeDelivered {
            channel: used_channel,
            destination,
            error,
        }) => {
            counters.uncertain_deliveries += 1;
            *counters
                .uncertain_by_type
                .entry(destination.to_string())
                .or_default() += 1;
            tracing::error!(webhook_channel = %used_channel, %error, alert_id = alert_id_of(&incoming),
                "maybe delivered: no answer after the request was sent; not re-posted (SlackUncertainDeliveries)");
            (
                Settled::MaybeDelivered,
                RecordOutcome::MaybeDelivered {
                    channel: used_channel,
                    error,
                },
            )
        }
        Err(Failure::NotDelivered {
            channel: used_channel,
            destination,
            error,
            permanent,
        }) => {
            if permanent {
                *counters
                    .permanent_failures
                    .entry(used_channel.clone())
                    .or_default() += 1;
                *counters
                    .permanent_failures_by_type
                    .entry(destination.to_string())
                    .or_default() += 1;
            }
            tracing::error!(webhook_channel = %used_channel, %error, permanent, "not delivered");
            (
                Settled::Failed,
                RecordOutcome::Failed {
                    channel: used_channel,
                    error,
                    permanent,
                },
            )
        }
    };
    if let (Claim::Owned { version }, Some(key)) = (&claim, &dedup_key) {
        let channel = match &outcome {
            RecordOutcome::Delivered { channel, .. }
            | RecordOutcome::MaybeDelivered { channel, .. }
            | RecordOutcome::Failed { channel, .. } => channel.as_str(),
            RecordOutcome::Duplicate | RecordOutcome::Ignored { .. } => "",
        };
        if let Err(e) =
            dedup::settle(&notifier.state, key, *version, settled, channel, now, ttl).await
        {
            // Never fail after a post (certain or not): a retry would post again.
            tracing::warn!(error = %e, outcome = settled_name(settled), "could not record the delivery outcome in the state table");
        }
    }
    outcome
}

fn settled_name(s: Settled) -> &'static str {
    match s {
        Settled::Delivered => "delivered",
        Settled::MaybeDelivered => "maybe-delivered",
        Settled::Failed => "failed",
    }
}

fn alert_id_of(incoming: &Incoming) -> &str {
    match incoming {
        Incoming::Alert(a) => a.alert_id.as_str(),
        _ => "",
    }
}

/// Why a record was not (certainly) delivered.
enum Failure {
    MaybeDelivered {
        channel: String,
        /// The destination type.
        destination: &'static str,
        error: String,
    },
    NotDelivered {
        channel: String,
        /// The destination type (`none` when routing failed).
        destination: &'static str,
        error: String,
        permanent: bool,
    },
}
