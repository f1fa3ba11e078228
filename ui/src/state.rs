//! The store: everything the UI knows, changed only by [`Action`]s through
//! [`Reducible::reduce`]. The reducer is split by slice — the session, the chat list, the
//! pages of messages, live presence and typing, the last error — and each fact is stored
//! once: presence in [`State::online`], typing in [`State::typing`] (what a fetched chat list
//! says is folded into both), and the unread total is the sum over the list.
//!
//! Events from the shell are wrapped, not copied ([`Action::Event`], [`Action::from_event`]).
//! The reducer is pure: where an event means "fetch again" (`ChatsChanged`, `HistoryChanged`)
//! it bumps a version number that a hook watches, and the hook does the fetching.
//! Message-list rules (upsert by client id, ordering, receipts) live in [`crate::timeline`].

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use tutorchat_shared::api::UserProfile;
use tutorchat_shared::app::{
    AppEvent, ChatItem, ChatPage, ConnectionState, LocalMessage, SessionEndReason,
};
use tutorchat_shared::{ApiError, AttachmentId, ChatId, ClientId, CourseRef, Limits, UserId};
use yew::prelude::*;

use crate::timeline;

/// The handle components and hooks get from the context provider.
pub(crate) type Store = UseReducerHandle<State>;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct State {
    // The session.
    /// Until the shell has said whether a session can be restored.
    pub restoring: bool,
    pub user: Option<UserProfile>,
    /// Shown on the login screen (why the session ended).
    pub notice: Option<String>,
    pub connection: ConnectionState,
    /// How many connection events have arrived: an answer to "what is the connection now?"
    /// asked before the latest of them is stale and dropped (it raced an event and lost).
    pub connection_events: u64,
    /// The content limits the server published (the shared defaults until it has said).
    pub limits: Limits,

    // The chat list.
    /// Newest activity first. Presence and typing are not read from here (see `online` and
    /// `typing`); unread counts are, and their sum is the total.
    pub chats: Vec<ChatItem>,
    pub chats_loaded: bool,
    /// The chat list is being fetched.
    pub loading: bool,
    /// Bumped when the chat list must be fetched again.
    pub chats_version: u64,

    // The pages of messages.
    pub active_chat: Option<ChatId>,
    /// The messages held per chat; `Rc` so an action on one chat does not copy the others.
    pub pages: HashMap<ChatId, Rc<ChatPage>>,
    /// Bumped per chat when its page must be fetched again.
    pub history_versions: HashMap<ChatId, u64>,
    pub loading_older: HashSet<ChatId>,

    // Live.
    /// Who is online: what the lists said when fetched, then what was heard live.
    pub online: HashMap<UserId, bool>,
    /// Who is typing, per chat (never oneself).
    pub typing: HashMap<ChatId, HashSet<UserId>>,

    // Transfers.
    /// Uploads under way, by the pending message's client id: (bytes the server holds, total).
    pub uploads: HashMap<ClientId, (u64, u64)>,
    /// Downloads under way, by attachment: (bytes received, total).
    pub downloads: HashMap<AttachmentId, (u64, u64)>,
    /// Bumped per attachment when its thumbnail reaches the cache (a hook shows it then).
    pub thumbnails: HashMap<AttachmentId, u32>,

    /// The last failure worth showing.
    pub error: Option<ApiError>,
    /// A course to offer for purchase (a chat with its tutors needs it), until dismissed.
    pub upgrade: Option<UpgradeOffer>,
    /// A message to bring into view when its chat opens (a search result), until it is.
    pub focus: Option<(ChatId, u64)>,
}

/// A course the student has not bought, and where to buy it if the platform said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UpgradeOffer {
    pub course: CourseRef,
    pub purchase_url: Option<String>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            restoring: true,
            user: None,
            notice: None,
            connection: ConnectionState::Offline,
            connection_events: 0,
            limits: Limits::default(),
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
            uploads: HashMap::new(),
            downloads: HashMap::new(),
            thumbnails: HashMap::new(),
            error: None,
            upgrade: None,
            focus: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    // Session.
    SessionRestored(Option<UserProfile>),
    SignedIn(UserProfile),
    SignedOut,
    /// The shell's answer to "what is the connection now?", asked when `asked_after`
    /// connection events had arrived.
    ConnectionQueried {
        state: ConnectionState,
        asked_after: u64,
    },
    LimitsLoaded(Limits),
    // Chat list.
    ChatsRequested,
    ChatsLoaded(Vec<ChatItem>),
    /// `create_chat` answered: the chat exists (new or not).
    ChatOpened(ChatItem),
    /// A change to a chat (muted, archived) answered with the chat as now listed.
    ChatUpdated(ChatItem),
    SetActiveChat(Option<ChatId>),
    // Pages.
    PageLoaded(ChatPage),
    OlderRequested(ChatId),
    OlderLoaded(ChatPage),
    OlderFailed(ChatId, ApiError),
    // Errors.
    Failed(ApiError),
    DismissError,
    /// Offer a course for purchase; `None` dismisses the offer.
    Upgrade(Option<UpgradeOffer>),
    /// Bring this message into view when its chat shows (`None`: done).
    Focus(Option<(ChatId, u64)>),
    /// A download ended without finishing (its progress bar goes).
    DownloadFailed(AttachmentId),
    /// An event of the shell, as it came.
    Event(AppEvent),
}

