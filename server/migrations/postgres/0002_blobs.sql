-- Finished upload content (by the SHA-256 of its bytes), so that every node serves every
-- attachment without a shared filesystem. Already compressed formats mostly: stored as is.
CREATE TABLE blobs (
    key       TEXT PRIMARY KEY,
    bytes     BYTEA NOT NULL,
    -- When it was last stored: content stored again is kept a while (see PgBlobs::delete).
    stored_at BIGINT NOT NULL
);
ALTER TABLE blobs ALTER COLUMN bytes SET STORAGE EXTERNAL;
