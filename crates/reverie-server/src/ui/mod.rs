//! The review page: dreams, memories and drift in a browser, under `/ui`, served by the same
//! process as the API and with the same keys.
//!
//! A person logs in with an API key (`POST /ui/login`); the server keeps the session
//! ([`session`]) and names it by an HTTP-only, same-site cookie, so that the page never holds
//! the key. A key scoped to some stores sees only those, here as in the API. Pages are rendered
//! on the server from templates (`templates/`, compiled in by askama, every value
//! HTML-escaped: memories and sessions are untrusted text); there is no script. Every form
//! carries the session's CSRF token and every change is a `POST` checked against it and
//! against the request's origin. Every response forbids framing, inline script and style and
//! any other origin (`Content-Security-Policy`), and is not cached.

mod pages;
pub mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use reverie_core::api_key::ApiKey;

use crate::AppState;

/// The page's only policy: its own stylesheet and images, nothing else, never framed.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = include_str!("style.css");

/// The page's routes, nested under `/ui` (with a fallback of their own: an unknown page is an
/// HTML 404, not the API's JSON).
pub fn routes() -> Router<Arc<AppState>> {
    let pages = Router::new()
        .route("/", get(pages::stores))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/style.css", get(style))
        .route("/stores/{store}", get(pages::store))
        .route(
            "/stores/{store}/memories/{memory}",
            get(pages::memory).post(pages::edit_memory),
        )
        .route(
            "/stores/{store}/entries/{entry}/pin",
            post(pages::pin_entry),
        )
        .route(
            "/stores/{store}/memories/{memory}/restore",
            post(pages::restore_version),
        )
        .route("/stores/{store}/history", get(pages::history))
        .route(
            "/stores/{store}/restore/{revision}",
            get(pages::restore_form).post(pages::restore),
        )
        .route("/stores/{store}/drift.svg", get(pages::drift_chart))
        .route("/stores/{store}/curve.svg", get(pages::curve_chart))
        .route("/dreams/{dream}", get(pages::dream))
        .route("/dreams/{dream}/decide", post(pages::decide))
        .route("/dreams/{dream}/operations", post(pages::decide_operations))
        .route("/dreams/{dream}/revert", post(pages::revert))
        .fallback(|| async { pages::error_page(StatusCode::NOT_FOUND, "no such page") });
    // A nested `/` answers `/ui`; the stores page is `/ui/` too.
    Router::new()
        .route("/ui/", get(pages::stores))
        .nest("/ui", pages)
        .layer(from_fn(headers))
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

/// The headers every page carries.
async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The logged-in person: the key they logged in with, and their session's CSRF token.
#[derive(Debug)]
pub struct User {
    pub key: ApiKey,
    pub session: String,
    pub csrf: String,
}

/// Not logged in (or the key was revoked since): to the login form.
#[derive(Debug)]
pub struct LogIn;

impl IntoResponse for LogIn {
    fn into_response(self) -> Response {
        Redirect::to("/ui/login").into_response()
    }
}

impl FromRequestParts<Arc<AppState>> for User {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let id = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| session::cookie(v, session::COOKIE))
            .map(str::to_string);
        let Some((id, s)) = id.and_then(|id| Some((id.clone(), st.ui.get(&id)?))) else {
            return Err(LogIn.into_response());
        };
        match st.store.api_key_for_secret(&s.secret).await {
            Ok(Some(key)) if key.revoked_at.is_none() => Ok(User {
                key,
                session: id,
                csrf: s.csrf,
            }),
            Ok(_) => {
                st.ui.end(&id);
                Err(LogIn.into_response())
            }
            Err(e) => Err(pages::error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("the store cannot be read: {e}"),
            )),
        }
    }
}

/// Whether a `POST` comes from this page: its `Origin` (or, without one, `Referer`) is this
/// host, and the browser does not call it cross-site.
pub(crate) fn same_origin(parts: &axum::http::HeaderMap) -> bool {
    let host = parts.get(header::HOST).and_then(|v| v.to_str().ok());
    let site = parts.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if site.is_some_and(|s| s != "same-origin" && s != "none") {
        return false;
    }
    let from = parts
        .get(header::ORIGIN)
        .or_else(|| parts.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    match (from, host) {
        // A browser sends one of them with a form; a client that sends neither is not a
        // browser another site can drive.
        (None, _) => true,
        (Some(from), Some(host)) => {
            let rest = from
                .strip_prefix("http://")
                .or_else(|| from.strip_prefix("https://"));
            rest.is_some_and(|r| r.split('/').next() == Some(host))
        }
        (Some(_), None) => false,
    }
}

/// Whether the browser reached us over HTTPS — its `Origin` says so, or a proxy in front of
/// `reverie serve` does (`X-Forwarded-Proto`). The session cookie is then `Secure`: a flag
/// only narrows where the cookie goes, so a client that claims HTTPS falsely gains nothing.
pub(crate) fn over_https(parts: &axum::http::HeaderMap) -> bool {
    let said = |name: &str| parts.get(name).and_then(|v| v.to_str().ok());
    said("origin").is_some_and(|o| o.starts_with("https://"))
        || said("x-forwarded-proto").is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// The session cookie's `Set-Cookie` value: `value` for `max_age` seconds.
pub(crate) fn session_cookie(value: &str, max_age: u64, secure: bool) -> String {
    format!(
        "{}={value}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        session::COOKIE,
        if secure { "; Secure" } else { "" }
    )
}

pub(crate) fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}
