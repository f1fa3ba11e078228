//! The store: everything the UI knows, changed only by [`Action`]s through
//! [`Reducible::reduce`]. A chat "slice" in the Redux sense — chats, the active chat, messages
//! by chat, presence, typing, loading flags, the last error, the connection and the user.
//!
//! Events from the shell become actions one to one ([`Action::from_event`]). The reducer is
//! pure: where an event means "fetch again" (`ChatsChanged`, `HistoryChanged`) it bumps a
//! version number that a hook watches, and the hook does the fetching. Message-list rules
//! (upsert by client id, ordering, receipts) live in [`crate::timeline`].

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use tutorchat_shared::api::UserProfile;
use tutorchat_shared::app::{
    AppEvent, ChatItem, ChatPage, ConnectionState, LocalMessage, SessionEndReason,
};
use tutorchat_shared::{ApiError, ChatId, ClientId, UserId};
use yew::prelude::*;

use crate::timeline;

/// The handle components and hooks get from the context provider.
pub(crate) type Store = UseReducerHandle<State>;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct State {
    /// Until the shell has said whether a session can be restored.
    pub restoring: bool,
    pub user: Option<UserProfile>,
    /// Shown on the login screen (why the session ended).
    pub notice: Option<String>,
    /// Newest activity first.
    pub chats: Vec<ChatItem>,
    pub chats_loaded: bool,
    /// The chat list is being fetched.
    pub loading: bool,
    /// Bumped when the chat list must be fetched again.
    pub chats_version: u64,
    pub active_chat: Option<ChatId>,
    /// The messages held per chat; `Rc` so an action on one chat does not copy the others.
    pub pages: HashMap<ChatId, Rc<ChatPage>>,
    /// Bumped per chat when its page must be fetched again.
    pub history_versions: HashMap<ChatId, u64>,
    pub loading_older: HashSet<ChatId>,
    /// Presence heard since the lists were fetched.
    pub online: HashMap<UserId, bool>,
    /// Who is typing, per chat (never oneself).
    pub typing: HashMap<ChatId, HashSet<UserId>>,
    /// The last failure worth showing.
    pub error: Option<ApiError>,
    pub connection: ConnectionState,
    pub unread_total: u64,
}

