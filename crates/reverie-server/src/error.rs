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
    /// The body is over [`crate::MAX_BODY_BYTES`].
    TooLarge,
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
            ApiError::TooLarge
        } else {
            ApiError::Core(Error::invalid("body", r.body_text()))
        }
    }
}

fn body(status: StatusCode, kind: &str, message: String) -> Response {
    let json = serde_json::json!({
        "type": "error",
        "error": { "type": kind, "message": message },
    });
    (status, Json(json)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Core(e) => {
                let t = e.error_type();
                let status = StatusCode::from_u16(t.http_status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                if status.is_server_error() {
                    tracing::error!(error = %e, "request failed");
                }
                body(status, t.as_str(), e.to_string())
            }
            ApiError::TooLarge => body(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                format!(
                    "the request body is over the {} bytes allowed",
                    crate::MAX_BODY_BYTES
                ),
            ),
            ApiError::NoRoute(what) => body(StatusCode::NOT_FOUND, "not_found_error", what),
        }
    }
}

/// The fallback: a route the API does not have.
pub async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NoRoute(format!("no route for {method} {}", uri.path()))
}
