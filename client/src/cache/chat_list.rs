//! The chat list as a device shows it: a read model over chat rows, stored messages and the
//! outbox (the last message, unread, pending and failed counts, the latest activity). Only
//! reads; the tables it reads are written through [`super::chats`], [`super::messages`] and
//! [`super::outbox`].

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use tutorchat_shared::app::{ChatItem, LocalMessage};
use tutorchat_shared::model::{is_archived, ArchiveMark, ReadOnly};
use tutorchat_shared::{ChatId, CourseId, CourseRef, Participant, Role, UserId};

use super::{from_ms, messages, outbox, server_config, to_u64};
use crate::error::Result;

/// The chat's own standing for the user, as the server last said.
struct Standing {
    muted: bool,
    archive: Option<ArchiveMark>,
    blocked: bool,
    read_only: Option<ReadOnly>,
    purchase_url: Option<String>,
}

/// The chat list, newest activity first, each chat archived or not as of `now` (the shared
/// [`is_archived`] rule, with the server's period). Presence and typing are filled in by the
/// caller.
pub fn list(c: &Connection, me: &UserId, now: DateTime<Utc>) -> Result<Vec<ChatItem>> {
    let archive_after = server_config::archive_after(c)?;
    let mut stmt = c.prepare_cached(
        "SELECT ch.id, ch.course_id, ch.course_title, ch.peer_id, ch.peer_name, ch.peer_role,
                ch.last_seq, ch.my_read_seq, ch.peer_read_seq, ch.last_activity_at,
                (SELECT count(*) FROM outbox o WHERE o.chat_id = ch.id AND o.state = 'pending'),
                (SELECT count(*) FROM outbox o WHERE o.chat_id = ch.id AND o.state = 'failed'),
                (SELECT max(o.created_at) FROM outbox o WHERE o.chat_id = ch.id),
                ch.muted, ch.archived, ch.archived_at, ch.blocked, ch.read_only, ch.purchase_url
         FROM chats ch",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            ChatId(r.get(0)?),
            CourseRef {
                id: CourseId(r.get(1)?),
                title: r.get(2)?,
            },
            Participant {
                id: UserId(r.get(3)?),
                name: r.get(4)?,
                role: Role::parse(r.get_ref(5)?.as_str()?).unwrap_or(Role::Student),
                online: false,
            },
            (to_u64(r.get(6)?), to_u64(r.get(7)?), to_u64(r.get(8)?)),
            r.get::<_, i64>(9)?,
            (
                r.get::<_, u32>(10)?,
                r.get::<_, u32>(11)?,
                r.get::<_, Option<i64>>(12)?,
            ),
            Standing {
                muted: r.get(13)?,
                archive: match (r.get::<_, Option<bool>>(14)?, r.get::<_, Option<i64>>(15)?) {
                    (Some(archived), Some(at)) => Some(ArchiveMark {
                        archived,
                        at: from_ms(at),
                    }),
                    _ => None,
                },
                blocked: r.get(16)?,
                read_only: r.get_ref(17)?.as_str_or_null()?.and_then(ReadOnly::parse),
                purchase_url: r.get(18)?,
            },
        ))
    })?;
    let mut items = Vec::new();
    for row in rows {
        let (
            id,
            course,
            peer,
            (last_seq, my_read, peer_read),
            activity,
            (pending, failed, outbox_at),
            standing,
        ) = row?;
        let last_message = latest_local(c, id, me, peer_read, my_read)?;
        // The server's last activity decides archiving, the same on every device; a message
        // still in this device's outbox moves the chat up but does not bring it back.
        let archived = is_archived(standing.archive, from_ms(activity), now, archive_after);
        let activity = activity.max(outbox_at.unwrap_or(0));
        items.push(ChatItem {
            id,
            course,
            peer,
            last_message,
            last_seq,
            unread: last_seq.saturating_sub(my_read),
            pending,
            failed,
            peer_typing: false,
            last_activity_at: from_ms(activity),
            muted: standing.muted,
            archived,
            blocked: standing.blocked,
            read_only: standing.read_only,
            purchase_url: standing.purchase_url,
        });
    }
    items.sort_by(|a, b| {
        b.last_activity_at
            .cmp(&a.last_activity_at)
            .then(b.id.cmp(&a.id))
    });
    Ok(items)
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
    messages::newest_stored(c, chat, me, peer_read, my_read)
}
