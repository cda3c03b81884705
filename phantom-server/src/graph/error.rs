//! The graph's errors and their OpenFGA error codes.

use std::fmt;

use thiserror::Error;

use super::engine::condition::ConditionError;
use super::model::ModelError;
use super::tuple::TupleError;

/// OpenFGA's error codes, for the API layer to put on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 2000 `validation_error`.
    ValidationError,
    /// 2001 `authorization_model_not_found`.
    AuthorizationModelNotFound,
    /// 2002 `authorization_model_resolution_too_complex`.
    ResolutionTooComplex,
    /// 2004 `cannot_allow_duplicate_tuples_in_one_request`.
    DuplicateTuplesInRequest,
    /// 2017 `write_failed_due_to_invalid_input`.
    WriteFailedDueToInvalidInput,
    /// 2021 `type_not_found`.
    TypeNotFound,
    /// 2022 `relation_not_found`.
    RelationNotFound,
    /// 2027 `invalid_tuple`.
    InvalidTuple,
    /// 2056 `invalid_authorization_model`.
    InvalidAuthorizationModel,
}

impl ErrorCode {
    /// The numeric code.
    pub fn as_u32(self) -> u32 {
        match self {
            Self::ValidationError => 2000,
            Self::AuthorizationModelNotFound => 2001,
            Self::ResolutionTooComplex => 2002,
            Self::DuplicateTuplesInRequest => 2004,
            Self::WriteFailedDueToInvalidInput => 2017,
            Self::TypeNotFound => 2021,
            Self::RelationNotFound => 2022,
            Self::InvalidTuple => 2027,
            Self::InvalidAuthorizationModel => 2056,
        }
    }

    /// The code's name in OpenFGA's enum.
    pub fn name(self) -> &'static str {
        match self {
            Self::ValidationError => "validation_error",
            Self::AuthorizationModelNotFound => "authorization_model_not_found",
            Self::ResolutionTooComplex => "authorization_model_resolution_too_complex",
            Self::DuplicateTuplesInRequest => "cannot_allow_duplicate_tuples_in_one_request",
            Self::WriteFailedDueToInvalidInput => "write_failed_due_to_invalid_input",
            Self::TypeNotFound => "type_not_found",
            Self::RelationNotFound => "relation_not_found",
            Self::InvalidTuple => "invalid_tuple",
            Self::InvalidAuthorizationModel => "invalid_authorization_model",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.as_u32())
    }
}

/// A graph operation failed. A denied check is not an error: it is `allowed: false`.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum GraphError {
    /// A tuple (written or contextual) is malformed or not allowed by the model.
    #[error("invalid tuple `{tuple}`: {reason}")]
    InvalidTuple {
        /// The tuple as given.
        tuple: String,
        /// What is wrong.
        reason: String,
    },
    /// A written tuple already exists.
    #[error("tuple `{0}` already exists")]
    TupleExists(String),
    /// A deleted tuple does not exist.
    #[error("tuple `{0}` does not exist")]
    TupleNotFound(String),
    /// The same tuple appears twice in one write.
    #[error("tuple `{0}` appears more than once in the request")]
    DuplicateTuple(String),
    /// The request names a type the model does not define.
    #[error("type `{0}` is not defined in the model")]
    TypeNotFound(String),
    /// The request names a relation its type does not define.
    #[error("relation `{relation}` is not defined on type `{type_name}`")]
    RelationNotFound {
        /// The type.
        type_name: String,
        /// The relation.
        relation: String,
    },
    /// The request is malformed.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Resolution went deeper than the limit.
    #[error("resolution exceeded the depth limit of {0}")]
    DepthExceeded(u32),
    /// A condition could not be evaluated (missing or malformed parameters, CEL failure).
    #[error(transparent)]
    Condition(#[from] ConditionError),
    /// A model could not be parsed or validated.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A model's condition does not compile.
    #[error("invalid model: {0}")]
    ModelCondition(ConditionError),
    /// No model has this id.
    #[error("authorization model `{0}` not found")]
    ModelNotFound(String),
}

impl GraphError {
    /// The OpenFGA error code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidTuple { .. } => ErrorCode::InvalidTuple,
            Self::TupleExists(_) | Self::TupleNotFound(_) => {
                ErrorCode::WriteFailedDueToInvalidInput
            }
            Self::DuplicateTuple(_) => ErrorCode::DuplicateTuplesInRequest,
            Self::TypeNotFound(_) => ErrorCode::TypeNotFound,
            Self::RelationNotFound { .. } => ErrorCode::RelationNotFound,
            Self::InvalidRequest(_) | Self::Condition(_) => ErrorCode::ValidationError,
            Self::DepthExceeded(_) => ErrorCode::ResolutionTooComplex,
            Self::Model(_) | Self::ModelCondition(_) => ErrorCode::InvalidAuthorizationModel,
            Self::ModelNotFound(_) => ErrorCode::AuthorizationModelNotFound,
        }
    }

    pub(crate) fn invalid_tuple(tuple: impl fmt::Display, reason: impl Into<String>) -> Self {
        Self::InvalidTuple {
            tuple: tuple.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn from_tuple_error(tuple: impl fmt::Display, error: &TupleError) -> Self {
        Self::invalid_tuple(tuple, error.to_string())
    }
}
