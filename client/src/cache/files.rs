//! Attachments' bytes on this device: thumbnails (kept with the history, never evicted, so it
//! shows offline) and full files (under the account's directory, least recently used evicted
//! past a size bound). Only the bookkeeping is here; the caller reads and writes the files.

use rusqlite::{params, Connection, OptionalExtension};
use tutorchat_shared::AttachmentId;

use super::{to_i64, to_u64};
use crate::error::Result;

pub fn thumbnail(c: &Connection, id: &AttachmentId) -> Result<Option<Vec<u8>>> {
    Ok(
        c.prepare_cached("SELECT bytes FROM thumbnails WHERE attachment_id = ?1")?
            .query_row([id.as_str()], |r| r.get(0))
            .optional()?,
    )
}

pub fn keep_thumbnail(c: &Connection, id: &AttachmentId, bytes: &[u8]) -> Result<()> {
    c.prepare_cached("INSERT OR REPLACE INTO thumbnails (attachment_id, bytes) VALUES (?1, ?2)")?
        .execute(params![id.as_str(), bytes])?;
    Ok(())
}

/// Stored messages whose attachment has a thumbnail the cache lacks: `(chat, attachment)`,
/// newest first.
pub fn missing_thumbnails(c: &Connection, limit: u32) -> Result<Vec<(i64, AttachmentId)>> {
    let mut stmt = c.prepare_cached(
        "SELECT m.chat_id, json_extract(m.attachment, '$.id') FROM messages m
         WHERE m.attachment IS NOT NULL
           AND json_extract(m.attachment, '$.thumbnail') = 1
           AND NOT EXISTS (SELECT 1 FROM thumbnails t
                           WHERE t.attachment_id = json_extract(m.attachment, '$.id'))
         ORDER BY m.created_at DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| Ok((r.get(0)?, AttachmentId(r.get(1)?))))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The name an attachment was sent under, from a stored message that carries it.
pub fn name_of(c: &Connection, id: &AttachmentId) -> Result<Option<String>> {
    Ok(c.prepare_cached(
        "SELECT json_extract(attachment, '$.name') FROM messages
             WHERE attachment IS NOT NULL AND json_extract(attachment, '$.id') = ?1 LIMIT 1",
    )?
    .query_row([id.as_str()], |r| r.get(0))
    .optional()?)
}

/// Where the attachment's content is (relative to the account's directory), marking it used.
pub fn use_file(c: &Connection, id: &AttachmentId, now_ms: i64) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("UPDATE files SET used_at = ?2 WHERE attachment_id = ?1 RETURNING path")?
            .query_row(params![id.as_str(), now_ms], |r| r.get(0))
            .optional()?,
    )
}

/// Records the content at `path` (relative) as the attachment's.
pub fn keep_file(
    c: &Connection,
    id: &AttachmentId,
    path: &str,
    size: u64,
    now_ms: i64,
) -> Result<()> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO files (attachment_id, path, size, used_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id.as_str(), path, to_i64(size), now_ms])?;
    Ok(())
}

/// Forgets the least recently used files until the rest fit in `max_bytes`; answers the
/// paths to delete. `keep` is never evicted (the one just asked for).
pub fn evict(c: &Connection, max_bytes: u64, keep: &AttachmentId) -> Result<Vec<String>> {
    let total: i64 = c
        .prepare_cached("SELECT COALESCE(SUM(size), 0) FROM files")?
        .query_row([], |r| r.get(0))?;
    let mut total = to_u64(total);
    let mut evicted = Vec::new();
    if total <= max_bytes {
        return Ok(evicted);
    }
    let oldest: Vec<(String, String, i64)> = c
        .prepare_cached(
            "SELECT attachment_id, path, size FROM files WHERE attachment_id != ?1
             ORDER BY used_at",
        )?
        .query_map([keep.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut forget = c.prepare_cached("DELETE FROM files WHERE attachment_id = ?1")?;
    for (id, path, size) in oldest {
        if total <= max_bytes {
            break;
        }
        forget.execute([&id])?;
        total = total.saturating_sub(to_u64(size));
        evicted.push(path);
    }
    Ok(evicted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::testing::temp_cache;

    #[tokio::test]
    async fn the_least_recently_used_files_go_first_and_thumbnails_stay() {
        let (_dir, cache) = temp_cache();
        cache
            .call(|c| {
                let id = |s: &str| AttachmentId::new(s);
                keep_thumbnail(c, &id("a"), b"thumb")?;
                keep_file(c, &id("a"), "files/a", 400, 1)?;
                keep_file(c, &id("b"), "files/b", 400, 2)?;
                keep_file(c, &id("c"), "files/c", 400, 3)?;
                // `a` is used again: `b` is now the oldest.
                assert_eq!(use_file(c, &id("a"), 4)?, Some("files/a".into()));
                assert_eq!(evict(c, 800, &id("c"))?, vec!["files/b".to_owned()]);
                assert_eq!(use_file(c, &id("b"), 5)?, None);
                assert_eq!(thumbnail(c, &id("a"))?, Some(b"thumb".to_vec()));
                assert!(evict(c, 800, &id("c"))?.is_empty());
                Ok(())
            })
            .await
            .expect("cache");
    }
}