impl Action {
    /// The action an event of the shell stands for. `Incoming` is for notifications (the
    /// shell shows them); its message also comes as `MessageUpserted`. `OpenChat` is
    /// navigation, not state: the shell-events hook turns it into a route.
    pub(crate) fn from_event(event: AppEvent) -> Option<Action> {
        match event {
            AppEvent::Incoming { .. } | AppEvent::OpenChat { .. } => None,
            AppEvent::UpgradeRequired {
                course,
                purchase_url,
            } => Some(Action::Upgrade(Some(UpgradeOffer {
                course,
                purchase_url,
            }))),
            event => Some(Action::Event(event)),
        }
    }

    /// A message to show now (the answer to `send`, or an event's).
    pub(crate) fn upsert(message: LocalMessage) -> Action {
        Action::Event(AppEvent::MessageUpserted { message })
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

/// Reading the store.
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

    /// Unread messages over all chats.
    pub(crate) fn unread_total(&self) -> u64 {
        // A muted chat keeps its own count but is no part of the badge.
        self.chats
            .iter()
            .filter(|c| !c.muted)
            .map(|c| c.unread)
            .sum()
    }

    /// Whether the other participant of a chat is typing.
    pub(crate) fn peer_typing(&self, id: ChatId) -> bool {
        self.typing.get(&id).is_some_and(|who| !who.is_empty())
    }

    /// Presence heard live, else what the list that showed `user` said.
    pub(crate) fn is_online(&self, user: &UserId, listed: bool) -> bool {
        self.online.get(user).copied().unwrap_or(listed)
    }

    /// Whether the other participant of a chat is online.
    pub(crate) fn peer_online(&self, id: ChatId) -> bool {
        self.chat(id)
            .is_some_and(|c| self.is_online(&c.peer.id, c.peer.online))
    }
}

/// The reducer, one function per slice.
impl State {
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
            Action::LimitsLoaded(limits) => self.limits = limits,
            Action::ConnectionQueried { state, asked_after } => {
                if asked_after == self.connection_events {
                    self.connection = state;
                }
            }
            Action::ChatsRequested => self.loading = true,
            Action::ChatsLoaded(chats) => self.chats_loaded(chats),
            Action::ChatOpened(chat) | Action::ChatUpdated(chat) => self.chat_opened(chat),
            Action::SetActiveChat(id) => self.active_chat = id,
            Action::PageLoaded(page) => self.page_loaded(page),
            Action::OlderRequested(id) => {
                self.loading_older.insert(id);
            }
            Action::OlderLoaded(page) => self.older_loaded(page),
            Action::OlderFailed(id, error) => {
                self.loading_older.remove(&id);
                self.error = Some(error);
            }
            Action::Failed(error) => self.error = Some(error),
            Action::DismissError => self.error = None,
            Action::Upgrade(offer) => self.upgrade = offer,
            Action::Focus(focus) => self.focus = focus,
            Action::DownloadFailed(id) => {
                self.downloads.remove(&id);
            }
            Action::Event(event) => self.event(event),
        }
    }

    fn event(&mut self, event: AppEvent) {
        match event {
            AppEvent::MessageUpserted { message } => {
                // Uploaded (or failed): its progress is over.
                let uploading = message.state == tutorchat_shared::app::DeliveryState::Pending
                    && message.attachment.as_ref().is_some_and(|a| a.id.is_none());
                if !uploading {
                    self.uploads.remove(&message.client_id);
                }
                self.message_upserted(message)
            }
            AppEvent::UploadProgress {
                client_id,
                sent,
                total,
                ..
            } => {
                self.uploads.insert(client_id, (sent, total));
            }
            AppEvent::DownloadProgress {
                attachment_id,
                received,
                total,
            } => {
                if received >= total {
                    self.downloads.remove(&attachment_id);
                } else {
                    self.downloads.insert(attachment_id, (received, total));
                }
            }
            AppEvent::ThumbnailReady { attachment_id, .. } => {
                *self.thumbnails.entry(attachment_id).or_default() += 1;
            }
            AppEvent::MessageDiscarded { chat_id, client_id } => {
                self.message_discarded(chat_id, &client_id)
            }
            AppEvent::ChatsChanged => self.chats_version += 1,
            AppEvent::HistoryChanged { chat_id } => self.history_changed(chat_id),
            // The total is the list's sum: only the chat's own count is kept.
            AppEvent::UnreadChanged {
                chat_id, unread, ..
            } => {
                if let Some(chat) = self.chats.iter_mut().find(|c| c.id == chat_id) {
                    chat.unread = unread;
                }
            }
            AppEvent::ReadReceipt {
                chat_id,
                user_id,
                up_to_seq,
            } => self.read_receipt(chat_id, &user_id, up_to_seq),
            AppEvent::Presence { user_id, online } => {
                self.online.insert(user_id, online);
            }
            AppEvent::Typing {
                chat_id,
                user_id,
                typing,
            } => self.typing(chat_id, user_id, typing),
            AppEvent::Connection { state } => {
                self.connection = state;
                self.connection_events += 1;
            }
            AppEvent::SessionEnded { reason } => self.sign_out(match reason {
                SessionEndReason::SignedOut => None,
                SessionEndReason::Expired => {
                    Some("Your session has ended. Please sign in again.".to_owned())
                }
            }),
            AppEvent::Incoming { .. }
            | AppEvent::OpenChat { .. }
            | AppEvent::UpgradeRequired { .. } => {}
        }
    }

    // The session.

    fn sign_in(&mut self, user: UserProfile) {
        let switched = self.me() != Some(&user.id);
        if switched {
            *self = State {
                restoring: false,
                connection: self.connection,
                connection_events: self.connection_events,
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
            connection_events: self.connection_events,
            ..State::default()
        };
    }

    // The chat list.

    fn chats_loaded(&mut self, mut chats: Vec<ChatItem>) {
        chats.sort_by_key(|c| std::cmp::Reverse(c.last_activity_at));
        for chat in &chats {
            self.online.insert(chat.peer.id.clone(), chat.peer.online);
            self.typing(chat.id, chat.peer.id.clone(), chat.peer_typing);
        }
        self.chats = chats;
        self.chats_loaded = true;
        self.loading = false;
    }

    fn chat_opened(&mut self, chat: ChatItem) {
        self.online.insert(chat.peer.id.clone(), chat.peer.online);
        match self.chats.iter_mut().find(|c| c.id == chat.id) {
            Some(slot) => *slot = chat,
            None => self.chats.insert(0, chat),
        }
    }

    // The pages of messages.

    fn page_loaded(&mut self, page: ChatPage) {
        match self.pages.get_mut(&page.chat_id) {
            Some(held) => timeline::merge_newest(Rc::make_mut(held), page),
            None => {
                self.pages.insert(page.chat_id, Rc::new(page));
            }
        }
    }

    fn older_loaded(&mut self, page: ChatPage) {
        self.loading_older.remove(&page.chat_id);
        match self.pages.get_mut(&page.chat_id) {
            Some(held) => timeline::merge_older(Rc::make_mut(held), page),
            None => {
                self.pages.insert(page.chat_id, Rc::new(page));
            }
        }
    }

    fn message_upserted(&mut self, message: LocalMessage) {
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

    fn message_discarded(&mut self, chat_id: ChatId, client_id: &ClientId) {
        if let Some(page) = self.pages.get_mut(&chat_id) {
            timeline::discard(&mut Rc::make_mut(page).messages, client_id);
        }
    }

    fn history_changed(&mut self, id: ChatId) {
        *self.history_versions.entry(id).or_default() += 1;
        if self.active_chat != Some(id) {
            // Not on screen: drop it, so opening it fetches it whole.
            self.pages.remove(&id);
        }
    }

    fn read_receipt(&mut self, chat_id: ChatId, user_id: &UserId, up_to_seq: u64) {
        let Some(me) = self.me().cloned() else {
            return;
        };
        if user_id == &me {
            // My own pointer moved (another device): unread counts come separately.
            return;
        }
        if let Some(page) = self.pages.get_mut(&chat_id) {
            let covers_mine = page.messages.iter().any(|m| {
                m.sender_id == me
                    && m.seq
                        .is_some_and(|s| tutorchat_shared::model::is_read(s, up_to_seq))
            });
            if covers_mine {
                timeline::apply_read_receipt(&mut Rc::make_mut(page).messages, &me, up_to_seq);
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

    // Live.

    fn typing(&mut self, chat_id: ChatId, user_id: UserId, typing: bool) {
        if self.me() == Some(&user_id) {
            return;
        }
        let who = self.typing.entry(chat_id).or_default();
        if typing {
            who.insert(user_id);
        } else {
            who.remove(&user_id);
        }
    }
}

#[cfg(test)]
mod tests;
