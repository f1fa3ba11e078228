//! Conformance checks on uploads and attachments: an upload started twice is one upload, a
//! finished one is claimed by exactly one message of its owner (kept in that message's
//! history), who may see it, and removing an unsent one answers the content nothing else uses.

use chrono::{Duration, Utc};
use tutorchat_server::store::{
    InsertOutcome, NewMessage, NewUploadRecord, PageRequest, SendRefusal, Store, StoredContent,
};
use tutorchat_shared::{AttachmentId, ClientId, MessageKind, UploadId};

use super::{checks, id, school, OTHER_STUDENT, STUDENT, TUTOR};

const QUOTA: u64 = 1_000;

fn upload(attachment: &str, owner: &str, upload_id: &str) -> NewUploadRecord {
    NewUploadRecord {
        id: AttachmentId::new(attachment),
        owner: id(owner),
        upload_id: UploadId::new(upload_id),
        name: "graph.png".into(),
        declared_size: 100,
        at: Utc::now() - Duration::hours(30),
    }
}

fn content(blob: &str) -> StoredContent {
    StoredContent {
        mime: "image/png".into(),
        size: 90,
        blob: blob.repeat(64),
        width: Some(10),
        height: Some(5),
        thumbnail: Some("f".repeat(64)),
    }
}

fn with_attachment(
    chat: tutorchat_shared::ChatId,
    sender: &str,
    client_id: &str,
    a: &str,
) -> NewMessage {
    NewMessage {
        chat_id: chat,
        sender_id: id(sender),
        client_id: ClientId::new(client_id),
        kind: MessageKind::Image,
        content: String::new(),
        attachment: Some(AttachmentId::new(a)),
        at: Utc::now(),
    }
}

pub async fn an_upload_is_claimed_once_by_its_owner_and_seen_by_the_chat(store: &dyn Store) {
    let chat = school(store).await.id;
    let first = store
        .create_upload(upload("a1", STUDENT, "u1"), QUOTA)
        .await
        .expect("create")
        .expect("within the quota");
    // The same upload id again is the same upload, whatever else it says.
    let again = store
        .create_upload(upload("a2", STUDENT, "u1"), QUOTA)
        .await
        .expect("create")
        .expect("known");
    assert_eq!(again.id, first.id);
    assert_eq!(store.stored_bytes(&id(STUDENT)).await.expect("bytes"), 100);
    // Past the quota a new one is refused, with what the owner keeps.
    let over = NewUploadRecord {
        declared_size: QUOTA - 99,
        ..upload("a3", STUDENT, "u2")
    };
    assert_eq!(
        store.create_upload(over, QUOTA).await.expect("create"),
        Err(100)
    );
    // Unfinished: nobody may send or see it.
    let refused = store
        .send_message(with_attachment(chat, STUDENT, "m0", "a1"), checks(), None)
        .await
        .expect("send");
    assert_eq!(
        refused,
        InsertOutcome::Refused(SendRefusal::AttachmentUnavailable)
    );
    assert!(store
        .attachment_for(&first.id, &id(STUDENT))
        .await
        .expect("read")
        .is_none());

    let done = store
        .complete_upload(&first.id, content("a"))
        .await
        .expect("complete")
        .expect("row");
    assert_eq!(done.attachment().map(|a| a.width), Some(Some(10)));
    assert_eq!(store.stored_bytes(&id(STUDENT)).await.expect("bytes"), 90);
    // Its uploader sees it; the tutor not before it is sent.
    assert!(store
        .attachment_for(&first.id, &id(STUDENT))
        .await
        .expect("read")
        .is_some());
    assert!(store
        .attachment_for(&first.id, &id(TUTOR))
        .await
        .expect("read")
        .is_none());
    // Not the tutor's to send.
    let theirs = store
        .send_message(with_attachment(chat, TUTOR, "m1", "a1"), checks(), None)
        .await
        .expect("send");
    assert_eq!(
        theirs,
        InsertOutcome::Refused(SendRefusal::AttachmentUnavailable)
    );

    let InsertOutcome::Stored(sent) = store
        .send_message(with_attachment(chat, STUDENT, "m2", "a1"), checks(), None)
        .await
        .expect("send")
    else {
        panic!("the owner's send is stored");
    };
    assert_eq!(
        sent.attachment.as_ref().map(|a| a.name.as_str()),
        Some("graph.png")
    );
    assert_eq!(sent.kind, MessageKind::Image);
    // Once: another message cannot carry it too, the same send again is the original.
    let twice = store
        .send_message(with_attachment(chat, STUDENT, "m3", "a1"), checks(), None)
        .await
        .expect("send");
    assert_eq!(
        twice,
        InsertOutcome::Refused(SendRefusal::AttachmentUnavailable)
    );
    let retried = store
        .send_message(with_attachment(chat, STUDENT, "m2", "a1"), checks(), None)
        .await
        .expect("send");
    assert_eq!(retried, InsertOutcome::Duplicate(sent.clone()));
    // History carries it; the chat's members see it, another student does not.
    let page = store
        .messages(chat, PageRequest::Latest { limit: 1 })
        .await
        .expect("page");
    assert_eq!(page.messages, vec![sent]);
    assert!(store
        .attachment_for(&first.id, &id(TUTOR))
        .await
        .expect("read")
        .is_some());
    assert!(store
        .attachment_for(&first.id, &id(OTHER_STUDENT))
        .await
        .expect("read")
        .is_none());
    // Sent: never swept.
    assert!(store
        .delete_unsent_upload(&first.id)
        .await
        .expect("delete")
        .is_empty());
    assert!(store
        .attachment_for(&first.id, &id(TUTOR))
        .await
        .expect("read")
        .is_some());
}

pub async fn removing_an_unsent_upload_answers_the_content_nothing_else_uses(store: &dyn Store) {
    school(store).await;
    for (attachment, owner, upload_id) in [("b1", STUDENT, "u1"), ("b2", OTHER_STUDENT, "u1")] {
        store
            .create_upload(upload(attachment, owner, upload_id), QUOTA)
            .await
            .expect("create")
            .expect("within the quota");
        // The same bytes from two users: one blob, one thumbnail.
        store
            .complete_upload(&AttachmentId::new(attachment), content("b"))
            .await
            .expect("complete");
    }
    // A day counts from when an upload was finished (now), not started (30 hours ago).
    assert!(store
        .unsent_uploads(Utc::now() - Duration::hours(1), 10)
        .await
        .expect("none")
        .is_empty());
    let stale = store
        .unsent_uploads(Utc::now() + Duration::seconds(1), 10)
        .await
        .expect("stale");
    assert_eq!(stale.len(), 2);
    assert!(
        store
            .delete_unsent_upload(&AttachmentId::new("b1"))
            .await
            .expect("delete")
            .is_empty(),
        "the other upload still uses the content"
    );
    let orphans = store
        .delete_unsent_upload(&AttachmentId::new("b2"))
        .await
        .expect("delete");
    assert_eq!(orphans.len(), 2, "the blob and the thumbnail: {orphans:?}");
    assert!(store
        .upload(&id(OTHER_STUDENT), &UploadId::new("u1"))
        .await
        .expect("read")
        .is_none());
}
