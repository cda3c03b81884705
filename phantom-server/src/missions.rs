//! Missions: permissions that live as long as the task, not the session.
//!
//! A mission records every action an agent took under it, with the
//! compensation that undoes it. Failing or terminating the mission makes
//! those compensations due, newest first; the agent's SDK runs them and
//! reports back, and the mission ends `compensated` only when every one
//! succeeded. Everything here runs inside the caller's transaction, and
//! each change appends to the audit trail in that same transaction.

use phantom_sdk::{
    Compensation, CompensationStatus, MissionAction, MissionRecord, MissionState, RecordAction,
    Timestamp,
};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::approvals;
use crate::audit::{self, AuditEntry};
use crate::error::ApiError;
use crate::provenance;
use crate::store::StoreError;

/// A mission as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MissionRow {
    /// Id.
    pub id: String,
    /// The user it works for.
    pub user: String,
    /// What the user asked for.
    pub intent: String,
    /// Where it is.
    pub state: MissionState,
    /// Why it is paused or ended.
    pub state_reason: Option<String>,
    /// Whether it survives restarts.
    pub durable: bool,
    /// Entitlements it needs.
    pub requires: Vec<String>,
    /// Creation time, ms.
    pub created_at: i64,
    /// Deadline, ms.
    pub deadline: i64,
}

/// How a mission ends badly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The agent reported failure.
    Fail,
    /// An operator, a denied approval or a timeout stopped it.
    Terminate,
}

/// Errors of mission operations: an API error to return, or the store's.
#[derive(Debug, thiserror::Error)]
pub enum MissionError {
    /// The request is refused.
    #[error("{}", .0.code())]
    Api(ApiError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for MissionError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Store(error.into())
    }
}

impl From<ApiError> for MissionError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<MissionError> for ApiError {
    fn from(error: MissionError) -> Self {
        match error {
            MissionError::Api(api) => api,
            MissionError::Store(store) => store.into(),
        }
    }
}

fn state_name(state: MissionState) -> &'static str {
    match state {
        MissionState::Running => "running",
        MissionState::Paused => "paused",
        MissionState::Completed => "completed",
        MissionState::Compensating => "compensating",
        MissionState::Compensated => "compensated",
        MissionState::CompensationFailed => "compensation_failed",
        MissionState::Failed => "failed",
        MissionState::Terminated => "terminated",
    }
}

fn parse_state(name: &str) -> MissionState {
    match name {
        "running" => MissionState::Running,
        "paused" => MissionState::Paused,
        "completed" => MissionState::Completed,
        "compensating" => MissionState::Compensating,
        "compensated" => MissionState::Compensated,
        "compensation_failed" => MissionState::CompensationFailed,
        "failed" => MissionState::Failed,
        // Unknown names only come from a newer build: the safest reading is
        // that the mission may not act.
        _ => MissionState::Terminated,
    }
}

fn status_name(status: CompensationStatus) -> &'static str {
    match status {
        CompensationStatus::Recorded => "recorded",
        CompensationStatus::Due => "due",
        CompensationStatus::Done => "done",
        CompensationStatus::Failed => "failed",
    }
}

fn parse_status(name: &str) -> Option<CompensationStatus> {
    match name {
        "recorded" => Some(CompensationStatus::Recorded),
        "due" => Some(CompensationStatus::Due),
        "done" => Some(CompensationStatus::Done),
        "failed" => Some(CompensationStatus::Failed),
        _ => None,
    }
}

const COLUMNS: &str =
    "id, user, intent, state, state_reason, durable, requires, created_at, deadline";

fn from_row(row: &Row<'_>) -> rusqlite::Result<MissionRow> {
    let state: String = row.get(3)?;
    let requires: String = row.get(6)?;
    Ok(MissionRow {
        id: row.get(0)?,
        user: row.get(1)?,
        intent: row.get(2)?,
        state: parse_state(&state),
        state_reason: row.get(4)?,
        durable: row.get(5)?,
        requires: serde_json::from_str(&requires).unwrap_or_default(),
        created_at: row.get(7)?,
        deadline: row.get(8)?,
    })
}

