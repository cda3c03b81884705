//! OpenFGA's authorization-model JSON, as serde types.
//!
//! The field names and shapes match the OpenFGA API exactly, so a model written by the
//! OpenFGA CLI or SDKs deserializes unchanged and a model we produce can be fed back to them.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An authorization model: types, their relations, and the conditions relations may use.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationModel {
    /// The model id, present on models read back from a store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `"1.1"`; older schemas are not supported.
    #[serde(default)]
    pub schema_version: String,
    /// The types, in declaration order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub type_definitions: Vec<TypeDefinition>,
    /// Conditions by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<String, Condition>,
}

/// One type and its relations.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeDefinition {
    /// The type name, e.g. `document`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Each relation's rewrite, in declaration order.
    #[serde(default)]
    pub relations: RelationMap,
    /// The type restrictions of directly assignable relations. OpenFGA writes `null` for a type
    /// without relations, so we do too.
    #[serde(default)]
    pub metadata: Option<Metadata>,
}

/// Relation name → rewrite, keeping declaration order (JSON objects are unordered, but a
/// model read from the DSL should be written back in the order its author chose).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RelationMap(pub Vec<(String, Userset)>);

impl RelationMap {
    /// The rewrite of `name`, if the relation exists.
    pub fn get(&self, name: &str) -> Option<&Userset> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, u)| u)
    }

    /// Whether the relation exists.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Relations in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Userset)> {
        self.0.iter().map(|(n, u)| (n, u))
    }

    /// Number of relations.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no relations.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for RelationMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, rewrite) in &self.0 {
            map.serialize_entry(name, rewrite)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for RelationMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;

        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = RelationMap;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of relation names to rewrites")
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<RelationMap, E> {
                Ok(RelationMap::default())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<RelationMap, A::Error> {
                let mut entries: Vec<(String, Userset)> = Vec::new();
                while let Some((name, rewrite)) = access.next_entry::<String, Userset>()? {
                    // A repeated JSON key overrides, as in Go's decoder.
                    if let Some(slot) = entries.iter_mut().find(|(n, _)| *n == name) {
                        slot.1 = rewrite;
                    } else {
                        entries.push((name, rewrite));
                    }
                }
                Ok(RelationMap(entries))
            }
        }

        deserializer.deserialize_any(OrderedVisitor)
    }
}

/// Per-type metadata: the type restrictions of each relation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Relation name → its metadata.
    #[serde(default)]
    pub relations: BTreeMap<String, RelationMetadata>,
    /// The module a type came from (modular models); kept for round trips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Where the type was defined (modular models); kept for round trips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_info: Option<serde_json::Value>,
}

/// The type restrictions of one relation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RelationMetadata {
    /// `[user, group#member, user:*, user with cond]`, in order.
    #[serde(default)]
    pub directly_related_user_types: Vec<RelationReference>,
    /// The module a relation came from (modular models); kept for round trips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Where the relation was defined (modular models); kept for round trips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_info: Option<serde_json::Value>,
}

/// One type restriction: `user`, `group#member`, `user:*`, optionally `with condition`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RelationReference {
    /// The subject type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// For a userset restriction, its relation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// Present (as `{}`) for a wildcard restriction `type:*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wildcard: Option<Wildcard>,
    /// The condition a tuple must carry to match this restriction.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
}

impl RelationReference {
    /// `user`.
    pub fn direct(type_name: impl Into<String>) -> Self {
        Self {
            type_name: type_name.into(),
            ..Self::default()
        }
    }

    /// `user:*`.
    pub fn wildcard(type_name: impl Into<String>) -> Self {
        Self {
            type_name: type_name.into(),
            wildcard: Some(Wildcard {}),
            ..Self::default()
        }
    }

    /// `group#member`.
    pub fn userset(type_name: impl Into<String>, relation: impl Into<String>) -> Self {
        Self {
            type_name: type_name.into(),
            relation: Some(relation.into()),
            ..Self::default()
        }
    }

    /// The same restriction with a condition.
    pub fn with_condition(mut self, condition: impl Into<String>) -> Self {
        self.condition = condition.into();
        self
    }

    /// Whether this is `type:*`.
    pub fn is_wildcard(&self) -> bool {
        self.wildcard.is_some()
    }
}

