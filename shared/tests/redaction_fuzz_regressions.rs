//! Inputs the fuzz campaign found (fuzz/fuzz_targets/{redact,render}.rs), kept as tests.

mod slack_support;

use logalert::alert::Severity;
use logalert::render::text::Redactor;
use logalert::render::{Target, render_to};
use logalert::slack::{Incoming, RenderOptions, SlackFormat, render_alert};
use slack_support::*;

/// A redactor with the default rules and an empty memo of its own, for checking that redacting an
/// answer again changes nothing: the answer is computed again, not remembered (a redactor
/// remembers each answer as a fixpoint of itself once a pass over it found nothing).
fn fresh() -> Redactor {
    Redactor::with_patterns::<&str>(&[]).expect("no extra patterns")
}

/// fuzz redact, crash-a8989268…: an `Authorization` scheme that is not a scheme word ("T") was
/// taken as the secret on the second pass (the real secret, already a label, cannot start a
/// token), so redacting twice changed the text.
#[test]
fn authorization_with_an_odd_scheme_is_redacted_once() {
    let r = Redactor::default();
    let input = "\x1b[31mpassword=\x1b[0mhunter2 Authorization: T\x0b\x00en abc123";
    let once = r.redact(input);
    assert_eq!(fresh().redact(&once), once);
    assert!(!once.contains("hunter2"));
    let once = r.redact("Authorization: X1 secretvalue9");
    assert_eq!(once, "Authorization: X1 [REDACTED]");
    assert_eq!(fresh().redact(&once), once);
}

/// fuzz render, crash-da39a3ee…: the target's planted token had 35 characters after `ghp_` (a
/// GitHub token has 36), so it was rightly not redacted; with a real one, a token alone on its own
/// line is redacted in every place log text reaches.
#[test]
fn a_token_on_its_own_line_is_redacted_everywhere() {
    let text = "\nghp_Zq8Lm2Xv5Tn9Rb4Wc7Ky1Hd6Fs3Jp0Ga5Qe7\n";
    assert!(!Redactor::default().redact(text).contains("ghp_Zq8"));
    // Everywhere log text reaches. Not the log group, stream or filter pattern: AWS names and the
    // rules file, which the console links carry as they are.
    let mut a = alert(
        Severity::Error,
        vec![sample(0, "s0", text), sample(1, "s1", text)],
    );
    a.query_key = Some(text.to_string());
    a.subject = Some(text.to_string());
    a.text = Some(text.to_string());
    a.rule.name = text.to_string();
    a.rule.description = Some(text.to_string());
    for format in [SlackFormat::Attachments, SlackFormat::Blocks] {
        let payload = render_alert(
            &a,
            &RenderOptions {
                format,
                ..RenderOptions::default()
            },
        );
        let body = payload.to_string();
        assert!(!body.contains("ghp_Zq8"), "{format:?}: {body:.600}");
    }
}

/// fuzz render, crash-da39a3ee… (session 3): the webhook body redacted samples, subject, text and
/// query key, but carried the rule's name and description as they were; every destination shows
/// every string of the alert through the same pipeline.
#[test]
fn a_token_in_any_field_is_redacted_in_every_destination() {
    let text = "\nghp_Zq8Lm2Xv5Tn9Rb4Wc7Ky1Hd6Fs3Jp0Ga5Qe7\n";
    let mut a = alert(
        Severity::Error,
        vec![sample(0, "s0", text), sample(1, "s1", text)],
    );
    a.query_key = Some(text.to_string());
    a.subject = Some(text.to_string());
    a.text = Some(text.to_string());
    a.rule.name = text.to_string();
    a.rule.description = Some(text.to_string());
    let incoming = Incoming::Alert(Box::new(a));
    let targets = [
        Target::Teams,
        Target::PagerDuty {
            routing_key: "R0UTINGKEY".into(),
        },
        Target::Webhook,
    ];
    for target in &targets {
        let body = render_to(target, &incoming, None, None, &RenderOptions::default()).to_string();
        assert!(!body.contains("ghp_Zq8"), "{target:?}: {body:.600}");
    }
}

