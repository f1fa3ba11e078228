-- The same rule for a message's kind, written so that checking it costs a comparison or three.
-- SQLite evaluates `kind IN ('text', 'image', 'file')` (three constants) by building a
-- temporary b-tree of the list on every INSERT: a page allocated and cleared, a cursor opened
-- and closed, for every message stored. Counted by `scripts/callgrind.sh`, numbering and
-- inserting a message took ~74,000 instructions with it and a RETURNING clause that did the
-- same (`chats::NUMBER_MESSAGE`), ~41,000 without either.
--
-- SQLite cannot change a CHECK in place, so the table is rebuilt as its documented procedure
-- says (https://sqlite.org/lang_altertable.html#otheralter): the runner applies migrations with
-- foreign keys off and checks them before committing. Ids, the AUTOINCREMENT counter (so an id
-- is never given twice, even after the newest messages were deleted), both indexes and the view
-- that reads the table come through unchanged.

DROP VIEW member_reads;

CREATE TABLE messages_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    sender_id  TEXT NOT NULL REFERENCES users (id),
    client_id  TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind = 'text' OR kind = 'image' OR kind = 'file'),
    content    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attachment TEXT
) STRICT;

INSERT INTO messages_new (id, chat_id, seq, sender_id, client_id, kind, content, created_at,
                          attachment)
SELECT id, chat_id, seq, sender_id, client_id, kind, content, created_at, attachment
FROM messages;

-- The copy set the new table's counter to its highest id; the old one may be higher.
DELETE FROM sqlite_sequence WHERE name = 'messages_new';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'messages_new', seq FROM sqlite_sequence WHERE name = 'messages';

DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;

CREATE UNIQUE INDEX messages_by_chat_seq ON messages (chat_id, seq);
CREATE UNIQUE INDEX messages_by_sender_client_id ON messages (sender_id, client_id);

-- As 0004 defined it.
CREATE VIEW member_reads AS
SELECT p.chat_id, p.user_id,
       max(p.read_seq, p.sent_seq) AS read_seq,
       CASE WHEN p.sent_seq > p.read_seq
            THEN (SELECT m.created_at FROM messages m
                  WHERE m.chat_id = p.chat_id AND m.seq = p.sent_seq)
            ELSE p.read_at
       END AS read_at,
       p.muted, p.archived, p.archived_at
FROM (SELECT cm.chat_id, cm.user_id, cm.read_seq, cm.read_at,
             cm.muted, cm.archived, cm.archived_at,
             CASE cm.user_id WHEN ch.student_id THEN ch.student_sent_seq
                             ELSE ch.tutor_sent_seq END AS sent_seq
      FROM chat_members cm JOIN chats ch ON ch.id = cm.chat_id) p;
