//! Loading rules files: the validation `logalert validate` relies on (issue 13 item 3) — templates,
//! empty lists, durations, ElastAlert keys and YAML traps — with exact messages and positions.

use logalert::rules;

fn errors(yaml: &str) -> Vec<String> {
    match rules::load(yaml, "r.yaml") {
        Ok(_) => panic!("expected errors for:\n{yaml}"),
        Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
    }
}

/// A one-rule file with `line` as the rule's last key (line 5).
fn rule_with(line: &str) -> String {
    format!("version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    {line}\n")
}

/// Each case: the rule's last key (line 5), then every error it gives.
fn check_table(cases: &[(&str, &[&str])]) {
    let mut failures = Vec::new();
    for (line, want) in cases {
        let got = match rules::load(&rule_with(line), "r.yaml") {
            Ok(_) => vec![],
            Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
        };
        if got != *want {
            failures.push(format!("{line}\n   got: {got:#?}\n  want: {want:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn templates_are_checked_at_load() {
    check_table(&[
        (
            "alert_text: '{{ count | nosuchfilter }}'",
            &["r.yaml:5:29: `alert_text`: unknown filter `nosuchfilter`"],
        ),
        (
            "alert_text: '{% if user is nosuchtest %}x{% endif %}'",
            &["r.yaml:5:32: `alert_text`: unknown test `nosuchtest`"],
        ),
        (
            "alert_text: '{{ num_hits }} hits'",
            &[
                "r.yaml:5:21: `alert_text`: `num_hits` is an ElastAlert variable; logalert's is `count` (an event field of that name is `event.num_hits`)",
            ],
        ),
        (
            "alert_text: '{{ _data.user }}'",
            &[
                "r.yaml:5:21: `alert_text`: `_data` is an ElastAlert variable; logalert's is `event` (an event field of that name is `event._data`)",
            ],
        ),
        (
            "alert_subject: 'x {{ rule.nme }} {{ links.consol }} {{ count.x }} {{ message.y }}'",
            &[
                "r.yaml:5:26: `alert_subject`: `rule.nme` can never exist: `rule` has `name`, `type`, `severity`, `description` (did you mean `rule.name`?)",
                "r.yaml:5:41: `alert_subject`: `links.consol` can never exist: `links` has `console`, `insights` (did you mean `links.console`?)",
                "r.yaml:5:60: `alert_subject`: `count.x` can never exist: `count` is a number",
                "r.yaml:5:74: `alert_subject`: `message.y` can never exist: `message` is a string (the event as parsed is `event`)",
            ],
        ),
        (
            "alert_text: \"{{ oops\"",
            &[
                "r.yaml:5:21: `alert_text`: syntax error: unexpected end of input, expected end of variable block",
            ],
        ),
        // Anything else may be a field of the event, and locals, loop variables, globals and
        // logalert's own filters and tests are declared.
        (
            "alert_text: '{{ user.id }} {{ event.a }} {{ rule.name }} {{ links.console }} {% for i in range(3) %}{{ loop.index }}{% endfor %} {% set x = 1 %}{{ x }} {{ nope | default(\"n/a\") }} {{ user is defined }} {{ message | upper | trim }}'",
            &[],
        ),
    ]);
}

#[test]
fn empty_lists_are_refused() {
    check_table(&[
        (
            "log_groups: []",
            &[
                "r.yaml:5:17: `log_groups` is an empty list: give at least one value, or leave the key out",
            ],
        ),
        (
            "query_key: []",
            &[
                "r.yaml:5:16: `query_key` is an empty list: give at least one value, or leave the key out",
            ],
        ),
        (
            "mention: []",
            &[
                "r.yaml:5:14: `mention` is an empty list: give at least one value, or leave the key out",
            ],
        ),
    ]);
    assert_eq!(
        errors("version: 1\nrules: []\n"),
        ["r.yaml:2:8: `rules` is empty: a rules file needs at least one rule"]
    );
    assert_eq!(
        errors("version: 1\nrules:\n"),
        ["r.yaml:2:6: `rules` is empty: a rules file needs at least one rule"]
    );
}

#[test]
fn durations_compound_forms_and_limits() {
    check_table(&[
        ("realert: 1h30m", &[]),
        ("realert: 1.5h", &[]),
        ("realert: 90 minutes", &[]),
        ("realert: 1h 30m", &[]),
        ("realert: PT5M", &[]),
        ("realert: 365d", &[]),
        ("realert: {days: 365}", &[]),
        (
            "realert: 99999999999999d",
            &[
                "r.yaml:5:14: `realert`: duration `99999999999999d` is longer than 365 days, the longest logalert accepts",
            ],
        ),
        (
            "realert: 366d",
            &[
                "r.yaml:5:14: `realert`: duration `366d` is longer than 365 days, the longest logalert accepts",
            ],
        ),
        (
            "realert: {days: 999}",
            &[
                "r.yaml:5:14: `realert`: the duration is longer than 365 days, the longest logalert accepts",
            ],
        ),
        (
            "realert: 1mo",
            &[
                "r.yaml:5:14: `realert`: duration `1mo`: months and years have no fixed length; write days (`30d`) or weeks",
            ],
        ),
        (
            "realert: -5m",
            &["r.yaml:5:14: `realert`: duration `-5m` is negative"],
        ),
        (
            "resolve_after: 2x",
            &[
                "r.yaml:5:20: `resolve_after`: unknown duration unit `x` in `2x`: expected a duration such as `30s`, `5m`, `1h30m`, `1.5h` or `2d` (or `{minutes: 5}`)",
            ],
        ),
    ]);
    let set = rules::load(
        "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    type: frequency\n    num_events: 2\n    timeframe: 1.5h\n    realert: 1h30m\n",
        "r",
    )
    .unwrap();
    assert_eq!(set.rules[0].realert.as_secs(), 5400);
    assert_eq!(
        set.rules[0].kind,
        rules::RuleKind::Frequency {
            num_events: 2,
            timeframe: std::time::Duration::from_secs(5400)
        }
    );
}

#[test]
fn elastalert_keys_get_a_hint_not_a_misleading_did_you_mean() {
    let args = "this is an ElastAlert key; logalert's `alert_subject` and `alert_text` are Jinja templates: write `{{ field }}` where ElastAlert had `{0}` and the `_args` list";
    let es = "this is an ElastAlert key; logalert reads CloudWatch Logs delivered by a subscription filter, not Elasticsearch: choose the log groups with `log_groups`";
    let dest = "this is an ElastAlert key; logalert publishes every alert to SNS and the notifier delivers it: destinations are configured there; name the route with `channel`";
    check_table(&[
        (
            "alert_text_args: [user]",
            &[&format!(
                "r.yaml:5:5: unknown key `alert_text_args` in a rule: {args}"
            )],
        ),
        (
            "alert_subject_args: [user]",
            &[&format!(
                "r.yaml:5:5: unknown key `alert_subject_args` in a rule: {args}"
            )],
        ),
        (
            "alert_text_type: alert_text_only",
            &[
                "r.yaml:5:5: unknown key `alert_text_type` in a rule: this is an ElastAlert key; logalert's `alert_text` is always a Jinja template (ElastAlert's `alert_text_jinja`)",
            ],
        ),
        (
            "index: logs-*",
            &[&format!("r.yaml:5:5: unknown key `index` in a rule: {es}")],
        ),
        (
            "es_host: localhost",
            &[&format!(
                "r.yaml:5:5: unknown key `es_host` in a rule: {es}"
            )],
        ),
        (
            "alert: [slack]",
            &[&format!(
                "r.yaml:5:5: unknown key `alert` in a rule: {dest}"
            )],
        ),
        (
            "slack_webhook_url: https://hooks.slack.com/x",
            &[&format!(
                "r.yaml:5:5: unknown key `slack_webhook_url` in a rule: {dest}"
            )],
        ),
        (
            "pagerduty_service_key: abc",
            &[&format!(
                "r.yaml:5:5: unknown key `pagerduty_service_key` in a rule: {dest}"
            )],
        ),
        (
            "is_enabled: false",
            &[
                "r.yaml:5:5: unknown key `is_enabled` in a rule: this is an ElastAlert key; logalert's is `enabled`",
            ],
        ),
        (
            "filter: [{term: {a: b}}]",
            &[
                "r.yaml:5:5: unknown key `filter` in a rule: this is an ElastAlert key; logalert matches with `filter_pattern` (CloudWatch filter-pattern syntax); `logalert import-elastalert` converts ElastAlert filters",
            ],
        ),
        (
            "priority: 1",
            &[
                "r.yaml:5:5: unknown key `priority` in a rule: this is an ElastAlert key; logalert's is `severity` (critical, error, warning or info)",
            ],
        ),
        (
            "run_every: {minutes: 1}",
            &[
                "r.yaml:5:5: unknown key `run_every` in a rule: this is an ElastAlert key; log-filter runs when CloudWatch Logs delivers events (and on a one-minute tick); there is no query schedule",
            ],
        ),
    ]);
    // A whole ElastAlert rule file: explained once, at its first rule key.
    assert_eq!(
        errors("name: x\ntype: frequency\nindex: logs-*\n"),
        [
            "r.yaml:1:1: unknown top-level key `name`: `name` belongs to a rule: logalert's rules file holds `version: 1` and a `rules:` list (this looks like an ElastAlert rule file; `logalert import-elastalert` converts it)",
            "r.yaml:1:1: missing `version: 1`",
            "r.yaml:1:1: missing `rules:` (a list of rules)",
            "r.yaml:2:1: unknown top-level key `type` (a rule key: see line 1)",
            "r.yaml:3:1: unknown top-level key `index` (a rule key: see line 1)",
        ]
    );
}

#[test]
fn yaml_traps_get_a_fix() {
    check_table(&[
        (
            "query_key: @logStream",
            &[
                "r.yaml:5:16: invalid YAML: unexpected character: `@'; `@` is reserved in YAML and cannot start an unquoted value; quote it: `query_key: '@logStream'`",
            ],
        ),
        (
            "query_key: `x`",
            &[
                "r.yaml:5:16: invalid YAML: unexpected character: ``'; `` ` `` is reserved in YAML and cannot start an unquoted value; quote it: `query_key: '`x`'`",
            ],
        ),
        (
            "alert_text: {{ count }} errors",
            &[
                "r.yaml:5:29: invalid YAML: while parsing a block mapping, did not find expected key; an unquoted `{` starts a YAML mapping; quote it: `alert_text: '{{ count }} errors'`",
            ],
        ),
        (
            "alert_text: {{ count }}",
            &[
                "r.yaml:5:17: `alert_text` must be a string, found a mapping: YAML reads an unquoted `{ … }` as a mapping; quote it: `alert_text: '{{ count }}'`",
            ],
        ),
        (
            "enabled: yes",
            &[
                "r.yaml:5:14: `enabled` must be true or false, found the string `yes` (YAML 1.2 reads yes/no/on/off as strings)",
            ],
        ),
    ]);
    for (yaml, want) in [
        (
            "version: 1\nrules:\n  - name: a\n    filter_pattern: { $.level = \"ERROR\" }  # errors\n",
            "r.yaml:4:21: `filter_pattern` must be a string, found a mapping: YAML reads an unquoted `{ … }` as a mapping; quote it: `filter_pattern: '{ $.level = \"ERROR\" }'`",
        ),
        (
            "version: 1\nrules:\n  - name: a\n    filter_pattern: [ip, user, status = 500]\n",
            "r.yaml:4:21: `filter_pattern` must be a string, found a list: YAML reads an unquoted `[ … ]` as a list; quote it: `filter_pattern: '[ip, user, status = 500]'`",
        ),
        (
            "version: 1\nrules:\n  - name: a\n    filter_pattern: %timeout%\n",
            "r.yaml:4:21: invalid YAML: unexpected character: `%'; `%` cannot start an unquoted YAML value (it marks a directive); quote it: `filter_pattern: '%timeout%'`",
        ),
        (
            "version: 1\nrules:\n  - name: a\n    filter_pattern: { $.a = 1 } && x\n",
            "r.yaml:4:33: invalid YAML: while parsing a block mapping, did not find expected key; an unquoted `{` starts a YAML mapping; quote it: `filter_pattern: '{ $.a = 1 } && x'`",
        ),
    ] {
        assert_eq!(errors(yaml), [want], "{yaml}");
    }
}

#[test]
fn several_files_are_one_rule_set_with_unique_names() {
    let a = "version: 1\nrules:\n  - name: x\n    filter_pattern: ERROR\n";
    let b = "version: 1\nrules:\n  - name: y\n    filter_pattern: WARN\n";
    let set = rules::load_files(&[("a.yaml", a), ("b.yaml", b)]).unwrap();
    let names: Vec<&str> = set.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["x", "y"]);
    let bad = "version: 1\nrules:\n  - name: y\n    filter_pattern: x\n    severty: error\n  - name: x\n    filter_pattern: x\n";
    let e = rules::load_files(&[("a.yaml", a), ("b.yaml", b), ("c.yaml", bad)]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "c.yaml:3:11: duplicate rule name `y` (first defined in b.yaml:3:11)\n\
         c.yaml:5:5: unknown key `severty` in a rule (did you mean `severity`?)\n\
         c.yaml:6:11: duplicate rule name `x` (first defined in a.yaml:3:11)"
    );
}

#[test]
fn near_miss_template_variables_are_warnings_not_errors() {
    let yaml = rule_with("alert_text: '{{ coutn }} in {{ log_grop }} ({{ counter }}, {{ user }})'");
    let set = rules::load(&yaml, "r.yaml").unwrap();
    let warnings: Vec<String> = set.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        [
            "r.yaml:5:21: `alert_text`: `coutn` is not a logalert variable and renders only if the event has a top-level field `coutn` (did you mean `count`?)",
            "r.yaml:5:36: `alert_text`: `log_grop` is not a logalert variable and renders only if the event has a top-level field `log_grop` (did you mean `log_group`?)",
        ]
    );
    assert!(
        rules::load(&rule_with("alert_text: '{{ count }}'"), "r")
            .unwrap()
            .warnings
            .is_empty()
    );
}

#[test]
fn digest_and_realert_options_are_checked_together() {
    check_table(&[
        ("aggregation: 10m", &[]),
        ("aggregation: 0", &[]),
        (
            "summary_table_fields: [$.code]",
            &[
                "r.yaml:5:27: `summary_table_fields` needs `aggregation` (it shapes the digest of a window)",
            ],
        ),
        (
            "aggregation_key: $.host",
            &[
                "r.yaml:5:22: `aggregation_key` needs `aggregation` (it shapes the digest of a window)",
            ],
        ),
        (
            "summary_table_max_rows: 0",
            &["r.yaml:5:29: `summary_table_max_rows` must be between 1 and 50, found 0"],
        ),
        (
            "include: [$.a, $.b, $.c, $.d, $.e, $.f, $.g, $.h, $.i, $.j, $.k]",
            &["r.yaml:5:14: `include` takes at most 10 selectors"],
        ),
        ("include: [$.user, '@fingerprint', $3]", &[]),
        (
            "include: ['@fingerprnt']",
            &["r.yaml:5:15: `include`: unknown field `@fingerprnt` (did you mean `@fingerprint`?)"],
        ),
        (
            "exponential_realert: 30s",
            &[
                "r.yaml:5:26: `exponential_realert` is the longest realert window: it cannot be shorter than `realert`",
            ],
        ),
        ("exponential_realert: 1h", &[]),
        ("realert_key: a", &[]),
        ("realert_key: shared", &[]),
        (
            "realert_key: ' '",
            &[
                "r.yaml:5:18: `realert_key` is empty: name the silence the rules share (e.g. `realert_key: db-down`), or remove it",
            ],
        ),
    ]);
    // realert_key where no silence can apply.
    assert_eq!(
        errors(
            "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    aggregation: 5m\n    realert_key: db\n"
        ),
        [
            "r.yaml:6:18: `realert_key: db` cannot be used here: a digest rule (`aggregation`) publishes one digest per window and does not realert, so it neither opens nor honours a silence; remove `realert_key`"
        ]
    );
    assert_eq!(
        errors(
            "version: 1\nrules:\n  - name: a\n    type: new_term\n    fields: [$.code]\n    realert_key: db\n"
        ),
        [
            "r.yaml:6:18: `realert_key: db` cannot be used here: `new_term` realerts per new term (each term has its own realert window), so a silence per query-key value shared with other rules would not apply to its terms; remove `realert_key`"
        ]
    );
    // Shared only when another rule has the same silence name (a rule's name is its default).
    let set = rules::load(
        "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n  - name: b\n    filter_pattern: y\n    realert_key: a\n  - name: c\n    filter_pattern: z\n    realert_key: alone\n",
        "r.yaml",
    )
    .unwrap();
    let keys: Vec<Option<&str>> = set.rules.iter().map(|r| r.realert_key.as_deref()).collect();
    assert_eq!(keys, [Some("a"), Some("a"), None]);
    // A disabled rule shares nothing.
    let set = rules::load(
        "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    realert_key: k\n  - name: b\n    filter_pattern: y\n    realert_key: k\n    enabled: false\n",
        "r.yaml",
    )
    .unwrap();
    assert_eq!(set.rules[0].realert_key, None);
    // aggregation_key with query_key: digests per aggregation value across query keys.
    let set = rules::load(
        "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    aggregation: 5m\n    aggregation_key: $.host\n    query_key: $.user\n  - name: b\n    filter_pattern: x\n    aggregation: 5m\n    aggregation_key: [$.user]\n    query_key: $.user\n",
        "r.yaml",
    )
    .unwrap();
    let (a, b) = (&set.rules[0], &set.rules[1]);
    assert_eq!(
        (a.query_key[0].0.as_str(), a.aggregation_key[0].0.as_str()),
        ("$.user", "$.host")
    );
    assert!(
        b.aggregation_key.is_empty(),
        "the same key as query_key: one digest per query key"
    );
    assert_eq!(
        errors(
            "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    aggregation_key: $.host\n    query_key: $.user\n"
        ),
        ["r.yaml:5:22: `aggregation_key` needs `aggregation` (it shapes the digest of a window)"]
    );
    let set = rules::load(
        "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    aggregation: 5m\n    aggregation_key: $.host\n    summary_table_fields: [$.code, '@fingerprint']\n",
        "r.yaml",
    )
    .unwrap();
    let r = &set.rules[0];
    assert_eq!(r.aggregation, Some(std::time::Duration::from_secs(300)));
    assert_eq!(
        r.query_key[0].0, "$.host",
        "aggregation_key groups the digests"
    );
    assert_eq!(r.summary_table_fields.len(), 2);
    assert_eq!((r.summary_table_max_rows, r.top_count_number), (10, 5));
    assert_eq!(r.alert_missing_value, "<missing>");
}
