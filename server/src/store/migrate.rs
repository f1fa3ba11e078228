//! `tutorchat-server migrate`: moves a single-node installation (the SQLite file in a data
//! directory) into an empty PostgreSQL database, table by table with `COPY` and the uploaded
//! files into `blobs`, in one transaction — all of it or nothing — and checks it before the
//! commit: row counts of every table and each chat's last seq, read back from both sides.

use std::fmt::Write as _;
use std::path::Path;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::postgres::PgStore;
use super::sqlite::DB_FILE;
use super::{Result, StoreError};

/// A column's type on the PostgreSQL side (SQLite's are looser: flags are integers there).
#[derive(Debug, Clone, Copy)]
enum Col {
    Text,
    Int,
    Int4,
    Bool,
}

/// Every table, parents before children, with its columns.
const TABLES: &[(&str, &[(&str, Col)])] = &[
    (
        "users",
        &[
            ("id", Col::Text),
            ("email", Col::Text),
            ("name", Col::Text),
            ("role", Col::Text),
            ("password_hash", Col::Text),
            ("disabled", Col::Bool),
            ("created_at", Col::Int),
            ("updated_at", Col::Int),
        ],
    ),
    (
        "courses",
        &[
            ("id", Col::Text),
            ("title", Col::Text),
            ("purchase_url", Col::Text),
            ("created_at", Col::Int),
            ("updated_at", Col::Int),
        ],
    ),
    (
        "course_tutors",
        &[("course_id", Col::Text), ("tutor_id", Col::Text)],
    ),
    (
        "enrollments",
        &[
            ("course_id", Col::Text),
            ("student_id", Col::Text),
            ("granted_at", Col::Int),
            ("revoked_at", Col::Int),
        ],
    ),
    (
        "chats",
        &[
            ("id", Col::Int),
            ("course_id", Col::Text),
            ("student_id", Col::Text),
            ("tutor_id", Col::Text),
            ("last_seq", Col::Int),
            ("created_at", Col::Int),
            ("last_activity_at", Col::Int),
        ],
    ),
    (
        "chat_members",
        &[
            ("chat_id", Col::Int),
            ("user_id", Col::Text),
            ("read_seq", Col::Int),
            ("read_at", Col::Int),
            ("muted", Col::Bool),
            ("archived", Col::Bool),
            ("archived_at", Col::Int),
        ],
    ),
    (
        "messages",
        &[
            ("id", Col::Int),
            ("chat_id", Col::Int),
            ("seq", Col::Int),
            ("sender_id", Col::Text),
            ("client_id", Col::Text),
            ("kind", Col::Text),
            ("content", Col::Text),
            ("created_at", Col::Int),
            ("attachment", Col::Text),
        ],
    ),
    (
        "blocks",
        &[
            ("blocker_id", Col::Text),
            ("blocked_id", Col::Text),
            ("created_at", Col::Int),
        ],
    ),
    (
        "refresh_tokens",
        &[
            ("token_hash", Col::Text),
            ("user_id", Col::Text),
            ("family_id", Col::Text),
            ("created_at", Col::Int),
            ("expires_at", Col::Int),
            ("used_at", Col::Int),
            ("revoked_at", Col::Int),
        ],
    ),
    (
        "audit_log",
        &[
            ("id", Col::Int),
            ("at", Col::Int),
            ("action", Col::Text),
            ("actor_id", Col::Text),
            ("target", Col::Text),
            ("detail", Col::Text),
            ("ip", Col::Text),
        ],
    ),
    (
        "attachments",
        &[
            ("id", Col::Text),
            ("owner_id", Col::Text),
            ("upload_id", Col::Text),
            ("name", Col::Text),
            ("declared_size", Col::Int),
            ("created_at", Col::Int),
            ("mime", Col::Text),
            ("size", Col::Int),
            ("blob", Col::Text),
            ("width", Col::Int4),
            ("height", Col::Int4),
            ("thumbnail", Col::Text),
            ("completed_at", Col::Int),
            ("message_id", Col::Int),
        ],
    ),
];

