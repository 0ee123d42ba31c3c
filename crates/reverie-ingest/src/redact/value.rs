//! Heuristics on names and values: which assignment names hold secrets, and whether a value
//! looks random enough to be one (Shannon entropy, character classes), as opposed to a
//! placeholder (`changeme`, `<token>`), a reference (`${VAR}`, `process.env.X`), a number, a
//! path, a URL or a `date` format (`+%Y%m%dT%H%M%S`).

use super::SecretKind;

/// What an assignment's name says about the value assigned to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameClass {
    /// password, passwd, pwd, pass, passphrase: short values count too.
    Password,
    /// token, secret, api key, credentials, auth…: values of 16 characters or more.
    Secret,
    /// An AWS secret access key name: a 40-character value is `aws`.
    AwsSecret,
    /// An AWS session token name: a long base64 value is `aws`.
    AwsSession,
}

/// Words that name a password.
const PASSWORD_WORDS: &[&str] = &["pass", "pwd", "pw", "passphrase", "passcode", "passwd"];

/// Words that name a secret on their own.
const SECRET_WORDS: &[&str] = &[
    "auth",
    "authorization",
    "credential",
    "credentials",
    "creds",
    "cred",
    "apikey",
    "privatekey",
    "accesskey",
    "secretkey",
    "signingkey",
    "masterkey",
    "encryptionkey",
    "bearer",
];

/// Words that make a following `key` a secret (`api key`, `signing key`, `openai key`).
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "private",
    "secret",
    "master",
    "encryption",
    "encrypt",
    "signing",
    "sign",
    "client",
    "app",
    "license",
    "licence",
    "auth",
    "service",
    "account",
    "deploy",
    "admin",
    "hmac",
    "session",
    "webhook",
    "consumer",
    "subscription",
    "integration",
    "storage",
    // vendors whose `<VENDOR>_KEY` is a secret key
    "openai",
    "anthropic",
    "claude",
    "stripe",
    "sendgrid",
    "mailgun",
    "twilio",
    "gemini",
    "mistral",
    "groq",
    "cohere",
    "huggingface",
    "hf",
    "pinecone",
    "datadog",
    "dd",
    "deepseek",
    "openrouter",
    "replicate",
    "perplexity",
    "elevenlabs",
    "resend",
    "postmark",
    "linear",
    "notion",
    "airtable",
    "cloudflare",
    "vercel",
    "netlify",
    "heroku",
    "shopify",
    "paypal",
    "plaid",
];

/// A name whose last word is one of these describes the secret rather than holds it
/// (`token_count`, `password_file`, `api_key_id`, `secret_name`, `token_expires_at`).
const EXCLUDED_LAST: &[&str] = &[
    "count",
    "counts",
    "limit",
    "limits",
    "len",
    "length",
    "size",
    "type",
    "types",
    "kind",
    "id",
    "ids",
    "url",
    "uri",
    "urls",
    "file",
    "files",
    "filename",
    "path",
    "paths",
    "dir",
    "directory",
    "name",
    "names",
    "endpoint",
    "expiry",
    "expires",
    "expiration",
    "expired",
    "at",
    "date",
    "time",
    "timestamp",
    "ttl",
    "usage",
    "used",
    "max",
    "min",
    "total",
    "index",
    "idx",
    "format",
    "prefix",
    "suffix",
    "header",
    "field",
    "fields",
    "param",
    "params",
    "env",
    "var",
    "vars",
    "ref",
    "arn",
    "policy",
    "version",
    "mode",
    "label",
    "hint",
    "provider",
    "store",
    "manager",
    "source",
    "location",
    "enabled",
    "disabled",
    "required",
    "rotation",
    "schema",
    "scope",
    "scopes",
    "method",
    "methods",
    "algorithm",
    "alg",
    "strategy",
    "handler",
    "service",
    "client",
    "config",
    "settings",
    "options",
    "status",
    "state",
    "level",
    "budget",
    "estimate",
    "rate",
    "ratio",
    "window",
    "bytes",
    "bits",
    "check",
    "valid",
    "validation",
    "error",
    "errors",
    "message",
    "msg",
    "description",
    "desc",
    "help",
    "title",
    "text",
    "regex",
    "pattern",
    "example",
    "placeholder",
    "template",
    "class",
    "module",
    "fn",
    "func",
    "function",
    "callback",
    "validator",
    "generator",
    "encoder",
    "decoder",
    "parser",
    "input",
    "list",
    "map",
    "set",
    "dict",
    "reset",
    "strength",
    "changed",
    "updated",
    "created",
    "last",
    "mask",
    "masked",
];

