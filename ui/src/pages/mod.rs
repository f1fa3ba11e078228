//! The screens, composed from components: login, a student's tutors, a tutor's students,
//! and the chats (list and conversation side by side, or one at a time when narrow).

mod chats;
mod login;
mod students;
mod tutors;

pub(crate) use chats::ChatsPage;
pub(crate) use login::LoginPage;
pub(crate) use students::StudentsPage;
pub(crate) use tutors::TutorsPage;
