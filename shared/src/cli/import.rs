//! `logalert import-elastalert` and `logalert import-metric-filters`: migration in one command.
//! The conversions live in [`crate::import`]; this module reads the files, prints the rules file
//! (stdout or `--out`), the warnings (stderr) and a summary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::report::{self, EXIT_USAGE, Place, plural};
use crate::import::elastalert::{self, Options, SourceFile};
use crate::import::metric_filters;
use crate::import::query::Convert;

const ELASTALERT_HELP: &str = "\
Each FILE is an ElastAlert rule file; each DIR is searched for *.yaml / *.yml rule files (with
subdirectories, as ElastAlert's scan_subdirectories). A config.yaml among them (or --config) gives
global options: rule options in it (query_key, realert, alerters, …) apply to every rule that does
not set them, and its rules_folder is read when no FILE is given.

The rules file goes to stdout (or --out). What cannot be carried over is a comment on its rule and
a warning on stderr. Webhook URLs and integration keys are never written into the rules file: the
header lists the channels to add to the webhook secret, and --channels-file writes them (mode 600).

Exit status:
  0  at least one rule was converted (warnings may say what was left behind)
  2  usage error, or nothing usable (no readable rule file, or no rule this logalert accepts)

Examples:
  logalert import-elastalert /etc/elastalert/rules > rules.yaml && logalert validate rules.yaml
  logalert import-elastalert --config /etc/elastalert/config.yaml --log-group '/aws/lambda/*'
  logalert import-elastalert rules/ --channels-file webhooks.json --out rules.yaml";

/// Convert ElastAlert rule files into a logalert rules file.
#[derive(Debug, clap::Args)]
#[command(after_help = ELASTALERT_HELP)]
pub struct ElastAlertArgs {
    /// Rule files or directories of them.
    #[arg(value_name = "FILE|DIR")]
    pub inputs: Vec<PathBuf>,
    /// ElastAlert's global config.yaml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// `log_groups` of every converted rule (ElastAlert's `index` has no CloudWatch equivalent);
    /// repeatable.
    #[arg(long = "log-group", value_name = "GLOB")]
    pub log_groups: Vec<String>,
    /// Fields searched as full text (a value matches as a substring); repeatable. Bare words search
    /// the first. [default: message]
    #[arg(long = "text-field", value_name = "FIELD")]
    pub text_fields: Vec<String>,
    /// Write the channel → destination map (with the webhook URLs and keys) for the webhook secret.
    #[arg(long, value_name = "FILE")]
    pub channels_file: Option<PathBuf>,
    /// Write the rules file here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

const METRIC_FILTERS_HELP: &str = "\
FILE is the JSON of `aws logs describe-metric-filters` (`-` for stdin); --alarms the JSON of
`aws cloudwatch describe-alarms`. Each metric filter becomes a rule on its log group with the same
pattern; an alarm counting its matches (Sum of 1, or SampleCount; > or >= a threshold, one period)
becomes a frequency rule with that threshold and period.

Exit status:
  0  at least one rule was converted
  2  usage error, a file that cannot be read or is not that JSON, or no metric filter in it

Examples:
  aws logs describe-metric-filters > filters.json
  aws cloudwatch describe-alarms > alarms.json
  logalert import-metric-filters filters.json --alarms alarms.json > rules.yaml
  aws logs describe-metric-filters --log-group-name /aws/lambda/pay | logalert import-metric-filters -";

/// Convert CloudWatch metric filters (and their alarms) into a logalert rules file.
#[derive(Debug, clap::Args)]
#[command(after_help = METRIC_FILTERS_HELP)]
pub struct MetricFiltersArgs {
    /// `aws logs describe-metric-filters` output; `-` for stdin.
    pub filters: PathBuf,
    /// `aws cloudwatch describe-alarms` output.
    #[arg(long, value_name = "FILE")]
    pub alarms: Option<PathBuf>,
    /// Write the rules file here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn read(path: &Path) -> Result<String, ExitCode> {
    let name = path.display().to_string();
    let result = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    };
    result.map_err(|e| report::input_error(&name, format_args!("cannot read: {e}")))
}

fn write_out(out: Option<&Path>, text: &str) -> Result<(), ExitCode> {
    match out {
        None => {
            print!("{text}");
            Ok(())
        }
        Some(p) => std::fs::write(p, text).map_err(|e| {
            report::input_error(&p.display().to_string(), format_args!("cannot write: {e}"))
        }),
    }
}

/// Rule files under `dir`, sorted, recursively; hidden entries skipped.
fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rule_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
    Ok(())
}

/// A YAML file that is ElastAlert's global config rather than a rule.
fn is_config(text: &str) -> bool {
    match crate::import::yaml::load(text) {
        Ok(docs) => docs.first().is_some_and(|d| {
            ["rules_folder", "es_host", "writeback_index", "run_every"]
                .iter()
                .any(|k| d.get(k).is_some())
                && d.get("filter").is_none()
        }),
        Err(_) => false,
    }
}

