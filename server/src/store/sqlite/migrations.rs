//! Numbered schema migrations, embedded at build time and tracked in `PRAGMA user_version`.
//!
//! Add a migration by appending a file `migrations/NNNN_name.sql` and a line to [`MIGRATIONS`];
//! never edit one that has shipped.
//!
//! Why not a migration crate (refinery, sqlx's migrator): they bring their own bookkeeping
//! table and, for sqlx, a second SQLite driver; SQLite's own `user_version` already is that
//! bookkeeping, and running the files in order, each with its version bump in one transaction,
//! is all this needs.

use rusqlite::Connection;

use crate::store::{Result, StoreError};

/// (version, SQL). Versions are 1, 2, 3… in order.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../../migrations/0001_init.sql")),
    (
        2,
        include_str!("../../../migrations/0002_chat_settings.sql"),
    ),
    (3, include_str!("../../../migrations/0003_attachments.sql")),
    (
        4,
        include_str!("../../../migrations/0004_read_by_sending.sql"),
    ),
    (
        5,
        include_str!("../../../migrations/0005_message_kind_check.sql"),
    ),
];

/// Applies every migration newer than the database, each in its own transaction.
///
/// Foreign keys are off while they run, as SQLite's procedure for rebuilding a table asks (a
/// `DROP TABLE` with them on would delete or refuse the rows that point at it), and each
/// migration must leave none broken (`foreign_key_check`) before it commits.
pub(super) fn run(conn: &Connection) -> Result<()> {
    run_to(conn, latest())
}

/// The newest schema version this build knows.
fn latest() -> u32 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}

/// Applies the migrations up to `target` (tests build older schemas with it).
fn run_to(conn: &Connection, target: u32) -> Result<()> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let known = latest();
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    let pending = MIGRATIONS
        .iter()
        .filter(|(v, _)| *v > current && *v <= target);
    apply_all(conn, pending)
}

/// Applies `migrations` in order with foreign keys off, then turns them back on if they were.
fn apply_all<'a>(
    conn: &Connection,
    migrations: impl IntoIterator<Item = &'a (u32, &'a str)>,
) -> Result<()> {
    let foreign_keys: bool = conn.pragma_query_value(None, "foreign_keys", |row| row.get(0))?;
    // A no-op inside a transaction: set before each migration's own.
    conn.pragma_update(None, "foreign_keys", false)?;
    let applied = migrations
        .into_iter()
        .try_for_each(|&(version, sql)| apply(conn, version, sql));
    conn.pragma_update(None, "foreign_keys", foreign_keys)?;
    applied
}

