//! Why a check was allowed: the tuples and rewrites on the path that granted it.

use serde::Serialize;

use crate::graph::tuple::TupleKey;

/// The proof of an allowed check, from the queried relation down to a tuple.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Why {
    /// This tuple names the user (or its type's wildcard) directly.
    Tuple {
        /// The tuple.
        tuple: TupleKey,
    },
    /// The user is this userset itself (`group:eng#member` has `member` on `group:eng`).
    SameUserset {
        /// The userset.
        userset: String,
    },
    /// This tuple grants the relation to a userset, and the user is in that userset.
    ViaUserset {
        /// The tuple with the userset subject.
        tuple: TupleKey,
        /// Why the user is in the userset.
        then: Box<Why>,
    },
    /// The relation is defined through another relation on the same object.
    Computed {
        /// The object.
        object: String,
        /// The relation it is computed from.
        relation: String,
        /// Why that relation holds.
        then: Box<Why>,
    },
    /// Tuple to userset: this tuple links the object to a parent where the relation holds.
    ViaParent {
        /// The linking tuple.
        tuple: TupleKey,
        /// Why the relation holds on the parent.
        then: Box<Why>,
    },
    /// Every branch of an intersection holds.
    All {
        /// One proof per branch.
        branches: Vec<Why>,
    },
    /// The base of an exclusion holds and the excluded part does not.
    Excluding {
        /// Why the base holds.
        base: Box<Why>,
        /// The excluded rewrite, in DSL form.
        excluded: String,
    },
}
