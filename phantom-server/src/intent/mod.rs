//! The intent engine: does this tool call serve the mission the user stated?
//!
//! Every proposed call goes through up to three tiers, cheapest first. Each
//! tier decides alone when it is sure and otherwise hands its evidence on:
//!
//! 1. policy ([`analysis`] and [`cedar`], microseconds): the token's scopes, the operation's risk,
//!    sensitive resources, whether the mission asks for this kind of change at
//!    all and where the call's key arguments come from (the mission's words,
//!    the user's own data, or only third-party content), then the Cedar rules.
//! 2. [`semantic`] (milliseconds): how close the call is to the mission in
//!    meaning, from MiniLM sentence embeddings (or a lexical fallback when no
//!    weights are installed), combined with the policy evidence into a
//!    calibrated alignment score.
//! 3. [`judge`] (hundreds of milliseconds, only on escalation): an
//!    OpenAI-compatible LLM asked for a structured verdict within a time
//!    budget; when it is late or talks nonsense the earlier tiers decide.
//!
//! [`IntentEngine::evaluate`] never fails: a tier that breaks falls back and
//! says so in the [`Assessment`]'s signals.

pub mod analysis;
pub mod cache;
pub mod calibration;
pub mod cedar;
pub mod config;
pub mod engine;
pub mod eval;
pub mod judge;
pub mod lexicon;
pub mod model;
pub mod semantic;
pub mod types;

pub use config::{FailMode, IntentConfig, JudgeConfig, JudgeResponseFormat, Thresholds};
pub use engine::IntentEngine;
pub use types::{
    Assessment, Operation, PastAction, Proposal, SensitiveClass, Signal, SlotRole, Tier,
    ToolAnnotations, Verdict,
};

/// Why the engine could not be built or a tier could not run.
#[derive(Debug, thiserror::Error)]
pub enum IntentError {
    /// The embedding model could not be loaded or run.
    #[error("embedding model: {0}")]
    Model(String),
    /// The model files could not be fetched or verified.
    #[error("model fetch: {0}")]
    Fetch(String),
    /// A Cedar policy did not parse or could not be evaluated.
    #[error("policy: {0}")]
    Policy(String),
    /// The LLM judge is misconfigured or failed.
    #[error("judge: {0}")]
    Judge(String),
    /// The configuration is inconsistent.
    #[error("configuration: {0}")]
    Config(String),
    /// Reading evaluation cases failed.
    #[error("evaluation input: {0}")]
    Eval(String),
}
