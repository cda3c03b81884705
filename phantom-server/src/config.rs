//! The server's configuration: one struct of defaults, overridden by an
//! optional TOML file, then the environment, then flags.
//!
//! Flags and environment variables come from the same clap definition, so
//! every setting has exactly one flag (`--listen`) and one variable
//! (`PHANTOM_LISTEN`). The TOML file uses the same names (`listen = ...`).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use phantom_sdk::HumanDuration;
use serde::{Deserialize, Serialize};

/// A setting that must never be printed: `Debug`, `Display` and
/// serialisation show `[redacted]`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Redacted(String);

impl Redacted {
    /// The secret value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Redacted {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Redacted {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

/// Where the server's clock comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    /// The system clock.
    System,
    /// A clock that only moves when told to (`POST /v1/test/clock`): for
    /// tests of expiry that must not wait. Never use it in production.
    Manual,
}

/// What an authorize call decides when the LLM judge is late or talks
/// nonsense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum JudgeFailure {
    /// State-changing calls are blocked; reads follow the earlier tiers.
    Closed,
    /// State-changing calls wait for a human.
    Hold,
    /// The earlier tiers' evidence decides alone.
    Open,
}

/// The effective configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// Address the HTTP API listens on.
    pub listen: SocketAddr,
    /// Directory of the SQLite state (`phantom.db`).
    pub data_dir: PathBuf,
    /// A management API key given by the operator (`phk_…`), accepted in
    /// addition to the keys stored in the database.
    pub api_key: Option<Redacted>,
    /// `tracing` filter, e.g. `info` or `phantom=debug`.
    pub log: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long an approval request waits before it expires as a denial.
    pub approval_ttl: HumanDuration,
    /// Spending above this many US dollars needs a human's approval.
    pub spend_approval_usd: f64,
    /// Resources (`type:id`, or a prefix ending in `*`) whose destruction
    /// needs a human's approval.
    pub critical_resources: Vec<String>,
    /// An alignment score below this blocks the action.
    pub intent_block_below: f64,
    /// Base URL of an OpenAI-compatible endpoint for the LLM judge; the
    /// judge is off without it.
    pub judge_base_url: Option<String>,
    /// The judge's model name.
    pub judge_model: String,
    /// The judge endpoint's API key.
    pub judge_api_key: Option<Redacted>,
    /// Time the judge may take before the built-in score stands.
    pub judge_budget: HumanDuration,
    /// What a late or malformed judge answer leads to.
    pub judge_on_failure: JudgeFailure,
    /// Where the clock comes from.
    pub clock: ClockMode,
    /// Directory of the all-MiniLM-L6-v2 weights for the intent engine's
    /// semantic tier (`phantom model fetch` puts them there); by default
    /// `models/minilm` under the data directory. Without them a lexical
    /// fallback runs.
    pub model_dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7700)),
            data_dir: PathBuf::from("phantom-data"),
            api_key: None,
            log: "info".to_owned(),
            // Room for a full write (1000 tuples in their longer, field-by-field
            // form), and no more.
            max_body_bytes: 256 * 1024,
            approval_ttl: Duration::from_secs(48 * 3600).into(),
            spend_approval_usd: 100.0,
            critical_resources: Vec::new(),
            intent_block_below: 0.35,
            judge_base_url: None,
            judge_model: "gpt-4o-mini".to_owned(),
            judge_api_key: None,
            judge_budget: Duration::from_millis(400).into(),
            judge_on_failure: JudgeFailure::Closed,
            clock: ClockMode::System,
            model_dir: None,
        }
    }
}

/// Settings given by flags, environment or file; unset ones leave the layer
/// below in place.
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Address to listen on [default: 127.0.0.1:7700].
    #[arg(long, env = "PHANTOM_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory for the SQLite state [default: ./phantom-data].
    #[arg(long, env = "PHANTOM_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// A management API key (`phk_…`) to accept.
    #[arg(long, env = "PHANTOM_API_KEY", hide_env_values = true)]
    pub api_key: Option<Redacted>,
    /// Log filter [default: info].
    #[arg(long, env = "PHANTOM_LOG")]
    pub log: Option<String>,
    /// Largest request body, in bytes [default: 262144].
    #[arg(long, env = "PHANTOM_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// How long approvals wait before expiring as a denial [default: 48h].
    #[arg(long, env = "PHANTOM_APPROVAL_TTL")]
    pub approval_ttl: Option<HumanDuration>,
    /// Spending above this needs approval, in USD [default: 100].
    #[arg(long, env = "PHANTOM_SPEND_APPROVAL_USD")]
    pub spend_approval_usd: Option<f64>,
    /// Critical resources, comma-separated (`db:prod,bucket:*`).
    #[arg(long, env = "PHANTOM_CRITICAL_RESOURCES", value_delimiter = ',')]
    pub critical_resources: Option<Vec<String>>,
    /// Alignment score below which actions are blocked [default: 0.35].
    #[arg(long, env = "PHANTOM_INTENT_BLOCK_BELOW")]
    pub intent_block_below: Option<f64>,
    /// OpenAI-compatible base URL for the LLM judge (off when unset).
    #[arg(long, env = "PHANTOM_JUDGE_BASE_URL")]
    pub judge_base_url: Option<String>,
    /// The judge's model [default: gpt-4o-mini].
    #[arg(long, env = "PHANTOM_JUDGE_MODEL")]
    pub judge_model: Option<String>,
    /// The judge endpoint's API key.
    #[arg(long, env = "PHANTOM_JUDGE_API_KEY", hide_env_values = true)]
    pub judge_api_key: Option<Redacted>,
    /// Time budget of the judge [default: 400ms].
    #[arg(long, env = "PHANTOM_JUDGE_BUDGET")]
    pub judge_budget: Option<HumanDuration>,
    /// When the judge fails: closed, hold or open [default: closed].
    #[arg(long, env = "PHANTOM_JUDGE_ON_FAILURE", value_enum)]
    pub judge_on_failure: Option<JudgeFailure>,
    /// Clock source; `manual` is for tests only [default: system].
    #[arg(long, env = "PHANTOM_CLOCK", value_enum)]
    pub clock: Option<ClockMode>,
    /// MiniLM weights for the intent engine [default: <data-dir>/models/minilm].
    #[arg(long, env = "PHANTOM_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
}

