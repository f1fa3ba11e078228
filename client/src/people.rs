//! People: the contacts a user may chat with (a student's tutors, a tutor's students, by
//! course), opening a chat with one of them, and blocking.

use reqwest::Method;
use tutorchat_shared::api::{BlockStatus, ContactsByCourse, CreateChatRequest, CreateChatResponse};
use tutorchat_shared::app::{AppEvent, ChatItem};
use tutorchat_shared::{CourseId, Role, UserId};

use crate::cache::chats;
use crate::error::{ClientError, Result};
use crate::Client;

impl Client {
    /// A student's tutors, by purchased course.
    pub async fn available_tutors(&self) -> Result<ContactsByCourse> {
        let account = self.account().await?;
        account
            .session
            .call(
                Method::GET,
                account.session.url(&["api", "users", "available-tutors"]),
                None::<&()>,
            )
            .await
    }

    /// A tutor's students, by course (optionally one course).
    pub async fn students(&self, course: Option<&CourseId>) -> Result<ContactsByCourse> {
        let account = self.account().await?;
        let mut url = account.session.url(&["api", "tutors", "students"]);
        if let Some(course) = course {
            url.query_pairs_mut()
                .append_pair("course_id", course.as_str());
        }
        account.session.call(Method::GET, url, None::<&()>).await
    }

    /// Opens (or finds) the chat with `with` in `course`. A course the student has not bought
    /// is refused with `not_enrolled` and the course id (see [`ClientError::api`]).
    pub async fn create_chat(&self, course: &CourseId, with: &UserId) -> Result<ChatItem> {
        let account = self.account().await?;
        let student = account.session.user.role == Role::Student;
        let request = CreateChatRequest {
            course_id: course.clone(),
            tutor_id: student.then(|| with.clone()),
            student_id: (!student).then(|| with.clone()),
        };
        let created: CreateChatResponse = account
            .session
            .call(
                Method::POST,
                account.session.url(&["api", "chats"]),
                Some(&request),
            )
            .await?;
        let id = created.chat.id;
        account
            .live
            .set_online(&created.chat.peer.id, created.chat.peer.online);
        account
            .cache
            .call(move |c| chats::upsert_summary(c, &created.chat))
            .await?;
        account.emit(AppEvent::ChatsChanged);
        self.chats()
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(ClientError::ChatVanished(id))
    }

    pub async fn block(&self, user: &UserId, blocked: bool) -> Result<BlockStatus> {
        let account = self.account().await?;
        let url = account
            .session
            .url(&["api", "users", user.as_str(), "block"]);
        let method = if blocked {
            Method::POST
        } else {
            Method::DELETE
        };
        let status: BlockStatus = account.session.call(method, url, None::<&()>).await?;
        // The chats with them show it now (the server also tells the other devices).
        crate::engine::refresh_chat_list(&account).await?;
        Ok(status)
    }
}
