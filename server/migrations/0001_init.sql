-- Tutorchat schema, version 1.
-- Times are Unix milliseconds (UTC). User and course ids are the course platform's own.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('student', 'tutor', 'admin')),
    password_hash TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE courses (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE course_tutors (
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    tutor_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (course_id, tutor_id)
) STRICT, WITHOUT ROWID;
-- "Which courses does this tutor teach" (tutor's student list, the gate).
CREATE INDEX course_tutors_by_tutor ON course_tutors (tutor_id, course_id);

CREATE TABLE enrollments (
    course_id  TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    student_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    granted_at INTEGER NOT NULL,
    revoked_at INTEGER,
    PRIMARY KEY (course_id, student_id)
) STRICT, WITHOUT ROWID;
-- "Which courses has this student bought" (available tutors, the gate).
CREATE INDEX enrollments_by_student ON enrollments (student_id, course_id);

CREATE TABLE chats (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    course_id        TEXT NOT NULL REFERENCES courses (id),
    student_id       TEXT NOT NULL REFERENCES users (id),
    tutor_id         TEXT NOT NULL REFERENCES users (id),
    -- The highest message seq; the next message gets last_seq + 1 (gapless).
    last_seq         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    UNIQUE (course_id, student_id, tutor_id)
) STRICT;

CREATE TABLE chat_members (
    chat_id  INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id),
    -- Every message with seq <= read_seq is read by this member.
    read_seq INTEGER NOT NULL DEFAULT 0,
    read_at  INTEGER,
    PRIMARY KEY (chat_id, user_id)
) STRICT, WITHOUT ROWID;
-- "This user's chats" (chat list, sync).
CREATE INDEX chat_members_by_user ON chat_members (user_id, chat_id);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    sender_id  TEXT NOT NULL REFERENCES users (id),
    client_id  TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('text', 'image', 'file')),
    content    TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
-- History pages and sync by (chat, seq); also the last message of a chat.
CREATE UNIQUE INDEX messages_by_chat_seq ON messages (chat_id, seq);
-- Idempotent sends: one message per (sender, client_id), forever.
CREATE UNIQUE INDEX messages_by_sender_client_id ON messages (sender_id, client_id);

CREATE TABLE blocks (
    blocker_id TEXT NOT NULL REFERENCES users (id),
    blocked_id TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE refresh_tokens (
    -- SHA-256 of the token, hex; the token itself is never stored.
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    -- All tokens descending from one login; reuse of a spent one revokes the family.
    family_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    action   TEXT NOT NULL,
    actor_id TEXT,
    target   TEXT,
    detail   TEXT,
    ip       TEXT
) STRICT;
CREATE INDEX audit_log_by_action ON audit_log (action, id);
