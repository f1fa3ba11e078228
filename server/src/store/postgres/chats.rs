//! Queries on conversations: chats, their members' read pointers and settings, and messages
//! (the send itself is in [`super::send`]).

use chrono::{DateTime, Utc};
use tokio_postgres::{IsolationLevel, Row};
use tutorchat_shared::api::ChatSettingsChange;
use tutorchat_shared::model::ArchiveMark;
use tutorchat_shared::{
    Attachment, ChatId, ClientId, CourseId, CourseRef, Message, MessageId, MessageKind,
    ReadPointer, UserId,
};

use super::{from_ms, to_i64, to_ms, to_u64, Client};
use crate::store::{ChatRecord, ChatRow, Page, PageRequest, PersonRow, Result, StoreError};

const CHAT_COLUMNS: &str = "id, course_id, student_id, tutor_id, created_at";
pub(super) const MESSAGE_COLUMNS: &str =
    "id, chat_id, seq, sender_id, client_id, kind, content, created_at, attachment";

fn chat_from_row(r: &Row) -> Result<ChatRecord> {
    Ok(ChatRecord {
        id: ChatId(r.try_get(0)?),
        course_id: CourseId(r.try_get(1)?),
        student_id: UserId(r.try_get(2)?),
        tutor_id: UserId(r.try_get(3)?),
        created_at: from_ms(r.try_get(4)?),
    })
}

pub(super) fn parse_kind(text: &str) -> Result<MessageKind> {
    MessageKind::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown message kind {text:?}")))
}

pub(super) fn parse_attachment(json: Option<&str>) -> Result<Option<Attachment>> {
    json.map(|json| {
        serde_json::from_str(json)
            .map_err(|e| StoreError::Corrupt(format!("a message's attachment: {e}")))
    })
    .transpose()
}

/// Reads a message from nine columns starting at `at`, in [`MESSAGE_COLUMNS`] order.
pub(super) fn message_at(r: &Row, at: usize) -> Result<Message> {
    Ok(Message {
        id: MessageId(r.try_get(at)?),
        chat_id: ChatId(r.try_get(at + 1)?),
        seq: to_u64(r.try_get(at + 2)?),
        sender_id: UserId(r.try_get(at + 3)?),
        client_id: ClientId(r.try_get(at + 4)?),
        kind: parse_kind(r.try_get(at + 5)?)?,
        content: r.try_get(at + 6)?,
        created_at: from_ms(r.try_get(at + 7)?),
        attachment: parse_attachment(r.try_get(at + 8)?)?,
    })
}

pub(super) async fn chat(c: &Client, id: ChatId) -> Result<Option<ChatRecord>> {
    let sql = format!("SELECT {CHAT_COLUMNS} FROM chats WHERE id = $1");
    let statement = c.prepare_cached(&sql).await?;
    c.query_opt(&statement, &[&id.0])
        .await?
        .map(|r| chat_from_row(&r))
        .transpose()
}

pub(super) async fn find_or_create(
    c: &mut Client,
    course: &CourseId,
    student: &UserId,
    tutor: &UserId,
    at: DateTime<Utc>,
) -> Result<(ChatRecord, bool)> {
    let tx = c.transaction().await?;
    let now = to_ms(at);
    // Another node creating the same chat at once makes this wait for its commit and then
    // insert nothing.
    let created = tx
        .query_opt(
            "INSERT INTO chats (course_id, student_id, tutor_id, created_at, last_activity_at)
             VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (course_id, student_id, tutor_id) DO NOTHING
             RETURNING id",
            &[&course.0, &student.0, &tutor.0, &now],
        )
        .await?;
    let record = match created {
        Some(row) => {
            let id: i64 = row.try_get(0)?;
            tx.execute(
                "INSERT INTO chat_members (chat_id, user_id) VALUES ($1, $2), ($1, $3)",
                &[&id, &student.0, &tutor.0],
            )
            .await?;
            tx.commit().await?;
            return Ok((
                ChatRecord {
                    id: ChatId(id),
                    course_id: course.clone(),
                    student_id: student.clone(),
                    tutor_id: tutor.clone(),
                    created_at: from_ms(now),
                },
                true,
            ));
        }
        None => {
            let sql = format!(
                "SELECT {CHAT_COLUMNS} FROM chats
                 WHERE course_id = $1 AND student_id = $2 AND tutor_id = $3"
            );
            let row = tx
                .query_one(&sql, &[&course.0, &student.0, &tutor.0])
                .await?;
            chat_from_row(&row)?
        }
    };
    tx.commit().await?;
    Ok((record, false))
}

