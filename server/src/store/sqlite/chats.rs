//! Queries on conversations: chats, their two members' read pointers, and messages with their
//! per-chat gapless `seq`.

use chrono::{DateTime, Utc};
use std::sync::LazyLock;

use rusqlite::{named_params, params, Connection, OptionalExtension, Row};
use tutorchat_shared::api::ChatSettingsChange;
use tutorchat_shared::model::ArchiveMark;
use tutorchat_shared::{
    ChatId, ClientId, CourseId, CourseRef, Message, MessageId, MessageKind, ReadPointer, UserId,
};

use super::accounts::{parse_role, BLOCKED, ENROLLED, TEACHES};
use super::attachments;
use super::{from_ms, to_i64, to_ms, to_u64};
use crate::store::{
    ChatRecord, ChatRow, InsertOutcome, NewMessage, Page, PageRequest, PersonRow, Result,
    SendChecks, SendRefusal, StoreError,
};

const CHAT_COLUMNS: &str = "id, course_id, student_id, tutor_id, created_at";
const MESSAGE_COLUMNS: &str =
    "id, chat_id, seq, sender_id, client_id, kind, content, created_at, attachment";

fn chat_from_row(r: &Row<'_>) -> rusqlite::Result<ChatRecord> {
    Ok(ChatRecord {
        id: ChatId(r.get(0)?),
        course_id: CourseId(r.get(1)?),
        student_id: UserId(r.get(2)?),
        tutor_id: UserId(r.get(3)?),
        created_at: from_ms(r.get(4)?),
    })
}

/// Reads a message from nine columns starting at `at`, in [`MESSAGE_COLUMNS`] order.
fn message_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Message> {
    let kind_ref = r.get_ref(at + 5)?;
    let kind_text = kind_ref.as_str()?;
    let kind = MessageKind::parse(kind_text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            at + 5,
            rusqlite::types::Type::Text,
            format!("unknown message kind {kind_text:?}").into(),
        )
    })?;
    let attachment = match r.get::<_, Option<String>>(at + 8)? {
        Some(json) => Some(serde_json::from_str(&json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(at + 8, rusqlite::types::Type::Text, e.into())
        })?),
        None => None,
    };
    Ok(Message {
        id: MessageId(r.get(at)?),
        chat_id: ChatId(r.get(at + 1)?),
        seq: to_u64(r.get(at + 2)?),
        sender_id: UserId(r.get(at + 3)?),
        client_id: ClientId(r.get(at + 4)?),
        kind,
        content: r.get(at + 6)?,
        created_at: from_ms(r.get(at + 7)?),
        attachment,
    })
}

pub(super) fn chat(c: &Connection, id: ChatId) -> Result<Option<ChatRecord>> {
    let sql = format!("SELECT {CHAT_COLUMNS} FROM chats WHERE id = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row([id.0], chat_from_row)
        .optional()?)
}

pub(super) fn find_or_create(
    c: &Connection,
    course: &CourseId,
    student: &UserId,
    tutor: &UserId,
    at: DateTime<Utc>,
) -> Result<(ChatRecord, bool)> {
    let sql = format!(
        "SELECT {CHAT_COLUMNS} FROM chats WHERE course_id = ?1 AND student_id = ?2 AND tutor_id = ?3"
    );
    let key = [course.as_str(), student.as_str(), tutor.as_str()];
    if let Some(existing) = c
        .prepare_cached(&sql)?
        .query_row(key, chat_from_row)
        .optional()?
    {
        return Ok((existing, false));
    }
    let now = to_ms(at);
    c.prepare_cached(
        "INSERT INTO chats (course_id, student_id, tutor_id, created_at, last_activity_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![
        course.as_str(),
        student.as_str(),
        tutor.as_str(),
        now
    ])?;
    let id = ChatId(c.last_insert_rowid());
    let mut member =
        c.prepare_cached("INSERT INTO chat_members (chat_id, user_id) VALUES (?1, ?2)")?;
    member.execute(params![id.0, student.as_str()])?;
    member.execute(params![id.0, tutor.as_str()])?;
    let record = ChatRecord {
        id,
        course_id: course.clone(),
        student_id: student.clone(),
        tutor_id: tutor.clone(),
        created_at: from_ms(now),
    };
    Ok((record, true))
}

