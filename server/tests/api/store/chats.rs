//! Conformance checks on conversations: chats, gapless seqs, idempotent inserts, history
//! pages, read pointers, and durability across reopening.

use chrono::Utc;
use futures_util::future::join_all;
use tutorchat_server::store::{InsertOutcome, PageRequest, Store};
use tutorchat_shared::{ChatId, ClientId, CourseId};

use super::{id, insert, new_message, school, seqs, COURSE, OTHER_STUDENT, STUDENT, TUTOR};

pub async fn seq_is_gapless_under_concurrent_inserts(store: &dyn Store) {
    let chat = school(store).await.id;
    let inserts = (0..100).map(|i| {
        let sender = if i % 2 == 0 { STUDENT } else { TUTOR };
        store.insert_message(new_message(chat, sender, &format!("c-{i}")))
    });
    let mut assigned: Vec<u64> = join_all(inserts)
        .await
        .into_iter()
        .map(|outcome| match outcome.expect("insert") {
            InsertOutcome::Stored(m) => m.seq,
            other => panic!("expected a new message, got {other:?}"),
        })
        .collect();
    assigned.sort_unstable();
    assert_eq!(assigned, (1..=100).collect::<Vec<_>>());
    let page = store
        .messages(chat, PageRequest::After { seq: 0, limit: 200 })
        .await
        .expect("page");
    assert_eq!(seqs(&page.messages), (1..=100).collect::<Vec<_>>());
    assert_eq!(page.last_seq, 100);
}

pub async fn duplicate_client_id_returns_the_original(store: &dyn Store) {
    let chat = school(store).await;
    let original = insert(store, chat.id, STUDENT, "same").await;
    let mut retry = new_message(chat.id, STUDENT, "same");
    retry.content = "edited on retry".into();
    let outcome = store.insert_message(retry).await.expect("insert");
    assert_eq!(outcome, InsertOutcome::Duplicate(original.clone()));
    let found = store
        .message_by_client_id(&id(STUDENT), &ClientId::new("same"))
        .await;
    assert_eq!(found.expect("lookup"), Some(original.clone()));

    // The key is (sender, client_id): the tutor may use the same id.
    assert_eq!(insert(store, chat.id, TUTOR, "same").await.seq, 2);

    // The same sender and id in another chat is refused, naming the original chat.
    let course = CourseId::new(COURSE);
    let (other, _) = store
        .find_or_create_chat(&course, &id(OTHER_STUDENT), &id(TUTOR), Utc::now())
        .await
        .expect("chat");
    let outcome = store
        .insert_message(new_message(other.id, TUTOR, "same"))
        .await
        .expect("insert");
    assert_eq!(outcome, InsertOutcome::ClientIdReused { chat_id: chat.id });
    let page = store
        .messages(other.id, PageRequest::Latest { limit: 10 })
        .await
        .expect("page");
    assert!(page.messages.is_empty());
    assert_eq!(page.last_seq, 0);
    let page = store
        .messages(chat.id, PageRequest::Latest { limit: 10 })
        .await
        .expect("page");
    assert_eq!(page.last_seq, 2);
    assert_eq!(page.messages[0].content, original.content);
}

pub async fn pages_of_an_empty_chat_are_empty(store: &dyn Store) {
    let chat = school(store).await.id;
    for request in [
        PageRequest::Latest { limit: 10 },
        PageRequest::Before { seq: 1, limit: 10 },
        PageRequest::After { seq: 0, limit: 10 },
    ] {
        let page = store.messages(chat, request).await.expect("page");
        assert!(page.messages.is_empty(), "{request:?}");
        assert!(
            !page.has_more_before && !page.has_more_after,
            "{request:?}: {page:?}"
        );
        assert_eq!(page.last_seq, 0);
    }
}

