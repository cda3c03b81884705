//! Ghost tokens on the wire: issuing one, and reading its status.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::time::{HumanDuration, Timestamp};

/// `POST /v1/tokens`: issue a ghost token for one agent, one user and one
/// intent.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueToken {
    /// The agent that will hold the token, e.g. `agent:travel-bot`.
    pub agent: String,
    /// The user the agent acts for, e.g. `user:123`. A bare id is read as
    /// `user:<id>`.
    pub on_behalf_of: String,
    /// The mission the token serves; its lifecycle gates every action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mission_id: Option<String>,
    /// What the user asked for, in their words. When a mission is named
    /// and this is empty, the mission's intent is used.
    #[serde(default)]
    pub intent: String,
    /// The limits of the token.
    pub constraints: Constraints,
}

/// The limits a ghost token carries.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    /// How long the token lives: `"5 minutes"`, `"5m"`, `"7d"`.
    pub max_access: HumanDuration,
    /// Scopes the token grants: exact names (`gmail.readonly`) or prefix
    /// wildcards (`gmail.*`). One string or a list. Empty grants none.
    #[serde(default, deserialize_with = "one_or_many")]
    #[schemars(with = "OneOrMany")]
    pub scope: Vec<String>,
    /// How many actions the token may be used for; unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_actions: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
#[expect(dead_code, reason = "describes the accepted JSON for the schema only")]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        One(String),
        Many(Vec<String>),
    }

    Ok(match Either::deserialize(deserializer)? {
        Either::One(one) => vec![one],
        Either::Many(many) => many,
    })
}

/// The answer to an issue request. `token` is shown once: the server keeps
/// only its hash.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct IssuedToken {
    /// The ghost token, `phm_…`: hand it to the agent, never log it.
    pub token: String,
    /// The token's public id, for status and revocation.
    pub token_id: String,
    /// When the token stops working.
    pub expires_at: Timestamp,
}

/// Where a token is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    /// Usable.
    Active,
    /// Past its `max_access`.
    Expired,
    /// All `max_actions` spent.
    Exhausted,
    /// Revoked by an operator.
    Revoked,
}

/// `GET /v1/tokens/{id}`: everything about a token but its secret.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TokenStatus {
    /// The token's public id.
    pub token_id: String,
    /// Where the token is in its life.
    pub state: TokenState,
    /// The agent holding it.
    pub agent: String,
    /// The user the agent acts for.
    pub on_behalf_of: String,
    /// The mission it serves, if any.
    pub mission_id: Option<String>,
    /// The intent it is bound to.
    pub intent: String,
    /// The scopes it grants.
    pub scope: Vec<String>,
    /// Its action budget, if limited.
    pub max_actions: Option<u32>,
    /// Actions allowed so far.
    pub actions_used: u32,
    /// Actions left, if limited.
    pub remaining_actions: Option<u32>,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it expires.
    pub expires_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}
