//! The screens, composed from components: login, a student's tutors, a tutor's students,
//! the chats (list and conversation side by side, or one at a time when narrow), search over
//! the cached history, and settings.

mod chats;
mod login;
mod search;
mod settings;
mod students;
mod tutors;

pub(crate) use chats::ChatsPage;
pub(crate) use login::LoginPage;
pub(crate) use search::SearchPage;
pub(crate) use settings::SettingsPage;
pub(crate) use students::StudentsPage;
pub(crate) use tutors::TutorsPage;
