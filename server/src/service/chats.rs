//! Chats: the list, the course-enrollment gate, history pages, sending and read pointers.
//!
//! The gate: a chat exists only between a student and a tutor of a course the student has
//! bought and the tutor teaches. It is checked when a chat is opened and again on every send,
//! so a revoked enrollment stops new messages while the history stays readable.

use std::collections::HashSet;

use std::time::Instant;

use chrono::Utc;
use tutorchat_shared::api::{
    AuditAction, ChatList, CreateChatRequest, CreateChatResponse, MarkReadRequest,
    MarkReadResponse, MessagePage, MessagesQuery, SendMessageRequest, SendMessageResponse,
};
use tutorchat_shared::model::{is_read, ReadOnly};
use tutorchat_shared::validation::{validate_client_id, validate_course_id, validate_message};
use tutorchat_shared::ws::{ServerFrame, SyncCursor};
use tutorchat_shared::{
    ApiError, ChatId, ChatSummary, ClientId, ErrorCode, MessageView, Participant, Role, UserId,
};

use crate::auth::CurrentUser;
use crate::error::{Error, Result};
use crate::live::ConnId;
use crate::rate_limit::retry_after_secs;
use crate::service::access::{
    blocked, chat_target, find_member_chat, gate, member_chat, not_course_tutor, not_participant,
};
use crate::service::audit;
use crate::service::live;
use crate::state::AppState;
use crate::store::{
    ChatRecord, ChatRow, InsertOutcome, NewMessage, OnCommit, PageRequest, SendChecks, SendRefusal,
    StoreError,
};

pub async fn list(state: &AppState, me: &CurrentUser) -> Result<ChatList> {
    let rows = state.store.chats_of(&me.id).await?;
    Ok(ChatList {
        chats: rows.into_iter().map(|row| summary(state, row)).collect(),
    })
}

pub async fn get(state: &AppState, me: &CurrentUser, chat_id: ChatId) -> Result<ChatSummary> {
    let row = state.store.chat_row(chat_id, &me.id).await?;
    match row {
        Some(row) => Ok(summary(state, row)),
        None => Err(not_participant(state, me, chat_id).await),
    }
}

/// Opens the chat between the caller and the named tutor (for a student) or student (for a
/// tutor) in a course, creating it if needed.
pub async fn create(
    state: &AppState,
    me: &CurrentUser,
    req: CreateChatRequest,
) -> Result<CreateChatResponse> {
    validate_course_id(&req.course_id)?;
    let (student, tutor) = match (me.role, req.tutor_id, req.student_id) {
        (Role::Student, Some(tutor), None) => (me.id.clone(), tutor),
        (Role::Tutor, None, Some(student)) => (student, me.id.clone()),
        (Role::Student, _, _) => {
            return Err(Error::validation(
                "tutor_id",
                "a student names the tutor: tutor_id only",
            ))
        }
        (Role::Tutor, _, _) => {
            return Err(Error::validation(
                "student_id",
                "a tutor names the student: student_id only",
            ))
        }
        (Role::Admin, _, _) => return Err(Error::forbidden("admins do not take part in chats")),
    };
    let course = state.store.course(&req.course_id).await?;
    if course.is_none() {
        return Err(Error::not_found(format!("course {}", req.course_id)));
    }
    let target = format!("course:{} student:{student} tutor:{tutor}", req.course_id);
    if let Err(denial) = gate(state, &req.course_id, &student, &tutor, me.role).await {
        return Err(audit::denied(state, &me.id, target, denial).await);
    }
    let peer = if me.role == Role::Student {
        &tutor
    } else {
        &student
    };
    if state.store.is_blocked(peer, &me.id).await? {
        return Err(audit::denied(state, &me.id, target, blocked()).await);
    }
    let (chat, created) = state
        .store
        .find_or_create_chat(&req.course_id, &student, &tutor, Utc::now())
        .await?;
    if created {
        state.chats.insert(chat.clone());
        publish_chat_created(state, &chat).await?;
        audit::record(
            state,
            AuditAction::ChatCreated,
            Some(&me.id),
            Some(chat_target(chat.id)),
            Some(target),
            None,
        )
        .await;
    }
    let row = state
        .store
        .chat_row(chat.id, &me.id)
        .await?
        .ok_or_else(|| Error::not_found(format!("chat {}", chat.id)))?;
    Ok(CreateChatResponse {
        chat: summary(state, row),
        created,
    })
}

