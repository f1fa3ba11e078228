//! Who may see and write in which chat: membership (the same answer for "no such chat" and
//! "not yours"), the course-enrollment gate, and whether a member may still write (not blocked,
//! still enrolled or teaching). Every service that touches a chat asks here first; this module
//! asks only the store and the audit log.

use tutorchat_shared::{ApiError, ChatId, CourseId, ErrorCode, Role, UserId};

use crate::auth::CurrentUser;
use crate::error::{Error, Result};
use crate::service::audit;
use crate::state::AppState;
use crate::store::ChatRecord;

/// The chat, if the caller is one of its two members. A chat that does not exist gets the
/// same answer as one the caller is not in, so ids cannot be probed.
pub async fn member_chat(
    state: &AppState,
    me: &CurrentUser,
    chat_id: ChatId,
) -> Result<ChatRecord> {
    match find_member_chat(state, me, chat_id).await? {
        Some(chat) => Ok(chat),
        None => Err(not_participant(state, me, chat_id).await),
    }
}

/// The audited refusal for a chat that does not exist or is not the caller's (one answer for
/// both, so ids cannot be probed).
pub async fn not_participant(state: &AppState, me: &CurrentUser, chat_id: ChatId) -> Error {
    audit::denied(
        state,
        &me.id,
        chat_target(chat_id),
        Error::not_participant(chat_id),
    )
    .await
}

/// The chat if the caller is a member, without auditing a refusal: for callers that report
/// many refusals as one (a `sync` naming many chats).
pub async fn find_member_chat(
    state: &AppState,
    me: &CurrentUser,
    chat_id: ChatId,
) -> Result<Option<ChatRecord>> {
    let chat = match state.chats.get(chat_id) {
        Some(chat) => Some(chat),
        None => {
            let found = state.store.chat(chat_id).await?;
            if let Some(chat) = &found {
                state.chats.insert(chat.clone());
            }
            found
        }
    };
    Ok(chat.filter(|chat| chat.has_member(&me.id)))
}

/// The enrollment gate: the student holds the course and the tutor teaches it. The caller's
/// own side is checked first, so a refusal never tells a caller without a right to the course
/// anything about the other person (a tutor probing another tutor's course learns only that
/// they do not teach it, not who bought it).
pub async fn gate(
    state: &AppState,
    course: &CourseId,
    student: &UserId,
    tutor: &UserId,
    caller: Role,
) -> Result<()> {
    if caller == Role::Tutor {
        tutor_side(state, course, tutor).await?;
        student_side(state, course, student).await
    } else {
        student_side(state, course, student).await?;
        tutor_side(state, course, tutor).await
    }
}

async fn student_side(state: &AppState, course: &CourseId, student: &UserId) -> Result<()> {
    if state.store.is_enrolled(student, course).await? {
        Ok(())
    } else {
        Err(not_enrolled(state, course).await)
    }
}

/// `not_enrolled` with the offer: the course's title and where to buy it, when the platform
/// provisioned the address.
async fn not_enrolled(state: &AppState, course: &CourseId) -> Error {
    let offer = async {
        let title = state.store.course(course).await?.map(|c| c.title);
        let url = state.store.purchase_url(course).await?;
        Ok::<_, crate::store::StoreError>((title, url))
    };
    let (title, url) = offer.await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, %course, "could not read the course's offer");
        (None, None)
    });
    Error::not_enrolled(course).map_api(|api| api.with_offer(title, url))
}

async fn tutor_side(state: &AppState, course: &CourseId, tutor: &UserId) -> Result<()> {
    if state.store.teaches(tutor, course).await? {
        Ok(())
    } else {
        Err(not_course_tutor(tutor, course))
    }
}

/// Whether `me` may still write in `chat` — not blocked by the other member, still enrolled
/// (a student) or still teaching the course (a tutor) — for live signals such as typing. A
/// send checks the same inside its insert transaction.
pub async fn may_write(state: &AppState, me: &CurrentUser, chat: &ChatRecord) -> Result<()> {
    let peer = chat.peer_of(&me.id).unwrap_or(&me.id);
    if state.store.is_blocked(peer, &me.id).await? {
        return Err(blocked());
    }
    if me.id == chat.student_id {
        student_side(state, &chat.course_id, &me.id).await
    } else {
        tutor_side(state, &chat.course_id, &me.id).await
    }
}

pub(crate) fn not_course_tutor(tutor: &UserId, course: &CourseId) -> Error {
    ApiError::new(
        ErrorCode::NotCourseTutor,
        format!("{tutor} does not teach course {course}"),
    )
    .with_course(course.clone())
    .into()
}

pub(crate) fn blocked() -> Error {
    Error::api(ErrorCode::Blocked, "you cannot message this user")
}

pub(crate) fn chat_target(chat_id: ChatId) -> String {
    format!("chat:{chat_id}")
}
