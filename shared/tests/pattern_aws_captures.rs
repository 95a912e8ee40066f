//! Every case AWS answered in `fixtures/aws/filter-pattern-aws.json` (real `TestMetricFilter`
//! answers, see `fixtures/aws/README.md`), one test per case id: the pattern is accepted or
//! rejected as AWS does (rejections carry AWS's message first), the set of matching messages is
//! exactly AWS's, and so are the `extractedValues`.
//!
//! These cases are a sample: the rules they reveal are documented in `logalert::pattern` and
//! tested with cases of our own in `pattern_decisions.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use logalert::pattern::FilterPattern;
use serde_json::Value;

const CAPTURES: &str = include_str!("fixtures/aws/filter-pattern-aws.json");

fn cases() -> &'static BTreeMap<String, Value> {
    static CASES: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
    CASES.get_or_init(|| {
        let file: Value = serde_json::from_str(CAPTURES).expect("the capture file is JSON");
        assert_eq!(
            file["provenance"]["source"], "AWS CloudWatch Logs TestMetricFilter",
            "provenance kept"
        );
        let mut out = BTreeMap::new();
        for case in file["cases"].as_array().expect("cases") {
            let id = case["id"].as_str().expect("id").to_string();
            assert!(
                out.insert(id.clone(), case.clone()).is_none(),
                "duplicate id {id}"
            );
        }
        out
    })
}

/// What AWS answered for one pattern: its message, or event number -> extractedValues.
#[derive(Debug, PartialEq)]
enum Answer {
    Rejected(String),
    Matched(BTreeMap<usize, BTreeMap<String, String>>),
}

fn aws_answer(case: &Value) -> Answer {
    if let Some(error) = case.get("error") {
        assert_eq!(error["code"], "InvalidParameterException");
        return Answer::Rejected(error["message"].as_str().expect("message").to_string());
    }
    let mut out = BTreeMap::new();
    for m in case["response"]["matches"].as_array().expect("matches") {
        let n = m["eventNumber"].as_u64().expect("eventNumber") as usize;
        let values = m["extractedValues"]
            .as_object()
            .expect("extractedValues")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_string()))
            .collect();
        out.insert(n, values);
    }
    Answer::Matched(out)
}

/// Our answer, in AWS's shape. A rejection keeps only the part of our message AWS would say
/// (ours goes on with what to do about it after AWS's text).
fn our_answer(pattern: &str, messages: &[&str], aws: &Answer) -> Answer {
    match FilterPattern::parse(pattern) {
        Err(e) => match aws {
            Answer::Rejected(theirs) if e.message.starts_with(theirs.as_str()) => {
                Answer::Rejected(theirs.clone())
            }
            _ => Answer::Rejected(e.message),
        },
        Ok(p) => {
            let mut out = BTreeMap::new();
            for (i, msg) in messages.iter().enumerate() {
                if let Some(m) = p.matches(msg) {
                    let values: BTreeMap<String, String> = m.extracted.into_iter().collect();
                    out.insert(i + 1, values);
                    assert!(p.is_match(msg), "matches and is_match agree on {msg:?}");
                } else {
                    assert!(!p.is_match(msg), "matches and is_match agree on {msg:?}");
                }
            }
            Answer::Matched(out)
        }
    }
}

