//! [`DynamoStateStore`]: logalert's [`StateStore`] on one DynamoDB table.
//!
//! ```no_run
//! # async fn demo() {
//! let config = aws_config::load_from_env().await;
//! let store = logalert_dynamodb::DynamoStateStore::new(
//!     aws_sdk_dynamodb::Client::new(&config),
//!     "logalert-state",
//! );
//! # }
//! ```
//!
//! Table layout (see `template.yaml`): on-demand, partition key `pk` (S), TTL attribute `expires_at`.
//! Each item: `pk`, `version` (N), `expires_at` (N, epoch seconds), `body` (S, JSON).
//! DynamoDB deletes expired items lazily (within days), so reads treat `expires_at <= now` as absent and
//! conditional writes treat an expired item like a missing one.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use logalert::state::{StateError, StateRecord, StateStore};

/// The state store on a DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStateStore {
    client: Client,
    table: String,
}

impl DynamoStateStore {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoStateStore {
        DynamoStateStore {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn unavailable<E: std::error::Error + 'static>(what: &str, err: SdkError<E>) -> StateError {
    // `DisplayErrorContext` prints the whole cause chain (the plain Display says only "service error").
    StateError::Unavailable(format!(
        "{what}: {}",
        aws_sdk_dynamodb::error::DisplayErrorContext(&err)
    ))
}

impl StateStore for DynamoStateStore {
    async fn get(&self, key: &str) -> Result<Option<StateRecord>, StateError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", e))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let number = |name: &str| -> Result<i64, StateError> {
            item.get(name)
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or_else(|| StateError::Unavailable(format!("item {key:?}: bad `{name}`")))
        };
        let expires_at = number("expires_at")?;
        if expires_at <= now_secs() {
            return Ok(None);
        }
        let version = number("version")? as u64;
        let body = item
            .get("body")
            .and_then(|v| v.as_s().ok())
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| StateError::Unavailable(format!("item {key:?}: bad `body`")))?;
        Ok(Some(StateRecord {
            version,
            expires_at,
            body,
        }))
    }

    async fn put(
        &self,
        key: &str,
        record: &StateRecord,
        expected_version: Option<u64>,
    ) -> Result<(), StateError> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(key.to_string()))
            .item("version", AttributeValue::N(record.version.to_string()))
            .item(
                "expires_at",
                AttributeValue::N(record.expires_at.to_string()),
            )
            .item("body", AttributeValue::S(record.body.to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now_secs().to_string()));
        req = match expected_version {
            None => req.condition_expression("attribute_not_exists(pk) OR expires_at <= :now"),
            Some(v) => req
                .condition_expression("version = :v AND expires_at > :now")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(StateError::Conflict)
            }
            Err(err) => Err(unavailable("PutItem", err)),
        }
    }
}
