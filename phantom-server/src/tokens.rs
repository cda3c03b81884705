//! Ghost tokens: short-lived, opaque, bound to one intent and one user,
//! with a scope and an action budget.
//!
//! The secret is shown once at issue; only its SHA-256 is stored. Spending
//! an action is one conditional `UPDATE`, so concurrent authorize calls can
//! never spend more than the budget.

use phantom_sdk::{Timestamp, TokenState, TokenStatus};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::secrets::{self, SecretHash};

/// Longest scope name accepted.
const MAX_SCOPE_LEN: usize = 128;
/// Most scopes one token may carry.
pub const MAX_SCOPES: usize = 64;

/// A token as stored, without its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    /// Public id.
    pub id: String,
    /// The agent holding it.
    pub agent: String,
    /// The user the agent acts for, as a subject (`user:123`).
    pub on_behalf_of: String,
    /// The mission it serves.
    pub mission_id: Option<String>,
    /// The intent it is bound to.
    pub intent: String,
    /// Scopes granted.
    pub scope: Vec<String>,
    /// Action budget.
    pub max_actions: Option<u32>,
    /// Actions allowed so far.
    pub actions_used: u32,
    /// Issue time, ms.
    pub issued_at: i64,
    /// Expiry time, ms.
    pub expires_at: i64,
    /// Revocation time, ms.
    pub revoked_at: Option<i64>,
}

impl TokenRecord {
    /// Where the token is in its life at `now_ms`. Revocation wins over
    /// expiry, which wins over exhaustion: the most deliberate reason first.
    pub fn state(&self, now_ms: i64) -> TokenState {
        if self.revoked_at.is_some() {
            TokenState::Revoked
        } else if now_ms >= self.expires_at {
            TokenState::Expired
        } else if self.remaining() == Some(0) {
            TokenState::Exhausted
        } else {
            TokenState::Active
        }
    }

    /// Actions left, if limited.
    pub fn remaining(&self) -> Option<u32> {
        self.max_actions
            .map(|max| max.saturating_sub(self.actions_used))
    }

    /// Whether the token grants `needed`: an exact entry, a `prefix.*`
    /// entry covering it, or `*`.
    pub fn grants(&self, needed: &str) -> bool {
        self.scope
            .iter()
            .any(|granted| scope_covers(granted, needed))
    }

    /// The token's status for the API.
    pub fn status(&self, now_ms: i64) -> TokenStatus {
        TokenStatus {
            token_id: self.id.clone(),
            state: self.state(now_ms),
            agent: self.agent.clone(),
            on_behalf_of: self.on_behalf_of.clone(),
            mission_id: self.mission_id.clone(),
            intent: self.intent.clone(),
            scope: self.scope.clone(),
            max_actions: self.max_actions,
            actions_used: self.actions_used,
            remaining_actions: self.remaining(),
            issued_at: Timestamp::from_unix_millis(self.issued_at),
            expires_at: Timestamp::from_unix_millis(self.expires_at),
            revoked_at: self.revoked_at.map(Timestamp::from_unix_millis),
        }
    }
}

/// Whether the granted scope entry covers the needed scope.
pub fn scope_covers(granted: &str, needed: &str) -> bool {
    if granted == "*" || granted == needed {
        return true;
    }
    match granted.strip_suffix(".*") {
        // `gmail.*` covers `gmail.readonly` and `gmail.labels.read`, not
        // `gmailer.send` nor `gmail` itself.
        Some(prefix) => needed
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1),
        None => false,
    }
}

/// Checks a scope entry's syntax: dotted names, optionally ending in `.*`,
/// or `*` alone.
///
/// # Errors
///
/// Returns what is wrong with the entry.
pub fn validate_scope(entry: &str) -> Result<(), String> {
    if entry == "*" {
        return Ok(());
    }
    let name = entry.strip_suffix(".*").unwrap_or(entry);
    if name.is_empty() || entry.len() > MAX_SCOPE_LEN {
        return Err(format!(
            "scope `{entry}` must be 1 to {MAX_SCOPE_LEN} characters"
        ));
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '/');
    let parts_ok = name
        .split('.')
        .all(|part| !part.is_empty() && part.chars().all(valid));
    if parts_ok {
        Ok(())
    } else {
        Err(format!(
            "scope `{entry}` must be dot-separated names (letters, digits, `_ - : /`), optionally ending in `.*`"
        ))
    }
}

const COLUMNS: &str = "id, agent, on_behalf_of, mission_id, intent, scope, max_actions, actions_used, issued_at, expires_at, revoked_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<TokenRecord> {
    let scope: String = row.get(5)?;
    Ok(TokenRecord {
        id: row.get(0)?,
        agent: row.get(1)?,
        on_behalf_of: row.get(2)?,
        mission_id: row.get(3)?,
        intent: row.get(4)?,
        scope: serde_json::from_str(&scope).unwrap_or_default(),
        max_actions: row.get(6)?,
        actions_used: row.get(7)?,
        issued_at: row.get(8)?,
        expires_at: row.get(9)?,
        revoked_at: row.get(10)?,
    })
}

