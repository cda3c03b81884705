//! Human approval of risky actions.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::authorize::Action;
use crate::time::Timestamp;

/// Where an approval request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Waiting for a human.
    Pending,
    /// Approved: the agent may retry the action once with this approval.
    Approved,
    /// Denied: the mission is terminated and rolled back.
    Denied,
    /// Nobody answered in time; counts as a denial.
    Expired,
    /// Withdrawn because the token was revoked or the mission ended.
    Cancelled,
}

impl ApprovalStatus {
    /// Whether the request has been settled one way or another.
    pub fn is_settled(self) -> bool {
        self != Self::Pending
    }
}

/// A request for a human to approve one action.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Approval {
    /// The request's id.
    pub id: String,
    /// Where it is.
    pub status: ApprovalStatus,
    /// The mission the action belongs to.
    pub mission_id: Option<String>,
    /// The token that asked.
    pub token_id: String,
    /// The decision that asked for approval.
    pub action_id: String,
    /// The action awaiting approval.
    pub action: Action,
    /// Why approval is needed.
    pub reason: String,
    /// When it was asked.
    pub created_at: Timestamp,
    /// When it expires as a denial.
    pub expires_at: Timestamp,
    /// When it was settled.
    pub decided_at: Option<Timestamp>,
    /// Who settled it.
    pub decided_by: Option<String>,
    /// What they said.
    pub note: Option<String>,
}

/// `POST /v1/approvals/{id}/decision`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalDecision {
    /// Approve, or deny.
    pub approve: bool,
    /// Who decides, for the audit trail.
    pub by: String,
    /// An optional note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