impl Default for State {
    fn default() -> Self {
        Self {
            restoring: true,
            user: None,
            notice: None,
            chats: Vec::new(),
            chats_loaded: false,
            loading: false,
            chats_version: 0,
            active_chat: None,
            pages: HashMap::new(),
            history_versions: HashMap::new(),
            loading_older: HashSet::new(),
            online: HashMap::new(),
            typing: HashMap::new(),
            error: None,
            connection: ConnectionState::Offline,
            unread_total: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    // Session.
    SessionRestored(Option<UserProfile>),
    SignedIn(UserProfile),
    SignedOut,
    // Chat list.
    ChatsRequested,
    ChatsLoaded(Vec<ChatItem>),
    /// `create_chat` answered: the chat exists (new or not).
    ChatOpened(ChatItem),
    SetActiveChat(Option<ChatId>),
    // Pages.
    PageLoaded(ChatPage),
    OlderRequested(ChatId),
    OlderLoaded(ChatPage),
    OlderFailed(ChatId, ApiError),
    // Errors.
    Failed(ApiError),
    DismissError,
    // The shell's events.
    MessageUpserted(LocalMessage),
    MessageDiscarded {
        chat_id: ChatId,
        client_id: ClientId,
    },
    ChatsChanged,
    HistoryChanged(ChatId),
    UnreadChanged {
        chat_id: ChatId,
        unread: u64,
        total: u64,
    },
    ReadReceipt {
        chat_id: ChatId,
        user_id: UserId,
        up_to_seq: u64,
    },
    Presence {
        user_id: UserId,
        online: bool,
    },
    Typing {
        chat_id: ChatId,
        user_id: UserId,
        typing: bool,
    },
    Connection(ConnectionState),
    SessionEnded(SessionEndReason),
}

impl Action {
    /// The action an event of the shell stands for. `Incoming` is for notifications (the
    /// shell shows them); its message also comes as `MessageUpserted`. `OpenChat` is
    /// navigation, not state: the shell-events hook turns it into a route.
    pub(crate) fn from_event(event: AppEvent) -> Option<Action> {
        Some(match event {
            AppEvent::MessageUpserted { message } => Action::MessageUpserted(message),
            AppEvent::MessageDiscarded { chat_id, client_id } => {
                Action::MessageDiscarded { chat_id, client_id }
            }
            AppEvent::ChatsChanged => Action::ChatsChanged,
            AppEvent::HistoryChanged { chat_id } => Action::HistoryChanged(chat_id),
            AppEvent::UnreadChanged {
                chat_id,
                unread,
                total,
            } => Action::UnreadChanged {
                chat_id,
                unread,
                total,
            },
            AppEvent::Incoming { .. } => return None,
            AppEvent::ReadReceipt {
                chat_id,
                user_id,
                up_to_seq,
            } => Action::ReadReceipt {
                chat_id,
                user_id,
                up_to_seq,
            },
            AppEvent::Presence { user_id, online } => Action::Presence { user_id, online },
            AppEvent::Typing {
                chat_id,
                user_id,
                typing,
            } => Action::Typing {
                chat_id,
                user_id,
                typing,
            },
            AppEvent::Connection { state } => Action::Connection(state),
            AppEvent::SessionEnded { reason } => Action::SessionEnded(reason),
            AppEvent::OpenChat { .. } => return None,
        })
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = Rc::unwrap_or_clone(self);
        next.apply(action);
        Rc::new(next)
    }
}

impl State {
    /// The signed-in user's id.
    pub(crate) fn me(&self) -> Option<&UserId> {
        self.user.as_ref().map(|u| &u.id)
    }

    pub(crate) fn chat(&self, id: ChatId) -> Option<&ChatItem> {
        self.chats.iter().find(|c| c.id == id)
    }

    pub(crate) fn page(&self, id: ChatId) -> Option<&Rc<ChatPage>> {
        self.pages.get(&id)
    }

    pub(crate) fn history_version(&self, id: ChatId) -> u64 {
        self.history_versions.get(&id).copied().unwrap_or(0)
    }

    /// Whether the other participant of a chat is typing.
    pub(crate) fn peer_typing(&self, id: ChatId) -> bool {
        self.chat(id).is_some_and(|c| c.peer_typing)
            || self.typing.get(&id).is_some_and(|who| !who.is_empty())
    }

    /// Presence heard live, else what the list that showed `user` said.
    pub(crate) fn is_online(&self, user: &UserId, listed: bool) -> bool {
        self.online.get(user).copied().unwrap_or(listed)
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::SessionRestored(user) => {
                self.restoring = false;
                if let Some(user) = user {
                    self.sign_in(user);
                }
            }
            Action::SignedIn(user) => self.sign_in(user),
            Action::SignedOut => self.sign_out(None),
            Action::SessionEnded(reason) => self.sign_out(match reason {
                SessionEndReason::SignedOut => None,
                SessionEndReason::Expired => {
                    Some("Your session has ended. Please sign in again.".to_owned())
                }
            }),

            Action::ChatsRequested => self.loading = true,
            Action::ChatsLoaded(mut chats) => {
                chats.sort_by_key(|c| std::cmp::Reverse(c.last_activity_at));
                for chat in &chats {
                    self.online.insert(chat.peer.id.clone(), chat.peer.online);
                }
                self.unread_total = chats.iter().map(|c| c.unread).sum();
                self.chats = chats;
                self.chats_loaded = true;
                self.loading = false;
            }
            Action::ChatOpened(chat) => {
                match self.chats.iter_mut().find(|c| c.id == chat.id) {
                    Some(slot) => *slot = chat,
                    None => self.chats.insert(0, chat),
                }
                self.unread_total = self.chats.iter().map(|c| c.unread).sum();
            }
            Action::SetActiveChat(id) => self.active_chat = id,

            Action::PageLoaded(page) => match self.pages.get_mut(&page.chat_id) {
                Some(held) => timeline::merge_newest(Rc::make_mut(held), page),
                None => {
                    self.pages.insert(page.chat_id, Rc::new(page));
                }
            },
            Action::OlderRequested(id) => {
                self.loading_older.insert(id);
            }
            Action::OlderLoaded(page) => {
                self.loading_older.remove(&page.chat_id);
                match self.pages.get_mut(&page.chat_id) {
                    Some(held) => timeline::merge_older(Rc::make_mut(held), page),
                    None => {
                        self.pages.insert(page.chat_id, Rc::new(page));
                    }
                }
            }
            Action::OlderFailed(id, error) => {
                self.loading_older.remove(&id);
                self.error = Some(error);
            }

            Action::Failed(error) => self.error = Some(error),
            Action::DismissError => self.error = None,

            Action::MessageUpserted(message) => {
                if let Some(chat) = self.chats.iter_mut().find(|c| c.id == message.chat_id) {
                    let same = chat.last_message.as_ref().is_some_and(|last| {
                        last.client_id == message.client_id && last.sender_id == message.sender_id
                    });
                    if same {
                        chat.last_message = Some(message.clone());
                    }
                }
                if let Some(page) = self.pages.get_mut(&message.chat_id) {
                    timeline::upsert(&mut Rc::make_mut(page).messages, message);
                }
            }
            Action::MessageDiscarded { chat_id, client_id } => {
                if let Some(page) = self.pages.get_mut(&chat_id) {
                    timeline::discard(&mut Rc::make_mut(page).messages, &client_id);
                }
            }
            Action::ChatsChanged => self.chats_version += 1,
            Action::HistoryChanged(id) => {
                *self.history_versions.entry(id).or_default() += 1;
                if self.active_chat != Some(id) {
                    // Not on screen: drop it, so opening it fetches it whole.
                    self.pages.remove(&id);
                }
            }
            Action::UnreadChanged {
                chat_id,
                unread,
                total,
            } => {
                if let Some(chat) = self.chats.iter_mut().find(|c| c.id == chat_id) {
                    chat.unread = unread;
                }
                self.unread_total = total;
            }
            Action::ReadReceipt {
                chat_id,
                user_id,
                up_to_seq,
            } => {
                let Some(me) = self.user.as_ref().map(|u| u.id.clone()) else {
                    return;
                };
                if user_id == me {
                    // My own pointer moved (another device): unread counts come separately.
                    return;
                }
                if let Some(page) = self.pages.get_mut(&chat_id) {
                    if page
                        .messages
                        .iter()
                        .any(|m| m.seq.is_some_and(|s| s <= up_to_seq) && m.sender_id == me)
                    {
                        timeline::apply_read_receipt(
                            &mut Rc::make_mut(page).messages,
                            &me,
                            up_to_seq,
                        );
                    }
                }
                if let Some(last) = self
                    .chats
                    .iter_mut()
                    .find(|c| c.id == chat_id)
                    .and_then(|c| c.last_message.as_mut())
                {
                    timeline::mark_read_if_covered(last, &me, up_to_seq);
                }
            }
            Action::Presence { user_id, online } => {
                for chat in self.chats.iter_mut().filter(|c| c.peer.id == user_id) {
                    chat.peer.online = online;
                }
                self.online.insert(user_id, online);
            }
            Action::Typing {
                chat_id,
                user_id,
                typing,
            } => {
                if self.me() == Some(&user_id) {
                    return;
                }
                if let Some(chat) = self
                    .chats
                    .iter_mut()
                    .find(|c| c.id == chat_id && c.peer.id == user_id)
                {
                    chat.peer_typing = typing;
                }
                let who = self.typing.entry(chat_id).or_default();
                if typing {
                    who.insert(user_id);
                } else {
                    who.remove(&user_id);
                }
            }
            Action::Connection(state) => self.connection = state,
        }
    }

    fn sign_in(&mut self, user: UserProfile) {
        let switched = self.me() != Some(&user.id);
        if switched {
            *self = State {
                restoring: false,
                connection: self.connection,
                ..State::default()
            };
        }
        self.user = Some(user);
        self.notice = None;
        self.error = None;
    }

    fn sign_out(&mut self, notice: Option<String>) {
        *self = State {
            restoring: false,
            notice,
            ..State::default()
        };
    }
}

#[cfg(test)]
mod tests;
