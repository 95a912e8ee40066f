//! The redaction corpus: one realistic sample of each secret format, in four forms (plain text,
//! inside JSON with escaped slashes and quotes, ANSI-coloured, percent-encoded inside a URL),
//! through every renderer. No secret survives in any form (raw, JSON-escaped, decoded), and the
//! words around it do.
//!
//! A renderer is one line in [`renderers`]; a format is one entry in [`formats`].

mod slack_support;

use logalert::alarm::AlarmEnrichment;
use logalert::alert::{AlertMessage, Severity};
use logalert::render::text::{Redactor, publication::redact_alert};
use logalert::render::{Target, render_to};
use logalert::slack::Incoming;
use logalert::slack::{RenderOptions, SlackFormat, render_alarm, render_alert, render_other};
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::Value;
use slack_support::*;

/// Everything a destination would send, as one JSON value.
type Renderer = fn(&str) -> Value;

/// Every renderer on main, fed one log line in the places a log line reaches.
fn renderers() -> Vec<(&'static str, Renderer)> {
    vec![
        ("slack-attachments", |line| {
            render_alert(&alert_with(line), &slack(SlackFormat::Attachments))
        }),
        ("slack-blocks", |line| {
            render_alert(&alert_with(line), &slack(SlackFormat::Blocks))
        }),
        ("slack-alarm", |line| {
            render_alarm(
                &alarm("ALARM", "OK"),
                Some(&enrichment_with(line)),
                &slack(SlackFormat::Blocks),
            )
        }),
        ("slack-other-text", |line| {
            render_other(Some("note"), line, &slack(SlackFormat::Attachments))
        }),
        ("slack-other-json", |line| {
            let body = serde_json::json!({"detail": line}).to_string();
            render_other(None, &body, &slack(SlackFormat::Blocks))
        }),
        ("sns-body", |line| {
            let mut a = alert_with(line);
            let subject = redact_alert(&Redactor::default(), &mut a, line);
            serde_json::json!({"Subject": subject, "Message": serde_json::to_string(&a).unwrap()})
        }),
        ("log-filter-publication", log_filter_publication),
        ("teams", |line| to(&Target::Teams, line)),
        ("teams-alarm", |line| to_alarm(&Target::Teams, line)),
        ("pagerduty", |line| to(&pagerduty(), line)),
        ("pagerduty-alarm", |line| to_alarm(&pagerduty(), line)),
        ("webhook", |line| to(&Target::Webhook, line)),
        ("webhook-alarm", |line| to_alarm(&Target::Webhook, line)),
    ]
}

/// What log-filter publishes for an event with this message (the real engine: match, decide,
/// build the alert, subject and text from templates that quote the message).
fn log_filter_publication(line: &str) -> Value {
    use logalert::engine::{CollectingSink, Engine, EngineConfig};
    use logalert::payload::{LogEvent, LogsPayload, MessageType};
    use logalert::state::{MemoryStore, block_on};
    let rules = logalert::rules::load(
        "version: 1\nrules:\n  - name: everything\n    filter_pattern: \"\"\n    alert_subject: \"{{ message }}\"\n    alert_text: \"seen: {{ message }}\"\n",
        "corpus.yaml",
    )
    .unwrap();
    let engine = Engine::new(rules, EngineConfig::new("eu-west-1"));
    let payload = LogsPayload {
        message_type: MessageType::Data,
        owner: "123456789012".into(),
        log_group: "/app/api".into(),
        log_stream: "s1".into(),
        subscription_filters: vec!["f".into()],
        policy_level: None,
        log_events: vec![LogEvent {
            id: "1".into(),
            timestamp: T0,
            message: line.to_string(),
        }],
    };
    let store = MemoryStore::default();
    store.set_clock(T0 / 1000);
    let sink = CollectingSink::default();
    block_on(engine.process(&[payload], &store, &sink, T0));
    let published = sink.take();
    assert_eq!(published.len(), 1, "the rule alerts on every event");
    let p = &published[0];
    serde_json::json!({"Subject": p.subject, "Message": p.body})
}

fn pagerduty() -> Target {
    Target::PagerDuty {
        routing_key: "R0UTINGKEY".into(),
    }
}