/// fuzz redact, crash-daf820eb… (session 3): a URL whose user part was a label of the first pass
/// (`https://[REDACTED:github-token]@…`) was read on the second pass as user `[REDACTED` with a
/// password running from inside that label to inside the next one, so redacting twice changed
/// the text. Labels are opaque words to every rule now.
#[test]
fn a_label_is_never_read_as_part_of_a_credential() {
    let r = Redactor::default();
    let input = "redis://:ps@cache:6379 https://ghp_Zq8Lm2XLm2Xv5Tn0Rb4Wc7Ky1Hd6Fs3Jp0Ga5Qe@github.://:ps@cache11 1111 1-Co";
    let once = r.redact(input);
    assert!(!once.contains("ghp_Zq8"), "{once}");
    assert!(!once.contains(":ps@"), "{once}");
    assert_eq!(fresh().redact(&once), once);
    // The same shapes written by hand: a label as a URL's user, as its password, twice in a row.
    for text in [
        "https://[REDACTED:github-token]@github.com/x https://u:[REDACTED]@db:5432",
        "mysql://[REDACTED]:[REDACTED]@db/x and postgres://a:[REDACTED:url-password]@h",
        "password=[REDACTED] token=[REDACTED:github-token] api_key: [REDACTED]",
    ] {
        assert_eq!(r.redact(text), text, "a text of labels only changed");
    }
    // Text glued to a label is still read: a secret after a label is redacted with it.
    let glued = r.redact("https://u:[REDACTED]hunter2@db:5432/x");
    assert!(!glued.contains("hunter2"), "{glued}");
    assert_eq!(fresh().redact(&glued), glued);
}

/// fuzz redact, crash-2338c66d… (session 3): `Authorization: Toke\x01\x00n abc123` — a scheme
/// word with control characters in it was not a scheme, so it was taken for the credentials and
/// `abc123` stayed. Whatever the first word of a two-word value is, the second is the secret.
#[test]
fn the_word_after_any_authorization_scheme_is_the_secret() {
    let r = Redactor::default();
    for (input, kept) in [
        (
            "\x1b[31mhunte02 Authorization: Toke\x01\x00n abc123",
            "Toke\x01\x00n",
        ),
        (
            "Authorization: Tok\u{FFFD}\u{FFFD}en abc123",
            "Tok\u{FFFD}\u{FFFD}en",
        ),
        ("authorization=\"My-Scheme/2 abc123\"", "My-Scheme/2"),
        // crash-ccdb8392…: a first word with `:` or `=` in it is a scheme too.
        (
            "\0\0 passh=odwunterer5 Authorization:on:1 oTke31mpass",
            "on:1",
        ),
        ("Authorization: a=b abc123", "a=b"),
    ] {
        let once = r.redact(input);
        assert!(
            !once.contains("abc123") && !once.contains("oTke31"),
            "{once:?}"
        );
        assert!(
            once.contains(kept),
            "the scheme word is not a secret: {once:?}"
        );
        assert_eq!(fresh().redact(&once), once);
    }
}

/// fuzz redact, crash-53e095e9… (session 3): two labels side by side
/// (`password:[REDACTED][REDACTED]`) were one finding on the second pass and became one label.
/// A finding made only of earlier labels is nothing new.
#[test]
fn labels_side_by_side_stay_as_they_are() {
    let r = Redactor::default();
    let crash = "Cookie: sid=abc; password:\x1b[0mthemeldarkJSetcioiijiuzi=\0\0\0\0x; Paabc; t\x1a\x1a\x1a\x1a\x1aheme=darkJSet=xth\x01\x0f; .=/; Hl~";
    let input = "Cookie: sid=abc123def; password:\x1b[0mhunter2hunter2; Paabc; t\x1a\x1a\x1a\x1a\x1aheme=x; .=y; Hl~";
    for input in [crash, input] {
        let once = r.redact(input);
        assert!(
            !once.contains("hunter2") && !once.contains("themeldark"),
            "{once:?}"
        );
        assert_eq!(fresh().redact(&once), once);
    }
    for text in [
        "password: [REDACTED][REDACTED]; token=[REDACTED:github-token][REDACTED]",
        "secret=[REDACTED][REDACTED:aws-access-key-id][REDACTED]",
    ] {
        assert_eq!(r.redact(text), text);
    }
    // A label glued to new text is still redacted whole.
    let glued = r.redact("password=[REDACTED][REDACTED]hunter2");
    assert!(!glued.contains("hunter2"), "{glued}");
    assert_eq!(fresh().redact(&glued), glued);
}

