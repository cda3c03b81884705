//! What flows through a tool service: a call in, an outcome out.

use serde::{Deserialize, Serialize};

use crate::authorize::{Action, Decision};
use crate::mission::Compensation;
use crate::provenance::Source;

/// One tool call an agent wants to make, with what the tool declares about
/// itself (scope, resource, risk, description) already filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The model's id for the call, echoed back with its result.
    pub call_id: Option<String>,
    /// The tool, its arguments and its declarations.
    pub action: Action,
    /// Whose content the tool returns, as the tool declares it; inferred
    /// from the tool's name (conservatively: third party) when absent.
    pub source: Option<Source>,
}

impl ToolCall {
    /// A call of `tool` with `args` and nothing declared.
    pub fn new(tool: impl Into<String>, args: serde_json::Value) -> Self {
        Self {
            call_id: None,
            action: Action::new(tool, args),
            source: None,
        }
    }
}

/// What a tool returns: its result, and how to undo what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolOutput {
    /// The result the model sees.
    pub content: serde_json::Value,
    /// How to undo the call, if it changed something that can be undone.
    pub compensation: Option<Compensation>,
}

impl ToolOutput {
    /// A result with nothing to undo.
    pub fn new(content: serde_json::Value) -> Self {
        Self {
            content,
            compensation: None,
        }
    }

    /// The same result, undone by `compensation` on rollback.
    pub fn undone_by(mut self, compensation: Compensation) -> Self {
        self.compensation = Some(compensation);
        self
    }
}

/// What happened to a call that went through Phantom: it ran, or Phantom
/// said no. A denial is a value the agent loop hands back to the model.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutcome {
    /// The call was allowed and ran.
    Ran {
        /// What the tool returned.
        output: ToolOutput,
        /// The ALLOW it ran under.
        decision: Decision,
    },
    /// Phantom did not let the call run.
    Denied(Decision),
}

impl ToolOutcome {
    /// The text to give the model as the tool's result.
    pub fn to_model_text(&self) -> String {
        match self {
            Self::Ran { output, .. } => match &output.content {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            },
            Self::Denied(decision) => format!(
                "Phantom refused this call ({}): {}. Do not retry it; continue the user's task another way or explain why it cannot be done.",
                decision.code, decision.reason
            ),
        }
    }

    /// Phantom's decision on the call, whatever it was.
    pub fn decision(&self) -> &Decision {
        match self {
            Self::Ran { decision, .. } | Self::Denied(decision) => decision,
        }
    }

    /// The decision, when the call was denied.
    pub fn denial(&self) -> Option<&Decision> {
        match self {
            Self::Ran { .. } => None,
            Self::Denied(decision) => Some(decision),
        }
    }
}
