//! End-to-end tests: both functions' real bootstrap binaries under `cargo lambda watch` (the Lambda
//! runtime API), moto for SNS/SQS/DynamoDB/Secrets Manager/SSM, a Slack sink, and the SNS → notifier
//! bridge — all started by `infra/local-stack up` and stopped (by process id) when the run ends.
//!
//! Run: `cargo test -p logalert-e2e` (needs `scripts/bootstrap`'s `.venv`; `./scripts/test` runs it).
//! Scenarios run one after another against one stack; each uses its own log group and channel.

use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use logalert_e2e::{Stack, event_id, now_ms, sns_event, subscription_payload};
use serde_json::{Value, json};

type Scenario = fn(&Stack) -> Result<(), Failed>;

const SCENARIOS: &[(&str, Scenario)] = &[
    (
        "subscription_payload_to_exact_slack_payload",
        subscription_payload_to_exact_slack_payload,
    ),
    (
        "frequency_rule_counts_across_invocations",
        frequency_rule_counts_across_invocations,
    ),
    ("redelivered_batch_posts_once", redelivered_batch_posts_once),
    (
        "redelivered_sns_message_posts_once",
        redelivered_sns_message_posts_once,
    ),
    ("slack_500_then_recovers", slack_500_then_recovers),
    (
        "slack_429_retry_after_then_recovers",
        slack_429_retry_after_then_recovers,
    ),
    (
        "slack_permanent_failure_is_dead_lettered",
        slack_permanent_failure_is_dead_lettered,
    ),
    (
        "corrupt_payload_fails_and_is_dead_lettered",
        corrupt_payload_fails_and_is_dead_lettered,
    ),
    (
        "realert_summary_arrives_after_silence_through_the_tick",
        realert_summary_arrives_after_silence_through_the_tick,
    ),
    (
        "teams_gets_an_adaptive_card_once_per_alert",
        teams_gets_an_adaptive_card_once_per_alert,
    ),
    (
        "pagerduty_triggers_then_resolves_one_incident",
        pagerduty_triggers_then_resolves_one_incident,
    ),
    (
        "webhook_is_signed_and_carries_the_alert_id",
        webhook_is_signed_and_carries_the_alert_id,
    ),
    (
        "slack_app_incident_threads_and_updates_the_parent_on_resolve",
        slack_app_incident_threads_and_updates_the_parent_on_resolve,
    ),
    (
        "lost_publish_answers_still_post_once",
        lost_publish_answers_still_post_once,
    ),
    (
        "flatline_alerts_through_the_real_tick",
        flatline_alerts_through_the_real_tick,
    ),
];

/// The typed destinations of the channel map (`infra/local-stack up --destination`), URLs as
/// paths on the sink.
const DESTINATIONS: &[&str] = &[
    r#"e2e-teams={"type":"teams","url":"/teams/e2e"}"#,
    r#"e2e-oncall={"type":"pagerduty","routing_key":"E2EROUTINGKEY0123456789ABCDEFGH","url":"/pagerduty/v2/enqueue"}"#,
    r#"e2e-archive={"type":"webhook","url":"/webhook/e2e","secret":"e2e-signing-secret"}"#,
    r#"e2e-slack-app={"type":"slack-app","token":"xoxb-e2e-token","channel":"C0E2EAPP1","api_url":"/slack-api"}"#,
];
const PAGERDUTY_ROUTING_KEY: &str = "E2EROUTINGKEY0123456789ABCDEFGH";
const WEBHOOK_SECRET: &[u8] = b"e2e-signing-secret";
const SLACK_APP_CHANNEL: &str = "C0E2EAPP1";

