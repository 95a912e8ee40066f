//! Decoding subscription payloads: every shape AWS sends, and every way a payload can be broken.

use base64::Engine as _;
use logalert::payload::{self, DecodeError, InvocationEvent, MessageType};
use proptest::prelude::*;

const DATA: &str = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012",
  "logGroup":"/aws/lambda/echo-nodejs","logStream":"2019/03/13/[$LATEST]94fa867e5374431291a7fc14e2f56ae7",
  "subscriptionFilters":["LambdaStream_cloudwatchlogs-node"],
  "logEvents":[{"id":"34622316099697884706540976068822859012661220141643892546","timestamp":1552518348220,
                "message":"REPORT RequestId: 6234bffe\tDuration: 46.84 ms\t\n"}]}"#;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn direct_delivery_decodes() {
    let p = payload::decode_awslogs_data(&payload::encode_awslogs_data(DATA.as_bytes())).unwrap();
    assert_eq!(p.message_type, MessageType::Data);
    assert_eq!(p.owner, "123456789012");
    assert_eq!(
        p.log_stream,
        "2019/03/13/[$LATEST]94fa867e5374431291a7fc14e2f56ae7"
    );
    assert_eq!(p.subscription_filters, ["LambdaStream_cloudwatchlogs-node"]);
    assert_eq!(
        p.log_events[0].id,
        "34622316099697884706540976068822859012661220141643892546"
    );
    assert_eq!(
        p.log_events[0].message,
        "REPORT RequestId: 6234bffe\tDuration: 46.84 ms\t\n"
    );
    assert_eq!(p.policy_level, None);
}

#[test]
fn control_messages_are_recognised() {
    let json = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"",
      "subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1680683189085,
      "message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;
    let p = payload::parse_json(json.as_bytes()).unwrap();
    assert!(p.is_control());
}

#[test]
fn account_level_policy_payloads_decode() {
    let json = DATA.replace(
        r#""owner""#,
        r#""policyLevel":"ACCOUNT_LEVEL_POLICY","owner""#,
    );
    let p = payload::parse_json(json.as_bytes()).unwrap();
    assert_eq!(p.policy_level.as_deref(), Some("ACCOUNT_LEVEL_POLICY"));
}

#[test]
fn numeric_ids_from_emulators_are_accepted() {
    let json = DATA.replace(
        r#""id":"34622316099697884706540976068822859012661220141643892546""#,
        r#""id":12"#,
    );
    assert_eq!(
        payload::parse_json(json.as_bytes()).unwrap().log_events[0].id,
        "12"
    );
}

#[test]
fn corrupt_inputs_fail_with_the_stage_named() {
    let err = |data: &str| payload::decode_awslogs_data(data).unwrap_err().to_string();
    assert!(
        err("not base64!!").starts_with("invalid base64 in payload data"),
        "{}",
        err("not base64!!")
    );
    assert_eq!(
        err(&b64(b"plain text, not gzip")),
        "payload data is not gzip (it does not start with the gzip magic bytes 1f 8b)"
    );
    let gz = payload::gzip(DATA.as_bytes());
    let truncated = err(&b64(&gz[..gz.len() / 2]));
    assert!(
        truncated.starts_with("corrupt or truncated gzip stream"),
        "{truncated}"
    );
    let mut flipped = gz.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    assert!(matches!(
        payload::decode_awslogs_data(&b64(&flipped)),
        Err(DecodeError::Gzip(_) | DecodeError::Json(_))
    ));
    let not_json = err(&payload::encode_awslogs_data(b"hello"));
    assert!(not_json.starts_with("payload is not a CloudWatch Logs subscription message: expected value at line 1 column 1"), "{not_json}");
    let missing = err(&payload::encode_awslogs_data(
        br#"{"messageType":"DATA_MESSAGE"}"#,
    ));
    assert!(missing.contains("missing field"), "{missing}");
    let wrong_type = err(&payload::encode_awslogs_data(
        DATA.replace("DATA_MESSAGE", "OTHER").as_bytes(),
    ));
    assert_eq!(
        wrong_type,
        "unknown messageType \"OTHER\" (expected DATA_MESSAGE or CONTROL_MESSAGE)"
    );
    assert!(err("").contains("not gzip"), "empty data: {}", err(""));
}

#[test]
fn gzip_bombs_are_refused() {
    let zeros = vec![b' '; (payload::MAX_DECOMPRESSED_BYTES + 10) as usize];
    let gz = payload::gzip(&zeros);
    assert!(matches!(
        payload::decode_gzip(&gz),
        Err(DecodeError::TooLarge)
    ));
}

#[test]
fn event_shapes() {
    let direct = serde_json::json!({"awslogs": {"data": "abc"}});
    assert_eq!(
        InvocationEvent::from_json(&direct).unwrap(),
        InvocationEvent::Direct("abc".into())
    );
    let kinesis = serde_json::json!({"Records": [
        {"kinesis": {"data": "d1", "sequenceNumber": "1", "partitionKey": "p"}, "eventSource": "aws:kinesis"},
        {"kinesis": {"data": "d2", "sequenceNumber": "2"}}
    ]});
    match InvocationEvent::from_json(&kinesis).unwrap() {
        InvocationEvent::Kinesis(r) => {
            assert_eq!(r.len(), 2);
            assert_eq!(
                (r[1].sequence_number.as_str(), r[1].data.as_str()),
                ("2", "d2")
            );
        }
        other => panic!("{other:?}"),
    }
    let bad = |v: serde_json::Value| InvocationEvent::from_json(&v).unwrap_err().to_string();
    assert!(bad(serde_json::json!({"foo": 1})).ends_with("it has neither `awslogs` nor `Records`"));
    assert!(
        bad(serde_json::json!({"awslogs": {"data": 5}}))
            .ends_with("`awslogs.data` is missing or not a string")
    );
    assert!(
        bad(serde_json::json!({"Records": [{"sns": {}}]}))
            .ends_with("`Records[0]` has no `kinesis` object")
    );
    assert!(
        bad(serde_json::json!({"Records": [{"kinesis": {"data": "x"}}]}))
            .ends_with("`Records[0].kinesis.sequenceNumber` is missing or not a string")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decoder_never_panics_on_arbitrary_strings(s in ".{0,200}") {
        let _ = payload::decode_awslogs_data(&s);
    }

    #[test]
    fn decoder_never_panics_on_arbitrary_gzip_bodies(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = payload::decode_gzip(&payload::gzip(&bytes));
        let _ = payload::decode_gzip(&bytes);
    }

    #[test]
    fn messages_round_trip(msgs in proptest::collection::vec(".{0,50}", 1..20)) {
        let events: Vec<serde_json::Value> = msgs.iter().enumerate()
            .map(|(i, m)| serde_json::json!({"id": i.to_string(), "timestamp": i as i64, "message": m}))
            .collect();
        let json = serde_json::json!({"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s",
            "subscriptionFilters":[],"logEvents": events});
        let p = payload::decode_awslogs_data(&payload::encode_awslogs_data(json.to_string().as_bytes())).unwrap();
        let got: Vec<&str> = p.log_events.iter().map(|e| e.message.as_str()).collect();
        prop_assert_eq!(got, msgs.iter().map(String::as_str).collect::<Vec<_>>());
    }
}
