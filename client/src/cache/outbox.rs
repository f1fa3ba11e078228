//! The outbox: messages written on this device that the server has not acknowledged yet.
//!
//! A row is written (durably) before anything is sent, and removed in the same transaction
//! that stores the server's copy of the message — whether that copy came with the ack, in a
//! sync batch, or live from another device ([`super::messages::store`] calls [`settle`]) — so
//! a message is never lost and never shown twice.
//! A permanent refusal marks the row failed with its reason; it stays until retried or
//! discarded and does not hold back the rows behind it.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};
use tutorchat_shared::app::{DeliveryState, LocalAttachment, LocalMessage, SendFailure};
use tutorchat_shared::{ChatId, ClientId, ErrorCode, MessageKind, UserId};

use super::{from_ms, to_ms};
use crate::error::Result;

const COLUMNS: &str =
    "client_id, chat_id, kind, content, created_at, state, error_code, error_text, attachment";

/// Rows that may be sent now: texts, and attachments whose upload finished.
const READY: &str = "(attachment IS NULL OR json_extract(attachment, '$.id') IS NOT NULL)";

fn from_row(r: &Row<'_>, me: &UserId) -> rusqlite::Result<LocalMessage> {
    let failed = r.get_ref(5)?.as_str()? == "failed";
    let failure = if failed {
        let code: Option<String> = r.get(6)?;
        let code = code
            .and_then(|c| c.parse::<ErrorCode>().ok())
            .unwrap_or(ErrorCode::Internal);
        Some(SendFailure {
            code,
            message: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
        })
    } else {
        None
    };
    Ok(LocalMessage {
        chat_id: ChatId(r.get(1)?),
        id: None,
        seq: None,
        client_id: ClientId(r.get(0)?),
        sender_id: me.clone(),
        kind: MessageKind::parse(r.get_ref(2)?.as_str()?).unwrap_or_default(),
        content: r.get(3)?,
        created_at: from_ms(r.get(4)?),
        state: if failed {
            DeliveryState::Failed
        } else {
            DeliveryState::Pending
        },
        failure,
        attachment: super::json_column(r, 8)?,
    })
}

/// Writes a new pending message.
pub fn enqueue(
    c: &Connection,
    chat: ChatId,
    client_id: &ClientId,
    kind: MessageKind,
    content: &str,
    at: DateTime<Utc>,
    me: &UserId,
) -> Result<LocalMessage> {
    c.prepare_cached(
        "INSERT INTO outbox (client_id, chat_id, kind, content, created_at, state)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending')",
    )?
    .execute(params![
        client_id.as_str(),
        chat.0,
        kind.as_str(),
        content,
        to_ms(at)
    ])?;
    Ok(LocalMessage {
        chat_id: chat,
        id: None,
        seq: None,
        client_id: client_id.clone(),
        sender_id: me.clone(),
        kind,
        content: content.to_owned(),
        created_at: from_ms(to_ms(at)),
        state: DeliveryState::Pending,
        failure: None,
        attachment: None,
    })
}

/// Writes a new pending image or file message: what it carries, and where its copy in the
/// account's directory is (relative to it). Its upload runs before it can be sent.
#[allow(clippy::too_many_arguments)]
pub fn enqueue_attachment(
    c: &Connection,
    chat: ChatId,
    client_id: &ClientId,
    kind: MessageKind,
    caption: &str,
    attachment: &LocalAttachment,
    copy: &str,
    at: DateTime<Utc>,
    me: &UserId,
) -> Result<LocalMessage> {
    c.prepare_cached(
        "INSERT INTO outbox
            (client_id, chat_id, kind, content, created_at, state, attachment, attachment_path)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)",
    )?
    .execute(params![
        client_id.as_str(),
        chat.0,
        kind.as_str(),
        caption,
        to_ms(at),
        serde_json::to_string(attachment)?,
        copy
    ])?;
    get(c, client_id, me)?
        .ok_or_else(|| crate::error::ClientError::Cache(rusqlite::Error::QueryReturnedNoRows))
}