/// fuzz redact (session 3, fixed session 4): labels that only become side by side once a colour
/// code between them is stripped (`[REDACTED]\x1b[0m[REDACTED]`) were one finding in the
/// ANSI-stripped view, mapped back over the colour code, and merged into one label on the second
/// pass. What a view shows as labels only is nothing new in that view either.
#[test]
fn labels_joined_by_a_colour_code_stay_as_they_are() {
    let r = Redactor::default();
    let crash = "7examplword=\x1boTken a31mpassword=\x1b[0mhunter2 Authorizationthorization:=\x1b[0mh Tokenion:=\x1b[0mh Token abc246";
    let once = r.redact(crash);
    assert!(!once.contains("hunter2"), "{once:?}");
    assert_eq!(fresh().redact(&once), once);
    for text in [
        "password=[REDACTED]\x1b[0m[REDACTED]",
        "token: [REDACTED:github-token]\x1b[31m[REDACTED]\x1b[0m done",
        "Authorization: Token [REDACTED]\x1b[0m[REDACTED:jwt]",
    ] {
        assert_eq!(r.redact(text), text, "{text:?}");
    }
    // A label and new text joined by a colour code: the new text is still redacted.
    let joined = r.redact("password=[REDACTED]\x1b[0mhunter2");
    assert!(!joined.contains("hunter2"), "{joined:?}");
    assert_eq!(r.redact(&joined), joined);
}

/// fuzz redact, crash-1d6acd5e… (session 4): a GitHub token glued to the end of a longer run of
/// token characters (`…Ky1Hghp_Zq8…`) was redacted from its `ghp_` on, leaving the glued part,
/// which the second pass read together with the label as a token. `redact` answers a fixpoint:
/// it repeats until nothing new is found.
#[test]
fn a_secret_glued_to_more_token_characters_is_redacted_to_a_fixpoint() {
    let r = Redactor::default();
    let crash = "lo https://ghp_Zq8Lm2Xv5Tn9Rb4Wc7Ky1Hghp_Zq8Lm2Xv5Tn9Rb4Wc7Ky1Hd6Fs3J777777777\0\0\0\0\x007777p0Ga5Qeok passw@g|t";
    let once = r.redact(crash);
    assert!(!once.contains("Zq8Lm2"), "{once:?}");
    assert!(once.starts_with("lo https://[REDACTED"), "{once:?}");
    assert_eq!(fresh().redact(&once), once);
    let token = "ghp_Zq8Lm2Xv5Tn9Rb4Wc7Ky1Hd6Fs3Jp0Ga5Qe7";
    for (text, kept) in [
        (format!("id=abc{token} next"), " next"),
        (format!("x {token}ZZZ-9 tail"), " tail"),
        (format!("pasted twice {token}{token} end"), " end"),
    ] {
        let once = r.redact(&text);
        assert!(!once.contains("Zq8Lm2"), "{once:?}");
        assert!(once.ends_with(kept), "{once:?}");
        assert_eq!(fresh().redact(&once), once);
    }
    // A secret at a word's edge takes nothing from its neighbours.
    let once = r.redact(&format!("token ({token}), more"));
    assert!(
        once.starts_with("token ([REDACTED") && once.ends_with("]), more"),
        "{once:?}"
    );
}
