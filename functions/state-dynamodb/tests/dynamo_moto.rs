//! DynamoStateStore against a real moto DynamoDB (run through `scripts/with-moto`): the versioned,
//! conditional get/put contract of `logalert::state::StateStore`, atomic multi-item commits, the
//! sparse due index, batch reads, TTL handling and failures (a missing table; throttling, through a
//! real HTTP server answering as DynamoDB does when it throttles).

use aws_sdk_dynamodb::types::AttributeValue;
use logalert::state::{DueKey, StateError, StateRecord, StateStore, Write};
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
    let name = unique(name);
    logalert_dynamodb::table::create(&c, &name).await.unwrap();
    (c.clone(), DynamoStateStore::new(c, name))
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        now_secs(),
        N.fetch_add(1, Ordering::SeqCst)
    )
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

fn put(key: &str, version: u64, ttl: i64, expected: Option<u64>) -> Write {
    Write::put(key, rec(version, ttl, version as i64), expected)
}

#[tokio::test]
async fn a_commit_applies_every_write_or_none() {
    let (_, store) = table("commit-atomic").await;
    let ttl = now_secs() + 3600;
    store
        .commit(&[put("a", 1, ttl, None), put("b", 1, ttl, None)])
        .await
        .unwrap();
    // One stale condition (b is at version 1, not 5): nothing is applied, not even the create of c.
    let r = store
        .commit(&[
            put("c", 1, ttl, None),
            put("a", 2, ttl, Some(1)),
            put("b", 6, ttl, Some(5)),
        ])
        .await;
    assert!(matches!(r, Err(StateError::Conflict)), "{r:?}");
    assert_eq!(store.get("c").await.unwrap(), None);
    assert_eq!(store.get("a").await.unwrap().unwrap().version, 1);
    // Creating over a live item is a conflict too; expecting an absent item to exist as well.
    for bad in [put("a", 1, ttl, None), put("zz", 2, ttl, Some(1))] {
        let r = store.commit(&[put("c", 1, ttl, None), bad]).await;
        assert!(matches!(r, Err(StateError::Conflict)), "{r:?}");
    }
    assert_eq!(store.get("c").await.unwrap(), None);
    // With the right versions every write lands, deletes included.
    store
        .commit(&[
            put("c", 1, ttl, None),
            put("a", 2, ttl, Some(1)),
            Write::delete("b", Some(1)),
        ])
        .await
        .unwrap();
    let got = store
        .get_many(&["a".into(), "b".into(), "c".into()])
        .await
        .unwrap();
    assert_eq!(
        got.iter()
            .map(|r| r.as_ref().map(|r| r.version))
            .collect::<Vec<_>>(),
        [Some(2), None, Some(1)]
    );
    // A stale delete is a conflict.
    let r = store.commit(&[Write::delete("a", Some(1))]).await;
    assert!(matches!(r, Err(StateError::Conflict)), "{r:?}");
    // An expired item counts as absent: it can be created over, not updated by version.
    store
        .commit(&[put("old", 1, now_secs() - 1, None)])
        .await
        .unwrap();
    let r = store.commit(&[put("old", 2, ttl, Some(1))]).await;
    assert!(matches!(r, Err(StateError::Conflict)), "{r:?}");
    store.commit(&[put("old", 1, ttl, None)]).await.unwrap();
}

