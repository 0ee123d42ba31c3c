-- Search: every entry of every live memory with the terms it is found by, kept current by each
-- write (logic/search.rs), and the entries served to agents. Terms are stored as full-text
-- tokens (reverie-core's `search::fts_token`), so that FTS5 only finds candidates and the score
-- is computed from the terms, the same on both backends.

CREATE TABLE entry_index (
    seq        INTEGER PRIMARY KEY,
    store_id   TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    memory_id  TEXT NOT NULL,
    -- The entry's block in the memory as parsed (reverie-core's `entry::Document`).
    block      INTEGER NOT NULL,
    -- The first 16 bytes of the SHA-256 of the entry's searchable text, hex: an unchanged entry
    -- keeps its `updated_at` when its memory is rewritten around it.
    digest     TEXT NOT NULL,
    terms      TEXT NOT NULL,
    term_count INTEGER NOT NULL,
    -- When the entry's text last changed.
    updated_at INTEGER NOT NULL,
    UNIQUE (store_id, memory_id, block)
);
CREATE INDEX entry_index_by_memory ON entry_index (memory_id);

-- External content: FTS5 reads the terms from entry_index, and the triggers keep it in step.
CREATE VIRTUAL TABLE entry_fts USING fts5 (
    terms,
    content = 'entry_index',
    content_rowid = 'seq',
    tokenize = 'unicode61'
);
CREATE TRIGGER entry_index_ai AFTER INSERT ON entry_index BEGIN
    INSERT INTO entry_fts (rowid, terms) VALUES (new.seq, new.terms);
END;
CREATE TRIGGER entry_index_ad AFTER DELETE ON entry_index BEGIN
    INSERT INTO entry_fts (entry_fts, rowid, terms) VALUES ('delete', old.seq, old.terms);
END;
CREATE TRIGGER entry_index_au AFTER UPDATE ON entry_index BEGIN
    INSERT INTO entry_fts (entry_fts, rowid, terms) VALUES ('delete', old.seq, old.terms);
    INSERT INTO entry_fts (rowid, terms) VALUES (new.seq, new.terms);
END;

-- Recall looks up the metadata of the entries it found by where they are and what they say.
CREATE INDEX entries_by_path ON entries (store_id, path);

-- Which content of each memory the index holds: a memory whose digest differs (or that has no
-- row) is indexed again when the database is opened.
CREATE TABLE search_state (
    memory_id      TEXT PRIMARY KEY,
    store_id       TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    content_sha256 TEXT NOT NULL
);

-- Entries served to agents by recall or context; a dream reads those of its sessions to count
-- them as helpful or harmful by the session's outcome.
CREATE TABLE servings (
    seq        INTEGER PRIMARY KEY,
    store_id   TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    entry_id   TEXT NOT NULL,
    session_id TEXT,
    via        TEXT NOT NULL CHECK (via IN ('recall', 'context')),
    served_at  INTEGER NOT NULL
);
CREATE INDEX servings_by_session ON servings (session_id);