pub async fn pages_report_more_at_both_ends(store: &dyn Store) {
    let chat = school(store).await.id;
    for i in 0..10 {
        insert(store, chat, STUDENT, &format!("m-{i}")).await;
    }
    // (request, seqs, has_more_before, has_more_after)
    let cases: [(PageRequest, Vec<u64>, bool, bool); 8] = [
        (
            PageRequest::Latest { limit: 4 },
            vec![7, 8, 9, 10],
            true,
            false,
        ),
        (
            PageRequest::Latest { limit: 10 },
            (1..=10).collect(),
            false,
            false,
        ),
        (
            PageRequest::Latest { limit: 50 },
            (1..=10).collect(),
            false,
            false,
        ),
        (
            PageRequest::Before { seq: 7, limit: 4 },
            vec![3, 4, 5, 6],
            true,
            true,
        ),
        (
            PageRequest::Before { seq: 3, limit: 4 },
            vec![1, 2],
            false,
            true,
        ),
        (
            PageRequest::After { seq: 0, limit: 4 },
            vec![1, 2, 3, 4],
            false,
            true,
        ),
        (
            PageRequest::After { seq: 6, limit: 4 },
            vec![7, 8, 9, 10],
            true,
            false,
        ),
        (
            PageRequest::After { seq: 8, limit: 4 },
            vec![9, 10],
            true,
            false,
        ),
    ];
    for (request, expected, before, after) in cases {
        let page = store.messages(chat, request).await.expect("page");
        assert_eq!(seqs(&page.messages), expected, "{request:?}");
        assert_eq!(
            (page.has_more_before, page.has_more_after),
            (before, after),
            "{request:?}"
        );
        assert_eq!(page.last_seq, 10);
    }
    let past = store
        .messages(chat, PageRequest::After { seq: 10, limit: 4 })
        .await
        .expect("page");
    assert!(past.messages.is_empty() && !past.has_more_after);
}

pub async fn mark_read_moves_forward_only_and_clamps(store: &dyn Store) {
    let chat = school(store).await.id;
    for i in 0..5 {
        insert(store, chat, STUDENT, &format!("m-{i}")).await;
    }
    let tutor = id(TUTOR);
    let mark = |seq| store.mark_read(chat, &tutor, seq, Utc::now());
    let (pointer, moved) = mark(3).await.expect("mark");
    assert_eq!((pointer.up_to_seq, moved), (3, true));
    assert_eq!(pointer.user_id, tutor);
    assert!(pointer.read_at.is_some());
    let (pointer, moved) = mark(2).await.expect("mark");
    assert_eq!((pointer.up_to_seq, moved), (3, false), "never back");
    let (pointer, moved) = mark(99).await.expect("mark");
    assert_eq!((pointer.up_to_seq, moved), (5, true), "clamped to last_seq");
    let (pointer, moved) = mark(5).await.expect("mark");
    assert_eq!((pointer.up_to_seq, moved), (5, false));

    let pointers = store.read_pointers(chat).await.expect("pointers");
    let of = |u: &str| {
        pointers
            .iter()
            .find(|p| p.user_id.as_str() == u)
            .map(|p| p.up_to_seq)
    };
    assert_eq!((of(STUDENT), of(TUTOR)), (Some(5), Some(5)));
}