/// A page of history, with each message's read state.
pub async fn messages(
    state: &AppState,
    me: &CurrentUser,
    chat_id: ChatId,
    query: MessagesQuery,
) -> Result<MessagePage> {
    let chat = member_chat(state, me, chat_id).await?;
    let limit = query.limit.unwrap_or(state.config.page_default);
    let max = state.config.page_max;
    if limit == 0 || limit > max {
        return Err(Error::validation(
            "limit",
            format!("limit must be between 1 and {max}"),
        ));
    }
    let request = match (query.before_seq, query.after_seq) {
        (None, None) => PageRequest::Latest { limit },
        (Some(seq), None) => PageRequest::Before { seq, limit },
        (None, Some(seq)) => PageRequest::After { seq, limit },
        (Some(_), Some(_)) => {
            return Err(Error::validation(
                "before_seq",
                "give before_seq or after_seq, not both",
            ))
        }
    };
    let page = state.store.messages(chat.id, request).await?;
    let read_pointers = state.store.read_pointers(chat.id).await?;
    let pointer_of = |user: &UserId| {
        read_pointers
            .iter()
            .find(|p| &p.user_id == user)
            .map_or(0, |p| p.up_to_seq)
    };
    let peer = chat
        .peer_of(&me.id)
        .cloned()
        .unwrap_or_else(|| me.id.clone());
    let (mine, theirs) = (pointer_of(&me.id), pointer_of(&peer));
    let messages = page
        .messages
        .into_iter()
        .map(|message| {
            let recipient_read = if message.sender_id == me.id {
                theirs
            } else {
                mine
            };
            MessageView {
                read: is_read(message.seq, recipient_read),
                message,
            }
        })
        .collect();
    Ok(MessagePage {
        chat_id: chat.id,
        messages,
        has_more_before: page.has_more_before,
        has_more_after: page.has_more_after,
        last_seq: page.last_seq,
        read_pointers,
    })
}

/// Stores a message: REST's `POST /api/chats/{id}/messages` and the WebSocket's
/// `send_message` both come here, and the stored message goes live to every other connection
/// of both members, in commit order. Idempotent on `(sender, client_id)`: a repeat returns the
/// original, even if the gate would now refuse a new message. `origin` is the sending
/// connection, which gets its answer as `message_ack` instead of `message_received`.
pub async fn send(
    state: &AppState,
    me: &CurrentUser,
    chat_id: ChatId,
    req: SendMessageRequest,
    origin: Option<ConnId>,
) -> Result<SendMessageResponse> {
    let mut answers = send_batch(state, me, chat_id, vec![req], origin).await;
    match answers.pop() {
        Some((_, answer)) => answer,
        None => Err(StoreError::Corrupt("a send of one message answered nothing".into()).into()),
    }
}

/// One message's answer in a batch: the `client_id` it answers, and the stored message or the
/// refusal (which names the `client_id` and the chat).
pub type Answer = (ClientId, Result<SendMessageResponse>);

