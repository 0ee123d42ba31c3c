//! Errors as the contract's JSON body — `{"type": "error", "error": {"type", "message"}}` — with
//! the HTTP status the SDK maps to its exception classes.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use reverie_core::Error;

/// An error a handler returns.
#[derive(Debug)]
pub enum ApiError {
    /// The store's (or a request rule's) error, with its own type and status.
    Core(Error),
    /// The body is over the route's limit, in bytes.
    TooLarge(usize),
    /// No such route.
    NoRoute(String),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Core(e)
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            // `limits::body_limit` refuses bodies over a route's limit before its handler
            // runs; this is the general limit, which only a route without one can reach.
            ApiError::TooLarge(crate::MAX_BODY_BYTES)
        } else {
            ApiError::Core(Error::invalid("body", r.body_text()))
        }
    }
}

impl ApiError {
    /// The HTTP status it is answered with.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::Core(e) => StatusCode::from_u16(e.error_type().http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NoRoute(_) => StatusCode::NOT_FOUND,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Core(e) => write!(f, "{e}"),
            ApiError::TooLarge(max) => write!(f, "the request body is over {max} bytes"),
            ApiError::NoRoute(what) => f.write_str(what),
        }
    }
}

/// The contract's error body with `status`.
pub(crate) fn error_body(status: StatusCode, kind: &str, message: String) -> Response {
    let json = serde_json::json!({
        "type": "error",
        "error": { "type": kind, "message": message },
    });
    (status, Json(json)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Core(ref e) => {
                let t = e.error_type();
                let status = self.status();
                if status.is_server_error() {
                    tracing::error!(error = %e, "request failed");
                }
                error_body(status, t.as_str(), e.to_string())
            }
            ApiError::TooLarge(max) => error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                format!("the request body is over the {max} bytes this route accepts"),
            ),
            ApiError::NoRoute(what) => error_body(StatusCode::NOT_FOUND, "not_found_error", what),
        }
    }
}

/// The fallback: a route the API does not have.
pub async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NoRoute(format!("no route for {method} {}", uri.path()))
}
