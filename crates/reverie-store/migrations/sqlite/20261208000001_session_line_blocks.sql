-- A session's raw lines, compressed with zstd in blocks of consecutive lines (the framing is
-- `line_blocks.rs`'s). Ingest writes here; `session_lines` keeps the rows written before this
-- migration, one uncompressed line each, and reads merge the two.

CREATE TABLE session_line_blocks (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    first_line INTEGER NOT NULL,
    last_line  INTEGER NOT NULL,
    lines      INTEGER NOT NULL,
    raw_bytes  INTEGER NOT NULL,
    codec      TEXT NOT NULL,
    data       BLOB NOT NULL,
    PRIMARY KEY (session_id, first_line)
);
