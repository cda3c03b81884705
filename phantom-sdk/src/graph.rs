//! The relationship graph on the wire: writes, checks and queries.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tuple::{ObjectRef, Subject, Tuple};

/// A position in the graph's history. Every write returns one; a query
/// that names one with `at_least` sees that write.
pub type Revision = u64;

/// `POST /v1/graph/write`: all writes and deletes apply, or none do.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteTuples {
    /// Tuples to add. Writing a tuple that exists is not an error.
    #[serde(default)]
    pub writes: Vec<Tuple>,
    /// Tuples to remove. Deleting a tuple that does not exist is not an error.
    #[serde(default)]
    pub deletes: Vec<Tuple>,
}

/// The answer to a write.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Written {
    /// The revision that contains the write.
    pub revision: Revision,
}

/// `POST /v1/graph/check`: does `subject` have `relation` on `object`?
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// Who asks, e.g. `user:123` or `group:eng#member`.
    pub subject: Subject,
    /// The relation, e.g. `viewer`.
    pub relation: String,
    /// The object, e.g. `resource:doc_456`.
    pub object: ObjectRef,
    /// Answer from a revision at least this recent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<Revision>,
}

/// The answer to a check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CheckResponse {
    /// Whether the relation holds.
    pub allowed: bool,
    /// The revision the answer was computed at.
    pub revision: Revision,
}
