-- Sessions: recorded agent sessions attached to a store, their normalized events, and the raw
-- (redacted) source lines they came from. The ingest cursor (consumed bytes, their hash, the
-- next line) lives on the session, so that re-ingesting a file adds only what is new.

CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    store_id          TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    source_format     TEXT NOT NULL,
    source_path       TEXT COLLATE "C",
    source_session_id TEXT,
    project           TEXT,
    git_branch        TEXT,
    model             TEXT,
    agent_version     TEXT,
    started_at        BIGINT,
    ended_at          BIGINT,
    event_count       BIGINT NOT NULL DEFAULT 0,
    error_count       BIGINT NOT NULL DEFAULT 0,
    line_count        BIGINT NOT NULL DEFAULT 0,
    outcome_status    TEXT CHECK (outcome_status IN ('success', 'failure', 'partial')),
    outcome_score     DOUBLE PRECISION,
    outcome_note      TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    consumed_bytes    BIGINT NOT NULL DEFAULT 0,
    consumed_hash     TEXT,
    next_line         BIGINT NOT NULL DEFAULT 1,
    UNIQUE (store_id, source_path)
);
CREATE INDEX sessions_by_store ON sessions (store_id, created_at, id);

CREATE TABLE session_events (
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    line        BIGINT,
    ts          BIGINT,
    uuid        TEXT,
    parent_uuid TEXT,
    sidechain   BIGINT NOT NULL DEFAULT 0,
    agent_id    TEXT,
    text        TEXT,
    tool_name   TEXT,
    tool_use_id TEXT,
    tool_input  TEXT,
    is_error    BIGINT NOT NULL DEFAULT 0,
    subtype     TEXT,
    PRIMARY KEY (session_id, seq)
);

CREATE TABLE session_lines (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    line       BIGINT NOT NULL,
    raw        TEXT NOT NULL,
    PRIMARY KEY (session_id, line)
);
