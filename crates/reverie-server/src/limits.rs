//! What guards every request before its handler: body limits refused from the declared length,
//! heads over the API's limits, every error answered with the contract's JSON body (axum's own
//! refusals — 405, a path that does not decode — included), and `/mcp` bodies that are not
//! JSON answered as JSON-RPC parse errors.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use reverie_core::Error;

use crate::error::{ApiError, error_body};

/// The longest request target (path and query) the API reads.
pub const MAX_URI_BYTES: usize = 16 * 1024;
/// The most header fields a request may carry…
pub const MAX_HEADERS: usize = 100;
/// …and the most bytes of them, names and values.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// hyper's own limits, above the API's so that the API answers first (with a JSON body).
pub const HYPER_MAX_HEADERS: usize = 2 * MAX_HEADERS;
pub const HYPER_MAX_BUF: usize = 4 * (MAX_URI_BYTES + MAX_HEADER_BYTES);

/// Refuses a body over `max` bytes: from its declared `Content-Length` before a byte of it is
/// read, or as soon as a body without one passes the limit. The handler gets the body whole.
pub async fn body_limit(State(max): State<usize>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return ApiError::TooLarge(max).into_response();
    }
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, max).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return ApiError::TooLarge(max).into_response(),
        Err(e) => {
            return ApiError::from(Error::invalid("body", format!("cannot be read: {e}")))
                .into_response();
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A POST to `/mcp` whose body is not JSON, or not a JSON-RPC message, is answered as JSON-RPC
/// says (-32700 parse error, -32600 invalid request) rather than with rmcp's bare 415.
pub async fn mcp_json(req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    // `body_limit` ran first: the body is in memory and within the limit.
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let refusal = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Err(e) => Some((-32700, format!("Parse error: {e}"))),
        Ok(_) => serde_json::from_slice::<rmcp::model::ClientJsonRpcMessage>(&bytes)
            .err()
            .map(|e| (-32600, format!("Invalid Request: {e}"))),
    };
    if let Some((code, message)) = refusal {
        let json = serde_json::json!({
            "jsonrpc": "2.0",
            "id": null,
            "error": { "code": code, "message": message },
        });
        return (StatusCode::BAD_REQUEST, axum::Json(json)).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The outermost layer: heads over the API's limits are refused (414, 431), and every error
/// answered without a JSON body — axum's rejections, 405 — gets the contract's. `/mcp` keeps
/// its own answers, which MCP clients read.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return error_body(
            StatusCode::URI_TOO_LONG,
            "invalid_request_error",
            format!("the request target is {uri_len} bytes; at most {MAX_URI_BYTES} are allowed"),
        );
    }
    let headers = req.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return error_body(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "invalid_request_error",
            format!(
                "the request has {} header fields of {header_bytes} bytes; at most \
                 {MAX_HEADERS} fields and {MAX_HEADER_BYTES} bytes are allowed",
                headers.len()
            ),
        );
    }
    let mcp = req.uri().path() == "/mcp" || req.uri().path().starts_with("/mcp/");
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    // The review page answers in HTML, errors included.
    let ui = path == "/ui" || path.starts_with("/ui/");
    if mcp || ui || is_json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = Limited::new(body, 4096)
        .collect()
        .await
        .map(|c| String::from_utf8_lossy(&c.to_bytes()).trim().to_string())
        .unwrap_or_default();
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = parts
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            format!("{method} is not allowed on {path}; allowed: {allow}")
        }
        _ if text.is_empty() => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_string(),
        _ => text,
    };
    let mut out = error_body(status, kind_of(status), message);
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

/// The contract's error type for a status.
fn kind_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        s if s >= 500 => "api_error",
        _ => "invalid_request_error",
    }
}
