//! Loading rules files: exact error messages and positions, every error at once, defaults.

use logalert::alert::{Mention, Severity};
use logalert::pattern::ValueRef;
use logalert::rules::{self, QueryKeyPart, RuleKind};

fn errors(yaml: &str) -> Vec<String> {
    match rules::load(yaml, "r.yaml") {
        Ok(_) => panic!("expected errors for:\n{yaml}"),
        Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn a_full_rule_loads_with_every_field() {
    let yaml = r#"
version: 1
defaults:
  realert: {minutes: 10}
  channel: ops
rules:
  - name: auth-failures
    description: Repeated login failures
    log_groups: ["/aws/lambda/auth-*", /ecs/auth]
    filter_pattern: login_failed
    type: frequency
    num_events: 5
    timeframe: 2m
    query_key: [$.user, "@logGroup"]
    severity: warning
    mention: [here, U024BE7LH, S0614TZR7]
    max_samples: 2
    alert_subject: "{{ count }} failures for {{ user }}"
    alert_text: "{{ message }}"
    metric: {name: LoginFailures, value: "1", unit: Count, dimensions: {User: $.user}}
  - name: second
    filter_pattern: ""
    realert: 0
    enabled: false
"#;
    let set = rules::load(yaml, "r.yaml").unwrap();
    let r = &set.rules[0];
    assert_eq!(r.name, "auth-failures");
    assert_eq!(r.description.as_deref(), Some("Repeated login failures"));
    assert!(
        r.applies_to("/aws/lambda/auth-api")
            && r.applies_to("/ecs/auth")
            && !r.applies_to("/ecs/other")
    );
    assert_eq!(
        r.kind,
        RuleKind::Frequency {
            num_events: 5,
            timeframe: std::time::Duration::from_secs(120)
        }
    );
    assert_eq!(r.query_key.len(), 2);
    assert_eq!(
        r.query_key[0].1,
        QueryKeyPart::Value(ValueRef::Json("user".into()))
    );
    assert_eq!(r.query_key[1].1, QueryKeyPart::LogGroup);
    assert_eq!(
        r.realert.as_secs(),
        600,
        "from defaults, ElastAlert mapping form"
    );
    assert_eq!(r.channel, "ops");
    assert_eq!(r.severity, Severity::Warning);
    assert_eq!(
        r.mention,
        vec![
            Mention::Here,
            Mention::Id("U024BE7LH".into()),
            Mention::Id("S0614TZR7".into())
        ]
    );
    assert_eq!(r.max_samples, 2);
    let m = r.metric.as_ref().unwrap();
    assert_eq!(
        (m.name.as_str(), m.unit.as_str()),
        ("LoginFailures", "Count")
    );
    assert_eq!(m.value, ValueRef::Number(1.0));
    assert_eq!(
        m.dimensions,
        vec![("User".to_string(), ValueRef::Json("user".into()))]
    );
    assert!(r.enabled);

    let s = &set.rules[1];
    assert_eq!(s.realert.as_secs(), 0);
    assert!(!s.enabled);
    assert_eq!(s.kind, RuleKind::Any);
    assert_eq!(s.severity, Severity::Error, "default severity");
    assert_eq!(s.max_samples, 5, "default max_samples");
    assert_eq!(set.summary(), "2 rules (1 enabled: 0 any, 1 frequency)");
}

#[test]
fn default_realert_is_one_minute() {
    let set = rules::load(
        "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n",
        "r",
    )
    .unwrap();
    assert_eq!(set.rules[0].realert.as_secs(), 60);
    assert_eq!(set.rules[0].channel, "default");
}

#[test]
fn every_error_is_reported_at_once_with_positions() {
    let yaml = "\
version: 1
rules:
  - name: one
    filter_pattern: ERROR
    severty: error
    alert_text_agrs: x
  - name: two
    filter_pattern: x
    severity: urgent
    realert: 5 minuets
  - name: one
    filter_pattern: y
    type: frequncy
";
    assert_eq!(
        errors(yaml),
        [
            "r.yaml:5:5: unknown key `severty` in a rule (did you mean `severity`?)",
            "r.yaml:6:5: unknown key `alert_text_agrs` in a rule (did you mean `alert_text`?)",
            "r.yaml:9:15: unknown severity `urgent` (expected critical, error, warning or info)",
            "r.yaml:10:14: `realert`: unknown duration unit ` minuets` in `5 minuets`: expected a duration such as `30s`, `5m`, `1h30m`, `1.5h` or `2d` (or `{minutes: 5}`)",
            "r.yaml:11:11: duplicate rule name `one` (first defined on line 3)",
            "r.yaml:13:11: unknown rule type `frequncy` (expected any, frequency, blacklist, whitelist, change, spike, flatline, new_term, cardinality, percentage_match, metric_aggregation or spike_aggregation) (did you mean `frequency`?)",
        ]
    );
}

#[test]
fn severity_typos_get_a_hint() {
    let e =
        errors("version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    severity: critcal\n");
    assert_eq!(
        e,
        [
            "r.yaml:5:15: unknown severity `critcal` (expected critical, error, warning or info) (did you mean `critical`?)"
        ]
    );
}

#[test]
fn bad_durations() {
    let missing =
        errors("version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    type: frequency\n");
    assert_eq!(
        missing,
        ["r.yaml:5:11: a frequency rule needs `num_events` and `timeframe`"]
    );
    let yaml = "\
version: 1
rules:
  - name: a
    filter_pattern: x
    type: frequency
    num_events: 0
    timeframe: 0
    realert: 10
  - name: b
    filter_pattern: x
    realert: {minuets: 5}
";
    assert_eq!(
        errors(yaml),
        [
            "r.yaml:6:17: `num_events` must be between 1 and 2000, found 0",
            "r.yaml:7:16: `timeframe` must be longer than 0",
            "r.yaml:8:14: `realert`: duration `10` has no unit: write `10s`, `10m`, `10h` or `10d`",
            "r.yaml:11:15: `realert`: unknown duration unit `minuets` (did you mean `minutes`?)",
        ]
    );
}

#[test]
fn missing_required_fields_and_wrong_types() {
    let yaml = "\
version: 2
rules:
  - description: no name
  - name: b
    filter_pattern: [x]
    max_samples: 500
    enabled: yes
    mention: everyone
  - just a string
";
    assert_eq!(
        errors(yaml),
        [
            "r.yaml:1:10: unsupported `version`: this logalert reads `version: 1`",
            "r.yaml:3:5: a rule needs a `name`",
            "r.yaml:3:5: a rule needs a `filter_pattern` (use \"\" to match every event)",
            "r.yaml:5:21: `filter_pattern` must be a string, found a list: YAML reads an unquoted `[ … ]` as a list; quote it: `filter_pattern: '[x]'`",
            "r.yaml:6:18: `max_samples` must be between 0 and 100, found 500",
            "r.yaml:7:14: `enabled` must be true or false, found the string `yes` (YAML 1.2 reads yes/no/on/off as strings)",
            "r.yaml:8:14: `mention`: `everyone` is not `here`, `channel` or a Slack user/group id (U…, W… or S…, e.g. U024BE7LH)",
            "r.yaml:9:5: a rule must be a mapping, found a string",
        ]
    );
}

#[test]
fn top_level_problems() {
    assert_eq!(
        errors(""),
        ["r.yaml:1:1: the rules file is empty: expected `version: 1` and `rules:`"]
    );
    assert_eq!(
        errors("verison: 1\nrules: []\n"),
        [
            "r.yaml:1:1: unknown top-level key `verison` (did you mean `version`?)",
            "r.yaml:1:1: missing `version: 1`",
            "r.yaml:2:8: `rules` is empty: a rules file needs at least one rule",
        ]
    );
    assert_eq!(
        errors("version: 1\n"),
        ["r.yaml:1:1: missing `rules:` (a list of rules)"]
    );
    assert_eq!(
        errors("- a\n"),
        ["r.yaml:1:1: the rules file must be a mapping with `version` and `rules`, found a list"]
    );
}

#[test]
fn yaml_syntax_errors_have_positions() {
    let e = errors("version: 1\nrules:\n  - name: \"unterminated\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("r.yaml:"), "{e:?}");
    assert!(e[0].contains("invalid YAML"), "{e:?}");
    let dup = errors("version: 1\nversion: 1\nrules: []\n");
    assert!(
        dup[0].starts_with("r.yaml:2:") && dup[0].contains("invalid YAML"),
        "{dup:?}"
    );
}

#[test]
fn num_events_only_for_frequency_rules_but_defaults_may_hold_it() {
    let e = errors("version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    timeframe: 5m\n");
    assert_eq!(
        e,
        [
            "r.yaml:5:5: `timeframe` is only used by `type: frequency`, `type: change`, `type: spike`, `type: flatline`, `type: cardinality` or `type: spike_aggregation` rules"
        ]
    );
    let ok = "version: 1\ndefaults:\n  timeframe: 5m\n  num_events: 3\nrules:\n  - name: a\n    filter_pattern: x\n  - name: b\n    filter_pattern: y\n    type: frequency\n";
    let set = rules::load(ok, "r").unwrap();
    assert_eq!(set.rules[0].kind, RuleKind::Any);
    assert_eq!(
        set.rules[1].kind,
        RuleKind::Frequency {
            num_events: 3,
            timeframe: std::time::Duration::from_secs(300)
        }
    );
}

#[test]
fn defaults_cannot_name_rules_and_are_checked_once() {
    let e = errors(
        "version: 1\ndefaults:\n  name: x\n  severity: loud\nrules:\n  - name: a\n    filter_pattern: x\n  - name: b\n    filter_pattern: x\n",
    );
    assert_eq!(
        e,
        [
            "r.yaml:3:3: `name` cannot have a default",
            "r.yaml:4:13: unknown severity `loud` (expected critical, error, warning or info)",
        ]
    );
}

#[test]
fn query_key_and_metric_errors() {
    let yaml = "\
version: 1
rules:
  - name: a
    filter_pattern: x
    query_key: [user, '@logGrup']
    metric: {name: 'a:b', value: abc, unit: Counts, dimensions: {X: $.x, Y: '5'}, extra: 1}
";
    assert_eq!(
        errors(yaml),
        [
            "r.yaml:5:17: `query_key`: `user` is not `$.selector` or `$field`",
            "r.yaml:5:23: `query_key`: unknown field `@logGrup` (did you mean `@logGroup`?)",
            "r.yaml:6:20: `metric.name` must be 1-255 characters without `:`, `*` or `$`",
            "r.yaml:6:34: `metric.value`: `abc` is not a number, `$.selector` or `$field`",
            "r.yaml:6:45: `metric.unit`: unknown CloudWatch unit `Counts` (did you mean `Count`?)",
            "r.yaml:6:77: a dimension value: expected `$.selector` or `$field`, found `5`",
            "r.yaml:6:83: unknown key `extra` in `metric`",
        ]
    );
}

#[test]
fn template_syntax_errors_point_into_the_string() {
    let yaml = "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    alert_subject: 'hello {{ oops'\n";
    let e = errors(yaml);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("r.yaml:5:") && e[0].contains("`alert_subject`: syntax error"),
        "{e:?}"
    );
}

/// The placeholder pattern engine rejects `{`, `[` and `%` at position 0; the real one rejects
/// more, at the offending character. Either way the error points inside the YAML string.
#[test]
fn pattern_errors_point_at_the_character_in_the_yaml_string() {
    let yaml = "version: 1\nrules:\n  - name: a\n    filter_pattern: '[oops'\n";
    let e = errors(yaml);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("r.yaml:4:"), "{e:?}");
    assert!(e[0].contains("invalid filter pattern"), "{e:?}");
    let col: usize = e[0].split(':').nth(2).unwrap().parse().unwrap();
    assert!(
        col >= 21,
        "points inside the quoted string, not at the key: {e:?}"
    );
}

#[test]
fn errors_display_one_per_line() {
    let e = rules::load(
        "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    a: 1\n    b: 2\n",
        "f",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "f:5:5: unknown key `a` in a rule\nf:6:5: unknown key `b` in a rule"
    );
}

#[test]
fn bundled_and_example_rules_files_are_valid() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules.yaml");
    let set = rules::load(&std::fs::read_to_string(root).unwrap(), "rules.yaml").unwrap();
    assert!(!set.rules.is_empty());
}

#[test]
fn resolve_after_is_off_by_default_and_zero_is_off() {
    let load = |extra: &str| {
        logalert::rules::load(
            &format!("version: 1\nrules:\n  - name: r\n    filter_pattern: ERROR\n{extra}"),
            "r.yaml",
        )
        .unwrap()
        .rules[0]
            .resolve_after
    };
    assert_eq!(load(""), None);
    assert_eq!(load("    resolve_after: 0\n"), None);
    assert_eq!(
        load("    resolve_after: 10m\n"),
        Some(std::time::Duration::from_secs(600))
    );
    let errs = logalert::rules::load(
        "version: 1\nrules:\n  - name: r\n    filter_pattern: ERROR\n    resolve_after: soon\n",
        "r.yaml",
    )
    .unwrap_err();
    assert!(errs.to_string().starts_with("r.yaml:5:20: "), "{errs}");
}