/// Splits an identifier into lowercase words: on non-alphanumerics and on camelCase humps
/// (`APIKey` → `api`, `key`; `PGPASSWORD` → `pgpassword`; `x-api-key` → `x`, `api`, `key`).
fn split_words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase() || (prev.is_ascii_uppercase() && next_lower) {
                words.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The keywords of secret names. A name holds one when it contains one of its spellings
/// ([`spellings`]): lowercase, UPPERCASE or Capitalized, the way snake_case, SCREAMING_CASE,
/// camelCase and PascalCase names write them (`api_key`, `API_KEY`, `apiKey`, `ApiKey`).
/// Mixed spellings (`apiKEy`) are not names: in the real transcripts they occur only inside
/// random strings.
pub(super) const KEYWORDS: [&str; 8] = [
    "token", "secret", "pass", "pw", "key", "auth", "cred", "bearer",
];

/// The three spellings of a keyword.
pub(super) fn spellings(k: &str) -> [Vec<u8>; 3] {
    let lower = k.as_bytes().to_vec();
    let upper = k.to_ascii_uppercase().into_bytes();
    let mut capital = lower.clone();
    capital[0] = capital[0].to_ascii_uppercase();
    [lower, upper, capital]
}

/// Does `name` contain a keyword in one of its spellings?
pub(super) fn has_keyword(name: &[u8]) -> bool {
    let at = |i: usize, k: &[u8]| {
        name.len() - i >= k.len() && {
            let w = &name[i..i + k.len()];
            // lowercase, UPPERCASE, or Capitalized
            w == k
                || (w[0] == k[0].to_ascii_uppercase()
                    && (w[1..] == k[1..]
                        || w[1..].eq_ignore_ascii_case(&k[1..])
                            && w[1..].iter().all(u8::is_ascii_uppercase)))
        }
    };
    (0..name.len()).any(|i| match name[i] | 0x20 {
        b't' => at(i, b"token"),
        b's' => at(i, b"secret"),
        b'p' => at(i, b"pw") || at(i, b"pass"),
        b'k' => at(i, b"key"),
        b'a' => at(i, b"auth"),
        b'c' => at(i, b"cred"),
        b'b' => at(i, b"bearer"),
        _ => false,
    })
}

/// Cheap pre-check: could `name` be a secret name at all?
pub(super) fn maybe_secret_name(name: &str) -> bool {
    name.len() <= 120 && has_keyword(name.as_bytes())
}

/// What `name` says about its value, or `None` when it names nothing secret.
pub(super) fn name_class(name: &str) -> Option<NameClass> {
    // `[REDACTED:generic_secret]` names nothing: redacting twice must change nothing
    if !maybe_secret_name(name) || name.contains("REDACTED:") {
        return None;
    }
    let words = split_words(name);
    let last = words.last()?;
    if EXCLUDED_LAST.contains(&last.as_str()) {
        return None;
    }
    let joined: String = words.concat();
    let has_aws = words.iter().any(|w| w.starts_with("aws"));
    // `aws_secret_access_key`, `SecretAccessKey`, and Terraform's `secret_key`: a 40-character
    // AWS-shaped value under any of them is `aws`; anything else falls back to the generic rule
    if joined.contains("secretaccesskey") || joined.contains("secretkey") {
        return Some(NameClass::AwsSecret);
    }
    if (joined.contains("sessiontoken") || joined.contains("securitytoken"))
        && (has_aws || joined == "sessiontoken")
    {
        return Some(NameClass::AwsSession);
    }
    const NOT_PASS: &[&str] = &[
        "bypass",
        "compass",
        "encompass",
        "surpass",
        "trespass",
        "overpass",
        "underpass",
    ];
    if words.iter().any(|w| {
        PASSWORD_WORDS.contains(&w.as_str())
            || w.contains("password")
            || w.contains("passwd")
            || (w.ends_with("pass") && !NOT_PASS.contains(&w.as_str()))
    }) {
        return Some(NameClass::Password);
    }
    for (i, w) in words.iter().enumerate() {
        let w = w.as_str();
        if (w.contains("token") && !w.starts_with("tokeniz"))
            || (w.contains("secret") && !w.starts_with("secretar"))
            || SECRET_WORDS.contains(&w)
        {
            return Some(NameClass::Secret);
        }
        if w == "key" && i > 0 && KEY_QUALIFIERS.contains(&words[i - 1].as_str()) {
            return Some(NameClass::Secret);
        }
        if let Some(q) = w.strip_suffix("key")
            && KEY_QUALIFIERS.contains(&q)
        {
            return Some(NameClass::Secret);
        }
    }
    None
}

/// The kind of secret that `value`, assigned to `name`, is; `None` when it is not one.
///
/// `quoted` says the value was a string literal: then parentheses and dots are part of it rather
/// than signs of a function call or an attribute path.
pub(super) fn classify_assignment(name: &str, value: &str, quoted: bool) -> Option<SecretKind> {
    let class = name_class(name)?;
    match class {
        NameClass::AwsSecret if is_aws_secret(value) => return Some(SecretKind::Aws),
        NameClass::AwsSession if is_aws_session(value) => return Some(SecretKind::Aws),
        _ => {}
    }
    let class = match class {
        NameClass::AwsSecret | NameClass::AwsSession => NameClass::Secret,
        c => c,
    };
    looks_secret(value, class, quoted).then_some(SecretKind::GenericSecret)
}

/// A 40-character AWS secret access key: base64 alphabet, mixed case, random.
pub(super) fn is_aws_secret(v: &str) -> bool {
    v.len() == 40
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
        && v.bytes().any(|b| b.is_ascii_uppercase())
        && v.bytes().any(|b| b.is_ascii_lowercase())
        && entropy(v.as_bytes()) >= 3.5
}

/// An AWS session token: a long base64 blob.
fn is_aws_session(v: &str) -> bool {
    v.len() >= 100
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'='))
        && entropy(v.as_bytes()) >= 4.0
}

