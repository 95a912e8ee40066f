//! The state table's definition, for the local stack and tests (`template.yaml` declares the same
//! for AWS): on-demand, `pk` (S) partition key, TTL on `expires_at`, and the sparse due index.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

use crate::item::{DUE_AT, DUE_INDEX, DUE_SHARD, EXPIRES_AT, PK};

/// Create the state table `name` and enable its TTL. Errors are DynamoDB's, as text.
pub async fn create(client: &Client, name: &str) -> Result<(), String> {
    let attr = |name: &str, t: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(t)
            .build()
            .map_err(|e| e.to_string())
    };
    let key = |name: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(t)
            .build()
            .map_err(|e| e.to_string())
    };
    let due_index = GlobalSecondaryIndex::builder()
        .index_name(DUE_INDEX)
        .key_schema(key(DUE_SHARD, KeyType::Hash)?)
        .key_schema(key(DUE_AT, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .non_key_attributes(EXPIRES_AT)
                .build(),
        )
        .build()
        .map_err(|e| e.to_string())?;
    let show =
        |e: &dyn std::error::Error| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(e));
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(PK, ScalarAttributeType::S)?)
        .attribute_definitions(attr(DUE_SHARD, ScalarAttributeType::S)?)
        .attribute_definitions(attr(DUE_AT, ScalarAttributeType::N)?)
        .key_schema(key(PK, KeyType::Hash)?)
        .global_secondary_indexes(due_index)
        .send()
        .await
        .map_err(|e| show(&e))?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(EXPIRES_AT)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .send()
        .await
        .map_err(|e| show(&e))?;
    Ok(())
}
