-- Sessions: recorded agent sessions attached to a store, their normalized events, and the raw
-- (redacted) source lines they came from. The ingest cursor (consumed bytes, their hash, the
-- next line) lives on the session, so that re-ingesting a file adds only what is new.

CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    store_id          TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    source_format     TEXT NOT NULL,
    source_path       TEXT,
    source_session_id TEXT,
    project           TEXT,
    git_branch        TEXT,
    model             TEXT,
    agent_version     TEXT,
    started_at        INTEGER,
    ended_at          INTEGER,
    event_count       INTEGER NOT NULL DEFAULT 0,
    error_count       INTEGER NOT NULL DEFAULT 0,
    line_count        INTEGER NOT NULL DEFAULT 0,
    outcome_status    TEXT CHECK (outcome_status IN ('success', 'failure', 'partial')),
    outcome_score     REAL,
    outcome_note      TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    consumed_bytes    INTEGER NOT NULL DEFAULT 0,
    consumed_hash     TEXT,
    next_line         INTEGER NOT NULL DEFAULT 1,
    UNIQUE (store_id, source_path)
);
CREATE INDEX sessions_by_store ON sessions (store_id, created_at, id);

CREATE TABLE session_events (
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    line        INTEGER,
    ts          INTEGER,
    uuid        TEXT,
    parent_uuid TEXT,
    sidechain   INTEGER NOT NULL DEFAULT 0,
    agent_id    TEXT,
    text        TEXT,
    tool_name   TEXT,
    tool_use_id TEXT,
    tool_input  TEXT,
    is_error    INTEGER NOT NULL DEFAULT 0,
    subtype     TEXT,
    PRIMARY KEY (session_id, seq)
);

CREATE TABLE session_lines (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    line       INTEGER NOT NULL,
    raw        TEXT NOT NULL,
    PRIMARY KEY (session_id, line)
);