/// A pending attachment still to upload: its message, and its copy (relative to the account's
/// directory).
#[derive(Debug, Clone)]
pub struct Upload {
    pub message: LocalMessage,
    pub copy: String,
}

/// Pending attachments whose upload has not finished, oldest first.
pub fn uploads(c: &Connection, me: &UserId) -> Result<Vec<Upload>> {
    let sql = format!(
        "SELECT {COLUMNS}, attachment_path FROM outbox
         WHERE state = 'pending' AND NOT {READY} ORDER BY position"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok(Upload {
            message: from_row(r, me)?,
            copy: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The upload finished: the row carries the server's attachment and may be sent.
pub fn uploaded(
    c: &Connection,
    client_id: &ClientId,
    attachment: &LocalAttachment,
) -> Result<bool> {
    Ok(
        c.prepare_cached("UPDATE outbox SET attachment = ?2 WHERE client_id = ?1")?
            .execute(params![
                client_id.as_str(),
                serde_json::to_string(attachment)?
            ])?
            > 0,
    )
}

/// Forgets the server's id of an entry's upload, so its kept copy is uploaded again (the
/// server removed the upload: it went unsent for a day). At most twice per entry, so a server
/// that keeps refusing it fails it in the end. Returns whether the entry will upload again.
pub fn upload_again(c: &Connection, client_id: &ClientId) -> Result<bool> {
    Ok(c.prepare_cached(
        "UPDATE outbox SET attachment = json_remove(attachment, '$.id'), attempts = attempts + 1
         WHERE client_id = ?1 AND attachment_path IS NOT NULL AND attempts < 2",
    )?
    .execute([client_id.as_str()])?
        > 0)
}

/// The copy an entry keeps (relative to the account's directory) and its size, if any.
pub fn copy_of(c: &Connection, client_id: &ClientId) -> Result<Option<(String, u64)>> {
    let row: Option<(Option<String>, Option<i64>)> = c
        .prepare_cached(
            "SELECT attachment_path, json_extract(attachment, '$.size') FROM outbox
             WHERE client_id = ?1",
        )?
        .query_row([client_id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(match row {
        Some((Some(path), size)) => Some((path, super::to_u64(size.unwrap_or(0)))),
        _ => None,
    })
}

/// Pending messages in the order they were written (across chats), up to `limit`.
pub fn pending(c: &Connection, limit: u32, me: &UserId) -> Result<Vec<LocalMessage>> {
    let sql =
        format!("SELECT {COLUMNS} FROM outbox WHERE state = 'pending' ORDER BY position LIMIT ?1");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([limit], |r| from_row(r, me))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every outbox entry (pending and failed), oldest first.
pub fn all(c: &Connection, me: &UserId) -> Result<Vec<LocalMessage>> {
    let sql = format!("SELECT {COLUMNS} FROM outbox ORDER BY position");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([], |r| from_row(r, me))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A chat's outbox entries, oldest first (shown after its stored messages).
pub fn in_chat(c: &Connection, chat: ChatId, me: &UserId) -> Result<Vec<LocalMessage>> {
    let sql = format!("SELECT {COLUMNS} FROM outbox WHERE chat_id = ?1 ORDER BY position");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([chat.0], |r| from_row(r, me))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn newest_in_chat(c: &Connection, chat: ChatId, me: &UserId) -> Result<Option<LocalMessage>> {
    let sql =
        format!("SELECT {COLUMNS} FROM outbox WHERE chat_id = ?1 ORDER BY position DESC LIMIT 1");
    Ok(c.prepare_cached(&sql)?
        .query_row([chat.0], |r| from_row(r, me))
        .optional()?)
}

pub fn get(c: &Connection, client_id: &ClientId, me: &UserId) -> Result<Option<LocalMessage>> {
    let sql = format!("SELECT {COLUMNS} FROM outbox WHERE client_id = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row([client_id.as_str()], |r| from_row(r, me))
        .optional()?)
}

/// The server has this message of ours: its outbox entry, if any, is done. Only
/// [`super::messages::store`] calls this, in the transaction that stores the message.
pub(super) fn settle(c: &Connection, chat: ChatId, client_id: &ClientId) -> Result<bool> {
    Ok(
        c.prepare_cached("DELETE FROM outbox WHERE client_id = ?1 AND chat_id = ?2")?
            .execute(params![client_id.as_str(), chat.0])?
            > 0,
    )
}

/// Removes an entry the user discarded. Returns whether it was there.
pub fn remove(c: &Connection, client_id: &ClientId) -> Result<bool> {
    Ok(c.prepare_cached("DELETE FROM outbox WHERE client_id = ?1")?
        .execute([client_id.as_str()])?
        > 0)
}

/// Marks an entry failed for good, with the server's reason.
pub fn fail(c: &Connection, client_id: &ClientId, code: ErrorCode, text: &str) -> Result<bool> {
    Ok(c.prepare_cached(
        "UPDATE outbox SET state = 'failed', attempts = attempts + 1, error_code = ?2, error_text = ?3
         WHERE client_id = ?1",
    )?
    .execute(params![client_id.as_str(), code.as_str(), text])?
        > 0)
}

/// Counts a transient failure; the entry stays pending.
pub fn attempted(c: &Connection, client_id: &ClientId) -> Result<()> {
    c.prepare_cached("UPDATE outbox SET attempts = attempts + 1 WHERE client_id = ?1")?
        .execute([client_id.as_str()])?;
    Ok(())
}

/// Puts a failed entry back in line (at its original position).
pub fn retry(c: &Connection, client_id: &ClientId) -> Result<bool> {
    Ok(c.prepare_cached(
        "UPDATE outbox SET state = 'pending', error_code = NULL, error_text = NULL
         WHERE client_id = ?1 AND state = 'failed'",
    )?
    .execute([client_id.as_str()])?
        > 0)
}

/// The oldest pending messages of each chat not in `skip`, up to `per_chat` each: what may be
/// sent next, by chat in the order their oldest was written, each chat's in the order written.
/// Costs one pass over the pending rows' chats, then an index range per chat.
pub fn next_batches(
    c: &Connection,
    skip: &HashSet<ChatId>,
    per_chat: u32,
    me: &UserId,
) -> Result<Vec<LocalMessage>> {
    let chats: Vec<ChatId> = c
        .prepare_cached(&format!(
            "SELECT chat_id FROM outbox WHERE state = 'pending' AND {READY}
                 GROUP BY chat_id ORDER BY min(position)"
        ))?
        .query_map([], |r| Ok(ChatId(r.get(0)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox WHERE chat_id = ?1 AND state = 'pending' AND {READY}
         ORDER BY position LIMIT ?2"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut batches = Vec::new();
    for chat in chats.into_iter().filter(|chat| !skip.contains(chat)) {
        let rows = stmt.query_map(params![chat.0, per_chat], |r| from_row(r, me))?;
        for row in rows {
            batches.push(row?);
        }
    }
    Ok(batches)
}

/// Attempts made for an entry so far.
pub fn attempts(c: &Connection, client_id: &ClientId) -> Result<u32> {
    Ok(
        c.prepare_cached("SELECT attempts FROM outbox WHERE client_id = ?1")?
            .query_row([client_id.as_str()], |r| r.get(0))
            .optional()?
            .unwrap_or(0),
    )
}

/// The chat of an entry.
pub fn chat_of(c: &Connection, client_id: &ClientId) -> Result<Option<ChatId>> {
    Ok(
        c.prepare_cached("SELECT chat_id FROM outbox WHERE client_id = ?1")?
            .query_row([client_id.as_str()], |r| Ok(ChatId(r.get(0)?)))
            .optional()?,
    )
}