impl fmt::Display for RelationReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.type_name)?;
        if self.is_wildcard() {
            f.write_str(":*")?;
        } else if let Some(relation) = &self.relation {
            write!(f, "#{relation}")?;
        }
        if !self.condition.is_empty() {
            write!(f, " with {}", self.condition)?;
        }
        Ok(())
    }
}

/// The empty object `{}` that marks a wildcard restriction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Wildcard {}

/// A relation's rewrite rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Userset {
    /// Directly assignable: tuples on this relation, filtered by the type restrictions.
    #[serde(rename = "this")]
    This(DirectUserset),
    /// Another relation on the same object (`define viewer: editor`).
    #[serde(rename = "computedUserset")]
    ComputedUserset(ObjectRelation),
    /// A relation on the objects a tupleset relation points to (`viewer from parent`).
    #[serde(rename = "tupleToUserset")]
    TupleToUserset(TupleToUserset),
    /// Any child (`or`).
    #[serde(rename = "union")]
    Union(Usersets),
    /// Every child (`and`).
    #[serde(rename = "intersection")]
    Intersection(Usersets),
    /// Base minus subtract (`but not`).
    #[serde(rename = "difference")]
    Difference(Box<Difference>),
}

impl Userset {
    /// `this`.
    pub fn this() -> Self {
        Self::This(DirectUserset {})
    }

    /// `computedUserset{relation}`.
    pub fn computed(relation: impl Into<String>) -> Self {
        Self::ComputedUserset(ObjectRelation::relation(relation))
    }

    /// `tupleToUserset{tupleset, computedUserset}`: `computed from tupleset`.
    pub fn tuple_to_userset(tupleset: impl Into<String>, computed: impl Into<String>) -> Self {
        Self::TupleToUserset(TupleToUserset {
            tupleset: ObjectRelation::relation(tupleset),
            computed_userset: ObjectRelation::relation(computed),
            all: false,
        })
    }

    /// SpiceDB's intersection arrow `tupleset.all(computed)`: the relation
    /// must hold on every parent, and there must be one.
    pub fn tuple_to_userset_all(tupleset: impl Into<String>, computed: impl Into<String>) -> Self {
        Self::TupleToUserset(TupleToUserset {
            tupleset: ObjectRelation::relation(tupleset),
            computed_userset: ObjectRelation::relation(computed),
            all: true,
        })
    }

    /// `union{child}`.
    pub fn union(child: Vec<Userset>) -> Self {
        Self::Union(Usersets { child })
    }

    /// `intersection{child}`.
    pub fn intersection(child: Vec<Userset>) -> Self {
        Self::Intersection(Usersets { child })
    }

    /// `difference{base, subtract}`.
    pub fn difference(base: Userset, subtract: Userset) -> Self {
        Self::Difference(Box::new(Difference { base, subtract }))
    }
}

/// The empty object of `{"this": {}}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectUserset {}

/// `{relation}` (OpenFGA's `ObjectRelation`; its `object` field is unused in rewrites).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRelation {
    /// Unused in rewrites; kept so API JSON that carries it round-trips.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub object: String,
    /// The relation name.
    #[serde(default)]
    pub relation: String,
}

impl ObjectRelation {
    /// A reference to `relation` on the same object.
    pub fn relation(relation: impl Into<String>) -> Self {
        Self {
            object: String::new(),
            relation: relation.into(),
        }
    }
}

/// `computed_userset from tupleset`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TupleToUserset {
    /// The relation whose tuples point at the parent objects.
    pub tupleset: ObjectRelation,
    /// The relation evaluated on each parent.
    #[serde(rename = "computedUserset")]
    pub computed_userset: ObjectRelation,
    /// Whether the relation must hold on every parent rather than on one:
    /// SpiceDB's intersection arrow (`parent.all(viewer)`). OpenFGA has no
    /// such rewrite; the field is a Phantom extension of its JSON form and
    /// absent from JSON when false, so OpenFGA models round-trip unchanged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
}

/// The children of a union or intersection.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usersets {
    /// At least two children in a valid model.
    #[serde(default)]
    pub child: Vec<Userset>,
}

/// `base but not subtract`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// What grants access.
    pub base: Userset,
    /// What takes it away.
    pub subtract: Userset,
}