/// Tables whose ids PostgreSQL generates: their sequences continue after the copied ids.
const GENERATED_IDS: &[&str] = &["chats", "messages", "audit_log"];

/// What a migration moved, checked on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// (table, rows) in copy order.
    pub tables: Vec<(&'static str, u64)>,
    /// Every chat's last seq, compared on both sides, by chat id.
    pub last_seqs: Vec<(i64, u64)>,
}

/// Chats listed one per line in the report; past this, a summary.
const LISTED_CHATS: usize = 1000;

impl Report {
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (table, rows) in &self.tables {
            let _ = writeln!(out, "{table:>16}: {rows} rows");
        }
        for (chat, seq) in self.last_seqs.iter().take(LISTED_CHATS) {
            let _ = writeln!(out, "chat {chat}: last seq {seq}");
        }
        if self.last_seqs.len() > LISTED_CHATS {
            let _ = writeln!(
                out,
                "… and {} more chats",
                self.last_seqs.len() - LISTED_CHATS
            );
        }
        let _ = writeln!(
            out,
            "every chat's last seq matches ({} chats)",
            self.last_seqs.len()
        );
        out
    }
}

/// Copies the installation in `data_dir` into the empty database at `url`.
pub async fn sqlite_to_postgres(data_dir: &Path, url: &str) -> Result<Report> {
    let path = data_dir.join(DB_FILE);
    if !path.exists() {
        return Err(StoreError::Unsupported(format!(
            "no database in {} (expected {DB_FILE})",
            data_dir.display()
        )));
    }
    // Brings the source's schema up to date the way the server would, then reads it alone.
    drop(super::sqlite::SqliteStore::open(data_dir)?);
    let source = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    // Every read below sees one snapshot, whatever else touches the file meanwhile.
    source.execute_batch("BEGIN")?;
    // The target's schema comes from the server's own migrations.
    drop(PgStore::connect(url, 2).await?);
    let (mut target, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(connection);

    let tx = target.transaction().await?;
    for (table, _) in TABLES {
        let any = tx
            .query_opt(&format!("SELECT 1 FROM {table} LIMIT 1"), &[])
            .await?;
        if any.is_some() {
            return Err(StoreError::Unsupported(format!(
                "the target database is not empty ({table} has rows): migrate only into a new one"
            )));
        }
    }
    let mut tables = Vec::with_capacity(TABLES.len());
    for (table, columns) in TABLES {
        let rows = copy_table(&source, &tx, table, columns).await?;
        tables.push((*table, rows));
    }
    let blobs = copy_blobs(&tx, &data_dir.join("blobs")).await?;
    tables.push(("blobs", blobs));
    for table in GENERATED_IDS {
        tx.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                               COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ),
            &[],
        )
        .await?;
    }
    // Checked inside the transaction: a mismatch commits nothing.
    for (table, copied) in tables.iter().filter(|(table, _)| *table != "blobs") {
        let source_rows: i64 =
            source.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        let target_rows: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await?
            .try_get(0)?;
        if source_rows != target_rows || u64::try_from(target_rows).ok() != Some(*copied) {
            return Err(StoreError::Corrupt(format!(
                "{table}: {source_rows} rows in SQLite, {target_rows} in PostgreSQL"
            )));
        }
    }
    let source_seqs: Vec<(i64, i64)> = {
        let mut stmt = source.prepare("SELECT id, last_seq FROM chats ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let target_seqs: Vec<(i64, i64)> = tx
        .query(
            "SELECT c.id, c.last_seq FROM chats c
             WHERE c.last_seq = (SELECT COALESCE(MAX(seq), 0) FROM messages m WHERE m.chat_id = c.id)
             ORDER BY c.id",
            &[],
        )
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_>>()?;
    if source_seqs != target_seqs {
        return Err(StoreError::Corrupt(
            "a chat's last seq differs between SQLite and PostgreSQL (or from its messages)".into(),
        ));
    }
    tx.commit().await?;
    drop(target);
    let _ = driver.await;
    let last_seqs = source_seqs
        .into_iter()
        .map(|(chat, seq)| (chat, u64::try_from(seq).unwrap_or(0)))
        .collect();
    Ok(Report { tables, last_seqs })
}

/// Copies the uploaded content under `dir` (`ab/abcdef…` files, named by their SHA-256) into
/// the `blobs` table, checking each name against its bytes; answers the files copied.
async fn copy_blobs(tx: &tokio_postgres::Transaction<'_>, dir: &Path) -> Result<u64> {
    let mut files = Vec::new();
    if dir.exists() {
        for fan in std::fs::read_dir(dir)? {
            let fan = fan?.path();
            if !fan.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&fan)? {
                let path = file?.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                    files.push((name.to_owned(), path));
                }
            }
        }
    }
    let sink = tx
        .copy_in("COPY blobs (key, bytes, stored_at) FROM STDIN BINARY")
        .await?;
    let mut writer = std::pin::pin!(BinaryCopyInWriter::new(
        sink,
        &[Type::TEXT, Type::BYTEA, Type::INT8]
    ));
    let now = chrono::Utc::now().timestamp_millis();
    for (key, path) in &files {
        let bytes = tokio::fs::read(path).await?;
        if crate::attachments::blobs::key_of(&bytes) != *key {
            return Err(StoreError::Corrupt(format!(
                "{}: its content does not match its name",
                path.display()
            )));
        }
        writer.as_mut().write(&[key, &bytes, &now]).await?;
    }
    writer.finish().await?;
    Ok(files.len() as u64)
}

