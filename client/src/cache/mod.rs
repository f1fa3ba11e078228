//! The local cache of one account: a SQLite file (WAL, numbered migrations embedded at build
//! time) that history opens from instantly and that keeps the outbox durable. Calls run on
//! the blocking pool and never wait for the network.
//!
//! Another connection may write the same file (a second process before the data directory
//! lock existed, a tool, a backup): transactions are `IMMEDIATE` (they take the write lock
//! when they begin, so one can never fail half-way because another wrote since it read) and
//! every statement waits up to [`BUSY_TIMEOUT`] for the lock.
//!
//! - [`chats`]: chat rows, read pointers, sync cursors.
//! - [`chat_list`]: the chat list as a device shows it, a read model over chats, messages and
//!   the outbox.
//! - [`messages`]: stored messages (the one door a server message comes in by, which also
//!   settles its outbox row), pages, cursor advancement over contiguous data, search.
//! - [`outbox`]: messages written here and not yet acknowledged.
//! - [`drafts`]: unsent text per chat.
//! - [`server_config`]: what the server publishes about itself (its limits).

pub mod chat_list;
pub mod chats;
pub mod drafts;
pub mod files;
pub mod messages;
pub mod outbox;
pub mod server_config;
#[cfg(test)]
pub(crate) mod testing;

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, TransactionBehavior};

use crate::error::Result;

/// How long a statement waits for another connection's write lock before failing.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../migrations/0001_cache.sql")),
    (2, include_str!("../../migrations/0002_chat_standing.sql")),
    (3, include_str!("../../migrations/0003_attachments.sql")),
];

/// Handle to one account's cache; cheap to clone.
#[derive(Debug, Clone)]
pub struct Cache {
    /// A std mutex: one connection, used only inside `spawn_blocking`, never across `.await`.
    conn: Arc<Mutex<Connection>>,
}

impl Cache {
    pub fn open(path: &Path) -> Result<Cache> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL in WAL mode: a crash may lose the last commits of received data, which the
        // next sync fetches again. Outbox writes switch to FULL (see `Client::send`).
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        migrate(&conn)?;
        Ok(Cache {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection, off the async threads.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await?
    }

    /// Runs `f` inside one `IMMEDIATE` transaction: the write lock is taken (waiting up to
    /// [`BUSY_TIMEOUT`]) before `f` reads anything, so its writes cannot be refused later.
    pub async fn transaction<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T> + Send + 'static,
    {
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
    }
}

fn migrate(conn: &Connection) -> Result<()> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
        ))?;
    }
    Ok(())
}

/// A column holding JSON (or NULL), read as `T`.
pub(crate) fn json_column<T: serde::de::DeserializeOwned>(
    r: &rusqlite::Row<'_>,
    at: usize,
) -> rusqlite::Result<Option<T>> {
    match r.get::<_, Option<String>>(at)? {
        Some(json) => serde_json::from_str(&json).map(Some).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(at, rusqlite::types::Type::Text, e.into())
        }),
        None => Ok(None),
    }
}

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::testing::temp_cache;

    #[tokio::test]
    async fn a_transaction_is_not_refused_because_another_connection_wrote_after_it_read() {
        let (dir, cache) = temp_cache();
        let path = dir.path().join("cache.db");
        let other = std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(path).expect("second connection");
            conn.busy_timeout(super::BUSY_TIMEOUT)
                .expect("busy timeout");
            conn
        })
        .join()
        .expect("opened");
        let writer = cache
            .transaction(move |tx| {
                // Read first (a deferred transaction would take its snapshot here) ...
                let _: i64 = tx.query_row("SELECT count(*) FROM drafts", [], |r| r.get(0))?;
                // ... then another connection writes ...
                let writer = std::thread::spawn(move || {
                    other.execute(
                        "INSERT INTO drafts (chat_id, text, updated_at) VALUES (2, 'theirs', 0)",
                        [],
                    )
                });
                std::thread::sleep(std::time::Duration::from_millis(300));
                // ... and this write must still go through.
                tx.execute(
                    "INSERT INTO drafts (chat_id, text, updated_at) VALUES (1, 'mine', 0)",
                    [],
                )?;
                Ok(writer)
            })
            .await
            .expect("the transaction commits");
        assert_eq!(
            writer.join().expect("thread").expect("their write waits"),
            1
        );
        let count: i64 = cache
            .call(|c| Ok(c.query_row("SELECT count(*) FROM drafts", [], |r| r.get(0))?))
            .await
            .expect("count");
        assert_eq!(count, 2, "both writes are kept");
    }
}
