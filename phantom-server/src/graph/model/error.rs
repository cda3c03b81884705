//! Errors from parsing, validating and writing models.

use std::fmt;

use thiserror::Error;

use super::dsl::Position;

/// A model could not be parsed, validated or written.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum ModelError {
    /// The DSL text does not follow the grammar.
    #[error("{0}")]
    Syntax(SyntaxError),
    /// The model parsed but breaks a semantic rule (undefined type, no entry point, ...).
    #[error("invalid model: {}", Summary(.0))]
    Invalid(Vec<ValidationIssue>),
    /// The model JSON does not have OpenFGA's shape.
    #[error("invalid model json: {0}")]
    Json(String),
    /// A language feature this implementation does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The model cannot be written in the DSL.
    #[error(
        "relation `{relation}` of type `{type_name}` cannot be written in the dsl: a direct \
         assignment must be the first operand and may appear only once"
    )]
    NotExpressible {
        /// The type holding the relation.
        type_name: String,
        /// The relation.
        relation: String,
    },
}

impl ModelError {
    /// The validation issues, when this is [`ModelError::Invalid`].
    pub fn issues(&self) -> &[ValidationIssue] {
        match self {
            Self::Invalid(issues) => issues,
            _ => &[],
        }
    }

    /// The 1-based lines this error points at (empty when it has no position).
    pub fn lines(&self) -> Vec<u32> {
        match self {
            Self::Syntax(e) => vec![e.line],
            Self::Invalid(issues) => issues
                .iter()
                .filter_map(|i| i.position)
                .map(|p| p.line)
                .collect(),
            _ => Vec::new(),
        }
    }
}

struct Summary<'a>(&'a [ValidationIssue]);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

/// Where the parser stopped and what it wanted there.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("syntax error at line {line}, column {column}: expected {expected}{}", found_suffix(.found))]
pub struct SyntaxError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What the grammar allows here.
    pub expected: String,
    /// What was there instead (empty when not relevant).
    pub found: String,
}

fn found_suffix(found: &str) -> String {
    if found.is_empty() {
        String::new()
    } else {
        format!(", found {found}")
    }
}

/// The model element a validation issue is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The model as a whole.
    Model,
    /// The schema version.
    Schema,
    /// A type.
    Type(String),
    /// A relation of a type.
    Relation {
        /// The type.
        type_name: String,
        /// The relation.
        relation: String,
    },
    /// A condition.
    Condition(String),
}

/// One semantic problem in a model.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidationIssue {
    /// What is wrong, in lowercase prose.
    pub message: String,
    /// The element it is about.
    pub target: Target,
    /// Where that element was declared, for models parsed from the DSL.
    pub position: Option<Position>,
}

impl fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) if p.column > 0 => {
                write!(f, "line {}, column {}: {}", p.line, p.column, self.message)
            }
            Some(p) => write!(f, "line {}: {}", p.line, self.message),
            None => f.write_str(&self.message),
        }
    }
}
