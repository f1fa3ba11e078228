//! Numbered schema migrations for PostgreSQL, embedded at build time and tracked in a
//! `schema_version` table. Several nodes may start at once: the first to take the advisory
//! lock migrates, the others wait and then find nothing to do.
//!
//! Add a migration by appending a file `migrations/postgres/NNNN_name.sql` and a line to
//! [`MIGRATIONS`]; never edit one that has shipped.

use super::Client;

use crate::store::{Result, StoreError};

/// (version, SQL). Versions are 1, 2, 3… in order.
const MIGRATIONS: &[(u32, &str)] = &[
    (
        1,
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../../../migrations/postgres/0002_blobs.sql"),
    ),
    (
        3,
        include_str!("../../../migrations/postgres/0003_installation.sql"),
    ),
];

/// The advisory lock every node takes while it looks at the schema ("tutorchat" in ASCII).
const MIGRATION_LOCK: i64 = 0x7475_746f_7263_6861;

/// Applies every migration newer than the database, each in its own transaction.
pub(super) async fn run(client: &mut Client) -> Result<()> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let outcome = apply(client).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    outcome
}

async fn apply(client: &mut Client) -> Result<()> {
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .await?;
    let current: i32 = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::INTEGER FROM schema_version",
            &[],
        )
        .await?
        .get(0);
    let current = u32::try_from(current).unwrap_or(0);
    let known = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = client.transaction().await?;
        let applied = async {
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&i32::try_from(version).unwrap_or(i32::MAX)],
            )
            .await?;
            tx.commit().await
        }
        .await;
        if let Err(source) = applied {
            return Err(StoreError::PgMigration { version, source });
        }
        tracing::info!(version, "applied migration");
    }
    Ok(())
}
