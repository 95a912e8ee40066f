//! The project's decisions where AWS's documentation is silent or contradicts itself
//! (reference/filter-patterns.md §6, §7). Each test names the decision number in the module
//! docs of `logalert::pattern`.

use logalert::pattern::{FilterPattern, Match, ValueRef};

fn is_match(pattern: &str, msg: &str) -> bool {
    FilterPattern::parse(pattern)
        .unwrap_or_else(|e| panic!("{e}"))
        .is_match(msg)
}

fn extracted(pattern: &str, msg: &str) -> Option<Vec<(String, String)>> {
    FilterPattern::parse(pattern)
        .unwrap_or_else(|e| panic!("{e}"))
        .matches(msg)
        .map(|m| m.extracted)
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn d1_missing_property_fails_every_comparison_except_not_exists() {
    let msg = r#"{"b":1}"#;
    for p in [
        r#"{ $.a = "x" }"#,
        r#"{ $.a != "x" }"#,
        "{ $.a = * }",
        "{ $.a != 5 }",
        "{ $.a < 5 }",
        "{ $.a >= 5 }",
        "{ $.a = %x% }",
        "{ $.a != %x% }",
        "{ $.a IS NULL }",
        "{ $.a IS TRUE }",
        "{ $.a IS FALSE }",
        "{ $.b.c = 1 }",
        "{ $.b[0] = 1 }",
    ] {
        assert!(!is_match(p, msg), "{p}");
    }
    assert!(is_match("{ $.a NOT EXISTS }", msg));
    assert!(!is_match("{ $.b NOT EXISTS }", msg));
    // A property that is an array or object exists, but matches nothing.
    assert!(!is_match("{ $.o NOT EXISTS }", r#"{"o":{}}"#));
    assert!(!is_match("{ $.o IS NULL }", r#"{"o":{}}"#));
    assert!(!is_match("{ $.o = * }", r#"{"o":[1]}"#));
}

#[test]
fn d2_how_each_json_value_compares_with_each_pattern_value() {
    // (AWS: captures json-numeric, json-quoted-number, json-numeric-ne, json-string-ne,
    // json-ordering, json-bare-boolean, json-star; these are our own cases of the same rules.)
    // A number in the pattern against a JSON number: by exact value.
    assert!(is_match("{ $.a = 400 }", r#"{"a":400}"#));
    assert!(is_match("{ $.a = 400 }", r#"{"a":4e2}"#));
    assert!(is_match("{ $.a = 1.50 }", r#"{"a":1.5}"#));
    assert!(is_match("{ $.a < -1 }", r#"{"a":-1.5}"#));
    // Against a JSON string: as text, with the pattern's own spelling; never ordered.
    assert!(is_match("{ $.a = 400 }", r#"{"a":"400"}"#));
    assert!(!is_match("{ $.a = 400 }", r#"{"a":"0400"}"#));
    assert!(!is_match("{ $.a = 400 }", r#"{"a":"4e2"}"#));
    assert!(!is_match("{ $.a = 4e2 }", r#"{"a":"400"}"#));
    assert!(!is_match("{ $.a > 100 }", r#"{"a":"250.5"}"#));
    assert!(!is_match("{ $.a <= 100 }", r#"{"a":"50"}"#));
    assert!(!is_match("{ $.a = 100 }", r#"{"a":"abc"}"#));
    assert!(is_match("{ $.a != 100 }", r#"{"a":"abc"}"#));
    assert!(is_match("{ $.a != 100 }", r#"{"a":"100.0"}"#));
    // Booleans and null take part in no comparison, `!=` included.
    assert!(!is_match("{ $.a = 1 }", r#"{"a":true}"#));
    assert!(!is_match("{ $.a != 1 }", r#"{"a":null}"#));
    assert!(!is_match("{ $.a != 1 }", r#"{"a":false}"#));
    assert!(!is_match(r#"{ $.flag != "x" }"#, r#"{"flag":true}"#));
    assert!(!is_match("{ $.flag = true }", r#"{"flag":true}"#));
    assert!(is_match("{ $.flag = true }", r#"{"flag":"true"}"#));
    assert!(!is_match("{ $.flag = %true% }", r#"{"flag":true}"#));
    assert!(is_match("{ $.flag IS TRUE }", r#"{"flag":true}"#));
    // A string in the pattern against a number: the number as AWS prints it (integers as
    // written, other numbers as a Java double prints).
    assert!(is_match(r#"{ $.a = "400" }"#, r#"{"a":400}"#));
    assert!(is_match("{ $.a = 4* }", r#"{"a":404}"#));
    assert!(is_match(r#"{ $.a = "1.5" }"#, r#"{"a":1.50}"#));
    assert!(!is_match(r#"{ $.a = "1.50" }"#, r#"{"a":1.50}"#));
    assert!(is_match(r#"{ $.a = "1000.0" }"#, r#"{"a":1e3}"#));
    assert!(is_match("{ $.a = %^4% }", r#"{"a":404}"#));
    assert!(is_match("{ $.a = %E-4$% }", r#"{"a":0.0001}"#));
    // null: only IS NULL.
    assert!(!is_match("{ $.a = * }", r#"{"a":null}"#));
    assert!(!is_match("{ $.a = null }", r#"{"a":null}"#));
    assert!(!is_match(r#"{ $.a != "x" }"#, r#"{"a":null}"#));
    assert!(!is_match("{ $.a = %.% }", r#"{"a":null}"#));
    assert!(is_match("{ $.a IS NULL }", r#"{"a":null}"#));
    // Space-delimited fields are text; numbers compare numerically when the field is one.
    assert!(is_match("[a = 404, b]", "404.0 x"));
    assert!(is_match("[a = 404, b]", "404 x"));
    assert!(!is_match("[a > 10, b]", "abc x"));
    assert!(is_match("[a != 10, b]", "abc x"));
    assert!(is_match(r#"[a = "404", b]"#, "404 x"));
    assert!(!is_match(r#"[a = "404", b]"#, "404.0 x"));
}

#[test]
fn d3_star_in_the_middle_is_literal() {
    assert!(!is_match("{ $.a = Ev*ent }", r#"{"a":"Event"}"#));
    assert!(is_match("{ $.a = Ev*ent }", r#"{"a":"Ev*ent"}"#));
    assert!(
        is_match(r#"{ $.a = "*-*" }"#, r#"{"a":"a-b"}"#),
        "leading and trailing: contains"
    );
    assert!(is_match(r#"[id = "*-*", rest]"#, "abc-def x"));
    assert!(!is_match("[a = Ev*ent, b]", "Event x"));
    assert!(is_match("[a = Ev*ent, b]", "Ev*ent x"));
    assert!(is_match("[a = *vent, b]", "Event x"));
}

#[test]
fn d4_json_must_be_the_whole_message() {
    let lambda = "2024-01-01T00:00:00.000Z\t6234bffe-149a-b642-81ff-2e8e376d8aff\tINFO\t{\"level\":\"ERROR\"}";
    assert!(!is_match(r#"{ $.level = "ERROR" }"#, lambda));
    assert!(!is_match("{ $.a = 1 }", r#"{"a":1} trailing"#));
    assert!(!is_match("{ $.a = 1 }", r#"{"a":1}{"a":1}"#));
    assert!(!is_match("{ $.a = 1 }", r#"{"a":1"#));
    assert!(!is_match("{ $.a NOT EXISTS }", "[1,2]"));
    assert!(!is_match("{ $.a NOT EXISTS }", "not json"));
    assert!(!is_match("{ $.a NOT EXISTS }", "42"));
    assert!(is_match("{ $.a = 1 }", "  {\"a\":1}\n"));
}

#[test]
fn d5_field_counts() {
    // Fewer words than fields: no match.
    assert!(!is_match("[a, b, c]", "x y"));
    assert!(!is_match("[a]", ""));
    // The last field takes the rest of the line.
    assert!(is_match("[w1=ERROR]", "ERROR"));
    assert!(!is_match("[w1=ERROR]", "ERROR x"));
    assert!(is_match("[log_level = IN*]", "INFO something happened"));
    assert_eq!(
        extracted("[a, b]", "x  y\tz "),
        Some(pairs(&[("$a", "x"), ("$b", "y\tz ")]))
    );
    assert_eq!(
        extracted("[a, ]", "x y z"),
        Some(pairs(&[("$a", "x"), ("$2", "y z")]))
    );
    // A single remaining grouped word loses its quotes; several words are kept as written.
    assert_eq!(
        extracted("[a, b]", r#"x "y z""#),
        Some(pairs(&[("$a", "x"), ("$b", "y z")]))
    );
    assert_eq!(
        extracted("[a, b]", r#"x "y" z"#),
        Some(pairs(&[("$a", "x"), ("$b", r#""y" z"#)]))
    );
    // Runs of whitespace are one separator; tabs separate (Lambda lines).
    assert_eq!(
        extracted(
            "[ts, id, level, msg]",
            "2024-01-01T00:00:00Z\tabc\tERROR\tboom here"
        ),
        Some(pairs(&[
            ("$ts", "2024-01-01T00:00:00Z"),
            ("$id", "abc"),
            ("$level", "ERROR"),
            ("$msg", "boom here")
        ]))
    );
    // `[]` matches even an empty message.
    assert_eq!(extracted("[]", ""), Some(vec![]));
    assert_eq!(
        extracted("[...]", "a b"),
        Some(pairs(&[("$1", "a"), ("$2", "b")]))
    );
    // Names and `...` mixed: `$N` is the position in the message.
    assert_eq!(
        extracted("[a, ..., b]", "1 2 3 4"),
        Some(pairs(&[("$a", "1"), ("$2", "2"), ("$3", "3"), ("$b", "4")]))
    );
    assert_eq!(
        extracted("[a, ..., b]", "1 2"),
        Some(pairs(&[("$a", "1"), ("$b", "2")]))
    );
    assert_eq!(extracted("[a, ..., b]", "1"), None);
    // One `...` at most: AWS counts it as a field name, and a second one is a duplicate
    // (capture space-double-ellipsis).
    assert!(FilterPattern::parse("[..., m = X, ..., last]").is_err());
    assert!(FilterPattern::parse("[..., ...]").is_err());
    // An unterminated quote or bracket is an ordinary character.
    assert_eq!(
        extracted("[a, b, c]", r#""x y [z"#),
        Some(pairs(&[("$a", "\"x"), ("$b", "y"), ("$c", "[z")]))
    );
}

#[test]
fn d5_localstack_validated_shapes_parse_and_behave() {
    // LocalStack lists these as validated against AWS; results are ours (reference §1.5).
    let line = "INFO hello world";
    assert!(is_match("[log_level, rest]", line));
    assert!(!is_match("[log_level = INFO]", line));
    assert!(is_match("[log_level = IN*]", line));
    assert!(is_match("[log_level = %IN*%, w2]", line));
    assert!(is_match("[log_level = %^IN.*%]", line));
    assert!(is_match("[w1 = ERROR||w1 = WARNING, w2]", "WARNING x"));
    assert!(is_match(
        "[w1 = ERROR && w1 != FOO || w1 = WARNING, w2]",
        "ERROR x"
    ));
    assert!(is_match(
        "[w1 = ERROR && (w1 != FOO || w1 = WARNING), w2]",
        "ERROR x"
    ));
    assert!(!is_match(
        "[w1 = ERROR && (w1 != FOO || w1 = WARNING), w2]",
        "WARNING x"
    ));
}

#[test]
fn d6_wildcard_selectors_are_existential() {
    let msg = r#"{"tags":["x","y"],"o":{"a":1,"b":{"c":2}},"empty":[]}"#;
    assert!(is_match(r#"{ $.tags[*] = "y" }"#, msg));
    // `!=` over a wildcard: no selected value equals (AWS: selector-array-ne).
    assert!(!is_match(r#"{ $.tags[*] != "x" }"#, msg));
    assert!(is_match(r#"{ $.tags[*] != "z" }"#, msg));
    assert!(!is_match(r#"{ $.tags[*] = "z" }"#, msg));
    assert!(is_match("{ $.o.* = 1 }", msg));
    assert!(
        !is_match("{ $.o.* = 2 }", msg),
        "nested objects are not searched"
    );
    assert!(is_match("{ $.o.*.c = 2 }", msg));
    assert!(
        is_match(r#"{ $.tags.* = "x" }"#, msg),
        "`.*` selects array elements too"
    );
    assert!(
        is_match("{ $.o[*] = 1 }", msg),
        "`[*]` selects object values too"
    );
    assert!(is_match("{ $.empty[*] NOT EXISTS }", msg));
    assert!(!is_match("{ $.tags[*] NOT EXISTS }", msg));
    assert!(is_match("{ $.* IS NULL }", r#"{"a":1,"b":null}"#));
}

#[test]
fn d7_duplicate_keys_last_wins() {
    let msg = r#"{"a":1,"a":2}"#;
    assert!(is_match("{ $.a = 2 }", msg));
    assert!(!is_match("{ $.a = 1 }", msg));
}

#[test]
fn d7_escaped_keys_and_strings_are_unescaped() {
    let msg = r#"{"k\u0065y":"v\"q","path":"a\/b"}"#;
    assert!(is_match(r#"{ $.key = "v\"q" }"#, msg));
    assert!(is_match(r#"{ $.path = "a/b" }"#, msg));
}

#[test]
fn d8_selectors_and_keywords() {
    assert!(is_match("{ $.a-b_c = 1 }", r#"{"a-b_c":1}"#));
    assert!(is_match(
        "{ $.['@timestamp'] = * }",
        r#"{"@timestamp":"x"}"#
    ));
    assert!(is_match("{ $.a['b.c'] = 1 }", r#"{"a":{"b.c":1}}"#));
    assert!(
        !is_match("{ $.[0] = 1 }", r#"{"0":1}"#),
        "an index never selects an object key"
    );
    assert!(is_match("{ $.0 = 1 }", r#"{"0":1}"#));
    assert!(is_match("{$.a=1&&$.b=2}", r#"{"a":1,"b":2}"#));
    assert!(is_match(
        "{ $.a IS NULL||$.b IS TRUE }",
        r#"{"a":0,"b":true}"#
    ));
    // Precedence: && binds tighter than ||.
    assert!(is_match(
        "{ $.a = 1 || $.b = 1 && $.c = 1 }",
        r#"{"a":1,"b":0,"c":0}"#
    ));
    assert!(!is_match(
        "{ ($.a = 1 || $.b = 1) && $.c = 1 }",
        r#"{"a":1,"b":0,"c":0}"#
    ));
}

#[test]
fn d9_terms() {
    // Substring, case-sensitive.
    assert!(is_match("ERROR", "ERRORNEOUS PROGRAM"));
    assert!(!is_match("ERROR", "error"));
    // `?` ignored when mixed with `-` terms as well.
    assert!(is_match("?A ?B -C", "nothing here"));
    assert!(!is_match("?A ?B -C", "C"));
    // `-` and `?` apply to quoted phrases; `\"` escapes a quote.
    assert!(is_match(r#"?"clean up" ?xyz"#, "please clean up"));
    assert!(is_match(
        r#"?"\"origin\":\"sls-agent\"" ?"REPORT RequestId: ""#,
        r#"{"origin":"sls-agent"}"#
    ));
    assert!(!is_match(r#"-"two words" one"#, "one two words"));
    // A whitespace-only phrase constrains nothing.
    assert!(is_match(r#"" " ERROR"#, "ERROR"));
    assert!(!is_match(r#"" " ERROR"#, "WARN"));
}

#[test]
fn d10_empty_messages() {
    assert!(!is_match("ERROR", ""));
    assert!(is_match("-ERROR", ""));
    assert!(is_match("", ""));
    assert!(!is_match("%.%", ""));
    assert!(is_match("%^$%", ""));
}

#[test]
fn value_refs_resolve_as_documented() {
    let msg =
        r#"{"s":"a\"b","n":1.50,"i":-3,"t":true,"z":null,"arr":[{"id":"x"},{"id":"y"}],"obj":{}}"#;
    let m = Match::default();
    let get = |r: &str| ValueRef::parse(r).unwrap().resolve(msg, &m);
    assert_eq!(get("$.s").as_deref(), Some("a\"b"));
    assert_eq!(get("$.n").as_deref(), Some("1.50"), "numbers as written");
    assert_eq!(get("$.i").as_deref(), Some("-3"));
    assert_eq!(get("$.t").as_deref(), Some("true"));
    assert_eq!(get("$.z"), None, "null resolves to None");
    assert_eq!(get("$.arr"), None);
    assert_eq!(get("$.obj"), None);
    assert_eq!(get("$.missing"), None);
    assert_eq!(get("$.arr[1].id").as_deref(), Some("y"));
    assert_eq!(
        get("$.arr[*].id").as_deref(),
        Some("x"),
        "wildcard: first scalar"
    );
    assert_eq!(get("2.5").as_deref(), Some("2.5"));
    assert_eq!(
        ValueRef::parse("$.s").unwrap().resolve("not json", &m),
        None
    );
    assert_eq!(
        ValueRef::parse("$.a.b").unwrap(),
        ValueRef::Json("a.b".into())
    );
    assert_eq!(
        ValueRef::parse(" $status ").unwrap(),
        ValueRef::Field("status".into())
    );
    assert_eq!(ValueRef::parse("$3").unwrap(), ValueRef::Field("3".into()));
    assert_eq!(ValueRef::parse("$.a").unwrap().to_string(), "$.a");
    for bad in [
        "",
        "size",
        "$",
        "$.",
        "$a.b",
        "$.a b",
        "1e",
        "inf",
        "$.a[",
        "$.[\"a\"]",
    ] {
        let err = ValueRef::parse(bad).unwrap_err();
        assert!(!err.message.is_empty(), "{bad:?}");
    }
    // Field references read what the delimited pattern extracted.
    let p = FilterPattern::parse("[ip, ...]").unwrap();
    let m = p.matches("1.2.3.4 GET /x").unwrap();
    assert_eq!(
        ValueRef::parse("$ip").unwrap().resolve("", &m).as_deref(),
        Some("1.2.3.4")
    );
    assert_eq!(
        ValueRef::parse("$3").unwrap().resolve("", &m).as_deref(),
        Some("/x")
    );
    assert_eq!(ValueRef::parse("$4").unwrap().resolve("", &m), None);
}

#[test]
fn value_refs_are_checked_against_the_pattern() {
    let check = |pattern: &str, r: &str| {
        FilterPattern::parse(pattern)
            .unwrap()
            .check_value_ref(&ValueRef::parse(r).unwrap())
    };
    assert!(check("{ $.latency = * }", "$.latency").is_ok());
    assert!(check("{ $.latency = * }", "1").is_ok());
    assert!(check("ERROR", "1").is_ok());
    assert!(
        check("ERROR", "$.latency")
            .unwrap_err()
            .contains("not a JSON pattern")
    );
    assert!(
        check("ERROR", "$size")
            .unwrap_err()
            .contains("not a space-delimited pattern")
    );
    assert!(check("{ $.a = 1 }", "$a").is_err());
    assert!(check("[ip, size]", "$size").is_ok());
    assert!(
        check("[ip, size]", "$bytes")
            .unwrap_err()
            .contains("no field named 'bytes'")
    );
    assert!(check("[ip, size]", "$.size").is_err());
    assert!(
        check("[ip, size]", "$2").is_err(),
        "position 2 is reported as $size"
    );
    assert!(check("[ip, , size]", "$2").is_ok());
    assert!(check("[..., size]", "$3").is_ok());
    assert!(check("[]", "$7").is_ok());
    assert!(check("[...]", "$0").is_err());
}
