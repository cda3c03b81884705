//! The relationship graph on the wire: the authorization model, writes,
//! and the queries Check, Expand, ListObjects and ListUsers, as in OpenFGA.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tuple::{ObjectRef, Subject, Tuple};

/// A position in the graph's history. Every write (of tuples or of a model)
/// returns one; a query that names one with `at_least` sees that write.
pub type Revision = u64;

/// A request context: values for the parameters of the model's conditions.
pub type Context = serde_json::Map<String, serde_json::Value>;

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

/// The answer to `PUT /v1/model`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ModelWritten {
    /// The new model version's id; it is now the latest.
    pub model_id: String,
    /// The revision that contains it.
    pub revision: Revision,
}

/// `GET /v1/model`: a model version.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ModelVersion {
    /// The version's id.
    pub model_id: String,
    /// The model in OpenFGA's JSON form.
    pub model: serde_json::Value,
    /// The model in OpenFGA's modelling language; absent when the model
    /// uses what the language cannot say (SpiceDB's every-parent arrow, or
    /// direct assignment where only the JSON form can put it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsl: Option<String>,
}

/// `POST /v1/graph/check`: does `subject` have `relation` on `object`?
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// Who asks: `user:123`, a userset `group:eng#member`, or `user:*`.
    pub subject: Subject,
    /// The relation, e.g. `viewer`.
    pub relation: String,
    /// The object, e.g. `resource:doc_456`.
    pub object: ObjectRef,
    /// Answer from a revision at least this recent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<Revision>,
    /// Tuples that hold for this request only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contextual_tuples: Vec<Tuple>,
    /// Values for the parameters of the model's conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The model version to use; the latest by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    /// Also return why the relation holds: the tuples and rewrites on the
    /// path that allowed it.
    #[serde(default)]
    pub explain: bool,
}

impl CheckRequest {
    /// A check of `subject`'s `relation` on `object`, at the latest revision
    /// and model.
    pub fn new(subject: Subject, relation: impl Into<String>, object: ObjectRef) -> Self {
        Self {
            subject,
            relation: relation.into(),
            object,
            at_least: None,
            contextual_tuples: Vec::new(),
            context: None,
            model_id: None,
            explain: false,
        }
    }
}

/// The answer to a check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CheckResponse {
    /// Whether the relation holds.
    pub allowed: bool,
    /// The revision the answer was computed at.
    pub revision: Revision,
    /// With `explain`, when allowed: the path that allowed it, as tagged
    /// JSON (`tuple`, `via_userset`, `computed`, `via_parent`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<serde_json::Value>,
}

/// `POST /v1/graph/expand`: the tree of who has `relation` on `object`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpandRequest {
    /// The relation.
    pub relation: String,
    /// The object.
    pub object: ObjectRef,
    /// Answer from a revision at least this recent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<Revision>,
    /// Tuples that hold for this request only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contextual_tuples: Vec<Tuple>,
    /// The model version to use; the latest by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
}

/// The answer to an expand.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ExpandResponse {
    /// The userset tree, in OpenFGA's JSON shape.
    pub tree: serde_json::Value,
    /// The revision the answer was computed at.
    pub revision: Revision,
}

/// `POST /v1/graph/list-objects`: the objects of `type` on which `subject`
/// has `relation`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListObjectsRequest {
    /// Who asks.
    pub subject: Subject,
    /// The relation.
    pub relation: String,
    /// The type of the objects to list.
    #[serde(rename = "type")]
    pub object_type: String,
    /// Answer from a revision at least this recent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<Revision>,
    /// Tuples that hold for this request only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contextual_tuples: Vec<Tuple>,
    /// Values for the parameters of the model's conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The model version to use; the latest by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
}

/// The answer to a list-objects.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ListObjectsResponse {
    /// The objects, `type:id`.
    pub objects: Vec<String>,
    /// The revision the answer was computed at.
    pub revision: Revision,
}

/// `POST /v1/graph/list-users`: the subjects that have `relation` on
/// `object`, of the types asked for.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListUsersRequest {
    /// The object.
    pub object: ObjectRef,
    /// The relation.
    pub relation: String,
    /// Which subjects: types (`user`) or usersets (`group#member`).
    pub user_filters: Vec<String>,
    /// Answer from a revision at least this recent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<Revision>,
    /// Tuples that hold for this request only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contextual_tuples: Vec<Tuple>,
    /// Values for the parameters of the model's conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The model version to use; the latest by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
}

/// The answer to a list-users.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ListUsersResponse {
    /// The subjects: `user:1`, `user:*`, `group:eng#member`.
    pub users: Vec<String>,
    /// The revision the answer was computed at.
    pub revision: Revision,
}
