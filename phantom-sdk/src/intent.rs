//! Asking the intent engine directly whether an action serves a mission.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::authorize::{Action, Verdict};

/// `POST /v1/intent/evaluate`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateIntent {
    /// The mission's intent, in the user's words.
    pub mission: String,
    /// The action to judge.
    pub action: Action,
}

/// The intent engine's judgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IntentEvaluation {
    /// How well the action serves the mission, 0 to 1.
    pub alignment_score: f64,
    /// What the intent engine alone would decide.
    pub decision: Verdict,
    /// Why, for people.
    pub reason: String,
    /// Which tier decided: `policy`, `semantic` or `judge`.
    pub tier: String,
    /// Time spent judging.
    pub latency_ms: f64,
}
