//! Stored messages: inserting what the server sent, pages for the UI, the sync cursor that
//! only moves over contiguous stored data, and offline search.

use rusqlite::{params, Connection, Row};
use tutorchat_shared::app::LocalMessage;
use tutorchat_shared::{ChatId, ClientId, Message, MessageId, MessageKind, UserId};

use super::chats::{newest_stored, stored_state};
use super::outbox;
use super::{from_ms, to_i64, to_ms, to_u64};
use crate::error::Result;

pub const MESSAGE_COLUMNS: &str =
    "id, chat_id, seq, sender_id, client_id, kind, content, created_at";

pub fn message_from_row(
    r: &Row<'_>,
    me: &UserId,
    peer_read: u64,
    my_read: u64,
) -> rusqlite::Result<LocalMessage> {
    let sender = UserId(r.get(3)?);
    let seq = to_u64(r.get(2)?);
    Ok(LocalMessage {
        chat_id: ChatId(r.get(1)?),
        id: Some(MessageId(r.get(0)?)),
        seq: Some(seq),
        client_id: ClientId(r.get(4)?),
        kind: MessageKind::parse(r.get_ref(5)?.as_str()?).unwrap_or_default(),
        content: r.get(6)?,
        created_at: from_ms(r.get(7)?),
        state: stored_state(&sender, me, seq, peer_read, my_read),
        sender_id: sender,
        failure: None,
    })
}

/// Stores messages from the server (idempotent by id), raises the chat's `last_seq`, and
/// advances its cursor over whatever is now contiguous. Returns the messages that were new.
pub fn store(c: &Connection, chat: ChatId, messages: &[Message]) -> Result<Vec<Message>> {
    let mut fresh = Vec::new();
    {
        let mut insert = c.prepare_cached(
            "INSERT OR IGNORE INTO messages (id, chat_id, seq, sender_id, client_id, kind, content, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for m in messages.iter().filter(|m| m.chat_id == chat) {
            let added = insert.execute(params![
                m.id.0,
                m.chat_id.0,
                to_i64(m.seq),
                m.sender_id.as_str(),
                m.client_id.as_str(),
                m.kind.as_str(),
                m.content,
                to_ms(m.created_at),
            ])?;
            if added > 0 {
                fresh.push(m.clone());
            }
        }
    }
    if let Some(newest) = messages
        .iter()
        .filter(|m| m.chat_id == chat)
        .max_by_key(|m| m.seq)
    {
        super::chats::saw_seq(c, chat, newest.seq, to_ms(newest.created_at))?;
    }
    advance_cursor(c, chat)?;
    Ok(fresh)
}

/// Moves `synced_seq` to the end of the contiguous run that starts right after it.
/// Returns the cursor after the call.
pub fn advance_cursor(c: &Connection, chat: ChatId) -> Result<u64> {
    let synced: i64 = c
        .prepare_cached("SELECT synced_seq FROM chats WHERE id = ?1")?
        .query_row([chat.0], |r| r.get(0))?;
    let next_exists = c
        .prepare_cached("SELECT 1 FROM messages WHERE chat_id = ?1 AND seq = ?2")?
        .exists(params![chat.0, synced + 1])?;
    if !next_exists {
        return Ok(to_u64(synced));
    }
    // The first stored seq after the cursor whose successor is missing ends the run.
    let end: i64 = c
        .prepare_cached(
            "SELECT min(m.seq) FROM messages m
             WHERE m.chat_id = ?1 AND m.seq > ?2
               AND NOT EXISTS (SELECT 1 FROM messages n WHERE n.chat_id = m.chat_id AND n.seq = m.seq + 1)",
        )?
        .query_row(params![chat.0, synced], |r| r.get(0))?;
    c.prepare_cached(
        "UPDATE chats SET synced_seq = ?2,
                          history_from = CASE WHEN synced_seq = 0 THEN ?3 ELSE history_from END
         WHERE id = ?1",
    )?
    .execute(params![chat.0, end, synced + 1])?;
    Ok(to_u64(end))
}

