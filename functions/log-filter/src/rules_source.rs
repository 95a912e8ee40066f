//! Where the deployed function gets its rules.
//!
//! * **Bundled** — the repository's root `rules.yaml`, compiled in with `include_str!`, so a build
//!   deploys exactly the reviewed file ([`BUNDLED_RULES`]).
//! * **SSM override** — when `RULES_SSM_PARAMETER` names an SSM parameter (String or SecureString),
//!   its value replaces the bundled file entirely (no merging), read once per cold start.
//!
//! Invalid rules — in either place — or an unreadable parameter fail the cold start with every
//! error listed: the function never runs with half its rules.

use logalert::rules::{self, RuleErrors, RuleSet};

/// The repository's `rules.yaml`, as built.
pub const BUNDLED_RULES: &str = include_str!("../../../rules.yaml");

/// Why the rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RulesSourceError {
    #[error("invalid rules in {origin}:\n{errors}")]
    Invalid { origin: String, errors: RuleErrors },
    #[error("cannot read rules from SSM parameter {name:?}: {message}")]
    Ssm { name: String, message: String },
}

/// The rules and where they came from (`bundled rules.yaml` or `ssm:NAME`).
#[derive(Debug)]
pub struct LoadedRules {
    pub rules: RuleSet,
    pub origin: String,
}

/// Load the rules: from the SSM parameter `parameter` when given, else the bundled file.
pub async fn load(
    ssm: &aws_sdk_ssm::Client,
    parameter: Option<&str>,
) -> Result<LoadedRules, RulesSourceError> {
    let (source, origin) = match parameter.map(str::trim).filter(|p| !p.is_empty()) {
        None => (BUNDLED_RULES.to_string(), "bundled rules.yaml".to_string()),
        Some(name) => {
            let out = ssm
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| RulesSourceError::Ssm {
                    name: name.to_string(),
                    message: aws_sdk_ssm::error::DisplayErrorContext(&e).to_string(),
                })?;
            let value =
                out.parameter
                    .and_then(|p| p.value)
                    .ok_or_else(|| RulesSourceError::Ssm {
                        name: name.to_string(),
                        message: "the parameter has no value".to_string(),
                    })?;
            (value, format!("ssm:{name}"))
        }
    };
    let rules = rules::load(&source, &origin).map_err(|errors| RulesSourceError::Invalid {
        origin: origin.clone(),
        errors,
    })?;
    Ok(LoadedRules { rules, origin })
}