pub fn run_elastalert(args: ElastAlertArgs) -> ExitCode {
    let mut config: Option<SourceFile> = None;
    if let Some(c) = &args.config {
        match read(c) {
            Ok(text) => config = Some(SourceFile::new(c.display().to_string(), text)),
            Err(code) => return code,
        }
    }
    let mut inputs = args.inputs.clone();
    if inputs.is_empty() {
        let folder = config.as_ref().and_then(|c| {
            crate::import::yaml::load(&c.text)
                .ok()
                .and_then(|d| d.first()?.get("rules_folder")?.as_str().map(PathBuf::from))
                .map(|f| {
                    let base = Path::new(&c.name).parent().unwrap_or(Path::new("."));
                    if f.is_absolute() { f } else { base.join(f) }
                })
        });
        match folder {
            Some(f) => inputs.push(f),
            None => {
                report::error(
                    None,
                    "import-elastalert: give rule files or directories (or --config with a rules_folder)",
                );
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }
    let mut paths = Vec::new();
    let mut unreadable = 0usize;
    for i in &inputs {
        if i.is_dir() {
            if let Err(e) = rule_files(i, &mut paths) {
                report::error(
                    Some(Place::file(&i.display().to_string())),
                    format_args!("cannot read: {e}"),
                );
                unreadable += 1;
            }
        } else {
            paths.push(i.clone());
        }
    }
    let mut files = Vec::new();
    for p in &paths {
        let name = p.display().to_string();
        match std::fs::read_to_string(p) {
            Ok(text) if config.is_none() && is_config(&text) => {
                config = Some(SourceFile::new(name, text));
            }
            Ok(text) if is_config(&text) => {
                report::warning(Some(Place::file(&name)), "a second global config: ignored");
            }
            Ok(text) => files.push(SourceFile::new(name, text)),
            Err(e) => {
                report::error(Some(Place::file(&name)), format_args!("cannot read: {e}"));
                unreadable += 1;
            }
        }
    }
    let opts = Options {
        query: if args.text_fields.is_empty() {
            Convert::default()
        } else {
            Convert {
                text_fields: args.text_fields.clone(),
            }
        },
        log_groups: args.log_groups.clone(),
    };
    let out = elastalert::convert(&files, config.as_ref(), &opts);
    for w in &out.warnings {
        match (&w.rule, w.at) {
            (_, Some((line, column))) => {
                report::error(Some(Place::at(&w.file, line, column)), &w.message)
            }
            (Some(r), None) => report::warning(
                Some(Place::file(&w.file)),
                format_args!("rule `{r}`: {}", w.message),
            ),
            (None, None) => report::warning(Some(Place::file(&w.file)), &w.message),
        }
    }
    if let Err(code) = write_out(args.out.as_deref(), &out.yaml) {
        return code;
    }
    if let Some(path) = &args.channels_file {
        let map: serde_json::Map<String, serde_json::Value> = out
            .channels
            .iter()
            .map(|c| (c.name.clone(), c.entry.clone()))
            .collect();
        let text = serde_json::to_string_pretty(&map).expect("JSON values serialize") + "\n";
        if let Err(e) = write_private(path, &text) {
            return report::input_error(
                &path.display().to_string(),
                format_args!("cannot write: {e}"),
            );
        }
    }
    report::note(format_args!(
        "{} converted from {}{}; {}",
        plural(out.usable as u64, "rule", "rules"),
        plural(files.len() as u64, "file", "files"),
        if out.unusable > 0 {
            format!(" ({} written commented out)", out.unusable)
        } else {
            String::new()
        },
        {
            let unreadable = unreadable + out.unreadable;
            let warnings = out.warnings.len() - out.unreadable.min(out.warnings.len());
            let mut s = plural(warnings as u64, "warning", "warnings");
            if unreadable > 0 {
                s.push_str(&format!(", {unreadable} unreadable"));
            }
            s
        },
    ));
    if out.usable == 0 {
        report::error(None, "nothing usable was converted");
        return ExitCode::from(EXIT_USAGE);
    }
    ExitCode::SUCCESS
}

/// Write a file only its owner can read (it holds webhook URLs).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(text.as_bytes())
}

pub fn run_metric_filters(args: MetricFiltersArgs) -> ExitCode {
    let filters = match read(&args.filters) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let alarms = match &args.alarms {
        Some(a) => match read(a) {
            Ok(t) => Some(t),
            Err(code) => return code,
        },
        None => None,
    };
    let out = match metric_filters::convert(&filters, alarms.as_deref()) {
        Ok(o) => o,
        Err(e) => {
            let file = match (&args.alarms, e.contains("describe-alarms")) {
                (Some(a), true) => a.display().to_string(),
                _ => args.filters.display().to_string(),
            };
            return report::input_error(&file, e);
        }
    };
    for w in &out.warnings {
        report::warning(Some(Place::file(&args.filters.display().to_string())), w);
    }
    if let Err(code) = write_out(args.out.as_deref(), &out.yaml) {
        return code;
    }
    report::note(format_args!(
        "{} converted{}; {}",
        plural(out.usable as u64, "rule", "rules"),
        if out.unusable > 0 {
            format!(" ({} written commented out)", out.unusable)
        } else {
            String::new()
        },
        plural(out.warnings.len() as u64, "warning", "warnings")
    ));
    if out.usable == 0 {
        report::error(None, "nothing usable was converted (no metric filter?)");
        return ExitCode::from(EXIT_USAGE);
    }
    ExitCode::SUCCESS
}
