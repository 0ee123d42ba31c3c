//! What the HTTP providers share: one `reqwest::Client` each (with the request timeout), and
//! the retry loop: 429, 500, 502, 503, 504 and 529 (Anthropic's "overloaded") and connection
//! failures are retried with exponential backoff and jitter, honouring `retry-after` and
//! `retry-after-ms`; any other 4xx is the provider refusing the request and is not retried.
//!
//! Everything runs inside the caller's future — no task is spawned — so dropping the future
//! (a canceled dream) drops the request in flight and the connection with it.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use reverie_curate::model::{ModelError, ModelErrorKind};
use serde_json::Value;

use crate::secret::Secret;

/// Statuses worth another attempt: rate limits, server errors, gateways, overload.
pub const RETRYABLE_STATUSES: [u16; 6] = [429, 500, 502, 503, 504, 529];

/// No backoff waits longer than this, however many attempts failed.
const BACKOFF_CAP: Duration = Duration::from_secs(30);

/// A provider asking for a longer wait than this is not waited for longer: a dream should fail
/// visibly rather than hang.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// How a provider's requests are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpOptions {
    /// The whole request, from connecting to the last byte of the reply.
    pub timeout: Duration,
    /// Retries after the first attempt (so `max_retries + 1` attempts at most).
    pub max_retries: u32,
    /// The first backoff; each further retry doubles it (up to 30 s), jittered.
    pub retry_base: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(300),
            max_retries: 4,
            retry_base: Duration::from_millis(1000),
        }
    }
}

/// The client a provider keeps for its lifetime (connections are pooled).
pub(crate) fn build_client(options: &HttpOptions) -> Result<reqwest::Client, ModelError> {
    reqwest::Client::builder()
        .timeout(options.timeout)
        .connect_timeout(options.timeout.min(Duration::from_secs(30)))
        .user_agent(concat!("reverie/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            ModelError::new(
                ModelErrorKind::NotConfigured,
                format!("could not build an HTTP client: {}", describe(&e)),
            )
        })
}

/// One JSON POST, as the retry loop needs it.
pub(crate) struct Post<'a> {
    /// The provider's name (`anthropic:claude-…`), for messages and logs.
    pub provider: &'a str,
    pub url: &'a str,
    pub headers: HeaderMap,
    pub body: &'a Value,
    /// The key the headers carry, scrubbed from any error text the provider sends back.
    pub secret: Option<&'a Secret>,
}

/// Sends `post`, retrying what is worth retrying, and returns the body of the first 2xx reply.
pub(crate) async fn post_json(
    http: &reqwest::Client,
    options: &HttpOptions,
    post: Post<'_>,
) -> Result<String, ModelError> {
    let provider = post.provider;
    let scrub = |text: String| match post.secret {
        Some(secret) => secret.scrub(&text),
        None => text,
    };
    let mut attempt: u32 = 0;
    loop {
        let started = Instant::now();
        let sent = http
            .post(post.url)
            .headers(post.headers.clone())
            .json(post.body)
            .send()
            .await;
        let retries_left = attempt < options.max_retries;
        match sent {
            Ok(response) => {
                let status = response.status();
                tracing::debug!(
                    provider,
                    attempt = attempt + 1,
                    status = status.as_u16(),
                    latency_ms = started.elapsed().as_millis() as u64,
                    "model request"
                );
                if status.is_success() {
                    return response
                        .text()
                        .await
                        .map_err(|e| transport_error(provider, options, &e, "reading the reply"));
                }
                let wait = retry_after(response.headers(), SystemTime::now());
                // An error body is best effort: its absence must not hide the status.
                let body = response.text().await.unwrap_or_default();
                let detail = scrub(status_detail(status, &body));
                if RETRYABLE_STATUSES.contains(&status.as_u16()) {
                    if retries_left {
                        tokio::time::sleep(wait.unwrap_or_else(|| backoff(options, attempt))).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(ModelError::new(
                        ModelErrorKind::Unavailable,
                        format!(
                            "{provider}: gave up after {} attempts; last: {detail}",
                            attempt + 1
                        ),
                    ));
                }
                return Err(ModelError::new(
                    ModelErrorKind::Rejected,
                    format!("{provider}: {detail}"),
                ));
            }
            Err(e) => {
                tracing::debug!(
                    provider,
                    attempt = attempt + 1,
                    latency_ms = started.elapsed().as_millis() as u64,
                    timeout = e.is_timeout(),
                    "model request failed"
                );
                // A timeout is not retried: the timeout bounds the call, and a provider that
                // did not answer in it is unlikely to answer the same request faster.
                if !e.is_timeout() && (e.is_connect() || e.is_request()) && retries_left {
                    tokio::time::sleep(backoff(options, attempt)).await;
                    attempt += 1;
                    continue;
                }
                let mut error = transport_error(provider, options, &e, "sending the request");
                if error.kind == ModelErrorKind::Transport && attempt > 0 {
                    error.message = format!("{} (after {} attempts)", error.message, attempt + 1);
                }
                return Err(error);
            }
        }
    }
}

fn transport_error(
    provider: &str,
    options: &HttpOptions,
    e: &reqwest::Error,
    doing: &str,
) -> ModelError {
    if e.is_timeout() {
        ModelError::new(
            ModelErrorKind::Timeout,
            format!("{provider}: no answer within {:?}", options.timeout),
        )
    } else {
        ModelError::new(
            ModelErrorKind::Transport,
            format!("{provider}: {doing}: {}", describe(e)),
        )
    }
}

/// An error and its causes on one line (reqwest's own message says only "error sending
/// request"; the cause says why). Keys travel in headers, never in the URL, so none is here.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `HTTP 401 (authentication_error: invalid x-api-key)`: the status and what the provider's
/// error body says. Both Anthropic (`{"type":"error","error":{"type","message"}}`) and OpenAI
/// (`{"error":{"message","type","code"}}`) put it under `error`; local servers sometimes use a
/// plain string there, or no JSON at all.
pub(crate) fn status_detail(status: StatusCode, body: &str) -> String {
    let code = status.as_u16();
    match error_detail(body) {
        Some((Some(kind), message)) => format!("HTTP {code} ({kind}: {message})"),
        Some((None, message)) => format!("HTTP {code} ({message})"),
        None => format!("HTTP {code}"),
    }
}

fn error_detail(body: &str) -> Option<(Option<String>, String)> {
    let body = body.trim();
    if body.is_empty() {
        return None;
    }
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return Some((None, snippet(body, 200)));
    };
    let error = value.get("error").unwrap_or(&value);
    if let Some(message) = error.as_str() {
        return Some((None, snippet(message, 300)));
    }
    let kind = error
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .or_else(|| error.get("code").and_then(Value::as_str))
        .map(str::to_string);
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .map(|m| snippet(m, 300))
        .unwrap_or_else(|| snippet(body, 200));
    Some((kind, message))
}

