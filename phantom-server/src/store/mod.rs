//! Durable state in SQLite, with group commit.
//!
//! One writer thread owns the write connection. Writes queue up as jobs;
//! the thread runs every queued job inside one transaction, each job in its
//! own savepoint (a failing job rolls back alone), commits once, and only
//! then answers the jobs' callers. An answer therefore always means "on
//! disk": nothing a client was told succeeded is lost on a crash, and the
//! fsync is shared by everyone who arrived while the last one ran.
//!
//! Reads use a small pool of read-only connections; with SQLite's WAL they
//! see every committed write and never wait for the writer.
//!
//! The SQL of each concept lives with the concept (`tokens`, `missions`,
//! ...); this module only runs it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags, Transaction};
use tokio::sync::oneshot;

/// The schema, applied in order; `PRAGMA user_version` records how many
/// steps a database has had.
const MIGRATIONS: &[&str] = &[
    include_str!("schema_v1.sql"),
    include_str!("schema_v2.sql"),
    include_str!("schema_v3.sql"),
];

/// At most this many queued jobs share one transaction: enough to amortise
/// the fsync, few enough to bound the latency of the first job.
const MAX_BATCH: usize = 256;

/// Read connections kept open.
const READERS: usize = 4;

/// Why the store failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(Arc<rusqlite::Error>),
    /// The commit of a batch failed, so the job's work is not durable.
    #[error("commit failed: {0}")]
    Commit(String),
    /// The store is shutting down.
    #[error("store is closed")]
    Closed,
    /// The database was created by a newer Phantom.
    #[error("database schema version {found} is newer than this build knows ({known})")]
    TooNew {
        /// The version found.
        found: usize,
        /// The newest this build knows.
        known: usize,
    },
    /// The data directory could not be prepared.
    #[error("cannot prepare data directory {path}: {reason}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(Arc::new(error))
    }
}

