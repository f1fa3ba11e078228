-- The member's own view of each chat, as the server last said (its chat list, `chat_created`,
-- `chat_updated`): settings that follow the member across devices, and whether they may still
-- write.
ALTER TABLE chats ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
-- The last archive choice (1: archived, 0: brought back) and when; NULL when never chosen.
ALTER TABLE chats ADD COLUMN archived INTEGER;
ALTER TABLE chats ADD COLUMN archived_at INTEGER;
-- The member blocked the other person.
ALTER TABLE chats ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0;
-- Why the chat is read-only ('enrollment_ended', 'tutor_left'), NULL when writable.
ALTER TABLE chats ADD COLUMN read_only TEXT;
ALTER TABLE chats ADD COLUMN purchase_url TEXT;
