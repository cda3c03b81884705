//! Entitlements: what a user's plan allows, kept in step with billing.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `POST /v1/entitlements` and `DELETE /v1/entitlements`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entitlement {
    /// The user, e.g. `user:123`.
    pub user: String,
    /// The entitlement, e.g. `pro_features`.
    pub entitlement: String,
}

/// What changing an entitlement did.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EntitlementChange {
    /// Whether the entitlement is now held.
    pub held: bool,
    /// Missions paused because they need the removed entitlement.
    pub paused_missions: Vec<String>,
}
