//! Missions on the wire: a task that lives for its own lifecycle, the
//! actions it took, and the compensations that undo them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::approval::Approval;
use crate::provenance::Observation;
use crate::time::{HumanDuration, Timestamp};

/// `POST /v1/missions`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMission {
    /// The user the mission works for, e.g. `user:123`.
    pub user: String,
    /// What the user asked for, in their words.
    pub intent: String,
    /// How long the mission may run before it times out: `"7d"`.
    pub timeout: HumanDuration,
    /// Keep the mission across restarts (always true for the embedded
    /// store; the flag selects Temporal when it is configured).
    #[serde(default = "yes")]
    pub durable: bool,
    /// Entitlements the user must hold; losing one pauses the mission.
    #[serde(default)]
    pub requires_entitlements: Vec<String>,
}

fn yes() -> bool {
    true
}

/// Where a mission is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissionState {
    /// Actions may be authorized.
    Running,
    /// Stopped until resumed (by an operator or a restored entitlement).
    Paused,
    /// Finished successfully.
    Completed,
    /// Failed or terminated; its compensations are due, newest first.
    Compensating,
    /// Failed or terminated, and every compensation ran.
    Compensated,
    /// Failed or terminated, and a compensation reported failure.
    CompensationFailed,
    /// Failed with nothing to undo.
    Failed,
    /// Terminated with nothing to undo.
    Terminated,
}

impl MissionState {
    /// Whether the mission has ended (no more actions, ever).
    pub fn is_over(self) -> bool {
        !matches!(self, Self::Running | Self::Paused)
    }
}

/// How to undo an action: a tool call the SDK runs on rollback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Compensation {
    /// The tool that undoes the action, e.g. `delete_file`.
    pub name: String,
    /// Its arguments.
    #[serde(default)]
    pub args: serde_json::Value,
}

/// `POST /v1/missions/{id}/actions`: an executed action and how to undo it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAction {
    /// The id of the ALLOW decision the action ran under.
    pub action_id: String,
    /// The tool that ran.
    pub tool: String,
    /// How to undo it, if it can be undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensation: Option<Compensation>,
    /// What it returned, fingerprinted: the values later calls may be
    /// traced back to. Raw output never leaves the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<Observation>,
}

/// Where a compensation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompensationStatus {
    /// Recorded; runs only if the mission fails or is terminated.
    Recorded,
    /// The mission is rolling back: run it.
    Due,
    /// It ran and succeeded.
    Done,
    /// It ran and failed.
    Failed,
}

/// One action a mission took.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MissionAction {
    /// Order within the mission, from 1.
    pub seq: u32,
    /// The decision it ran under.
    pub action_id: String,
    /// The tool that ran.
    pub tool: String,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// How to undo it.
    pub compensation: Option<Compensation>,
    /// Where its compensation is, if it has one.
    pub compensation_status: Option<CompensationStatus>,
    /// What the compensation reported.
    pub compensation_detail: Option<String>,
}

/// `GET /v1/missions/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MissionRecord {
    /// The mission's id.
    pub id: String,
    /// The user it works for.
    pub user: String,
    /// What the user asked for.
    pub intent: String,
    /// Where it is in its life.
    pub state: MissionState,
    /// Why it is paused or ended, when it is.
    pub state_reason: Option<String>,
    /// Whether it survives restarts.
    pub durable: bool,
    /// Entitlements it needs.
    pub requires_entitlements: Vec<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it times out.
    pub deadline: Timestamp,
    /// The actions it took, oldest first.
    pub actions: Vec<MissionAction>,
    /// Approvals waiting for a human.
    pub pending_approvals: Vec<Approval>,
    /// Compensations due now, newest action first: the order to run them.
    pub compensations_due: Vec<MissionAction>,
}

/// `POST /v1/missions/{id}/{fail,terminate,pause,...}`: why.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// Why the mission changes state, for the audit trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /v1/missions/{id}/compensations/{seq}`: what running a due
/// compensation gave.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompensationResult {
    /// Whether it succeeded.
    pub ok: bool,
    /// What it said: an error message or a short note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