/// Starts a chat's contiguous run at a page fetched from the server's newest end, so the
/// cursor can sit at its top: `first..=last` are stored and nothing above `last` exists.
pub fn adopt_newest_page(c: &Connection, chat: ChatId, first: u64, last: u64) -> Result<()> {
    c.prepare_cached(
        "UPDATE chats SET synced_seq = ?2, history_from = ?3 WHERE id = ?1 AND synced_seq < ?2",
    )?
    .execute(params![chat.0, to_i64(last), to_i64(first.max(1))])?;
    Ok(())
}

/// Extends the contiguous run downwards after older messages were fetched.
pub fn extend_history(c: &Connection, chat: ChatId, from: u64) -> Result<()> {
    c.prepare_cached("UPDATE chats SET history_from = min(history_from, ?2) WHERE id = ?1")?
        .execute(params![chat.0, to_i64(from.max(1))])?;
    Ok(())
}

/// `(synced_seq, history_from)`: the contiguous stored run of a chat.
pub fn run_bounds(c: &Connection, chat: ChatId) -> Result<(u64, u64)> {
    Ok(
        c.prepare_cached("SELECT synced_seq, history_from FROM chats WHERE id = ?1")?
            .query_row([chat.0], |r| Ok((to_u64(r.get(0)?), to_u64(r.get(1)?))))?,
    )
}

/// Stored messages with `seq < before` (or the newest), newest `limit`, ascending.
pub fn page(
    c: &Connection,
    chat: ChatId,
    before: Option<u64>,
    limit: u32,
    me: &UserId,
) -> Result<Vec<LocalMessage>> {
    let (_, my_read, peer_read) = super::chats::pointers(c, chat)?.unwrap_or((0, 0, 0));
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ?1 AND seq < ?2
         ORDER BY seq DESC LIMIT ?3"
    );
    let bound = before.map_or(i64::MAX, to_i64);
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![chat.0, bound, limit], |r| {
        message_from_row(r, me, peer_read, my_read)
    })?;
    let mut messages = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    messages.reverse();
    Ok(messages)
}

/// The message to show as a chat's last: the newest outbox entry, else the newest stored.
pub fn latest_local(
    c: &Connection,
    chat: ChatId,
    me: &UserId,
    peer_read: u64,
    my_read: u64,
) -> Result<Option<LocalMessage>> {
    if let Some(local) = outbox::newest_in_chat(c, chat, me)? {
        return Ok(Some(local));
    }
    newest_stored(c, chat, me, peer_read, my_read)
}

/// Converts a freshly stored server message to its local view.
pub fn local_view(c: &Connection, m: &Message, me: &UserId) -> Result<LocalMessage> {
    let (_, my_read, peer_read) = super::chats::pointers(c, m.chat_id)?.unwrap_or((0, 0, 0));
    Ok(LocalMessage {
        chat_id: m.chat_id,
        id: Some(m.id),
        seq: Some(m.seq),
        client_id: m.client_id.clone(),
        sender_id: m.sender_id.clone(),
        kind: m.kind,
        content: m.content.clone(),
        created_at: m.created_at,
        state: stored_state(&m.sender_id, me, m.seq, peer_read, my_read),
        failure: None,
    })
}

/// Full-text search over cached messages, newest first. Each word of `query` must appear
/// (prefix match on the last one, as people type).
pub fn search(c: &Connection, query: &str, limit: u32, me: &UserId) -> Result<Vec<LocalMessage>> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    let Some((last, rest)) = words.split_last() else {
        return Ok(Vec::new());
    };
    let mut expr = rest.join(" ");
    if !expr.is_empty() {
        expr.push(' ');
    }
    expr.push_str(last);
    expr.push('*');
    let sql = format!(
        "SELECT {} FROM messages_fts f JOIN messages m ON m.id = f.rowid
         WHERE messages_fts MATCH ?1 ORDER BY m.created_at DESC LIMIT ?2",
        MESSAGE_COLUMNS
            .split(", ")
            .map(|c| format!("m.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![expr, limit], |r| message_from_row(r, me, 0, 0))?;
    let mut found = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    for m in &mut found {
        if let Some((_, my_read, peer_read)) = super::chats::pointers(c, m.chat_id)? {
            m.state = stored_state(&m.sender_id, me, m.seq.unwrap_or(0), peer_read, my_read);
        }
    }
    Ok(found)
}