/// A named CEL condition with typed parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// The condition name; equals its key in `conditions`.
    #[serde(default)]
    pub name: String,
    /// The CEL expression.
    #[serde(default)]
    pub expression: String,
    /// Parameter name → type.
    #[serde(default)]
    pub parameters: BTreeMap<String, ConditionParamTypeRef>,
    /// Module information (modular models); kept for round trips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

/// A parameter type, e.g. `int` or `list<string>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionParamTypeRef {
    /// The type.
    pub type_name: TypeName,
    /// The element type of `list` and `map`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generic_types: Vec<ConditionParamTypeRef>,
}

impl ConditionParamTypeRef {
    /// A scalar type.
    pub fn scalar(type_name: TypeName) -> Self {
        Self {
            type_name,
            generic_types: Vec::new(),
        }
    }
}

impl fmt::Display for ConditionParamTypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name.dsl_name())?;
        if !self.generic_types.is_empty() {
            f.write_str("<")?;
            for (i, g) in self.generic_types.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{g}")?;
            }
            f.write_str(">")?;
        }
        Ok(())
    }
}

/// OpenFGA's condition parameter type names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TypeName {
    /// Unset.
    #[serde(rename = "TYPE_NAME_UNSPECIFIED")]
    Unspecified,
    /// Any value.
    #[serde(rename = "TYPE_NAME_ANY")]
    Any,
    /// `bool`.
    #[serde(rename = "TYPE_NAME_BOOL")]
    Bool,
    /// `string`.
    #[serde(rename = "TYPE_NAME_STRING")]
    String,
    /// `int` (64-bit signed).
    #[serde(rename = "TYPE_NAME_INT")]
    Int,
    /// `uint` (64-bit unsigned).
    #[serde(rename = "TYPE_NAME_UINT")]
    Uint,
    /// `double`.
    #[serde(rename = "TYPE_NAME_DOUBLE")]
    Double,
    /// `duration`, e.g. `"1h30m"`.
    #[serde(rename = "TYPE_NAME_DURATION")]
    Duration,
    /// `timestamp`, RFC 3339.
    #[serde(rename = "TYPE_NAME_TIMESTAMP")]
    Timestamp,
    /// `map<T>` with string keys.
    #[serde(rename = "TYPE_NAME_MAP")]
    Map,
    /// `list<T>`.
    #[serde(rename = "TYPE_NAME_LIST")]
    List,
    /// `ipaddress`, e.g. `"192.168.0.1"`.
    #[serde(rename = "TYPE_NAME_IPADDRESS")]
    IpAddress,
}

impl TypeName {
    /// The name used in the DSL.
    pub fn dsl_name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::Any => "any",
            Self::Bool => "bool",
            Self::String => "string",
            Self::Int => "int",
            Self::Uint => "uint",
            Self::Double => "double",
            Self::Duration => "duration",
            Self::Timestamp => "timestamp",
            Self::Map => "map",
            Self::List => "list",
            Self::IpAddress => "ipaddress",
        }
    }

    /// The type for a DSL name.
    pub fn from_dsl_name(name: &str) -> Option<Self> {
        Some(match name {
            "any" => Self::Any,
            "bool" => Self::Bool,
            "string" => Self::String,
            "int" => Self::Int,
            "uint" => Self::Uint,
            "double" => Self::Double,
            "duration" => Self::Duration,
            "timestamp" => Self::Timestamp,
            "map" => Self::Map,
            "list" => Self::List,
            "ipaddress" => Self::IpAddress,
            _ => return None,
        })
    }
}

impl AuthorizationModel {
    /// The definition of `type_name`.
    pub fn type_definition(&self, type_name: &str) -> Option<&TypeDefinition> {
        self.type_definitions
            .iter()
            .find(|t| t.type_name == type_name)
    }
}

impl TypeDefinition {
    /// The type restrictions of `relation` (empty when it has none).
    pub fn directly_related_user_types(&self, relation: &str) -> &[RelationReference] {
        self.metadata
            .as_ref()
            .and_then(|m| m.relations.get(relation))
            .map(|r| r.directly_related_user_types.as_slice())
            .unwrap_or(&[])
    }
}