fn main() {
    let mut args = Arguments::from_args();
    // One stack, shared counters in the Slack sink: scenarios run sequentially.
    args.test_threads = Some(1);
    let stack: Result<Arc<Stack>, String> = if !args.list {
        let mut up = vec![
            "--rules",
            "tests/fixtures/rules.yaml",
            "--channel",
            "flaky=/flaky/1/500/rollup_error",
            "--channel",
            "ratelimited=/ratelimit/1/ratelimited",
            "--channel",
            "archived=/fail/410/channel_is_archived",
        ];
        for d in DESTINATIONS {
            up.extend(["--destination", d]);
        }
        Stack::up(&up).map(Arc::new)
    } else {
        Err("stack not started".into())
    };
    let trials = SCENARIOS
        .iter()
        .map(|&(name, scenario)| {
            let stack = stack.clone();
            Trial::test(name, move || match &stack {
                Ok(stack) => scenario(stack),
                Err(e) => Err(format!("local stack did not start: {e}").into()),
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    drop(stack); // `infra/local-stack down`
    conclusion.exit();
}

fn check(cond: bool, msg: impl FnOnce() -> String) -> Result<(), Failed> {
    if cond { Ok(()) } else { Err(msg().into()) }
}

/// Bodies the sink accepted (200) on `path`.
fn delivered(stack: &Stack, path: &str) -> Vec<Value> {
    stack
        .slack_requests_to(path)
        .into_iter()
        .filter(|r| r["status"] == 200)
        .map(|r| r["body"].clone())
        .collect()
}

/// A JSON error event in `/e2e/api` becomes exactly one Slack message on the default webhook, and
/// that message is exactly what the shared renderer makes of the alert log-filter published.
fn subscription_payload_to_exact_slack_payload(stack: &Stack) -> Result<(), Failed> {
    let before = delivered(stack, "/hooks/default").len();
    let ts = now_ms();
    let msg = r#"{"level":"ERROR","code":"E_DB","message":"connection refused <!channel>"}"#;
    let payload = subscription_payload(
        "/e2e/api",
        "api/1",
        &[
            (&event_id(), ts, msg),
            (&event_id(), ts + 1, r#"{"level":"INFO","code":"ok"}"#),
        ],
    );
    let inv = stack.invoke("log-filter", &payload)?;
    check(inv.ok, || format!("log-filter failed: {}", inv.body))?;
    stack.wait_delivered()?;
    let bodies = delivered(stack, "/hooks/default");
    check(bodies.len() == before + 1, || {
        format!(
            "expected one new Slack message, got {}",
            bodies.len() - before
        )
    })?;
    let got = bodies.last().unwrap();

    // The alert as published: the bridge log holds every SNS message it carried.
    let alert = last_bridged_alert(stack, "api-errors")?;
    check(alert["count"] == 1 && alert["query_key"] == "E_DB", || {
        format!("alert: {alert}")
    })?;
    check(alert["samples"][0]["message"] == msg, || {
        format!("sample: {}", alert["samples"][0])
    })?;
    let alert: logalert::alert::AlertMessage = serde_json::from_value(alert)?;
    let expected =
        logalert::slack::render_alert(&alert, &logalert::slack::RenderOptions::default());
    check(*got == expected, || {
        format!("Slack payload differs from the renderer's:\n got: {got}\nwant: {expected}")
    })?;
    // The log line's `<!channel>` never reaches Slack as a control sequence.
    check(!got.to_string().contains("<!channel>"), || {
        format!("unescaped mention in {got}")
    })
}

/// The most recent alert for `rule` that the bridge carried to the notifier.
fn last_bridged_alert(stack: &Stack, rule: &str) -> Result<Value, Failed> {
    let log = std::fs::read_to_string(stack.env("BRIDGE_LOG"))?;
    log.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|entry| {
            let message = entry.get("message")?.as_str()?;
            serde_json::from_str::<Value>(message).ok()
        })
        .find(|alert| alert["rule"]["name"] == rule)
        .ok_or_else(|| format!("no bridged alert for rule {rule} in {log}").into())
}

/// `login-burst` needs 3 matches within 5 minutes (event time): 2 in one invocation stay silent,
/// a third in the next invocation fires one alert counting all three.
fn frequency_rule_counts_across_invocations(stack: &Stack) -> Result<(), Failed> {
    let ts = now_ms();
    let first = subscription_payload(
        "/e2e/auth",
        "auth/1",
        &[
            (&event_id(), ts, "login failed for alice"),
            (&event_id(), ts + 1000, "login failed for bob"),
        ],
    );
    check(stack.invoke("log-filter", &first)?.ok, || {
        "first invocation failed".into()
    })?;
    stack.wait_delivered()?;
    check(last_bridged_alert(stack, "login-burst").is_err(), || {
        "alerted after 2 of 3 events".into()
    })?;
    let second = subscription_payload(
        "/e2e/auth",
        "auth/2",
        &[(&event_id(), ts + 60_000, "login failed for carol")],
    );
    check(stack.invoke("log-filter", &second)?.ok, || {
        "second invocation failed".into()
    })?;
    stack.wait_delivered()?;
    let alert = last_bridged_alert(stack, "login-burst")?;
    check(alert["count"].as_u64() == Some(3), || {
        format!("expected count 3: {alert}")
    })
}

/// CloudWatch Logs redelivers a batch (same event ids): one Slack message, not two.
fn redelivered_batch_posts_once(stack: &Stack) -> Result<(), Failed> {
    let before = delivered(stack, "/hooks/default").len();
    let payload = subscription_payload(
        "/e2e/dedup",
        "dedup/1",
        &[(&event_id(), now_ms(), "DEDUP once")],
    );
    check(stack.invoke("log-filter", &payload)?.ok, || {
        "first delivery failed".into()
    })?;
    let again = stack.invoke("log-filter", &payload)?;
    check(again.ok, || {
        format!("redelivery must succeed (acknowledged): {}", again.body)
    })?;
    stack.wait_delivered()?;
    let n = delivered(stack, "/hooks/default").len() - before;
    check(n == 1, || {
        format!("expected exactly one Slack message, got {n}")
    })
}

/// SNS redelivers a message (same MessageId) to the notifier: one Slack post.
fn redelivered_sns_message_posts_once(stack: &Stack) -> Result<(), Failed> {
    let before = delivered(stack, "/hooks/default").len();
    let event = sns_event(
        &format!("e2e-dup-{}", event_id()),
        Some("plain notice"),
        "maintenance window starts at 22:00",
        json!({}),
    );
    let first = stack.invoke("slack-notifier", &event)?;
    check(first.ok, || {
        format!("first delivery failed: {}", first.body)
    })?;
    let second = stack.invoke("slack-notifier", &event)?;
    check(second.ok, || {
        format!("duplicate must be acknowledged: {}", second.body)
    })?;
    let n = delivered(stack, "/hooks/default").len() - before;
    check(n == 1, || {
        format!("expected one Slack post for a redelivered message, got {n}")
    })
}

/// Feed one matching event for the rule on `log_group`, wait for delivery, and return the Slack
/// sink's requests on `path` with their statuses.
fn alert_and_attempts(
    stack: &Stack,
    log_group: &str,
    message: &str,
    path: &str,
) -> Result<(Vec<Value>, Vec<Value>), Failed> {
    let payload = subscription_payload(log_group, "stream/1", &[(&event_id(), now_ms(), message)]);
    check(stack.invoke("log-filter", &payload)?.ok, || {
        "log-filter failed".into()
    })?;
    stack.wait_delivered()?;
    let reqs = stack.slack_requests_to(path);
    let statuses = reqs.iter().map(|r| r["status"].clone()).collect();
    Ok((reqs, statuses))
}

/// Slack answers 500 once, then 200: the notifier retries within the invocation; one message.
fn slack_500_then_recovers(stack: &Stack) -> Result<(), Failed> {
    let path = "/flaky/1/500/rollup_error";
    let (_, statuses) = alert_and_attempts(stack, "/e2e/flaky", "FLAKY dependency", path)?;
    check(statuses == vec![json!(500), json!(200)], || {
        format!("attempts: {statuses:?}")
    })
}

/// Slack answers 429 with Retry-After: 1 once: the notifier waits and succeeds.
fn slack_429_retry_after_then_recovers(stack: &Stack) -> Result<(), Failed> {
    let path = "/ratelimit/1/ratelimited";
    let (reqs, statuses) =
        alert_and_attempts(stack, "/e2e/ratelimited", "RATELIMITED burst", path)?;
    check(statuses == vec![json!(429), json!(200)], || {
        format!("attempts: {statuses:?}")
    })?;
    let gap = reqs[1]["time"].as_f64().unwrap() - reqs[0]["time"].as_f64().unwrap();
    check(gap >= 0.9, || {
        format!("retried after {gap:.2}s, before Retry-After: 1")
    })
}

/// The channel is archived (410): the notifier fails, Lambda's retries fail too, and the SNS
/// message lands in the notifier's dead-letter queue — not lost.
fn slack_permanent_failure_is_dead_lettered(stack: &Stack) -> Result<(), Failed> {
    let dlq = stack.env("NOTIFIER_DLQ_URL");
    stack.drain_queue(&dlq);
    let payload = subscription_payload(
        "/e2e/archived",
        "arch/1",
        &[(&event_id(), now_ms(), "ARCHIVED channel test")],
    );
    check(stack.invoke("log-filter", &payload)?.ok, || {
        "log-filter failed".into()
    })?;
    stack.wait_delivered()?;
    let attempts = stack
        .slack_requests_to("/fail/410/channel_is_archived")
        .len();
    check(attempts == 3, || {
        format!("expected 1 attempt + 2 Lambda retries, got {attempts}")
    })?;
    let dead = stack.drain_queue(&dlq);
    check(dead.len() == 1, || {
        format!("expected one dead letter, got {dead:?}")
    })?;
    check(dead[0].to_string().contains("archived-channel"), || {
        format!("the dead letter does not carry the alert: {}", dead[0])
    })
}

/// A payload that is not valid base64/gzip: log-filter fails with a message naming the problem,
/// and after the asynchronous retries the payload is in log-filter's dead-letter queue.
fn corrupt_payload_fails_and_is_dead_lettered(stack: &Stack) -> Result<(), Failed> {
    let dlq = stack.env("LOG_FILTER_DLQ_URL");
    stack.drain_queue(&dlq);
    let corrupt = json!({"awslogs": {"data": "H4sIAAAA!!!not-base64"}});
    let inv = stack.invoke("log-filter", &corrupt)?;
    check(!inv.ok, || {
        format!("corrupt payload accepted: {}", inv.body)
    })?;
    check(inv.body.to_string().contains("base64"), || {
        format!("unclear error: {}", inv.body)
    })?;
    stack.invoke_async(&corrupt)?;
    let dead = stack.drain_queue(&dlq);
    check(dead.len() == 1, || {
        format!("expected one dead letter, got {dead:?}")
    })?;
    check(
        dead[0].to_string().contains("H4sIAAAA!!!not-base64"),
        || format!("the dead letter lost the payload: {}", dead[0]),
    )
}

/// The EventBridge scheduled event template.yaml sends log-filter every minute.
fn tick_event() -> Value {
    json!({"version": "0", "id": "e2e-tick", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-12-01T00:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/logalert-tick"], "detail": {}})
}

/// Three matches within `realert: 3s`: one Slack message at once; then silence; the real tick
/// (the scheduled event, invoked as EventBridge would) reports the two suppressed matches when the
/// window has closed — a second message, the summary, in the same incident.
fn realert_summary_arrives_after_silence_through_the_tick(stack: &Stack) -> Result<(), Failed> {
    let before = delivered(stack, "/hooks/default").len();
    let ts = now_ms();
    for (i, text) in ["TICKED first", "TICKED second", "TICKED third"]
        .iter()
        .enumerate()
    {
        let payload =
            subscription_payload("/e2e/tick", "tick/1", &[(&event_id(), ts + i as i64, text)]);
        let inv = stack.invoke("log-filter", &payload)?;
        check(inv.ok, || format!("invocation {i} failed: {}", inv.body))?;
    }
    stack.wait_delivered()?;
    let alert = last_bridged_alert(stack, "tick-summary")?;
    check(alert["kind"] == "log-match" && alert["count"] == 1, || {
        format!("expected the first match alone: {alert}")
    })?;
    check(
        delivered(stack, "/hooks/default").len() == before + 1,
        || "the repeats were posted instead of suppressed".into(),
    )?;
    // Silence: no event, only time. Before the window closes a tick publishes nothing for it.
    std::thread::sleep(std::time::Duration::from_millis(3_500));
    let tick = stack.invoke("log-filter", &tick_event())?;
    check(
        tick.ok && tick.body["published"].as_u64() >= Some(1),
        || format!("the tick failed or published nothing: {}", tick.body),
    )?;
    stack.wait_delivered()?;
    let summary = last_bridged_alert(stack, "tick-summary")?;
    check(
        summary["kind"] == "summary" && summary["suppressed"] == 2 && summary["count"] == 0,
        || format!("expected the summary of 2 suppressed matches: {summary}"),
    )?;
    check(summary["incident_id"] == alert["incident_id"], || {
        format!("the summary belongs to the alert's incident: {summary} vs {alert}")
    })?;
    check(
        delivered(stack, "/hooks/default").len() == before + 2,
        || "expected exactly one more Slack message (the summary)".into(),
    )?;
    // Nothing more is due: the next tick publishes nothing for this rule.
    let again = stack.invoke("log-filter", &tick_event())?;
    check(again.ok, || format!("second tick failed: {}", again.body))?;
    stack.wait_delivered()?;
    check(
        delivered(stack, "/hooks/default").len() == before + 2,
        || "a second tick posted again".into(),
    )
}

/// The most recent message (SNS envelope fields as the bridge logged them: `message`, `subject`)
/// carrying an alert of `rule`, with the alert parsed.
fn last_bridged(stack: &Stack, rule: &str) -> Result<(Value, Option<String>), Failed> {
    let log = std::fs::read_to_string(stack.env("BRIDGE_LOG"))?;
    log.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|entry| {
            let alert = serde_json::from_str::<Value>(entry.get("message")?.as_str()?).ok()?;
            (alert["rule"]["name"] == rule)
                .then(|| (alert, entry["subject"].as_str().map(str::to_string)))
        })
        .ok_or_else(|| format!("no bridged alert for rule {rule}").into())
}

/// Invoke log-filter with one event on `log_group` and wait for the notifier; returns the event's
/// time.
fn one_event(stack: &Stack, log_group: &str, message: &str) -> Result<i64, Failed> {
    let ts = send_event(stack, log_group, message)?;
    stack.wait_delivered()?;
    Ok(ts)
}

/// The rules' `resolve_after: 10s` (tests/fixtures/rules.yaml): the second alert of an incident
/// is sent as soon as the first reached the sink ([`first_then_follow_up`]), well within it even
/// on a loaded machine.
const RESOLVE_AFTER_MS: i64 = 10_000;

/// Invoke log-filter with one event on `log_group` (no waiting); returns the event's time.
fn send_event(stack: &Stack, log_group: &str, message: &str) -> Result<i64, Failed> {
    let ts = now_ms();
    let payload = subscription_payload(log_group, "stream/1", &[(&event_id(), ts, message)]);
    let inv = stack.invoke("log-filter", &payload)?;
    check(inv.ok, || format!("log-filter failed: {}", inv.body))?;
    Ok(ts)
}

/// Wait (up to 60 s) until the sink has received more than `seen` requests under `prefix`.
fn wait_for_sink(stack: &Stack, prefix: &str, seen: usize) -> Result<(), Failed> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while stack.sink_requests_under(prefix).len() <= seen {
        if std::time::Instant::now() > deadline {
            return Err(format!("nothing reached {prefix} within 60 s").into());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(())
}

/// Two alerts of one incident: the first event, then — once its alert reached the sink under
/// `prefix` — the second, so they arrive in order and well within `resolve_after`; returns the
/// second event's time, after everything was delivered.
fn first_then_follow_up(
    stack: &Stack,
    log_group: &str,
    prefix: &str,
    messages: [&str; 2],
) -> Result<i64, Failed> {
    let seen = stack.sink_requests_under(prefix).len();
    send_event(stack, log_group, messages[0])?;
    wait_for_sink(stack, prefix, seen)?;
    let last = send_event(stack, log_group, messages[1])?;
    stack.wait_delivered()?;
    Ok(last)
}

/// Let `resolve_after` pass since the event at `last_ms`, then run the scheduled tick and wait for
/// what it published.
fn tick_after_silence(stack: &Stack, last_ms: i64) -> Result<(), Failed> {
    let wait = (last_ms + RESOLVE_AFTER_MS + 500 - now_ms()).max(0);
    std::thread::sleep(std::time::Duration::from_millis(wait as u64));
    let tick = stack.invoke("log-filter", &tick_event())?;
    check(tick.ok, || format!("the tick failed: {}", tick.body))?;
    stack.wait_delivered()?;
    Ok(())
}

/// Requests the sink received under `prefix` after the first `skip`.
fn new_requests(stack: &Stack, prefix: &str, skip: usize) -> Vec<Value> {
    stack
        .sink_requests_under(prefix)
        .into_iter()
        .skip(skip)
        .collect()
}

/// A Teams channel gets exactly the Adaptive Card the shared renderer makes of the alert, with the
/// log line's mention and link defanged; the same alert published again (a new SNS MessageId, as
/// when log-filter publishes twice) is not posted again.
fn teams_gets_an_adaptive_card_once_per_alert(stack: &Stack) -> Result<(), Failed> {
    let skip = stack.sink_requests_under("/teams/").len();
    one_event(
        stack,
        "/e2e/teams",
        "TEAMS card for <at>oncall</at>, see https://evil.example/login",
    )?;
    let reqs = new_requests(stack, "/teams/", skip);
    check(reqs.len() == 1 && reqs[0]["status"] == 202, || {
        format!("expected one accepted card: {reqs:?}")
    })?;
    let (alert, subject) = last_bridged(stack, "teams-card")?;
    let parsed: logalert::alert::AlertMessage = serde_json::from_value(alert.clone())?;
    let expected = logalert::render::teams::render(
        &logalert::slack::Incoming::Alert(Box::new(parsed)),
        subject.as_deref(),
        None,
        &logalert::slack::RenderOptions::default(),
    );
    let card = &reqs[0]["body"];
    check(*card == expected, || {
        format!("Teams card differs from the renderer's:\n got: {card}\nwant: {expected}")
    })?;
    check(
        card["attachments"][0]["content"]["version"] == "1.5",
        || format!("not an Adaptive Card 1.5: {card}"),
    )?;
    let text = card.to_string();
    check(
        !text.contains("<at>") && !text.contains("https://evil.example"),
        || format!("a mention or link from the log line survived: {text}"),
    )?;
    // Published twice: one card.
    let again = sns_event(
        &format!("e2e-teams-again-{}", event_id()),
        subject.as_deref(),
        &alert.to_string(),
        json!({}),
    );
    let inv = stack.invoke("slack-notifier", &again)?;
    check(inv.ok, || {
        format!("the duplicate must be acknowledged: {}", inv.body)
    })?;
    let n = new_requests(stack, "/teams/", skip).len();
    check(n == 1, || {
        format!("the alert published twice was posted {n} times")
    })
}

/// Two alerts of one incident trigger PagerDuty with the incident id as dedup_key; after
/// `resolve_after` of silence the real tick resolves it with the same key.
fn pagerduty_triggers_then_resolves_one_incident(stack: &Stack) -> Result<(), Failed> {
    let skip = stack.sink_requests_under("/pagerduty/").len();
    let last = first_then_follow_up(
        stack,
        "/e2e/pagerduty",
        "/pagerduty/",
        [
            "PAGE the database is down",
            "PAGE the database is still down",
        ],
    )?;
    let (alert, _) = last_bridged(stack, "pagerduty-incident")?;
    let incident = alert["incident_id"].clone();
    check(incident.as_str().is_some_and(|i| !i.is_empty()), || {
        format!("no incident id: {alert}")
    })?;
    tick_after_silence(stack, last)?;
    let (resolved, _) = last_bridged(stack, "pagerduty-incident")?;
    check(
        resolved["kind"] == "resolved" && resolved["incident_id"] == incident,
        || format!("expected the incident resolved: {resolved}"),
    )?;
    let reqs = new_requests(stack, "/pagerduty/", skip);
    let actions: Vec<&str> = reqs
        .iter()
        .map(|r| r["body"]["event_action"].as_str().unwrap_or("?"))
        .collect();
    check(actions == ["trigger", "trigger", "resolve"], || {
        format!("events: {actions:?}")
    })?;
    for r in &reqs {
        let e = &r["body"];
        check(
            r["status"] == 202
                && r["path"] == "/pagerduty/v2/enqueue"
                && e["routing_key"] == PAGERDUTY_ROUTING_KEY
                && e["dedup_key"] == incident,
            || format!("event not accepted or not keyed on the incident: {r}"),
        )?;
    }
    check(reqs[0]["body"]["payload"]["severity"] == "critical", || {
        format!("severity: {}", reqs[0]["body"])
    })
}

/// A signed webhook: the alert JSON with the alert id in a header and a signature a receiver can
/// verify over the timestamp and the exact body.
fn webhook_is_signed_and_carries_the_alert_id(stack: &Stack) -> Result<(), Failed> {
    let skip = stack.sink_requests_under("/webhook/").len();
    one_event(stack, "/e2e/webhook", "HOOKED deploy 42 finished")?;
    let reqs = new_requests(stack, "/webhook/", skip);
    check(reqs.len() == 1 && reqs[0]["status"] == 200, || {
        format!("expected one delivery: {reqs:?}")
    })?;
    let (alert, _) = last_bridged(stack, "signed-webhook")?;
    let r = &reqs[0];
    let header = |name: &str| r["headers"][name].as_str().unwrap_or("").to_string();
    check(
        header("logalert-alert-id") == alert["alert_id"].as_str().unwrap_or("-")
            && header("idempotency-key") == header("logalert-alert-id"),
        || format!("alert id headers: {}", r["headers"]),
    )?;
    let raw = r["raw"].as_str().unwrap_or("");
    logalert::render::webhook::verify(
        WEBHOOK_SECRET,
        &header("logalert-timestamp"),
        raw.as_bytes(),
        &header("logalert-signature"),
        now_ms() / 1000,
        300,
    )
    .map_err(|e| format!("the signature does not verify: {e:?} ({})", r["headers"]))?;
    check(
        logalert::render::webhook::verify(
            b"another secret",
            &header("logalert-timestamp"),
            raw.as_bytes(),
            &header("logalert-signature"),
            now_ms() / 1000,
            300,
        )
        .is_err(),
        || "a signature that verifies with any secret".into(),
    )?;
    let body = &r["body"];
    check(
        body["alert_id"] == alert["alert_id"] && body["rule"]["name"] == "signed-webhook",
        || format!("the body is not the alert: {body}"),
    )
}

/// A Slack app incident against the sink's Web API: the first alert is the thread's parent, the
/// next replies in its thread and edits the parent's count line, and the resolution (through the
/// real tick) replies and edits the parent to ✅ with the duration and total.
fn slack_app_incident_threads_and_updates_the_parent_on_resolve(
    stack: &Stack,
) -> Result<(), Failed> {
    let skip = stack.sink_requests_under("/slack-api/").len();
    let last = first_then_follow_up(
        stack,
        "/e2e/slackapp",
        "/slack-api/",
        ["THREADED first failure", "THREADED second failure"],
    )?;
    tick_after_silence(stack, last)?;
    let reqs = new_requests(stack, "/slack-api/", skip);
    let paths: Vec<&str> = reqs
        .iter()
        .map(|r| r["path"].as_str().unwrap_or("?"))
        .collect();
    check(
        paths
            == [
                "/slack-api/chat.postMessage", // the parent
                "/slack-api/chat.postMessage", // the follow-up, in the thread
                "/slack-api/chat.update",      // the parent's count line
                "/slack-api/chat.postMessage", // resolved, in the thread
                "/slack-api/chat.update",      // the parent: ✅, duration, total
            ],
        || format!("Web API calls: {paths:?}"),
    )?;
    for r in &reqs {
        check(
            r["response"]["ok"] == true
                && r["body"]["channel"] == SLACK_APP_CHANNEL
                && r["headers"]["authorization"] == "Bearer xoxb-…",
            || format!("call refused or misaddressed: {r}"),
        )?;
    }
    let parent_ts = reqs[0]["response"]["ts"].clone();
    check(reqs[0]["body"].get("thread_ts").is_none(), || {
        format!("the parent is in a thread: {}", reqs[0]["body"])
    })?;
    for i in [1, 3] {
        check(reqs[i]["body"]["thread_ts"] == parent_ts, || {
            format!("call {i} is not a reply in the thread: {}", reqs[i]["body"])
        })?;
    }
    for i in [2, 4] {
        check(reqs[i]["body"]["ts"] == parent_ts, || {
            format!("call {i} does not edit the parent: {}", reqs[i]["body"])
        })?;
    }
    let status = |i: usize| {
        reqs[i]["body"]["attachments"]
            .as_array()
            .and_then(|a| a.last())
            .and_then(|a| a["text"].as_str())
            .unwrap_or("")
            .to_string()
    };
    check(
        status(2).contains("2 matches so far") && status(2).contains("1 update in the thread"),
        || format!("the parent's count line: {}", status(2)),
    )?;
    check(
        status(4).contains("Resolved") && status(4).contains("2 matches in total"),
        || format!("the parent's resolution line: {}", status(4)),
    )?;
    let text = reqs[4]["body"]["text"].as_str().unwrap_or("");
    check(text.starts_with(":white_check_mark: *RESOLVED*"), || {
        format!("the parent is not marked resolved: {text}")
    })
}

/// Tell the SNS fault proxy (infra/fault_proxy.py) to lose the answers of the next `n` Publish
/// calls (moto keeps the message: subscribers get it, log-filter does not learn it); returns the
/// proxy's counters.
fn lose_publish_answers(stack: &Stack, n: u64) -> Result<Value, Failed> {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/__fault__", stack.env("FAULT_PROXY_URL")))
        .json(&json!({ "lose_publish_answers": n }))
        .send()?;
    Ok(resp.json()?)
}

fn fault_proxy_state(stack: &Stack) -> Result<Value, Failed> {
    let url = format!("{}/__fault__", stack.env("FAULT_PROXY_URL"));
    Ok(reqwest::blocking::get(url)?.json()?)
}

/// Every alert of `rule` the SNS bridge carried to the notifier (one per SNS message).
fn bridged_alerts(stack: &Stack, rule: &str) -> Result<Vec<Value>, Failed> {
    // No log yet: the bridge has carried nothing (a scenario run alone, first).
    let log = match std::fs::read_to_string(stack.env("BRIDGE_LOG")) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        other => other?,
    };
    let mut seen = std::collections::HashSet::new();
    Ok(log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|entry| seen.insert(entry["message_id"].to_string()))
        .filter_map(|entry| serde_json::from_str::<Value>(entry.get("message")?.as_str()?).ok())
        .filter(|alert| alert["rule"]["name"] == rule)
        .collect())
}

/// Messages on the default webhook whose text mentions `needle`.
fn posted_mentioning(stack: &Stack, needle: &str) -> usize {
    delivered(stack, "/hooks/default")
        .iter()
        .filter(|b| b.to_string().contains(needle))
        .count()
}

/// SNS accepts a Publish and its answer is lost — to log-filter a failed call, to every subscriber
/// a delivered message: the state a crash between publishing and marking the publication sent
/// leaves. (1) One lost answer: log-filter's own retry publishes the same alert again; (2) every
/// answer of an invocation lost: the invocation fails with the alert still pending in its outbox,
/// and the next tick publishes it again. Either way SNS carries the alert several times with one
/// `alert_id`, and exactly one Slack message is posted for it.
fn lost_publish_answers_still_post_once(stack: &Stack) -> Result<(), Failed> {
    let rule = "publish-answer-lost";
    let before_bridged = bridged_alerts(stack, rule)?.len();

    // (1) One answer lost: the publisher's retry.
    let lost_before = fault_proxy_state(stack)?["lost"].as_u64().unwrap_or(0);
    lose_publish_answers(stack, 1)?;
    one_event(stack, "/e2e/lost", "LOSTANSWER retried by the publisher")?;
    let proxy = fault_proxy_state(stack)?;
    check(proxy["lost"].as_u64() == Some(lost_before + 1), || {
        format!("the proxy lost no answer: {proxy}")
    })?;
    let copies = bridged_alerts(stack, rule)?.split_off(before_bridged);
    check(copies.len() >= 2, || {
        format!("expected the alert published at least twice (lost answer + retry): {copies:?}")
    })?;
    let id = copies[0]["alert_id"].clone();
    check(
        id.is_string() && copies.iter().all(|c| c["alert_id"] == id),
        || format!("every copy carries one alert_id: {copies:?}"),
    )?;
    check(
        posted_mentioning(stack, "retried by the publisher") == 1,
        || "the alert published twice was not posted exactly once".into(),
    )?;

    // (2) Every answer lost: the invocation fails; the outbox keeps the alert for the tick.
    let before_bridged = bridged_alerts(stack, rule)?.len();
    lose_publish_answers(stack, 1_000)?;
    let payload = subscription_payload(
        "/e2e/lost",
        "stream/1",
        &[(
            &event_id(),
            now_ms(),
            "LOSTANSWER left pending in the outbox",
        )],
    );
    let inv = stack.invoke("log-filter", &payload)?;
    let lost = fault_proxy_state(stack)?["lost"].as_u64().unwrap_or(0);
    lose_publish_answers(stack, 0)?;
    check(!inv.ok, || {
        format!(
            "every publish answer was lost, yet the invocation reports success: {}",
            inv.body
        )
    })?;
    check(lost >= lost_before + 2, || {
        format!("the proxy lost no answer in the second invocation: {lost}")
    })?;
    let tick = stack.invoke("log-filter", &tick_event())?;
    check(
        tick.ok && tick.body["published"].as_u64() >= Some(1),
        || format!("the tick published nothing pending: {}", tick.body),
    )?;
    stack.wait_delivered()?;
    let copies = bridged_alerts(stack, rule)?.split_off(before_bridged);
    check(copies.len() >= 2, || {
        format!("expected the lost publications and the tick's: {copies:?}")
    })?;
    let id = copies[0]["alert_id"].clone();
    check(copies.iter().all(|c| c["alert_id"] == id), || {
        format!("every copy carries one alert_id: {copies:?}")
    })?;
    check(
        posted_mentioning(stack, "left pending in the outbox") == 1,
        || "the pending alert was not posted exactly once".into(),
    )?;
    // Nothing is pending any more.
    let again = stack.invoke("log-filter", &tick_event())?;
    stack.wait_delivered()?;
    check(
        again.ok && posted_mentioning(stack, "left pending in the outbox") == 1,
        || format!("a later tick posted the alert again: {}", again.body),
    )
}

/// A heartbeat is seen once, then nothing: no event arrives to trigger the rule, and the real tick
/// decides the flatline once `timeframe` (4 s) has passed — one message saying so; a later tick
/// does not repeat it while the stream stays flat.
fn flatline_alerts_through_the_real_tick(stack: &Stack) -> Result<(), Failed> {
    let rule = "heartbeat-stopped";
    let before = bridged_alerts(stack, rule)?.len();
    // No drain between the heartbeat and the early tick: `wait_delivered` needs 3 s of quiet and,
    // on a loaded machine, took longer than the 4 s timeframe (the "early" tick then alerted).
    let ts = send_event(stack, "/e2e/flatline", "HEARTBEAT service flat")?;
    // Before the window has passed, the tick finds nothing flat (and the heartbeat alone alerted
    // nothing: checked after the drain below).
    let early = stack.invoke("log-filter", &tick_event())?;
    stack.wait_delivered()?;
    check(
        early.ok && bridged_alerts(stack, rule)?.len() == before,
        || {
            format!(
                "flatline alerted before its timeframe passed: {}",
                early.body
            )
        },
    )?;
    let wait = (ts + 4_000 + 1_000 - now_ms()).max(0);
    std::thread::sleep(std::time::Duration::from_millis(wait as u64));
    let tick = stack.invoke("log-filter", &tick_event())?;
    check(tick.ok, || format!("the tick failed: {}", tick.body))?;
    stack.wait_delivered()?;
    let alerts = bridged_alerts(stack, rule)?.split_off(before);
    check(alerts.len() == 1, || {
        format!("expected one flatline alert: {alerts:?}")
    })?;
    let alert = &alerts[0];
    check(
        alert["count"] == 0
            && alert["observation"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("no events")),
        || format!("expected a flatline observation with no events: {alert}"),
    )?;
    check(posted_mentioning(stack, "no events") >= 1, || {
        "the flatline was not posted to Slack".into()
    })?;
    let again = stack.invoke("log-filter", &tick_event())?;
    stack.wait_delivered()?;
    check(
        again.ok && bridged_alerts(stack, rule)?.len() == before + 1,
        || "a later tick repeated the flatline alert".into(),
    )
}
