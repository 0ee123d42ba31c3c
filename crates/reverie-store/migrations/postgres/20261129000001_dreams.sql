-- Curation: each store's policy, the metadata of its entries, and dreams (curation jobs) with
-- their changesets. Booleans are 0/1 integers and structured fields JSON text, on both backends.

CREATE TABLE policies (
    store_id   TEXT PRIMARY KEY REFERENCES memory_stores (id) ON DELETE CASCADE,
    -- reverie-core's Policy as JSON; absent means the default policy.
    policy     TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- What curation knows about each entry of a store's memories; the text itself lives in the
-- memories, and is copied here as of the last dream so that archived entries can be restored.
CREATE TABLE entries (
    store_id      TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('live', 'archived', 'superseded')),
    kind          TEXT NOT NULL,
    path          TEXT COLLATE "C" NOT NULL,
    section       TEXT NOT NULL,
    text          TEXT NOT NULL,
    provenance    TEXT NOT NULL,
    served        BIGINT NOT NULL DEFAULT 0,
    helpful       BIGINT NOT NULL DEFAULT 0,
    harmful       BIGINT NOT NULL DEFAULT 0,
    first_seen    BIGINT,
    last_seen     BIGINT,
    superseded_by TEXT,
    pinned        BIGINT NOT NULL DEFAULT 0,
    dream_id      TEXT,
    PRIMARY KEY (store_id, id)
);
CREATE INDEX entries_by_state ON entries (store_id, state);

CREATE TABLE dreams (
    id                TEXT PRIMARY KEY,
    -- The input store.
    store_id          TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    status            TEXT NOT NULL
                      CHECK (status IN ('pending', 'running', 'completed', 'failed', 'canceled')),
    session_ids       TEXT NOT NULL,
    model             TEXT NOT NULL,
    instructions      TEXT,
    output_behavior   TEXT NOT NULL CHECK (output_behavior IN ('create_new', 'update_existing')),
    output_store_id   TEXT,
    -- NULL, or the review of a proposal: pending, approved, rejected.
    review            TEXT CHECK (review IN ('pending', 'approved', 'rejected')),
    decided_at        BIGINT,
    decided_by_type   TEXT,
    decided_by_id     TEXT,
    base_revision     BIGINT,
    applied_revision  BIGINT,
    reverted_revision BIGINT,
    -- reverie-core's Changeset as JSON, once the dream completed.
    changeset         TEXT,
    -- What a pending proposal applies when approved (writes, entries), as JSON.
    proposal          TEXT,
    -- The metadata of the entries the applied dream changed, as they were before (JSON), for
    -- revert.
    entries_undo      TEXT,
    error_type        TEXT,
    error_message     TEXT,
    usage             TEXT NOT NULL,
    -- The process running it (host:pid) and when it last said it was alive.
    runner            TEXT,
    heartbeat_at      BIGINT,
    created_at        BIGINT NOT NULL,
    started_at        BIGINT,
    ended_at          BIGINT,
    archived_at       BIGINT,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX dreams_by_created ON dreams (created_at, id);
CREATE INDEX dreams_by_store ON dreams (store_id, status);
