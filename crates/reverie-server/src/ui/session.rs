//! Who is logged in to the review page: a session per login, kept in the server's memory and
//! named by an HTTP-only, same-site cookie. A session holds the API key's secret (never
//! written anywhere, never logged) so that every request checks the key again: a revoked key
//! ends its sessions at once. Each session has its own CSRF token, which every form carries.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The cookie that names a session.
pub const COOKIE: &str = "reverie_ui";

/// How long a session lasts from its login.
const LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The most sessions kept: the oldest go first (a flood of logins cannot exhaust memory).
const MAX_SESSIONS: usize = 10_000;

/// One login.
#[derive(Clone)]
pub struct Session {
    pub secret: String,
    pub csrf: String,
    started: Instant,
}

/// The logged-in sessions of one server process.
#[derive(Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

impl std::fmt::Debug for Session {
    // Never the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Sessions {
    // Never the secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.by_id.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("Sessions").field("count", &n).finish()
    }
}

/// 256 random bits, hex.
fn token() -> String {
    let bits: [u8; 32] = rand::random();
    bits.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    /// A new session for `secret`: its id (the cookie's value).
    pub fn start(&self, secret: &str) -> String {
        let id = token();
        let mut m = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, s| s.started.elapsed() < LIFETIME);
        if m.len() >= MAX_SESSIONS
            && let Some(oldest) = m
                .iter()
                .min_by_key(|(_, s)| s.started)
                .map(|(k, _)| k.clone())
        {
            m.remove(&oldest);
        }
        m.insert(
            id.clone(),
            Session {
                secret: secret.to_string(),
                csrf: token(),
                started: Instant::now(),
            },
        );
        id
    }

    /// The live session `id` names.
    pub fn get(&self, id: &str) -> Option<Session> {
        let m = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        m.get(id)
            .filter(|s| s.started.elapsed() < LIFETIME)
            .cloned()
    }

    pub fn end(&self, id: &str) {
        self.by_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// Whether two tokens are equal, in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_tokens_and_cookies() {
        let s = Sessions::default();
        let id = s.start("rev_secret");
        let got = s.get(&id).unwrap();
        assert_eq!(got.secret, "rev_secret");
        assert_eq!(got.csrf.len(), 64);
        assert_ne!(got.csrf, id);
        assert!(s.get("nope").is_none());
        assert!(!format!("{s:?}").contains("rev_secret"));
        s.end(&id);
        assert!(s.get(&id).is_none());
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("a", "ab"));
        assert_eq!(cookie("a=1; reverie_ui=xyz; b=2", COOKIE), Some("xyz"));
        assert_eq!(cookie("reverie_uix=1", COOKIE), None);
    }
}
