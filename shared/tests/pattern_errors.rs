//! Every kind of invalid pattern is an error naming the character position, in AWS's wording
//! where AWS has one (reference §8), with an actionable message.

use logalert::pattern::{FilterPattern, PatternError};

fn err(pattern: &str) -> PatternError {
    match FilterPattern::parse(pattern) {
        Ok(p) => panic!("{pattern:?} should be rejected, parsed as {:?}", p.ast()),
        Err(e) => e,
    }
}

/// (pattern, 0-based character position, text the message must contain)
const CASES: &[(&str, usize, &str)] = &[
    // AWS's own messages (reference §8).
    (
        "{ $.a = 1",
        9,
        "If a filter pattern starts with '{' it must end with '}'",
    ),
    (
        "{",
        1,
        "If a filter pattern starts with '{' it must end with '}'",
    ),
    (
        "%abc",
        4,
        "If a filter pattern starts with '%' it must end with '%'",
    ),
    (
        "%",
        1,
        "If a filter pattern starts with '%' it must end with '%'",
    ),
    (
        "[a, b",
        5,
        "If a filter pattern starts with '[' it must end with ']'",
    ),
    // AWS names the text from the start of the token it was reading through the first
    // character that cannot continue it: after a complete term, just that character.
    ("foo,bar", 3, "Invalid character(s) in term ','"),
    ("ERROR foo:bar", 9, "Invalid character(s) in term ':'"),
    ("ERROR @message", 6, "Invalid character(s) in term '@'"),
    ("a\\b", 1, "Invalid character(s) in term '\\'"),
    ("“quoted”", 0, "Invalid character(s) in term '“'"),
    ("\"\"", 0, "Invalid character(s) in term '\"\"'"),
    ("ERROR %x%", 6, "must be the whole filter pattern"),
    (
        "%something!%",
        10,
        "Invalid character(s) in term '%something!'",
    ),
    ("%(a)%", 1, "Invalid character(s) in term '%('"),
    (r"%a\(%", 3, "Invalid character(s) in term '%a\\('"),
    ("%é%", 1, "Invalid character(s) in term '%é'"),
    ("%%", 1, "Invalid character(s) in term '%%'"),
    ("%a% %b%", 3, "Invalid character(s) in term ' '"),
    ("%a%b%", 3, "Invalid character(s) in term 'b'"),
    ("%a**%", 3, "Failed to compile regular expression."),
    ("%a{2%", 2, "Failed to compile regular expression."),
    (r"%\q%", 1, "not a supported escape"),
    ("{ $.a = %(x)% }", 9, "Invalid character(s) in term '%('"),
    (
        "{ $.a.*.b[*] = 1 }",
        9,
        "Your filter pattern has a JSON path selector that exceeds the maximum of 1 wildcard allowed per json selector.",
    ),
    (
        "{ $.a = %x% && $.b = %y% && $.c = %z% }",
        34,
        "Your input has exceeded the maximum of 2 regular expressions per filter pattern.",
    ),
    (
        "[a = %x%, b = %y%, c = %z%]",
        23,
        "Your input has exceeded the maximum of 2 regular expressions per filter pattern.",
    ),
    (
        "[a = 1 || b = 2]",
        10,
        "Multiple variables used in a single filter. Var1 : a, Var2 : b",
    ),
    ("[a, b, a]", 7, "Duplicate field 'a'"),
    // Wildcard-selector quota (3 per pattern).
    (
        "{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }",
        44,
        "maximum of 3 json selectors with wildcards",
    ),
    // Length limit.
    // (built in `too_long` below)
    // Terms.
    ("-", 0, "'-' must be followed by a term"),
    ("ERROR ?", 6, "'?' must be followed by a term"),
    (
        "\"unterminated",
        0,
        "Invalid character(s) in term '\"unterminated'",
    ),
    ("\"a\"b", 3, "expected a space after the closing '\"'"),
    // JSON syntax.
    ("{}", 1, "expected a condition"),
    (
        "{ a = 1 }",
        2,
        "expected a property selector starting with '$.'",
    ),
    ("{ $a = 1 }", 3, "expected '.' after '$'"),
    ("{ $. = 1 }", 4, "expected a property name after '$.'"),
    ("{ $.a. = 1 }", 6, "expected a property name after '.'"),
    ("{ $.a == 1 }", 6, "'==' is not an operator; use '='"),
    ("{ $.a === 1 }", 6, "'===' is not an operator"),
    ("{ $.a !== 1 }", 6, "'!==' is not an operator; use '!='"),
    ("{ $.a => 1 }", 6, "'=>' is not an operator"),
    ("{ $.a 1 }", 6, "expected an operator"),
    ("{ $.a = }", 8, "expected a value after '='"),
    (
        "{ $.a > abc }",
        8,
        "Invalid character(s) in term 'abc'; '>' compares numbers",
    ),
    (
        "{ $.a < %x% }",
        8,
        "Invalid character(s) in term '%x%'; '<' compares numbers",
    ),
    (
        "{ $.a >= \"1\" }",
        9,
        "Invalid character(s) in term '\"1\"'",
    ),
    ("{ $.a = \"x }", 8, "no closing '\"'"),
    ("{ $.a = %x }", 8, "no closing '%'"),
    ("{ $.a = “x” }", 8, "Invalid character(s) in term '“'"),
    ("{ $[0] = 1 }", 3, "Invalid character(s) in term '$['"),
    (
        "{ $.['a'][-1] = 1 }",
        10,
        "Invalid character(s) in term '[-'",
    ),
    (
        "{ $.[\"a\"] = 1 }",
        5,
        "Invalid character(s) in term '$.[\"'",
    ),
    ("[2nd]", 1, "Invalid character(s) in term '2nd'"),
    ("[..., a, ...]", 9, "Duplicate field '...'"),
    ("{ $.a IS NOT NULL }", 6, "'IS NOT' is not supported"),
    (
        "{ $.a IS MISSING }",
        9,
        "expected NULL, TRUE or FALSE after 'IS'",
    ),
    ("{ $.a EXISTS }", 6, "'EXISTS' is not supported"),
    ("{ $.a NOT THERE }", 10, "expected EXISTS after 'NOT'"),
    ("{ $.a is null }", 6, "keywords are upper case: write 'IS'"),
    (
        "{ $.a not exists }",
        6,
        "keywords are upper case: write 'NOT'",
    ),
    (
        "{ $.a = 1 AND $.b = 2 }",
        10,
        "'AND' is not an operator; use '&&'",
    ),
    (
        "{ $.a = 1 or $.b = 2 }",
        10,
        "'or' is not an operator; use '||'",
    ),
    (
        "{ $.a = 1 & $.b = 2 }",
        10,
        "a single '&' is not an operator; use '&&'",
    ),
    (
        "{ $.a = 1 | $.b = 2 }",
        10,
        "a single '|' is not an operator; use '||'",
    ),
    ("{ $.a = 1 && }", 13, "expected a condition"),
    (
        "{ $.a = 1 && || $.b = 1 }",
        13,
        "expected a property selector",
    ),
    (
        "{ ($.a = 1 }",
        11,
        "expected ')' to close the '(' at character 3",
    ),
    ("{ $.a = 1 ) }", 10, "this ')' has no matching '('"),
    (
        "{ $.a = 1 $.b = 2 }",
        10,
        "join conditions with '&&' or '||'",
    ),
    (
        "{ $.[\"a\"] = 1 }",
        5,
        "double quotation marks aren't supported inside bracket notation",
    ),
    ("{ $.['a] = 1 }", 4, "has no closing single quote"),
    ("{ $.a[x] = 1 }", 6, "expected an array index"),
    ("{ $.a[0 = 1 }", 7, "expected ']'"),
    (
        "{ $.a:b = 1 }",
        5,
        "unexpected ':' in the property selector",
    ),
    ("{ $.a[99999999999999999999999] = 1 }", 6, "too large"),
    // Space-delimited syntax.
    ("[a = ]", 5, "expected a value after '='"),
    (
        "[... = 1]",
        5,
        "'...' and empty fields cannot have conditions",
    ),
    ("[a && b]", 3, "a condition needs an operator and a value"),
    ("[a b]", 3, "expected ',' between fields"),
    ("[a.b]", 2, "unexpected '.' after field name 'a'"),
    ("[$a]", 1, "expected a field name"),
    (
        "[w1 = ERROR && || w1 = X, w2]",
        15,
        "expected a condition such as `name = value`",
    ),
    ("[w1 !=== X]", 4, "'!===' is not an operator"),
    ("[w1 === X]", 4, "'===' is not an operator"),
    ("[w1 !== X]", 4, "'!==' is not an operator; use '!='"),
    ("[w1 == X]", 4, "'==' is not an operator; use '='"),
    (
        "[w1 = ERROR AND w1 = X]",
        12,
        "'AND' is not an operator; use '&&'",
    ),
    (
        "[w1 = ERROR OR w1 = X]",
        12,
        "'OR' is not an operator; use '||'",
    ),
    ("[(w1 = A, w2]", 8, "expected ')' to close the '('"),
    ("[w1=!ERROR&&w1=!WARN, w2]", 3, "'=!' is not an operator"),
];

