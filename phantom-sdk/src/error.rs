//! Errors: the server's JSON error body, and the client's error type.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The body of every error response: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `invalid_request`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

/// Why a call to Phantom failed. A denial is not an error: it is a
/// [`Decision`](crate::Decision).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error.
    #[error("phantom answered {status}: {code}: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The error code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The server could not be reached or the answer could not be read.
    #[error("could not reach phantom: {0}")]
    Transport(#[from] reqwest::Error),
    /// The client was given something unusable.
    #[error("invalid client input: {0}")]
    Invalid(String),
}

impl Error {
    /// The HTTP status, when the server answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error code, when the server answered with an error.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}
