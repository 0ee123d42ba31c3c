-- Search: every entry of every live memory with the terms it is found by, kept current by each
-- write (logic/search.rs), and the entries served to agents. Terms are stored as full-text
-- tokens (reverie-core's `search::fts_token`) and turned into a tsvector lexeme by lexeme,
-- without a parser or dictionary, so that the GIN index only finds candidates and the score is
-- computed from the terms, the same on both backends.

CREATE TABLE entry_index (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id   TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    memory_id  TEXT NOT NULL,
    block      BIGINT NOT NULL,
    digest     TEXT NOT NULL,
    terms      TEXT NOT NULL,
    term_count BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    tsv        tsvector GENERATED ALWAYS AS (array_to_tsvector(string_to_array(terms, ' '))) STORED,
    UNIQUE (store_id, memory_id, block)
);
CREATE INDEX entry_index_by_memory ON entry_index (memory_id);
CREATE INDEX entry_index_tsv ON entry_index USING GIN (tsv);

CREATE TABLE search_state (
    memory_id      TEXT PRIMARY KEY,
    store_id       TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    content_sha256 TEXT NOT NULL
);

CREATE TABLE servings (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id   TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    entry_id   TEXT NOT NULL,
    session_id TEXT,
    via        TEXT NOT NULL CHECK (via IN ('recall', 'context')),
    served_at  BIGINT NOT NULL
);
CREATE INDEX servings_by_session ON servings (session_id);
