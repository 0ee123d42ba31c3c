-- The recall index (logic/recall_index.rs): each store's postings, built from entry_index and
-- merged with the memories written since, so that recall reads the postings of its query's
-- terms instead of every entry holding one. Derived data: rebuilt from entry_index whenever it
-- is missing, from another format or unreadable, and never the source of any answer's text.

-- One row per indexed store: the format of its rows, the totals BM25 needs, and a number drawn
-- anew whenever its postings or members change, by which a process knows what it keeps of them
-- is still what they say.
CREATE TABLE recall_base (
    store_id     TEXT PRIMARY KEY REFERENCES memory_stores (id) ON DELETE CASCADE,
    format       BIGINT NOT NULL,
    generation   BIGINT NOT NULL,
    docs         BIGINT NOT NULL,
    terms        BIGINT NOT NULL,
    next_ordinal BIGINT NOT NULL
);

-- The memories the postings hold, by the ordinal the postings name them with: how many entries
-- and terms each counts for, when each entry's text last changed ("block:updated_at", space-
-- separated), and its distinct terms (the postings rows a change to it rewrites).
CREATE TABLE recall_members (
    store_id   TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    memory_id  TEXT NOT NULL,
    ordinal    BIGINT NOT NULL,
    docs       BIGINT NOT NULL,
    terms      BIGINT NOT NULL,
    blocks     TEXT NOT NULL,
    term_set   TEXT NOT NULL,
    PRIMARY KEY (store_id, memory_id),
    UNIQUE (store_id, ordinal)
);

-- Each term's postings: (ordinal, block, frequency, entry length) per entry holding it, sorted,
-- as varints (postings.rs), in chunks of 256 ordinals (chunk = ordinal / 256), so that a merge
-- rewrites the chunks its memories are in, not a common term's every posting.
CREATE TABLE recall_postings (
    store_id TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    term     TEXT NOT NULL,
    chunk    BIGINT NOT NULL,
    data     BYTEA NOT NULL,
    PRIMARY KEY (store_id, term, chunk)
);

-- Memories written since their postings were merged, with their entry and term counts now
-- (0 and 0: deleted). Recall reads these from entry_index and masks their merged postings.
CREATE TABLE recall_dirty (
    store_id  TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
    memory_id TEXT NOT NULL,
    docs      BIGINT NOT NULL,
    terms     BIGINT NOT NULL,
    PRIMARY KEY (store_id, memory_id)
);

-- Facts about the search indexes as a whole. 'synced' holds the version of the catch-up at open
-- (logic/search.rs) that last found every memory indexed as it is: every write since indexed
-- its memories in its own transaction (and a binary that does not cannot open this database:
-- it lacks this migration), so an open skips the catch-up's scan of every memory.
CREATE TABLE search_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
