//! Chat rows: what the server said about each chat, the read pointers, and the sync cursor.
//! Knows nothing of messages (they refer to chats, not the other way round); the chat list as
//! the UI shows it is a read model over both, in [`super::chat_list`].

use rusqlite::{params, Connection, OptionalExtension};
use tutorchat_shared::model::ReadOnly;
use tutorchat_shared::{ChatId, ChatSummary};

use super::{to_i64, to_ms, to_u64};
use crate::error::Result;

/// Stores what the server says about a chat. Cursors are left alone: they only move over
/// stored messages. Pointers and `last_seq` only move forward.
pub fn upsert_summary(c: &Connection, s: &ChatSummary) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO chats (id, course_id, course_title, peer_id, peer_name, peer_role,
                            created_at, last_activity_at, last_seq, my_read_seq, peer_read_seq,
                            muted, archived, archived_at, blocked, read_only, purchase_url)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
         ON CONFLICT (id) DO UPDATE SET
            course_title = excluded.course_title,
            peer_name = excluded.peer_name,
            peer_role = excluded.peer_role,
            last_activity_at = max(chats.last_activity_at, excluded.last_activity_at),
            last_seq = max(chats.last_seq, excluded.last_seq),
            my_read_seq = max(chats.my_read_seq, excluded.my_read_seq),
            peer_read_seq = max(chats.peer_read_seq, excluded.peer_read_seq),
            muted = excluded.muted,
            archived = excluded.archived,
            archived_at = excluded.archived_at,
            blocked = excluded.blocked,
            read_only = excluded.read_only,
            purchase_url = excluded.purchase_url",
    )?
    .execute(params![
        s.id.0,
        s.course.id.as_str(),
        s.course.title,
        s.peer.id.as_str(),
        s.peer.name,
        s.peer.role.as_str(),
        to_ms(s.created_at),
        to_ms(s.last_activity_at),
        to_i64(s.last_seq),
        to_i64(s.my_read_seq),
        to_i64(s.peer_read_seq),
        s.muted,
        s.archive.map(|a| a.archived),
        s.archive.map(|a| to_ms(a.at)),
        s.blocked,
        s.read_only.map(ReadOnly::as_str),
        s.purchase_url,
    ])?;
    Ok(())
}

pub fn exists(c: &Connection, chat: ChatId) -> Result<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM chats WHERE id = ?1")?
        .exists([chat.0])?)
}

/// Every chat's sync cursor.
pub fn cursors(c: &Connection) -> Result<Vec<(ChatId, u64)>> {
    let mut stmt = c.prepare_cached("SELECT id, synced_seq FROM chats ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((ChatId(r.get(0)?), to_u64(r.get(1)?))))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A message with this seq exists on the server: raise `last_seq` and activity.
pub fn saw_seq(c: &Connection, chat: ChatId, seq: u64, at_ms: i64) -> Result<()> {
    c.prepare_cached(
        "UPDATE chats SET last_seq = max(last_seq, ?2),
                          last_activity_at = max(last_activity_at, ?3)
         WHERE id = ?1",
    )?
    .execute(params![chat.0, to_i64(seq), at_ms])?;
    Ok(())
}

/// Moves a read pointer forward as the server reports it (mine or the peer's). A report of
/// mine at or past what this device read clears the "unsent" mark. Returns whether it moved.
pub fn set_read(c: &Connection, chat: ChatId, mine: bool, seq: u64) -> Result<bool> {
    if mine {
        c.prepare_cached(
            "UPDATE chats SET my_read_unsent = 0 WHERE id = ?1 AND my_read_seq <= ?2",
        )?
        .execute(params![chat.0, to_i64(seq)])?;
    }
    let sql = if mine {
        "UPDATE chats SET my_read_seq = ?2 WHERE id = ?1 AND my_read_seq < ?2"
    } else {
        "UPDATE chats SET peer_read_seq = ?2 WHERE id = ?1 AND peer_read_seq < ?2"
    };
    Ok(c.prepare_cached(sql)?
        .execute(params![chat.0, to_i64(seq)])?
        > 0)
}

/// This device read up to `seq` (clamped to what exists): mark it to be sent.
pub fn read_locally(c: &Connection, chat: ChatId, seq: u64) -> Result<bool> {
    Ok(c.prepare_cached(
        "UPDATE chats SET my_read_seq = min(?2, last_seq), my_read_unsent = 1
         WHERE id = ?1 AND my_read_seq < min(?2, last_seq)",
    )?
    .execute(params![chat.0, to_i64(seq)])?
        > 0)
}

/// Read pointers moved here and not yet confirmed by the server.
pub fn unsent_reads(c: &Connection) -> Result<Vec<(ChatId, u64)>> {
    let mut stmt =
        c.prepare_cached("SELECT id, my_read_seq FROM chats WHERE my_read_unsent = 1")?;
    let rows = stmt.query_map([], |r| Ok((ChatId(r.get(0)?), to_u64(r.get(1)?))))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// (unread in this chat, unread in all chats).
pub fn unread(c: &Connection, chat: ChatId) -> Result<(u64, u64)> {
    let one: i64 = c
        .prepare_cached("SELECT max(last_seq - my_read_seq, 0) FROM chats WHERE id = ?1")?
        .query_row([chat.0], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    Ok((to_u64(one), total_unread(c)?))
}

/// Unread messages over all chats that are not muted (a muted chat keeps its own count but
/// is no part of the badge).
pub fn total_unread(c: &Connection) -> Result<u64> {
    let total: i64 = c.query_row(
        "SELECT coalesce(sum(max(last_seq - my_read_seq, 0)), 0) FROM chats WHERE muted = 0",
        [],
        |r| r.get(0),
    )?;
    Ok(to_u64(total))
}

/// (last_seq, my_read_seq, peer_read_seq) of a chat.
pub fn pointers(c: &Connection, chat: ChatId) -> Result<Option<(u64, u64, u64)>> {
    Ok(
        c.prepare_cached("SELECT last_seq, my_read_seq, peer_read_seq FROM chats WHERE id = ?1")?
            .query_row([chat.0], |r| {
                Ok((to_u64(r.get(0)?), to_u64(r.get(1)?), to_u64(r.get(2)?)))
            })
            .optional()?,
    )
}

/// (peer name, course title) for a notification about the chat, or `None` when it must not
/// notify (muted, or unknown).
pub fn notification_names(c: &Connection, chat: ChatId) -> Result<Option<(String, String)>> {
    Ok(
        c.prepare_cached("SELECT peer_name, course_title FROM chats WHERE id = ?1 AND muted = 0")?
            .query_row([chat.0], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?,
    )
}