/// Shannon entropy of `bytes`, in bits per byte.
pub(super) fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Character-class statistics of a value.
struct Stats {
    lower: usize,
    upper: usize,
    digits: usize,
    symbols: usize,
    /// Share of adjacent pairs whose classes differ: ~0.6 for random base62, ~0.2 for words.
    transitions: f64,
}

impl Stats {
    fn of(v: &str) -> Stats {
        let class = |b: u8| match b {
            b'a'..=b'z' => 0,
            b'A'..=b'Z' => 1,
            b'0'..=b'9' => 2,
            _ => 3,
        };
        let bytes = v.as_bytes();
        let mut s = Stats {
            lower: 0,
            upper: 0,
            digits: 0,
            symbols: 0,
            transitions: 0.0,
        };
        for &b in bytes {
            match class(b) {
                0 => s.lower += 1,
                1 => s.upper += 1,
                2 => s.digits += 1,
                _ => s.symbols += 1,
            }
        }
        if bytes.len() > 1 {
            let changes = bytes
                .windows(2)
                .filter(|w| class(w[0]) != class(w[1]))
                .count();
            s.transitions = changes as f64 / (bytes.len() - 1) as f64;
        }
        s
    }
}

/// Does `v` look like a random token (bearer tokens, `Authorization: token …`)?
pub(super) fn looks_random_token(v: &str) -> bool {
    looks_secret(v, NameClass::Secret, false)
}

/// Does `v`, assigned to a name of class `class`, look like a real secret?
pub(super) fn looks_secret(v: &str, class: NameClass, quoted: bool) -> bool {
    let min_len = if class == NameClass::Password { 8 } else { 16 };
    if v.len() < min_len || v.len() > 4096 {
        return false;
    }
    if v.bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return false;
    }
    if is_placeholder(v)
        || is_reference(v, quoted)
        || is_locator(v)
        || is_wordy(v)
        || is_publishable(v)
        || is_time_format(v, 2)
    {
        return false;
    }
    let s = Stats::of(v);
    if s.lower + s.upper == 0 {
        return false;
    }
    let h = entropy(v.as_bytes());
    if h < if v.len() >= 16 { 3.0 } else { 2.5 } {
        return false;
    }
    match class {
        NameClass::Password => {
            s.digits > 0 || (s.symbols > 0 && s.upper > 0 && s.lower > 0) || s.transitions >= 0.4
        }
        _ => s.digits > 0 || (s.transitions >= 0.4 && v.len() >= 20),
    }
}