/// The viewer's chats (or one of them), newest activity first, with the peer, the course, the
/// last message, the viewer's own settings and whether both members may still write.
pub(super) fn rows(c: &Connection, viewer: &UserId, only: Option<ChatId>) -> Result<Vec<ChatRow>> {
    const FIRST_MESSAGE_COLUMN: usize = 20;
    let sql = format!(
        "SELECT ch.id, ch.course_id, ch.student_id, ch.tutor_id, ch.created_at,
                co.title, pu.id, pu.name, pu.role,
                ch.last_seq, me.read_seq, peer.read_seq, ch.last_activity_at,
                me.muted, me.archived, me.archived_at,
                EXISTS (SELECT 1 FROM blocks b
                        WHERE b.blocker_id = me.user_id AND b.blocked_id = peer.user_id),
                EXISTS (SELECT 1 FROM enrollments e
                        WHERE e.course_id = ch.course_id AND e.student_id = ch.student_id
                          AND e.revoked_at IS NULL),
                EXISTS (SELECT 1 FROM course_tutors t
                        WHERE t.course_id = ch.course_id AND t.tutor_id = ch.tutor_id),
                co.purchase_url,
                {}
         FROM member_reads me
         JOIN chats ch ON ch.id = me.chat_id
         JOIN courses co ON co.id = ch.course_id
         JOIN member_reads peer ON peer.chat_id = ch.id AND peer.user_id != me.user_id
         JOIN users pu ON pu.id = peer.user_id
         LEFT JOIN messages m ON m.chat_id = ch.id AND m.seq = ch.last_seq
         WHERE me.user_id = ?1 AND (?2 IS NULL OR ch.id = ?2)
         ORDER BY ch.last_activity_at DESC, ch.id DESC",
        MESSAGE_COLUMNS
            .split(", ")
            .map(|col| format!("m.{col}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![viewer.as_str(), only.map(|id| id.0)], |r| {
        let last_message =
            if r.get_ref(FIRST_MESSAGE_COLUMN)?.data_type() == rusqlite::types::Type::Null {
                None
            } else {
                Some(message_at(r, FIRST_MESSAGE_COLUMN)?)
            };
        let archive = match (r.get::<_, Option<bool>>(14)?, r.get::<_, Option<i64>>(15)?) {
            (Some(archived), Some(at)) => Some(ArchiveMark {
                archived,
                at: from_ms(at),
            }),
            _ => None,
        };
        Ok(ChatRow {
            chat: chat_from_row(r)?,
            course: CourseRef {
                id: CourseId(r.get(1)?),
                title: r.get(5)?,
            },
            peer: PersonRow {
                id: UserId(r.get(6)?),
                name: r.get(7)?,
                role: parse_role(r.get_ref(8)?.as_str()?)?,
            },
            last_seq: to_u64(r.get(9)?),
            my_read_seq: to_u64(r.get(10)?),
            peer_read_seq: to_u64(r.get(11)?),
            last_activity_at: from_ms(r.get(12)?),
            muted: r.get(13)?,
            archive,
            blocked: r.get(16)?,
            enrolled: r.get(17)?,
            teaching: r.get(18)?,
            purchase_url: r.get(19)?,
            last_message,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A member's change to their own settings for a chat.
pub(super) fn set_settings(
    c: &Connection,
    chat: ChatId,
    member: &UserId,
    change: &ChatSettingsChange,
    at: DateTime<Utc>,
) -> Result<()> {
    if let Some(muted) = change.muted {
        c.prepare_cached("UPDATE chat_members SET muted = ?3 WHERE chat_id = ?1 AND user_id = ?2")?
            .execute(params![chat.0, member.as_str(), muted])?;
    }
    if let Some(archived) = change.archived {
        c.prepare_cached(
            "UPDATE chat_members SET archived = ?3, archived_at = ?4
             WHERE chat_id = ?1 AND user_id = ?2",
        )?
        .execute(params![chat.0, member.as_str(), archived, to_ms(at)])?;
    }
    Ok(())
}

/// The message a sender stored under a `client_id` (every send looks first).
static BY_CLIENT_ID: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE sender_id = ?1 AND client_id = ?2")
});

pub(super) fn message_by_client_id(
    c: &Connection,
    sender: &UserId,
    client_id: &ClientId,
) -> Result<Option<Message>> {
    Ok(c.prepare_cached(&BY_CLIENT_ID)?
        .query_row([sender.as_str(), client_id.as_str()], |r| message_at(r, 0))
        .optional()?)
}

/// Deduplicates, checks, then stores each message in order (see `Store::send_messages`). The
/// checks hold for the whole transaction, so they are read once, when the first new message
/// needs them.
pub(super) fn send_messages(
    c: &Connection,
    messages: &[NewMessage],
    checks: &SendChecks,
) -> Result<Vec<InsertOutcome>> {
    let mut verdict: Option<Option<SendRefusal>> = None;
    let mut outcomes = Vec::with_capacity(messages.len());
    for m in messages {
        if let Some(known) = duplicate(c, m)? {
            outcomes.push(known);
            continue;
        }
        let refusal = match verdict {
            Some(refusal) => refusal,
            None => *verdict.insert(refusal(c, &m.sender_id, checks)?),
        };
        outcomes.push(match refusal {
            Some(refusal) => InsertOutcome::Refused(refusal),
            None => store_new(c, m)?,
        });
    }
    Ok(outcomes)
}

/// The block, the enrollment and the teaching in one statement (they run for every send),
/// each the same query the store's own reads use.
static SEND_CHECKS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT EXISTS ({BLOCKED}), EXISTS ({ENROLLED}), EXISTS ({TEACHES})"));

/// Why `sender` may not send now, if they may not.
fn refusal(c: &Connection, sender: &UserId, checks: &SendChecks) -> Result<Option<SendRefusal>> {
    let (blocked, enrolled, teaches): (bool, bool, bool) =
        c.prepare_cached(&SEND_CHECKS)?.query_row(
            named_params! {
                ":blocker": checks.recipient.as_str(),
                ":blocked": sender.as_str(),
                ":course": checks.course.as_str(),
                ":student": checks.student.as_str(),
                ":tutor": checks.tutor.as_str(),
            },
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
    Ok(if blocked {
        Some(SendRefusal::Blocked)
    } else if !enrolled {
        Some(SendRefusal::NotEnrolled)
    } else if !teaches {
        Some(SendRefusal::NotCourseTutor)
    } else {
        None
    })
}

pub(super) fn insert_message(c: &Connection, m: &NewMessage) -> Result<InsertOutcome> {
    if let Some(known) = duplicate(c, m)? {
        return Ok(known);
    }
    store_new(c, m)
}

/// The outcome for a `(sender, client_id)` that is already stored, if it is.
fn duplicate(c: &Connection, m: &NewMessage) -> Result<Option<InsertOutcome>> {
    Ok(
        message_by_client_id(c, &m.sender_id, &m.client_id)?.map(|original| {
            if original.chat_id == m.chat_id {
                InsertOutcome::Duplicate(original)
            } else {
                InsertOutcome::ClientIdReused {
                    chat_id: original.chat_id,
                }
            }
        }),
    )
}

/// Numbers the next message of chat `?1`. Writing a message means having read the chat up to
/// it: the sender's pointer moves on the chat's row, in the same update (`member_reads`).
/// Not `RETURNING last_seq`: SQLite gathers a RETURNING clause's rows in a temporary b-tree,
/// built and dropped on every run, which costs more than the [`LAST_SEQ`] read after it
/// (with the kind's old CHECK, migration 5: numbering and inserting a message took ~74,000
/// instructions instead of ~41,000, by `scripts/callgrind.sh`).
const NUMBER_MESSAGE: &str = "UPDATE chats SET last_seq = last_seq + 1, last_activity_at = ?2,
        student_sent_seq = CASE student_id WHEN ?3 THEN last_seq + 1 ELSE student_sent_seq END,
        tutor_sent_seq = CASE tutor_id WHEN ?3 THEN last_seq + 1 ELSE tutor_sent_seq END
     WHERE id = ?1";
/// The seq [`NUMBER_MESSAGE`] gave, read in the same transaction.
const LAST_SEQ: &str = "SELECT last_seq FROM chats WHERE id = ?1";
const INSERT_MESSAGE: &str = "INSERT INTO messages
        (chat_id, seq, sender_id, client_id, kind, content, created_at, attachment)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

fn store_new(c: &Connection, m: &NewMessage) -> Result<InsertOutcome> {
    let (kind, attachment) = match &m.attachment {
        Some(id) => {
            let Some(attachment) = attachments::claimable(c, id, &m.sender_id)? else {
                return Ok(InsertOutcome::Refused(SendRefusal::AttachmentUnavailable));
            };
            // An image only if the content is one; anything else is shown as a file.
            let kind = if m.kind == MessageKind::Image && attachment.is_image() {
                MessageKind::Image
            } else {
                MessageKind::File
            };
            (kind, Some(attachment))
        }
        None => (m.kind, None),
    };
    let at = to_ms(m.at);
    let numbered = c.prepare_cached(NUMBER_MESSAGE)?.execute(params![
        m.chat_id.0,
        at,
        m.sender_id.as_str()
    ])?;
    if numbered == 0 {
        return Err(StoreError::Corrupt(format!("chat {} vanished", m.chat_id)));
    }
    let seq: i64 = c
        .prepare_cached(LAST_SEQ)?
        .query_row([m.chat_id.0], |r| r.get(0))?;
    let attachment_json = attachment
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("attachment as JSON: {e}")))?;
    c.prepare_cached(INSERT_MESSAGE)?.execute(params![
        m.chat_id.0,
        seq,
        m.sender_id.as_str(),
        m.client_id.as_str(),
        kind.as_str(),
        m.content,
        at,
        attachment_json
    ])?;
    let id = MessageId(c.last_insert_rowid());
    if let Some(attachment) = &attachment {
        attachments::claim(c, &attachment.id, id)?;
    }
    Ok(InsertOutcome::Stored(Message {
        id,
        chat_id: m.chat_id,
        seq: to_u64(seq),
        sender_id: m.sender_id.clone(),
        client_id: m.client_id.clone(),
        kind,
        content: m.content.clone(),
        created_at: from_ms(at),
        attachment,
    }))
}

pub(super) fn page(c: &Connection, chat: ChatId, request: PageRequest) -> Result<Page> {
    // One snapshot for the page and last_seq, so the two agree.
    let tx = c.unchecked_transaction()?;
    let last_seq: i64 = tx
        .prepare_cached(LAST_SEQ)?
        .query_row([chat.0], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let last_seq = to_u64(last_seq);
    let (sql_tail, bound) = match request {
        PageRequest::Latest { .. } => ("ORDER BY seq DESC LIMIT ?3", i64::MAX),
        PageRequest::Before { seq, .. } => ("AND seq < ?2 ORDER BY seq DESC LIMIT ?3", to_i64(seq)),
        PageRequest::After { seq, .. } => ("AND seq > ?2 ORDER BY seq ASC LIMIT ?3", to_i64(seq)),
    };
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ?1 {sql_tail}");
    let mut stmt = tx.prepare_cached(&sql)?;
    // Every form numbers its parameters up to ?3, so one binding serves all three (the newest
    // page simply does not use ?2).
    let rows = stmt
        .query_map(params![chat.0, bound, request.fetch()], |r| {
            message_at(r, 0)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    drop(stmt);
    tx.finish()?;
    Ok(Page::assemble(request, rows, last_seq))
}

pub(super) fn read_pointers(c: &Connection, chat: ChatId) -> Result<Vec<ReadPointer>> {
    let mut stmt = c.prepare_cached(
        "SELECT user_id, read_seq, read_at FROM member_reads WHERE chat_id = ?1 ORDER BY user_id",
    )?;
    let rows = stmt.query_map([chat.0], |r| {
        Ok(ReadPointer {
            user_id: UserId(r.get(0)?),
            up_to_seq: to_u64(r.get(1)?),
            read_at: r.get::<_, Option<i64>>(2)?.map(from_ms),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn mark_read(
    c: &Connection,
    chat: ChatId,
    user: &UserId,
    up_to_seq: u64,
    at: DateTime<Utc>,
) -> Result<(ReadPointer, bool)> {
    let moved = c
        .prepare_cached(
            "UPDATE chat_members SET
                read_seq = min(?3, (SELECT last_seq FROM chats WHERE id = ?1)),
                read_at = ?4
             WHERE chat_id = ?1 AND user_id = ?2
               AND (SELECT read_seq FROM member_reads WHERE chat_id = ?1 AND user_id = ?2)
                   < min(?3, (SELECT last_seq FROM chats WHERE id = ?1))",
        )?
        .execute(params![chat.0, user.as_str(), to_i64(up_to_seq), to_ms(at)])?;
    let (seq, read_at): (i64, Option<i64>) = c
        .prepare_cached(
            "SELECT read_seq, read_at FROM member_reads WHERE chat_id = ?1 AND user_id = ?2",
        )?
        .query_row(params![chat.0, user.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let pointer = ReadPointer {
        user_id: user.clone(),
        up_to_seq: to_u64(seq),
        read_at: read_at.map(from_ms),
    };
    Ok((pointer, moved > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The opcodes of `sql`'s program on a database with the current schema.
    fn program(sql: &str) -> Vec<String> {
        let c = Connection::open_in_memory().expect("database");
        c.pragma_update(None, "foreign_keys", true).expect("pragma");
        super::super::migrations::run(&c).expect("migrations");
        let mut explain = c.prepare(&format!("EXPLAIN {sql}")).expect("explain");
        // Unbound parameters are NULL, which is all a plan needs.
        let mut rows = explain.raw_query();
        let mut opcodes = Vec::new();
        while let Some(row) = rows.next().expect("row") {
            opcodes.push(row.get(1).expect("opcode"));
        }
        opcodes
    }

    /// Every statement a send runs, once per message, works on the tables and their indexes
    /// alone: a temporary b-tree (an `IN` list of constants in a CHECK, a RETURNING clause) is
    /// built and dropped on every run (`NUMBER_MESSAGE`).
    #[test]
    fn a_send_builds_no_temporary_table() {
        let statements = [
            BY_CLIENT_ID.as_str(),
            SEND_CHECKS.as_str(),
            NUMBER_MESSAGE,
            LAST_SEQ,
            INSERT_MESSAGE,
        ];
        for sql in statements {
            let program = program(sql);
            assert!(
                !program.iter().any(|op| op == "OpenEphemeral"),
                "{sql} opens a temporary table: {program:?}"
            );
        }
    }
}
