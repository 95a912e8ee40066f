//! log-filter: CloudWatch Logs subscription payloads → rules → alerts on SNS.
//!
//! Data path: [`decode`] (direct or Kinesis event → payloads; or the minute tick) → match and
//! decide ([`logalert::engine`], state in DynamoDB through `logalert-dynamodb`, remembered by the
//! container in [`state_cache`]) → commit → [`publish`] (SNS) → mark sent → EMF metrics on stdout. `main.rs` only wires the AWS clients and calls `run(service_fn(..))`;
//! everything here is tested in-process against moto.
//!
//! ## Failure contract
//!
//! * **Direct delivery** (`{"awslogs":{"data":…}}`, asynchronous invocation): a payload that cannot
//!   be decoded, or an alert that cannot be published, fails the invocation with an error naming
//!   the problem, so Lambda retries it (twice) and then sends it to the dead-letter destination.
//! * **Kinesis** (`{"Records":[…]}`, with `FunctionResponseTypes: [ReportBatchItemFailures]`): the
//!   function returns `{"batchItemFailures":[{"itemIdentifier":"<sequenceNumber>"},…]}` listing
//!   every record that could not be decoded or had an alert that failed to publish. Lambda retries
//!   from the lowest listed sequence number; records after it that were fully handled are
//!   recognised by their `batch#` markers and not alerted twice. With `BisectBatchOnFunctionError`
//!   and `MaximumRetryAttempts`, a permanently corrupt record ends in the on-failure destination.
//! * **Tick** (`{"source":"aws.events","detail-type":"Scheduled Event",…}`, every minute from
//!   EventBridge): [`Engine::tick`] publishes what is due. It never fails the invocation: a
//!   publication it could not send stays pending in its key's outbox and the next tick (or
//!   invocation on that key) sends it, with the same `alert_id`.
//! * An event of none of these shapes (another EventBridge event included) fails the invocation.
//! * `CONTROL_MESSAGE`s and events from `IGNORE_LOG_GROUPS` are acknowledged and ignored.
//! * The state table failing never blocks alerts (fail open; `StateFailures` counts it), and the
//!   container's cache of key state ([`state_cache`]) keeps suppression during the outage, so it
//!   does not post once per invocation.

pub mod decode;
pub mod publish;
pub mod rules_source;
pub mod state_cache;

use lambda_runtime::{Error, LambdaEvent};
use logalert::engine::{AlertSink, Engine, EngineConfig, Outcome};
use logalert::metrics::InvocationMetrics;
use logalert::state::StateStore;
use serde_json::{Value, json};

use crate::decode::Decoded;
use crate::state_cache::CachedStore;

/// The function's environment (see BRIEF "Runtime contracts").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `ALERTS_TOPIC_ARN` (required).
    pub topic_arn: String,
    /// `STATE_TABLE` (required).
    pub state_table: String,
    /// `RULES_SSM_PARAMETER` (optional).
    pub rules_ssm_parameter: Option<String>,
    /// `IGNORE_LOG_GROUPS` (comma-separated names or globs).
    pub ignore_log_groups: String,
    /// `METRICS_NAMESPACE` (default `logalert`).
    pub metrics_namespace: String,
    /// `AWS_REGION`.
    pub region: String,
    /// `REDACT_PATTERNS` (optional): extra redaction regexes, a JSON list — the notifier's variable,
    /// applied here too so every SNS subscriber gets samples redacted the same way.
    pub redact_patterns: Option<String>,
}

impl Config {
    /// Read the environment through `get` (so tests need not touch the process environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let required = |name: &str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| format!("environment variable {name} is required"))
        };
        Ok(Config {
            topic_arn: required("ALERTS_TOPIC_ARN")?,
            state_table: required("STATE_TABLE")?,
            rules_ssm_parameter: get("RULES_SSM_PARAMETER").filter(|v| !v.trim().is_empty()),
            ignore_log_groups: get("IGNORE_LOG_GROUPS").unwrap_or_default(),
            metrics_namespace: get("METRICS_NAMESPACE")
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| "logalert".to_string()),
            region: get("AWS_REGION").unwrap_or_else(|| "us-east-1".to_string()),
            redact_patterns: get("REDACT_PATTERNS").filter(|v| !v.trim().is_empty()),
        })
    }

    /// The engine's configuration from the environment; an invalid `REDACT_PATTERNS` fails the cold
    /// start with an error naming the variable and the pattern (never a match of it).
    pub fn engine_config(&self) -> Result<EngineConfig, String> {
        EngineConfig::new(&self.region)
            .with_ignored_log_groups(&self.ignore_log_groups)
            .with_redact_patterns(self.redact_patterns.as_deref())
            .map_err(|e| e.to_string())
    }

    pub fn from_env() -> Result<Config, String> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }
}

/// Everything an invocation needs, built once per container.
pub struct Handler<S, P> {
    pub engine: Engine,
    /// The state store behind the container's cache.
    pub store: CachedStore<S>,
    pub sink: P,
    pub metrics_namespace: String,
}

impl<S, P> Handler<S, P> {
    pub fn new(engine: Engine, store: S, sink: P, metrics_namespace: impl Into<String>) -> Self {
        Handler {
            engine,
            store: CachedStore::new(store),
            sink,
            metrics_namespace: metrics_namespace.into(),
        }
    }
}

