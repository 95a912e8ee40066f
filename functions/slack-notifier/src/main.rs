//! The slack-notifier Lambda: wires the AWS clients from the environment and runs the handler.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use slack_notifier::config::Config;
use slack_notifier::deliver::Deliverer;
use slack_notifier::route::Webhooks;
use slack_notifier::{Notifier, handle_any};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env(|k| std::env::var(k).ok())?;
    let aws = aws_config::load_from_env().await;
    let notifier = Notifier {
        state: logalert_dynamodb::DynamoStateStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            &config.state_table,
        ),
        webhooks: Webhooks::new(
            config.webhook_source.clone(),
            Some(aws_sdk_secretsmanager::Client::new(&aws)),
            Some(aws_sdk_ssm::Client::new(&aws)),
        ),
        deliverer: Deliverer::new(config.slack_timeout)?,
        pacer: Default::default(),
        logs: Some(aws_sdk_cloudwatchlogs::Client::new(&aws)),
        config,
    };
    // Read the destination map now: a broken entry is a clear error at cold start (naming the
    // channel, never a value), not at the first alert. A read failure (Secrets Manager briefly
    // unavailable) is retried on first use instead.
    match notifier.webhooks.preload().await {
        Ok(n) => tracing::info!(channels = n, "destination map loaded"),
        Err(e) if e.is_transient() => {
            tracing::warn!(error = %e, "destination map not loaded yet; retrying on first use")
        }
        Err(e) => return Err(e.into()),
    }
    let notifier = &notifier;
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        handle_any(notifier, event).await
    }))
    .await
}
