//! Human approval of risky actions.
//!
//! An approval is asked for one action of one token. Approving lets the
//! agent retry that very action once (its fingerprint must match); denying
//! terminates the mission and makes its compensations due. Unanswered
//! requests expire as a denial. Revoking the token or ending the mission
//! withdraws its pending requests at once.

use phantom_sdk::{Action, Approval, ApprovalStatus, Timestamp};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::audit::{self, AuditEntry};
use crate::error::ApiError;
use crate::missions::{self, Ending, MissionError};
use crate::secrets::{self, SecretHash};

fn status_name(status: ApprovalStatus) -> &'static str {
    match status {
        ApprovalStatus::Pending => "pending",
        ApprovalStatus::Approved => "approved",
        ApprovalStatus::Denied => "denied",
        ApprovalStatus::Expired => "expired",
        ApprovalStatus::Cancelled => "cancelled",
    }
}

fn parse_status(name: &str) -> ApprovalStatus {
    match name {
        "pending" => ApprovalStatus::Pending,
        "approved" => ApprovalStatus::Approved,
        "denied" => ApprovalStatus::Denied,
        "expired" => ApprovalStatus::Expired,
        _ => ApprovalStatus::Cancelled,
    }
}

/// Parses a status name from a query string.
///
/// # Errors
///
/// A 400 naming the valid statuses.
pub fn status_from_query(name: &str) -> Result<ApprovalStatus, ApiError> {
    match name {
        "pending" | "approved" | "denied" | "expired" | "cancelled" => Ok(parse_status(name)),
        _ => Err(ApiError::invalid(
            "invalid_request",
            "status must be one of pending, approved, denied, expired, cancelled",
        )),
    }
}

const COLUMNS: &str = "id, status, mission_id, token_id, action_id, action, reason, created_at, expires_at, decided_at, decided_by, note";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Approval> {
    let status: String = row.get(1)?;
    let action: String = row.get(5)?;
    let action: Action = serde_json::from_str(&action).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Approval {
        id: row.get(0)?,
        status: parse_status(&status),
        mission_id: row.get(2)?,
        token_id: row.get(3)?,
        action_id: row.get(4)?,
        action,
        reason: row.get(6)?,
        created_at: Timestamp::from_unix_millis(row.get(7)?),
        expires_at: Timestamp::from_unix_millis(row.get(8)?),
        decided_at: row
            .get::<_, Option<i64>>(9)?
            .map(Timestamp::from_unix_millis),
        decided_by: row.get(10)?,
        note: row.get(11)?,
    })
}

/// Asks for approval of `action`; returns the request's id.
///
/// # Errors
///
/// Fails if SQLite does.
#[expect(
    clippy::too_many_arguments,
    reason = "one row's columns, each named at the call site"
)]
pub fn ask(
    conn: &Connection,
    token_id: &str,
    mission_id: Option<&str>,
    action_id: &str,
    action: &Action,
    reason: &str,
    now_ms: i64,
    expires_at: i64,
) -> rusqlite::Result<String> {
    let id = secrets::new_id("apr");
    conn.prepare_cached(
        "INSERT INTO approvals (id, status, mission_id, token_id, action_id, action, action_hash, reason, created_at, expires_at)
         VALUES (?1, 'pending', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        id,
        mission_id,
        token_id,
        action_id,
        serde_json::json!(action).to_string(),
        action_hash(action).as_slice(),
        reason,
        now_ms,
        expires_at,
    ])?;
    Ok(id)
}

/// What an approved retry must match: the whole action, arguments included,
/// so an agent cannot get one thing approved and run another.
pub fn action_hash(action: &Action) -> SecretHash {
    secrets::fingerprint(&serde_json::json!(action))
}

/// The approval `id`.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<Approval>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM approvals WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()
}

/// Approvals with `status`, oldest first (at most 1000).
///
/// # Errors
///
/// Fails if SQLite does.
pub fn list(conn: &Connection, status: Option<ApprovalStatus>) -> rusqlite::Result<Vec<Approval>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM approvals WHERE ?1 IS NULL OR status = ?1 ORDER BY created_at LIMIT 1000"
    ))?;
    let rows = statement.query_map([status.map(status_name)], from_row)?;
    rows.collect()
}

/// The mission's pending approvals.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn pending_for_mission(conn: &Connection, mission_id: &str) -> rusqlite::Result<Vec<Approval>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM approvals WHERE mission_id = ?1 AND status = 'pending' ORDER BY created_at"
    ))?;
    let rows = statement.query_map([mission_id], from_row)?;
    rows.collect()
}

