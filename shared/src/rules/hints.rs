//! Fix hints for the mistakes people make moving to logalert: ElastAlert keys, ElastAlert's
//! one-rule-per-file layout, and YAML's traps for filter patterns and selectors (`{ … }` read as a
//! mapping, `@logStream` and `%timeout%` refused because `@`, `` ` `` and `%` are reserved).

use super::schema::KEYS;

/// What to write instead of an ElastAlert key, or `None` when `key` is not one of ElastAlert's.
pub(super) fn elastalert_key(key: &str) -> Option<&'static str> {
    const ES: &str = "logalert reads CloudWatch Logs delivered by a subscription filter, not \
                      Elasticsearch: choose the log groups with `log_groups`";
    const DEST: &str = "logalert publishes every alert to SNS and the notifier delivers it: \
                        destinations are configured there; name the route with `channel`";
    const SCHEDULE: &str = "log-filter runs when CloudWatch Logs delivers events (and on a one-minute tick); \
         there is no query schedule";
    const ARGS: &str = "logalert's `alert_subject` and `alert_text` are Jinja templates: write \
                        `{{ field }}` where ElastAlert had `{0}` and the `_args` list";
    const LINKS: &str =
        "alerts carry CloudWatch console and Logs Insights links (`links` in templates)";
    Some(match key {
        "alert_text_args" | "alert_subject_args" | "alert_text_kw" => ARGS,
        "alert_text_type" => {
            "logalert's `alert_text` is always a Jinja template (ElastAlert's `alert_text_jinja`)"
        }
        "alert" | "alerts" => DEST,
        "filter" => {
            "logalert matches with `filter_pattern` (CloudWatch filter-pattern syntax); \
             `logalert import-elastalert` converts ElastAlert filters"
        }
        "is_enabled" => "logalert's is `enabled`",
        "priority" => "logalert's is `severity` (critical, error, warning or info)",
        "owner" | "category" => "put it in `description`",
        "import" => "each rules file stands alone; shared settings go in `defaults:`",
        "use_local_time" => "times in alerts are UTC (ISO 8601)",
        "alert_subject_max_len" => "the SNS subject is cut to 99 characters",
        "match_enhancements" | "run_enhancements_first" => {
            "logalert has no match enhancements; templates see the whole event as `event`"
        }
        "timestamp_field" | "timestamp_type" | "timestamp_format" | "timestamp_format_expr" => {
            "events carry CloudWatch's own timestamp"
        }
        "run_every" | "query_delay" | "scan_entire_timeframe" => SCHEDULE,
        "generate_kibana_link"
        | "kibana_url"
        | "use_kibana4_dashboard"
        | "use_kibana_dashboard"
        | "kibana4_start_timedelta"
        | "kibana4_end_timedelta"
        | "kibana_discover_app_url"
        | "kibana_discover_version"
        | "kibana_discover_index_pattern_id"
        | "generate_kibana_discover_url" => LINKS,
        k if is_es_setting(k) => ES,
        k if is_alerter_option(k) => DEST,
        _ => return None,
    })
}

fn is_es_setting(k: &str) -> bool {
    matches!(
        k,
        "index"
            | "doc_type"
            | "use_strftime_index"
            | "use_count_query"
            | "use_terms_query"
            | "terms_size"
            | "max_query_size"
            | "max_scrolling_count"
            | "scroll_keepalive"
            | "use_ssl"
            | "verify_certs"
            | "ca_certs"
            | "client_cert"
            | "client_key"
            | "rules_folder"
            | "writeback_index"
            | "writeback_alias"
            | "alert_time_limit"
            | "old_query_limit"
            | "disable_rules_on_error"
            | "scan_subdirectories"
    ) || k.starts_with("es_")
}

fn is_alerter_option(k: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "slack_",
        "ms_teams_",
        "ms_power_automate_",
        "pagerduty_",
        "email",
        "smtp_",
        "http_post",
        "sns_",
        "opsgenie_",
        "telegram_",
        "jira_",
        "mattermost_",
        "discord_",
        "victorops_",
        "gitter_",
        "chatwork_",
        "zabbix_",
        "alerta_",
        "servicenow_",
    ];
    PREFIXES.iter().any(|p| k.starts_with(p))
        || matches!(k, "from_addr" | "reply_to" | "cc" | "bcc" | "notify_email")
}

