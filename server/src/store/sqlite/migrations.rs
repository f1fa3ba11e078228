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
];

/// Applies every migration newer than the database, each in its own transaction.
pub(super) fn run(conn: &Connection) -> Result<()> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let known = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let apply = || -> rusqlite::Result<()> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            conn.execute_batch(sql)?;
            conn.pragma_update(None, "user_version", version)?;
            conn.execute_batch("COMMIT")
        };
        if let Err(source) = apply() {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(StoreError::Migration { version, source });
        }
        tracing::info!(version, "applied migration");
    }
    Ok(())
}