fn settle(
    conn: &Connection,
    approval: &Approval,
    status: ApprovalStatus,
    by: Option<&str>,
    note: Option<&str>,
    now_ms: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE approvals SET status = ?2, decided_at = ?3, decided_by = ?4, note = ?5 WHERE id = ?1 AND status = 'pending'",
    )?
    .execute(params![approval.id, status_name(status), now_ms, by, note])?;

    let mut entry = AuditEntry::new("approval.settled");
    entry.token_id = Some(approval.token_id.clone());
    entry.mission_id = approval.mission_id.clone();
    entry.tool = Some(approval.action.tool.clone());
    entry.code = Some(status_name(status).to_owned());
    entry.reason = note.map(str::to_owned);
    entry.detail = serde_json::json!({"approval_id": approval.id, "by": by});
    audit::append(conn, now_ms, &entry).map(drop)
}

/// A human's answer. A denial terminates the mission.
///
/// # Errors
///
/// 404 for an unknown approval, 409 if it is already settled.
pub fn decide(
    conn: &Connection,
    id: &str,
    approve: bool,
    by: &str,
    note: Option<&str>,
    now_ms: i64,
) -> Result<Approval, MissionError> {
    let approval = get(conn, id)?.ok_or_else(|| ApiError::not_found("approval", id))?;
    if approval.status.is_settled() {
        return Err(ApiError::conflict(
            "already_settled",
            format!(
                "approval `{id}` is already {}",
                status_name(approval.status)
            ),
        )
        .into());
    }

    let status = if approve {
        ApprovalStatus::Approved
    } else {
        ApprovalStatus::Denied
    };
    settle(conn, &approval, status, Some(by), note, now_ms)?;
    if !approve && let Some(mission_id) = &approval.mission_id {
        let reason = format!("approval of `{}` denied by {by}", approval.action.tool);
        missions::end(conn, mission_id, Ending::Terminate, &reason, now_ms)?;
    }
    get(conn, id)?.ok_or_else(|| ApiError::not_found("approval", id).into())
}

/// Withdraws every pending approval of the token.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn cancel_for_token(
    conn: &Connection,
    token_id: &str,
    why: &str,
    now_ms: i64,
) -> rusqlite::Result<usize> {
    cancel_where(conn, "token_id", token_id, why, now_ms)
}

/// Withdraws every pending approval of the mission.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn cancel_for_mission(
    conn: &Connection,
    mission_id: &str,
    why: &str,
    now_ms: i64,
) -> rusqlite::Result<usize> {
    cancel_where(conn, "mission_id", mission_id, why, now_ms)
}

fn cancel_where(
    conn: &Connection,
    column: &'static str,
    value: &str,
    why: &str,
    now_ms: i64,
) -> rusqlite::Result<usize> {
    let pending: Vec<Approval> = {
        let mut statement = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM approvals WHERE {column} = ?1 AND status = 'pending'"
        ))?;
        let rows = statement.query_map([value], from_row)?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for approval in &pending {
        settle(
            conn,
            approval,
            ApprovalStatus::Cancelled,
            None,
            Some(why),
            now_ms,
        )?;
    }
    Ok(pending.len())
}

/// Expires every pending approval past its deadline, as a denial: their
/// missions are terminated. Returns how many expired.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn expire_due(conn: &Connection, now_ms: i64) -> Result<usize, MissionError> {
    let overdue: Vec<Approval> = {
        let mut statement = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM approvals WHERE status = 'pending' AND expires_at <= ?1"
        ))?;
        let rows = statement.query_map([now_ms], from_row)?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for approval in &overdue {
        settle(
            conn,
            approval,
            ApprovalStatus::Expired,
            None,
            Some("nobody answered in time"),
            now_ms,
        )?;
        if let Some(mission_id) = &approval.mission_id {
            let reason = format!("approval of `{}` expired unanswered", approval.action.tool);
            missions::end(conn, mission_id, Ending::Terminate, &reason, now_ms)?;
        }
    }
    Ok(overdue.len())
}

/// Uses an approved approval for a retry of the same action by the same
/// token. Returns why it cannot be used, if it cannot.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn consume(
    conn: &Connection,
    id: &str,
    token_id: &str,
    action: &Action,
    now_ms: i64,
) -> rusqlite::Result<Result<(), String>> {
    let row: Option<(String, String, Vec<u8>, Option<i64>)> = conn
        .prepare_cached(
            "SELECT token_id, status, action_hash, consumed_at FROM approvals WHERE id = ?1",
        )?
        .query_row([id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .optional()?;
    let Some((owner, status, hash, consumed)) = row else {
        return Ok(Err(format!("no approval `{id}`")));
    };
    if owner != token_id {
        return Ok(Err("the approval belongs to another token".to_owned()));
    }
    if status != "approved" {
        return Ok(Err(format!("the approval is {status}, not approved")));
    }
    if consumed.is_some() {
        return Ok(Err("the approval was already used".to_owned()));
    }
    let matches = <SecretHash>::try_from(hash.as_slice())
        .is_ok_and(|stored| secrets::same(&stored, &action_hash(action)));
    if !matches {
        return Ok(Err(
            "the action differs from the one that was approved".to_owned()
        ));
    }
    conn.prepare_cached("UPDATE approvals SET consumed_at = ?2 WHERE id = ?1")?
        .execute(params![id, now_ms])?;
    Ok(Ok(()))
}