/// Why the configuration could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for these settings.
    #[error("invalid config file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<toml::de::Error>,
    },
    /// A value is out of range.
    #[error("invalid setting `{name}`: {problem}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// What is wrong.
        problem: String,
    },
}

impl Config {
    /// Defaults, then `file` if given, then `cli` (flags and environment).
    ///
    /// # Errors
    ///
    /// Fails if the file cannot be read or parsed, or a value is invalid.
    pub fn resolve(file: Option<&Path>, cli: Overrides) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let overrides: Overrides =
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.to_owned(),
                    source: Box::new(source),
                })?;
            config.apply(overrides);
        }
        config.apply(cli);
        config.validate()?;
        Ok(config)
    }

    fn apply(&mut self, o: Overrides) {
        macro_rules! take {
            ($($field:ident),*) => { $( if let Some(v) = o.$field { self.$field = v; } )* };
        }
        take!(
            listen,
            data_dir,
            log,
            max_body_bytes,
            approval_ttl,
            spend_approval_usd,
            critical_resources,
            intent_block_below,
            judge_model,
            judge_budget,
            judge_on_failure,
            clock
        );
        if o.api_key.is_some() {
            self.api_key = o.api_key;
        }
        if o.judge_base_url.is_some() {
            self.judge_base_url = o.judge_base_url;
        }
        if o.judge_api_key.is_some() {
            self.judge_api_key = o.judge_api_key;
        }
        if o.model_dir.is_some() {
            self.model_dir = o.model_dir;
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |name, problem: &str| {
            Err(ConfigError::Invalid {
                name,
                problem: problem.to_owned(),
            })
        };
        if !(0.0..=1.0).contains(&self.intent_block_below) {
            return invalid("intent_block_below", "must be between 0 and 1");
        }
        if !self.spend_approval_usd.is_finite() || self.spend_approval_usd < 0.0 {
            return invalid("spend_approval_usd", "must be a non-negative amount");
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.max_body_bytes) {
            return invalid("max_body_bytes", "must be between 1 KiB and 16 MiB");
        }
        if let Some(key) = &self.api_key
            && let Err(e) =
                phantom_sdk::Secret::parse(phantom_sdk::SecretKind::ApiKey, key.expose())
        {
            return invalid("api_key", &format!("not a Phantom API key: {e}"));
        }
        Ok(())
    }

    /// Where the MiniLM weights are looked for.
    pub fn model_dir(&self) -> PathBuf {
        self.model_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("models").join("minilm"))
    }

    /// The configuration as one JSON line with secrets redacted, for the
    /// start-up log.
    pub fn redacted_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("<unprintable: {e}>"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_which_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("phantom.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nlog = \"debug\"\n").unwrap();

        let cli = Overrides {
            log: Some("warn".to_owned()),
            ..Overrides::default()
        };
        let config = Config::resolve(Some(&file), cli).unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.log, "warn");
        assert_eq!(config.spend_approval_usd, 100.0);
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("phantom.toml");
        std::fs::write(&file, "lissen = \"127.0.0.1:9000\"\n").unwrap();
        let err = Config::resolve(Some(&file), Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("lissen"), "{err}");
    }

    #[test]
    fn secrets_never_appear_in_the_logged_configuration() {
        let key = phantom_sdk::Secret::from_random(phantom_sdk::SecretKind::ApiKey, [9; 16]);
        let cli = Overrides {
            api_key: Some(Redacted(key.expose().to_owned())),
            judge_api_key: Some(Redacted("sk-live-123".to_owned())),
            ..Overrides::default()
        };
        let config = Config::resolve(None, cli).unwrap();
        let logged = config.redacted_json();
        assert!(!logged.contains(key.expose()));
        assert!(!logged.contains("sk-live-123"));
        assert!(logged.contains("[redacted]"));
    }
}
