//! Who a user may chat with, grouped by course, and blocking.

use tutorchat_shared::api::{AuditAction, BlockStatus, Contact, ContactsByCourse, CourseContacts};
use tutorchat_shared::{CourseId, ErrorCode, Role, UserId};

use crate::auth::CurrentUser;
use crate::error::{Error, Result};
use crate::service::{audit, chat_settings};
use crate::state::AppState;
use crate::store::ContactRow;

/// The tutors of the student's purchased courses.
pub async fn available_tutors(state: &AppState, me: &CurrentUser) -> Result<ContactsByCourse> {
    me.require(Role::Student)?;
    let rows = state.store.tutors_of_student(&me.id).await?;
    Ok(group(state, rows))
}

/// The students of the tutor's courses, optionally of one of them.
pub async fn students(
    state: &AppState,
    me: &CurrentUser,
    course: Option<CourseId>,
) -> Result<ContactsByCourse> {
    me.require(Role::Tutor)?;
    if let Some(course) = &course {
        if !state.store.teaches(&me.id, course).await? {
            return Err(Error::api(
                ErrorCode::NotCourseTutor,
                format!("you do not teach course {course}"),
            ));
        }
    }
    let rows = state
        .store
        .students_of_tutor(&me.id, course.as_ref())
        .await?;
    Ok(group(state, rows))
}

/// Groups rows (already ordered by course) into one entry per course.
fn group(state: &AppState, rows: Vec<ContactRow>) -> ContactsByCourse {
    let mut courses: Vec<CourseContacts> = Vec::new();
    for row in rows {
        let contact = Contact {
            online: state.hub.presence.is_online(&row.person.id),
            id: row.person.id,
            name: row.person.name,
            role: row.person.role,
            chat_id: row.chat_id,
        };
        match courses.last_mut() {
            Some(last) if last.course.id == row.course.id => last.contacts.push(contact),
            _ => courses.push(CourseContacts {
                course: row.course,
                contacts: vec![contact],
            }),
        }
    }
    ContactsByCourse { courses }
}

/// Blocks or unblocks `other`. Blocking needs a relation (a chat, or a course in common), so
/// the endpoint cannot be used to find out which user ids exist; unblocking always answers.
pub async fn set_block(
    state: &AppState,
    me: &CurrentUser,
    other: UserId,
    on: bool,
) -> Result<BlockStatus> {
    if other == me.id {
        return Err(Error::validation("user_id", "you cannot block yourself"));
    }
    if on && !related(state, me, &other).await? {
        return Err(Error::not_found(format!("user {other}")));
    }
    let changed = state.store.set_block(&me.id, &other, on).await?;
    if changed {
        let action = if on {
            AuditAction::UserBlocked
        } else {
            AuditAction::UserUnblocked
        };
        audit::record(
            state,
            action,
            Some(&me.id),
            Some(format!("user:{other}")),
            None,
            None,
        )
        .await;
        // Every device of the blocker shows the chats with them as blocked (or not) now.
        for row in state.store.chats_of(&me.id).await? {
            if row.peer.id == other {
                chat_settings::publish_chat_updated(state, row.chat.id, &me.id).await?;
            }
        }
    }
    Ok(BlockStatus {
        user_id: other,
        blocked: on,
    })
}

async fn related(state: &AppState, me: &CurrentUser, other: &UserId) -> Result<bool> {
    let chats = state.store.chats_of(&me.id).await?;
    if chats.iter().any(|row| &row.peer.id == other) {
        return Ok(true);
    }
    let contacts = match me.role {
        Role::Student => state.store.tutors_of_student(&me.id).await?,
        Role::Tutor => state.store.students_of_tutor(&me.id, None).await?,
        Role::Admin => Vec::new(),
    };
    Ok(contacts.iter().any(|c| &c.person.id == other))
}
