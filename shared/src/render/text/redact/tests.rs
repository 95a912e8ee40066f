use super::*;

fn r(s: &str) -> String {
    Redactor::default().redact(s)
}

#[test]
fn aws_keys() {
    assert_eq!(
        r("id AKIAIOSFODNN7EXAMPLE."),
        "id [REDACTED:aws-access-key-id]."
    );
    assert_eq!(r("ASIAY34FZKBOKMUTVV7A"), "[REDACTED:aws-access-key-id]");
    // Not a key: too short, lower case.
    assert_eq!(r("AKIA1234"), "AKIA1234");
    assert_eq!(
        r("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        "aws_secret_access_key = [REDACTED]"
    );
}

#[test]
fn tokens() {
    assert_eq!(
        r("Authorization: Bearer abc.DEF-123_456~+/=="),
        "Authorization: Bearer [REDACTED]"
    );
    assert_eq!(
        r("curl -H 'x: basic dXNlcjpwYXNz'"),
        "curl -H 'x: basic [REDACTED]'"
    );
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    assert_eq!(r(&format!("t={jwt} ok")), "t=[REDACTED:jwt] ok");
    assert_eq!(
        r("password=AKIAIOSFODNN7EXAMPLE"),
        "password=[REDACTED:aws-access-key-id]"
    );
    assert_eq!(r(&format!("jwt {jwt}")), "jwt [REDACTED:jwt]");
    // Prose after "Bearer" is not a token.
    assert_eq!(
        r("Bearer authentication failed"),
        "Bearer authentication failed"
    );
}

#[test]
fn key_values() {
    assert_eq!(
        r("password=hunter2 user=bob"),
        "password=[REDACTED] user=bob"
    );
    assert_eq!(
        r(r#"{"db_password": "a b\"c", "n": 1}"#),
        r#"{"db_password": "[REDACTED]", "n": 1}"#
    );
    assert_eq!(r("SECRET: 'x y'"), "SECRET: '[REDACTED]'");
    assert_eq!(r("X-Api-Key:abc123;next"), "X-Api-Key:[REDACTED];next");
    assert_eq!(
        r("client_secret=s3cr3t&grant=x"),
        "client_secret=[REDACTED]&grant=x"
    );
    assert_eq!(
        r("export DB_PASSWORD='p w'"),
        "export DB_PASSWORD='[REDACTED]'"
    );
    assert_eq!(r("passwd => hunter2"), "passwd => [REDACTED]");
    assert_eq!(
        r("<password>hunter2</password>"),
        "<password>[REDACTED]</password>"
    );
    assert_eq!(
        r("mysql -u root --password hunter2 db"),
        "mysql -u root --password [REDACTED] db"
    );
    // Words that merely mention a secret are left alone, and so are properties of one.
    assert_eq!(r("password reset requested"), "password reset requested");
    assert_eq!(
        r("token_count=1500 max_tokens=100"),
        "token_count=1500 max_tokens=100"
    );
    assert_eq!(r("secret_name=prod/db"), "secret_name=prod/db");
    assert_eq!(
        r("<secret_name>x</secret_name>"),
        "<secret_name>x</secret_name>"
    );
    assert_eq!(r("password=\"\""), "password=\"\"");
}

#[test]
fn urls_and_webhooks() {
    assert_eq!(
        r("postgres://app:pa55@db:5432/x"),
        "postgres://app:[REDACTED]@db:5432/x"
    );
    assert_eq!(
        r("redis://:pw1@cache:6379"),
        "redis://:[REDACTED]@cache:6379"
    );
    assert_eq!(r("amqp://u:p@ss/w0rd@mq/vh"), "amqp://u:[REDACTED]@mq/vh");
    assert_eq!(
        r("https://x-token:ab12cd34ef56gh78@git.example.com/r.git"),
        "https://x-token:[REDACTED]@git.example.com/r.git"
    );
    assert_eq!(
        r("https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/42"),
        "https://[REDACTED]@o1.ingest.sentry.io/42"
    );
    // A user name is not a secret; an e-mail address in a path is not a credential.
    assert_eq!(r("ssh://git@github.com/x"), "ssh://git@github.com/x");
    assert_eq!(r("ssh://ec2-user@10.0.0.1"), "ssh://ec2-user@10.0.0.1");
    assert_eq!(
        r("https://medium.com/@user/post"),
        "https://medium.com/@user/post"
    );
    assert_eq!(
        r("posting to https://hooks.slack.com/services/T000/B000/XXXX failed"),
        "posting to [REDACTED:slack-webhook] failed"
    );
    assert_eq!(
        r("to https://discord.com/api/webhooks/123456/abcDEF-_x ok"),
        "to [REDACTED:discord-webhook] ok"
    );
    assert_eq!(
        r("to https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d ok"),
        "to [REDACTED:teams-webhook] ok"
    );
}

#[test]
fn authorization_any_scheme_and_cookies() {
    assert_eq!(
        r("Authorization: Token abc123"),
        "Authorization: Token [REDACTED]"
    );
    assert_eq!(
        r("authorization=Digest1 x"),
        "authorization=Digest1 [REDACTED]"
    );
    assert_eq!(
        r(
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2024/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027 next"
        ),
        "Authorization: AWS4-HMAC-SHA256 [REDACTED] next"
    );
    assert_eq!(
        r(r#"{"Authorization":"Bearer abc.def"}"#),
        r#"{"Authorization":"Bearer [REDACTED]"}"#
    );
    assert_eq!(
        r("Cookie: sid=abc123; theme=dark"),
        "Cookie: sid=[REDACTED]; theme=[REDACTED]"
    );
    assert_eq!(
        r("Set-Cookie: session=xyz789; Path=/; HttpOnly; Max-Age=3600"),
        "Set-Cookie: session=[REDACTED]; Path=/; HttpOnly; Max-Age=3600"
    );
}

#[test]
fn cards_need_luhn() {
    assert_eq!(
        r("card 4111 1111 1111 1111 ok"),
        "card [REDACTED:card-number] ok"
    );
    assert_eq!(r("card 4111-1111-1111-1111"), "card [REDACTED:card-number]");
    assert_eq!(r("5500005555555559"), "[REDACTED:card-number]");
    // Fails Luhn, epoch ms (starts with 1), a 56-digit event id: untouched.
    assert_eq!(r("4111111111111112"), "4111111111111112");
    assert_eq!(r("ts=1700000000000"), "ts=1700000000000");
    let id = "36426553588213117457127356839521442342535441278254186496";
    assert_eq!(r(id), id);
}

#[test]
fn private_keys() {
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\nabc\n-----END RSA PRIVATE KEY-----";
    assert_eq!(r(&format!("k={{{pem}}}")), "k={[REDACTED:private-key]}");
    // Truncated block: redacted to the end.
    assert_eq!(
        r("-----BEGIN PRIVATE KEY-----\nMIIE"),
        "[REDACTED:private-key]"
    );
    let pgp =
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----";
    assert_eq!(r(&format!("a {pgp} b")), "a [REDACTED:private-key] b");
    let escaped = r#"{"key":"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----\n"}"#;
    assert_eq!(r(escaped), r#"{"key":"[REDACTED:private-key]\n"}"#);
}

#[test]
fn escaped_and_coloured_forms() {
    assert_eq!(
        r(r#"{"msg":"{\"password\":\"hunter2\"}"}"#),
        r#"{"msg":"{\"password\":\"[REDACTED]\"}"}"#
    );
    assert_eq!(
        r(r"mysql:\/\/root:hunter2@db"),
        r"mysql:\/\/root:[REDACTED]@db"
    );
    assert_eq!(
        r("\x1b[31mpassword=\x1b[0mhunter2 x"),
        "\x1b[31mpassword=\x1b[0m[REDACTED] x"
    );
    assert_eq!(
        r("login?password%3Dhunter2%26u%3Dx"),
        "login?password%3D[REDACTED]%26u%3Dx"
    );
    // Double-escaped.
    assert_eq!(
        r(r#"{\"m\":\"{\\\"token\\\":\\\"abc\\\"}\"}"#),
        r#"{\"m\":\"{\\\"token\\\":\\\"[REDACTED]\\\"}\"}"#
    );
}

#[test]
fn redacting_twice_changes_nothing() {
    for s in [
        "password=hunter2",
        "k=AKIAIOSFODNN7EXAMPLE",
        "postgres://a:b@c/d",
        "Cookie: a=b",
        "Authorization: Token abc",
        "-----BEGIN PRIVATE KEY-----\nx",
    ] {
        let once = r(s);
        assert_ne!(once, s);
        assert_eq!(r(&once), once, "{s}");
    }
}

#[test]
fn custom_patterns() {
    let red = Redactor::from_env_value(Some(
        r#"["ssn=\\d{3}-\\d{2}-\\d{4}", "pin:(?P<secret>\\d+)"]"#,
    ))
    .unwrap();
    assert_eq!(
        red.redact("ssn=123-45-6789 pin:4321 x"),
        "[REDACTED] pin:[REDACTED] x"
    );
    assert_eq!(red.rule_names().last(), Some(&"custom-1"));
    let err = Redactor::from_env_value(Some(r#"["ok", "(unclosed"]"#)).unwrap_err();
    assert_eq!(err.index, 1);
    assert!(err.to_string().contains("REDACT_PATTERNS[1]"), "{err}");
    assert!(Redactor::from_env_value(Some("not json")).is_err());
    assert!(Redactor::from_env_value(Some("  ")).is_ok());
    assert_eq!(Redactor::none().redact("password=x"), "password=x");
    let mut s = "password=x".to_string();
    assert!(!Redactor::none().redact_in_place(&mut s));
    assert!(Redactor::default().redact_in_place(&mut s));
    assert_eq!(s, "password=[REDACTED]");
    assert!(!Redactor::default().redact_in_place(&mut s));
}

#[test]
fn entropy_and_luhn() {
    assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-9);
    assert_eq!(shannon_entropy(""), 0.0);
    assert_eq!(shannon_entropy("aaaa"), 0.0);
    assert!(luhn("4111 1111 1111 1111"));
    assert!(!luhn("4111 1111 1111 1112"));
    assert!(!luhn("411111111111"), "12 digits");
    assert!(luhn("4000000000000000006"), "19 digits");
    assert!(!luhn("40000000000000000006"), "20 digits");
}

/// `only_labels` at its edges: a label must lie inside the range (one ending where the range
/// starts, or starting where it ends, does not count), and a range of invisible bytes alone is not
/// labels.
#[test]
fn only_labels_needs_a_label_inside_the_range() {
    let text = "[REDACTED]\x01\x02[REDACTED:jwt]";
    let labels = label_ranges(text);
    assert_eq!(labels, [0..10, 12..26]);
    assert!(only_labels(text, &(0..26), &labels));
    assert!(
        only_labels(text, &(0..12), &labels),
        "a label and control bytes"
    );
    assert!(
        only_labels(text, &(10..26), &labels),
        "control bytes and a label"
    );
    assert!(
        !only_labels(text, &(10..12), &labels),
        "between labels: no label inside"
    );
    assert!(
        !only_labels(text, &(10..11), &labels),
        "right after a label"
    );
    assert!(
        !only_labels("\x01[REDACTED]", &(0..1), &label_ranges("\x01[REDACTED]")),
        "right before a label"
    );
    assert!(
        !only_labels("\x01\x02", &(0..2), &[]),
        "invisible bytes alone"
    );
    assert!(
        !only_labels("[REDACTED]x", &(0..11), &label_ranges("[REDACTED]x")),
        "a label and visible text"
    );
    assert!(
        only_labels(
            "[REDACTED]\x1b[0m",
            &(0..14),
            &label_ranges("[REDACTED]\x1b[0m")
        ),
        "a label and a colour code"
    );
}
