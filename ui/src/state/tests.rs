//! The reducer's behaviour, one event or action sequence per test.

use tutorchat_shared::app::DeliveryState;

use super::*;
use crate::testing::{chat, me, message, own, page, pending, CHAT, ME, PEER};

fn signed_in() -> Rc<State> {
    Rc::new(State::default()).reduce(Action::SessionRestored(Some(me())))
}

fn reduce_all(state: Rc<State>, actions: impl IntoIterator<Item = Action>) -> Rc<State> {
    actions.into_iter().fold(state, State::reduce)
}

fn states(state: &State) -> Vec<(Option<u64>, DeliveryState)> {
    state.pages[&CHAT]
        .messages
        .iter()
        .map(|m| (m.seq, m.state))
        .collect()
}

#[test]
fn a_pending_echo_becomes_sent_then_read_without_duplicates() {
    let state = reduce_all(
        signed_in(),
        [
            Action::PageLoaded(page(vec![message(1, "a", PEER)], false)),
            Action::upsert(pending("mine", 5)),
            Action::upsert(pending("mine", 5)),
        ],
    );
    assert_eq!(
        states(&state),
        [
            (Some(1), DeliveryState::Sent),
            (None, DeliveryState::Pending)
        ]
    );
    let state = reduce_all(
        state,
        [
            Action::upsert(own(2, "mine")),
            Action::Event(AppEvent::ReadReceipt {
                chat_id: CHAT,
                user_id: UserId::new(PEER),
                up_to_seq: 2,
            }),
        ],
    );
    assert_eq!(
        states(&state),
        [
            (Some(1), DeliveryState::Sent),
            (Some(2), DeliveryState::Read)
        ]
    );
}

#[test]
fn new_messages_keep_seq_order_with_pending_ones_last() {
    let state = reduce_all(
        signed_in(),
        [
            Action::PageLoaded(page(vec![message(1, "a", PEER)], false)),
            Action::upsert(pending("p", 5)),
            Action::upsert(message(2, "b", PEER)),
        ],
    );
    let order: Vec<_> = state.pages[&CHAT]
        .messages
        .iter()
        .map(|m| m.client_id.as_str())
        .collect();
    assert_eq!(order, ["a", "b", "p"]);
}

#[test]
fn my_own_read_pointer_does_not_mark_my_messages_read() {
    let state = reduce_all(
        signed_in(),
        [
            Action::PageLoaded(page(vec![own(1, "a")], false)),
            Action::Event(AppEvent::ReadReceipt {
                chat_id: CHAT,
                user_id: UserId::new(ME),
                up_to_seq: 1,
            }),
        ],
    );
    assert_eq!(states(&state), [(Some(1), DeliveryState::Sent)]);
}

#[test]
fn a_read_receipt_also_reaches_the_chat_lists_last_message() {
    let mut item = chat(1, PEER, 0);
    item.last_message = Some(own(3, "c"));
    let state = reduce_all(
        signed_in(),
        [
            Action::ChatsLoaded(vec![item]),
            Action::Event(AppEvent::ReadReceipt {
                chat_id: CHAT,
                user_id: UserId::new(PEER),
                up_to_seq: 3,
            }),
        ],
    );
    let last = state.chats[0]
        .last_message
        .as_ref()
        .expect("a last message");
    assert_eq!(last.state, DeliveryState::Read);
}

#[test]
fn discard_removes_the_failed_message() {
    let mut failed = pending("f", 5);
    failed.state = DeliveryState::Failed;
    let state = reduce_all(
        signed_in(),
        [
            Action::PageLoaded(page(vec![own(1, "a"), failed], false)),
            Action::Event(AppEvent::MessageDiscarded {
                chat_id: CHAT,
                client_id: ClientId::new("f"),
            }),
        ],
    );
    assert_eq!(states(&state), [(Some(1), DeliveryState::Sent)]);
}

#[test]
fn unread_total_is_the_sum_of_the_list_then_what_the_shell_says() {
    let state = reduce_all(
        signed_in(),
        [Action::ChatsLoaded(vec![
            chat(1, "a", 2),
            chat(2, "b", 3),
            chat(3, "c", 0),
        ])],
    );
    assert_eq!(state.unread_total(), 5);
    let state = state.reduce(Action::Event(AppEvent::UnreadChanged {
        chat_id: ChatId(2),
        unread: 0,
        total: 2,
    }));
    assert_eq!(state.unread_total(), 2);
    assert_eq!(state.chat(ChatId(2)).map(|c| c.unread), Some(0));
    assert_eq!(state.chat(ChatId(1)).map(|c| c.unread), Some(2));
}

#[test]
fn a_muted_chat_keeps_its_count_but_is_no_part_of_the_total() {
    let muted = ChatItem {
        muted: true,
        ..chat(2, "b", 3)
    };
    let state = reduce_all(
        signed_in(),
        [Action::ChatsLoaded(vec![chat(1, "a", 2), muted])],
    );
    assert_eq!(state.unread_total(), 2);
    assert_eq!(state.chat(ChatId(2)).map(|c| c.unread), Some(3));
}

#[test]
fn chats_are_listed_newest_activity_first() {
    let state = signed_in().reduce(Action::ChatsLoaded(vec![
        chat(1, "a", 0),
        chat(3, "c", 0),
        chat(2, "b", 0),
    ]));
    let ids: Vec<_> = state.chats.iter().map(|c| c.id.0).collect();
    assert_eq!(ids, [3, 2, 1]);
}

#[test]
fn an_opened_chat_joins_the_list_once() {
    let state = reduce_all(
        signed_in(),
        [
            Action::ChatsLoaded(vec![chat(1, "a", 1)]),
            Action::ChatOpened(chat(2, "b", 0)),
            Action::ChatOpened(chat(2, "b", 4)),
        ],
    );
    assert_eq!(state.chats.len(), 2);
    assert_eq!(state.unread_total(), 5);
}

