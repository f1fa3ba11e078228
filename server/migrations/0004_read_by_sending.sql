-- Sending reads: a member has read their chat up to their own latest message. That pointer
-- lives on the chats row, which every send updates anyway, rather than in chat_members: a
-- second row (in practice a second page written to the log) per message. chat_members keeps
-- what members mark read; `member_reads` is what readers see, the later of the two.
ALTER TABLE chats ADD COLUMN student_sent_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN tutor_sent_seq INTEGER NOT NULL DEFAULT 0;

-- chat_members with each read pointer as readers see it. When sending moved it last, it was
-- read when that message was written.
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