type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type Job = Box<dyn FnOnce(&mut Transaction<'_>) -> Completion + Send>;

/// What the writer thread receives.
enum Message {
    /// Run this in the next batch.
    Job(Job),
    /// Finish what is queued, then stop.
    Stop,
}

/// The database.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::Sender<Message>,
    readers: Arc<Mutex<Vec<Connection>>>,
    path: PathBuf,
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) `phantom.db` in `data_dir` and migrates it.
    ///
    /// # Errors
    ///
    /// Fails if the directory cannot be created, the database cannot be
    /// opened, or it was made by a newer build.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::DataDir {
            path: data_dir.to_owned(),
            reason: e.to_string(),
        })?;
        let path = data_dir.join("phantom.db");

        let mut writer = Connection::open(&path)?;
        // WAL lets readers run beside the writer; FULL syncs the WAL on every
        // commit, which group commit makes affordable.
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", "FULL")?;
        writer.pragma_update(None, "foreign_keys", "ON")?;
        writer.busy_timeout(std::time::Duration::from_secs(5))?;
        let applied = migrate(&mut writer)?;
        if applied > 0 {
            tracing::info!(path = %path.display(), steps = applied, "database migrated");
        }

        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            reader.busy_timeout(std::time::Duration::from_secs(5))?;
            readers.push(reader);
        }

        let (jobs, queue) = mpsc::channel::<Message>();
        let thread = std::thread::Builder::new()
            .name("phantom-store".to_owned())
            .spawn(move || run_writer(writer, queue))
            .map_err(|e| StoreError::DataDir {
                path: data_dir.to_owned(),
                reason: format!("cannot start the writer thread: {e}"),
            })?;

        Ok(Self {
            jobs,
            readers: Arc::new(Mutex::new(readers)),
            path,
            writer: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` in the next write batch and answers once it is durable.
    /// If `work` fails, everything it wrote is rolled back and its error is
    /// returned.
    ///
    /// # Errors
    ///
    /// The error of `work`, or a [`StoreError`] if the batch did not commit.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |txn| {
            let result = in_savepoint(txn, work);
            Box::new(move |committed: Result<(), StoreError>| {
                let outcome = match committed {
                    Ok(()) => result,
                    Err(e) => Err(E::from(e)),
                };
                // The caller may have gone away; the work is durable anyway.
                let _ = answer.send(outcome);
            })
        });
        self.jobs
            .send(Message::Job(job))
            .map_err(|_| E::from(StoreError::Closed))?;
        answered.await.map_err(|_| E::from(StoreError::Closed))?
    }

    /// Runs `work` on a read-only connection. It sees every committed write.
    ///
    /// # Errors
    ///
    /// The error of `work`.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().pop();
            let connection = match pooled {
                Some(connection) => connection,
                None => Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .map_err(|e| E::from(StoreError::from(e)))?,
            };
            let result = work(&connection);
            let mut pool = readers.lock();
            if pool.len() < READERS {
                pool.push(connection);
            }
            result
        })
        .await
        .map_err(|_| E::from(StoreError::Closed))?
    }

    /// Stops accepting writes, finishes the queued ones, and waits for the
    /// writer thread.
    pub async fn close(&self) {
        // Jobs sent after this fail with `Closed`: the receiver is gone.
        let _ = self.jobs.send(Message::Stop);
        let handle = self.writer.lock().take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

fn in_savepoint<T, E, F>(txn: &mut Transaction<'_>, work: F) -> Result<T, E>
where
    F: FnOnce(&Connection) -> Result<T, E>,
    E: From<StoreError>,
{
    let savepoint = txn.savepoint().map_err(|e| E::from(e.into()))?;
    let result = work(&savepoint);
    if result.is_ok() {
        savepoint.commit().map_err(|e| E::from(e.into()))?;
    }
    // On error the savepoint rolls back when dropped.
    result
}

fn run_writer(mut connection: Connection, queue: mpsc::Receiver<Message>) {
    let mut stopping = false;
    while !stopping {
        let Ok(Message::Job(first)) = queue.recv() else {
            break;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(Message::Job(job)) => batch.push(job),
                Ok(Message::Stop) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }

        let mut txn = match connection.transaction() {
            Ok(txn) => txn,
            Err(e) => {
                let error = StoreError::from(e);
                tracing::error!(%error, "cannot begin a write transaction");
                // Nothing ran; tell every caller. Dropping a job drops its
                // answer channel, which its caller reads as `Closed`.
                drop(batch);
                continue;
            }
        };
        let completions: Vec<Completion> = batch.into_iter().map(|job| job(&mut txn)).collect();
        let committed = txn.commit().map_err(|e| {
            tracing::error!(error = %e, "commit failed");
            StoreError::Commit(e.to_string())
        });
        for complete in completions {
            complete(committed.clone());
        }
    }
}

fn migrate(connection: &mut Connection) -> Result<usize, StoreError> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StoreError::TooNew {
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    let txn = connection.transaction()?;
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        txn.execute_batch(sql)?;
        txn.pragma_update(
            None,
            "user_version",
            i64::try_from(step + 1).unwrap_or(i64::MAX),
        )?;
    }
    txn.commit()?;
    Ok(MIGRATIONS.len() - version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_job_rolls_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();

        let ok = store.write(|c| {
            c.execute("INSERT INTO meta (key, value) VALUES ('a', '1')", [])
                .map_err(StoreError::from)
        });
        let failing = store.write(|c| -> Result<(), StoreError> {
            c.execute("INSERT INTO meta (key, value) VALUES ('b', '2')", [])?;
            Err(StoreError::Closed)
        });
        let (ok, failing) = tokio::join!(ok, failing);
        assert!(ok.is_ok());
        assert!(failing.is_err());

        let keys: Vec<String> = store
            .read(|c| {
                let mut statement = c.prepare("SELECT key FROM meta WHERE key IN ('a', 'b')")?;
                let rows = statement.query_map([], |row| row.get(0))?;
                rows.collect::<Result<Vec<String>, _>>()
                    .map_err(StoreError::from)
            })
            .await
            .unwrap();
        assert_eq!(keys, vec!["a".to_owned()]);
    }

    #[tokio::test]
    async fn acknowledged_writes_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .write(|c| {
                c.execute("INSERT INTO meta (key, value) VALUES ('kept', 'yes')", [])
                    .map_err(StoreError::from)
            })
            .await
            .unwrap();
        store.close().await;

        let reopened = Store::open(dir.path()).unwrap();
        let value: String = reopened
            .read(|c| {
                c.query_row("SELECT value FROM meta WHERE key = 'kept'", [], |r| {
                    r.get(0)
                })
                .map_err(StoreError::from)
            })
            .await
            .unwrap();
        assert_eq!(value, "yes");
    }
}
