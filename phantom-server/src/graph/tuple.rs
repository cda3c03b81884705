//! Relationship tuples: `object#relation@subject`.
//!
//! An object is `type:id`; a subject is `type:id`, a userset `type:id#relation`, or a wildcard
//! `type:*`. The naming rules are OpenFGA's: type names have no `:`, `#`, `@` or whitespace
//! (1 to 254 characters), relation names likewise (1 to 50), and ids have no `#`, `:` or
//! whitespace.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use super::model::{is_valid_relation_name, is_valid_type_name};

/// A relationship tuple in OpenFGA's JSON shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TupleKey {
    /// `type:id`.
    pub object: String,
    /// The relation name.
    pub relation: String,
    /// `type:id`, `type:id#relation` or `type:*`.
    pub user: String,
    /// The condition the tuple is granted under, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<TupleCondition>,
}

/// A tuple's condition: its name and the parameter values fixed when the tuple was written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TupleCondition {
    /// The condition name, declared in the model.
    pub name: String,
    /// Parameter values stored with the tuple; the request context fills in the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Map<String, Value>>,
}

/// A tuple string or one of its parts is malformed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum TupleError {
    /// The tuple string is not `object#relation@subject`.
    #[error("invalid tuple `{input}`: {reason}")]
    Syntax {
        /// The text given.
        input: String,
        /// What is wrong.
        reason: String,
    },
    /// The object is not `type:id`.
    #[error("invalid object `{value}`: {reason}")]
    Object {
        /// The text given.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The relation name is not valid.
    #[error(
        "invalid relation `{value}`: relation names are 1 to 50 characters without `:`, `#`, `@` or whitespace"
    )]
    Relation {
        /// The text given.
        value: String,
    },
    /// The subject is not `type:id`, `type:id#relation` or `type:*`.
    #[error("invalid subject `{value}`: {reason}")]
    Subject {
        /// The text given.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// A parsed object: `type:id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectRef<'a> {
    /// The type.
    pub type_name: &'a str,
    /// The id.
    pub id: &'a str,
}

/// A parsed subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubjectRef<'a> {
    /// `type:id`.
    Object(ObjectRef<'a>),
    /// `type:id#relation`: everyone who has `relation` on `type:id`.
    Userset {
        /// The object.
        object: ObjectRef<'a>,
        /// The relation.
        relation: &'a str,
    },
    /// `type:*`: every subject of the type.
    Wildcard {
        /// The type.
        type_name: &'a str,
    },
}

impl SubjectRef<'_> {
    /// The subject's type.
    pub fn type_name(&self) -> &str {
        match self {
            Self::Object(o) | Self::Userset { object: o, .. } => o.type_name,
            Self::Wildcard { type_name } => type_name,
        }
    }
}

/// Whether `id` is a valid object id for the engine: non-empty, without `#`, `:` or
/// whitespace.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id
            .chars()
            .any(|c| matches!(c, '#' | ':') || c.is_whitespace())
}

/// The stricter object-id rule of OpenFGA's language tools (CLI, model tests): letters,
/// digits and `_ | * @ . + / -`, not starting with `*`.
pub fn is_valid_object_id(id: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_|*@.+/-".contains(c);
    let mut chars = id.chars();
    match chars.next() {
        Some(first) if first != '*' && allowed(first) => chars.all(allowed),
        _ => false,
    }
}

/// Parses `type:id`.
///
/// # Errors
///
/// [`TupleError::Object`] when the text is not `type:id` with a valid type name and id, or
/// when the id is the wildcard `*` (a wildcard is a subject, never an object).
pub fn parse_object(value: &str) -> Result<ObjectRef<'_>, TupleError> {
    let err = |reason| TupleError::Object {
        value: value.to_owned(),
        reason,
    };
    let (type_name, id) = value
        .split_once(':')
        .ok_or_else(|| err("expected `type:id`"))?;
    if !is_valid_type_name(type_name) {
        return Err(err(
            "the type name is empty or has `:`, `#`, `@` or whitespace",
        ));
    }
    if id == "*" {
        return Err(err("a wildcard cannot be an object"));
    }
    if !is_valid_id(id) {
        return Err(err("the id is empty or has `#`, `:` or whitespace"));
    }
    Ok(ObjectRef { type_name, id })
}

/// Parses a relation name.
///
/// # Errors
///
/// [`TupleError::Relation`] for an invalid name.
pub fn parse_relation(value: &str) -> Result<&str, TupleError> {
    if is_valid_relation_name(value) {
        Ok(value)
    } else {
        Err(TupleError::Relation {
            value: value.to_owned(),
        })
    }
}

