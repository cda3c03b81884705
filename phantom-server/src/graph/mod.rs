//! Phantom's relationship graph: OpenFGA-compatible authorization models (the modelling
//! language and its JSON form), relationship tuples, and the queries Check, Expand,
//! ListObjects and ListUsers over an in-memory index.
//!
//! [`ShadowGraph`] makes it durable: models and tuples are kept in SQLite, validated against
//! the index, committed, then applied, and the index is rebuilt from SQLite at start-up.

pub mod bench;
pub mod engine;
mod error;
pub mod model;
mod shadow;
pub mod tuple;

#[cfg(test)]
mod tests;

pub use engine::condition::{ConditionError, ParameterPolicy};
pub use engine::{
    CheckRequest, CheckResponse, ExpandRequest, Graph, GraphConfig, ListObjectsRequest,
    ListUsersRequest, OnConflict, UserFilter, UsersetTree, Why, WriteOptions,
};
pub use error::{ErrorCode, GraphError};
pub use model::{AuthorizationModel, ModelError, Validation};
pub use shadow::{MAX_CONTEXTUAL_TUPLES, MAX_TUPLES_PER_WRITE, ShadowGraph, tuple_key};
pub use tuple::{TupleCondition, TupleError, TupleKey};