/// Stores several messages of one chat in order, as [`send`] does each (the WebSocket's
/// `send_messages`, a device flushing its outbox): one store transaction, one answer per
/// message in order. Once one is refused for a transient reason (the message rate), every
/// later one is refused the same way, so a retried message is never overtaken by the ones
/// written after it.
pub async fn send_batch(
    state: &AppState,
    me: &CurrentUser,
    chat_id: ChatId,
    requests: Vec<SendMessageRequest>,
    origin: Option<ConnId>,
) -> Vec<Answer> {
    // Every refusal names the message it answers and its chat.
    let tag = |client_id: &ClientId, e: Error| -> Error {
        e.map_api(|api| api.with_client_id(client_id.clone()).with_chat(chat_id))
    };
    // One refusal for several messages: the same answer for each (a fault is logged once,
    // by `into_answer`).
    let refuse_each = |answers: &mut [Option<Answer>],
                       requests: Vec<(usize, SendMessageRequest)>,
                       refusal: &ApiError| {
        for (index, req) in requests {
            let answer = Err(tag(&req.client_id, refusal.clone().into()));
            answers[index] = Some((req.client_id, answer));
        }
    };
    let mut answers: Vec<Option<Answer>> = requests.iter().map(|_| None).collect();
    let requests: Vec<(usize, SendMessageRequest)> = requests.into_iter().enumerate().collect();
    if !state.overload.admit() {
        // Work already waits too long for the CPU: refusing costs far less than storing and
        // delivering, and keeps the messages taken fast (see `overload`).
        state.metrics.refused(crate::metrics::Limit::Overloaded);
        refuse_each(&mut answers, requests, &busy());
        return answers.into_iter().flatten().collect();
    }
    let chat = match member_chat(state, me, chat_id).await {
        Ok(chat) => chat,
        Err(e) => {
            refuse_each(&mut answers, requests, &e.into_answer());
            return answers.into_iter().flatten().collect();
        }
    };
    let mut accepted = Vec::with_capacity(requests.len());
    let mut limited: Option<ApiError> = None;
    for (index, req) in requests {
        let answer = match admit(state, me, &req, &mut limited).await {
            Ok(None) => {
                accepted.push((index, req));
                continue;
            }
            Ok(Some(original)) => duplicate_or_conflict(original, chat_id),
            Err(e) => Err(e),
        };
        let answer = answer.map_err(|e| tag(&req.client_id, e));
        answers[index] = Some((req.client_id, answer));
    }
    if !accepted.is_empty() {
        let recipient = chat
            .peer_of(&me.id)
            .cloned()
            .unwrap_or_else(|| me.id.clone());
        let checks = SendChecks {
            recipient,
            course: chat.course_id.clone(),
            student: chat.student_id.clone(),
            tutor: chat.tutor_id.clone(),
        };
        let hub = state.hub.clone();
        let members = (chat.student_id.clone(), chat.tutor_id.clone());
        let on_commit: OnCommit = Box::new(move |message, committed| {
            hub.deliver_message(message, [&members.0, &members.1], origin, committed);
        });
        let at = Utc::now();
        // The content moves into the store; the request keeps its client_id for the answer.
        let messages = accepted
            .iter_mut()
            .map(|(_, req)| NewMessage {
                chat_id,
                sender_id: me.id.clone(),
                client_id: req.client_id.clone(),
                kind: req.kind,
                content: std::mem::take(&mut req.content),
                attachment: req.attachment_id.clone(),
                at,
            })
            .collect();
        match state
            .store
            .send_messages(messages, checks, Some(on_commit))
            .await
        {
            Ok(outcomes) => {
                let mut stored = false;
                for ((index, req), outcome) in accepted.into_iter().zip(outcomes) {
                    stored |= matches!(outcome, InsertOutcome::Stored(_));
                    if let (InsertOutcome::Duplicate(original), Some(_)) =
                        (&outcome, state.hub.relay())
                    {
                        // With several nodes a send can be stored while its answer is lost
                        // (a node died, a commit's reply never came): the retry delivers it
                        // too. Lines and connections drop it where it already arrived.
                        let members = [&chat.student_id, &chat.tutor_id];
                        state
                            .hub
                            .deliver_message(original, members, origin, Instant::now());
                    }
                    let answer =
                        answer_of(state, &chat, outcome).map_err(|e| tag(&req.client_id, e));
                    answers[index] = Some((req.client_id, answer));
                }
                if stored {
                    live::typing_stopped(state, chat_id, &me.id);
                }
            }
            Err(StoreError::Busy) => {
                // Saturated: refuse now, quickly, rather than queue seconds deep.
                state.metrics.refused(crate::metrics::Limit::Saturated);
                refuse_each(&mut answers, accepted, &busy());
            }
            Err(e) => refuse_each(&mut answers, accepted, &Error::from(e).into_answer()),
        }
    }
    answers.into_iter().flatten().collect()
}

/// The answer to a send the server is too busy to take now (transient: the client retries).
fn busy() -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        "the server is busy; this message was not stored, send it again shortly",
    )
    .with_retry_after(1)
}

