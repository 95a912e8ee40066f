//! The slack-notifier Lambda: wires the AWS clients from the environment and runs the handler.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use slack_notifier::config::Config;
use slack_notifier::deliver::Deliverer;
use slack_notifier::route::Webhooks;
use slack_notifier::{Notifier, handle};

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
        logs: Some(aws_sdk_cloudwatchlogs::Client::new(&aws)),
        config,
    };
    let notifier = &notifier;
    run(service_fn(move |event: LambdaEvent<_>| async move {
        handle(notifier, event).await
    }))
    .await
}
