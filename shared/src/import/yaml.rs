//! YAML in (other tools' files, as JSON values) and out (the rules file we write).
//!
//! ```
//! use logalert::import::yaml::{load, scalar};
//! let docs = load("name: a\nnum_events: 5\ntags: [x, 'y z']\n").unwrap();
//! assert_eq!(docs[0]["num_events"], 5);
//! assert_eq!(scalar("5m"), "5m");
//! assert_eq!(scalar("{ $.a = 1 }"), "'{ $.a = 1 }'");
//! assert_eq!(scalar("it's\nhere"), r#""it's\nhere""#);
//! ```

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::Value;

/// Every document of a YAML stream, as JSON values (mapping keys become strings; anchors and
/// aliases resolved by saphyr). The error names the line and column.
pub fn load(source: &str) -> Result<Vec<Value>, (usize, usize, String)> {
    let docs = Yaml::load_from_str(source).map_err(|e| {
        let m = e.marker();
        (m.line().max(1), m.col() + 1, e.info().to_string())
    })?;
    Ok(docs.iter().map(to_json).collect())
}

fn to_json(y: &Yaml<'_>) -> Value {
    match y {
        Yaml::Value(s) => scalar_json(s),
        Yaml::Representation(s, _, _) => Value::String(s.to_string()),
        Yaml::Sequence(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Mapping(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = match to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Yaml::Tagged(_, inner) => to_json(inner),
        Yaml::Alias(_) | Yaml::BadValue => Value::Null,
    }
}

fn scalar_json(s: &Scalar<'_>) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::from(*i),
        Scalar::FloatingPoint(f) => {
            serde_json::Number::from_f64(f.into_inner()).map_or(Value::Null, Value::Number)
        }
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

/// A string as a YAML scalar that reads back as the same string: plain when that is unambiguous,
/// single-quoted when it has YAML's special characters, double-quoted (JSON escapes, which YAML
/// reads the same) when it has line breaks or control characters.
pub fn scalar(s: &str) -> String {
    if s.chars().any(|c| c.is_control()) {
        return serde_json::to_string(s).expect("strings serialize");
    }
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '$'))
        && !s.starts_with(['-', '.'])
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n" | "~"
        )
        && s.parse::<f64>().is_err();
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// `# text` lines (each line of `text` commented), indented by `indent`.
pub fn comment(text: &str, indent: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                format!("{indent}#\n")
            } else {
                format!("{indent}# {l}\n")
            }
        })
        .collect()
}

/// A JSON value as a one-line YAML flow value (for option values carried over verbatim).
pub fn flow(v: &Value) -> String {
    match v {
        Value::String(s) => scalar(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", scalar(k), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_read_back_as_written() {
        for s in [
            "plain",
            "5m",
            "{ $.level = \"ERROR\" && $.x > 1 }",
            "it's",
            "yes",
            "123",
            "1.5",
            "-x",
            "$.user",
            "@logGroup",
            "a: b",
            "# not a comment",
            "line\nbreak",
            "tab\there",
            "",
            "{{ count }} errors",
            "인증실패",
        ] {
            let doc = format!("k: {}\n", scalar(s));
            let back = load(&doc).unwrap_or_else(|e| panic!("{doc}: {e:?}"));
            assert_eq!(back[0]["k"], Value::String(s.to_string()), "{doc}");
        }
    }

    #[test]
    fn flow_values_read_back() {
        let v = serde_json::json!({"a": [1, "x y", true], "b": {"c": null}});
        let doc = format!("k: {}\n", flow(&v));
        assert_eq!(load(&doc).unwrap()[0]["k"], v);
    }
}
