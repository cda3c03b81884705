//! The graph engine: the tuple index, compiled models and the query algorithms.

mod check;
pub mod condition;
mod expand;
mod graph;
mod intern;
mod overlay;
mod query;
mod request;
mod schema;
mod store;
mod why;

pub use expand::{
    Computed, DifferenceNode, ExpandNode, Leaf, NodeKind, Nodes, TupleToUsersetLeaf, Users,
    UsersetTree,
};
pub use graph::{DEFAULT_MAX_DEPTH, Graph, GraphConfig};
pub use request::{
    CheckRequest, CheckResponse, ExpandRequest, ListObjectsRequest, ListUsersRequest, OnConflict,
    UserFilter, WriteOptions,
};
pub use why::Why;
