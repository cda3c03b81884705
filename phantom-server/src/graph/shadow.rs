//! The shadow graph: the relationship graph made durable.
//!
//! Models and tuples are stored in SQLite and answered from the in-memory
//! [`Graph`]. A write is validated against the index first, made durable,
//! and only then applied, so the index never shows a tuple that a crash
//! could lose. The index is rebuilt from SQLite at start-up: models oldest
//! first, then every tuple as it was written (a tuple an older model
//! allowed and the latest forbids is kept, and ignored by queries, as in
//! OpenFGA).
//!
//! Revisions are the server's, stored with the data: every durable change
//! (tuples or a model) gets the next one, and a query that asks
//! `at_least` a revision is answered only once the index has reached it.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{RwLock, RwLockReadGuard};
use phantom_sdk::{Revision, Tuple, WriteTuples};
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    AuthorizationModel, ErrorCode, Graph, GraphError, OnConflict, TupleCondition, TupleKey,
    WriteOptions,
};
use crate::audit::{self, AuditEntry};
use crate::error::ApiError;
use crate::secrets;
use crate::store::{Store, StoreError};

/// Most tuples one write request may carry (writes and deletes together).
pub const MAX_TUPLES_PER_WRITE: usize = 1000;

/// Most contextual tuples one query may carry.
pub const MAX_CONTEXTUAL_TUPLES: usize = 100;

/// The graph, durable.
#[derive(Debug)]
pub struct ShadowGraph {
    index: RwLock<Graph>,
    revision: AtomicU64,
    // Writes are validated, stored and applied one at a time, so each is
    // validated against the state it will be applied to.
    writing: tokio::sync::Mutex<()>,
}

/// The contract's write semantics: writing a tuple that exists, or deleting
/// one that does not, is not an error.
const IDEMPOTENT: WriteOptions = WriteOptions {
    on_duplicate: OnConflict::Ignore,
    on_missing: OnConflict::Ignore,
    replay: false,
};

/// How a graph error is answered over HTTP: OpenFGA's error name as the
/// code, the status its kind calls for.
impl From<GraphError> for ApiError {
    fn from(error: GraphError) -> Self {
        use axum::http::StatusCode;

        let code = error.code();
        let status = match code {
            ErrorCode::ResolutionTooComplex => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::AuthorizationModelNotFound => StatusCode::NOT_FOUND,
            ErrorCode::WriteFailedDueToInvalidInput => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, code.name(), error.to_string())
    }
}

/// The engine's form of a wire tuple.
pub fn tuple_key(tuple: &Tuple) -> TupleKey {
    TupleKey {
        object: tuple.object.to_string(),
        relation: tuple.relation.clone(),
        user: tuple.subject.to_string(),
        condition: tuple.condition.as_ref().map(|c| TupleCondition {
            name: c.name.clone(),
            context: c.context.clone(),
        }),
    }
}

