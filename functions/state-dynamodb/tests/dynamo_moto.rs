//! DynamoStateStore against a real moto DynamoDB (run through `scripts/with-moto`): the versioned,
//! conditional get/put contract of `logalert::state::StateStore`, TTL handling and failures.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use logalert::state::{StateError, StateRecord, StateStore};
use logalert_dynamodb::DynamoStateStore;
use serde_json::json;

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn client() -> aws_sdk_dynamodb::Client {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run through scripts/with-moto or scripts/test"
    );
    aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await)
}

async fn table(name: &str) -> (aws_sdk_dynamodb::Client, DynamoStateStore) {
    let c = client().await;
    let name = format!("{name}-{}-{}", std::process::id(), now_secs());
    c.create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (c.clone(), DynamoStateStore::new(c, name))
}

fn rec(version: u64, ttl: i64, n: i64) -> StateRecord {
    StateRecord {
        version,
        expires_at: ttl,
        body: json!({"n": n, "text": "héllo"}),
    }
}

#[tokio::test]
async fn versioned_puts_succeed_only_from_the_version_read() {
    let (_, store) = table("state-versions").await;
    let ttl = now_secs() + 3600;
    assert_eq!(store.get("k").await.unwrap(), None);
    store.put("k", &rec(1, ttl, 1), None).await.unwrap();
    assert!(
        matches!(
            store.put("k", &rec(1, ttl, 9), None).await,
            Err(StateError::Conflict)
        ),
        "create over an existing item"
    );
    assert_eq!(store.get("k").await.unwrap(), Some(rec(1, ttl, 1)));
    store.put("k", &rec(2, ttl, 2), Some(1)).await.unwrap();
    assert!(
        matches!(
            store.put("k", &rec(2, ttl, 3), Some(1)).await,
            Err(StateError::Conflict)
        ),
        "stale version"
    );
    assert!(
        matches!(
            store.put("other", &rec(2, ttl, 3), Some(1)).await,
            Err(StateError::Conflict)
        ),
        "expected an item that does not exist"
    );
    assert_eq!(store.get("k").await.unwrap().unwrap().body["n"], 2);
}

#[tokio::test]
async fn two_writers_racing_one_wins() {
    let (_, store) = table("state-race").await;
    let ttl = now_secs() + 3600;
    store.put("k", &rec(1, ttl, 0), None).await.unwrap();
    let (r1, r2) = (rec(2, ttl, 1), rec(2, ttl, 2));
    let (a, b) = tokio::join!(store.put("k", &r1, Some(1)), store.put("k", &r2, Some(1)));
    let wins = [a.is_ok(), b.is_ok()].iter().filter(|w| **w).count();
    assert_eq!(wins, 1, "exactly one conditional write wins: {a:?} {b:?}");
}

#[tokio::test]
async fn expired_items_read_as_absent_and_can_be_recreated() {
    let (c, store) = table("state-ttl").await;
    store
        .put("k", &rec(1, now_secs() - 10, 1), None)
        .await
        .unwrap();
    assert_eq!(
        store.get("k").await.unwrap(),
        None,
        "expired before DynamoDB deleted it"
    );
    store
        .put("k", &rec(1, now_secs() + 60, 2), None)
        .await
        .unwrap();
    assert_eq!(store.get("k").await.unwrap().unwrap().body["n"], 2);
    // The item carries the TTL attribute DynamoDB expires on.
    let item = c
        .get_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S("k".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(item["expires_at"].as_n().unwrap().parse::<i64>().unwrap() > now_secs());
    // An expired item cannot be updated by version either.
    store
        .put("e", &rec(1, now_secs() - 1, 1), None)
        .await
        .unwrap();
    assert!(matches!(
        store.put("e", &rec(2, now_secs() + 60, 2), Some(1)).await,
        Err(StateError::Conflict)
    ));
}

#[tokio::test]
async fn a_missing_table_is_unavailable_not_a_conflict() {
    let c = client().await;
    let store = DynamoStateStore::new(c, "logalert-no-such-table");
    match store.get("k").await {
        Err(StateError::Unavailable(msg)) => assert!(msg.starts_with("GetItem:"), "{msg}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store.put("k", &rec(1, now_secs() + 60, 1), None).await,
        Err(StateError::Unavailable(_))
    ));
}

#[tokio::test]
async fn a_corrupt_item_is_reported() {
    let (c, store) = table("state-corrupt").await;
    c.put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S("k".into()))
        .item("version", AttributeValue::N("1".into()))
        .item(
            "expires_at",
            AttributeValue::N((now_secs() + 60).to_string()),
        )
        .item("body", AttributeValue::S("{not json".into()))
        .send()
        .await
        .unwrap();
    match store.get("k").await {
        Err(StateError::Unavailable(msg)) => assert_eq!(msg, "item \"k\": bad `body`"),
        other => panic!("{other:?}"),
    }
}
