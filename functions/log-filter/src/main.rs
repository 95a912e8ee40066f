//! log-filter's Lambda entry point: wire the AWS clients, load the rules (failing the cold start
//! loudly if they are invalid), and run the handler.

use lambda_runtime::{Error, run, service_fn};
use log_filter::publish::SnsSink;
use log_filter::{Config, Handler, handle, rules_source};
use logalert::engine::Engine;
use logalert_dynamodb::DynamoStateStore;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let aws = aws_config::load_from_env().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let loaded = rules_source::load(&ssm, config.rules_ssm_parameter.as_deref())
        .await
        .inspect_err(|e| tracing::error!(error = %e, "cannot start: rules not loaded"))?;
    tracing::info!(origin = %loaded.origin, summary = %loaded.rules.summary(), "rules loaded");
    let engine_config = config
        .engine_config()
        .inspect_err(|e| tracing::error!(error = %e, "cannot start: invalid configuration"))?;
    let handler = Handler::new(
        Engine::new(loaded.rules, engine_config),
        DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.state_table),
        SnsSink::new(aws_sdk_sns::Client::new(&aws), &config.topic_arn),
        &config.metrics_namespace,
    );
    let handler = &handler;
    run(service_fn(move |event| handle(handler, event))).await
}
