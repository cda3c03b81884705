//! Expand's userset tree, in OpenFGA's JSON shape.

use serde::Serialize;

/// The tree of a relation on an object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UsersetTree {
    /// The root node, named `object#relation`.
    pub root: ExpandNode,
}

/// One node: a leaf or an operator over child nodes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExpandNode {
    /// `object#relation`.
    pub name: String,
    /// What the node is.
    #[serde(flatten)]
    pub kind: NodeKind,
}

/// The kinds of node.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NodeKind {
    /// Direct subjects, a computed userset, or a tuple-to-userset.
    Leaf(Leaf),
    /// Any child.
    Union(Nodes),
    /// Every child.
    Intersection(Nodes),
    /// Base but not subtract.
    Difference(DifferenceNode),
}

/// Child nodes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Nodes {
    /// The children.
    pub nodes: Vec<ExpandNode>,
}

/// The two sides of a difference.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DifferenceNode {
    /// What grants.
    pub base: Box<ExpandNode>,
    /// What takes away.
    pub subtract: Box<ExpandNode>,
}

/// A leaf: exactly one field is set.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Leaf {
    /// Direct subjects: `type:id`, `type:*`, `type:id#relation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Users>,
    /// Another relation on the same object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed: Option<Computed>,
    /// A relation on the objects a tupleset points to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tuple_to_userset: Option<TupleToUsersetLeaf>,
}

/// Direct subjects.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Users {
    /// The subjects, sorted.
    pub users: Vec<String>,
}

/// A userset reference `object#relation`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Computed {
    /// `object#relation`.
    pub userset: String,
}

/// A tuple-to-userset leaf.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TupleToUsersetLeaf {
    /// `object#tupleset`.
    pub tupleset: String,
    /// One `parent#relation` per tuple of the tupleset.
    pub computed: Vec<Computed>,
}
