//! Entitlements: what a user's plan allows. Removing one pauses every
//! mission of the user that requires it, in the same transaction.

use rusqlite::{Connection, params};

use crate::audit::{self, AuditEntry};
use crate::missions::{self, MissionError};

/// Grants `entitlement` to `user`; granting twice changes nothing.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn grant(
    conn: &Connection,
    user: &str,
    entitlement: &str,
    now_ms: i64,
) -> rusqlite::Result<()> {
    let added = conn
        .prepare_cached(
            "INSERT INTO entitlements (user, entitlement, granted_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (user, entitlement) DO NOTHING",
        )?
        .execute(params![user, entitlement, now_ms])?;
    if added > 0 {
        let mut entry = AuditEntry::new("entitlement.granted");
        entry.user = Some(user.to_owned());
        entry.code = Some(entitlement.to_owned());
        audit::append(conn, now_ms, &entry)?;
    }
    Ok(())
}

/// Removes `entitlement` from `user` and pauses the missions needing it;
/// returns their ids.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn remove(
    conn: &Connection,
    user: &str,
    entitlement: &str,
    now_ms: i64,
) -> Result<Vec<String>, MissionError> {
    let removed = conn
        .prepare_cached("DELETE FROM entitlements WHERE user = ?1 AND entitlement = ?2")?
        .execute(params![user, entitlement])?;
    let paused = missions::pause_requiring(conn, user, entitlement, now_ms)?;
    if removed > 0 || !paused.is_empty() {
        let mut entry = AuditEntry::new("entitlement.removed");
        entry.user = Some(user.to_owned());
        entry.code = Some(entitlement.to_owned());
        entry.detail = serde_json::json!({"paused_missions": paused});
        audit::append(conn, now_ms, &entry)?;
    }
    Ok(paused)
}

/// The entitlements among `wanted` that `user` does not hold.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn missing(conn: &Connection, user: &str, wanted: &[String]) -> rusqlite::Result<Vec<String>> {
    let mut statement =
        conn.prepare_cached("SELECT 1 FROM entitlements WHERE user = ?1 AND entitlement = ?2")?;
    let mut missing = Vec::new();
    for entitlement in wanted {
        if !statement.exists(params![user, entitlement])? {
            missing.push(entitlement.clone());
        }
    }
    Ok(missing)
}