/// The viewer's chats (or one of them), newest activity first; see the SQLite twin.
pub(super) async fn rows(
    c: &Client,
    viewer: &UserId,
    only: Option<ChatId>,
) -> Result<Vec<ChatRow>> {
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
         FROM chat_members me
         JOIN chats ch ON ch.id = me.chat_id
         JOIN courses co ON co.id = ch.course_id
         JOIN chat_members peer ON peer.chat_id = ch.id AND peer.user_id != me.user_id
         JOIN users pu ON pu.id = peer.user_id
         LEFT JOIN messages m ON m.chat_id = ch.id AND m.seq = ch.last_seq
         WHERE me.user_id = $1 AND ($2::BIGINT IS NULL OR ch.id = $2)
         ORDER BY ch.last_activity_at DESC, ch.id DESC",
        MESSAGE_COLUMNS
            .split(", ")
            .map(|col| format!("m.{col}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let statement = c.prepare_cached(&sql).await?;
    let rows = c
        .query(&statement, &[&viewer.0, &only.map(|id| id.0)])
        .await?;
    rows.iter()
        .map(|r| {
            let last_message = match r.try_get::<_, Option<i64>>(FIRST_MESSAGE_COLUMN)? {
                None => None,
                Some(_) => Some(message_at(r, FIRST_MESSAGE_COLUMN)?),
            };
            let archive = match (
                r.try_get::<_, Option<bool>>(14)?,
                r.try_get::<_, Option<i64>>(15)?,
            ) {
                (Some(archived), Some(at)) => Some(ArchiveMark {
                    archived,
                    at: from_ms(at),
                }),
                _ => None,
            };
            Ok(ChatRow {
                chat: chat_from_row(r)?,
                course: CourseRef {
                    id: CourseId(r.try_get(1)?),
                    title: r.try_get(5)?,
                },
                peer: PersonRow {
                    id: UserId(r.try_get(6)?),
                    name: r.try_get(7)?,
                    role: super::accounts::parse_role(r.try_get(8)?)?,
                },
                last_seq: to_u64(r.try_get(9)?),
                my_read_seq: to_u64(r.try_get(10)?),
                peer_read_seq: to_u64(r.try_get(11)?),
                last_activity_at: from_ms(r.try_get(12)?),
                muted: r.try_get(13)?,
                archive,
                blocked: r.try_get(16)?,
                enrolled: r.try_get(17)?,
                teaching: r.try_get(18)?,
                purchase_url: r.try_get(19)?,
                last_message,
            })
        })
        .collect()
}

pub(super) async fn set_settings(
    c: &Client,
    chat: ChatId,
    member: &UserId,
    change: &ChatSettingsChange,
    at: DateTime<Utc>,
) -> Result<()> {
    // One statement: a field left out keeps its value.
    c.execute(
        "UPDATE chat_members SET
            muted = COALESCE($3, muted),
            archived = COALESCE($4, archived),
            archived_at = CASE WHEN $4::BOOLEAN IS NULL THEN archived_at ELSE $5 END
         WHERE chat_id = $1 AND user_id = $2",
        &[
            &chat.0,
            &member.0,
            &change.muted,
            &change.archived,
            &to_ms(at),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn message_by_client_id(
    c: &Client,
    sender: &UserId,
    client_id: &ClientId,
) -> Result<Option<Message>> {
    let sql =
        format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE sender_id = $1 AND client_id = $2");
    let statement = c.prepare_cached(&sql).await?;
    c.query_opt(&statement, &[&sender.0, &client_id.0])
        .await?
        .map(|r| message_at(&r, 0))
        .transpose()
}

pub(super) async fn page(c: &mut Client, chat: ChatId, request: PageRequest) -> Result<Page> {
    // One snapshot for the page and last_seq, so the two agree.
    let tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let last_seq = tx
        .query_opt("SELECT last_seq FROM chats WHERE id = $1", &[&chat.0])
        .await?
        .map(|r| r.try_get::<_, i64>(0))
        .transpose()?
        .map_or(0, to_u64);
    let (sql_tail, bound) = match request {
        PageRequest::Latest { .. } => ("AND seq <= $2 ORDER BY seq DESC LIMIT $3", i64::MAX),
        PageRequest::Before { seq, .. } => ("AND seq < $2 ORDER BY seq DESC LIMIT $3", to_i64(seq)),
        PageRequest::After { seq, .. } => ("AND seq > $2 ORDER BY seq ASC LIMIT $3", to_i64(seq)),
    };
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = $1 {sql_tail}");
    let statement = tx.prepare_cached(&sql).await?;
    let rows = tx
        .query(&statement, &[&chat.0, &bound, &request.fetch()])
        .await?;
    tx.commit().await?;
    let messages = rows
        .iter()
        .map(|r| message_at(r, 0))
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::assemble(request, messages, last_seq))
}

pub(super) async fn read_pointers(c: &Client, chat: ChatId) -> Result<Vec<ReadPointer>> {
    let statement = c
        .prepare_cached(
            "SELECT user_id, read_seq, read_at FROM chat_members WHERE chat_id = $1
             ORDER BY user_id COLLATE \"C\"",
        )
        .await?;
    c.query(&statement, &[&chat.0])
        .await?
        .iter()
        .map(|r| {
            Ok(ReadPointer {
                user_id: UserId(r.try_get(0)?),
                up_to_seq: to_u64(r.try_get(1)?),
                read_at: r.try_get::<_, Option<i64>>(2)?.map(from_ms),
            })
        })
        .collect()
}

pub(super) async fn mark_read(
    c: &Client,
    chat: ChatId,
    user: &UserId,
    up_to_seq: u64,
    at: DateTime<Utc>,
) -> Result<(ReadPointer, bool)> {
    // One statement: the pointer after the call, and whether this call moved it.
    let row = c
        .query_one(
            "WITH target AS (
                 SELECT LEAST($3, (SELECT last_seq FROM chats WHERE id = $1)) AS seq
             ), moved AS (
                 UPDATE chat_members SET read_seq = target.seq, read_at = $4
                 FROM target
                 WHERE chat_id = $1 AND user_id = $2 AND read_seq < target.seq
                 RETURNING read_seq, read_at
             )
             SELECT m.read_seq, m.read_at, TRUE FROM moved m
             UNION ALL
             SELECT cm.read_seq, cm.read_at, FALSE FROM chat_members cm
             WHERE cm.chat_id = $1 AND cm.user_id = $2 AND NOT EXISTS (SELECT 1 FROM moved)",
            &[&chat.0, &user.0, &to_i64(up_to_seq), &to_ms(at)],
        )
        .await?;
    let pointer = ReadPointer {
        user_id: user.clone(),
        up_to_seq: to_u64(row.try_get(0)?),
        read_at: row.try_get::<_, Option<i64>>(1)?.map(from_ms),
    };
    Ok((pointer, row.try_get(2)?))
}
