-- Uploads and the attachments they become. An owner creates an upload under their own
-- upload_id (so creating it again answers the same row); its bytes grow in a partial file
-- until complete, when the content is checked and stored by its SHA-256 (`blob`, shared by
-- identical uploads); then exactly one message may claim it.
CREATE TABLE attachments (
    id            TEXT PRIMARY KEY,
    owner_id      TEXT NOT NULL REFERENCES users (id),
    upload_id     TEXT NOT NULL,
    name          TEXT NOT NULL,
    declared_size INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    -- Set once the content is checked and stored:
    mime          TEXT,
    size          INTEGER,
    blob          TEXT,
    width         INTEGER,
    height        INTEGER,
    thumbnail     TEXT,
    completed_at  INTEGER,
    -- Set by the one message that carries it:
    message_id    INTEGER UNIQUE REFERENCES messages (id),
    UNIQUE (owner_id, upload_id)
) STRICT;
-- Whether a blob is still used by another attachment before its file is removed.
CREATE INDEX attachments_by_blob ON attachments (blob);
CREATE INDEX attachments_by_thumbnail ON attachments (thumbnail);
-- Uploads never sent, oldest first, for the daily sweep (which counts a day from when an
-- upload was finished, or started if it never was).
CREATE INDEX attachments_unsent ON attachments (created_at) WHERE message_id IS NULL;

-- A message's attachment as the API shows it (JSON), so history, sync and the chat list read
-- it with the message.
ALTER TABLE messages ADD COLUMN attachment TEXT;
