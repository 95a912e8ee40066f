//! The end-to-end harness: the whole local stack (`infra/local-stack`: moto, both functions under
//! `cargo lambda watch`, the Slack sink, the SNS → notifier bridge), driven from Rust.
//!
//! ```no_run
//! let stack = logalert_e2e::Stack::up(&["--rules", "tests/fixtures/rules.yaml"]).unwrap();
//! let payload = logalert_e2e::subscription_payload("/e2e/api", "s1", &[("1", 1_700_000_000_000, "ERROR")]);
//! stack.invoke("log-filter", &payload).unwrap();
//! stack.wait_delivered().unwrap();
//! # drop(stack); // `infra/local-stack down`: stops every process it started
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A running local stack; dropping it runs `infra/local-stack down`.
pub struct Stack {
    dir: PathBuf,
    env: serde_json::Map<String, Value>,
    http: reqwest::blocking::Client,
}

/// What a synchronous invocation returned.
#[derive(Debug)]
pub struct Invocation {
    /// False when the function returned an error (`X-Amz-Function-Error` or an error body).
    pub ok: bool,
    pub body: Value,
}

impl Stack {
    /// `infra/local-stack up ARGS…` with its state in `target/e2e-stack`.
    pub fn up(args: &[&str]) -> Result<Stack, String> {
        let dir = repo_root().join("target/e2e-stack");
        // A previous run that was killed may have left processes: stop them by their recorded ids.
        let _ = local_stack(&dir, &["down"]);
        let status = local_stack(&dir, &[&["up"], args].concat())?;
        if !status {
            return Err("infra/local-stack up failed (see its output above)".into());
        }
        let env_json = std::fs::read_to_string(dir.join("env.json"))
            .map_err(|e| format!("reading {}: {e}", dir.join("env.json").display()))?;
        let env: serde_json::Map<String, Value> =
            serde_json::from_str(&env_json).map_err(|e| format!("env.json: {e}"))?;
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Stack { dir, env, http })
    }

    /// A value `up` recorded (ports, URLs, queue URLs…).
    pub fn env(&self, key: &str) -> String {
        match self.env.get(key) {
            Some(Value::String(s)) => s.clone(),
            other => panic!("local stack env has no {key}: {other:?}"),
        }
    }

    /// Synchronous Invoke of a function served by `cargo lambda watch`.
    pub fn invoke(&self, function: &str, event: &Value) -> Result<Invocation, String> {
        let url = format!(
            "{}/2015-03-31/functions/{function}/invocations",
            self.env("LAMBDA_ENDPOINT")
        );
        let resp = self
            .http
            .post(url)
            .json(event)
            .send()
            .map_err(|e| e.to_string())?;
        let function_error = resp.headers().contains_key("x-amz-function-error");
        let status = resp.status();
        let text = resp.text().map_err(|e| e.to_string())?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let error_body = body.get("errorType").is_some() || body.get("errorMessage").is_some();
        Ok(Invocation {
            ok: status.is_success() && !function_error && !error_body,
            body,
        })
    }

    /// Invoke log-filter the way CloudWatch Logs does (asynchronously: 2 retries, then the
    /// on-failure destination), through `infra/local-stack invoke`.
    pub fn invoke_async(&self, payload: &Value) -> Result<(), String> {
        let mut file = tempfile_in(&self.dir, "payload")?;
        file.1
            .write_all(payload.to_string().as_bytes())
            .map_err(|e| e.to_string())?;
        drop(file.1);
        let ok = local_stack(&self.dir, &["invoke", file.0.to_str().unwrap()])?;
        let _ = std::fs::remove_file(&file.0);
        if ok {
            Ok(())
        } else {
            Err("infra/local-stack invoke failed".into())
        }
    }

    /// Wait until the SNS → notifier bridge has carried every published message.
    pub fn wait_delivered(&self) -> Result<(), String> {
        if local_stack(&self.dir, &["wait", "120"])? {
            Ok(())
        } else {
            Err("the SNS bridge did not drain".into())
        }
    }

    /// Every request the Slack sink received so far (`{seq, path, status, body, raw}`).
    pub fn slack_requests(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.env("SINK_RECORD")).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Requests the sink received on `path`, in order.
    pub fn slack_requests_to(&self, path: &str) -> Vec<Value> {
        self.slack_requests()
            .into_iter()
            .filter(|r| r["path"] == path)
            .collect()
    }

    /// Requests the sink received on any path starting with `prefix`, in order.
    pub fn sink_requests_under(&self, prefix: &str) -> Vec<Value> {
        self.slack_requests()
            .into_iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with(prefix)))
            .collect()
    }

    /// Receive (and delete) every message currently in an SQS queue, through moto's JSON protocol.
    pub fn drain_queue(&self, queue_url: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let resp: Value = self
                .sqs(
                    "ReceiveMessage",
                    json!({"QueueUrl": queue_url, "MaxNumberOfMessages": 10}),
                )
                .unwrap_or_else(|e| panic!("ReceiveMessage {queue_url}: {e}"));
            let msgs = resp["Messages"].as_array().cloned().unwrap_or_default();
            if msgs.is_empty() {
                return out;
            }
            for m in msgs {
                self.sqs(
                    "DeleteMessage",
                    json!({"QueueUrl": queue_url, "ReceiptHandle": m["ReceiptHandle"]}),
                )
                .unwrap();
                let body = m["Body"].as_str().unwrap_or_default();
                out.push(serde_json::from_str(body).unwrap_or(Value::String(body.to_string())));
            }
        }
    }

    fn sqs(&self, action: &str, body: Value) -> Result<Value, String> {
        let resp = self
            .http
            .post(self.env("AWS_ENDPOINT_URL"))
            .header("X-Amz-Target", format!("AmazonSQS.{action}"))
            .header("Content-Type", "application/x-amz-json-1.0")
            // moto accepts any credentials; it reads the region from the signature scope.
            .header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(body.to_string())
            .send()
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let text = resp.text().map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status}: {text}"));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Where `up` keeps its logs (for failure messages).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = local_stack(&self.dir, &["down"]);
    }
}