/// A destination's body for an alert whose sample (and text) is `line`.
fn to(target: &Target, line: &str) -> Value {
    let incoming = Incoming::Alert(Box::new(alert_with(line)));
    render_to(
        target,
        &incoming,
        None,
        None,
        &slack(SlackFormat::Attachments),
    )
}

/// A destination's body for an alarm whose enrichment found `line`.
fn to_alarm(target: &Target, line: &str) -> Value {
    let incoming = Incoming::Alarm(Box::new(alarm("ALARM", "OK")));
    let e = enrichment_with(line);
    render_to(
        target,
        &incoming,
        None,
        Some(&e),
        &slack(SlackFormat::Attachments),
    )
}

fn slack(format: SlackFormat) -> RenderOptions {
    RenderOptions {
        format,
        sample_max_chars: 3_000,
        ..RenderOptions::default()
    }
}

fn alert_with(line: &str) -> AlertMessage {
    let mut a = alert(Severity::Error, vec![sample(0, "stream-1", line)]);
    a.text = Some(format!("Seen: {line}"));
    a
}

fn enrichment_with(line: &str) -> AlarmEnrichment {
    enrichment(&[line])
}

/// Deterministic random characters (so token formats with an entropy floor look real).
fn random(seed: u64, n: usize, alphabet: &str) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            chars[((x >> 33) % chars.len() as u64) as usize]
        })
        .collect()
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &str = "0123456789abcdef";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct Format {
    name: &'static str,
    /// The secret (what must not survive).
    secret: String,
    /// The line; `{S}` stands for the secret.
    line: String,
}

fn f(name: &'static str, secret: impl Into<String>, line: &str) -> Format {
    Format {
        name,
        secret: secret.into(),
        line: line.to_string(),
    }
}