/// Values that stand in for a secret rather than being one.
const PLACEHOLDER_EXACT: &[&str] = &[
    "null",
    "none",
    "nil",
    "true",
    "false",
    "undefined",
    "empty",
    "secret",
    "password",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "changeit",
    "token",
    "admin",
    "root",
    "test",
    "testing",
    "default",
    "string",
    "required",
    "optional",
    "letmein",
    "qwerty",
    "hunter2",
    // algorithm and encoding names (`passwordHash: "argon2id"`, `token_alg: "HS256"`)
    "argon2",
    "argon2i",
    "argon2id",
    "bcrypt",
    "scrypt",
    "pbkdf2",
    "sha1",
    "sha256",
    "sha512",
    "md5",
    "hs256",
    "hs512",
    "rs256",
    "es256",
    "aes256",
    "aes-256-gcm",
    "base64",
    "utf-8",
    "utf8",
    "plaintext",
];

/// Substrings that mark a placeholder.
const PLACEHOLDER_PARTS: &[&str] = &[
    "your",
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "dummy",
    "redacted",
    "replace",
    "insert",
    "fake",
    "mock",
    "sample",
    "xxxx",
    "****",
    "•",
    "...",
    "…",
    "<",
    ">",
    "todo",
    "fixme",
];

/// Is `v` a placeholder (`changeme`, `your-api-key-here`, `xxxxxxxx`, `<token>`, `***`,
/// `[REDACTED…]`)?
pub(super) fn is_placeholder(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    if PLACEHOLDER_EXACT.contains(&lower.as_str()) {
        return true;
    }
    if PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p)) {
        return true;
    }
    let mut distinct: Vec<u8> = lower.bytes().collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.len() <= 3
}

/// Is `v`, typed after `mysql -p` or `--password=`, a password? Whatever the user typed there
/// is one (no randomness asked: `-phunter2` is as secret as a random one), unless it is a
/// placeholder, a reference to one kept elsewhere (`-p$MYSQL_PWD`, `-p"${DB_PASS}"`), or an
/// earlier redaction.
pub(super) fn is_typed_password(v: &str, quoted: bool) -> bool {
    !v.is_empty()
        && !v.contains("REDACTED")
        && !v.starts_with('*')
        && !is_placeholder(v)
        && !is_reference(v, quoted)
}

/// Is `v`, stated in prose as a password ("the admin password is X", "password: X"), one?
/// Prose says "the password is required" far more often than it gives one, so the value must
/// look made up, not like a word, a path or an identifier: 6 to 64 characters, no leading
/// `/`, `~`, `<`, `(`…, a digit or a symbol in it beside letters, and not a dotted path of
/// words (`e.target.value`, `process.env.DB_PASSWORD`).
pub(super) fn is_stated_password(v: &str) -> bool {
    if !(6..=64).contains(&v.len()) || !is_typed_password(v, false) {
        return false;
    }
    if v.starts_with([
        '/', '~', '.', '<', '(', '[', '{', '%', '#', '@', '-', '\\', '$',
    ]) {
        return false;
    }
    // code, not prose: `password: Option<String>`, `pwd is getpass()`
    if v.contains(['<', '>', '(', ')', '{', '}']) {
        return false;
    }
    let b = v.as_bytes();
    let letters = b.iter().any(u8::is_ascii_alphabetic);
    let digits = b.iter().any(u8::is_ascii_digit);
    let symbols = b.iter().any(|c| c.is_ascii_punctuation());
    let non_ascii = b.iter().any(|c| !c.is_ascii());
    letters && (digits || symbols) && !non_ascii && !is_time_format(v, 1) && !is_version(v)
}

/// `v1.2.3`, `2.0.1-beta`, `3.11`: a version, not a password.
fn is_version(v: &str) -> bool {
    let v = v.trim_start_matches(['v', 'V']);
    v.split(['.', '-', '+'])
        .next()
        .is_some_and(|major| !major.is_empty() && major.bytes().all(|c| c.is_ascii_digit()))
        && v.contains('.')
}