/// Stores a new mission.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn insert(conn: &Connection, mission: &MissionRow) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO missions (id, user, intent, state, state_reason, durable, requires, created_at, deadline)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        mission.id,
        mission.user,
        mission.intent,
        state_name(mission.state),
        mission.state_reason,
        mission.durable,
        serde_json::Value::from(mission.requires.clone()).to_string(),
        mission.created_at,
        mission.deadline,
    ])?;
    let mut entry = AuditEntry::new("mission.created");
    entry.mission_id = Some(mission.id.clone());
    entry.user = Some(mission.user.clone());
    entry.detail = serde_json::json!({"requires_entitlements": mission.requires, "deadline": Timestamp::from_unix_millis(mission.deadline)});
    audit::append(conn, mission.created_at, &entry)?;
    Ok(())
}

/// The mission `id`.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<MissionRow>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM missions WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()
}

fn require(conn: &Connection, id: &str) -> Result<MissionRow, MissionError> {
    get(conn, id)?.ok_or_else(|| ApiError::not_found("mission", id).into())
}

fn set_state(
    conn: &Connection,
    id: &str,
    state: MissionState,
    reason: Option<&str>,
    now_ms: i64,
) -> rusqlite::Result<()> {
    let ended = state.is_over().then_some(now_ms);
    conn.prepare_cached(
        "UPDATE missions SET state = ?2, state_reason = ?3, ended_at = coalesce(ended_at, ?4) WHERE id = ?1",
    )?
    .execute(params![id, state_name(state), reason, ended])?;
    Ok(())
}

fn audit_transition(
    conn: &Connection,
    now_ms: i64,
    mission: &MissionRow,
    kind: &'static str,
    state: MissionState,
    reason: Option<&str>,
) -> rusqlite::Result<()> {
    let mut entry = AuditEntry::new(kind);
    entry.mission_id = Some(mission.id.clone());
    entry.user = Some(mission.user.clone());
    entry.code = Some(state_name(state).to_owned());
    entry.reason = reason.map(str::to_owned);
    audit::append(conn, now_ms, &entry).map(drop)
}

/// Everything about a mission for the API.
///
/// # Errors
///
/// 404 for an unknown mission; store errors.
pub fn record(conn: &Connection, id: &str) -> Result<MissionRecord, MissionError> {
    let mission = require(conn, id)?;
    let actions = actions(conn, id)?;
    let mut due: Vec<MissionAction> = actions
        .iter()
        .filter(|a| a.compensation_status == Some(CompensationStatus::Due))
        .cloned()
        .collect();
    // Newest first: undo in the reverse order of doing.
    due.sort_by_key(|a| std::cmp::Reverse(a.seq));

    Ok(MissionRecord {
        id: mission.id,
        user: mission.user,
        intent: mission.intent,
        state: mission.state,
        state_reason: mission.state_reason,
        durable: mission.durable,
        requires_entitlements: mission.requires,
        created_at: Timestamp::from_unix_millis(mission.created_at),
        deadline: Timestamp::from_unix_millis(mission.deadline),
        actions,
        pending_approvals: approvals::pending_for_mission(conn, id)?,
        compensations_due: due,
    })
}

fn actions(conn: &Connection, id: &str) -> rusqlite::Result<Vec<MissionAction>> {
    let mut statement = conn.prepare_cached(
        "SELECT seq, action_id, tool, recorded_at, compensation, compensation_status, compensation_detail
         FROM mission_actions WHERE mission_id = ?1 ORDER BY seq",
    )?;
    let rows = statement.query_map([id], |row| {
        let compensation: Option<String> = row.get(4)?;
        let status: Option<String> = row.get(5)?;
        Ok(MissionAction {
            seq: row.get(0)?,
            action_id: row.get(1)?,
            tool: row.get(2)?,
            recorded_at: Timestamp::from_unix_millis(row.get(3)?),
            compensation: compensation.and_then(|c| serde_json::from_str::<Compensation>(&c).ok()),
            compensation_status: status.as_deref().and_then(parse_status),
            compensation_detail: row.get(6)?,
        })
    })?;
    rows.collect()
}

