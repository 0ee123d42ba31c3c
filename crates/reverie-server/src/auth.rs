//! API keys on every request: `x-api-key` (what the SDK sends) or `Authorization: Bearer`.
//! A missing, unknown or revoked key is a 401 before any handler runs; the key found travels
//! to the handlers, which confine it to its stores.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use reverie_core::Error;

use crate::AppState;
use crate::error::ApiError;

pub async fn require_key(
    State(st): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let headers = req.headers();
    // An empty `x-api-key` (some clients send the header whatever) does not hide a bearer
    // token; the scheme is case-insensitive (RFC 9110 §11.1).
    fn nonempty(v: &str) -> Option<&str> {
        Some(v.trim()).filter(|s| !s.is_empty())
    }
    let secret = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .and_then(nonempty)
        .or_else(|| {
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim_start().split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .and_then(|(_, token)| nonempty(token))
        })
        .map(str::to_string);
    let Some(secret) = secret else {
        return ApiError::from(Error::Unauthenticated(
            "no API key: send it in the x-api-key header".into(),
        ))
        .into_response();
    };
    match st.store.api_key_for_secret(&secret).await {
        Ok(Some(key)) if key.revoked_at.is_none() => {
            req.extensions_mut().insert(Arc::new(key));
            next.run(req).await
        }
        Ok(Some(key)) => ApiError::from(Error::Unauthenticated(format!(
            "API key {} was revoked",
            key.id
        )))
        .into_response(),
        Ok(None) => {
            ApiError::from(Error::Unauthenticated("invalid API key".into())).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
