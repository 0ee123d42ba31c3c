//! The one error type of the domain, and its mapping onto the wire contract's error types.
//!
//! Every refusal names the problem: the offending value, the rule it broke and, where useful,
//! the limit. `ErrorType` and `http_status` are the single place where a domain error becomes a
//! contract error; the CLI and the server both go through them.

use std::fmt;

/// A result whose error is the domain [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error types of the wire contract (`anthropic.types.shared.ErrorType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    InvalidRequest,
    Authentication,
    Permission,
    NotFound,
    MemoryPreconditionFailed,
    MemoryPathConflict,
    Conflict,
    RateLimit,
    Api,
}

impl ErrorType {
    /// The `error.type` string clients switch on.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::InvalidRequest => "invalid_request_error",
            ErrorType::Authentication => "authentication_error",
            ErrorType::Permission => "permission_error",
            ErrorType::NotFound => "not_found_error",
            ErrorType::MemoryPreconditionFailed => "memory_precondition_failed_error",
            ErrorType::MemoryPathConflict => "memory_path_conflict_error",
            ErrorType::Conflict => "conflict_error",
            ErrorType::RateLimit => "rate_limit_error",
            ErrorType::Api => "api_error",
        }
    }

    /// The HTTP status the SDK maps to the matching exception class.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorType::InvalidRequest => 400,
            ErrorType::Authentication => 401,
            ErrorType::Permission => 403,
            ErrorType::NotFound => 404,
            ErrorType::MemoryPreconditionFailed
            | ErrorType::MemoryPathConflict
            | ErrorType::Conflict => 409,
            ErrorType::RateLimit => 429,
            ErrorType::Api => 500,
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in reverie's domain and storage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field broke a rule of the contract.
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },

    /// Content over the per-memory limit.
    #[error("content is {size} bytes, over the limit of {limit} bytes")]
    ContentTooLarge { size: usize, limit: usize },

    /// The store already holds as many memories as its policy allows.
    #[error(
        "memory store {store_id} is full: it holds {limit} memories, the most its policy allows"
    )]
    StoreFull { store_id: String, limit: i64 },

    /// Writes to an archived store are refused.
    #[error("memory store {store_id} is archived and read-only")]
    StoreArchived { store_id: String },

    /// A well-formed id that names nothing here.
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },

    /// A `content_sha256` precondition did not hold.
    #[error(
        "precondition failed for memory {memory_id}: expected content_sha256 {expected}, found {actual}"
    )]
    PreconditionFailed {
        memory_id: String,
        expected: String,
        actual: String,
    },

    /// Another memory of the store already has the path.
    #[error("path {path} is already taken by memory {existing_id}")]
    PathConflict { path: String, existing_id: String },

    /// The request conflicts with the current state of a resource.
    #[error("{0}")]
    Conflict(String),

    /// No valid API key came with the request.
    #[error("{0}")]
    Unauthenticated(String),

    /// The API key may not do this.
    #[error("{0}")]
    Permission(String),

    /// The storage layer failed; the operation was rolled back.
    #[error("storage error: {message}")]
    Storage { message: String },
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            kind,
            id: id.into(),
        }
    }

    /// Shorthand for [`Error::Storage`].
    pub fn storage(message: impl fmt::Display) -> Self {
        Error::Storage {
            message: message.to_string(),
        }
    }

    /// The contract's error type for this error.
    pub fn error_type(&self) -> ErrorType {
        match self {
            Error::Invalid { .. } | Error::ContentTooLarge { .. } | Error::StoreFull { .. } => {
                ErrorType::InvalidRequest
            }
            Error::StoreArchived { .. } | Error::Conflict(_) => ErrorType::Conflict,
            Error::NotFound { .. } => ErrorType::NotFound,
            Error::PreconditionFailed { .. } => ErrorType::MemoryPreconditionFailed,
            Error::PathConflict { .. } => ErrorType::MemoryPathConflict,
            Error::Unauthenticated(_) => ErrorType::Authentication,
            Error::Permission(_) => ErrorType::Permission,
            Error::Storage { .. } => ErrorType::Api,
        }
    }

    /// The contract's JSON error body: `{"type": "error", "error": {"type", "message"}}`.
    pub fn to_body(&self) -> serde_json::Value {
        serde_json::json!({
            "type": "error",
            "error": { "type": self.error_type().as_str(), "message": self.to_string() }
        })
    }
}