/// Where a table's rows are read in SQLite: read pointers as readers see them (the SQLite
/// schema keeps a pointer moved by sending on the chat's row; PostgreSQL keeps every pointer
/// in `chat_members`).
fn read_from(table: &str) -> &str {
    match table {
        "chat_members" => "member_reads",
        other => other,
    }
}

/// Copies one table with binary `COPY`; answers the rows copied.
async fn copy_table(
    source: &Connection,
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    columns: &[(&str, Col)],
) -> Result<u64> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let list = names.join(", ");
    let types: Vec<Type> = columns
        .iter()
        .map(|(_, col)| match col {
            Col::Text => Type::TEXT,
            Col::Int => Type::INT8,
            Col::Int4 => Type::INT4,
            Col::Bool => Type::BOOL,
        })
        .collect();
    let sink = tx
        .copy_in(&format!("COPY {table} ({list}) FROM STDIN BINARY"))
        .await?;
    let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &types));
    let mut stmt = source.prepare(&format!("SELECT {list} FROM {}", read_from(table)))?;
    let mut rows = stmt.query([])?;
    let mut copied = 0u64;
    while let Some(row) = rows.next()? {
        let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::with_capacity(columns.len());
        for (i, (name, col)) in columns.iter().enumerate() {
            let value: Value = row.get(i)?;
            values.push(convert(value, *col).ok_or_else(|| {
                StoreError::Corrupt(format!("{table}.{name}: a value of the wrong type"))
            })?);
        }
        let refs: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|v| v.as_ref() as &(dyn ToSql + Sync))
            .collect();
        writer.as_mut().write(&refs).await?;
        copied += 1;
    }
    writer.finish().await?;
    Ok(copied)
}

fn convert(value: Value, col: Col) -> Option<Box<dyn ToSql + Sync + Send>> {
    Some(match (col, value) {
        (Col::Text, Value::Null) => Box::new(None::<String>),
        (Col::Text, Value::Text(s)) => Box::new(Some(s)),
        (Col::Int, Value::Null) => Box::new(None::<i64>),
        (Col::Int, Value::Integer(i)) => Box::new(Some(i)),
        (Col::Int4, Value::Null) => Box::new(None::<i32>),
        (Col::Int4, Value::Integer(i)) => Box::new(Some(i32::try_from(i).ok()?)),
        (Col::Bool, Value::Null) => Box::new(None::<bool>),
        (Col::Bool, Value::Integer(i)) => Box::new(Some(i != 0)),
        _ => return None,
    })
}
