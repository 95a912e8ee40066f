//! Delivery against a real HTTP server (wiremock): attempts and outcomes for success, 5xx, 429 with
//! Retry-After, timeouts and Slack's permanent errors.

use std::time::{Duration, Instant};

use serde_json::json;
use slack_notifier::deliver::{Deliverer, DeliveryError, Idempotence, Request};
use slack_notifier::route::WebhookUrl;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

fn deliverer(timeout_ms: u64) -> Deliverer {
    let mut d = Deliverer::new(Duration::from_millis(timeout_ms)).unwrap();
    d.backoff = Duration::from_millis(20);
    d.max_backoff = Duration::from_millis(100);
    d.safety_margin = Duration::from_millis(50);
    d
}

fn url(server: &MockServer) -> WebhookUrl {
    WebhookUrl::parse(&format!("{}/services/T000/B000/SECRETTOKEN", server.uri())).unwrap()
}

fn deadline(secs: u64) -> Instant {
    Instant::now() + Duration::from_secs(secs)
}

/// Responds from a list in order, then repeats the last.
struct Sequence(std::sync::Mutex<Vec<ResponseTemplate>>);

impl Respond for Sequence {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let mut v = self.0.lock().unwrap();
        if v.len() > 1 {
            v.remove(0)
        } else {
            v[0].clone()
        }
    }
}

fn sequence(v: Vec<ResponseTemplate>) -> Sequence {
    Sequence(std::sync::Mutex::new(v))
}

#[tokio::test]
async fn success_posts_the_payload_once() {
    let server = MockServer::start().await;
    let payload = json!({"text": "hi"});
    Mock::given(method("POST"))
        .and(path("/services/T000/B000/SECRETTOKEN"))
        .and(body_json(&payload))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let d = deliverer(1000)
        .post(&url(&server), &payload, deadline(10))
        .await
        .unwrap();
    assert_eq!(d.attempts, 1);
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sequence(vec![
            ResponseTemplate::new(500).set_body_string("rollup_error"),
            ResponseTemplate::new(503),
            ResponseTemplate::new(200).set_body_string("ok"),
        ]))
        .expect(3)
        .mount(&server)
        .await;
    let d = deliverer(1000)
        .post(&url(&server), &json!({}), deadline(10))
        .await
        .unwrap();
    assert_eq!(d.attempts, 3);
    assert_eq!(d.retries(), 2);
}

#[tokio::test]
async fn server_errors_exhaust_the_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("rollup_error"))
        .expect(4)
        .mount(&server)
        .await;
    let err = deliverer(1000)
        .post(&url(&server), &json!({}), deadline(10))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Exhausted { attempts: 4, last } if last.contains("rollup_error")),
        "{err:?}"
    );
    assert!(!err.to_string().contains("SECRETTOKEN"));
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sequence(vec![
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_string(r#"{"retry_after":1,"ok":false,"error":"rate_limited"}"#),
            ResponseTemplate::new(200).set_body_string("ok"),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    let started = Instant::now();
    let d = deliverer(1000)
        .post(&url(&server), &json!({}), deadline(10))
        .await
        .unwrap();
    assert_eq!(d.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn rate_limit_beyond_the_deadline_fails_for_lambda_to_retry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "30"))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = deliverer(1000)
        .post(&url(&server), &json!({}), deadline(3))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        DeliveryError::RateLimited {
            retry_after: Duration::from_secs(30),
            attempts: 1
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "did not sleep past the deadline"
    );
}

#[tokio::test]
async fn a_timeout_after_sending_to_slack_is_maybe_delivered_and_not_resent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(1500)))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = deliverer(300)
        .post(&url(&server), &json!({"text": "once"}), deadline(20))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeliveryError::MaybeDelivered { attempts: 1, last } if last.contains("timed out")),
        "{err:?}"
    );
    assert!(err.is_maybe_delivered() && !err.is_permanent());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "cut at the timeout"
    );
    assert!(!format!("{err} {err:?}").contains("SECRETTOKEN"));
    // The server did receive it: this is exactly the case a re-post would duplicate.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn timeouts_to_an_idempotent_destination_are_retried_then_reported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).set_delay(Duration::from_millis(1500)))
        .expect(4)
        .mount(&server)
        .await;
    let u = url(&server);
    let err = deliverer(300)
        .send(
            &Request::json(&u, &json!({}), Idempotence::Idempotent),
            deadline(20),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Exhausted { attempts: 4, last } if last.contains("timed out")),
        "{err:?}"
    );
}

#[tokio::test]
async fn idempotent_timeout_then_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sequence(vec![
            ResponseTemplate::new(200).set_delay(Duration::from_millis(1500)),
            ResponseTemplate::new(202).set_body_string(r#"{"status":"success"}"#),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    let u = url(&server);
    let d = deliverer(300)
        .send(
            &Request::json(&u, &json!({}), Idempotence::Idempotent).header("x-test", "1"),
            deadline(10),
        )
        .await
        .unwrap();
    assert_eq!((d.attempts, d.status), (2, 202));
    assert_eq!(d.body, r#"{"status":"success"}"#);
    let reqs = server.received_requests().await.unwrap();
    assert!(reqs.iter().all(|r| r.headers.get("x-test").is_some()));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T000/B000/SECRETTOKEN"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("Location", format!("{}/elsewhere", server.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let err = deliverer(1000)
        .post(&url(&server), &json!({}), deadline(10))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Permanent { status: 307, error, attempts: 1 } if error.contains("redirect")),
        "{err:?}"
    );
}

#[tokio::test]
async fn permanent_errors_are_not_retried() {
    for (status, body) in [
        (404, "no_service"),
        (404, "channel_not_found"),
        (410, "channel_is_archived"),
        (400, "invalid_payload"),
        (403, "action_prohibited"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_string(body))
            .expect(1)
            .mount(&server)
            .await;
        let err = deliverer(1000)
            .post(&url(&server), &json!({}), deadline(10))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            DeliveryError::Permanent {
                status,
                error: body.to_string(),
                attempts: 1
            },
            "HTTP {status} {body}"
        );
        assert!(err.is_permanent());
        assert!(!err.to_string().contains("SECRETTOKEN"));
    }
}

#[tokio::test]
async fn unreachable_server_never_leaks_the_url() {
    // A port nothing listens on (bound, then dropped).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url =
        WebhookUrl::parse(&format!("http://127.0.0.1:{port}/services/T/B/SECRETTOKEN")).unwrap();
    let err = deliverer(300)
        .post(&url, &json!({}), deadline(10))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeliveryError::Exhausted { attempts: 4, .. }),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("SECRETTOKEN"), "{err}");
}

#[tokio::test]
async fn no_time_left_makes_no_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let err = deliverer(1000)
        .post(&url(&server), &json!({}), Instant::now())
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeliveryError::OutOfTime { attempts: 0, .. }),
        "{err:?}"
    );
}