fn check(id: &str) {
    let case = cases().get(id).unwrap_or_else(|| panic!("no case {id}"));
    let pattern = case["request"]["filterPattern"].as_str().expect("pattern");
    let messages: Vec<&str> = case["request"]["logEventMessages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m.as_str().expect("message"))
        .collect();
    let aws = aws_answer(case);
    let ours = our_answer(pattern, &messages, &aws);
    if ours != aws {
        let show = |a: &Answer| match a {
            Answer::Rejected(m) => format!("rejected: {m}"),
            Answer::Matched(ms) => ms
                .iter()
                .map(|(n, v)| format!("\n    #{n} {:?} {v:?}", messages[n - 1]))
                .collect::<String>(),
        };
        panic!(
            "case {id}: pattern {pattern:?}\n  AWS:{}\n  ours:{}",
            show(&aws),
            show(&ours)
        );
    }
}

macro_rules! aws_cases {
    ($($name:ident => $id:literal,)*) => {
        $(
            #[test]
            fn $name() {
                check($id);
            }
        )*

        /// Every case in the file has a test above, and every test names a case in the file.
        #[test]
        fn every_captured_case_has_a_test() {
            let tested: BTreeSet<&str> = [$($id),*].into_iter().collect();
            let captured: BTreeSet<&str> = cases().keys().map(String::as_str).collect();
            assert_eq!(tested, captured);
            assert_eq!(captured.len(), 101);
        }
    };
}

aws_cases! {
    terms_substring => "terms-substring",
    terms_case => "terms-case",
    terms_and => "terms-and",
    terms_negative => "terms-negative",
    terms_negative_only => "terms-negative-only",
    terms_optional => "terms-optional",
    terms_optional_ignored => "terms-optional-ignored",
    terms_optional_negative => "terms-optional-negative",
    terms_phrase => "terms-phrase",
    terms_negative_phrase => "terms-negative-phrase",
    terms_optional_phrase => "terms-optional-phrase",
    terms_wildcard => "terms-wildcard",
    terms_quoted_wildcard => "terms-quoted-wildcard",
    terms_bare_symbol => "terms-bare-symbol",
    terms_bare_colon => "terms-bare-colon",
    terms_empty => "terms-empty",
    terms_blank => "terms-blank",
    terms_quoted_empty => "terms-quoted-empty",
    terms_missing_quote => "terms-missing-quote",
    terms_adjacent_quote => "terms-adjacent-quote",
    regex_alternation => "regex-alternation",
    regex_anchors => "regex-anchors",
    regex_quantifier => "regex-quantifier",
    regex_optional => "regex-optional",
    regex_digits => "regex-digits",
    regex_word => "regex-word",
    regex_space => "regex-space",
    regex_hex => "regex-hex",
    regex_dot_newline => "regex-dot-newline",
    regex_escaped_symbol => "regex-escaped-symbol",
    regex_group_rejected => "regex-group-rejected",
    regex_unicode_rejected => "regex-unicode-rejected",
    regex_symbol_rejected => "regex-symbol-rejected",
    regex_escape_rejected => "regex-escape-rejected",
    regex_escaped_group => "regex-escaped-group",
    regex_empty => "regex-empty",
    regex_unclosed => "regex-unclosed",
    regex_bad_range => "regex-bad-range",
    regex_lazy => "regex-lazy",
    regex_possessive => "regex-possessive",
    regex_class_intersection => "regex-class-intersection",
    regex_two => "regex-two",
    regex_three => "regex-three",
    json_numeric => "json-numeric",
    json_quoted_number => "json-quoted-number",
    json_numeric_ne => "json-numeric-ne",
    json_string_ne => "json-string-ne",
    json_ordering => "json-ordering",
    json_quoted_order => "json-quoted-order",
    json_bare_word => "json-bare-word",
    json_bare_boolean => "json-bare-boolean",
    json_quoted_boolean => "json-quoted-boolean",
    json_is_true => "json-is-true",
    json_is_false => "json-is-false",
    json_null => "json-null",
    json_missing => "json-missing",
    json_star => "json-star",
    json_quoted_star => "json-quoted-star",
    json_glob => "json-glob",
    json_exponent => "json-exponent",
    json_plus => "json-plus",
    json_overflow => "json-overflow",
    json_underflow => "json-underflow",
    json_precision => "json-precision",
    json_regex_number => "json-regex-number",
    json_keyword_and => "json-keyword-and",
    json_double_equal => "json-double-equal",
    json_trailing => "json-trailing",
    selector_index => "selector-index",
    selector_wildcard => "selector-wildcard",
    selector_object_wildcard => "selector-object-wildcard",
    selector_wildcard_child => "selector-wildcard-child",
    selector_quoted_property => "selector-quoted-property",
    selector_bracket_property => "selector-bracket-property",
    selector_double_property => "selector-double-property",
    selector_hyphen => "selector-hyphen",
    selector_root_index => "selector-root-index",
    selector_negative_index => "selector-negative-index",
    selector_null_extraction => "selector-null-extraction",
    selector_or_extraction => "selector-or-extraction",
    selector_array_ne => "selector-array-ne",
    selector_nested_wildcard => "selector-nested-wildcard",
    space_fields => "space-fields",
    space_last_rest => "space-last-rest",
    space_single => "space-single",
    space_empty => "space-empty",
    space_leading_ellipsis => "space-leading-ellipsis",
    space_middle_ellipsis => "space-middle-ellipsis",
    space_trailing_ellipsis => "space-trailing-ellipsis",
    space_unnamed => "space-unnamed",
    space_trailing_comma => "space-trailing-comma",
    space_constraint => "space-constraint",
    space_or => "space-or",
    space_numeric => "space-numeric",
    space_quoted_numeric => "space-quoted-numeric",
    space_cross_field => "space-cross-field",
    space_duplicate => "space-duplicate",
    space_invalid_name => "space-invalid-name",
    space_double_ellipsis => "space-double-ellipsis",
    space_bad_operator => "space-bad-operator",
    space_regex => "space-regex",
}