/// For an unknown top-level key that is a rule key (`name:`, `filter_pattern:` at the top): the
/// file is laid out as ElastAlert's one-rule-per-file.
pub(super) fn rule_key_at_top(key: &str) -> Option<String> {
    let is_rule_key = KEYS.iter().any(|k| k.name == key) || elastalert_key(key).is_some();
    (is_rule_key || matches!(key, "es_host" | "es_port")).then(|| {
        format!(
            "`{key}` belongs to a rule: logalert's rules file holds `version: 1` and a `rules:` \
             list (this looks like an ElastAlert rule file; `logalert import-elastalert` converts it)"
        )
    })
}

/// The hint for a string value that YAML read as a mapping or a list (`filter_pattern: { … }`,
/// `filter_pattern: [ip, user, …]`, `alert_text: {{ count }}`): quote it, shown with the line's
/// own text when it fits on one line.
pub(super) fn quote_it(key: &str, written: Option<&str>, is_mapping: bool) -> String {
    let opener = if is_mapping { "{ … }" } else { "[ … ]" };
    let shape = if is_mapping { "a mapping" } else { "a list" };
    match written.filter(|w| !w.contains('\n') && w.len() <= 200) {
        Some(w) => format!(
            ": YAML reads an unquoted `{opener}` as {shape}; quote it: `{key}: {}`",
            single_quoted(w)
        ),
        None => format!(": YAML reads an unquoted `{opener}` as {shape}; quote the value"),
    }
}

fn single_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// For a YAML syntax error on `line`: when the line is `key: value` with an unquoted value that
/// starts with a character YAML reserves, say so and show it quoted.
pub(super) fn yaml_trap(line: &str) -> Option<String> {
    let body = line.trim_start();
    let body = body.strip_prefix("- ").map_or(body, str::trim_start);
    let (key, value) = body.split_once(':')?;
    let key = key.trim();
    let value = value.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let why = match value.chars().next()? {
        '@' => "`@` is reserved in YAML and cannot start an unquoted value".to_string(),
        '`' => "`` ` `` is reserved in YAML and cannot start an unquoted value".to_string(),
        '%' => "`%` cannot start an unquoted YAML value (it marks a directive)".to_string(),
        '*' => "an unquoted `*` starts a YAML alias".to_string(),
        '&' => "an unquoted `&` starts a YAML anchor".to_string(),
        '!' => "an unquoted `!` starts a YAML tag".to_string(),
        '{' => "an unquoted `{` starts a YAML mapping".to_string(),
        '[' => "an unquoted `[` starts a YAML list".to_string(),
        _ => return None,
    };
    let value = strip_comment(value);
    Some(format!(
        "{why}; quote it: `{key}: {}`",
        single_quoted(value)
    ))
}

/// `value  # comment` → `value` (a ` #` outside quotes starts a YAML comment).
fn strip_comment(value: &str) -> &str {
    value.find(" #").map_or(value, |i| value[..i].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_traps() {
        assert_eq!(
            yaml_trap("    query_key: @logStream").unwrap(),
            "`@` is reserved in YAML and cannot start an unquoted value; quote it: `query_key: '@logStream'`"
        );
        assert_eq!(
            yaml_trap("  - filter_pattern: %timeout%  # slow").unwrap(),
            "`%` cannot start an unquoted YAML value (it marks a directive); quote it: `filter_pattern: '%timeout%'`"
        );
        assert_eq!(yaml_trap("    name: fine"), None);
        assert_eq!(yaml_trap("a b: @x"), None);
    }

    #[test]
    fn elastalert_keys_are_recognised_but_logalert_keys_are_not() {
        assert!(elastalert_key("alert_text_args").is_some());
        assert!(elastalert_key("es_host").is_some());
        assert!(elastalert_key("slack_webhook_url").is_some());
        for k in KEYS {
            assert_eq!(elastalert_key(k.name), None, "{}", k.name);
        }
    }
}