fn apply(conn: &Connection, version: u32, sql: &str) -> Result<()> {
    // Whether the migration left a row pointing at one that does not exist.
    let migrate = || -> rusqlite::Result<bool> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        conn.execute_batch(sql)?;
        let broken = conn
            .prepare("PRAGMA foreign_key_check")?
            .query([])?
            .next()?
            .is_some();
        if !broken {
            conn.pragma_update(None, "user_version", version)?;
            conn.execute_batch("COMMIT")?;
        }
        Ok(broken)
    };
    let outcome = migrate();
    if !matches!(outcome, Ok(false)) {
        let _ = conn.execute_batch("ROLLBACK");
    }
    match outcome {
        Ok(false) => {
            tracing::info!(version, "applied migration");
            Ok(())
        }
        Ok(true) => Err(StoreError::Corrupt(format!(
            "migration {version} would leave rows pointing at rows that do not exist"
        ))),
        Err(source) => Err(StoreError::Migration { version, source }),
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::params;

    use super::*;

    /// A database with foreign keys on (as the store opens it), at schema `version`.
    fn database_at(version: u32) -> Connection {
        let c = Connection::open_in_memory().expect("database");
        c.pragma_update(None, "foreign_keys", true).expect("pragma");
        run_to(&c, version).expect("migrations");
        c
    }

    fn one<T: rusqlite::types::FromSql>(c: &Connection, sql: &str) -> T {
        c.query_row(sql, [], |r| r.get(0)).expect(sql)
    }

    /// A student and a tutor in one chat with three messages, the newest deleted, and an
    /// attachment carried by the second.
    fn seed(c: &Connection) {
        c.execute_batch(
            "INSERT INTO users (id, email, name, role, created_at, updated_at)
             VALUES ('s', 's@x', 'S', 'student', 0, 0), ('t', 't@x', 'T', 'tutor', 0, 0);
             INSERT INTO courses (id, title, created_at, updated_at) VALUES ('c', 'C', 0, 0);
             INSERT INTO chats (course_id, student_id, tutor_id, last_seq, created_at,
                                last_activity_at)
             VALUES ('c', 's', 't', 3, 0, 0);
             INSERT INTO chat_members (chat_id, user_id) VALUES (1, 's'), (1, 't');",
        )
        .expect("people and chat");
        for seq in 1..=3 {
            c.execute(
                "INSERT INTO messages (chat_id, seq, sender_id, client_id, kind, content,
                                       created_at)
                 VALUES (1, ?1, 's', ?2, 'text', ?3, ?1)",
                params![seq, format!("client-{seq}"), format!("message {seq}")],
            )
            .expect("message");
        }
        c.execute_batch(
            "INSERT INTO attachments (id, owner_id, upload_id, name, declared_size, created_at,
                                      message_id)
             VALUES ('a', 's', 'u', 'photo.png', 10, 0, 2);
             DELETE FROM messages WHERE id = 3;",
        )
        .expect("attachment, deletion");
    }

    #[test]
    fn the_kind_rebuild_keeps_messages_ids_counter_indexes_and_the_rule() {
        let c = database_at(4);
        seed(&c);
        run(&c).expect("migrate to the latest");

        assert_eq!(one::<u32>(&c, "PRAGMA user_version"), 5);
        assert!(
            one::<bool>(&c, "PRAGMA foreign_keys"),
            "foreign keys back on"
        );
        assert_eq!(one::<String>(&c, "PRAGMA integrity_check"), "ok");
        let kept: Vec<(i64, i64, String)> = c
            .prepare("SELECT id, seq, content FROM messages ORDER BY id")
            .expect("select")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("messages");
        assert_eq!(
            kept,
            [
                (1, 1, "message 1".to_owned()),
                (2, 2, "message 2".to_owned())
            ]
        );
        assert_eq!(
            one::<i64>(&c, "SELECT message_id FROM attachments WHERE id = 'a'"),
            2
        );
        let indexes: i64 = one(
            &c,
            "SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'messages' AND name IN
               ('messages_by_chat_seq', 'messages_by_sender_client_id')",
        );
        assert_eq!(indexes, 2);
        // The view reads the rebuilt table: the student's own message 2 is what they read.
        assert_eq!(
            one::<i64>(
                &c,
                "SELECT read_seq FROM member_reads WHERE chat_id = 1 AND user_id = 't'"
            ),
            0
        );

        // The deleted message's id is not given again.
        c.execute(
            "INSERT INTO messages (chat_id, seq, sender_id, client_id, kind, content, created_at)
             VALUES (1, 4, 't', 'client-4', 'image', 'new', 4)",
            [],
        )
        .expect("a new message");
        assert_eq!(c.last_insert_rowid(), 4);
        // The rules still hold: the kind, the unique client id, the chat it belongs to.
        let insert = |chat: i64, client_id: &str, kind: &str| {
            c.execute(
                "INSERT INTO messages (chat_id, seq, sender_id, client_id, kind, content,
                                       created_at)
                 VALUES (?1, 99, 's', ?2, ?3, 'x', 0)",
                params![chat, client_id, kind],
            )
        };
        let refused = insert(1, "client-5", "video").expect_err("an unknown kind");
        assert!(refused.to_string().contains("CHECK"), "{refused}");
        assert!(
            insert(1, "client-1", "text").is_err(),
            "a client id used again"
        );
        assert!(
            insert(7, "client-6", "file").is_err(),
            "a chat that does not exist"
        );
        insert(1, "client-7", "file").expect("a file");
    }

    #[test]
    fn a_migration_that_leaves_a_dangling_reference_is_rolled_back() {
        let c = database_at(5);
        seed(&c);
        let dangling = "INSERT INTO chat_members (chat_id, user_id) VALUES (42, 's');";
        let refused = apply_all(&c, &[(6, dangling)]).expect_err("a member of no chat");
        assert!(matches!(refused, StoreError::Corrupt(_)), "{refused:?}");
        assert_eq!(one::<u32>(&c, "PRAGMA user_version"), 5);
        assert!(
            one::<bool>(&c, "PRAGMA foreign_keys"),
            "foreign keys back on"
        );
        assert_eq!(
            one::<i64>(&c, "SELECT count(*) FROM chat_members WHERE chat_id = 42"),
            0
        );
    }
}