fn formats() -> Vec<Format> {
    let pem_body = format!("{}\n{}", random(1, 64, B64), random(2, 40, B64));
    vec![
        f(
            "github ghp_",
            format!("ghp_{}", random(3, 36, ALNUM)),
            "git push rejected: token {S} lacks scope repo",
        ),
        f(
            "github gho_",
            format!("gho_{}", random(4, 36, ALNUM)),
            "oauth exchange gave {S} for user 42",
        ),
        f(
            "github ghu_",
            format!("ghu_{}", random(5, 36, ALNUM)),
            "app user token {S} expired",
        ),
        f(
            "github ghs_",
            format!("ghs_{}", random(6, 36, ALNUM)),
            "installation token {S} minted",
        ),
        f(
            "github ghr_",
            format!("ghr_{}", random(7, 36, ALNUM)),
            "refresh with {S} failed",
        ),
        f(
            "github github_pat_",
            format!(
                "github_pat_{}_{}",
                random(8, 22, ALNUM),
                random(9, 59, ALNUM)
            ),
            "using {S} for the API",
        ),
        f(
            "gitlab glpat-",
            format!("glpat-{}", random(10, 20, ALNUM)),
            "clone with {S} denied",
        ),
        f(
            "slack xoxb-",
            format!(
                "xoxb-{}-{}-{}",
                random(11, 12, "0123456789"),
                random(12, 13, "0123456789"),
                random(13, 24, ALNUM)
            ),
            "chat.postMessage with {S} got not_in_channel",
        ),
        f(
            "slack xoxp-",
            format!(
                "xoxp-{}-{}-{}-{}",
                random(14, 11, "0123456789"),
                random(15, 11, "0123456789"),
                random(16, 12, "0123456789"),
                random(17, 32, HEX)
            ),
            "user token {S} revoked",
        ),
        f(
            "slack xoxa-",
            format!("xoxa-2-{}", random(18, 40, ALNUM)),
            "legacy token {S} in use",
        ),
        f(
            "slack xoxr-",
            format!("xoxr-{}", random(19, 40, ALNUM)),
            "refresh token {S} rotated",
        ),
        f(
            "slack xoxo-",
            format!(
                "xoxo-{}-{}-{}-{}",
                random(20, 10, "0123456789"),
                random(21, 10, "0123456789"),
                random(22, 10, "0123456789"),
                random(23, 32, HEX)
            ),
            "legacy {S} found",
        ),
        f(
            "slack xoxs-",
            format!(
                "xoxs-{}-{}-{}-{}",
                random(24, 10, "0123456789"),
                random(25, 10, "0123456789"),
                random(26, 10, "0123456789"),
                random(27, 32, HEX)
            ),
            "legacy {S} found",
        ),
        f(
            "slack webhook",
            format!(
                "https://hooks.slack.com/services/T0{}/B0{}/{}",
                random(28, 8, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"),
                random(29, 9, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"),
                random(30, 24, ALNUM)
            ),
            "posting to {S} failed with 404",
        ),
        f(
            "teams webhook",
            format!(
                "https://contoso.webhook.office.com/webhookb2/{}-aaaa-bbbb-cccc-{}@{}-dddd-eeee-ffff-{}/IncomingWebhook/{}/{}-1111-2222-3333-{}",
                random(31, 8, HEX),
                random(32, 12, HEX),
                random(33, 8, HEX),
                random(34, 12, HEX),
                random(35, 32, HEX),
                random(36, 8, HEX),
                random(37, 12, HEX)
            ),
            "teams post to {S} returned 400",
        ),
        f(
            "discord webhook",
            format!(
                "https://discord.com/api/webhooks/{}/{}",
                random(38, 18, "0123456789"),
                random(
                    39,
                    68,
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
                )
            ),
            "discord hook {S} rate limited",
        ),
        f(
            "stripe sk_live_",
            format!("sk_live_{}", random(40, 24, ALNUM)),
            "stripe client init with {S} ok",
        ),
        f(
            "stripe rk_live_",
            format!("rk_live_{}", random(41, 24, ALNUM)),
            "restricted key {S} lacks charges:write",
        ),
        f(
            "google AIza",
            format!(
                "AIza{}",
                random(
                    42,
                    35,
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
                )
            ),
            "maps geocode key={S}&address=x failed",
        ),
        f(
            "npm_",
            format!("npm_{}", random(43, 36, ALNUM)),
            "npm publish with {S} forbidden",
        ),
        f(
            "anthropic sk-ant-",
            format!(
                "sk-ant-api03-{}AA",
                random(
                    44,
                    93,
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
                )
            ),
            "anthropic call with {S} got 401",
        ),
        f(
            "openai sk-",
            format!("sk-{}", random(45, 48, ALNUM)),
            "openai legacy key {S} used",
        ),
        f(
            "openai sk-proj-",
            format!(
                "sk-proj-{}",
                random(
                    46,
                    120,
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
                )
            ),
            "openai project key {S} quota exceeded",
        ),
        f(
            "sendgrid SG.",
            format!("SG.{}.{}", random(47, 22, ALNUM), random(48, 43, ALNUM)),
            "sendgrid send with {S} unauthorized",
        ),
        f(
            "twilio SK",
            format!("SK{}", random(49, 32, HEX)),
            "twilio api key {S} active",
        ),
        f(
            "twilio AC",
            format!("AC{}", random(50, 32, HEX)),
            "twilio account {S} suspended",
        ),
        f(
            "shopify shpat_",
            format!("shpat_{}", random(51, 32, HEX)),
            "shopify admin call with {S} ok",
        ),
        f(
            "shopify shpss_",
            format!("shpss_{}", random(52, 32, HEX)),
            "shopify shared secret {S} loaded",
        ),
        f(
            "azure AccountKey",
            format!("{}==", random(53, 86, B64)),
            "storage conn DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={S};EndpointSuffix=core.windows.net failed",
        ),
        f(
            "azure SharedAccessSignature",
            format!(
                "sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2026-12-01&sig={}%3D",
                random(54, 43, ALNUM)
            ),
            "blob client SharedAccessSignature={S};BlobEndpoint=https://acme.blob.core.windows.net/ ready",
        ),
        f(
            "azure SAS sig",
            format!("{}%3D", random(55, 43, ALNUM)),
            "GET https://acme.blob.core.windows.net/c/f.txt?sv=2022-11-02&se=2026-12-01&sp=r&sig={S} 403",
        ),
        f(
            "sentry DSN",
            random(56, 32, HEX),
            "sentry init dsn=https://{S}@o450000.ingest.sentry.io/5500000 done",
        ),
        f(
            "aws access key id",
            format!("AKIA{}", random(57, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")),
            "assume role with key {S} denied",
        ),
        f(
            "aws secret key",
            random(58, 40, B64),
            "boto config aws_secret_access_key={S} region=eu-west-1",
        ),
        f(
            "jwt",
            format!(
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIx{}.{}",
                random(59, 30, ALNUM),
                random(
                    60,
                    43,
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
                )
            ),
            "session {S} expired for user 7",
        ),
        f(
            "pem private key",
            pem_body.clone(),
            "loaded key -----BEGIN RSA PRIVATE KEY-----\n{S}\n-----END RSA PRIVATE KEY----- from disk",
        ),
        f(
            "openssh private key",
            pem_body.clone(),
            "deploy key -----BEGIN OPENSSH PRIVATE KEY-----\n{S}\n-----END OPENSSH PRIVATE KEY----- rejected",
        ),
        f(
            "pgp private key",
            pem_body.clone(),
            "gpg import -----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{S}\n-----END PGP PRIVATE KEY BLOCK----- done",
        ),
        f(
            "url user:password",
            "Tr0ub4dor-3",
            "connect postgres://app:{S}@db.internal:5432/orders timed out",
        ),
        f(
            "url token as user",
            format!("ghp_{}", random(61, 36, ALNUM)),
            "fetch https://{S}@github.com/acme/api.git failed",
        ),
        f(
            "url empty user",
            "c4che-pw-77",
            "cache redis://:{S}@cache.internal:6379/0 unreachable",
        ),
        f(
            "url password with @ and /",
            "p@ss/w0rd!",
            "broker amqp://svc:{S}@mq.internal:5672/prod refused",
        ),
        f(
            "authorization bearer",
            format!("{}.{}", random(62, 20, ALNUM), random(63, 20, ALNUM)),
            "request headers Authorization: Bearer {S} status 401",
        ),
        f(
            "authorization basic",
            "c3ZjOmh1bnRlcjJodW50ZXIy",
            "proxy sent Authorization: Basic {S} to upstream",
        ),
        f(
            "authorization token",
            random(64, 32, HEX),
            "drf Authorization: Token {S} invalid",
        ),
        f(
            "authorization custom scheme",
            random(65, 28, ALNUM),
            "webhook Authorization: SSWS {S} from okta",
        ),
        f(
            "cookie",
            random(66, 26, ALNUM),
            "request Cookie: sessionid={S}; theme=dark\nupstream answered 200",
        ),
        f(
            "set-cookie",
            random(67, 30, ALNUM),
            "response Set-Cookie: auth={S}; Path=/; HttpOnly; Secure done",
        ),
        f(
            "key=value text",
            "hunter2",
            "login failed user=bob password={S} from 10.0.0.7",
        ),
        f(
            "key: value json",
            "s3cr3t-Value",
            r#"config loaded {"db_password": "{S}", "pool": 5}"#,
        ),
        f(
            "env style",
            "mNq7-Zx2",
            "env dump STRIPE_API_KEY={S} NODE_ENV=production",
        ),
        f(
            "card number",
            "4111111111111111",
            "charge declined card={S} amount=12.00",
        ),
        f(
            "card number spaced",
            "5500 0055 5555 5559",
            "charge declined card {S} amount=12.00",
        ),
        f(
            "card number dashed",
            "3782-822463-10005",
            "refund card {S} ok",
        ),
    ]
}

/// The four forms of a line.
fn forms(line: &str, secret: &str) -> Vec<(&'static str, String)> {
    let plain = line.replace("{S}", secret);
    let json = serde_json::to_string(&serde_json::json!({"level": "error", "msg": plain}))
        .unwrap()
        .replace('/', "\\/");
    let ansi = format!(
        "\x1b[31mERROR\x1b[0m {}",
        line.replace("{S}", &format!("\x1b[1;33m{secret}\x1b[0m"))
    );
    let url = format!(
        "GET https://logs.example.com/search?q={}&page=2 200",
        utf8_percent_encode(&plain, NON_ALPHANUMERIC)
    );
    vec![
        ("plain", plain),
        ("json", json),
        ("ansi", ansi),
        ("url", url),
    ]
}

/// A string and the decodings a reader could apply to it.
fn decodings(s: &str) -> Vec<String> {
    let mut out = vec![s.to_string()];
    let json_unescaped = serde_json::from_str::<String>(&format!("\"{s}\"")).unwrap_or_else(|_| {
        s.replace("\\/", "/")
            .replace("\\\"", "\"")
            .replace("\\n", "\n")
    });
    out.push(json_unescaped.clone());
    out.push(json_unescaped.replace("\\n", "\n").replace("\\\"", "\""));
    for x in [s.to_string(), json_unescaped] {
        out.push(percent_decode_str(&x).decode_utf8_lossy().into_owned());
        out.push(
            x.replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">"),
        );
    }
    out
}

fn all_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            out.push(s.clone());
            // A string holding JSON (the SNS Message) is read as JSON too.
            if let Ok(inner) = serde_json::from_str::<Value>(s)
                && !inner.is_string()
            {
                all_strings(&inner, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| all_strings(v, out)),
        Value::Object(o) => o.values().for_each(|v| all_strings(v, out)),
        _ => {}
    }
}

/// Words of the line (outside the secret and the key block markers, which go with it) a reader
/// needs: the first and last two.
fn context_words(line: &str) -> Vec<String> {
    let marker = regex::Regex::new(r"-----(?:BEGIN|END) [A-Z ]+-----").unwrap();
    let line = marker.replace_all(line, " ");
    let (before, after) = line.split_once("{S}").unwrap();
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 3)
            .map(str::to_string)
            .collect()
    };
    let b = words(before);
    let a = words(after);
    b.iter()
        .take(2)
        .chain(a.iter().rev().take(2))
        .cloned()
        .collect()
}