/// Whether one message of a batch may go to the store: `Ok(None)` if so, the original if it
/// is a retry of a stored message refused by the rate (a retry is not a new message), or the
/// refusal. After the first transient refusal (`limited`), every later message gets it too.
async fn admit(
    state: &AppState,
    me: &CurrentUser,
    req: &SendMessageRequest,
    limited: &mut Option<ApiError>,
) -> Result<Option<tutorchat_shared::Message>> {
    validate_client_id(&req.client_id)?;
    let refused = match limited {
        Some(refusal) => Some(refusal.clone()),
        None => match state.rate.messages.check(&me.id) {
            Ok(()) => None,
            Err(wait) => {
                let refusal = Error::rate_limited(retry_after_secs(wait)).to_api_error();
                *limited = Some(refusal.clone());
                Some(refusal)
            }
        },
    };
    if let Some(refusal) = refused {
        if let Some(original) = state
            .store
            .message_by_client_id(&me.id, &req.client_id)
            .await?
        {
            return Ok(Some(original));
        }
        state.metrics.refused(crate::metrics::Limit::Messages);
        return Err(refusal.into());
    }
    validate_message(
        req.kind,
        &req.content,
        req.attachment_id.as_ref(),
        &state.limits,
    )?;
    Ok(None)
}

/// The answer for one message's store outcome.
fn answer_of(
    state: &AppState,
    chat: &ChatRecord,
    outcome: InsertOutcome,
) -> Result<SendMessageResponse> {
    match outcome {
        InsertOutcome::Stored(message) => {
            state.metrics.message_stored();
            Ok(SendMessageResponse {
                message,
                duplicate: false,
            })
        }
        InsertOutcome::Duplicate(original) => duplicate_or_conflict(original, chat.id),
        InsertOutcome::ClientIdReused { .. } => Err(client_id_reused()),
        InsertOutcome::Refused(refusal) => Err(match refusal {
            SendRefusal::Blocked => blocked(),
            SendRefusal::NotEnrolled => Error::not_enrolled(&chat.course_id),
            SendRefusal::NotCourseTutor => not_course_tutor(&chat.tutor_id, &chat.course_id),
            SendRefusal::AttachmentUnavailable => Error::api(
                ErrorCode::AttachmentUnavailable,
                "that attachment is not your finished upload, or it was already sent",
            ),
        }),
    }
}

fn duplicate_or_conflict(
    original: tutorchat_shared::Message,
    chat_id: ChatId,
) -> Result<SendMessageResponse> {
    if original.chat_id == chat_id {
        Ok(SendMessageResponse {
            message: original,
            duplicate: true,
        })
    } else {
        Err(client_id_reused())
    }
}

fn client_id_reused() -> Error {
    Error::validation(
        "client_id",
        "this client_id was already used for a message in another chat",
    )
}

/// Moves the caller's read pointer forward (never back, never past the last message).
pub async fn mark_read(
    state: &AppState,
    me: &CurrentUser,
    chat_id: ChatId,
    req: MarkReadRequest,
) -> Result<MarkReadResponse> {
    let chat = member_chat(state, me, chat_id).await?;
    let (read, advanced) = state
        .store
        .mark_read(chat.id, &me.id, req.up_to_seq, Utc::now())
        .await?;
    if advanced {
        let frame = ServerFrame::MessageRead {
            chat_id,
            user_id: me.id.clone(),
            up_to_seq: read.up_to_seq,
            read_at: read.read_at.unwrap_or_else(Utc::now),
        };
        state
            .hub
            .send_to_users(&[&chat.student_id, &chat.tutor_id], &frame);
    }
    Ok(MarkReadResponse {
        chat_id,
        read,
        advanced,
    })
}

/// What a device's `sync` will do: the chats it named that it may catch up (with their
/// cursors), and one refusal — one audit row — for however many it named wrongly.
#[derive(Debug, Default)]
pub struct SyncPlan {
    pub known: Vec<(ChatId, u64)>,
    /// Every chat the device named, its own or not (so `chats_not_in` leaves them out).
    pub named: HashSet<ChatId>,
    pub refused: Option<Error>,
}

