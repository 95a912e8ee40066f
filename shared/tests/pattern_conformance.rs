//! Conformance: every example in AWS's own documentation and API reference, with the answer
//! AWS gives. Each case names its source (keys as in `reference/filter-patterns.md` §0):
//!
//! * UG24 — *Filter pattern syntax for metric filters, subscription filters, filter log events,
//!   and Live Tail* (2024 single page: regex, unstructured, JSON, space-delimited).
//! * UG20 — *Filter and Pattern Syntax* (archived 2020 user guide).
//! * TMF — API reference *TestMetricFilter*, examples 1–7 (expected responses).
//! * CLI — AWS CLI example `test-metric-filter`.
//! * C404 / C4XX / XB — user-guide examples *Count HTTP 404 codes*, *Count HTTP 4xx codes*,
//!   *Extract fields from an Apache log*.
//!
//! Where a source gives a pattern but no event (UG24 numeric syntax examples), the events are
//! ours and the case says so. Where AWS's text is self-contradictory the case follows the
//! reading settled in the reference (§6) and says which.

use logalert::pattern::{FilterPattern, PatternKind};

struct Case<'a> {
    source: &'a str,
    pattern: &'a str,
    matches: &'a [&'a str],
    misses: &'a [&'a str],
}

fn check(cases: &[Case<'_>]) {
    let mut failures = Vec::new();
    for case in cases {
        let p = match FilterPattern::parse(case.pattern) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!(
                    "[{}] {:?} failed to parse:\n{e}",
                    case.source, case.pattern
                ));
                continue;
            }
        };
        for msg in case.matches {
            if !p.is_match(msg) {
                failures.push(format!(
                    "[{}] {:?} should match {msg:?}",
                    case.source, case.pattern
                ));
            }
        }
        for msg in case.misses {
            if p.is_match(msg) {
                failures.push(format!(
                    "[{}] {:?} should NOT match {msg:?}",
                    case.source, case.pattern
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------- terms

const UG24_TERM_EVENTS: [&str; 4] = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
];

#[test]
fn unstructured_terms() {
    let [e400, e401, e419, e420] = UG24_TERM_EVENTS;
    check(&[
        Case {
            source: "UG24 Match a single term",
            pattern: "ERROR",
            matches: &[e400, e401, e419, e420],
            misses: &["[INFO 200] OK"],
        },
        Case {
            source: "UG24 Match multiple terms",
            pattern: "ERROR ARGUMENTS",
            matches: &[e419, e420],
            misses: &[e400, e401],
        },
        Case {
            source: "UG24 Match optional terms",
            pattern: "?ERROR ?ARGUMENTS",
            matches: &[e400, e401, e419, e420],
            misses: &["[INFO 200] OK"],
        },
        Case {
            source: "UG24 Match optional terms (note: ? terms ignored when combined)",
            pattern: "?ERROR ?ARGUMENTS REQUEST",
            matches: &[
                "[INFO] REQUEST FAILED",
                "[WARN] UNAUTHORIZED REQUEST",
                "[ERROR] 400 BAD REQUEST",
            ],
            misses: &[e419, e420],
        },
        Case {
            source: "UG24 Match exact phrases",
            pattern: "\"INTERNAL SERVER ERROR\"",
            matches: &["[ERROR 500] INTERNAL SERVER ERROR"],
            misses: &[
                "[ERROR 500] INTERNAL ERROR",
                "[ERROR 500] INTERNAL  SERVER ERROR",
            ],
        },
        Case {
            source: "UG24 Include and exclude terms",
            pattern: "ERROR -ARGUMENTS",
            matches: &[e400, e401],
            misses: &[e419, e420],
        },
        Case {
            source: "UG24 Match everything",
            pattern: "\" \"",
            matches: &[e400, "", "anything at all", "{\"json\":true}"],
            misses: &[],
        },
        Case {
            source: "UG20 Example 1: Single term (substring: ERRORCODE)",
            pattern: "ERROR",
            matches: &[
                "[ERROR] A fatal exception has occurred",
                "Exiting with ERRORCODE: -1",
            ],
            misses: &["error in lower case"],
        },
        Case {
            source: "UG20 Example 2: Include a term and exclude a term",
            pattern: "ERROR -Exiting",
            matches: &["[ERROR] A fatal exception has occurred"],
            misses: &["Exiting with ERRORCODE: -1"],
        },
        Case {
            source: "UG20 Example 3: Multiple terms",
            pattern: "ERROR Exception",
            matches: &[
                "[ERROR] Caught IllegalArgumentException",
                "[ERROR] Unhandled Exception",
            ],
            misses: &["[ERROR] Unhandled failure"],
        },
        Case {
            source: "UG20 Example 3: Multiple terms (phrase without quotes)",
            pattern: "Failed to process the request",
            matches: &[
                "[WARN] Failed to process the request",
                "[ERROR] Unable to continue: Failed to process the request",
            ],
            misses: &["[WARN] Failed to process"],
        },
        Case {
            source: "UG20 OR Pattern Matching: ERROR",
            pattern: "ERROR",
            matches: &["ERROR WARN message", "ERROR message"],
            misses: &["WARN message"],
        },
        Case {
            source: "UG20 OR Pattern Matching: ?ERROR ?WARN",
            pattern: "?ERROR ?WARN",
            matches: &["ERROR WARN message", "ERROR message", "WARN message"],
            misses: &["INFO message"],
        },
        Case {
            source: "UG20 OR Pattern Matching: ERROR WARN",
            pattern: "ERROR WARN",
            matches: &["ERROR WARN message"],
            misses: &["ERROR message", "WARN message"],
        },
        Case {
            source: "UG20 OR Pattern Matching: ERROR -WARN",
            pattern: "ERROR -WARN",
            matches: &["ERROR message"],
            misses: &["ERROR WARN message", "WARN message"],
        },
    ]);
}

const TMF_ERROR_EVENTS: [&str; 5] = [
    "02 May 2014 00:34:12,525 [INFO] Starting the application",
    "02 May 2014 00:35:14,245 [DEBUG] Database connection established",
    "02 May 2014 00:34:14,663 [INFO] Executing SQL Query",
    "02 May 2014 00:34:16,142 [ERROR] Unhanded exception: InvalidQueryException",
    "02 May 2014 00:34:16,224 [ERROR] Terminating the application",
];

/// Indices (0-based) of the messages that match.
fn matching(pattern: &str, messages: &[&str]) -> Vec<usize> {
    let p = FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{e}"));
    messages
        .iter()
        .enumerate()
        .filter(|(_, m)| p.is_match(m))
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn tmf_example_6_quoted_error() {
    assert_eq!(matching("\"[ERROR]\"", &TMF_ERROR_EVENTS), [3, 4]);
}

#[test]
fn tmf_example_7_quoted_error_and_exception() {
    assert_eq!(matching("\"[ERROR]\" Exception", &TMF_ERROR_EVENTS), [3]);
}

#[test]
fn cli_example_test_metric_filter() {
    let messages = [
        "[ERROR] 400 BAD REQUEST",
        "[ERROR] 400 BAD REQUEST",
        "[INFO] 200 OK",
    ];
    assert_eq!(matching("ERROR", &messages), [0, 1]);
    let p = FilterPattern::parse("ERROR").unwrap();
    assert!(p.matches(messages[0]).unwrap().extracted.is_empty());
}

// ---------------------------------------------------------------------------------- regex

#[test]
fn regex_patterns() {
    check(&[
        Case {
            source: "UG24 Match terms using regex",
            pattern: "%AUTHORIZED%",
            matches: &[
                "[ERROR 401] UNAUTHORIZED REQUEST",
                "[SUCCESS 200] AUTHORIZED REQUEST",
            ],
            misses: &["[ERROR 403] FORBIDDEN"],
        },
        Case {
            source: "UG24 regex ^",
            pattern: "%^[hc]at%",
            matches: &["hat", "cat", "cat food"],
            misses: &["that", "a cat"],
        },
        Case {
            source: "UG24 regex $",
            pattern: "%[hc]at$%",
            matches: &["hat", "cat", "the cat"],
            misses: &["cats", "hate"],
        },
        Case {
            source: "UG24 regex ?",
            pattern: "%colou?r%",
            matches: &["color", "colour"],
            misses: &["colr"],
        },
        Case {
            source: "UG24 regex []",
            pattern: "%[abc]%",
            matches: &["a", "b", "c"],
            misses: &["d"],
        },
        Case {
            source: "UG24 regex [a-z]",
            pattern: "%[a-z]%",
            matches: &["q"],
            misses: &["Q1"],
        },
        Case {
            source: "UG24 regex [abcx-z]",
            pattern: "%[abcx-z]%",
            matches: &["a", "b", "c", "x", "y", "z"],
            misses: &["d", "w"],
        },
        Case {
            source: "UG24 regex {m, n}",
            pattern: "%a{3,5}%",
            matches: &["aaa", "aaaa", "aaaaa"],
            misses: &["aa", "a a a"],
        },
        Case {
            source: "UG24 regex | (gray|grey; 2023/2025 text: gra|ey)",
            pattern: "%gray|grey%",
            matches: &["gray", "grey"],
            misses: &["griy"],
        },
        Case {
            source: "UG24 regex | anchored alternatives",
            pattern: "%^starting|^initializing|^shutting down%",
            matches: &["starting ...", "initializing ...", "shutting down"],
            misses: &["skipping initializing ..."],
        },
        Case {
            source: "UG24 regex | with class and $ (2024 text: matches \"aba\")",
            pattern: "%abcc|ab[^c]$%",
            matches: &["abcc ...", "aba"],
            misses: &["aac ..."],
        },
        Case {
            source: "UG24 regex \\ escape",
            pattern: r"%\[.\]%",
            matches: &["[a]", "[b]", "[7]", "[@]", "[]]", "[ ]"],
            misses: &["[ab]", "ab"],
        },
        Case {
            source: "UG24 regex escaped IP",
            pattern: r"%10\.10\.0\.1%",
            matches: &["10.10.0.1"],
            misses: &["10010,051"],
        },
        Case {
            source: "UG24 regex unescaped . in IP",
            pattern: "%10.10.0.1%",
            matches: &["10.10.0.1", "10010,051"],
            misses: &[],
        },
        Case {
            source: "UG24 regex *",
            pattern: "%ab*c%",
            matches: &["ac", "abc", "abbbc"],
            misses: &["ab"],
        },
        Case {
            source: "UG24 regex * with class",
            pattern: "%ab[0-9]*%",
            matches: &["ab", "ab0", "ab129"],
            misses: &["a b"],
        },
        Case {
            source: "UG24 regex +",
            pattern: "%ab+c%",
            matches: &["abc", "abbc", "abbbc"],
            misses: &["ac"],
        },
        Case {
            source: "UG24 regex .",
            pattern: "%.at%",
            matches: &["hat", "cat", "bat", "4at", "#at", " at"],
            misses: &["at"],
        },
        Case {
            source: "UG24 regex \\d \\D",
            pattern: r"%\d%",
            matches: &["a1"],
            misses: &["abc"],
        },
        Case {
            source: "UG24 regex \\D",
            pattern: r"%^\D+$%",
            matches: &["abc"],
            misses: &["a1"],
        },
        Case {
            source: "UG24 regex \\s (tab, space, newline)",
            pattern: r"%a\sb%",
            matches: &["a b", "a\tb", "a\nb"],
            misses: &["ab", "a_b"],
        },
        Case {
            source: "UG24 regex \\S",
            pattern: r"%a\Sb%",
            matches: &["a_b"],
            misses: &["a b"],
        },
        Case {
            source: "UG24 regex \\w = [a-zA-Z_0-9]",
            pattern: r"%^\w+$%",
            matches: &["abc_XYZ_09"],
            misses: &["ab-c", "é"],
        },
        Case {
            source: "UG24 regex \\W",
            pattern: r"%\W%",
            matches: &["a-b"],
            misses: &["ab_9"],
        },
        Case {
            source: "UG24 regex \\xhh (\\x3A matches ':')",
            pattern: r"%\x3A%",
            matches: &["a:b"],
            misses: &["ab"],
        },
        Case {
            source: "UG24 regex \\xhh (\\x28 matches '(')",
            pattern: r"%\x28%",
            matches: &["f(x)"],
            misses: &["fx"],
        },
    ]);
}

// ---------------------------------------------------------------------------------- JSON

const UG24_JSON_EVENT: &str = r#"{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"cluster.name":"c"}"#;

const UG20_JSON_EVENT: &str = r#"{
  "eventType": "UpdateTrail",
  "sourceIPAddress": "111.111.111.111",
  "arrayKey": ["value", "another value"],
  "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
  "SomeObject": null,
  "ThisFlag": true
}"#;

const COMPOUND_EVENT: &str = r#"{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}"#;

#[test]
fn json_simple_expressions() {
    check(&[
        Case {
            source: "UG24 JSON string value",
            pattern: r#"{ $.eventType = "UpdateTrail" }"#,
            matches: &[UG24_JSON_EVENT, UG20_JSON_EVENT],
            misses: &[r#"{"eventType":"CreateTrail"}"#],
        },
        Case {
            source: "UG24 JSON string value (IP address) with != and wildcard",
            pattern: "{ $.sourceIPAddress != 123.123.* }",
            matches: &[UG24_JSON_EVENT, UG20_JSON_EVENT],
            misses: &[r#"{"sourceIPAddress":"123.123.0.1"}"#],
        },
        Case {
            source: "UG24 JSON array element",
            pattern: r#"{ $.arrayKey[0] = "value" }"#,
            matches: &[UG24_JSON_EVENT],
            misses: &[
                r#"{"arrayKey":["another value","value"]}"#,
                r#"{"arrayKey":"value"}"#,
            ],
        },
        Case {
            source: "UG24 JSON regex value",
            pattern: "{ $.eventType = %Trail% }",
            matches: &[UG24_JSON_EVENT],
            misses: &[r#"{"eventType":"Trial"}"#],
        },
        Case {
            source: "UG24 JSON wildcard array element with regex",
            pattern: "{ $.arrayKey[*] = %val.{2}% }",
            matches: &[UG24_JSON_EVENT],
            misses: &[r#"{"arrayKey":["va","other"]}"#],
        },
        Case {
            source: "UG24 JSON wildcard property with regex (IP address)",
            pattern: r"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }",
            matches: &[UG24_JSON_EVENT],
            misses: &[r#"{"ip":"111.111.111.2"}"#],
        },
        Case {
            source: "UG24 JSON bracket notation for a key with a period",
            pattern: r#"{ $.['cluster.name'] = "c" }"#,
            matches: &[UG24_JSON_EVENT],
            misses: &[r#"{"cluster":{"name":"c"}}"#],
        },
        Case {
            source: "UG24 JSON IS NULL",
            pattern: "{ $.SomeObject IS NULL }",
            matches: &[UG24_JSON_EVENT, UG20_JSON_EVENT],
            misses: &[r#"{"SomeObject":"null"}"#, r#"{"other":1}"#],
        },
        Case {
            source: "UG24 JSON NOT EXISTS",
            pattern: "{ $.SomeOtherObject NOT EXISTS }",
            matches: &[UG24_JSON_EVENT, UG20_JSON_EVENT],
            misses: &[r#"{"SomeOtherObject":null}"#],
        },
        Case {
            source: "UG20 JSON objectList[1].id = 2",
            pattern: "{ $.objectList[1].id = 2 }",
            matches: &[UG20_JSON_EVENT],
            misses: &[r#"{"objectList":{"id":2}}"#, r#"{"objectList":[1,2]}"#],
        },
        Case {
            source: "UG20 JSON IS TRUE",
            pattern: "{ $.ThisFlag IS TRUE }",
            matches: &[UG20_JSON_EVENT],
            misses: &[r#"{"ThisFlag":false}"#, r#"{"ThisFlag":"true"}"#],
        },
        Case {
            source: "UG20 JSON IS FALSE (\"also works for … FALSE\")",
            pattern: "{ $.ThisFlag IS FALSE }",
            matches: &[r#"{"ThisFlag":false}"#],
            misses: &[UG20_JSON_EVENT],
        },
        Case {
            source: "UG20 OR Pattern Matching in JSON: {$.foo = bar}",
            pattern: "{$.foo = bar}",
            matches: &[r#"{"foo": "bar"}"#],
            misses: &[r#"{"foo": "baz"}"#],
        },
        Case {
            source: "UG20 OR Pattern Matching in JSON: {$.foo = baz }",
            pattern: "{$.foo = baz }",
            matches: &[r#"{"foo": "baz"}"#],
            misses: &[r#"{"foo": "bar"}"#],
        },
        Case {
            source: "UG20 OR Pattern Matching in JSON: bar || baz",
            pattern: "{$.foo = bar || $.foo = baz }",
            matches: &[r#"{"foo": "bar"}"#, r#"{"foo": "baz"}"#],
            misses: &[r#"{"foo": "qux"}"#],
        },
        Case {
            source: "UG20 wildcard *Event",
            pattern: "{ $.name = *Event }",
            matches: &[r#"{"name":"PutEvent"}"#, r#"{"name":"GetEvent"}"#],
            misses: &[r#"{"name":"EventId"}"#],
        },
        Case {
            source: "UG20 wildcard Event*",
            pattern: "{ $.name = Event* }",
            matches: &[r#"{"name":"EventId"}"#, r#"{"name":"EventName"}"#],
            misses: &[r#"{"name":"PutEvent"}"#],
        },
        Case {
            source: "UG20 Ev*ent matches only the actual string Ev*ent",
            pattern: "{ $.name = Ev*ent }",
            matches: &[r#"{"name":"Ev*ent"}"#],
            misses: &[r#"{"name":"Event"}"#, r#"{"name":"EvXent"}"#],
        },
        Case {
            source: "UG20 JSON Special Considerations: selector at an array, =",
            pattern: "{$.users = 1}",
            matches: &[],
            misses: &[r#"{"users": [1, 2, 3]}"#],
        },
        Case {
            source: "UG20 JSON Special Considerations: selector at an array, !=",
            pattern: "{$.users != 1}",
            matches: &[],
            misses: &[r#"{"users": [1, 2, 3]}"#],
        },
        Case {
            source: "UG22 / UG25M { $.latency = * } (publish $.latency)",
            pattern: "{ $.latency = * }",
            matches: &[r#"{"latency": 50, "requestType": "GET"}"#],
            misses: &[r#"{"requestType": "GET"}"#],
        },
        Case {
            source: "UG25M { $.eventType = \"*\" && … } (property present)",
            pattern: r#"{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }"#,
            matches: &[UG24_JSON_EVENT],
            misses: &[r#"{"sourceIPAddress":"1.2.3.4"}"#],
        },
        Case {
            source: "LS (AWS-validated): JSON pattern only matches the JSON event",
            pattern: r#"{ $.somekey = "value1" }"#,
            matches: &[r#"{"somekey":"value1","foo":"bar"}"#],
            misses: &["mymessage"],
        },
    ]);
}

#[test]
fn json_numeric_comparisons() {
    check(&[
        Case {
            source: "UG24 numeric > (event ours)",
            pattern: "{ $.bandwidth > 75 }",
            matches: &[r#"{"bandwidth":76}"#, r#"{"bandwidth":75.5}"#],
            misses: &[r#"{"bandwidth":75}"#, r#"{"bandwidth":-100}"#],
        },
        Case {
            source: "UG24 numeric < (event ours)",
            pattern: "{ $.latency < 50 }",
            matches: &[r#"{"latency":49}"#],
            misses: &[r#"{"latency":50}"#],
        },
        Case {
            source: "UG24 numeric >= (event ours)",
            pattern: "{ $.refreshRate >= 60 }",
            matches: &[r#"{"refreshRate":60}"#, r#"{"refreshRate":6e1}"#],
            misses: &[r#"{"refreshRate":59.99}"#],
        },
        Case {
            source: "UG24 numeric <= (event ours)",
            pattern: "{ $.responseTime <= 5 }",
            matches: &[r#"{"responseTime":5}"#, r#"{"responseTime":0}"#],
            misses: &[r#"{"responseTime":5.01}"#],
        },
        Case {
            source: "UG24 numeric = (event ours)",
            pattern: "{ $.errorCode = 400}",
            matches: &[r#"{"errorCode":400}"#, r#"{"errorCode":400.0}"#],
            misses: &[r#"{"errorCode":401}"#],
        },
        Case {
            source: "UG24 numeric != (event ours)",
            pattern: "{ $.errorCode != 500 }",
            matches: &[r#"{"errorCode":400}"#],
            misses: &[r#"{"errorCode":500}"#, r#"{"errorCode":5e2}"#],
        },
        Case {
            source: "UG24 scientific notation with + (event ours)",
            pattern: "{ $.number[0] = 1e+3 }",
            matches: &[r#"{"number":[1000]}"#],
            misses: &[r#"{"number":[100]}"#],
        },
        Case {
            source: "UG24 scientific notation with - (event ours)",
            pattern: "{ $.number[0] != 1e-3 }",
            matches: &[r#"{"number":[1]}"#],
            misses: &[r#"{"number":[0.001]}"#],
        },
        Case {
            source: "UG20 { $.latency >= 500 } (event ours)",
            pattern: "{ $.latency >= 500 }",
            matches: &[r#"{"latency":500}"#],
            misses: &[r#"{"latency":499}"#],
        },
        Case {
            source: "UG20 { $.numbers[0] < 10e3 } (event ours)",
            pattern: "{ $.numbers[0] < 10e3 }",
            matches: &[r#"{"numbers":[9999]}"#],
            misses: &[r#"{"numbers":[10000]}"#],
        },
        Case {
            source: "UG20 { $.numbers[0] < 10e-3 } (event ours)",
            pattern: "{ $.numbers[0] < 10e-3 }",
            matches: &[r#"{"numbers":[0.009]}"#],
            misses: &[r#"{"numbers":[0.01]}"#],
        },
        Case {
            source: "UG20 { $.processes[4].averageRuntime <= 55.5 } (event ours)",
            pattern: "{ $.processes[4].averageRuntime <= 55.5 }",
            matches: &[r#"{"processes":[{},{},{},{},{"averageRuntime":55.5}]}"#],
            misses: &[r#"{"processes":[{"averageRuntime":1}]}"#],
        },
        Case {
            source: "UG20 { $.latency > +1000 } (event ours)",
            pattern: "{ $.latency > +1000 }",
            matches: &[r#"{"latency":1001}"#],
            misses: &[r#"{"latency":1000}"#],
        },
    ]);
}

#[test]
fn json_compound_expressions() {
    check(&[
        Case {
            source: "UG24/UG20 Expression that matches using AND (&&)",
            pattern: r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            matches: &[COMPOUND_EVENT],
            misses: &[],
        },
        Case {
            source: "UG24 Expression that matches using OR (||)",
            pattern: r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
            matches: &[COMPOUND_EVENT],
            misses: &[],
        },
        Case {
            source: "UG24 Expression that doesn't match using AND (&&)",
            pattern: r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
            matches: &[],
            misses: &[COMPOUND_EVENT],
        },
        Case {
            source: "UG24/UG20 Expression that doesn't match using OR (||)",
            pattern: r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
            matches: &[],
            misses: &[COMPOUND_EVENT],
        },
        Case {
            source: "UG20 compound OR (unquoted nonmatch)",
            pattern: r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }"#,
            matches: &[COMPOUND_EVENT],
            misses: &[],
        },
        Case {
            source: "UG20 compound AND with parentheses (unquoted nonmatch)",
            pattern: r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }"#,
            matches: &[],
            misses: &[COMPOUND_EVENT],
        },
        Case {
            source: "UG24 coordinates[0][1] (nested array index; event from UG24)",
            pattern: "{ $.coordinates[0][1] = 1 && $.coordinates[2][2] = 9 }",
            matches: &[COMPOUND_EVENT],
            misses: &[],
        },
    ]);
}

// ---------------------------------------------------------------------------------- space-delimited

const UG24_SPACE_EVENT: &str =
    r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;

const UG24_W_EVENTS: [&str; 4] = [
    "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200",
    "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310",
    "WARNING 09/25/2014 12:00:02 Invalid user request",
    "ERROR 09/25/2014 12:00:02 Failed to process request",
];

#[test]
fn space_delimited_ug24() {
    check(&[
        Case {
            source: "UG24 seven fields with regex, wildcards",
            pattern: r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
            matches: &[UG24_SPACE_EVENT],
            misses: &[
                // (The page says "range 127.0.0.1 - 127.0.0.9", but regexes are unanchored
                // searches, so 127.0.0.10 matches too; 127.0.0.0 does not.)
                r#"127.0.0.0 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#,
                r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.gif HTTP/1.0" 404 1534"#,
                r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 200 1534"#,
            ],
        },
        Case {
            source: "UG24 ellipsis for the first four fields",
            pattern: "[..., request =*.html*, status_code = 4*, bytes]",
            matches: &[UG24_SPACE_EVENT],
            misses: &[
                r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 500 1534"#,
            ],
        },
        Case {
            source: "UG24 || within a field",
            pattern: "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
            matches: &[
                UG24_SPACE_EVENT,
                r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 410 1534"#,
            ],
            misses: &[
                r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 403 1534"#,
            ],
        },
    ]);
}

#[test]
fn space_delimited_term_order_ug24() {
    assert_eq!(
        matching("[w1=ERROR, w2]", &UG24_W_EVENTS),
        [3],
        "UG24 Match terms in order"
    );
    assert_eq!(
        matching("[w1=ERROR || w1=WARNING, w2]", &UG24_W_EVENTS),
        [2, 3],
        "UG24 Match terms with AND (&&) and OR (||)"
    );
    assert_eq!(
        matching("[w1!=ERROR && w1!=WARNING, w2]", &UG24_W_EVENTS),
        [0, 1],
        "UG24 Exclude terms from matches"
    );
    assert_eq!(
        matching(
            "[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]",
            &UG24_W_EVENTS
        ),
        [0],
        "UG24 Match the top level item in a resource URI"
    );
    assert_eq!(
        matching(
            "[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]",
            &UG24_W_EVENTS
        ),
        [1],
        "UG24 Match the child level item in a resource URI"
    );
}

#[test]
fn space_delimited_ug20_or_matching() {
    let events = ["ERROR WARN message", "ERROR message", "WARN message"];
    assert_eq!(
        matching("[w1=ERROR, w2]", &events),
        [0, 1],
        "UG20 [w1=ERROR, w2] (§6.6: the 2020 text's 'pattern 2 only' contradicts current docs)"
    );
    assert_eq!(
        matching("[w1=ERROR || w1=WARN, w2]", &events),
        [0, 1, 2],
        "UG20 [w1=ERROR || w1=WARN, w2]"
    );
}

const APACHE: [&str; 3] = [
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355"#,
];

fn extracted(pattern: &str, msg: &str) -> Vec<(String, String)> {
    FilterPattern::parse(pattern)
        .unwrap()
        .matches(msg)
        .unwrap_or_else(|| panic!("{pattern} should match {msg}"))
        .extracted
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn tmf_example_1_all_fields_named() {
    // TMF shows "$size": "1534," for two events: a typo (reference §6.3).
    let p = "[ip, identity, user_id, timestamp, request, status_code, size]";
    assert_eq!(matching(p, &APACHE), [0, 1, 2]);
    assert_eq!(
        extracted(p, APACHE[1]),
        pairs(&[
            ("$ip", "127.0.0.1"),
            ("$identity", "-"),
            ("$user_id", "frank"),
            ("$timestamp", "10/Oct/2000:13:35:22 -0700"),
            ("$request", "GET /apache_pb.gif HTTP/1.0"),
            ("$status_code", "500"),
            ("$size", "5324"),
        ])
    );
}

#[test]
fn tmf_example_2_ellipsis_then_size() {
    assert_eq!(matching("[..., size]", &APACHE), [0, 1, 2]);
    assert_eq!(
        extracted("[..., size]", APACHE[2]),
        pairs(&[
            ("$1", "127.0.0.1"),
            ("$2", "-"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:50:35 -0700"),
            ("$5", "GET /apache_pb.gif HTTP/1.0"),
            ("$6", "200"),
            ("$size", "4355"),
        ])
    );
}

#[test]
fn tmf_example_3_no_fields() {
    assert_eq!(matching("[]", &APACHE), [0, 1, 2]);
    assert_eq!(
        extracted("[]", APACHE[0]),
        pairs(&[
            ("$1", "127.0.0.1"),
            ("$2", "-"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:25:15 -0700"),
            ("$5", "GET /apache_pb.gif HTTP/1.0"),
            ("$6", "200"),
            ("$7", "1534"),
        ])
    );
}

#[test]
fn tmf_example_4_successful_requests() {
    let p = "[..., status_code=200, size]";
    assert_eq!(matching(p, &APACHE), [0, 2]);
    assert_eq!(
        extracted(p, APACHE[0]),
        pairs(&[
            ("$1", "127.0.0.1"),
            ("$2", "-"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:25:15 -0700"),
            ("$5", "GET /apache_pb.gif HTTP/1.0"),
            ("$status_code", "200"),
            ("$size", "1534"),
        ])
    );
}

#[test]
fn tmf_example_5_4xx_for_html_pages_with_trailing_empty_field() {
    let events = [
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /about-us/index.html HTTP/1.0" 200 5324"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 404 4355"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /products/index.html HTTP/1.0" 400 1534"#,
    ];
    let p = "[..., request=*.html*, status_code=4*,]";
    assert_eq!(matching(p, &events), [0, 3]);
    assert_eq!(
        extracted(p, events[3]),
        pairs(&[
            ("$1", "127.0.0.1"),
            ("$2", "-"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:25:15 -0700"),
            ("$request", "GET /products/index.html HTTP/1.0"),
            ("$status_code", "400"),
            ("$7", "1534"),
        ])
    );
}

const APACHE_2013: [&str; 6] = [
    r#"127.0.0.1 - - [24/Sep/2013:11:49:52 -0700] "GET /index.html HTTP/1.1" 404 287"#,
    r#"127.0.0.1 - - [24/Sep/2013:11:49:52 -0700] "GET /index.html HTTP/1.1" 404 287"#,
    r#"127.0.0.1 - - [24/Sep/2013:11:50:51 -0700] "GET /~test/ HTTP/1.1" 200 3"#,
    r#"127.0.0.1 - - [24/Sep/2013:11:50:51 -0700] "GET /favicon.ico HTTP/1.1" 404 308"#,
    r#"127.0.0.1 - - [24/Sep/2013:11:50:51 -0700] "GET /favicon.ico HTTP/1.1" 404 308"#,
    r#"127.0.0.1 - - [24/Sep/2013:11:51:34 -0700] "GET /~test/index.html HTTP/1.1" 200 3"#,
];

#[test]
fn user_guide_apache_examples() {
    // C404: console and CLI patterns, events from the page.
    let c404 = [
        r#"127.0.0.1 - bob [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326"#,
        r#"127.0.0.1 - bob [10/Oct/2000:13:55:36 -0700] "GET /apache_pb2.gif HTTP/1.0" 200 2326"#,
    ];
    assert_eq!(
        matching(
            "[IP, UserInfo, User, Timestamp, RequestInfo, StatusCode=404, Bytes]",
            &c404
        ),
        [0]
    );
    assert_eq!(
        matching(
            "[ip, id, user, timestamp, request, status_code=404, size]",
            &c404
        ),
        [0]
    );
    // C4XX
    assert_eq!(
        matching(
            "[ip, id, user, timestamp, request, status_code=4*, size]",
            &APACHE_2013
        ),
        [0, 1, 3, 4]
    );
    // XB: metric value $size (the seventh token)
    let p = FilterPattern::parse("[ip, id, user, timestamp, request, status_code, size]").unwrap();
    let m = p.matches(APACHE_2013[3]).unwrap();
    let size = logalert::pattern::ValueRef::parse("$size").unwrap();
    assert_eq!(size.resolve(APACHE_2013[3], &m).as_deref(), Some("308"));
    let seventh = logalert::pattern::ValueRef::parse("$7").unwrap();
    let p = FilterPattern::parse("[]").unwrap();
    let m = p.matches(APACHE_2013[3]).unwrap();
    assert_eq!(seventh.resolve(APACHE_2013[3], &m).as_deref(), Some("308"));
}

#[test]
fn ug20_space_delimited_examples() {
    let e = APACHE[0];
    for p in [
        "[ip, user, username, timestamp, request, status_code, bytes]",
        "[..., status_code, bytes]",
        "[ip, user, ..., status_code, bytes]",
        "[ip, user, ...]",
        "[ip, user, username, timestamp, request, status_code, bytes > 1000]",
        "[ip, user, username, timestamp, request, status_code = 200, bytes]",
        "[ip, user, username, timestamp, request, status_code = 2*, bytes]",
        "[ip, user, username, timestamp, request = *gif*, status_code = 2*, bytes]",
        "[ip, user, username, timestamp, request, status_code = 2* && status_code != 403, bytes]",
    ] {
        assert!(FilterPattern::parse(p).unwrap().is_match(e), "UG20 {p}");
    }
    for p in [
        "[ip, user, username, timestamp, request, status_code, bytes > 2000]",
        "[ip, user, username, timestamp, request, status_code = 4*, bytes]",
        "[ip, user, username, timestamp, request = *html*, status_code = 2*, bytes]",
        "[ip, user, username, timestamp, request, status_code = 2* && status_code != 200, bytes]",
    ] {
        assert!(!FilterPattern::parse(p).unwrap().is_match(e), "UG20 {p}");
    }
    // UG20's cross-field `status_code = 4* && bytes > 1000` is rejected by AWS
    // (awsdocs/amazon-cloudwatch-logs-user-guide#21, reference §6.9).
    let err = FilterPattern::parse(
        "[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]",
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        "Multiple variables used in a single filter. Var1 : status_code, Var2 : bytes"
    );
}

#[test]
fn kinds() {
    for (p, kind) in [
        ("", PatternKind::MatchAll),
        ("   ", PatternKind::MatchAll),
        ("\" \"", PatternKind::MatchAll),
        ("ERROR", PatternKind::Terms),
        ("{ $.a = 1 }", PatternKind::Json),
        ("[a, b]", PatternKind::Delimited),
        ("%a%", PatternKind::Regex),
    ] {
        assert_eq!(FilterPattern::parse(p).unwrap().kind(), kind, "{p:?}");
    }
}

#[test]
fn non_space_delimited_patterns_extract_nothing() {
    // Reference §8 (real AWS): extractedValues is {} for terms, phrases, regex and JSON.
    for (p, m) in [
        ("ERROR", "ERROR x"),
        ("\"ERROR x\"", "ERROR x"),
        ("%ERR%", "ERROR x"),
        ("{ $.a = 1 }", r#"{"a":1}"#),
    ] {
        assert_eq!(
            FilterPattern::parse(p)
                .unwrap()
                .matches(m)
                .unwrap()
                .extracted,
            vec![]
        );
    }
}
