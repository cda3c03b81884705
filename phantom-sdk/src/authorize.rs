//! The authorize call: an action an agent wants to take, and Phantom's
//! decision about it.
//!
//! A denial is a [`Decision`] value, never an error: the agent loop hands it
//! back to the model so the model can change course.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a tool call would do, as the tool declares it. Phantom infers what a
/// tool leaves out from its name and arguments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    /// Money the call spends, in US dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spend_usd: Option<f64>,
    /// The call deletes or overwrites something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive: Option<bool>,
    /// The call only reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// The call sends or shares data outside (email, upload, post).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<bool>,
}

/// One tool call an agent wants to make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// The tool's name, e.g. `read_file`.
    pub tool: String,
    /// The scope the call needs, e.g. `gmail.readonly`. When absent the
    /// tool's name stands for its scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The object the call touches, `type:id`, checked in the graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The relation the user needs on `resource`; by default `viewer` for a
    /// read-only call and `editor` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// The call's arguments.
    #[serde(default = "empty_object")]
    pub args: serde_json::Value,
    /// What the tool declares about its effects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<Risk>,
    /// The tool's description, which helps the intent engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

impl Action {
    /// An action for `tool` with `args` and nothing else declared.
    ///
    /// # Example
    ///
    /// ```
    /// let action = phantom_sdk::Action::new("read_file", serde_json::json!({"path": "/notes.md"}));
    /// assert_eq!(action.tool, "read_file");
    /// ```
    pub fn new(tool: impl Into<String>, args: serde_json::Value) -> Self {
        Self {
            tool: tool.into(),
            scope: None,
            resource: None,
            relation: None,
            args,
            risk: None,
            description: None,
        }
    }
}

/// `POST /v1/authorize`, sent with the ghost token as bearer.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    /// The call to decide on.
    pub action: Action,
    /// Set when retrying an action a human approved: the approval must be
    /// for this token and this very action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}

/// The three answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Go ahead; one action of the token's budget is spent.
    Allow,
    /// Do not run the call.
    Block,
    /// A human must approve first; wait on `approval_id`.
    RequireApproval,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Allow => "ALLOW",
            Self::Block => "BLOCK",
            Self::RequireApproval => "REQUIRE_APPROVAL",
        })
    }
}

/// Why a decision came out as it did, for machines; `reason` says it for
/// people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionCode {
    /// Every check passed.
    Allowed,
    /// A human approved this action.
    Approved,
    /// The token is not known (or not a well-formed token).
    TokenUnknown,
    /// The token is past its `max_access`.
    TokenExpired,
    /// The token's `max_actions` are spent.
    TokenExhausted,
    /// The token was revoked.
    TokenRevoked,
    /// The action needs a scope the token does not grant.
    OutOfScope,
    /// The token's mission is not running (paused, ended or unknown).
    MissionNotRunning,
    /// The user the agent acts for has no such relation to the resource.
    GraphDenied,
    /// The action does not serve the mission's intent.
    IntentMisaligned,
    /// The intent engine wants a human to look first.
    IntentUncertain,
    /// The action spends more than the approval threshold.
    SpendOverThreshold,
    /// The action destroys something marked critical.
    CriticalResource,
    /// The approval given does not match this token and action, or was
    /// already used.
    ApprovalInvalid,
    /// A human denied the approval, or it expired or was withdrawn.
    ApprovalDenied,
}

impl DecisionCode {
    /// The code's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Approved => "approved",
            Self::TokenUnknown => "token_unknown",
            Self::TokenExpired => "token_expired",
            Self::TokenExhausted => "token_exhausted",
            Self::TokenRevoked => "token_revoked",
            Self::OutOfScope => "out_of_scope",
            Self::MissionNotRunning => "mission_not_running",
            Self::GraphDenied => "graph_denied",
            Self::IntentMisaligned => "intent_misaligned",
            Self::IntentUncertain => "intent_uncertain",
            Self::SpendOverThreshold => "spend_over_threshold",
            Self::CriticalResource => "critical_resource",
            Self::ApprovalInvalid => "approval_invalid",
            Self::ApprovalDenied => "approval_denied",
        }
    }
}

impl fmt::Display for DecisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Phantom's answer to an authorize call. Written to the audit trail before
/// it is returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    /// ALLOW, BLOCK or REQUIRE_APPROVAL.
    pub decision: Verdict,
    /// Why, for machines.
    pub code: DecisionCode,
    /// Why, for people.
    pub reason: String,
    /// How well the action serves the intent, 0 to 1, when it was scored.
    pub alignment_score: Option<f64>,
    /// Which part of the intent engine decided, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_tier: Option<String>,
    /// This decision's id: record the executed action under it.
    pub action_id: String,
    /// Set with REQUIRE_APPROVAL: the request a human must answer.
    pub approval_id: Option<String>,
    /// The mission the token serves, if any.
    pub mission_id: Option<String>,
    /// Actions the token has left after this decision, if limited.
    pub remaining_actions: Option<u32>,
    /// Time the server spent deciding.
    pub latency_ms: f64,
}

impl Decision {
    /// Whether the call may run now.
    pub fn is_allowed(&self) -> bool {
        self.decision == Verdict::Allow
    }
}