#[test]
fn no_secret_survives_any_renderer_in_any_form() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for format in formats() {
        // The forms of the secret a leak could take.
        let json_escaped = serde_json::to_string(&format.secret).unwrap();
        let json_escaped = json_escaped.trim_matches('"').to_string();
        let leaks = [
            format.secret.clone(),
            json_escaped.clone(),
            json_escaped.replace('/', "\\/"),
            utf8_percent_encode(&format.secret, NON_ALPHANUMERIC).to_string(),
        ];
        for (form, line) in forms(&format.line, &format.secret) {
            for (renderer, render) in renderers() {
                checked += 1;
                let payload = render(&line);
                let mut strings = Vec::new();
                all_strings(&payload, &mut strings);
                let read: Vec<String> = strings.iter().flat_map(|s| decodings(s)).collect();
                for leak in &leaks {
                    if let Some(s) = read.iter().find(|s| s.contains(leak.as_str())) {
                        failures.push(format!(
                            "{} / {form} / {renderer}: secret survives in {:.200}",
                            format.name, s
                        ));
                    }
                }
                for word in context_words(&format.line) {
                    if !read.iter().any(|s| s.contains(&word)) {
                        failures.push(format!(
                            "{} / {form} / {renderer}: the word {word:?} is gone",
                            format.name
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, formats().len() * 4 * renderers().len());
}

#[test]
fn the_corpus_is_really_secret_without_redaction() {
    // The check above could pass by construction if a renderer dropped the sample: without
    // redaction every renderer shows every plain secret.
    for format in formats() {
        let line = format.line.replace("{S}", &format.secret);
        let payload = render_alert(
            &alert_with(&line),
            &RenderOptions {
                redactor: Redactor::none(),
                ..slack(SlackFormat::Blocks)
            },
        );
        let mut strings = Vec::new();
        all_strings(&payload, &mut strings);
        let read: Vec<String> = strings.iter().flat_map(|s| decodings(s)).collect();
        let first_line = format.secret.lines().next().unwrap();
        assert!(
            read.iter().any(|s| s.contains(first_line)),
            "{}: not shown without redaction",
            format.name
        );
    }
}
