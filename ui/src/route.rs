//! Screens as URL hashes, so the shell can deep-link (`#/chat/42`) and Back works.
//!
//! `#/tutors` (a student's home), `#/students` (a tutor's home), `#/chats`, `#/chat/<id>`,
//! `#/search` (all chats) and `#/search/<id>` (one chat), `#/settings`. Anything else is
//! [`Route::Home`], which the app resolves by role.

use tutorchat_shared::{ChatId, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Home,
    Tutors,
    Students,
    Chats,
    Chat(ChatId),
    /// Search the cached history of every chat, or of one.
    Search(Option<ChatId>),
    Settings,
}

fn chat_id(s: &str) -> Option<ChatId> {
    s.parse::<i64>().ok().filter(|id| *id > 0).map(ChatId)
}

impl Route {
    /// Parses `location.hash` (with or without the leading `#`).
    pub(crate) fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#').trim_start_matches('/');
        let mut parts = path.split('/').filter(|p| !p.is_empty());
        match (parts.next(), parts.next(), parts.next()) {
            (Some("tutors"), None, _) => Route::Tutors,
            (Some("students"), None, _) => Route::Students,
            (Some("chats"), None, _) => Route::Chats,
            (Some("settings"), None, _) => Route::Settings,
            (Some("search"), None, _) => Route::Search(None),
            (Some("chat"), Some(id), None) => match chat_id(id) {
                Some(id) => Route::Chat(id),
                None => Route::Home,
            },
            (Some("search"), Some(id), None) => match chat_id(id) {
                Some(id) => Route::Search(Some(id)),
                None => Route::Home,
            },
            _ => Route::Home,
        }
    }

    pub(crate) fn to_hash(self) -> String {
        match self {
            Route::Home => "#/".to_owned(),
            Route::Tutors => "#/tutors".to_owned(),
            Route::Students => "#/students".to_owned(),
            Route::Chats => "#/chats".to_owned(),
            Route::Chat(id) => format!("#/chat/{id}"),
            Route::Search(None) => "#/search".to_owned(),
            Route::Search(Some(id)) => format!("#/search/{id}"),
            Route::Settings => "#/settings".to_owned(),
        }
    }

    /// Where this route really goes for a user of `role`: each role's home, and no other
    /// role's list.
    pub(crate) fn resolve(self, role: Role) -> Route {
        match (self, role) {
            (Route::Home | Route::Students, Role::Student) => Route::Tutors,
            (Route::Home | Route::Tutors, Role::Tutor) => Route::Students,
            (Route::Home | Route::Tutors | Route::Students, Role::Admin) => Route::Chats,
            (route, _) => route,
        }
    }

    /// The chat this screen shows, if any.
    pub(crate) fn chat(self) -> Option<ChatId> {
        match self {
            Route::Chat(id) => Some(id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_links_open_a_chat() {
        assert_eq!(Route::parse("#/chat/42"), Route::Chat(ChatId(42)));
        assert_eq!(Route::parse("#/chat/42/"), Route::Chat(ChatId(42)));
        assert_eq!(Route::parse("/chat/7"), Route::Chat(ChatId(7)));
    }

    #[test]
    fn bad_hashes_go_home() {
        for hash in [
            "",
            "#",
            "#/",
            "#/chat",
            "#/chat/x",
            "#/chat/-1",
            "#/nope",
            "#/chat/1/2",
            "#/search/x",
            "#/settings/1",
        ] {
            assert_eq!(Route::parse(hash), Route::Home, "{hash:?}");
        }
    }

    #[test]
    fn each_role_lands_on_its_own_home() {
        assert_eq!(Route::Home.resolve(Role::Student), Route::Tutors);
        assert_eq!(Route::Students.resolve(Role::Student), Route::Tutors);
        assert_eq!(Route::Home.resolve(Role::Tutor), Route::Students);
        assert_eq!(Route::Tutors.resolve(Role::Tutor), Route::Students);
        assert_eq!(Route::Home.resolve(Role::Admin), Route::Chats);
        let chat = Route::Chat(ChatId(3));
        for role in [Role::Student, Role::Tutor, Role::Admin] {
            assert_eq!(chat.resolve(role), chat);
            assert_eq!(Route::Chats.resolve(role), Route::Chats);
        }
    }

    #[test]
    fn every_route_round_trips() {
        for route in [
            Route::Home,
            Route::Tutors,
            Route::Students,
            Route::Chats,
            Route::Chat(ChatId(9)),
            Route::Search(None),
            Route::Search(Some(ChatId(9))),
            Route::Settings,
        ] {
            assert_eq!(Route::parse(&route.to_hash()), route);
        }
    }
}