/// Is `v` a reference to a secret kept elsewhere (`$VAR`, `${VAR}`, `{{ secrets.X }}`,
/// `%VAR%`, `process.env.X`, `os.environ["X"]`, `getenv("X")`, `settings.SECRET_KEY`)?
pub(super) fn is_reference(v: &str, quoted: bool) -> bool {
    const HASH_PREFIXES: &[&str] = &["$2a$", "$2b$", "$2y$", "$1$", "$5$", "$6$", "$argon2"];
    if v.starts_with('$') && !HASH_PREFIXES.iter().any(|p| v.starts_with(p)) {
        return true;
    }
    if ["${", "$(", "{{", "}}", "%(", "#{", "<%", "%>"]
        .iter()
        .any(|p| v.contains(p))
    {
        return true;
    }
    if v.len() > 2 && v.starts_with('%') && v.ends_with('%') {
        return true;
    }
    if quoted {
        return false;
    }
    if v.contains('(') || v.contains('[') {
        return true;
    }
    // a dotted or `::` path of word-like identifiers: process.env.API_KEY, self.token,
    // Config::SECRET (but not `ya29.a0AfB_by…`, whose second part is random)
    let segments: Vec<&str> = v.split(['.', ':']).filter(|s| !s.is_empty()).collect();
    segments.len() >= 2
        && (v.contains('.') || v.contains("::"))
        && segments.iter().all(|s| {
            s.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'$')
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
                && word_like(s)
        })
}

/// Does `s` read like an identifier made of words (few digits, few case changes) rather than
/// random characters?
fn word_like(s: &str) -> bool {
    let st = Stats::of(s);
    st.digits <= 2 && st.transitions < 0.5
}

/// Is `v` a `date`/`strftime` format (`+%Y-%m-%dT%H:%M:%S`, `%Y%m%d_%H%M%S`, `%H:%M:%S.%3N`,
/// chrono's `%.3f`) with at least `min` conversions? Its `%`s all start conversions (a flag or
/// two, at most one width digit, a letter) and the rest is punctuation, spaces and the ISO 8601
/// letters `T` and `Z`; a leading `+` is `date`'s. Its letters follow `%`s, so it reads as
/// random to the entropy rule, while no generated secret is made of such pairs alone.
pub(super) fn is_time_format(v: &str, min: usize) -> bool {
    let b = v.strip_prefix('+').unwrap_or(v).as_bytes();
    let (mut i, mut conversions) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'%' => {
                let mut j = i + 1;
                // flags: GNU `-_0^#`, `%:z`/`%::z`, chrono's `%.3f`
                while j < b.len() && j <= i + 3 && b"-_0^#:.".contains(&b[j]) {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j >= b.len() || !(b[j].is_ascii_alphabetic() || b[j] == b'%') {
                    return false;
                }
                conversions += 1;
                i = j + 1;
            }
            b'T' | b'Z' | b' ' => i += 1,
            c if c.is_ascii_punctuation() && !b"\"'`\\".contains(&c) => i += 1,
            _ => return false,
        }
    }
    conversions >= min
}

/// Is `v` a key that is public by design: Stripe publishable keys (`pk_live_…`), Mapbox public
/// tokens (`pk.eyJ…`)?
fn is_publishable(v: &str) -> bool {
    ["pk_live_", "pk_test_", "pk.ey"]
        .iter()
        .any(|p| v.starts_with(p))
}

/// Is `v` made of dictionary-like words joined by `-`, `_` or `.`
/// (`test-only-secret-base-minimum-64-bytes-long-enough`)? Such values are written by people,
/// not drawn at random.
fn is_wordy(v: &str) -> bool {
    let parts: Vec<&str> = v.split(['-', '_', '.']).filter(|p| !p.is_empty()).collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            let b = p.as_bytes();
            let word = b.iter().all(u8::is_ascii_alphabetic)
                && (b[1..].iter().all(u8::is_ascii_lowercase)
                    || b.iter().all(u8::is_ascii_uppercase));
            word || (b.len() <= 4 && b.iter().all(u8::is_ascii_digit))
        })
}