/// Stores a new token under the hash of its secret.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn insert(conn: &Connection, token: &TokenRecord, hash: &SecretHash) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO tokens (id, hash, agent, on_behalf_of, mission_id, intent, scope, max_actions, actions_used, issued_at, expires_at, revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        token.id,
        hash.as_slice(),
        token.agent,
        token.on_behalf_of,
        token.mission_id,
        token.intent,
        serde_json::Value::from(token.scope.clone()).to_string(),
        token.max_actions,
        token.actions_used,
        token.issued_at,
        token.expires_at,
        token.revoked_at,
    ])?;
    Ok(())
}

/// The token whose secret hashes to `hash`.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn by_hash(conn: &Connection, hash: &SecretHash) -> rusqlite::Result<Option<TokenRecord>> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, hash FROM tokens WHERE hash = ?1"
        ))?
        .query_row([hash.as_slice()], |row| {
            let stored: Vec<u8> = row.get(11)?;
            Ok((from_row(row)?, stored))
        })
        .optional()?;
    // The index lookup found the row; the constant-time comparison is what
    // decides, so the answer never depends on a short-circuiting compare.
    Ok(found.and_then(|(token, stored)| {
        let stored: SecretHash = stored.try_into().ok()?;
        secrets::same(&stored, hash).then_some(token)
    }))
}

/// The token with public id `id`.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<TokenRecord>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM tokens WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()
}

/// Spends one action of the token if it is active at `now_ms`, and returns
/// the token afterwards; `None` if it could not be spent (the caller reads
/// the token again to say why).
///
/// # Errors
///
/// Fails if SQLite does.
pub fn spend(conn: &Connection, id: &str, now_ms: i64) -> rusqlite::Result<Option<TokenRecord>> {
    conn.prepare_cached(&format!(
        "UPDATE tokens SET actions_used = actions_used + 1
         WHERE id = ?1 AND revoked_at IS NULL AND expires_at > ?2
           AND (max_actions IS NULL OR actions_used < max_actions)
         RETURNING {COLUMNS}"
    ))?
    .query_row(params![id, now_ms], from_row)
    .optional()
}

/// Revokes the token at `now_ms`; revoking twice keeps the first time.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn revoke(conn: &Connection, id: &str, now_ms: i64) -> rusqlite::Result<Option<TokenRecord>> {
    conn.prepare_cached("UPDATE tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1")?
        .execute(params![id, now_ms])?;
    by_id(conn, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(scope: &[&str]) -> TokenRecord {
        TokenRecord {
            id: "tok_1".into(),
            agent: "agent:a".into(),
            on_behalf_of: "user:1".into(),
            mission_id: None,
            intent: "Find flight receipt in Gmail".into(),
            scope: scope.iter().map(|s| (*s).to_owned()).collect(),
            max_actions: Some(10),
            actions_used: 0,
            issued_at: 0,
            expires_at: 300_000,
            revoked_at: None,
        }
    }

    #[test]
    fn scopes_match_exactly_or_by_prefix_wildcard() {
        let readonly = token(&["gmail.readonly"]);
        assert!(readonly.grants("gmail.readonly"));
        assert!(!readonly.grants("gmail.delete"));

        let all_gmail = token(&["gmail.*"]);
        assert!(all_gmail.grants("gmail.delete"));
        assert!(all_gmail.grants("gmail.labels.read"));
        assert!(!all_gmail.grants("gmail"));
        assert!(!all_gmail.grants("gmailer.send"));

        assert!(token(&["*"]).grants("anything.at.all"));
        assert!(!token(&[]).grants("gmail.readonly"));
    }

    #[test]
    fn state_names_the_most_deliberate_reason() {
        let mut t = token(&[]);
        assert_eq!(t.state(1), TokenState::Active);
        t.actions_used = 10;
        assert_eq!(t.state(1), TokenState::Exhausted);
        assert_eq!(t.state(300_000), TokenState::Expired);
        t.revoked_at = Some(5);
        assert_eq!(t.state(300_000), TokenState::Revoked);
    }

    #[test]
    fn scope_syntax_is_checked() {
        for good in ["gmail.readonly", "gmail.*", "*", "travel:book.hotel"] {
            assert!(validate_scope(good).is_ok(), "{good}");
        }
        for bad in ["", ".*", "gmail..x", "gmail readonly", "gmail.*.x", "a*"] {
            assert!(validate_scope(bad).is_err(), "{bad}");
        }
    }
}
