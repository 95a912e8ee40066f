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

#[test]
fn scratch() {
    for line in [
        "alert_text: '{{ count | nosuchfilter }}'",
        "alert_text: '{{ num_hits }} hits'",
        "alert_subject: 'x {{ rule.nme }} {{ links.consol }} {{ count.x }} {{ message.y }}'",
        "alert_text: '{% if user is nosuchtest %}x{% endif %}'",
        "alert_text: '{{ user.id }} {{ event.a }} {{ range(3) | list }} {% set x = 1 %}{{ x }}'",
        "log_groups: []",
        "query_key: []",
        "mention: []",
        "realert: 99999999999999d",
        "realert: {days: 999}",
        "realert: 1h30m",
        "realert: 1.5h",
        "realert: 5 minutes",
        "query_key: @logStream",
        "filter_pattern2: %timeout%",
        "alert_text_args: [a]",
        "es_host: x",
        "alert: [slack]",
        "slack_webhook_url: x",
        "index: logs-*",
        "alert_text: {{ count }}",
    ] {
        let r = rules::load(&rule_with(line), "r.yaml");
        println!("{line}\n  => {:?}", r.err().map(|e| e.to_string()));
    }
    for y in [
        "version: 1\nrules:\n  - name: a\n    filter_pattern: { $.level = \"ERROR\" }\n",
        "version: 1\nrules:\n  - name: a\n    filter_pattern: [ip, user, status = 500]\n",
        "version: 1\nrules:\n  - name: a\n    filter_pattern: %timeout%\n",
        "version: 1\nrules:\n  - name: a\n    filter_pattern: { $.a = 1 } && x\n",
        "version: 1\nrules: []\n",
        "version: 1\nrules:\n",
        "name: x\ntype: frequency\nindex: logs\nfilter:\n- term:\n    a: b\n",
    ] {
        let r = rules::load(y, "r.yaml");
        println!("{y}\n  => {:?}", r.err().map(|e| e.to_string()));
    }
}
