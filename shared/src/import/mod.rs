//! Migration: other tools' alert definitions → a logalert rules file.
//!
//! * [`elastalert`] — ElastAlert / ElastAlert 2 rule files (and `config.yaml`) → rules;
//! * [`metric_filters`] — `aws logs describe-metric-filters` (+ `aws cloudwatch describe-alarms`)
//!   → rules on the same patterns;
//! * [`query`] — Elasticsearch queries → CloudWatch filter patterns;
//! * [`yaml`] — reading YAML into JSON values, and writing the rules file.
//!
//! Everything here is pure: the CLI (`logalert import-elastalert`, `logalert import-metric-filters`)
//! reads the files and prints the result.

pub mod elastalert;
pub mod metric_filters;
pub mod query;
pub mod yaml;

use yaml::{comment, scalar};

/// One converted rule before it is written: keys in order (values already YAML), and comments.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    /// Where it came from (shown in a comment above it).
    pub file: String,
    pub name: String,
    pub keys: Vec<(String, String)>,
    pub notes: Vec<String>,
    /// Why this rule must not run as converted (its filter or type did not carry over): it is
    /// written commented out.
    pub blocked: Option<String>,
}

impl Draft {
    /// Add `key: value`; an empty list is dropped with a note (logalert refuses `key: []`, and
    /// ElastAlert treats an empty list as unset).
    pub fn set(&mut self, key: &str, value: String) {
        if value == "[]" {
            self.notes
                .push(format!("`{key}: []` dropped (an empty list means unset)"));
            return;
        }
        self.keys.push((key.to_string(), value));
    }

    /// The rule as an item of the `rules:` list.
    pub fn render(&self) -> String {
        let mut s = comment(&format!("from {}", self.file), "  ");
        for n in &self.notes {
            s.push_str(&comment(n, "  "));
        }
        s.push_str(&format!("  - name: {}\n", scalar(&self.name)));
        for (k, v) in &self.keys {
            s.push_str(&format!("    {k}: {v}\n"));
        }
        s
    }
}

/// Rules written: live when this logalert's schema accepts them, commented out (with the
/// schema's reasons) when it does not — so the file always validates.
pub(crate) struct Placed {
    pub body: String,
    pub usable: usize,
    pub unusable: usize,
    /// Drafts written commented out, with why.
    pub refused: Vec<(Draft, String)>,
}

pub(crate) fn place(drafts: &[Draft]) -> Placed {
    let mut p = Placed {
        body: String::new(),
        usable: 0,
        unusable: 0,
        refused: Vec::new(),
    };
    for d in drafts {
        let text = d.render();
        p.body.push('\n');
        let verdict = match &d.blocked {
            Some(why) => Err(why.clone()),
            None => crate::rules::load(&format!("version: 1\nrules:\n{text}"), &d.file)
                .map(|_| ())
                .map_err(|errors| {
                    let why: Vec<String> = errors.0.iter().map(|e| e.message.clone()).collect();
                    format!("this logalert does not accept it: {}", why.join("; "))
                }),
        };
        match verdict {
            Ok(()) => {
                p.usable += 1;
                p.body.push_str(&text);
            }
            Err(why) => {
                p.unusable += 1;
                p.body.push_str(&comment(
                    &format!("NOT ACTIVE ({why}):\n{}", text.trim_end()),
                    "  ",
                ));
                p.refused.push((d.clone(), why));
            }
        }
    }
    p
}

/// The file around the rules: a header comment, `version: 1`, `rules:` (`[]` when none is live).
pub(crate) fn document(header: &str, placed: &Placed) -> String {
    let mut yaml = comment(header, "");
    yaml.push_str("version: 1\nrules:");
    if placed.usable == 0 {
        yaml.push_str(" []");
    }
    yaml.push('\n');
    yaml.push_str(&placed.body);
    yaml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_lists_are_dropped_and_drafts_the_schema_refuses_are_commented_out() {
        let mut d = Draft {
            file: "f.yaml".into(),
            name: "r".into(),
            keys: Vec::new(),
            notes: Vec::new(),
            blocked: None,
        };
        d.set("filter_pattern", "ERROR".into());
        d.set("query_key", "[]".into());
        assert_eq!(
            d.keys,
            [("filter_pattern".to_string(), "ERROR".to_string())]
        );
        assert!(d.notes[0].contains("`query_key: []` dropped"));
        let placed = place(std::slice::from_ref(&d));
        assert_eq!((placed.usable, placed.unusable), (1, 0));
        assert!(crate::rules::load(&document("h", &placed), "out.yaml").is_ok());

        d.set("severty", "error".into());
        let placed = place(&[d]);
        assert_eq!((placed.usable, placed.unusable), (0, 1));
        assert!(
            placed
                .body
                .contains("# NOT ACTIVE (this logalert does not accept it: "),
            "{}",
            placed.body
        );
        assert!(
            placed
                .body
                .lines()
                .all(|l| l.is_empty() || l.trim_start().starts_with('#'))
        );
    }
}
