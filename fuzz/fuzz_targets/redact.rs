//! Redaction and the text pipeline never panic on any text; redacting twice changes nothing; the
//! pipeline's output has no control character left (other than line breaks and tabs where kept).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use logalert::render::text::{self, Redactor};

static REDACTOR: LazyLock<Redactor> = LazyLock::new(Redactor::default);
/// The same rules with a memo of their own, for the second redaction: `REDACTOR` remembers each
/// answer as a fixpoint of itself, so asking it again would check nothing.
static CHECK: LazyLock<Redactor> =
    LazyLock::new(|| Redactor::with_patterns::<&str>(&[]).expect("no extra patterns"));

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let r = &*REDACTOR;
    let findings = r.find(s);
    for w in findings.windows(2) {
        assert!(
            w[0].range.end <= w[1].range.start,
            "findings are disjoint and ordered"
        );
    }
    let once = r.redact(s);
    assert_eq!(CHECK.redact(&once), once, "redacting twice changes nothing");
    let line = text::line(s, r);
    assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
    let para = text::paragraph(s, r);
    assert!(
        !para
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    );
    let _ = text::code(s, r);
});
