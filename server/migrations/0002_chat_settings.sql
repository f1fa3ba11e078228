-- Each member's own settings for a chat, the same on all of their devices.
ALTER TABLE chat_members ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
-- The member's last archive choice (1: archived, 0: brought back) and when it was made; NULL
-- when they never chose. Whether the chat is archived now also depends on its activity since
-- (a new message brings it back) and on the server's automatic period (shared `is_archived`).
ALTER TABLE chat_members ADD COLUMN archived INTEGER;
ALTER TABLE chat_members ADD COLUMN archived_at INTEGER;

-- Where the platform sells the course: offered when a student's purchase is missing or ended.
ALTER TABLE courses ADD COLUMN purchase_url TEXT;
