//! Zanzibar identifiers: objects, subjects and relationship tuples.
//!
//! An object is `type:id`; a subject is an object, a userset
//! `type:id#relation`, or a wildcard `type:*`; a tuple is
//! `object#relation@subject`, e.g. `resource:doc_456#owner@user:123`.
//!
//! Parsing is strict so that a typo is an error at the edge, never a tuple
//! that silently matches nothing.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest type or relation name accepted.
const MAX_NAME_LEN: usize = 254;
/// Longest object id accepted; long enough for URLs and SpiceDB-style ids.
const MAX_ID_LEN: usize = 1024;

/// Why an identifier or tuple did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{input}`: {problem}")]
pub struct ParseError {
    what: &'static str,
    input: String,
    problem: String,
}

impl ParseError {
    fn new(what: &'static str, input: &str, problem: impl Into<String>) -> Self {
        // Echo at most a prefix: the input may be arbitrarily long.
        let input: String = input.chars().take(80).collect();
        Self {
            what,
            input,
            problem: problem.into(),
        }
    }
}

fn check_name(what: &'static str, full: &str, name: &str) -> Result<(), ParseError> {
    if name.is_empty() {
        return Err(ParseError::new(what, full, "name is empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(ParseError::new(what, full, "name is longer than 254 bytes"));
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.');
    if let Some(bad) = name.chars().find(|c| !valid(*c)) {
        return Err(ParseError::new(
            what,
            full,
            format!("`{bad}` is not allowed in a name (letters, digits, `_ - / .`)"),
        ));
    }
    Ok(())
}

fn check_id(what: &'static str, full: &str, id: &str) -> Result<(), ParseError> {
    if id.is_empty() {
        return Err(ParseError::new(what, full, "id is empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(ParseError::new(what, full, "id is longer than 1024 bytes"));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '#' | '@' | ':' | '*'))
    {
        return Err(ParseError::new(
            what,
            full,
            format!("`{}` is not allowed in an id", bad.escape_default()),
        ));
    }
    Ok(())
}

/// An object: `type:id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    kind: String,
    id: String,
}

impl ObjectRef {
    /// The object's type, e.g. `resource` in `resource:doc_456`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The object's id, e.g. `doc_456` in `resource:doc_456`.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl FromStr for ObjectRef {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((kind, id)) = s.split_once(':') else {
            return Err(ParseError::new("object", s, "expected `type:id`"));
        };
        check_name("object", s, kind)?;
        check_id("object", s, id)?;
        Ok(Self {
            kind: kind.to_owned(),
            id: id.to_owned(),
        })
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

/// Who a tuple grants a relation to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// One object, usually a user: `user:123`.
    Object(ObjectRef),
    /// Everyone holding `relation` on `object`: `group:eng#member`.
    Userset {
        /// The object whose relation is referenced.
        object: ObjectRef,
        /// The relation on that object.
        relation: String,
    },
    /// Every object of a type: `user:*`.
    Wildcard {
        /// The type every object of which is meant.
        kind: String,
    },
}

impl Subject {
    /// The subject's type, whatever its form.
    pub fn kind(&self) -> &str {
        match self {
            Self::Object(object) | Self::Userset { object, .. } => object.kind(),
            Self::Wildcard { kind } => kind,
        }
    }
}

impl FromStr for Subject {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(kind) = s.strip_suffix(":*") {
            check_name("subject", s, kind)?;
            return Ok(Self::Wildcard {
                kind: kind.to_owned(),
            });
        }
        match s.split_once('#') {
            None => s
                .parse()
                .map(Self::Object)
                .map_err(|e: ParseError| ParseError::new("subject", s, e.problem)),
            Some((object, relation)) => {
                let object = object
                    .parse()
                    .map_err(|e: ParseError| ParseError::new("subject", s, e.problem))?;
                check_name("subject", s, relation)?;
                Ok(Self::Userset {
                    object,
                    relation: relation.to_owned(),
                })
            }
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Object(object) => object.fmt(f),
            Self::Userset { object, relation } => write!(f, "{object}#{relation}"),
            Self::Wildcard { kind } => write!(f, "{kind}:*"),
        }
    }
}

/// A condition attached to a tuple: the tuple holds only when the named
/// condition of the model evaluates to true.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TupleCondition {
    /// The condition's name in the authorization model.
    pub name: String,
    /// Parameter values fixed when the tuple was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A relationship: `object#relation@subject`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuple {
    /// The object the relation is on.
    pub object: ObjectRef,
    /// The relation, e.g. `owner`.
    pub relation: String,
    /// Who holds the relation.
    pub subject: Subject,
    /// An optional condition the tuple depends on.
    pub condition: Option<TupleCondition>,
}

impl Tuple {
    /// Builds a tuple from its three parts, validating each.
    ///
    /// # Errors
    ///
    /// Returns a [`ParseError`] naming the part that is malformed.
    ///
    /// # Example
    ///
    /// ```
    /// let tuple = phantom_sdk::Tuple::new("resource:doc_456", "owner", "user:123")?;
    /// assert_eq!(tuple.to_string(), "resource:doc_456#owner@user:123");
    /// # Ok::<(), phantom_sdk::tuple::ParseError>(())
    /// ```
    pub fn new(object: &str, relation: &str, subject: &str) -> Result<Self, ParseError> {
        let object = object.parse()?;
        check_name("relation", relation, relation)?;
        Ok(Self {
            object,
            relation: relation.to_owned(),
            subject: subject.parse()?,
            condition: None,
        })
    }
}

impl FromStr for Tuple {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((left, subject)) = s.split_once('@') else {
            return Err(ParseError::new(
                "tuple",
                s,
                "expected `object#relation@subject`",
            ));
        };
        let Some((object, relation)) = left.split_once('#') else {
            return Err(ParseError::new(
                "tuple",
                s,
                "expected `object#relation` before `@`",
            ));
        };
        Self::new(object, relation, subject)
            .map_err(|e| ParseError::new("tuple", s, format!("{}: {}", e.what, e.problem)))
    }
}

impl fmt::Display for Tuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}@{}", self.object, self.relation, self.subject)
    }
}

