//! Shadow graph: Zanzibar-style relationship tuples, durable in SQLite and
//! answered from an in-memory index.
//!
//! Every write goes to SQLite first; the index is updated only once the
//! write is durable, and rebuilt from SQLite at start-up. Each write gets
//! the next revision; a check names the revision it was answered at, and
//! one asking `at_least` a revision sees that write.

mod engine;

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use phantom_sdk::{ObjectRef, Revision, Subject, Tuple, WriteTuples};
use rusqlite::{Connection, OptionalExtension, params};

pub use engine::{CheckError, MAX_DEPTH};

use crate::audit::{self, AuditEntry};
use crate::error::ApiError;
use crate::store::{Store, StoreError};

/// Most tuples one write request may carry (writes and deletes together).
pub const MAX_TUPLES_PER_WRITE: usize = 1000;

/// The graph: the durable tuples and their in-memory index.
#[derive(Debug, Default)]
pub struct Graph {
    engine: RwLock<engine::Engine>,
    revision: AtomicU64,
    // Writes apply to the index in revision order: one at a time.
    writing: tokio::sync::Mutex<()>,
}

impl Graph {
    /// Loads every stored tuple into a fresh index.
    ///
    /// # Errors
    ///
    /// Fails if the store does.
    pub async fn load(store: &Store) -> Result<Self, StoreError> {
        let (tuples, revision) = store
            .read(|conn| -> Result<_, StoreError> {
                let revision = current_revision(conn)?;
                let mut statement = conn.prepare("SELECT object, relation, subject FROM tuples")?;
                let rows = statement.query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                })?;
                let mut tuples = Vec::new();
                for row in rows {
                    let (object, relation, subject) = row?;
                    // Stored tuples were validated on write; one that no
                    // longer parses (a stricter build) is skipped, not fatal.
                    match Tuple::new(&object, &relation, &subject) {
                        Ok(tuple) => tuples.push(tuple),
                        Err(e) => tracing::warn!(error = %e, "skipping an unreadable stored tuple"),
                    }
                }
                Ok((tuples, revision))
            })
            .await?;

        let mut engine = engine::Engine::default();
        for tuple in &tuples {
            engine.insert(tuple);
        }
        tracing::info!(tuples = engine.len(), revision, "graph loaded");
        Ok(Self {
            engine: RwLock::new(engine),
            revision: AtomicU64::new(revision),
            writing: tokio::sync::Mutex::new(()),
        })
    }

    /// The revision of the last durable write.
    pub fn revision(&self) -> Revision {
        self.revision.load(Ordering::Acquire)
    }

    /// How many tuples the index holds.
    pub fn len(&self) -> usize {
        self.engine.read().len()
    }

    /// Whether the index holds no tuple.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies all writes and deletes atomically, durably, then to the
    /// index; returns the new revision.
    ///
    /// # Errors
    ///
    /// A 400 naming the problem if the request is invalid (then nothing is
    /// written), or a store error.
    pub async fn write(
        &self,
        store: &Store,
        now_ms: i64,
        request: WriteTuples,
    ) -> Result<Revision, ApiError> {
        validate_write(&request)?;

        let _writing = self.writing.lock().await;
        let WriteTuples { writes, deletes } = request;
        let (writes, deletes, revision) = store
            .write(move |conn| -> Result<_, StoreError> {
                let revision = current_revision(conn)? + 1;
                let stored_revision = i64::try_from(revision).unwrap_or(i64::MAX);
                for tuple in &deletes {
                    conn.prepare_cached("DELETE FROM tuples WHERE object = ?1 AND relation = ?2 AND subject = ?3")?
                        .execute(params![tuple.object.to_string(), tuple.relation, tuple.subject.to_string()])?;
                }
                for tuple in &writes {
                    conn.prepare_cached(
                        "INSERT INTO tuples (object, relation, subject, condition, revision) VALUES (?1, ?2, ?3, NULL, ?4)
                         ON CONFLICT (object, relation, subject) DO NOTHING",
                    )?
                    .execute(params![tuple.object.to_string(), tuple.relation, tuple.subject.to_string(), stored_revision])?;
                }
                conn.prepare_cached("INSERT INTO meta (key, value) VALUES ('graph_revision', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")?
                    .execute([revision.to_string()])?;

                let mut entry = AuditEntry::new("graph.write");
                entry.detail = serde_json::json!({
                    "revision": revision,
                    "writes": writes.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "deletes": deletes.iter().map(ToString::to_string).collect::<Vec<_>>(),
                });
                audit::append(conn, now_ms, &entry)?;
                Ok((writes, deletes, revision))
            })
            .await?;

        let mut engine = self.engine.write();
        for tuple in &deletes {
            engine.remove(tuple);
        }
        for tuple in &writes {
            engine.insert(tuple);
        }
        self.revision.store(revision, Ordering::Release);
        Ok(revision)
    }

    /// Whether `subject` has `relation` on `object`, and the revision the
    /// answer was computed at.
    ///
    /// # Errors
    ///
    /// A 400 if `at_least` names a revision that does not exist yet, a 422
    /// if the usersets nest too deep.
    pub fn check(
        &self,
        subject: &Subject,
        relation: &str,
        object: &ObjectRef,
        at_least: Option<Revision>,
    ) -> Result<(bool, Revision), ApiError> {
        let revision = self.revision();
        if let Some(wanted) = at_least
            && wanted > revision
        {
            return Err(ApiError::invalid(
                "revision_unknown",
                format!("revision {wanted} does not exist yet (latest is {revision})"),
            ));
        }
        let allowed = self
            .engine
            .read()
            .check(subject, relation, object)
            .map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "resolution_too_complex",
                    e.to_string(),
                )
            })?;
        Ok((allowed, revision))
    }
}

fn current_revision(conn: &Connection) -> Result<Revision, StoreError> {
    let stored: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'graph_revision'")?
        .query_row([], |row| row.get(0))
        .optional()?;
    Ok(stored.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn validate_write(request: &WriteTuples) -> Result<(), ApiError> {
    let total = request.writes.len() + request.deletes.len();
    if total == 0 {
        return Err(ApiError::invalid(
            "invalid_request",
            "a write needs at least one tuple in `writes` or `deletes`",
        ));
    }
    if total > MAX_TUPLES_PER_WRITE {
        return Err(ApiError::invalid(
            "too_many_tuples",
            format!(
                "a write may carry at most {MAX_TUPLES_PER_WRITE} tuples; this one has {total}"
            ),
        ));
    }
    if let Some(tuple) = request
        .writes
        .iter()
        .chain(&request.deletes)
        .find(|t| t.condition.is_some())
    {
        return Err(ApiError::invalid(
            "condition_without_model",
            format!("tuple `{tuple}` has a condition, and conditions need an authorization model"),
        ));
    }

    // Writing and deleting the same tuple in one request has no single
    // meaning; OpenFGA refuses it too.
    let mut seen = std::collections::HashSet::new();
    for tuple in request.writes.iter().chain(&request.deletes) {
        if !seen.insert(tuple.to_string()) {
            return Err(ApiError::invalid(
                "duplicate_tuple",
                format!("tuple `{tuple}` appears more than once in the request"),
            ));
        }
    }
    Ok(())
}
