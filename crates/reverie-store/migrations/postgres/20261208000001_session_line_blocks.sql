-- A session's raw lines, compressed with zstd in blocks of consecutive lines (the framing is
-- `line_blocks.rs`'s). Ingest writes here; `session_lines` keeps the rows written before this
-- migration, one uncompressed line each, and reads merge the two.

CREATE TABLE session_line_blocks (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    first_line BIGINT NOT NULL,
    last_line  BIGINT NOT NULL,
    lines      BIGINT NOT NULL,
    raw_bytes  BIGINT NOT NULL,
    codec      TEXT NOT NULL,
    data       BYTEA NOT NULL,
    PRIMARY KEY (session_id, first_line)
);

-- The blocks are compressed already: TOAST stores them out of line without trying again.
ALTER TABLE session_line_blocks ALTER COLUMN data SET STORAGE EXTERNAL;
