//! Who is calling: an operator with a management API key, or an agent with
//! its ghost token.
//!
//! API keys are kept as SHA-256 hashes (in the database, or from the
//! configuration) and every presented key is compared against all of them
//! in constant time. An agent's token opens only `authorize` and the calls
//! about its own mission.

use aide::OperationInput;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use parking_lot::RwLock;
use phantom_sdk::{Secret, SecretKind};
use rusqlite::{Connection, params};

use crate::error::ApiError;
use crate::secrets::{self, SecretHash};
use crate::state::AppState;
use crate::store::{Store, StoreError};
use crate::tokens::{self, TokenRecord};

/// The management API keys the server accepts.
#[derive(Debug, Default)]
pub struct ApiKeys {
    hashes: RwLock<Vec<SecretHash>>,
}

/// The key made on first start, to print once.
#[derive(Debug)]
pub struct FirstKey(pub Secret);

impl ApiKeys {
    /// Loads the stored keys, adds the configured one, and, when there is
    /// neither, creates a key, stores its hash and returns it to be shown
    /// once.
    ///
    /// # Errors
    ///
    /// Fails if the store or the random source does.
    pub async fn load(
        store: &Store,
        configured: Option<&str>,
        now_ms: i64,
    ) -> Result<(Self, Option<FirstKey>), StoreError> {
        let mut hashes: Vec<SecretHash> = store
            .read(|conn: &Connection| -> Result<_, StoreError> {
                let mut statement = conn.prepare("SELECT hash FROM api_keys")?;
                let rows = statement.query_map([], |row| row.get::<_, Vec<u8>>(0))?;
                let mut hashes = Vec::new();
                for row in rows {
                    if let Ok(hash) = SecretHash::try_from(row?.as_slice()) {
                        hashes.push(hash);
                    }
                }
                Ok(hashes)
            })
            .await?;

        // The configuration's key is validated when the config is resolved.
        if let Some(key) = configured.and_then(|k| Secret::parse(SecretKind::ApiKey, k).ok()) {
            hashes.push(secrets::hash(&key));
        }

        let mut first = None;
        if hashes.is_empty() {
            let key = secrets::generate(SecretKind::ApiKey)
                .map_err(|e| StoreError::Commit(e.to_string()))?;
            let hash = secrets::hash(&key);
            store
                .write(move |conn| -> Result<(), StoreError> {
                    conn.execute(
                        "INSERT INTO api_keys (id, hash, label, created_at) VALUES (?1, ?2, 'first start', ?3)",
                        params![secrets::new_id("key"), hash.as_slice(), now_ms],
                    )?;
                    Ok(())
                })
                .await?;
            hashes.push(hash);
            first = Some(FirstKey(key));
        }

        Ok((
            Self {
                hashes: RwLock::new(hashes),
            },
            first,
        ))
    }

    /// Whether `key` is one of the accepted keys. Every stored hash is
    /// compared, whatever the result of the others.
    pub fn accepts(&self, key: &Secret) -> bool {
        let presented = secrets::hash(key);
        self.hashes.read().iter().fold(false, |found, stored| {
            secrets::same(stored, &presented) | found
        })
    }
}

/// The bearer credential of a request, unverified.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credential.trim())
}

/// An authenticated operator.
#[derive(Debug, Clone, Copy)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(credential) = bearer(parts) else {
            return Err(ApiError::unauthenticated(
                "this call needs a management API key: send `Authorization: Bearer phk_…`",
            ));
        };
        if credential.starts_with(SecretKind::GhostToken.prefix()) {
            return Err(ApiError::forbidden(
                "a ghost token cannot make management calls",
            ));
        }
        let key = Secret::parse(SecretKind::ApiKey, credential)
            .map_err(|e| ApiError::unauthenticated(format!("malformed API key: {e}")))?;
        if state.api_keys().accepts(&key) {
            Ok(Self)
        } else {
            Err(ApiError::unauthenticated("unknown API key"))
        }
    }
}

impl OperationInput for Operator {}

/// An operator, or an agent presenting its ghost token (in any state: a
/// revoked agent may still report its cleanup).
#[derive(Debug, Clone)]
pub enum Caller {
    /// A management API key.
    Operator,
    /// A ghost token.
    Agent(Box<TokenRecord>),
}

impl Caller {
    /// Refuses agents whose token does not serve `mission_id`.
    ///
    /// # Errors
    ///
    /// A 403 for an agent of another mission.
    pub fn may_touch_mission(&self, mission_id: &str) -> Result<(), ApiError> {
        match self {
            Self::Operator => Ok(()),
            Self::Agent(token) if token.mission_id.as_deref() == Some(mission_id) => Ok(()),
            Self::Agent(_) => Err(ApiError::forbidden(
                "this ghost token does not serve that mission",
            )),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match bearer(parts) {
            Some(credential) if credential.starts_with(SecretKind::GhostToken.prefix()) => {
                let token = Secret::parse(SecretKind::GhostToken, credential).map_err(|e| {
                    ApiError::unauthenticated(format!("malformed ghost token: {e}"))
                })?;
                let hash = secrets::hash(&token);
                let found = state
                    .store()
                    .read(move |conn| tokens::by_hash(conn, &hash).map_err(StoreError::from))
                    .await?;
                found
                    .map(|t| Self::Agent(Box::new(t)))
                    .ok_or_else(|| ApiError::unauthenticated("unknown ghost token"))
            }
            _ => Operator::from_request_parts(parts, state)
                .await
                .map(|_| Self::Operator),
        }
    }
}

impl OperationInput for Caller {}

/// The raw bearer credential, for `authorize`, which answers a bad token
/// with a BLOCK decision rather than an HTTP error.
#[derive(Debug, Clone)]
pub struct Bearer(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(bearer(parts).map(str::to_owned)))
    }
}

impl OperationInput for Bearer {}
