-- The client's cache of one account, version 1. Times are Unix milliseconds (UTC).

-- Who this cache belongs to, and other single values.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE chats (
    id               INTEGER PRIMARY KEY,
    course_id        TEXT NOT NULL,
    course_title     TEXT NOT NULL,
    peer_id          TEXT NOT NULL,
    peer_name        TEXT NOT NULL,
    peer_role        TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    -- The server's highest seq as last heard.
    last_seq         INTEGER NOT NULL DEFAULT 0,
    my_read_seq      INTEGER NOT NULL DEFAULT 0,
    -- 1 while my_read_seq has moved here and the server has not confirmed it yet.
    my_read_unsent   INTEGER NOT NULL DEFAULT 0,
    peer_read_seq    INTEGER NOT NULL DEFAULT 0,
    -- Sync cursor: every message from `history_from` up to `synced_seq` is stored here.
    -- It only moves over stored data, so a sync from it misses nothing.
    synced_seq       INTEGER NOT NULL DEFAULT 0,
    -- The lowest seq of the contiguous run ending at synced_seq (1 when all history is here).
    history_from     INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX chats_by_activity ON chats (last_activity_at DESC);

-- Messages stored by the server, keyed by its id.
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    sender_id  TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    content    TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX messages_by_chat_seq ON messages (chat_id, seq);
CREATE INDEX messages_by_client_id ON messages (client_id);

-- Messages written here and not yet acknowledged (pending) or refused for good (failed).
-- Written before anything is sent; removed only when the ack's message is stored.
CREATE TABLE outbox (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id   TEXT NOT NULL UNIQUE,
    chat_id     INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    content     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    error_code  TEXT,
    error_text  TEXT
) STRICT;
CREATE INDEX outbox_by_chat ON outbox (chat_id, position);

CREATE TABLE drafts (
    chat_id    INTEGER PRIMARY KEY,
    text       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Offline search over cached history.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
