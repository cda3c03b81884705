//! Argument provenance: what each mission's tools returned, fingerprinted.
//!
//! The agent's SDK sends an [`Observation`] with every recorded action. It
//! is stored with the action (so a restart loses none), and the mission's
//! [`ProvenanceLedger`] is kept in memory for the intent engine, which
//! traces a state-changing call's key arguments back to it: stated by the
//! user, found in the user's own data, or only in third-party content.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use phantom_sdk::provenance::{Observation, ProvenanceLedger};
use rusqlite::{Connection, params};

use crate::error::ApiError;
use crate::store::{Store, StoreError};

/// Missions whose ledgers stay in memory; older ones are reloaded on use.
const CACHED_MISSIONS: usize = 1024;

/// Most values one observation may carry.
const MAX_VALUES: usize = 4096;

/// Checks an observation's shape before it is stored.
///
/// # Errors
///
/// A 400 naming the problem.
pub fn validate(observation: &Observation) -> Result<(), ApiError> {
    if observation.values.len() > MAX_VALUES {
        return Err(ApiError::invalid(
            "invalid_observation",
            format!("an observation may carry at most {MAX_VALUES} values"),
        ));
    }
    let well_formed = |hex: &str| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(bad) = observation
        .values
        .iter()
        .find(|v| !well_formed(v.fingerprint.as_str()))
    {
        return Err(ApiError::invalid(
            "invalid_observation",
            format!(
                "`{}` is not a fingerprint (32 hex digits)",
                bad.fingerprint
                    .as_str()
                    .chars()
                    .take(40)
                    .collect::<String>()
            ),
        ));
    }
    Ok(())
}

/// Stores an observation of `mission_id` inside the caller's transaction.
///
/// # Errors
///
/// Fails if SQLite does.
pub fn store(
    conn: &Connection,
    mission_id: &str,
    observation: &Observation,
    now_ms: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO observations (mission_id, tool, body, at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        mission_id,
        observation.tool,
        serde_json::json!(observation).to_string(),
        now_ms
    ])?;
    Ok(())
}

/// The missions' ledgers, cached.
#[derive(Debug, Default)]
pub struct Ledgers {
    inner: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    ledgers: HashMap<String, Arc<ProvenanceLedger>>,
    order: VecDeque<String>,
    // Bumped by every recorded observation: a ledger loaded while one was
    // being recorded may miss it, and must not be cached.
    generation: HashMap<String, u64>,
}

impl Ledgers {
    /// The ledger of `mission_id`.
    ///
    /// # Errors
    ///
    /// Fails if the store does.
    pub async fn ledger(
        &self,
        store: &Store,
        mission_id: &str,
    ) -> Result<Arc<ProvenanceLedger>, StoreError> {
        let generation = {
            let cache = self.inner.lock();
            if let Some(ledger) = cache.ledgers.get(mission_id) {
                return Ok(Arc::clone(ledger));
            }
            cache.generation.get(mission_id).copied().unwrap_or(0)
        };

        let id = mission_id.to_owned();
        let ledger = Arc::new(store.read(move |conn| load(conn, &id)).await?);

        let mut cache = self.inner.lock();
        let unchanged = cache.generation.get(mission_id).copied().unwrap_or(0) == generation;
        if unchanged {
            cache.insert(mission_id, Arc::clone(&ledger));
        }
        Ok(ledger)
    }

    /// Adds a just-stored observation to the cached ledger, if any.
    pub fn recorded(&self, mission_id: &str, observation: Observation) {
        let mut cache = self.inner.lock();
        *cache.generation.entry(mission_id.to_owned()).or_default() += 1;
        if let Some(ledger) = cache.ledgers.get_mut(mission_id) {
            Arc::make_mut(ledger).record(observation);
        }
    }
}

impl Cache {
    fn insert(&mut self, mission_id: &str, ledger: Arc<ProvenanceLedger>) {
        if self.ledgers.insert(mission_id.to_owned(), ledger).is_none() {
            self.order.push_back(mission_id.to_owned());
        }
        while self.order.len() > CACHED_MISSIONS {
            if let Some(oldest) = self.order.pop_front() {
                self.ledgers.remove(&oldest);
                self.generation.remove(&oldest);
            }
        }
    }
}

/// Rebuilds a ledger from the mission's latest observations.
fn load(conn: &Connection, mission_id: &str) -> Result<ProvenanceLedger, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT body FROM observations WHERE mission_id = ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let capacity = i64::try_from(ProvenanceLedger::DEFAULT_CAPACITY).unwrap_or(i64::MAX);
    let mut bodies = statement
        .query_map(params![mission_id, capacity], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    bodies.reverse();

    let mut ledger = ProvenanceLedger::new(mission_id);
    for body in bodies {
        // Stored observations were validated; one a newer build wrote in
        // another shape is skipped rather than failing the decision.
        if let Ok(observation) = serde_json::from_str::<Observation>(&body) {
            ledger.record(observation);
        }
    }
    Ok(ledger)
}
