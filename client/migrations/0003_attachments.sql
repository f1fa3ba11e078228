-- A stored message's attachment: the server's `Attachment` as JSON.
ALTER TABLE messages ADD COLUMN attachment TEXT;
-- The messages that carry one, for the thumbnail fetcher (newest first).
CREATE INDEX messages_with_attachment ON messages (created_at) WHERE attachment IS NOT NULL;

-- An outbox message's attachment: what it is (a `LocalAttachment` as JSON, its `id` set once
-- the upload finished) and the copy kept in this account's directory until it is sent.
ALTER TABLE outbox ADD COLUMN attachment TEXT;
ALTER TABLE outbox ADD COLUMN attachment_path TEXT;

-- Thumbnails, kept with the history they belong to (never evicted), so it shows offline.
CREATE TABLE thumbnails (
    attachment_id TEXT PRIMARY KEY,
    bytes         BLOB NOT NULL
) STRICT;

-- Full attachments on this device (downloaded, or the copy kept of one sent from here), by
-- path relative to the account's directory; the least recently used are evicted past the
-- cache's size bound.
CREATE TABLE files (
    attachment_id TEXT PRIMARY KEY,
    path          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    used_at       INTEGER NOT NULL
) STRICT;