/// Records an action the agent ran under an ALLOW decision of this mission.
/// An action recorded after the mission ended badly is compensated at once:
/// it happened, so it must be undone.
///
/// # Errors
///
/// 404 for an unknown mission or decision, 409 if the decision was not an
/// ALLOW of this mission or was already recorded.
pub fn record_action(
    conn: &Connection,
    mission_id: &str,
    action: &RecordAction,
    now_ms: i64,
) -> Result<(), MissionError> {
    let mission = require(conn, mission_id)?;

    let decision: Option<(Option<String>, String, bool)> = conn
        .prepare_cached("SELECT mission_id, verdict, recorded FROM decisions WHERE action_id = ?1")?
        .query_row([&action.action_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    let Some((decided_for, verdict, recorded)) = decision else {
        return Err(ApiError::not_found("decision", &action.action_id).into());
    };
    if decided_for.as_deref() != Some(mission_id) || verdict != "ALLOW" {
        return Err(ApiError::conflict(
            "not_allowed_here",
            format!(
                "action `{}` was not allowed under mission `{mission_id}`",
                action.action_id
            ),
        )
        .into());
    }
    if recorded {
        return Err(ApiError::conflict(
            "already_recorded",
            format!("action `{}` is already recorded", action.action_id),
        )
        .into());
    }

    let rolling_back = matches!(
        mission.state,
        MissionState::Compensating
            | MissionState::Compensated
            | MissionState::CompensationFailed
            | MissionState::Failed
            | MissionState::Terminated
    );
    let status = action.compensation.as_ref().map(|_| {
        if rolling_back {
            CompensationStatus::Due
        } else {
            CompensationStatus::Recorded
        }
    });
    let seq: u32 = conn
        .prepare_cached(
            "SELECT coalesce(max(seq), 0) + 1 FROM mission_actions WHERE mission_id = ?1",
        )?
        .query_row([mission_id], |row| row.get(0))?;
    conn.prepare_cached(
        "INSERT INTO mission_actions (mission_id, seq, action_id, tool, recorded_at, compensation, compensation_status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        mission_id,
        seq,
        action.action_id,
        action.tool,
        now_ms,
        action.compensation.as_ref().map(|c| serde_json::json!(c).to_string()),
        status.map(status_name),
    ])?;
    conn.prepare_cached("UPDATE decisions SET recorded = 1 WHERE action_id = ?1")?
        .execute([&action.action_id])?;
    if let Some(observation) = &action.observation {
        provenance::store(conn, mission_id, observation, now_ms)?;
    }

    if status == Some(CompensationStatus::Due) && mission.state != MissionState::Compensating {
        set_state(
            conn,
            mission_id,
            MissionState::Compensating,
            mission.state_reason.as_deref(),
            now_ms,
        )?;
    }

    let mut entry = AuditEntry::new("mission.action_recorded");
    entry.mission_id = Some(mission_id.to_owned());
    entry.user = Some(mission.user);
    entry.tool = Some(action.tool.clone());
    entry.detail = serde_json::json!({
        "action_id": action.action_id,
        "seq": seq,
        "compensation": action.compensation.as_ref().map(|c| &c.name),
    });
    audit::append(conn, now_ms, &entry)?;
    Ok(())
}

/// Fails or terminates a mission: its recorded compensations become due,
/// its pending approvals are withdrawn. Ending a mission that is already
/// over changes nothing and is not an error (a denial and a timeout may
/// race).
///
/// # Errors
///
/// 404 for an unknown mission.
pub fn end(
    conn: &Connection,
    mission_id: &str,
    ending: Ending,
    reason: &str,
    now_ms: i64,
) -> Result<MissionState, MissionError> {
    let mission = require(conn, mission_id)?;
    if mission.state.is_over() {
        return Ok(mission.state);
    }

    let due = conn
        .prepare_cached(
            "UPDATE mission_actions SET compensation_status = 'due'
             WHERE mission_id = ?1 AND compensation_status = 'recorded'",
        )?
        .execute([mission_id])?;
    let state = match (due, ending) {
        (0, Ending::Fail) => MissionState::Failed,
        (0, Ending::Terminate) => MissionState::Terminated,
        _ => MissionState::Compensating,
    };
    set_state(conn, mission_id, state, Some(reason), now_ms)?;
    approvals::cancel_for_mission(conn, mission_id, "the mission ended", now_ms)?;

    let kind = match ending {
        Ending::Fail => "mission.failed",
        Ending::Terminate => "mission.terminated",
    };
    audit_transition(conn, now_ms, &mission, kind, state, Some(reason))?;
    Ok(state)
}

/// Completes, pauses or resumes a mission.
///
/// # Errors
///
/// 404 for an unknown mission; 409 when the state does not allow it.
pub fn transition(
    conn: &Connection,
    mission_id: &str,
    to: MissionState,
    reason: Option<&str>,
    now_ms: i64,
) -> Result<MissionState, MissionError> {
    let mission = require(conn, mission_id)?;
    let allowed = matches!(
        (mission.state, to),
        (
            MissionState::Running | MissionState::Paused,
            MissionState::Completed
        ) | (MissionState::Running, MissionState::Paused)
            | (MissionState::Paused, MissionState::Running)
    );
    if !allowed {
        return Err(ApiError::conflict(
            "invalid_transition",
            format!(
                "mission `{mission_id}` is {} and cannot become {}",
                state_name(mission.state),
                state_name(to)
            ),
        )
        .into());
    }
    set_state(conn, mission_id, to, reason, now_ms)?;
    if to == MissionState::Completed {
        approvals::cancel_for_mission(conn, mission_id, "the mission completed", now_ms)?;
    }
    let kind = match to {
        MissionState::Completed => "mission.completed",
        MissionState::Paused => "mission.paused",
        _ => "mission.resumed",
    };
    audit_transition(conn, now_ms, &mission, kind, to, reason)?;
    Ok(to)
}

/// Records what running a due compensation gave; ends the rollback when it
/// was the last.
///
/// # Errors
///
/// 404 for an unknown mission or action; 409 if the compensation is not due.
pub fn report_compensation(
    conn: &Connection,
    mission_id: &str,
    seq: u32,
    ok: bool,
    detail: Option<&str>,
    now_ms: i64,
) -> Result<MissionState, MissionError> {
    let mission = require(conn, mission_id)?;
    let status: Option<Option<String>> = conn
        .prepare_cached(
            "SELECT compensation_status FROM mission_actions WHERE mission_id = ?1 AND seq = ?2",
        )?
        .query_row(params![mission_id, seq], |row| row.get(0))
        .optional()?;
    match status {
        None => {
            return Err(
                ApiError::not_found("mission action", &format!("{mission_id}/{seq}")).into(),
            );
        }
        Some(Some(status)) if status == "due" => {}
        Some(_) => {
            return Err(ApiError::conflict(
                "compensation_not_due",
                format!("the compensation of action {seq} is not due"),
            )
            .into());
        }
    }

    let detail: Option<String> = detail.map(|d| d.chars().take(2000).collect());
    conn.prepare_cached(
        "UPDATE mission_actions SET compensation_status = ?3, compensation_detail = ?4, compensated_at = ?5
         WHERE mission_id = ?1 AND seq = ?2",
    )?
    .execute(params![mission_id, seq, if ok { "done" } else { "failed" }, detail, now_ms])?;

    let (remaining, failed): (u32, u32) = conn
        .prepare_cached(
            "SELECT count(*) FILTER (WHERE compensation_status = 'due'),
                    count(*) FILTER (WHERE compensation_status = 'failed')
             FROM mission_actions WHERE mission_id = ?1",
        )?
        .query_row([mission_id], |row| Ok((row.get(0)?, row.get(1)?)))?;

    let mut entry = AuditEntry::new("mission.compensation_ran");
    entry.mission_id = Some(mission_id.to_owned());
    entry.user = Some(mission.user.clone());
    entry.code = Some(if ok { "done" } else { "failed" }.to_owned());
    entry.detail = serde_json::json!({"seq": seq, "remaining": remaining});
    audit::append(conn, now_ms, &entry)?;

    if remaining > 0 {
        return Ok(mission.state);
    }
    let state = if failed == 0 {
        MissionState::Compensated
    } else {
        MissionState::CompensationFailed
    };
    set_state(
        conn,
        mission_id,
        state,
        mission.state_reason.as_deref(),
        now_ms,
    )?;
    audit_transition(
        conn,
        now_ms,
        &mission,
        "mission.rolled_back",
        state,
        mission.state_reason.as_deref(),
    )?;
    Ok(state)
}

/// Missions past their deadline that are still running or paused.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn overdue(conn: &Connection, now_ms: i64) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare_cached(
        "SELECT id FROM missions WHERE state IN ('running', 'paused') AND deadline <= ?1",
    )?;
    let rows = statement.query_map([now_ms], |row| row.get(0))?;
    rows.collect()
}

/// Pauses the user's running missions that require `entitlement`.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn pause_requiring(
    conn: &Connection,
    user: &str,
    entitlement: &str,
    now_ms: i64,
) -> Result<Vec<String>, MissionError> {
    let mut statement = conn.prepare_cached(
        "SELECT missions.id FROM missions, json_each(missions.requires)
         WHERE missions.user = ?1 AND missions.state = 'running' AND json_each.value = ?2",
    )?;
    let ids: Vec<String> = statement
        .query_map(params![user, entitlement], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let reason = format!("entitlement `{entitlement}` was removed; re-authorize to resume");
    for id in &ids {
        transition(conn, id, MissionState::Paused, Some(&reason), now_ms)?;
    }
    Ok(ids)
}