/// Parses `type:id`, `type:id#relation` or `type:*`.
///
/// # Errors
///
/// [`TupleError::Subject`] for anything else.
pub fn parse_subject(value: &str) -> Result<SubjectRef<'_>, TupleError> {
    let err = |reason| TupleError::Subject {
        value: value.to_owned(),
        reason,
    };
    let (object, relation) = match value.split_once('#') {
        Some((object, relation)) => (object, Some(relation)),
        None => (value, None),
    };
    let (type_name, id) = object
        .split_once(':')
        .ok_or_else(|| err("expected `type:id`, `type:id#relation` or `type:*`"))?;
    if !is_valid_type_name(type_name) {
        return Err(err(
            "the type name is empty or has `:`, `#`, `@` or whitespace",
        ));
    }
    if id == "*" {
        return match relation {
            None => Ok(SubjectRef::Wildcard { type_name }),
            Some(_) => Err(err("a wildcard cannot have a relation")),
        };
    }
    if !is_valid_id(id) {
        return Err(err("the id is empty or has `#`, `:` or whitespace"));
    }
    let object = ObjectRef { type_name, id };
    match relation {
        None => Ok(SubjectRef::Object(object)),
        Some(relation) if is_valid_relation_name(relation) => {
            Ok(SubjectRef::Userset { object, relation })
        }
        Some(_) => Err(err(
            "the relation name is empty or has `:`, `#`, `@` or whitespace",
        )),
    }
}

impl TupleKey {
    /// A tuple without a condition.
    pub fn new(
        object: impl Into<String>,
        relation: impl Into<String>,
        user: impl Into<String>,
    ) -> Self {
        Self {
            object: object.into(),
            relation: relation.into(),
            user: user.into(),
            condition: None,
        }
    }

    /// The same tuple granted under `name` with the given stored context.
    pub fn with_condition(
        mut self,
        name: impl Into<String>,
        context: Option<Map<String, Value>>,
    ) -> Self {
        self.condition = Some(TupleCondition {
            name: name.into(),
            context,
        });
        self
    }

    /// Checks the object, relation and subject syntax.
    ///
    /// # Errors
    ///
    /// The first malformed part.
    pub fn validate_syntax(&self) -> Result<(), TupleError> {
        parse_object(&self.object)?;
        parse_relation(&self.relation)?;
        parse_subject(&self.user)?;
        Ok(())
    }
}

impl fmt::Display for TupleKey {
    /// `object#relation@subject`, with a condition as `[name]` or `[name:{context}]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}@{}", self.object, self.relation, self.user)?;
        if let Some(condition) = &self.condition {
            match &condition.context {
                Some(context) if !context.is_empty() => {
                    let json = Value::Object(context.clone());
                    write!(f, "[{}:{json}]", condition.name)?;
                }
                _ => write!(f, "[{}]", condition.name)?,
            }
        }
        Ok(())
    }
}

impl FromStr for TupleKey {
    type Err = TupleError;

    /// Parses `object#relation@subject`, optionally followed by `[condition]` or
    /// `[condition:{json context}]`.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let syntax = |reason: &str| TupleError::Syntax {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };

        let (body, condition) = match input.find('[') {
            Some(open) => {
                let tail = input.get(open + 1..).unwrap_or_default();
                let inner = tail.strip_suffix(']').ok_or_else(|| {
                    syntax("a condition must be written `[name]` or `[name:{...}]` at the end")
                })?;
                let condition = match inner.split_once(':') {
                    None => TupleCondition {
                        name: inner.to_owned(),
                        context: None,
                    },
                    Some((name, json)) => {
                        let context: Map<String, Value> = serde_json::from_str(json)
                            .map_err(|_| syntax("the condition context must be a json object"))?;
                        TupleCondition {
                            name: name.to_owned(),
                            context: Some(context),
                        }
                    }
                };
                if condition.name.is_empty() || condition.name.contains(char::is_whitespace) {
                    return Err(syntax("the condition name is empty or has whitespace"));
                }
                (input.get(..open).unwrap_or_default(), Some(condition))
            }
            None => (input, None),
        };

        let (object, rest) = body
            .split_once('#')
            .ok_or_else(|| syntax("expected `object#relation@subject`"))?;
        let (relation, user) = rest
            .split_once('@')
            .ok_or_else(|| syntax("expected `object#relation@subject`"))?;
        let tuple = Self {
            object: object.to_owned(),
            relation: relation.to_owned(),
            user: user.to_owned(),
            condition,
        };
        tuple.validate_syntax()?;
        Ok(tuple)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        for text in [
            "document:1#viewer@user:anne",
            "document:1#viewer@group:eng#member",
            "document:1#viewer@user:*",
            "document:1#viewer@user:bob@example.com",
            "document:1#viewer@user:anne[in_office]",
            "document:1#viewer@user:anne[in_office:{\"ip\":\"10.0.0.1\"}]",
        ] {
            let tuple: TupleKey = text.parse().unwrap();
            assert_eq!(tuple.to_string(), text);
        }
    }

    #[test]
    fn rejects_bad_syntax() {
        for text in [
            "",
            "document:1",
            "document:1#viewer",
            "document#viewer@user:anne",
            "document:*#viewer@user:anne",
            "document:1#@user:anne",
            "document:1#viewer@user",
            "document:1#viewer@user:*#member",
            "document:1#viewer@user:a b",
            "document:1#viewer@:anne",
            "document:1#viewer@user:anne[",
            "document:1#viewer@user:anne[cond:{nope]",
            "a:b:c#viewer@user:anne",
        ] {
            assert!(
                text.parse::<TupleKey>().is_err(),
                "{text:?} should be rejected"
            );
        }
    }
}
