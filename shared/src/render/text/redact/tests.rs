use super::*;

fn r(s: &str) -> String {
    Redactor::default().redact(s)
}

/// The default rules with an empty memo of their own.
fn fresh() -> Redactor {
    Redactor::from_rules(DEFAULT_RULES.clone())
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
    // A bearer token is shaped like one by a digit, by one of `+/=._~-`, or by a capital
    // after its first letter; each alone is enough, plain words are prose.
    assert_eq!(
        r("sent bearer abcd.efghijk on"),
        "sent bearer [REDACTED] on"
    );
    assert_eq!(r("sent bearer abcdefgh1 on"), "sent bearer [REDACTED] on");
    assert_eq!(r("sent bearer abcdEfghij on"), "sent bearer [REDACTED] on");
    assert_eq!(
        r("sent bearer authentication on"),
        "sent bearer authentication on"
    );
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
        // A redactor of its own computes it again (the default one remembers `once` as a fixpoint).
        assert_eq!(fresh().redact(&once), once, "{s}");
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

mod memo {
    use super::*;
    use proptest::prelude::*;

    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

    /// Pieces of log text: secrets in every form the rules read (plain, JSON-escaped, nested,
    /// percent-encoded, split by colour codes, in URLs), labels, and random text.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("password=hunter2".to_string()),
            Just("key=AKIAIOSFODNN7EXAMPLE".to_string()),
            Just(format!("t={JWT}")),
            Just("Authorization: Bearer abc.DEF-123_456~+/==".to_string()),
            Just(r#"{\"token\":\"ghp_Zq8Lm2Xv5Tn9Rb4Wc7Ky1Hd6Fs3Jp0Ga5Qe7\"}"#.to_string()),
            Just(r#"{"msg":"{\"password\":\"hunter2\"}"}"#.to_string()),
            Just("login?password%3Dhunter2%26u%3Dx".to_string()),
            Just("\x1b[31mpassword=\x1b[0mhunter2".to_string()),
            Just("postgres://app:s3cr3tpw@db:5432/x".to_string()),
            Just("Cookie: sid=abcdef0123456789".to_string()),
            Just("4111 1111 1111 1111".to_string()),
            Just("[REDACTED] [REDACTED:jwt]".to_string()),
            Just("\\uc778\\uc99d token expired".to_string()),
            "[a-zA-Z0-9 =:;\"\\\\%@/._{}-]{0,24}",
        ]
    }

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(piece(), 1..5).prop_map(|p| p.join(" "))
    }

    /// `s` with its character at `at` (modulo its length) replaced by `c`.
    fn one_changed(s: &str, at: usize, c: char) -> String {
        let n = s.chars().count();
        if n == 0 {
            return c.to_string();
        }
        let at = at % n;
        s.chars()
            .enumerate()
            .map(|(i, x)| if i == at { c } else { x })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// One memoised redactor answers a stream of texts, repeats and near-repeats (one
        /// character changed) exactly as a redactor that never saw any of them; and its answers
        /// redact to themselves, computed afresh.
        #[test]
        fn memoised_answers_are_a_fresh_redactors(
            texts in prop::collection::vec(text(), 1..4),
            steps in prop::collection::vec(
                (any::<usize>(), prop::option::of((any::<usize>(), prop::sample::select(
                    vec!['a', '=', ':', '"', '\\', '%', ' ', '7', 'é', '\x1b']
                )))),
                1..10,
            ),
        ) {
            let memoised = fresh();
            for (pick, change) in steps {
                let base = &texts[pick % texts.len()];
                let text = match change {
                    Some((at, c)) => one_changed(base, at, c),
                    None => base.clone(),
                };
                let answer = memoised.redact(&text);
                prop_assert_eq!(&answer, &fresh().redact(&text), "{:?}", text);
                prop_assert_eq!(&memoised.redact(&text), &answer, "asked again: {:?}", text);
                prop_assert_eq!(&memoised.redact(&answer), &answer);
                prop_assert_eq!(&fresh().redact(&answer), &answer, "not a fixpoint: {:?}", text);
            }
        }
    }

    #[test]
    fn an_answer_is_remembered_for_its_text_and_as_a_fixpoint() {
        let r = fresh();
        assert_eq!(r.redact("password=hunter2"), "password=[REDACTED]");
        // The text and its answer (a fixpoint: the pass over it found nothing).
        assert_eq!(r.inner.memo.size().0, 2);
        assert_eq!(
            r.inner.memo.get("password=hunter2").as_deref(),
            Some("password=[REDACTED]")
        );
        assert_eq!(
            r.inner.memo.get("password=[REDACTED]").as_deref(),
            Some("password=[REDACTED]")
        );
        // Nothing found: one entry, the text itself.
        assert_eq!(r.redact("all quiet"), "all quiet");
        assert_eq!(r.inner.memo.size().0, 3);
        assert_eq!(r.inner.memo.get("all quiet").as_deref(), Some("all quiet"));
    }

    #[test]
    fn redact_answers_from_the_memo() {
        // Planted by hand (a real answer never differs from a fresh one): what the memo holds
        // is what `redact` returns, without scanning.
        let r = fresh();
        r.inner.memo.insert("password=hunter2", "remembered");
        assert_eq!(r.redact("password=hunter2"), "remembered");
        assert_eq!(fresh().redact("password=hunter2"), "password=[REDACTED]");
    }

    #[test]
    fn a_redactor_without_rules_keeps_no_memo() {
        let r = Redactor::none();
        assert_eq!(r.redact("password=hunter2"), "password=hunter2");
        assert_eq!(r.inner.memo.size(), (0, 0));
    }

    #[test]
    fn the_memo_holds_at_most_its_entries_then_starts_again() {
        let m = Memo::default();
        for i in 0..MEMO_MAX_ENTRIES {
            m.insert(&format!("t{i}"), "a");
            assert_eq!(m.size().0, i + 1);
        }
        m.insert("one more", "a");
        assert_eq!(m.size(), (1, "one more".len() + 1));
        assert_eq!(m.get("one more").as_deref(), Some("a"));
        assert_eq!(m.get("t0"), None);
        // Through `redact`: the bound holds whatever is asked.
        let r = fresh();
        for i in 0..MEMO_MAX_ENTRIES + 10 {
            r.redact(&format!("line {i} password=x{i}"));
            assert!(r.inner.memo.size().0 <= MEMO_MAX_ENTRIES);
        }
    }

    #[test]
    fn the_memo_holds_at_most_its_bytes() {
        let m = Memo::default();
        let text = |i: usize| format!("{i:08}").repeat(MEMO_MAX_TEXT / 8);
        let per = 2 * MEMO_MAX_TEXT;
        for i in 0..MEMO_MAX_BYTES / per {
            m.insert(&text(i), &text(i));
        }
        assert_eq!(m.size(), (MEMO_MAX_BYTES / per, MEMO_MAX_BYTES));
        m.insert(&text(99_999_999), "x");
        assert_eq!(m.size(), (1, MEMO_MAX_TEXT + 1));
    }

    #[test]
    fn the_memo_keeps_no_long_text_or_answer_and_counts_each_text_once() {
        let m = Memo::default();
        let limit = "x".repeat(MEMO_MAX_TEXT);
        let over = "x".repeat(MEMO_MAX_TEXT + 1);
        m.insert(&over, "a");
        m.insert("a", &over);
        assert_eq!(m.size(), (0, 0));
        m.insert(&limit, "a");
        m.insert("a", &limit);
        assert_eq!(m.size(), (2, 2 * (MEMO_MAX_TEXT + 1)));
        m.insert("a", &limit);
        assert_eq!(m.size(), (2, 2 * (MEMO_MAX_TEXT + 1)));
        // A long text is still redacted, each time.
        let long = format!("{} password=hunter2", "y".repeat(MEMO_MAX_TEXT));
        let r = fresh();
        assert!(r.redact(&long).ends_with(" password=[REDACTED]"));
        assert_eq!(r.inner.memo.size(), (0, 0));
    }

    #[test]
    fn debug_shows_no_remembered_text() {
        let r = fresh();
        r.redact("password=hunter2");
        let shown = format!("{r:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("Memo { entries: 2 }"), "{shown}");
    }

    #[test]
    fn shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Redactor>();
        let r = fresh();
        let texts = ["password=hunter2", "key=AKIAIOSFODNN7EXAMPLE", "quiet"];
        let want: Vec<String> = texts.iter().map(|t| fresh().redact(t)).collect();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..20 {
                        for (t, w) in texts.iter().zip(&want) {
                            assert_eq!(&r.redact(t), w);
                        }
                    }
                });
            }
        });
    }
}

