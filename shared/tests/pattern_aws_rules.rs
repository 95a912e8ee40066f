//! The rules AWS's real answers reveal (module docs of `logalert::pattern`, "Rules from AWS's
//! answers"), each tested with cases of our own beyond `fixtures/aws/filter-pattern-aws.json`:
//! other characters, other numbers, other value types, other messages.

use logalert::pattern::FilterPattern;

fn is_match(pattern: &str, msg: &str) -> bool {
    FilterPattern::parse(pattern)
        .unwrap_or_else(|e| panic!("{e}"))
        .is_match(msg)
}

fn rejected(pattern: &str) -> String {
    match FilterPattern::parse(pattern) {
        Ok(p) => panic!("{pattern:?} should be rejected, parsed as {:?}", p.ast()),
        Err(e) => e.message,
    }
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

/// AWS's part of a message: what comes before our hint.
fn aws_part(message: &str) -> &str {
    message.split("; ").next().unwrap_or(message)
}

// ------------------------------------------------------------------------- terms

#[test]
fn r1_unquoted_terms_take_letters_of_any_script_digits_and_underscore() {
    for (pattern, hit, miss) in [
        ("café", "un café noir", "un cafe noir"),
        ("日本語", "ログ 日本語 です", "ログ です"),
        ("Ошибка", "Ошибка: диск", "ошибка: диск"),
        ("x٣", "x٣y", "x3y"),
        ("_private", "a_private_b", "private"),
        ("ERROR_42", "E ERROR_42", "ERROR 42"),
    ] {
        assert!(is_match(pattern, hit), "{pattern} on {hit}");
        assert!(!is_match(pattern, miss), "{pattern} on {miss}");
    }
    // `-` and `?` still mark a whole term, whatever its script.
    assert!(is_match("-café", "thé"));
    assert!(!is_match("-café", "café"));
    assert!(is_match("?café ?thé", "un thé"));
}

#[test]
fn r1_dots_and_hyphens_continue_a_term_literally() {
    assert!(is_match("v1.2", "release v1.2 out"));
    assert!(!is_match("v1.2", "release v1x2 out"));
    assert!(is_match("user-id", "bad user-id"));
    assert!(!is_match("user-id", "bad user id"));
    assert!(is_match("ERROR-", "ERROR-42"));
    assert!(is_match(
        "java.lang.NullPointerException",
        "at java.lang.NullPointerException: x"
    ));
    // A leading '-' is the exclusion, not part of the term.
    assert!(is_match("-user-id", "user id"));
    assert!(!is_match("-user-id", "a user-id"));
}

#[test]
fn r2_term_errors_name_the_character_after_a_complete_term() {
    for (pattern, aws) in [
        ("ERR*", "Invalid character(s) in term '*'"),
        ("status=500", "Invalid character(s) in term '='"),
        ("a/b", "Invalid character(s) in term '/'"),
        ("x+y", "Invalid character(s) in term '+'"),
        ("ok ERROR#1", "Invalid character(s) in term '#'"),
        ("(ERROR)", "Invalid character(s) in term '('"),
        ("'ERROR'", "Invalid character(s) in term '''"),
        ("€5", "Invalid character(s) in term '€'"),
        ("a.b,c", "Invalid character(s) in term ','"),
        ("?x!", "Invalid character(s) in term '!'"),
        ("\"open", "Invalid character(s) in term '\"open'"),
        (
            "ERROR \"two words",
            "Invalid character(s) in term '\"two words'",
        ),
        ("-\"\"", "Invalid character(s) in term '\"\"'"),
    ] {
        assert_eq!(aws_part(&rejected(pattern)), aws, "{pattern}");
    }
    // A quoted phrase glued to a term is a syntax error, not a character error.
    assert_eq!(
        aws_part(&rejected("WARN\"x\"")),
        "Invalid metric filter pattern: a quoted phrase must be separated from the term before it by a space"
    );
    assert!(rejected("\"x\"y").starts_with("Invalid metric filter pattern"));
}

// ------------------------------------------------------------------------- regex

#[test]
fn r3_regex_characters_aws_refuses_are_lexical_errors() {
    for (pattern, aws) in [
        ("%a)%", "Invalid character(s) in term '%a)'"),
        ("%ab\\)%", "Invalid character(s) in term '%ab\\)'"),
        ("%naïve%", "Invalid character(s) in term '%naï'"),
        ("%x~y%", "Invalid character(s) in term '%x~'"),
        ("%a\"b%", "Invalid character(s) in term '%a\"'"),
        ("{ $.a = %b&c% }", "Invalid character(s) in term '%b&'"),
        ("[a = %<x%, b]", "Invalid character(s) in term '%<'"),
        ("{ $.a = %% }", "Invalid character(s) in term '%%'"),
    ] {
        assert_eq!(aws_part(&rejected(pattern)), aws, "{pattern}");
    }
}

#[test]
fn r3_regexes_that_do_not_compile() {
    for pattern in [
        "%a**%",
        "%a*+%",
        "%a?+%",
        "%a{2}+%",
        "%a{2}{3}%",
        "%[b-a]%",
        "%\\k%",
        "%\\x4%",
        "%a{3,1}%",
        "%*a%",
    ] {
        let message = rejected(pattern);
        assert!(
            message.starts_with("Failed to compile regular expression."),
            "{pattern}: {message}"
        );
    }
    // Lazy repetitions are fine (capture regex-lazy).
    assert!(is_match("%^a*?b$%", "aab"));
    assert!(is_match("%x{1,2}?y%", "xxy"));
}

#[test]
fn r4_a_regex_pattern_is_one_expression_and_nothing_after_it() {
    assert_eq!(
        aws_part(&rejected("%ERROR%x%")),
        "Invalid character(s) in term 'x'"
    );
    assert_eq!(
        aws_part(&rejected("%a%  %b%")),
        "Invalid character(s) in term ' '"
    );
    // An escaped '%' does not close it.
    assert!(is_match("%100\\%%", "at 100% load"));
}

// ------------------------------------------------------------------------- JSON values

#[test]
fn r5_numbers_compare_by_exact_value() {
    assert!(is_match("{ $.a = 0.1 }", r#"{"a":0.1}"#));
    assert!(is_match("{ $.a = 100 }", r#"{"a":1e2}"#));
    assert!(is_match("{ $.a = 1E+2 }", r#"{"a":100.0}"#));
    assert!(is_match("{ $.a = -0 }", r#"{"a":0}"#));
    assert!(is_match("{ $.a = 0 }", r#"{"a":-0.0}"#));
    // Integers keep every digit; the pattern's number too.
    assert!(!is_match(
        "{ $.a = 12345678901234567890 }",
        r#"{"a":12345678901234567891}"#
    ));
    assert!(is_match(
        "{ $.a > 12345678901234567890 }",
        r#"{"a":12345678901234567891}"#
    ));
    assert!(is_match(
        "{ $.a < 9007199254740993 }",
        r#"{"a":9007199254740992}"#
    ));
    // A decimal or exponent is read as a double: 1e-400 is 0.
    assert!(is_match("{ $.a = 0 }", r#"{"a":1e-400}"#));
    assert!(!is_match("{ $.a > 0 }", r#"{"a":2.5e-330}"#));
    assert!(!is_match("{ $.a = 1e-400 }", r#"{"a":1e-400}"#));
    // The pattern's numbers are exact: 1e-400 is not 0, 1e400 is a number.
    assert!(is_match("{ $.a > 1e-400 }", r#"{"a":1e-300}"#));
    assert!(is_match("{ $.a < 1e400 }", r#"{"a":1e300}"#));
    assert!(is_match(
        "{ $.a < 1e400 }",
        r#"{"a":123456789012345678901234567890}"#
    ));
}

#[test]
fn r5_numbers_beyond_the_double_range_satisfy_no_comparison() {
    for pattern in [
        "{ $.a = 1 }",
        "{ $.a != 1 }",
        "{ $.a > 0 }",
        "{ $.a < 0 }",
        "{ $.a = 2e400 }",
        "{ $.a = %2%  }",
    ] {
        assert!(!is_match(pattern, r#"{"a":2e400}"#), "{pattern}");
    }
    // It is present, and prints as Infinity.
    assert!(is_match("{ $.a = * }", r#"{"a":2e400}"#));
    assert!(is_match("{ $.a = Infinity }", r#"{"a":2e400}"#));
    assert!(is_match("{ $.a = \"-Infinity\" }", r#"{"a":-1.5e999}"#));
    assert!(is_match("{ $.a NOT EXISTS || $.a = * }", r#"{"a":2e400}"#));
    // As a string it is just text.
    assert!(is_match("{ $.a = 2e400 }", r#"{"a":"2e400"}"#));
    assert!(is_match("{ $.a != 1 }", r#"{"a":"2e400"}"#));
}

#[test]
fn r6_a_number_in_the_pattern_meets_a_string_as_text() {
    assert!(is_match("{ $.a = 42 }", r#"{"a":"42"}"#));
    assert!(!is_match("{ $.a = 42 }", r#"{"a":"042"}"#));
    assert!(!is_match("{ $.a = 42 }", r#"{"a":"42.0"}"#));
    assert!(!is_match("{ $.a = 42.0 }", r#"{"a":"42"}"#));
    assert!(is_match("{ $.a = 42.0 }", r#"{"a":"42.0"}"#));
    assert!(is_match("{ $.a = -5 }", r#"{"a":"-5"}"#));
    assert!(!is_match("{ $.a = +5 }", r#"{"a":"5"}"#));
    assert!(is_match("{ $.a != 42 }", r#"{"a":"042"}"#));
    assert!(!is_match("{ $.a != 42 }", r#"{"a":"42"}"#));
    for op in [">", "<", ">=", "<="] {
        assert!(
            !is_match(&format!("{{ $.a {op} 1 }}"), r#"{"a":"5"}"#),
            "{op}"
        );
        assert!(
            !is_match(&format!("{{ $.a {op} 5 }}"), r#"{"a":"5"}"#),
            "{op}"
        );
    }
}

#[test]
fn r6_a_string_in_the_pattern_meets_a_number_as_aws_prints_it() {
    assert!(is_match("{ $.a = \"42\" }", r#"{"a":42}"#));
    assert!(is_match("{ $.a = 4* }", r#"{"a":42}"#));
    assert!(is_match("{ $.a = *.5 }", r#"{"a":2.50}"#));
    assert!(is_match("{ $.a = \"2.5E10\" }", r#"{"a":25000000000.0}"#));
    assert!(is_match(
        "{ $.a = \"25000000000\" }",
        r#"{"a":25000000000}"#
    ));
    assert!(!is_match("{ $.a = \"1e3\" }", r#"{"a":1e3}"#));
    assert!(is_match("{ $.a = \"0.0\" }", r#"{"a":1e-999}"#));
    assert!(is_match("{ $.a != \"x\" }", r#"{"a":7}"#));
    assert!(is_match("{ $.a = %^7\\.0$% }", r#"{"a":7.0}"#));
    assert!(!is_match("{ $.a = %^7\\.0$% }", r#"{"a":7}"#));
}

#[test]
fn r7_true_false_and_null_only_answer_is() {
    for value in ["true", "false", "null"] {
        let msg = format!(r#"{{"a":{value}}}"#);
        for pattern in [
            "{ $.a = * }".to_string(),
            format!("{{ $.a = {value} }}"),
            format!("{{ $.a = \"{value}\" }}"),
            format!("{{ $.a != \"{value}x\" }}"),
            "{ $.a != 1 }".to_string(),
            "{ $.a = %.% }".to_string(),
            "{ $.a != %x% }".to_string(),
            "{ $.a > 0 }".to_string(),
        ] {
            assert!(!is_match(&pattern, &msg), "{pattern} on {msg}");
        }
        assert!(!is_match("{ $.a NOT EXISTS }", &msg));
    }
    assert!(is_match("{ $.a IS TRUE }", r#"{"a":true}"#));
    assert!(is_match("{ $.a IS FALSE }", r#"{"a":false}"#));
    assert!(is_match("{ $.a IS NULL }", r#"{"a":null}"#));
    assert!(!is_match("{ $.a IS TRUE }", r#"{"a":"true"}"#));
    assert!(!is_match("{ $.a IS NULL }", r#"{"a":"null"}"#));
    assert!(!is_match("{ $.a IS FALSE }", r#"{"a":0}"#));
    // Bare words are strings.
    assert!(is_match("{ $.a = null }", r#"{"a":"null"}"#));
    assert!(is_match("{ $.a = false }", r#"{"a":"false"}"#));
}

#[test]
fn r8_is_tests_look_inside_an_array_the_selector_points_at() {
    assert!(is_match("{ $.a IS NULL }", r#"{"a":[1,null]}"#));
    assert!(is_match("{ $.a IS TRUE }", r#"{"a":[false,true]}"#));
    assert!(is_match("{ $.a.b IS FALSE }", r#"{"a":{"b":[false]}}"#));
    assert!(!is_match("{ $.a IS NULL }", r#"{"a":[1,2]}"#));
    assert!(!is_match("{ $.a IS NULL }", r#"{"a":[]}"#));
    assert!(
        !is_match("{ $.a IS NULL }", r#"{"a":[[null]]}"#),
        "one level only"
    );
    assert!(
        !is_match("{ $.a IS NULL }", r#"{"a":{"b":null}}"#),
        "not objects"
    );
    // Comparisons do not (AWS documentation: "If a property selector points to an array or
    // object, the filter pattern won't match").
    for pattern in ["{ $.a = 1 }", "{ $.a != 1 }", "{ $.a = * }", "{ $.a > 0 }"] {
        assert!(!is_match(pattern, r#"{"a":[1,2]}"#), "{pattern}");
    }
    // An array is a value: it exists.
    assert!(!is_match("{ $.a NOT EXISTS }", r#"{"a":[]}"#));
}

#[test]
fn r9_not_equal_over_a_wildcard_means_no_selected_value_equals() {
    let p = "{ $.tags[*] != \"prod\" }";
    assert!(!is_match(p, r#"{"tags":["dev","prod"]}"#));
    assert!(is_match(p, r#"{"tags":["dev","test"]}"#));
    assert!(
        is_match(p, r#"{"tags":[]}"#),
        "nothing selected, nothing equals"
    );
    assert!(is_match(p, r#"{"tags":[null,true,{"x":1}]}"#));
    assert!(
        is_match(p, r#"{"tags":"prod"}"#),
        "a scalar has no elements"
    );
    assert!(is_match(p, r#"{"tags":null}"#));
    assert!(!is_match(p, r#"{"other":1}"#), "the container must exist");
    assert!(!is_match(p, "[1]"));
    let p = "{ $.a.* != 3 }";
    assert!(!is_match(p, r#"{"a":{"x":1,"y":3.0}}"#));
    assert!(is_match(p, r#"{"a":{"x":1,"y":"3.0"}}"#));
    let p = "{ $.* != 1 }";
    assert!(is_match(p, r#"{}"#));
    assert!(!is_match(p, r#"{"x":2,"y":1}"#));
    let p = "{ $.a[*].b != 1 }";
    assert!(is_match(p, r#"{"a":[{"b":2},{"c":1}]}"#));
    assert!(!is_match(p, r#"{"a":[{"b":2},{"b":1}]}"#));
    // `=` over a wildcard is still "some selected value".
    assert!(is_match(
        "{ $.tags[*] = \"prod\" }",
        r#"{"tags":["dev","prod"]}"#
    ));
}

#[test]
fn r10_selector_syntax_errors_name_the_token() {
    for (pattern, aws) in [
        ("{ $x = 1 }", "Invalid character(s) in term '$x'"),
        ("{ $ = 1 }", "Invalid character(s) in term '$ '"),
        ("{ $.[x] = 1 }", "Invalid character(s) in term '$.[x'"),
        ("{ $.a[x] = 1 }", "Invalid character(s) in term '[x'"),
        ("{ $.a.b[ 0] = 1 }", "Invalid character(s) in term '[ '"),
        ("{ $.a <= \"5\" }", "Invalid character(s) in term '\"5\"'"),
        ("{ $.a > five }", "Invalid character(s) in term 'five'"),
    ] {
        assert_eq!(aws_part(&rejected(pattern)), aws, "{pattern}");
    }
}

// ------------------------------------------------------------------------- space-delimited

#[test]
fn r11_a_closing_quote_or_bracket_ends_a_field() {
    assert_eq!(
        extracted("[]", r#"[ts]GET "/a b"200"#),
        Some(pairs(&[
            ("$1", "ts"),
            ("$2", "GET"),
            ("$3", "/a b"),
            ("$4", "200")
        ]))
    );
    assert_eq!(
        extracted("[a, b, c]", r#""x"[y] z"#),
        Some(pairs(&[("$a", "x"), ("$b", "y"), ("$c", "z")]))
    );
    // Unclosed: an ordinary character.
    assert_eq!(
        extracted("[a, b]", "[x y"),
        Some(pairs(&[("$a", "[x"), ("$b", "y")]))
    );
    assert_eq!(
        extracted("[..., last]", r#"a "b"#),
        Some(pairs(&[("$1", "a"), ("$last", "\"b")]))
    );
}

#[test]
fn r12_the_last_field_takes_the_rest_of_the_line_as_written() {
    // More than one field left: everything from the field on, quotes and spaces kept.
    assert_eq!(
        extracted("[level, msg]", "WARN  disk \"/var\" full  "),
        Some(pairs(&[
            ("$level", "WARN"),
            ("$msg", "disk \"/var\" full  ")
        ]))
    );
    assert_eq!(
        extracted("[level, msg]", "WARN [x]y"),
        Some(pairs(&[("$level", "WARN"), ("$msg", "[x]y")]))
    );
    // Exactly one left: that field, unquoted, without the spaces around it.
    assert_eq!(
        extracted("[level, msg]", "WARN   \"disk full\"   "),
        Some(pairs(&[("$level", "WARN"), ("$msg", "disk full")]))
    );
    assert_eq!(
        extracted("[level, msg]", "WARN [x] "),
        Some(pairs(&[("$level", "WARN"), ("$msg", "x")]))
    );
    // A condition on the last field sees the same value.
    assert!(is_match(
        "[level, msg = \"disk full\"]",
        "WARN \"disk full\""
    ));
    assert!(is_match("[level, msg = *full*]", "WARN disk \"full\" now"));
    assert!(!is_match("[level, msg = disk]", "WARN disk full"));
    // With `...` at the end, every field is one token.
    assert_eq!(
        extracted("[level, ...]", "WARN disk full "),
        Some(pairs(&[("$level", "WARN"), ("$2", "disk"), ("$3", "full")]))
    );
}

#[test]
fn r13_one_ellipsis_and_names_that_start_with_a_letter() {
    for (pattern, aws) in [
        ("[..., ...]", "Duplicate field '...'"),
        ("[a, ..., b, ..., c]", "Duplicate field '...'"),
        ("[9]", "Invalid character(s) in term '9'"),
        ("[a, 2b = 1]", "Invalid character(s) in term '2b'"),
    ] {
        assert_eq!(aws_part(&rejected(pattern)), aws, "{pattern}");
    }
    assert!(is_match("[_a, b9]", "x y"));
}

#[test]
fn r14_field_numbers_compare_by_value_quoted_values_as_text() {
    assert!(is_match("[a = 5, b]", "5.0 x"));
    assert!(is_match("[a = 5, b]", "+5 x"));
    assert!(is_match("[a = 5, b]", "5e0 x"));
    assert!(is_match("[a < 1, b]", "1e-999 x"));
    assert!(
        !is_match("[a > 1, b]", "1e999 x"),
        "out of range: not a number"
    );
    assert!(is_match("[a != 1, b]", "1e999 x"));
    assert!(!is_match("[a = \"5\", b]", "5.0 x"));
    assert!(is_match("[a = \"5\", b]", "5 x"));
}
