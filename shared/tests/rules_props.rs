//! Property tests of the rules loader: whatever a rules file is mutated into, loading never panics,
//! every error points inside the file, and a file that loads still holds what a rules file must.

use logalert::rules::{self, source_line};
use proptest::prelude::*;

/// Valid rules files to mutate: every key and form the loader knows appears in at least one.
const SEEDS: &[&str] = &[
    include_str!("../../rules.yaml"),
    include_str!("../../examples/rules.yaml"),
    include_str!("../../tests/fixtures/rules.yaml"),
    r#"version: 1
defaults:
  realert: {minutes: 10}
  channel: ops
  resolve_after: 1h30m
rules:
  - name: auth-failures
    description: "Repeated login failures"
    log_groups: ["/aws/lambda/auth-*", /ecs/auth]
    filter_pattern: '{ $.event = "login_failed" && $.user != "svc-*" }'
    type: frequency
    num_events: 5
    timeframe: 1.5h
    query_key: [$.user, "@logGroup"]
    severity: warning
    mention: [here, U024BE7LH]
    max_samples: 2
    alert_subject: "{{ count }} failures for {{ user | default('?') }} ({{ rule.name }})"
    alert_text: "{% if suppressed %}{{ suppressed }} suppressed{% endif %} {{ links.console }}"
    metric: {name: LoginFailures, value: "1", unit: Count, dimensions: {User: $.user}}
  - name: second
    filter_pattern: "[ip, user, status = 5*]"
    realert: 0
    enabled: false
"#,
];

/// Text a mutation inserts: YAML's indicators, pattern and template syntax, line breaks, tabs,
/// numbers, keys, and non-ASCII.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ":",
            ": ",
            ",",
            "- ",
            "'",
            "\"",
            "#",
            "&a",
            "*a",
            "!",
            "|",
            ">",
            "%",
            "@",
            "`",
            "?",
            "\n",
            "\r",
            "\r\n",
            "\t",
            "  ",
            "---\n",
            "...",
            "\\",
            "{{",
            "}}",
            "{%",
            "%}",
            "$.",
            "0",
            "-1",
            "1e999",
            "99999999999999d",
            "1h30m",
            "[]",
            "{}",
            "~",
            "null",
            "yes",
            "type: frequency",
            "num_events: 3",
            "timeframe: 1m",
            "name: dup",
            "é",
            "日本",
            "\u{feff}",
            "\u{0}",
            "\u{2028}",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,12}",
        any::<char>().prop_map(|c| c.to_string()),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, String),
    Delete(usize, usize),
    DuplicateLine(usize),
    DeleteLine(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), fragment()).prop_map(|(at, s)| Mutation::Insert(at, s)),
        (any::<usize>(), 1usize..20).prop_map(|(at, n)| Mutation::Delete(at, n)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        any::<usize>().prop_map(Mutation::DeleteLine),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let chars: Vec<char> = text.chars().collect();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    match m {
        Mutation::Insert(at, s) => {
            let at = at % (chars.len() + 1);
            let mut out: String = chars[..at].iter().collect();
            out.push_str(s);
            out.extend(&chars[at..]);
            out
        }
        Mutation::Delete(at, n) => {
            let at = at % (chars.len() + 1);
            let end = (at + n).min(chars.len());
            chars[..at].iter().chain(&chars[end..]).collect()
        }
        Mutation::DuplicateLine(i) if !lines.is_empty() => {
            let i = i % lines.len();
            let mut out = lines.clone();
            out.insert(i, lines[i]);
            out.concat()
        }
        Mutation::DeleteLine(i) if !lines.is_empty() => {
            let mut out = lines.clone();
            out.remove(i % lines.len());
            out.concat()
        }
        _ => text.to_string(),
    }
}

/// Line breaks as YAML counts them.
fn line_count(text: &str) -> usize {
    text.matches('\n').count() + text.replace("\r\n", "\n").matches('\r').count() + 1
}

fn check(text: &str) {
    match rules::load(text, "m.yaml") {
        Ok(set) => {
            assert!(!set.rules.is_empty(), "a file that loads has a rule");
            let mut names: Vec<&str> = set.rules.iter().map(|r| r.name.as_str()).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), set.rules.len(), "rule names are unique");
            for r in &set.rules {
                assert!(r.realert <= rules::MAX_DURATION);
            }
        }
        Err(errors) => {
            assert!(!errors.0.is_empty());
            let lines = line_count(text);
            for e in &errors.0 {
                assert!(e.line >= 1 && e.line <= lines + 1, "{e} ({lines} lines)");
                assert!(e.column >= 1, "{e}");
                assert!(!e.message.is_empty(), "{e}");
                // The line an error names exists, so `validate` can show it.
                if e.line <= lines {
                    assert!(source_line(text, e.line).is_some(), "{e}");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_rules_files_never_panic(
        seed in prop::sample::select(SEEDS.to_vec()),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let text = mutations.iter().fold(seed.to_string(), |t, m| apply(&t, m));
        check(&text);
        // The same text as one of several files.
        let _ = rules::load_files(&[("a.yaml", SEEDS[0]), ("m.yaml", &text)]);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        check(&text);
    }
}