/// Is `v` a URL, a path, a file name, an e-mail address or a `host:port`?
fn is_locator(v: &str) -> bool {
    // URLs, and ARNs/URNs and other colon-separated paths
    // (`arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db`)
    if v.contains("://") || v.matches(':').count() >= 2 {
        return true;
    }
    if v.starts_with("./") || v.starts_with("../") || v.starts_with("~/") {
        return true;
    }
    if v.starts_with('/') && v[1..].contains('/') && !v.contains('+') && !v.contains('=') {
        return true;
    }
    const EXTENSIONS: &[&str] = &[
        ".json",
        ".pem",
        ".key",
        ".crt",
        ".cer",
        ".p12",
        ".pfx",
        ".txt",
        ".env",
        ".yaml",
        ".yml",
        ".toml",
        ".ini",
        ".cfg",
        ".conf",
        ".js",
        ".ts",
        ".py",
        ".rs",
        ".sh",
        ".gpg",
        ".asc",
        ".jks",
        ".keystore",
        ".html",
        ".md",
    ];
    let lower = v.to_ascii_lowercase();
    if EXTENSIONS.iter().any(|e| lower.ends_with(e)) {
        return true;
    }
    if let Some((local, domain)) = v.split_once('@')
        && !local.is_empty()
        && domain.contains('.')
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return true;
    }
    if let Some((host, port)) = v.rsplit_once(':')
        && !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && host.contains('.')
    {
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for n in [
            "GITHUB_TOKEN",
            "apiKey",
            "APIKey",
            "x-api-key",
            "DB_PASS",
            "PGPASSWORD",
            "client_secret",
            "Authorization",
            "OPENAI_KEY",
            "access_token",
            "spring.datasource.password",
        ] {
            assert!(name_class(n).is_some(), "{n}");
        }
        for n in [
            "author",
            "tokenizer",
            "token_count",
            "secret_name",
            "monkey",
            "cache_key",
            "public_key",
            "password_file",
            "keyboard",
            "passthrough",
        ] {
            assert_eq!(name_class(n), None, "{n}");
        }
        assert_eq!(
            name_class("aws_secret_access_key"),
            Some(NameClass::AwsSecret)
        );
        assert_eq!(name_class("SecretAccessKey"), Some(NameClass::AwsSecret));
        assert_eq!(name_class("AWS_SESSION_TOKEN"), Some(NameClass::AwsSession));
    }

    #[test]
    fn values() {
        let s = NameClass::Secret;
        assert!(looks_secret("q8Zt2LkV0pW4xR7nB1mC5yH3", s, false));
        assert!(looks_secret("4f9c2a7e1b3d5f6a8c0e2b4d6f8a1c3e", s, false));
        assert!(looks_secret(
            "django-insecure-8x$k(2m#q!v7w@t0z^p3r&n5b*c9d1f",
            s,
            true
        ));
        for v in [
            "changeme",
            "your-api-key-here",
            "xxxxxxxxxxxxxxxxxxxx",
            "<token>",
            "${API_TOKEN}",
            "$API_TOKEN",
            "process.env.API_TOKEN",
            "os.environ[",
            "settings.SECRET_KEY",
            "[REDACTED:github]",
            "***",
            "getAuthTokenFromSecretStore",
            "200000",
            "/var/run/secrets/kubernetes.io/serviceaccount/token",
            "test-only-secret-base-minimum-64-bytes-long-enough-for-phoenix-token-signing-ok",
            "eu-west-1:123456789012:secret:prod/db/password-AbCdEf",
        ] {
            assert!(!looks_secret(v, s, false), "{v}");
        }
        assert!(looks_secret("hunter22x", NameClass::Password, false));
        assert!(!looks_secret("postgres", NameClass::Password, false));
        assert!(!looks_secret("argon2id", NameClass::Password, true));
        assert!(looks_random_token(
            "ya29.a0AfB_byzHGOTuRDqb7mc0cSGHviDBr0XAGc4usqc0xBYFZAhwq"
        ));
        assert!(looks_random_token(
            "oV215phuYtkc53O4yeKrCRPr.vOIjFV6UYF84hN0dfesUJXNnC9o8Bfo9"
        ));
        assert_eq!(name_class("[REDACTED:generic_secret]"), None);
    }

    #[test]
    fn time_formats_are_not_secrets() {
        for v in [
            "+%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M:%S.%3NZ",
            "+%Y%m%dT%H%M%S.%3N",
            "%Y%m%d_%H%M%S",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S%:z",
            "%Y-%m-%dT%H:%M:%S%.3fZ",
            "%M:%S.%3N",
        ] {
            assert!(is_time_format(v, 2), "{v}");
            assert!(!looks_secret(v, NameClass::Password, true), "{v}");
        }
        for v in [
            "Xr7%21q46FtAvsluo%40z", // percent-encoded, not a format
            "p%Ass%w0rd!",
            "%a1%b2%c3%d4",
            "%Y%m%dK9",
            "%",
            "abc%",
            "%Y",
        ] {
            assert!(!is_time_format(v, 2), "{v}");
        }
        assert!(is_time_format("+%H", 1));
        assert!(looks_secret(
            "Xr7%21q46FtAvsluo%40z",
            NameClass::Password,
            true
        ));
    }
}
