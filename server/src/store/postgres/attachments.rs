//! Queries on uploads and the attachments they become (claiming one is part of the send, in
//! the schema's `tutorchat_send`).

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tutorchat_shared::{AttachmentId, MessageId, UploadId, UserId};

use super::{from_ms, to_i64, to_ms, to_u64, Client};
use crate::store::{NewUploadRecord, Result, StoreError, StoredContent, UploadRecord};

const COLUMNS: &str = "id, owner_id, upload_id, name, declared_size, created_at,
                       mime, size, blob, width, height, thumbnail, message_id";

fn dimension(v: Option<i32>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

fn from_row(r: &Row) -> Result<UploadRecord> {
    let blob: Option<String> = r.try_get(8)?;
    let content = match blob {
        Some(blob) => Some(StoredContent {
            mime: r.try_get::<_, Option<String>>(6)?.unwrap_or_default(),
            size: r.try_get::<_, Option<i64>>(7)?.map_or(0, to_u64),
            blob,
            width: dimension(r.try_get(9)?),
            height: dimension(r.try_get(10)?),
            thumbnail: r.try_get(11)?,
        }),
        None => None,
    };
    Ok(UploadRecord {
        id: AttachmentId(r.try_get(0)?),
        owner: UserId(r.try_get(1)?),
        upload_id: UploadId(r.try_get(2)?),
        name: r.try_get(3)?,
        declared_size: to_u64(r.try_get(4)?),
        created_at: from_ms(r.try_get(5)?),
        content,
        message_id: r.try_get::<_, Option<i64>>(12)?.map(MessageId),
    })
}

pub(super) async fn create(
    c: &mut Client,
    u: &NewUploadRecord,
    quota: u64,
) -> Result<std::result::Result<UploadRecord, u64>> {
    let tx = c.transaction().await?;
    // The owner's row lock: one node at a time sums and inserts for this owner.
    tx.execute(
        "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
        &[&u.owner.0],
    )
    .await?;
    if let Some(known) = by_upload_id(&tx, &u.owner, &u.upload_id).await? {
        return Ok(Ok(known));
    }
    let used = stored_bytes(&tx, &u.owner).await?;
    if used.saturating_add(u.declared_size) > quota {
        return Ok(Err(used));
    }
    tx.execute(
        "INSERT INTO attachments (id, owner_id, upload_id, name, declared_size, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (owner_id, upload_id) DO NOTHING",
        &[
            &u.id.0,
            &u.owner.0,
            &u.upload_id.0,
            &u.name,
            &to_i64(u.declared_size),
            &to_ms(u.at),
        ],
    )
    .await?;
    let created = by_upload_id(&tx, &u.owner, &u.upload_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("upload {} vanished", u.upload_id)))?;
    tx.commit().await?;
    Ok(Ok(created))
}

pub(super) async fn by_upload_id(
    c: &impl GenericClient,
    owner: &UserId,
    upload_id: &UploadId,
) -> Result<Option<UploadRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM attachments WHERE owner_id = $1 AND upload_id = $2");
    c.query_opt(sql.as_str(), &[&owner.0, &upload_id.0])
        .await?
        .map(|r| from_row(&r))
        .transpose()
}

async fn by_id(c: &impl GenericClient, id: &AttachmentId) -> Result<Option<UploadRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM attachments WHERE id = $1");
    c.query_opt(sql.as_str(), &[&id.0])
        .await?
        .map(|r| from_row(&r))
        .transpose()
}

pub(super) async fn stored_bytes(c: &impl GenericClient, owner: &UserId) -> Result<u64> {
    let bytes: i64 = c
        .query_one(
            "SELECT COALESCE(SUM(COALESCE(size, declared_size)), 0)::BIGINT
             FROM attachments WHERE owner_id = $1",
            &[&owner.0],
        )
        .await?
        .try_get(0)?;
    Ok(to_u64(bytes))
}

pub(super) async fn complete(
    c: &Client,
    id: &AttachmentId,
    content: &StoredContent,
) -> Result<Option<UploadRecord>> {
    let width = content.width.map(|w| i32::try_from(w).unwrap_or(i32::MAX));
    let height = content.height.map(|h| i32::try_from(h).unwrap_or(i32::MAX));
    c.execute(
        "UPDATE attachments
         SET mime = $2, size = $3, blob = $4, width = $5, height = $6, thumbnail = $7,
             completed_at = $8
         WHERE id = $1 AND blob IS NULL",
        &[
            &id.0,
            &content.mime,
            &to_i64(content.size),
            &content.blob,
            &width,
            &height,
            &content.thumbnail,
            &to_ms(chrono::Utc::now()),
        ],
    )
    .await?;
    by_id(c, id).await
}

/// A finished upload of `owner` (sent or not): what a message carrying it shows.
pub(super) async fn finished_of(
    c: &Client,
    id: &AttachmentId,
    owner: &UserId,
) -> Result<Option<UploadRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments WHERE id = $1 AND owner_id = $2 AND blob IS NOT NULL"
    );
    c.query_opt(sql.as_str(), &[&id.0, &owner.0])
        .await?
        .map(|r| from_row(&r))
        .transpose()
}

pub(super) async fn for_viewer(
    c: &Client,
    id: &AttachmentId,
    viewer: &UserId,
) -> Result<Option<UploadRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments a
         WHERE a.id = $1 AND a.blob IS NOT NULL
           AND (a.owner_id = $2
                OR EXISTS (SELECT 1 FROM messages m
                           JOIN chat_members cm ON cm.chat_id = m.chat_id
                           WHERE m.id = a.message_id AND cm.user_id = $2))"
    );
    c.query_opt(sql.as_str(), &[&id.0, &viewer.0])
        .await?
        .map(|r| from_row(&r))
        .transpose()
}

pub(super) async fn unsent(
    c: &Client,
    before: chrono::DateTime<chrono::Utc>,
    limit: u32,
) -> Result<Vec<UploadRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments
         WHERE message_id IS NULL AND COALESCE(completed_at, created_at) < $1
         ORDER BY created_at LIMIT $2"
    );
    c.query(sql.as_str(), &[&to_ms(before), &i64::from(limit)])
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub(super) async fn delete_unsent(c: &mut Client, id: &AttachmentId) -> Result<Vec<String>> {
    let tx = c.transaction().await?;
    let Some(removed) = tx
        .query_opt(
            "DELETE FROM attachments WHERE id = $1 AND message_id IS NULL
             RETURNING blob, thumbnail",
            &[&id.0],
        )
        .await?
    else {
        return Ok(Vec::new());
    };
    let mut orphans = Vec::new();
    let keys: [Option<String>; 2] = [removed.try_get(0)?, removed.try_get(1)?];
    for key in keys.into_iter().flatten() {
        let used = tx
            .query_opt(
                "SELECT 1 FROM attachments WHERE blob = $1 OR thumbnail = $1 LIMIT 1",
                &[&key],
            )
            .await?
            .is_some();
        if !used {
            orphans.push(key);
        }
    }
    tx.commit().await?;
    Ok(orphans)
}
