//! The audit trail: every decision and every change, append-only.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// One entry of the audit trail.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AuditEvent {
    /// Position in the trail, from 1, without gaps.
    pub seq: i64,
    /// When it happened.
    pub at: Timestamp,
    /// What happened: `decision`, `token.issued`, `token.revoked`,
    /// `mission.created`, `approval.decided`, `graph.write`, ...
    pub kind: String,
    /// The token involved.
    pub token_id: Option<String>,
    /// The mission involved.
    pub mission_id: Option<String>,
    /// The agent involved.
    pub agent: Option<String>,
    /// The user involved.
    pub user: Option<String>,
    /// The tool, for decisions.
    pub tool: Option<String>,
    /// ALLOW, BLOCK or REQUIRE_APPROVAL, for decisions.
    pub decision: Option<String>,
    /// The decision code or the change's outcome.
    pub code: Option<String>,
    /// Why, for people.
    pub reason: Option<String>,
    /// The alignment score, for decisions that were scored.
    pub alignment_score: Option<f64>,
    /// Anything else worth keeping, never a secret or a raw argument value.
    pub detail: serde_json::Value,
}

/// `GET /v1/audit` filters; all optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only events of this mission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mission_id: Option<String>,
    /// Only events of this agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Only events of this token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// Only events after this sequence number (for paging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    /// At most this many events (default 100, at most 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A page of the audit trail.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AuditPage {
    /// The events, oldest first.
    pub events: Vec<AuditEvent>,
    /// Pass as `after` to get the next page; absent at the end.
    pub next_after: Option<i64>,
}