#[tokio::test]
async fn commit_limits_are_checked_before_any_request() {
    let (_, store) = table("commit-limits").await;
    let ttl = now_secs() + 3600;
    let hundred: Vec<Write> = (0..100)
        .map(|i| put(&format!("k{i}"), 1, ttl, None))
        .collect();
    store.commit(&hundred).await.unwrap();
    assert_eq!(store.get("k99").await.unwrap().unwrap().version, 1);
    let many: Vec<Write> = (0..101)
        .map(|i| put(&format!("m{i}"), 1, ttl, None))
        .collect();
    let before = store.usage().total_requests();
    match store.commit(&many).await {
        Err(StateError::Unavailable(m)) => assert!(m.contains("101 items"), "{m}"),
        other => panic!("{other:?}"),
    }
    match store
        .commit(&[put("d", 1, ttl, None), put("d", 1, ttl, None)])
        .await
    {
        Err(StateError::Unavailable(m)) => assert!(m.contains("\"d\" twice"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.usage().total_requests(),
        before,
        "no request was sent"
    );
    assert_eq!(store.get("m0").await.unwrap(), None);
    store.commit(&[]).await.unwrap();
}

#[tokio::test]
async fn the_due_index_holds_only_keys_with_due_work() {
    let (c, store) = table("due-index").await;
    let ttl = now_secs() + 3600;
    let due = |key: &str, at: Option<i64>| put(key, 1, ttl, None).due_at(at);
    store
        .commit(&[
            due("late", Some(9_000)),
            due("early", Some(1_000)),
            due("never", None),
            due("mid", Some(5_000)),
            due("future", Some(50_000)),
        ])
        .await
        .unwrap();
    let keys = |v: Vec<DueKey>| v.into_iter().map(|d| (d.key, d.due_at)).collect::<Vec<_>>();
    assert_eq!(keys(store.due(999, 10).await.unwrap()), []);
    assert_eq!(
        keys(store.due(9_000, 10).await.unwrap()),
        [
            ("early".into(), 1_000),
            ("mid".into(), 5_000),
            ("late".into(), 9_000)
        ]
    );
    assert_eq!(
        keys(store.due(9_000, 2).await.unwrap()),
        [("early".into(), 1_000), ("mid".into(), 5_000)],
        "earliest first, at most `limit`"
    );
    // Only items with a due time carry the index attributes (sparse index).
    let raw = c
        .get_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S("never".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(!raw.contains_key("due_at") && !raw.contains_key("due_shard"));
    // Clearing the due time takes a key out; moving it moves it; deleting removes it.
    store
        .commit(&[
            put("early", 2, ttl, Some(1)),
            put("mid", 2, ttl, Some(1)).due_at(Some(20_000)),
            Write::delete("late", Some(1)),
        ])
        .await
        .unwrap();
    assert_eq!(keys(store.due(9_000, 10).await.unwrap()), []);
    assert_eq!(
        keys(store.due(60_000, 10).await.unwrap()),
        [("mid".into(), 20_000), ("future".into(), 50_000)]
    );
    // A single put by version keeps the due entry; a create over an expired item drops it.
    store.put("mid", &rec(3, ttl, 3), Some(2)).await.unwrap();
    assert_eq!(
        keys(store.due(20_000, 10).await.unwrap()),
        [("mid".into(), 20_000)]
    );
    // An expired item is not due, even before DynamoDB deletes it.
    store
        .commit(&[put("gone", 1, now_secs() - 5, None).due_at(Some(10))])
        .await
        .unwrap();
    assert_eq!(keys(store.due(20, 10).await.unwrap()), []);
}

#[tokio::test]
async fn due_pages_through_every_shard() {
    let (_, store) = table("due-pages").await;
    let ttl = now_secs() + 3600;
    // 250 due keys in three commits (≤ 100 each), spread over the index's shards.
    let all: Vec<Write> = (0..250)
        .map(|i| put(&format!("key#{i}"), 1, ttl, None).due_at(Some(1_000 + i)))
        .collect();
    for chunk in all.chunks(100) {
        store.commit(chunk).await.unwrap();
    }
    let first = store.due(i64::MAX, 100).await.unwrap();
    assert_eq!(first.len(), 100);
    let expected: Vec<String> = (0..100).map(|i| format!("key#{i}")).collect();
    assert_eq!(
        first.iter().map(|d| d.key.clone()).collect::<Vec<_>>(),
        expected,
        "the 100 earliest across shards, in order"
    );
    assert_eq!(store.due(i64::MAX, 1_000).await.unwrap().len(), 250);
    assert_eq!(store.due(1_000 + 9, 1_000).await.unwrap().len(), 10);
}

#[tokio::test]
async fn get_many_answers_every_position() {
    let (_, store) = table("get-many").await;
    let ttl = now_secs() + 3600;
    let writes: Vec<Write> = (0..150)
        .map(|i| put(&format!("k{i}"), i + 1, ttl, None))
        .collect();
    for chunk in writes.chunks(100) {
        store.commit(chunk).await.unwrap();
    }
    store
        .commit(&[put("expired", 1, now_secs() - 1, None)])
        .await
        .unwrap();
    // 150 present keys (two BatchGetItem requests), a repeat, an absent and an expired one.
    let mut keys: Vec<String> = (0..150).rev().map(|i| format!("k{i}")).collect();
    keys.extend(["k7".into(), "absent".into(), "expired".into()]);
    store.take_usage();
    let got = store.get_many(&keys).await.unwrap();
    assert_eq!(got.len(), keys.len());
    for (k, r) in keys.iter().zip(&got) {
        match k.strip_prefix('k') {
            Some(n) => assert_eq!(
                r.as_ref().unwrap().version,
                n.parse::<u64>().unwrap() + 1,
                "{k}"
            ),
            None => assert_eq!(r, &None, "{k}"),
        }
    }
    assert_eq!(store.usage().requests["BatchGetItem"], 2);
    assert_eq!(store.get_many(&[]).await.unwrap(), []);
}

#[tokio::test]
async fn every_operation_on_a_missing_table_is_unavailable() {
    let store = DynamoStateStore::new(client().await, "logalert-no-such-table");
    let ttl = now_secs() + 60;
    let results = [
        store.get_many(&["k".into()]).await.map(|_| ()),
        store.commit(&[put("k", 1, ttl, None)]).await,
        store.due(0, 10).await.map(|_| ()),
        store.put("k", &rec(2, ttl, 1), Some(1)).await,
    ];
    for (what, r) in ["BatchGetItem", "TransactWriteItems", "Query", "UpdateItem"]
        .iter()
        .zip(results)
    {
        match r {
            Err(StateError::Unavailable(m)) => {
                assert!(m.starts_with(what) && m.contains("ResourceNotFound"), "{m}")
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn usage_counts_requests_and_estimates_units() {
    let (_, store) = table("usage").await;
    let ttl = now_secs() + 3600;
    store.take_usage();
    store
        .commit(&[
            put("a", 1, ttl, None).due_at(Some(5)),
            put("b", 1, ttl, None),
        ])
        .await
        .unwrap();
    store.get("a").await.unwrap();
    store.due(0, 10).await.unwrap();
    let u = store.take_usage();
    assert_eq!(u.requests["TransactWriteItems"], 1);
    assert_eq!(u.requests["GetItem"], 1);
    assert_eq!(
        u.requests["Query"],
        u64::from(logalert_dynamodb::item::DUE_SHARDS)
    );
    // Two small items written in a transaction: 2 units each; one on the index.
    assert_eq!(u.write_units, 4.0);
    assert_eq!(u.index_write_units, 1.0);
    // One consistent read (1) and four empty index pages (½ each).
    assert_eq!(
        u.read_units,
        1.0 + 0.5 * f64::from(logalert_dynamodb::item::DUE_SHARDS)
    );
    assert_eq!(store.usage(), Default::default());
}

/// DynamoDB's answers when it throttles, from a real HTTP server (moto never throttles).
mod throttled {
    use super::*;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
    use wiremock::matchers::{header, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    async fn store_at(server: &MockServer) -> DynamoStateStore {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(server.uri())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(2)
                    .with_initial_backoff(std::time::Duration::from_millis(1)),
            )
            .build();
        DynamoStateStore::new(
            aws_sdk_dynamodb::Client::from_conf(config),
            "logalert-state",
        )
    }

    fn answer(operation: &str, status: u16, body: serde_json::Value) -> Mock {
        Mock::given(method("POST"))
            .and(header(
                "x-amz-target",
                format!("DynamoDB_20120810.{operation}").as_str(),
            ))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("content-type", "application/x-amz-json-1.0")
                    .set_body_string(body.to_string()),
            )
    }

    const PREFIX: &str = "com.amazonaws.dynamodb.v20120810#";

    #[tokio::test]
    async fn throttled_reads_and_writes_are_unavailable_after_the_sdk_retries() {
        let server = MockServer::start().await;
        let throttled = json!({"__type": format!("{PREFIX}ProvisionedThroughputExceededException"),
            "message": "The level of configured provisioned throughput for the table was exceeded."});
        for op in ["GetItem", "Query", "UpdateItem"] {
            answer(op, 400, throttled.clone())
                .expect(2)
                .mount(&server)
                .await;
        }
        let store = store_at(&server).await;
        let ttl = now_secs() + 60;
        for r in [
            store.get("k").await.map(|_| ()),
            store.due(0, 10).await.map(|_| ()),
            store.put("k", &rec(2, ttl, 1), Some(1)).await,
        ] {
            match r {
                Err(StateError::Unavailable(m)) => {
                    assert!(m.contains("ProvisionedThroughputExceeded"), "{m}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_transaction_cancelled_by_throttling_is_unavailable_not_a_conflict() {
        let server = MockServer::start().await;
        answer(
            "TransactWriteItems",
            400,
            json!({"__type": format!("{PREFIX}TransactionCanceledException"),
                "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ThrottlingError]",
                "CancellationReasons": [{"Code": "None"}, {"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity of your table or index."}]}),
        )
        .mount(&server)
        .await;
        let store = store_at(&server).await;
        let ttl = now_secs() + 60;
        match store
            .commit(&[put("a", 1, ttl, None), put("b", 1, ttl, None)])
            .await
        {
            Err(StateError::Unavailable(m)) => assert!(m.contains("ThrottlingError"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_transaction_conflict_is_a_conflict() {
        let server = MockServer::start().await;
        answer(
            "TransactWriteItems",
            400,
            json!({"__type": format!("{PREFIX}TransactionCanceledException"),
                "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]",
                "CancellationReasons": [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]}),
        )
        .mount(&server)
        .await;
        let store = store_at(&server).await;
        let r = store.commit(&[put("a", 2, now_secs() + 60, Some(1))]).await;
        assert!(matches!(r, Err(StateError::Conflict)), "{r:?}");
    }

    #[tokio::test]
    async fn keys_left_unprocessed_by_a_throttled_batch_get_are_retried_then_unavailable() {
        let server = MockServer::start().await;
        answer(
            "BatchGetItem",
            200,
            json!({"Responses": {"logalert-state": []},
                "UnprocessedKeys": {"logalert-state": {"Keys": [{"pk": {"S": "k"}}], "ConsistentRead": true}}}),
        )
        .expect(u64::from(logalert_dynamodb::BATCH_GET_ATTEMPTS))
        .mount(&server)
        .await;
        let store = store_at(&server).await;
        match store.get_many(&["k".into()]).await {
            Err(StateError::Unavailable(m)) => assert!(m.contains("unprocessed"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