/// The first `max` characters of `text` on one line, marked when cut.
pub(crate) fn snippet(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut chars = one_line.chars();
    let head: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// How long the provider asked to wait: `retry-after-ms` (milliseconds, OpenAI) or
/// `retry-after` (seconds or an HTTP date, RFC 9110 §10.2.3), capped at 60 s.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let wait = if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        duration_from_secs(ms / 1000.0)?
    } else {
        let value = header("retry-after")?;
        match value.parse::<f64>() {
            Ok(secs) => duration_from_secs(secs)?,
            Err(_) => {
                let at = httpdate::parse_http_date(value).ok()?;
                at.duration_since(now).unwrap_or(Duration::ZERO)
            }
        }
    };
    Some(wait.min(RETRY_AFTER_CAP))
}

fn duration_from_secs(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e6)))
}

/// The wait before retry number `attempt + 1`: `base · 2^attempt`, capped at 30 s, of which
/// the upper half is random so that many clients do not retry in step.
pub fn backoff(options: &HttpOptions, attempt: u32) -> Duration {
    let full = options
        .retry_base
        .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
        .min(BACKOFF_CAP);
    let half = full / 2;
    half + half.mul_f64(random_unit())
}

/// A random number in [0, 1): `RandomState` is randomly keyed per instance, which is all the
/// randomness jitter needs.
fn random_unit() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_in_seconds_ms_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3")]), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "0")]), now),
            Some(Duration::ZERO)
        );
        // retry-after-ms wins over retry-after.
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "3"), ("retry-after-ms", "250")]),
                now
            ),
            Some(Duration::from_millis(250))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &later)]), now),
            Some(Duration::from_secs(7))
        );
        // A date in the past: retry now.
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &earlier)]), now),
            Some(Duration::ZERO)
        );
        // Capped at 60 s.
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3600")]), now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let options = HttpOptions {
            retry_base: Duration::from_secs(1),
            ..HttpOptions::default()
        };
        for attempt in 0..4 {
            let full = Duration::from_secs(1 << attempt);
            for _ in 0..20 {
                let wait = backoff(&options, attempt);
                assert!(wait >= full / 2 && wait <= full, "{attempt}: {wait:?}");
            }
        }
        for _ in 0..20 {
            let wait = backoff(&options, 40);
            assert!(wait >= Duration::from_secs(15) && wait <= BACKOFF_CAP);
        }
    }

    #[test]
    fn error_bodies_of_both_providers() {
        let anthropic =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(
            status_detail(StatusCode::from_u16(529).unwrap(), anthropic),
            "HTTP 529 (overloaded_error: Overloaded)"
        );
        let openai = r#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
        assert_eq!(
            status_detail(StatusCode::TOO_MANY_REQUESTS, openai),
            "HTTP 429 (requests: Rate limit reached)"
        );
        assert_eq!(
            status_detail(StatusCode::NOT_FOUND, r#"{"error":"model 'x' not found"}"#),
            "HTTP 404 (model 'x' not found)"
        );
        assert_eq!(
            status_detail(StatusCode::BAD_GATEWAY, "<html>bad gateway</html>"),
            "HTTP 502 (<html>bad gateway</html>)"
        );
        assert_eq!(status_detail(StatusCode::BAD_GATEWAY, ""), "HTTP 502");
    }
}
