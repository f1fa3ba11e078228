//! Drafts: what was typed but not sent, per chat, kept across restarts.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use tutorchat_shared::ChatId;

use super::to_ms;
use crate::error::Result;

pub fn get(c: &Connection, chat: ChatId) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT text FROM drafts WHERE chat_id = ?1")?
            .query_row([chat.0], |r| r.get(0))
            .optional()?,
    )
}

/// Saves the draft; an empty text deletes it.
pub fn set(c: &Connection, chat: ChatId, text: &str, at: DateTime<Utc>) -> Result<()> {
    if text.is_empty() {
        c.prepare_cached("DELETE FROM drafts WHERE chat_id = ?1")?
            .execute([chat.0])?;
    } else {
        c.prepare_cached(
            "INSERT INTO drafts (chat_id, text, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (chat_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at",
        )?
        .execute(params![chat.0, text, to_ms(at)])?;
    }
    Ok(())
}