impl ShadowGraph {
    /// Rebuilds the index from the store.
    ///
    /// # Errors
    ///
    /// Fails if the store does, or if it holds a model this build cannot
    /// read (a newer build wrote it).
    pub async fn load(store: &Store) -> Result<Self, StoreError> {
        let (models, tuples, revision) = store
            .read(|conn| -> Result<_, StoreError> {
                let revision = current_revision(conn)?;
                let mut statement = conn.prepare("SELECT id, body FROM models ORDER BY seq")?;
                let models = statement
                    .query_map([], |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let mut statement =
                    conn.prepare("SELECT object, relation, subject, condition FROM tuples")?;
                let tuples = statement
                    .query_map([], |row| {
                        let condition: Option<String> = row.get(3)?;
                        Ok(TupleKey {
                            object: row.get(0)?,
                            relation: row.get(1)?,
                            user: row.get(2)?,
                            condition: condition.and_then(|c| serde_json::from_str(&c).ok()),
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok((models, tuples, revision))
            })
            .await?;

        let mut index = Graph::new();
        for (id, body) in models {
            let model = AuthorizationModel::from_json(&body)
                .map_err(|e| StoreError::Commit(format!("stored model {id} does not load: {e}")))?;
            index
                .restore_model(id.clone(), model)
                .map_err(|e| StoreError::Commit(format!("stored model {id} does not load: {e}")))?;
        }
        let replay = WriteOptions {
            replay: true,
            ..IDEMPOTENT
        };
        index
            .apply_with(&tuples, &[], replay)
            .map_err(|e| StoreError::Commit(format!("stored tuples do not load: {e}")))?;
        index.shrink_to_fit();

        tracing::info!(
            tuples = index.len(),
            models = index.model_ids().count(),
            revision,
            index_bytes = index.index_bytes(),
            "graph loaded"
        );
        Ok(Self {
            index: RwLock::new(index),
            revision: AtomicU64::new(revision),
            writing: tokio::sync::Mutex::new(()),
        })
    }

    /// The revision of the last durable change.
    pub fn revision(&self) -> Revision {
        self.revision.load(Ordering::Acquire)
    }

    /// How many tuples the index holds.
    pub fn len(&self) -> usize {
        self.index.read().len()
    }

    /// Whether the index holds no tuple.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The index, for a query that must see `at_least` this revision.
    ///
    /// # Errors
    ///
    /// A 400 if the revision does not exist yet.
    pub fn read(
        &self,
        at_least: Option<Revision>,
    ) -> Result<(RwLockReadGuard<'_, Graph>, Revision), ApiError> {
        let index = self.index.read();
        // Read under the lock: a write publishes its revision only after
        // applying, and applying needs the write lock.
        let revision = self.revision();
        if let Some(wanted) = at_least
            && wanted > revision
        {
            return Err(ApiError::invalid(
                "revision_unknown",
                format!("revision {wanted} does not exist yet (latest is {revision})"),
            ));
        }
        Ok((index, revision))
    }

    /// Applies all writes and deletes atomically and durably; returns the
    /// new revision.
    ///
    /// # Errors
    ///
    /// A 4xx naming the problem if any tuple is refused (then nothing is
    /// written), or a store error.
    pub async fn write(
        &self,
        store: &Store,
        now_ms: i64,
        request: WriteTuples,
    ) -> Result<Revision, ApiError> {
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
        let writes: Vec<TupleKey> = request.writes.iter().map(tuple_key).collect();
        let deletes: Vec<TupleKey> = request.deletes.iter().map(tuple_key).collect();

        let _writing = self.writing.lock().await;
        self.index
            .read()
            .validate_write(&writes, &deletes, IDEMPOTENT)?;

        let (stored_writes, stored_deletes) = (writes.clone(), deletes.clone());
        let revision = store
            .write(move |conn| -> Result<_, StoreError> {
                let revision = bump_revision(conn)?;
                for tuple in &stored_deletes {
                    conn.prepare_cached(
                        "DELETE FROM tuples WHERE object = ?1 AND relation = ?2 AND subject = ?3",
                    )?
                    .execute(params![tuple.object, tuple.relation, tuple.user])?;
                }
                for tuple in &stored_writes {
                    let condition = tuple.condition.as_ref().map(|c| serde_json::json!(c).to_string());
                    conn.prepare_cached(
                        "INSERT INTO tuples (object, relation, subject, condition, revision) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (object, relation, subject) DO NOTHING",
                    )?
                    .execute(params![tuple.object, tuple.relation, tuple.user, condition, stored(revision)])?;
                }

                let mut entry = AuditEntry::new("graph.write");
                entry.detail = serde_json::json!({
                    "revision": revision,
                    "writes": stored_writes.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "deletes": stored_deletes.iter().map(ToString::to_string).collect::<Vec<_>>(),
                });
                audit::append(conn, now_ms, &entry)?;
                Ok(revision)
            })
            .await?;

        let mut index = self.index.write();
        if let Err(e) = index.apply_with(&writes, &deletes, IDEMPOTENT) {
            // Validated under the same lock: this cannot happen unless the
            // engine and its validation disagree. The store is the truth;
            // the index is rebuilt from it at the next start.
            tracing::error!(error = %e, "a validated write did not apply; the index is stale until restart");
        }
        self.revision.store(revision, Ordering::Release);
        Ok(revision)
    }

    /// Stores a new model version, which becomes the latest; returns its id
    /// and the revision.
    ///
    /// # Errors
    ///
    /// A 400 naming the problem (with line and column for the DSL) if the
    /// model is invalid, or a store error.
    pub async fn write_model(
        &self,
        store: &Store,
        now_ms: i64,
        model: AuthorizationModel,
    ) -> Result<(String, Revision), ApiError> {
        let id = secrets::new_id("mdl");
        let body = serde_json::to_string(&model).map_err(ApiError::internal)?;

        let _writing = self.writing.lock().await;
        // Validate and compile it apart from the live index: a model that
        // fails changes nothing, and one that passes is stored before it is
        // used.
        Graph::new().restore_model(id.clone(), model.clone())?;

        let stored_id = id.clone();
        let revision = store
            .write(move |conn| -> Result<_, StoreError> {
                let revision = bump_revision(conn)?;
                conn.prepare_cached(
                    "INSERT INTO models (id, seq, body, created_at) VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM models), ?2, ?3)",
                )?
                .execute(params![stored_id, body, now_ms])?;
                let mut entry = AuditEntry::new("graph.model_written");
                entry.detail = serde_json::json!({"model_id": stored_id, "revision": revision});
                audit::append(conn, now_ms, &entry)?;
                Ok(revision)
            })
            .await?;

        let mut index = self.index.write();
        if let Err(e) = index.restore_model(id.clone(), model) {
            tracing::error!(error = %e, "a validated model did not load; the index is stale until restart");
        }
        self.revision.store(revision, Ordering::Release);
        Ok((id, revision))
    }

    /// A model version: the named one, or the latest.
    ///
    /// # Errors
    ///
    /// A 404 for an unknown id, or when no model was written yet.
    pub fn model(&self, id: Option<&str>) -> Result<(String, AuthorizationModel), ApiError> {
        let index = self.index.read();
        let model = index
            .model(id)
            .ok_or_else(|| ApiError::not_found("authorization model", id.unwrap_or("(latest)")))?;
        let id = model
            .id
            .clone()
            .or_else(|| index.latest_model_id().map(str::to_owned))
            .unwrap_or_default();
        Ok((id, model.clone()))
    }
}

/// Revisions are stored as SQLite integers.
fn stored(revision: Revision) -> i64 {
    i64::try_from(revision).unwrap_or(i64::MAX)
}

fn current_revision(conn: &Connection) -> Result<Revision, StoreError> {
    let stored: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'graph_revision'")?
        .query_row([], |row| row.get(0))
        .optional()?;
    Ok(stored.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn bump_revision(conn: &Connection) -> Result<Revision, StoreError> {
    let revision = current_revision(conn)? + 1;
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('graph_revision', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([revision.to_string()])?;
    Ok(revision)
}
