//! Stored messages: inserting what the server sent, pages for the UI, the sync cursor that
//! only moves over contiguous stored data, and offline search.
//!
//! [`store`] is the one door by which a server message enters the cache — an ack, a sync
//! batch, a live frame (an echo from another device of ours), a history page — and so the one
//! place of the rule that keeps a message from showing twice: storing a message of ours
//! settles its outbox row in the same transaction.

use rusqlite::{params, Connection, OptionalExtension, Row};
use tutorchat_shared::app::{DeliveryState, LocalAttachment, LocalMessage};
use tutorchat_shared::{Attachment, ChatId, ClientId, Message, MessageId, MessageKind, UserId};

use super::outbox;
use super::{from_ms, to_i64, to_ms, to_u64};
use crate::error::Result;

pub const MESSAGE_COLUMNS: &str =
    "id, chat_id, seq, sender_id, client_id, kind, content, created_at, attachment";

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
        state: DeliveryState::of_stored(&sender == me, seq, my_read, peer_read),
        sender_id: sender,
        failure: None,
        attachment: super::json_column::<Attachment>(r, 8)?.map(|a| LocalAttachment::from(&a)),
    })
}

/// What [`store`] did.
#[derive(Debug, Default)]
pub struct Stored {
    /// Messages that were not in the cache before.
    pub fresh: Vec<Message>,
    /// Messages of ours whose outbox row this removed: the server had them, whether or not
    /// their ack ever arrived (the process ended first, or another process sent them).
    pub settled: Vec<Message>,
}

/// Stores messages from the server (idempotent by id), settles the outbox rows of the ones
/// `me` sent, raises the chat's `last_seq`, and advances its cursor over whatever is now
/// contiguous. Call it inside a transaction, so the message and its outbox row change together.
pub fn store(c: &Connection, chat: ChatId, messages: &[Message], me: &UserId) -> Result<Stored> {
    let mut fresh = Vec::new();
    let mut settled = Vec::new();
    {
        let mut insert = c.prepare_cached(
            "INSERT OR IGNORE INTO messages
                (id, chat_id, seq, sender_id, client_id, kind, content, created_at, attachment)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
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
                m.attachment
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()?,
            ])?;
            if added > 0 {
                fresh.push(m.clone());
            }
            if &m.sender_id == me {
                let copy = outbox::copy_of(c, &m.client_id)?;
                if outbox::settle(c, m.chat_id, &m.client_id)? {
                    // The copy made when it was written is its content on this device now.
                    if let (Some((copy, size)), Some(attachment)) = (copy, &m.attachment) {
                        let now = to_ms(chrono::Utc::now());
                        super::files::keep_file(c, &attachment.id, &copy, size, now)?;
                    }
                    settled.push(m.clone());
                }
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
    Ok(Stored { fresh, settled })
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

/// The newest stored message of a chat, with its delivery state.
pub fn newest_stored(
    c: &Connection,
    chat: ChatId,
    me: &UserId,
    peer_read: u64,
    my_read: u64,
) -> Result<Option<LocalMessage>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ?1 ORDER BY seq DESC LIMIT 1"
    );
    Ok(c.prepare_cached(&sql)?
        .query_row([chat.0], |r| message_from_row(r, me, peer_read, my_read))
        .optional()?)
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
        state: DeliveryState::of_stored(&m.sender_id == me, m.seq, my_read, peer_read),
        failure: None,
        attachment: m.attachment.as_ref().map(LocalAttachment::from),
    })
}

/// A stored message by the server's id.
pub fn by_id(c: &Connection, id: MessageId, me: &UserId) -> Result<Option<LocalMessage>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
    let found = c
        .prepare_cached(&sql)?
        .query_row([id.0], |r| message_from_row(r, me, 0, 0))
        .optional()?;
    let Some(mut m) = found else {
        return Ok(None);
    };
    if let Some((_, my_read, peer_read)) = super::chats::pointers(c, m.chat_id)? {
        m.state =
            DeliveryState::of_stored(&m.sender_id == me, m.seq.unwrap_or(0), my_read, peer_read);
    }
    Ok(Some(m))
}

