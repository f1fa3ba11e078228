//! Queries on uploads and the attachments they become.

use rusqlite::{named_params, params, Connection, OptionalExtension, Row};
use tutorchat_shared::{Attachment, AttachmentId, MessageId, UploadId, UserId};

use super::{from_ms, to_i64, to_ms, to_u64};
use crate::store::{NewUploadRecord, Result, StoredContent, UploadRecord};

const COLUMNS: &str = "id, owner_id, upload_id, name, declared_size, created_at,
                       mime, size, blob, width, height, thumbnail, message_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<UploadRecord> {
    let blob: Option<String> = r.get(8)?;
    let content = match blob {
        Some(blob) => Some(StoredContent {
            mime: r.get(6)?,
            size: to_u64(r.get(7)?),
            blob,
            width: r.get(9)?,
            height: r.get(10)?,
            thumbnail: r.get(11)?,
        }),
        None => None,
    };
    Ok(UploadRecord {
        id: AttachmentId(r.get(0)?),
        owner: UserId(r.get(1)?),
        upload_id: UploadId(r.get(2)?),
        name: r.get(3)?,
        declared_size: to_u64(r.get(4)?),
        created_at: from_ms(r.get(5)?),
        content,
        message_id: r.get::<_, Option<i64>>(12)?.map(MessageId),
    })
}

pub(super) fn create(
    c: &Connection,
    u: &NewUploadRecord,
    quota: u64,
) -> Result<std::result::Result<UploadRecord, u64>> {
    if let Some(known) = by_upload_id(c, &u.owner, &u.upload_id)? {
        return Ok(Ok(known));
    }
    // On the writer: nothing else inserts between this sum and the insert.
    let used = stored_bytes(c, &u.owner)?;
    if used.saturating_add(u.declared_size) > quota {
        return Ok(Err(used));
    }
    c.prepare_cached(
        "INSERT INTO attachments (id, owner_id, upload_id, name, declared_size, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (owner_id, upload_id) DO NOTHING",
    )?
    .execute(params![
        u.id.as_str(),
        u.owner.as_str(),
        u.upload_id.as_str(),
        u.name,
        to_i64(u.declared_size),
        to_ms(u.at)
    ])?;
    let created = by_upload_id(c, &u.owner, &u.upload_id)?.ok_or_else(|| {
        crate::store::StoreError::Corrupt(format!("upload {} vanished", u.upload_id))
    })?;
    Ok(Ok(created))
}

pub(super) fn by_upload_id(
    c: &Connection,
    owner: &UserId,
    upload_id: &UploadId,
) -> Result<Option<UploadRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM attachments WHERE owner_id = ?1 AND upload_id = ?2");
    Ok(c.prepare_cached(&sql)?
        .query_row([owner.as_str(), upload_id.as_str()], from_row)
        .optional()?)
}

fn by_id(c: &Connection, id: &AttachmentId) -> Result<Option<UploadRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM attachments WHERE id = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row([id.as_str()], from_row)
        .optional()?)
}

pub(super) fn stored_bytes(c: &Connection, owner: &UserId) -> Result<u64> {
    let bytes: i64 = c
        .prepare_cached(
            "SELECT COALESCE(SUM(COALESCE(size, declared_size)), 0)
             FROM attachments WHERE owner_id = ?1",
        )?
        .query_row([owner.as_str()], |r| r.get(0))?;
    Ok(to_u64(bytes))
}

pub(super) fn complete(
    c: &Connection,
    id: &AttachmentId,
    content: &StoredContent,
) -> Result<Option<UploadRecord>> {
    c.prepare_cached(
        "UPDATE attachments
         SET mime = :mime, size = :size, blob = :blob, width = :width, height = :height,
             thumbnail = :thumbnail, completed_at = :now
         WHERE id = :id AND blob IS NULL",
    )?
    .execute(named_params! {
        ":now": to_ms(chrono::Utc::now()),
        ":id": id.as_str(),
        ":mime": content.mime,
        ":size": to_i64(content.size),
        ":blob": content.blob,
        ":width": content.width,
        ":height": content.height,
        ":thumbnail": content.thumbnail,
    })?;
    by_id(c, id)
}

pub(super) fn for_viewer(
    c: &Connection,
    id: &AttachmentId,
    viewer: &UserId,
) -> Result<Option<UploadRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments a
         WHERE a.id = :id AND a.blob IS NOT NULL
           AND (a.owner_id = :viewer
                OR EXISTS (SELECT 1 FROM messages m
                           JOIN chat_members cm ON cm.chat_id = m.chat_id
                           WHERE m.id = a.message_id AND cm.user_id = :viewer))"
    );
    Ok(c.prepare_cached(&sql)?
        .query_row(
            named_params! {":id": id.as_str(), ":viewer": viewer.as_str()},
            from_row,
        )
        .optional()?)
}

pub(super) fn unsent(
    c: &Connection,
    before: chrono::DateTime<chrono::Utc>,
    limit: u32,
) -> Result<Vec<UploadRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments
         WHERE message_id IS NULL AND COALESCE(completed_at, created_at) < ?1
         ORDER BY created_at LIMIT ?2"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![to_ms(before), limit], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn delete_unsent(c: &Connection, id: &AttachmentId) -> Result<Vec<String>> {
    let removed: Option<(Option<String>, Option<String>)> = c
        .prepare_cached(
            "DELETE FROM attachments WHERE id = ?1 AND message_id IS NULL
             RETURNING blob, thumbnail",
        )?
        .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((blob, thumbnail)) = removed else {
        return Ok(Vec::new());
    };
    let mut orphans = Vec::new();
    for key in [blob, thumbnail].into_iter().flatten() {
        let used: bool = c
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM attachments WHERE blob = ?1 OR thumbnail = ?1)",
            )?
            .query_row([&key], |r| r.get(0))?;
        if !used {
            orphans.push(key);
        }
    }
    Ok(orphans)
}

/// What the sender's finished, unsent upload would carry in a message; `None` if it is not
/// theirs, not finished or already sent.
pub(super) fn claimable(
    c: &Connection,
    id: &AttachmentId,
    sender: &UserId,
) -> Result<Option<Attachment>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments
         WHERE id = ?1 AND owner_id = ?2 AND blob IS NOT NULL AND message_id IS NULL"
    );
    Ok(c.prepare_cached(&sql)?
        .query_row([id.as_str(), sender.as_str()], from_row)
        .optional()?
        .and_then(|record| record.attachment()))
}

/// Records that `message` carries the upload (after [`claimable`] said it may).
pub(super) fn claim(c: &Connection, id: &AttachmentId, message: MessageId) -> Result<()> {
    c.prepare_cached(
        "UPDATE attachments SET message_id = ?2 WHERE id = ?1 AND message_id IS NULL",
    )?
    .execute(params![id.as_str(), message.0])?;
    Ok(())
}