pub async fn sync_plan(
    state: &AppState,
    me: &CurrentUser,
    cursors: &[SyncCursor],
) -> Result<SyncPlan> {
    let mut plan = SyncPlan::default();
    let mut refused = Vec::new();
    for cursor in cursors {
        if !plan.named.insert(cursor.chat_id) {
            continue;
        }
        match find_member_chat(state, me, cursor.chat_id).await? {
            Some(chat) => plan.known.push((chat.id, cursor.after_seq)),
            None => refused.push(cursor.chat_id),
        }
    }
    if let Some(first) = refused.first() {
        let error = ApiError::new(
            ErrorCode::NotParticipant,
            format!(
                "{} of the chats named are not yours (the first is {first})",
                refused.len()
            ),
        )
        .with_chat(*first);
        let target = format!("sync:{} chats, first chat:{first}", refused.len());
        plan.refused = Some(audit::denied(state, &me.id, target, error.into()).await);
    }
    Ok(plan)
}

/// One batch of a chat's catch-up: the messages after `after_seq` (at most `--sync-batch`),
/// the read pointers, and whether more follow.
#[derive(Debug)]
pub struct CatchUpBatch {
    pub frame: ServerFrame,
    /// The highest seq in the batch (`after_seq` when it is empty).
    pub last_sent: u64,
    pub more: bool,
}

pub async fn catch_up_batch(
    state: &AppState,
    chat_id: ChatId,
    after_seq: u64,
) -> Result<CatchUpBatch> {
    let limit = state.config.sync_batch.max(1);
    let page = state
        .store
        .messages(
            chat_id,
            PageRequest::After {
                seq: after_seq,
                limit,
            },
        )
        .await?;
    let read_pointers = state.store.read_pointers(chat_id).await?;
    let last_sent = page.messages.last().map_or(after_seq, |m| m.seq);
    let more = page.has_more_after;
    Ok(CatchUpBatch {
        frame: ServerFrame::SyncBatch {
            chat_id,
            messages: page.messages,
            read_pointers,
            more,
        },
        last_sent,
        more,
    })
}

/// The caller's chats other than `known`, each as the caller sees it (a device that syncs
/// learns of chats opened while it was away).
pub async fn chats_not_in(
    state: &AppState,
    me: &CurrentUser,
    known: &HashSet<ChatId>,
) -> Result<Vec<ChatSummary>> {
    let rows = state.store.chats_of(&me.id).await?;
    Ok(rows
        .into_iter()
        .filter(|row| !known.contains(&row.chat.id))
        .map(|row| {
            state.chats.insert(row.chat.clone());
            summary(state, row)
        })
        .collect())
}

/// Tells every connection of both members about a new chat, each with their own view of it.
async fn publish_chat_created(state: &AppState, chat: &ChatRecord) -> Result<()> {
    for member in [&chat.student_id, &chat.tutor_id] {
        if let Some(row) = state.store.chat_row(chat.id, member).await? {
            let frame = ServerFrame::ChatCreated {
                chat: summary(state, row),
            };
            state.hub.send_to_users(&[member], &frame);
        }
    }
    Ok(())
}

/// A store row as the caller sees it, with presence.
pub fn summary(state: &AppState, row: ChatRow) -> ChatSummary {
    ChatSummary {
        id: row.chat.id,
        course: row.course,
        peer: Participant {
            online: state.hub.presence.is_online(&row.peer.id),
            id: row.peer.id,
            name: row.peer.name,
            role: row.peer.role,
        },
        last_message: row.last_message,
        last_seq: row.last_seq,
        unread: row.last_seq.saturating_sub(row.my_read_seq),
        my_read_seq: row.my_read_seq,
        peer_read_seq: row.peer_read_seq,
        created_at: row.chat.created_at,
        last_activity_at: row.last_activity_at,
        muted: row.muted,
        archive: row.archive,
        blocked: row.blocked,
        read_only: if !row.enrolled {
            Some(ReadOnly::EnrollmentEnded)
        } else if !row.teaching {
            Some(ReadOnly::TutorLeft)
        } else {
            None
        },
        // Only the student can buy the course again.
        purchase_url: (!row.enrolled && row.peer.role == Role::Tutor)
            .then_some(row.purchase_url)
            .flatten(),
    }
}