/// Full-text search over cached messages (of every chat, or of one), newest first. Each word
/// of `query` must appear (prefix match on the last one, as people type).
pub fn search(
    c: &Connection,
    query: &str,
    chat: Option<ChatId>,
    limit: u32,
    me: &UserId,
) -> Result<Vec<LocalMessage>> {
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
         WHERE messages_fts MATCH ?1 AND (?3 IS NULL OR m.chat_id = ?3)
         ORDER BY m.created_at DESC LIMIT ?2",
        MESSAGE_COLUMNS
            .split(", ")
            .map(|c| format!("m.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![expr, limit, chat.map(|c| c.0)], |r| {
        message_from_row(r, me, 0, 0)
    })?;
    let mut found = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    for m in &mut found {
        if let Some((_, my_read, peer_read)) = super::chats::pointers(c, m.chat_id)? {
            m.state = DeliveryState::of_stored(
                &m.sender_id == me,
                m.seq.unwrap_or(0),
                my_read,
                peer_read,
            );
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use tutorchat_shared::{ChatId, ClientId, MessageKind};

    use super::*;
    use crate::cache::testing::{chat, me, message, peer, temp_cache};
    use crate::cache::{chats, outbox};

    /// A chat with one message of ours waiting in the outbox.
    fn with_pending(c: &Connection, client_id: &ClientId) {
        chats::upsert_summary(c, &chat(1)).expect("chat");
        outbox::enqueue(
            c,
            ChatId(1),
            client_id,
            MessageKind::Text,
            "message 1",
            chrono::Utc::now(),
            &me(),
        )
        .expect("queued");
    }

    #[tokio::test]
    async fn a_message_of_ours_from_a_sync_batch_settles_its_outbox_row() {
        let (_dir, cache) = temp_cache();
        let cid = ClientId::new("sent-but-never-acked");
        let stored = cache
            .transaction(move |tx| {
                with_pending(tx, &cid);
                // The sync batch brings the message the server stored; no ack ever came.
                let batch = [
                    message(1, 1, &me(), &cid),
                    message(1, 2, &peer(), &"p".into()),
                ];
                store(tx, ChatId(1), &batch, &me())
            })
            .await
            .expect("stored");
        assert_eq!(stored.fresh.len(), 2);
        assert_eq!(stored.settled.len(), 1);
        let (outbox, page) = cache
            .call(|c| Ok((outbox::all(c, &me())?, page(c, ChatId(1), None, 10, &me())?)))
            .await
            .expect("read");
        assert!(outbox.is_empty(), "the outbox row is settled: {outbox:?}");
        let ours: Vec<_> = page
            .iter()
            .filter(|m| m.client_id.as_str() == "sent-but-never-acked")
            .collect();
        assert_eq!(ours.len(), 1, "listed once: {page:?}");
        assert_eq!(ours[0].seq, Some(1));
        assert_eq!(ours[0].state, DeliveryState::Sent);
    }

    #[tokio::test]
    async fn a_message_already_stored_still_settles_a_leftover_outbox_row() {
        let (_dir, cache) = temp_cache();
        let cid = ClientId::new("stored-earlier");
        let settled = cache
            .transaction(move |tx| {
                chats::upsert_summary(tx, &chat(1))?;
                store(tx, ChatId(1), &[message(1, 1, &me(), &cid)], &me())?;
                with_pending(tx, &cid);
                // The live echo of the same message, from another device of ours.
                Ok(store(tx, ChatId(1), &[message(1, 1, &me(), &cid)], &me())?.settled)
            })
            .await
            .expect("stored");
        assert_eq!(settled.len(), 1);
        let outbox = cache.call(|c| outbox::all(c, &me())).await.expect("outbox");
        assert!(outbox.is_empty());
    }

    #[tokio::test]
    async fn a_peer_message_with_the_same_client_id_does_not_settle_ours() {
        let (_dir, cache) = temp_cache();
        let cid = ClientId::new("same-id-other-sender");
        let settled = cache
            .transaction(move |tx| {
                with_pending(tx, &cid);
                Ok(store(tx, ChatId(1), &[message(1, 1, &peer(), &cid)], &me())?.settled)
            })
            .await
            .expect("stored");
        assert!(settled.is_empty());
        let outbox = cache.call(|c| outbox::all(c, &me())).await.expect("outbox");
        assert_eq!(outbox.len(), 1, "still ours to send");
    }
}