/// The tuple's wire form: the compact string, or the fields of OpenFGA's
/// tuple key (`user` is accepted as another name for `subject`).
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "Tuple")]
enum TupleRepr {
    /// `object#relation@subject`
    Text(String),
    /// The parts one by one.
    Fields(TupleFields),
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TupleFields {
    object: String,
    relation: String,
    #[serde(alias = "user")]
    subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    condition: Option<TupleCondition>,
}

impl Serialize for Tuple {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        TupleRepr::Fields(TupleFields {
            object: self.object.to_string(),
            relation: self.relation.clone(),
            subject: self.subject.to_string(),
            condition: self.condition.clone(),
        })
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Tuple {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        match TupleRepr::deserialize(deserializer)? {
            TupleRepr::Text(text) => text.parse().map_err(D::Error::custom),
            TupleRepr::Fields(fields) => {
                let mut tuple = Tuple::new(&fields.object, &fields.relation, &fields.subject)
                    .map_err(D::Error::custom)?;
                tuple.condition = fields.condition;
                Ok(tuple)
            }
        }
    }
}

impl JsonSchema for Tuple {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        TupleRepr::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        TupleRepr::json_schema(generator)
    }
}

/// Serde and schema support for fields holding an [`ObjectRef`] or a
/// [`Subject`] as their string form.
macro_rules! string_form {
    ($ty:ty, $name:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string" })
            }
        }
    };
}

string_form!(ObjectRef, "Object");
string_form!(Subject, "Subject");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_subject_forms() {
        assert_eq!(
            "user:123".parse::<Subject>().map(|s| s.to_string()),
            Ok("user:123".to_owned())
        );
        assert!(matches!(
            "group:eng#member".parse::<Subject>(),
            Ok(Subject::Userset { relation, .. }) if relation == "member"
        ));
        assert!(matches!(
            "user:*".parse::<Subject>(),
            Ok(Subject::Wildcard { kind }) if kind == "user"
        ));
    }

    #[test]
    fn tuple_round_trips_through_text_and_json() {
        let tuple: Tuple = "resource:doc_456#owner@user:123".parse().unwrap();
        assert_eq!(tuple.to_string(), "resource:doc_456#owner@user:123");

        let json = serde_json::to_value(&tuple).unwrap();
        let back: Tuple = serde_json::from_value(json).unwrap();
        assert_eq!(back, tuple);

        let from_text: Tuple =
            serde_json::from_value(serde_json::json!("group:eng#member@group:ops#member")).unwrap();
        assert_eq!(from_text.to_string(), "group:eng#member@group:ops#member");
    }

    #[test]
    fn rejects_malformed_tuples_with_the_reason() {
        for bad in [
            "",
            "doc:1#owner",
            "doc:1@user:1",
            "doc#owner@user:1",
            "doc:#owner@user:1",
            "doc:1#own er@user:1",
            "doc:1#owner@user",
            "doc:1#owner@user:1#",
            "doc:*#owner@user:1",
            ":1#owner@user:1",
        ] {
            let err = bad.parse::<Tuple>().unwrap_err();
            assert!(err.to_string().starts_with("invalid tuple"), "{bad}: {err}");
        }
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let json = serde_json::json!({"object": "doc:1", "relation": "owner", "subject": "user:1", "extra": 1});
        assert!(serde_json::from_value::<Tuple>(json).is_err());
    }
}
