//! The audit trail: every decision and every change, append-only.
//!
//! Entries are written in the same transaction as the change they describe,
//! so the trail cannot miss a change that happened, nor show one that did
//! not. The table refuses updates and deletes (see the schema's triggers).

use phantom_sdk::{AuditEvent, AuditPage, AuditQuery, Timestamp};
use rusqlite::{Connection, params};

/// One entry to append.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    /// What happened, e.g. `decision` or `token.revoked`.
    pub kind: &'static str,
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
    /// The verdict, for decisions.
    pub decision: Option<String>,
    /// The decision code or outcome.
    pub code: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// The alignment score.
    pub score: Option<f64>,
    /// Anything else; never a secret or a raw argument value.
    pub detail: serde_json::Value,
}

impl AuditEntry {
    /// An entry of `kind` with nothing else set.
    pub fn new(kind: &'static str) -> Self {
        Self {
            kind,
            detail: serde_json::Value::Object(serde_json::Map::new()),
            ..Self::default()
        }
    }
}

/// Appends `entry` at `at_ms`, returning its sequence number.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn append(conn: &Connection, at_ms: i64, entry: &AuditEntry) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO audit (at, kind, token_id, mission_id, agent, user, tool, decision, code, reason, score, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        at_ms,
        entry.kind,
        entry.token_id,
        entry.mission_id,
        entry.agent,
        entry.user,
        entry.tool,
        entry.decision,
        entry.code,
        entry.reason,
        entry.score,
        entry.detail.to_string(),
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Largest page of the trail one call returns.
const MAX_PAGE: u32 = 1000;

/// A page of the trail, oldest first, filtered by `query`.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn query(conn: &Connection, query: &AuditQuery) -> rusqlite::Result<AuditPage> {
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let mut statement = conn.prepare_cached(
        "SELECT seq, at, kind, token_id, mission_id, agent, user, tool, decision, code, reason, score, detail
         FROM audit
         WHERE seq > ?1
           AND (?2 IS NULL OR mission_id = ?2)
           AND (?3 IS NULL OR agent = ?3)
           AND (?4 IS NULL OR token_id = ?4)
         ORDER BY seq
         LIMIT ?5",
    )?;
    let rows = statement.query_map(
        params![
            query.after.unwrap_or(0),
            query.mission_id,
            query.agent,
            query.token_id,
            limit + 1,
        ],
        |row| {
            let detail: String = row.get(12)?;
            Ok(AuditEvent {
                seq: row.get(0)?,
                at: Timestamp::from_unix_millis(row.get(1)?),
                kind: row.get(2)?,
                token_id: row.get(3)?,
                mission_id: row.get(4)?,
                agent: row.get(5)?,
                user: row.get(6)?,
                tool: row.get(7)?,
                decision: row.get(8)?,
                code: row.get(9)?,
                reason: row.get(10)?,
                alignment_score: row.get(11)?,
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
            })
        },
    )?;
    let mut events = rows.collect::<rusqlite::Result<Vec<_>>>()?;

    // One row more than asked says whether another page exists.
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    let next_after = if more {
        events.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(AuditPage { events, next_after })
}