#[test]
fn invalid_patterns_name_the_position_and_the_problem() {
    let mut failures = Vec::new();
    for &(pattern, position, text) in CASES {
        match FilterPattern::parse(pattern) {
            Ok(_) => failures.push(format!("{pattern:?}: accepted")),
            Err(e) => {
                if e.position != position || !e.message.contains(text) {
                    failures.push(format!(
                        "{pattern:?}: expected position {position} and {text:?}, got position {} and {:?}",
                        e.position, e.message
                    ));
                }
                if e.pattern != pattern {
                    failures.push(format!("{pattern:?}: error carries {:?}", e.pattern));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn too_long() {
    let ok = "a".repeat(1024);
    assert!(FilterPattern::parse(&ok).is_ok());
    let long = "a".repeat(1025);
    let e = err(&long);
    assert_eq!(e.position, 1024);
    assert!(
        e.message
            .contains("1025 characters long; the maximum is 1024"),
        "{}",
        e.message
    );
    // Characters, not bytes.
    assert!(FilterPattern::parse(&format!("\"{}\"", "é".repeat(1022))).is_ok());
}

#[test]
fn the_error_renders_with_a_caret_under_the_position() {
    let e = err("{ $.latency >> 100 }");
    assert_eq!(
        e.to_string(),
        "Invalid metric filter pattern: '>>' is not an operator; use one of = != < > <= >= (at character 13)\n\
         \x20 { $.latency >> 100 }\n\
         \x20             ^"
    );
}

#[test]
fn valid_edge_forms_are_accepted() {
    for p in [
        "",
        " ",
        "\" \"",
        "[]",
        "[ ]",
        "[,]",
        "[...]",
        "{$.a=1}",
        "{ $.a = \"\" }",
        "{ $.a = -1.5e-3 }",
        "{ $.a = ** }",
        "{ ((($.a = 1))) }",
        "{ $.a = %x% && $.b = %y% }",
        "[a = %x%, b = %y%]",
        "{ $.a[*] = 1 || $.b[*] = 1 || $.c.* = 1 }",
        r#"{ $.a = "with \"quotes\" and \\ backslash" }"#,
        "%^a b$%",
        r"%\%%",
        "ERROR_CODE_42",
        "{\n  $.a = 1\n}",
    ] {
        if let Err(e) = FilterPattern::parse(p) {
            panic!("{p:?} should be valid:\n{e}");
        }
    }
}
