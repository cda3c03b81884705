//! Query requests and responses.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::why::Why;
use crate::graph::tuple::TupleKey;

/// Check: does `user` have `relation` on `object`?
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckRequest<'a> {
    /// `type:id`.
    pub object: &'a str,
    /// The relation.
    pub relation: &'a str,
    /// `type:id`, `type:id#relation` or `type:*`.
    pub user: &'a str,
    /// Values for condition parameters.
    pub context: Option<&'a Map<String, Value>>,
    /// Tuples that hold for this request only.
    pub contextual_tuples: &'a [TupleKey],
    /// The model version to use; the latest when `None`.
    pub model_id: Option<&'a str>,
    /// Whether to return the path that allowed the check.
    pub explain: bool,
}

impl<'a> CheckRequest<'a> {
    /// A check with no context, contextual tuples or model id.
    pub fn new(object: &'a str, relation: &'a str, user: &'a str) -> Self {
        Self {
            object,
            relation,
            user,
            ..Self::default()
        }
    }

    /// Sets the request context.
    pub fn context(mut self, context: &'a Map<String, Value>) -> Self {
        self.context = Some(context);
        self
    }

    /// Sets the contextual tuples.
    pub fn contextual_tuples(mut self, tuples: &'a [TupleKey]) -> Self {
        self.contextual_tuples = tuples;
        self
    }

    /// Uses a specific model version.
    pub fn model_id(mut self, id: &'a str) -> Self {
        self.model_id = Some(id);
        self
    }

    /// Asks for the path that allowed the check.
    pub fn explain(mut self) -> Self {
        self.explain = true;
        self
    }
}

/// The answer to a check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckResponse {
    /// Whether the user has the relation.
    pub allowed: bool,
    /// The graph revision the answer reflects.
    pub revision: u64,
    /// When asked for and allowed: the tuples and rewrites that granted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<Why>,
}

/// ListObjects: which objects of `object_type` does `user` have `relation` on?
#[derive(Clone, Copy, Debug, Default)]
pub struct ListObjectsRequest<'a> {
    /// The object type.
    pub object_type: &'a str,
    /// The relation.
    pub relation: &'a str,
    /// `type:id`, `type:id#relation` or `type:*`.
    pub user: &'a str,
    /// Values for condition parameters.
    pub context: Option<&'a Map<String, Value>>,
    /// Tuples that hold for this request only.
    pub contextual_tuples: &'a [TupleKey],
    /// The model version to use; the latest when `None`.
    pub model_id: Option<&'a str>,
}

impl<'a> ListObjectsRequest<'a> {
    /// A request with no context, contextual tuples or model id.
    pub fn new(object_type: &'a str, relation: &'a str, user: &'a str) -> Self {
        Self {
            object_type,
            relation,
            user,
            ..Self::default()
        }
    }
}

/// A ListUsers filter: `type` or `type#relation`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFilter {
    /// The user type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// For userset results, their relation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
}

impl UserFilter {
    /// Parses `type` or `type#relation`.
    pub fn parse(text: &str) -> Self {
        match text.split_once('#') {
            Some((t, r)) => Self {
                type_name: t.to_owned(),
                relation: Some(r.to_owned()),
            },
            None => Self {
                type_name: text.to_owned(),
                relation: None,
            },
        }
    }
}

/// ListUsers: which users of the filtered types have `relation` on `object`?
#[derive(Clone, Copy, Debug, Default)]
pub struct ListUsersRequest<'a> {
    /// `type:id`.
    pub object: &'a str,
    /// The relation.
    pub relation: &'a str,
    /// The user types (or `type#relation` usersets) to return.
    pub user_filters: &'a [UserFilter],
    /// Values for condition parameters.
    pub context: Option<&'a Map<String, Value>>,
    /// Tuples that hold for this request only.
    pub contextual_tuples: &'a [TupleKey],
    /// The model version to use; the latest when `None`.
    pub model_id: Option<&'a str>,
}

impl<'a> ListUsersRequest<'a> {
    /// A request with no context, contextual tuples or model id.
    pub fn new(object: &'a str, relation: &'a str, user_filters: &'a [UserFilter]) -> Self {
        Self {
            object,
            relation,
            user_filters,
            ..Self::default()
        }
    }
}

/// Expand: the userset tree of `relation` on `object`, one level deep.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExpandRequest<'a> {
    /// `type:id`.
    pub object: &'a str,
    /// The relation.
    pub relation: &'a str,
    /// Tuples that hold for this request only.
    pub contextual_tuples: &'a [TupleKey],
    /// The model version to use; the latest when `None`.
    pub model_id: Option<&'a str>,
}

/// What to do with a write of an existing tuple or a delete of a missing one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnConflict {
    /// Fail the whole write (OpenFGA's default).
    #[default]
    Error,
    /// Skip that tuple.
    Ignore,
}

/// Options for [`super::Graph::apply_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Writing a tuple that exists (with the same condition).
    pub on_duplicate: OnConflict,
    /// Deleting a tuple that does not exist.
    pub on_missing: OnConflict,
    /// The tuples are being restored from storage at start-up: they were checked against
    /// the model of their time when first written, so they are not checked against the
    /// latest model again (a tuple the latest model forbids is kept, and ignored by queries,
    /// as it was before the restart). Syntax is still checked.
    pub replay: bool,
}