#[test]
fn typing_and_presence_follow_the_events() {
    let state = reduce_all(
        signed_in(),
        [
            Action::ChatsLoaded(vec![chat(1, PEER, 0)]),
            Action::Event(AppEvent::Typing {
                chat_id: CHAT,
                user_id: UserId::new(PEER),
                typing: true,
            }),
            Action::Event(AppEvent::Presence {
                user_id: UserId::new(PEER),
                online: true,
            }),
        ],
    );
    assert!(state.peer_typing(CHAT));
    assert!(state.peer_online(CHAT));
    assert!(state.is_online(&UserId::new(PEER), false));
    let state = state.reduce(Action::Event(AppEvent::Typing {
        chat_id: CHAT,
        user_id: UserId::new(PEER),
        typing: false,
    }));
    assert!(!state.peer_typing(CHAT));
}

#[test]
fn my_own_typing_elsewhere_is_not_shown() {
    let state = signed_in().reduce(Action::Event(AppEvent::Typing {
        chat_id: CHAT,
        user_id: UserId::new(ME),
        typing: true,
    }));
    assert!(!state.peer_typing(CHAT));
}

#[test]
fn history_changes_refetch_an_open_chat_and_drop_a_closed_one() {
    let state = reduce_all(
        signed_in(),
        [
            Action::PageLoaded(page(vec![message(1, "a", PEER)], false)),
            Action::SetActiveChat(Some(CHAT)),
            Action::Event(AppEvent::HistoryChanged { chat_id: CHAT }),
        ],
    );
    assert_eq!(state.history_version(CHAT), 1);
    assert!(state.page(CHAT).is_some(), "kept while open");
    let state = reduce_all(
        state,
        [
            Action::SetActiveChat(None),
            Action::Event(AppEvent::HistoryChanged { chat_id: CHAT }),
        ],
    );
    assert!(state.page(CHAT).is_none(), "dropped while closed");
}

#[test]
fn session_end_forgets_everything_and_explains_an_expiry() {
    let state = reduce_all(
        signed_in(),
        [
            Action::ChatsLoaded(vec![chat(1, "a", 2)]),
            Action::Event(AppEvent::SessionEnded {
                reason: SessionEndReason::Expired,
            }),
        ],
    );
    assert!(state.user.is_none());
    assert!(state.chats.is_empty());
    assert_eq!(state.unread_total(), 0);
    assert!(state.notice.is_some());
    assert!(!state.restoring);
}

#[test]
fn events_map_to_actions_and_incoming_is_left_to_the_shell() {
    assert_eq!(
        Action::from_event(AppEvent::ChatsChanged),
        Some(Action::Event(AppEvent::ChatsChanged))
    );
    let incoming = AppEvent::Incoming {
        message: message(1, "a", PEER),
        sender_name: "Ada".to_owned(),
        course_title: "Rust 101".to_owned(),
    };
    assert_eq!(Action::from_event(incoming), None);
    let open = AppEvent::OpenChat { chat_id: CHAT };
    assert_eq!(Action::from_event(open), None);
}

#[test]
fn a_connection_answer_overtaken_by_an_event_is_dropped() {
    // Asked at sign-in (no events yet); the engine goes online before the answer lands.
    let asked_after = signed_in().connection_events;
    let state = reduce_all(
        signed_in(),
        [
            Action::Event(AppEvent::Connection {
                state: ConnectionState::Online,
            }),
            Action::ConnectionQueried {
                state: ConnectionState::Connecting,
                asked_after,
            },
        ],
    );
    assert_eq!(
        state.connection,
        ConnectionState::Online,
        "not the stale answer"
    );

    // An answer nothing overtook is taken.
    let state = reduce_all(
        signed_in(),
        [Action::ConnectionQueried {
            state: ConnectionState::Online,
            asked_after,
        }],
    );
    assert_eq!(state.connection, ConnectionState::Online);
}

#[test]
fn an_uploads_progress_shows_until_its_message_is_uploaded_and_thumbnails_bump_their_version() {
    use tutorchat_shared::app::LocalAttachment;
    use tutorchat_shared::AttachmentId;
    let mut photo = pending("photo", 5);
    photo.kind = tutorchat_shared::MessageKind::Image;
    photo.attachment = Some(LocalAttachment {
        id: None,
        name: "graph.png".into(),
        size: 2048,
        mime: "image/png".into(),
        width: Some(64),
        height: Some(48),
        thumbnail: true,
    });
    let progress = |sent| {
        Action::Event(AppEvent::UploadProgress {
            chat_id: CHAT,
            client_id: ClientId::new("photo"),
            sent,
            total: 2048,
        })
    };
    let state = reduce_all(
        signed_in(),
        [
            Action::PageLoaded(page(vec![], false)),
            Action::upsert(photo.clone()),
            progress(512),
            // The same pending echo again (say, a page reload) keeps the bar.
            Action::upsert(photo.clone()),
        ],
    );
    assert_eq!(
        state.uploads.get(&ClientId::new("photo")),
        Some(&(512, 2048))
    );
    let mut uploaded = photo;
    if let Some(a) = uploaded.attachment.as_mut() {
        a.id = Some(AttachmentId::new("a1"));
    }
    let id = AttachmentId::new("a1");
    let state = reduce_all(
        state,
        [
            Action::upsert(uploaded),
            Action::Event(AppEvent::ThumbnailReady {
                chat_id: CHAT,
                attachment_id: id.clone(),
            }),
        ],
    );
    assert!(state.uploads.is_empty(), "uploaded: no bar");
    assert_eq!(state.thumbnails.get(&id), Some(&1));
}
