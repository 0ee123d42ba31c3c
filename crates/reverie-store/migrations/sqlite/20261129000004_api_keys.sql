-- API keys of the HTTP API: only the SHA-256 of each secret is kept. `stores` is a JSON array
-- of the store ids the key may see, or NULL for every store.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    stores        TEXT,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