/// `secret-xml` bounds an element's text at 500 characters after the match: the same findings
/// as the regex that bounded it itself (`[^<]{1,500}`), at and around the bound, in characters.
mod secret_xml_bound {
    use super::*;
    use proptest::prelude::*;

    fn rule(source: String) -> Rule {
        Rule::new("secret-xml", source, Secret::Named("secret"), "[REDACTED]")
            .check(Check::SecretElement)
    }

    fn shipped() -> Arc<Rule> {
        DEFAULT_RULES
            .iter()
            .find(|r| r.name == "secret-xml")
            .expect("secret-xml")
            .clone()
    }

    /// The shipped rule with the bound written in the regex again.
    fn bounded_in_the_regex() -> Rule {
        let source = &shipped().source;
        let unbounded = "(?P<secret>[^<]+)</";
        assert!(source.contains(unbounded), "{source}");
        rule(source.replace(unbounded, "(?P<secret>[^<]{1,500})</"))
    }

    fn findings(rule: &Rule, text: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        rule.scan(text, &mut out);
        out
    }

    #[test]
    fn at_the_bound() {
        let r = fresh();
        for (n, ch) in [
            (1, 'x'),
            (500, 'x'),
            (501, 'x'),
            (500, 'é'),
            (501, 'é'),
            (499, '인'),
        ] {
            let text: String = std::iter::repeat_n(ch, n).collect();
            let line = format!("<password>{text}</password>");
            let want = if n <= rules::XML_SECRET_MAX_CHARS {
                "<password>[REDACTED]</password>".to_string()
            } else {
                line.clone()
            };
            assert_eq!(r.redact(&line), want, "{n} × {ch:?}");
            assert_eq!(
                findings(&shipped(), &line),
                findings(&bounded_in_the_regex(), &line)
            );
        }
    }

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("<password>".to_string()),
            Just("<api_key a=\"1\">".to_string()),
            Just("<Token\t>".to_string()),
            Just("<name>".to_string()),
            Just("</password>".to_string()),
            Just("</".to_string()),
            Just("<".to_string()),
            Just(">".to_string()),
            "[a-z0-9 é인=]{0,6}",
            (495usize..=505, prop_oneof![Just('s'), Just('é'), Just(' ')])
                .prop_map(|(n, c)| std::iter::repeat_n(c, n).collect()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn same_findings_as_the_bounded_regex(pieces in prop::collection::vec(piece(), 0..10)) {
            let text = pieces.concat();
            prop_assert_eq!(findings(&shipped(), &text), findings(&bounded_in_the_regex(), &text));
        }
    }
}