fn local_stack(dir: &Path, args: &[&str]) -> Result<bool, String> {
    let root = repo_root();
    let status = Command::new(root.join("infra/local-stack"))
        .args(args)
        .current_dir(&root)
        .env("LOCAL_STACK_DIR", dir)
        .status()
        .map_err(|e| format!("running infra/local-stack {args:?}: {e}"))?;
    Ok(status.success())
}

fn tempfile_in(dir: &Path, stem: &str) -> Result<(PathBuf, std::fs::File), String> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("{stem}-{}-{n}.json", std::process::id()));
    let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
    Ok((path, file))
}

/// gzip + base64 of the decoded subscription JSON, as CloudWatch Logs delivers it to Lambda.
pub fn encode_subscription(decoded: &Value) -> Value {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(decoded.to_string().as_bytes()).unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
    json!({"awslogs": {"data": data}})
}

/// The decoded `DATA_MESSAGE` for `events` = `(id, timestamp_ms, message)`.
pub fn decoded_subscription(
    log_group: &str,
    log_stream: &str,
    events: &[(&str, i64, &str)],
) -> Value {
    json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": ["logalert"],
        "logEvents": events.iter().map(|(id, ts, msg)| json!({"id": id, "timestamp": ts, "message": msg})).collect::<Vec<_>>(),
    })
}

/// A direct-invocation subscription payload (`{"awslogs":{"data":…}}`).
pub fn subscription_payload(
    log_group: &str,
    log_stream: &str,
    events: &[(&str, i64, &str)],
) -> Value {
    encode_subscription(&decoded_subscription(log_group, log_stream, events))
}

/// An SNS event (as Lambda receives it) carrying `message` with the given MessageId.
pub fn sns_event(
    message_id: &str,
    subject: Option<&str>,
    message: &str,
    attributes: Value,
) -> Value {
    json!({"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:logalert-alerts:00000000-0000-0000-0000-000000000000",
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:logalert-alerts",
            "Subject": subject,
            "Message": message,
            "Timestamp": "2026-11-22T00:00:00.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
            "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
            "MessageAttributes": attributes,
        }
    }]})
}

/// Milliseconds since the epoch, now (events must be recent for CloudWatch-style windows).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A fresh 56-digit CloudWatch-style event id (unique per call within this process).
pub fn event_id() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{:036}{:020}", now_ms(), n)
}
