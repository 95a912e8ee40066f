//! Properties of redaction over random text: a planted secret is always removed and the text
//! around it kept exactly; any text is redacted without panicking, and redacting twice changes
//! nothing.

use logalert::render::text::{self, Redactor};
use proptest::prelude::*;

/// The default rules with a memo of their own, for the second redaction of an answer (see the
/// idempotence property): it computes what [`Redactor::default`] would only remember.
static CHECK: std::sync::LazyLock<Redactor> =
    std::sync::LazyLock::new(|| Redactor::with_patterns::<&str>(&[]).expect("no extra patterns"));

/// Ordinary log words (none secret-looking), punctuation and separators.
fn filler() -> impl Strategy<Value = String> {
    let word = prop::sample::select(vec![
        "error",
        "user",
        "request",
        "failed",
        "retry",
        "the",
        "at",
        "ms",
        "ok",
        "GET",
        "/api/v1",
        "latency",
        "é",
        "漢字",
        "🚀",
        "42",
        "2026-12-01T10:00:00Z",
        "(eu-west-1)",
        "[worker-3]",
        "status",
        "200",
        "{",
        "}",
        "\"quoted\"",
        "it's",
        "#7",
        "x.y",
        "path/to/file.rs",
    ]);
    let sep = prop::sample::select(vec![" ", " ", ", ", ". ", "\n", "\t", " - "]);
    prop::collection::vec((word, sep), 0..12).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(w, s)| format!("{w}{s}"))
            .collect::<String>()
    })
}

fn alnum(n: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                .chars()
                .collect::<Vec<_>>(),
        ),
        n,
    )
    .prop_map(|c| c.into_iter().collect())
}

fn hex(n: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select("0123456789abcdef".chars().collect::<Vec<_>>()),
        n,
    )
    .prop_map(|c| c.into_iter().collect())
}

/// (the text planted, the secret inside it that must go).
fn planted() -> impl Strategy<Value = (String, String)> {
    let with_digit = |s: String| format!("{s}7");
    prop_oneof![
        alnum(36)
            .prop_map(|s| format!("ghp_{s}"))
            .prop_map(|s| (s.clone(), s)),
        alnum(20)
            .prop_map(|s| format!("glpat-{s}"))
            .prop_map(|s| (s.clone(), s)),
        alnum(24)
            .prop_map(|s| format!("sk_live_{s}"))
            .prop_map(|s| (s.clone(), s)),
        hex(32)
            .prop_map(|s| format!("shpat_{s}"))
            .prop_map(|s| (s.clone(), s)),
        hex(32)
            .prop_map(|s| format!("SK{s}"))
            .prop_map(|s| (s.clone(), s)),
        alnum(16)
            .prop_map(|s| format!("AKIA{}", s.to_uppercase()))
            .prop_map(|s| (s.clone(), s)),
        alnum(10)
            .prop_map(with_digit)
            .prop_map(|s| (format!("password={s}"), s)),
        alnum(12)
            .prop_map(with_digit)
            .prop_map(|s| (format!("\"api_key\": \"{s}\""), s)),
        alnum(12)
            .prop_map(with_digit)
            .prop_map(|s| (format!("postgres://app:{s}@db:5432/x"), s)),
        alnum(20)
            .prop_map(with_digit)
            .prop_map(|s| (format!("Authorization: Bearer {s}"), s)),
        alnum(20)
            .prop_map(with_digit)
            .prop_map(|s| (format!("Cookie: sid={s}"), s)),
        Just((
            "4111 1111 1111 1111".to_string(),
            "4111 1111 1111 1111".to_string()
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_planted_secret_goes_and_the_rest_stays(
        before in filler(),
        (plant, secret) in planted(),
        after in filler(),
    ) {
        let r = Redactor::default();
        let text = format!("{before} {plant} {after}");
        let out = r.redact(&text);
        prop_assert!(!out.contains(&secret), "{out:?}");
        let head = format!("{before} ");
        let tail = format!(" {after}");
        prop_assert!(out.starts_with(&head), "{out:?}");
        prop_assert!(out.ends_with(&tail), "{out:?}");
        prop_assert!(out.contains("[REDACTED"), "{out:?}");
        // And through the whole pipeline.
        let line = text::line(&text, &r);
        prop_assert!(!line.contains(&secret), "{line:?}");
    }

    #[test]
    fn any_text_is_redacted_without_panic_and_redacting_twice_changes_nothing(
        s in "(?s)[a-zA-Z0-9 =:;,'\"\\\\/%@.\\-_{}\\[\\]\n\t\u{1b}é漢]{0,200}",
    ) {
        let r = Redactor::default();
        let once = r.redact(&s);
        // Checked by a redactor of its own: `r` remembers `once` as a fixpoint of itself.
        prop_assert_eq!(CHECK.redact(&once), once.clone());
        let findings = r.find(&s);
        for w in findings.windows(2) {
            prop_assert!(w[0].range.end <= w[1].range.start);
        }
        let _ = text::code(&s, &r);
    }
}