pub async fn inserting_moves_the_senders_read_pointer(store: &dyn Store) {
    let chat = school(store).await.id;
    insert(store, chat, TUTOR, "t-0").await;
    insert(store, chat, TUTOR, "t-1").await;
    let row = store
        .chat_row(chat, &id(STUDENT))
        .await
        .expect("row")
        .expect("member");
    assert_eq!(
        (row.last_seq, row.my_read_seq, row.peer_read_seq),
        (2, 0, 2)
    );
    assert_eq!(
        row.last_message.map(|m| m.client_id),
        Some(ClientId::new("t-1"))
    );
    let sent = insert(store, chat, STUDENT, "s-0").await;
    let row = store
        .chat_row(chat, &id(STUDENT))
        .await
        .expect("row")
        .expect("member");
    assert_eq!(
        (row.last_seq, row.my_read_seq, row.peer_read_seq),
        (3, 3, 2)
    );
    assert_eq!(row.peer.id, id(TUTOR));
    assert!(store
        .chat_row(chat, &id(OTHER_STUDENT))
        .await
        .expect("row")
        .is_none());

    // The pointer sending moved was read when the message was written; marking an earlier
    // message read does not move it, and the tutor's view of it agrees.
    let (pointer, moved) = store
        .mark_read(chat, &id(STUDENT), 2, Utc::now())
        .await
        .expect("mark");
    assert_eq!((pointer.up_to_seq, moved), (3, false));
    let millis = |at: Option<chrono::DateTime<Utc>>| at.map(|at| at.timestamp_millis());
    assert_eq!(millis(pointer.read_at), millis(Some(sent.created_at)));
    let pointers = store.read_pointers(chat).await.expect("pointers");
    let of = |u: &str| {
        pointers
            .iter()
            .find(|p| p.user_id.as_str() == u)
            .map(|p| (p.up_to_seq, millis(p.read_at)))
    };
    assert_eq!(of(STUDENT), Some((3, millis(Some(sent.created_at)))));
    assert_eq!(of(TUTOR).map(|(seq, _)| seq), Some(2));
    let tutor_row = store
        .chat_row(chat, &id(TUTOR))
        .await
        .expect("row")
        .expect("member");
    assert_eq!((tutor_row.my_read_seq, tutor_row.peer_read_seq), (2, 3));

    // Marking past it moves the pointer on, with the mark's own time.
    let (pointer, moved) = store
        .mark_read(chat, &id(TUTOR), 3, Utc::now())
        .await
        .expect("mark");
    assert_eq!((pointer.up_to_seq, moved), (3, true));
    insert(store, chat, TUTOR, "t-2").await;
    let (pointer, moved) = store
        .mark_read(chat, &id(STUDENT), 4, Utc::now())
        .await
        .expect("mark");
    assert_eq!((pointer.up_to_seq, moved), (4, true));
    assert!(millis(pointer.read_at) >= millis(Some(sent.created_at)));
}

pub async fn find_or_create_chat_is_idempotent(store: &dyn Store) {
    let chat = school(store).await;
    let course = CourseId::new(COURSE);
    let (again, created) = store
        .find_or_create_chat(&course, &id(STUDENT), &id(TUTOR), Utc::now())
        .await
        .expect("chat");
    assert!(!created);
    assert_eq!(again, chat);
    assert_eq!(store.chat(chat.id).await.expect("chat"), Some(chat.clone()));
    assert_eq!(store.chats_of(&id(STUDENT)).await.expect("chats").len(), 1);
    assert_eq!(store.chats_of(&id(TUTOR)).await.expect("chats").len(), 1);
    assert_eq!(
        store.chat(ChatId(chat.id.0 + 1000)).await.expect("chat"),
        None
    );
}

/// Everything written before the store is dropped is there after reopening it.
pub async fn data_survives_reopening(open: impl AsyncFn() -> Box<dyn Store>) {
    let store = open().await;
    let chat = school(store.as_ref()).await.id;
    for i in 0..3 {
        insert(store.as_ref(), chat, STUDENT, &format!("m-{i}")).await;
    }
    store
        .mark_read(chat, &id(TUTOR), 2, Utc::now())
        .await
        .expect("mark");
    store
        .set_block(&id(TUTOR), &id(OTHER_STUDENT), true)
        .await
        .expect("block");
    drop(store);

    let store = open().await;
    assert_eq!(store.user_count().await.expect("count"), 3);
    let page = store
        .messages(chat, PageRequest::Latest { limit: 10 })
        .await
        .expect("page");
    assert_eq!(seqs(&page.messages), [1, 2, 3]);
    let pointers = store.read_pointers(chat).await.expect("pointers");
    let of = |u: &str| {
        pointers
            .iter()
            .find(|p| p.user_id.as_str() == u)
            .map(|p| p.up_to_seq)
    };
    assert_eq!((of(STUDENT), of(TUTOR)), (Some(3), Some(2)));
    assert!(store
        .is_blocked(&id(TUTOR), &id(OTHER_STUDENT))
        .await
        .expect("query"));
    let dup = store
        .insert_message(new_message(chat, STUDENT, "m-0"))
        .await
        .expect("insert");
    assert!(
        matches!(dup, InsertOutcome::Duplicate(_)),
        "dedup survives: {dup:?}"
    );
    assert_eq!(insert(store.as_ref(), chat, TUTOR, "after").await.seq, 4);
}