/// The result of one invocation, before it is turned into the Lambda response.
#[derive(Debug)]
pub struct Invocation {
    /// The response (`Ok`) or the error that fails the invocation.
    pub response: Result<Value, String>,
    pub metrics: InvocationMetrics,
    /// The engine's outcome, when payloads were processed.
    pub outcome: Option<Outcome>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl<S: StateStore, P: AlertSink> Handler<S, P> {
    /// Process one invocation event (no metrics output; see [`handle`]).
    pub async fn process(&self, event: &Value, now_ms: i64) -> Invocation {
        let mut inv = self.dispatch(event, now_ms).await;
        // Reads the cache answered because DynamoDB could not (the engine never saw those).
        inv.metrics.state_failures += self.store.take_failures();
        inv
    }

    async fn dispatch(&self, event: &Value, now_ms: i64) -> Invocation {
        let mut metrics = InvocationMetrics::default();
        if let Some(Err(e)) = decode::eventbridge(event) {
            metrics.decode_failures += 1;
            tracing::error!(error = %e, "unexpected EventBridge event");
            return Invocation {
                response: Err(e.to_string()),
                metrics,
                outcome: None,
            };
        }
        let decoded = match decode::decode_event(event) {
            Ok(d) => d,
            Err(e) => {
                metrics.decode_failures += 1;
                tracing::error!(error = %e, "unrecognised invocation event");
                return Invocation {
                    response: Err(e.to_string()),
                    metrics,
                    outcome: None,
                };
            }
        };
        match decoded {
            Decoded::Tick => {
                let outcome = self.engine.tick(&self.store, &self.sink, now_ms).await;
                metrics.merge(outcome.metrics.clone());
                log_outcome(&outcome);
                Invocation {
                    response: Ok(json!({
                        "tick": now_ms,
                        "published": outcome.published,
                        "unpublished": outcome.errors.len(),
                    })),
                    metrics,
                    outcome: Some(outcome),
                }
            }
            Decoded::Direct(Err(e)) => {
                metrics.decode_failures += 1;
                tracing::error!(error = %e, "undecodable CloudWatch Logs payload; failing the invocation so it is retried and dead-lettered");
                Invocation {
                    response: Err(format!("undecodable CloudWatch Logs payload: {e}")),
                    metrics,
                    outcome: None,
                }
            }
            Decoded::Direct(Ok(payload)) => {
                let payloads = [payload];
                let outcome = self
                    .engine
                    .process(&payloads, &self.store, &self.sink, now_ms)
                    .await;
                metrics.merge(outcome.metrics.clone());
                log_outcome(&outcome);
                let response = if outcome.failed_payloads.is_empty() {
                    Ok(json!({"events": payloads[0].log_events.len(), "alerts": outcome.published}))
                } else {
                    Err(format!(
                        "{} alert(s) could not be published: {}",
                        outcome.errors.len(),
                        outcome.errors.join("; ")
                    ))
                };
                Invocation {
                    response,
                    metrics,
                    outcome: Some(outcome),
                }
            }
            Decoded::Kinesis(records) => {
                let mut failures: Vec<String> = Vec::new();
                let mut payloads = Vec::with_capacity(records.len());
                let mut sequence_of = Vec::with_capacity(records.len());
                for (seq, result) in records {
                    match result {
                        Ok(p) => {
                            payloads.push(p);
                            sequence_of.push(seq);
                        }
                        Err(e) => {
                            metrics.decode_failures += 1;
                            tracing::error!(sequence_number = %seq, error = %e, "undecodable Kinesis record; reporting it as a batch item failure");
                            failures.push(seq);
                        }
                    }
                }
                let outcome = self
                    .engine
                    .process(&payloads, &self.store, &self.sink, now_ms)
                    .await;
                metrics.merge(outcome.metrics.clone());
                log_outcome(&outcome);
                failures.extend(
                    outcome
                        .failed_payloads
                        .iter()
                        .map(|&i| sequence_of[i].clone()),
                );
                let items: Vec<Value> = failures
                    .iter()
                    .map(|s| json!({"itemIdentifier": s}))
                    .collect();
                Invocation {
                    response: Ok(json!({"batchItemFailures": items})),
                    metrics,
                    outcome: Some(outcome),
                }
            }
        }
    }
}

fn log_outcome(o: &Outcome) {
    tracing::info!(
        events = o.metrics.events_processed,
        alerts = o.published,
        duplicates = o.duplicate_payloads,
        failed_payloads = o.failed_payloads.len(),
        "invocation processed"
    );
    for e in &o.errors {
        tracing::error!(error = %e, "alert not published");
    }
}

/// The Lambda handler: process the event, print the EMF metric lines, answer or fail.
pub async fn handle<S: StateStore, P: AlertSink>(
    handler: &Handler<S, P>,
    event: LambdaEvent<Value>,
) -> Result<Value, Error> {
    let now = now_ms();
    let inv = handler.process(&event.payload, now).await;
    for line in inv.metrics.to_emf_lines(&handler.metrics_namespace, now) {
        println!("{line}");
    }
    inv.response.map_err(Error::from)
}
