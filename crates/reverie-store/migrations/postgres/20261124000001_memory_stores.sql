-- Memory stores, memories, memory versions and store revisions (PostgreSQL).
-- Times are microseconds since the Unix epoch. Paths use the "C" collation so that they sort
-- and compare byte for byte, as on SQLite. Content is BYTEA: TEXT cannot hold NUL.

CREATE TABLE memory_stores (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    archived_at  BIGINT,
    revision     BIGINT NOT NULL DEFAULT 0,
    max_memories BIGINT NOT NULL,
    -- Live memories, kept exact by every write (cheaper than counting on each create).
    memory_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX memory_stores_by_created ON memory_stores (created_at, id);
CREATE INDEX memory_stores_by_name ON memory_stores (name);

CREATE TABLE memories (
    id                 TEXT PRIMARY KEY,
    store_id           TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    path               TEXT COLLATE "C" NOT NULL,
    content            BYTEA NOT NULL,
    content_sha256     TEXT NOT NULL,
    content_size_bytes BIGINT NOT NULL,
    version_id         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (store_id, path)
);

CREATE TABLE memory_versions (
    seq                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                 TEXT NOT NULL UNIQUE,
    store_id           TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    memory_id          TEXT NOT NULL,
    revision           BIGINT NOT NULL,
    operation          TEXT NOT NULL CHECK (operation IN ('created', 'modified', 'deleted')),
    path               TEXT COLLATE "C",
    content            BYTEA,
    content_sha256     TEXT,
    content_size_bytes BIGINT,
    actor_type         TEXT,
    actor_id           TEXT,
    created_at         BIGINT NOT NULL,
    redacted_at        BIGINT,
    redacted_by_type   TEXT,
    redacted_by_id     TEXT,
    UNIQUE (memory_id, revision)
);
CREATE INDEX memory_versions_by_store ON memory_versions (store_id, seq);
CREATE INDEX memory_versions_by_revision ON memory_versions (store_id, revision);
CREATE INDEX memory_versions_by_memory ON memory_versions (memory_id, seq);

CREATE TABLE store_revisions (
    store_id   TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    revision   BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    actor_type TEXT,
    actor_id   TEXT,
    summary    TEXT NOT NULL,
    PRIMARY KEY (store_id, revision)
);

-- Empty directories made through the memory tool; directories that hold memories are implied.
CREATE TABLE memory_tool_dirs (
    store_id TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    path     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (store_id, path)
);
