//! The engine's configuration: one struct, one place for every default.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How the engine is set up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct IntentConfig {
    /// Directory holding all-MiniLM-L6-v2 (`model.safetensors`,
    /// `tokenizer.json`, `config.json`). `None`, or a directory without the
    /// files, selects the lexical fallback.
    pub model_dir: Option<PathBuf>,
    /// Refuse to start when `model_dir` is set but the model cannot be loaded,
    /// instead of falling back to lexical scoring.
    pub require_model: bool,
    /// Load the built-in Cedar policy set.
    pub default_policies: bool,
    /// Extra Cedar policy text, added to (or replacing) the defaults.
    pub policies: Vec<String>,
    /// The LLM judge; `None` keeps the decision within tiers 1 and 2.
    pub judge: Option<JudgeConfig>,
    /// Score thresholds.
    pub thresholds: Thresholds,
    /// Spending above this many US dollars needs a human (the concept paper's $100).
    pub approval_spend_usd: f64,
    /// Missions whose embeddings are cached.
    pub mission_cache: usize,
    /// Action texts whose embeddings are cached (384 floats, 1.5 KiB each).
    pub action_cache: usize,
}

impl Default for IntentConfig {
    fn default() -> Self {
        Self {
            model_dir: None,
            require_model: false,
            default_policies: true,
            policies: Vec::new(),
            judge: None,
            thresholds: Thresholds::default(),
            approval_spend_usd: 100.0,
            mission_cache: 256,
            action_cache: 4096,
        }
    }
}

/// Where the calibrated score turns into a verdict.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// At or above this score a call is allowed without asking the judge.
    pub allow: f64,
    /// Below this score a state-changing call is blocked without asking the judge.
    pub block: f64,
    /// Below this score even a read-only call is blocked.
    pub block_read: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            allow: 0.6,
            block: 0.3,
            block_read: 0.15,
        }
    }
}

/// What to do with a state-changing call when the judge was needed but could
/// not answer (late, unreachable, or nonsense).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    /// Block it.
    Closed,
    /// Hold it for a human.
    Hold,
    /// Let the earlier tiers' lean decide.
    Open,
}

/// How the judge is asked to format its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JudgeResponseFormat {
    /// `response_format: json_schema` with the verdict's schema (strict).
    JsonSchema,
    /// `response_format: json_object`, for servers without schema support.
    JsonObject,
    /// No response format; the prompt still asks for JSON.
    None,
}

/// The LLM judge: any OpenAI-compatible chat-completions endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JudgeConfig {
    /// Base URL including `/v1`, e.g. `http://127.0.0.1:8088/v1`.
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// API key; never logged.
    #[serde(skip_serializing)]
    pub api_key: Option<String>,
    /// Time budget for the whole evaluation; the judge gets what is left.
    #[serde(with = "millis")]
    pub budget: Duration,
    /// What a state-changing call gets when the judge cannot answer.
    pub on_failure: FailMode,
    /// Identical questions answered from memory; 0 disables the cache.
    pub cache_capacity: usize,
    /// Response format asked of the endpoint.
    pub response_format: JudgeResponseFormat,
    /// Most tokens the judge may answer with.
    pub max_tokens: u32,
}

impl Default for JudgeConfig {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8088/v1".to_owned(),
            model: "phantom-judge".to_owned(),
            api_key: None,
            budget: Duration::from_millis(400),
            on_failure: FailMode::Closed,
            cache_capacity: 1024,
            response_format: JudgeResponseFormat::JsonSchema,
            max_tokens: 120,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}
