//! History pages both ways with no gap or duplicate, read state and read pointers, and sending
//! over REST: idempotent on `client_id`, gapless under concurrency.

use std::collections::HashSet;
use std::sync::Arc;

use reqwest::StatusCode;
use tokio::task::JoinSet;
use tutorchat_shared::api::{ChatList, MessagePage, SendMessageResponse};

use crate::testing::{TestServer, ADA, ALAN, SAM, SAM_ADA_CHAT, SAM_ADA_MESSAGES};

fn seqs(page: &MessagePage) -> Vec<u64> {
    page.messages.iter().map(|m| m.message.seq).collect()
}

fn assert_contiguous_ascending(seqs: &[u64]) {
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "not contiguous ascending: {seqs:?}"
    );
}

#[tokio::test]
async fn walking_backwards_collects_every_message_exactly_once() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let mut collected: Vec<u64> = Vec::new();
    let mut query = "limit=7".to_owned();
    let mut pages = 0;
    loop {
        let reply = ts.page(&sam, SAM_ADA_CHAT, &query).await;
        reply.assert_ok();
        let page: MessagePage = reply.json();
        pages += 1;
        let seqs = seqs(&page);
        assert_contiguous_ascending(&seqs);
        assert_eq!(page.last_seq, SAM_ADA_MESSAGES);
        assert_eq!(
            page.has_more_after,
            pages > 1,
            "only the newest page has nothing after it"
        );
        let oldest = *seqs.first().expect("a page is never empty on the way");
        assert_eq!(page.has_more_before, oldest > 1, "page {pages}: {seqs:?}");
        collected.splice(0..0, seqs);
        if !page.has_more_before {
            break;
        }
        assert_eq!(page.messages.len(), 7, "only the last page may be short");
        query = format!("limit=7&before_seq={oldest}");
        assert!(pages < 50, "runaway paging");
    }
    assert_eq!(collected, (1..=SAM_ADA_MESSAGES).collect::<Vec<_>>());
    assert_eq!(pages, 18, "122 = 17 full pages of 7 and one of 3");
}

#[tokio::test]
async fn walking_forwards_collects_every_message_exactly_once() {
    let ts = TestServer::start().await;
    let ada = ts.token(ADA).await;
    let mut collected: Vec<u64> = Vec::new();
    let mut after = 0;
    let mut pages = 0;
    loop {
        let reply = ts
            .page(&ada, SAM_ADA_CHAT, &format!("limit=7&after_seq={after}"))
            .await;
        reply.assert_ok();
        let page: MessagePage = reply.json();
        pages += 1;
        let seqs = seqs(&page);
        assert_contiguous_ascending(&seqs);
        assert_eq!(seqs.first(), Some(&(after + 1)), "pages join without a gap");
        assert_eq!(page.has_more_before, after > 0);
        collected.extend(&seqs);
        after = *seqs.last().expect("a page is never empty on the way");
        assert_eq!(
            page.has_more_after,
            after < SAM_ADA_MESSAGES,
            "page {pages}: {seqs:?}"
        );
        if !page.has_more_after {
            break;
        }
        assert!(pages < 50, "runaway paging");
    }
    assert_eq!(collected, (1..=SAM_ADA_MESSAGES).collect::<Vec<_>>());

    // Past the end: an empty page that says so.
    let page: MessagePage = ts
        .page(&ada, SAM_ADA_CHAT, &format!("after_seq={SAM_ADA_MESSAGES}"))
        .await
        .json();
    assert!(page.messages.is_empty());
    assert!(!page.has_more_after);
    assert!(page.has_more_before);
}

#[tokio::test]
async fn default_page_is_the_newest_fifty() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let page: MessagePage = ts.page(&sam, SAM_ADA_CHAT, "").await.json();
    assert_eq!(seqs(&page), (73..=122).collect::<Vec<_>>());
    assert!(page.has_more_before);
    assert!(!page.has_more_after);
    assert_eq!(page.chat_id.0, SAM_ADA_CHAT);
    let max: MessagePage = ts.page(&sam, SAM_ADA_CHAT, "limit=200").await.json();
    assert_eq!(seqs(&max), (1..=122).collect::<Vec<_>>());
    assert!(!max.has_more_before);
}

#[tokio::test]
async fn page_limits_and_cursors_are_validated() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    ts.page(&sam, SAM_ADA_CHAT, "limit=0")
        .await
        .assert_invalid("limit");
    ts.page(&sam, SAM_ADA_CHAT, "limit=201")
        .await
        .assert_invalid("limit");
    ts.page(&sam, SAM_ADA_CHAT, "limit=201&before_seq=50")
        .await
        .assert_invalid("limit");
    ts.page(&sam, SAM_ADA_CHAT, "before_seq=50&after_seq=10")
        .await
        .assert_error(422, "validation");
    ts.page(&sam, SAM_ADA_CHAT, "limit=many")
        .await
        .assert_invalid("query");
    ts.page(&sam, SAM_ADA_CHAT, "before_seq=-1")
        .await
        .assert_invalid("query");
}

#[tokio::test]
async fn messages_carry_whether_their_recipient_read_them() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let page: MessagePage = ts.page(&sam, SAM_ADA_CHAT, "limit=200").await.json();
    for view in &page.messages {
        let m = &view.message;
        // Sam wrote the odd seqs up to 119 and has read up to his last message; Ada read all.
        let expected = m.sender_id.as_str() == "s-sam" || m.seq <= 119;
        assert_eq!(view.read, expected, "seq {} from {}", m.seq, m.sender_id);
    }
    let unread: Vec<u64> = page
        .messages
        .iter()
        .filter(|v| !v.read)
        .map(|v| v.message.seq)
        .collect();
    assert_eq!(
        unread,
        [120, 121, 122],
        "Ada's last replies are unread by Sam"
    );
    let unread_senders: HashSet<&str> = page
        .messages
        .iter()
        .filter(|v| !v.read)
        .map(|v| v.message.sender_id.as_str())
        .collect();
    assert_eq!(unread_senders, HashSet::from(["t-ada"]));

    let reply = ts.mark_read(&sam, SAM_ADA_CHAT, SAM_ADA_MESSAGES).await;
    reply.assert_ok();
    assert_eq!(reply.body["advanced"], true);
    let page: MessagePage = ts.page(&sam, SAM_ADA_CHAT, "limit=200").await.json();
    assert!(
        page.messages.iter().all(|v| v.read),
        "everything is read now"
    );

    // Ada sees the same from her side: her messages read by Sam now.
    let ada = ts.token(ADA).await;
    let page: MessagePage = ts.page(&ada, SAM_ADA_CHAT, "limit=5").await.json();
    assert!(page.messages.iter().all(|v| v.read));
    let sams = page
        .read_pointers
        .iter()
        .find(|p| p.user_id.as_str() == "s-sam")
        .expect("pointer");
    assert_eq!(sams.up_to_seq, SAM_ADA_MESSAGES);
    assert!(sams.read_at.is_some());
}

#[tokio::test]
async fn read_pointer_moves_forward_only_and_stops_at_the_last_message() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let before = ts.chat(&sam, SAM_ADA_CHAT).await;
    assert_eq!((before.my_read_seq, before.unread), (119, 3));
    assert_eq!(before.peer_read_seq, SAM_ADA_MESSAGES);

    let lower = ts.mark_read(&sam, SAM_ADA_CHAT, 10).await;
    lower.assert_ok();
    assert_eq!(lower.body["advanced"], false);
    assert_eq!(lower.body["read"]["up_to_seq"], 119, "never moves back");

    let one = ts.mark_read(&sam, SAM_ADA_CHAT, 120).await;
    assert_eq!(one.body["advanced"], true);
    assert_eq!(one.body["read"]["up_to_seq"], 120);
    assert_eq!(ts.chat(&sam, SAM_ADA_CHAT).await.unread, 2);

    let far = ts.mark_read(&sam, SAM_ADA_CHAT, 1_000_000).await;
    assert_eq!(far.body["advanced"], true);
    assert_eq!(
        far.body["read"]["up_to_seq"], SAM_ADA_MESSAGES,
        "clamped to last_seq"
    );
    assert_eq!(far.body["read"]["user_id"], "s-sam");
    let again = ts.mark_read(&sam, SAM_ADA_CHAT, SAM_ADA_MESSAGES).await;
    assert_eq!(again.body["advanced"], false);

    let list: ChatList = ts.get(&sam, "/api/chats").await.json();
    assert_eq!(list.chats[0].unread, 0);
    assert_eq!(list.chats[0].my_read_seq, SAM_ADA_MESSAGES);
}

#[tokio::test]
async fn rest_send_is_idempotent_on_client_id() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let first = ts
        .send(&sam, SAM_ADA_CHAT, "c-123", "Is chapter 5 on the exam?")
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let first: SendMessageResponse = first.json();
    assert!(!first.duplicate);
    assert_eq!(first.message.seq, SAM_ADA_MESSAGES + 1);
    assert_eq!(first.message.sender_id.as_str(), "s-sam");
    assert_eq!(first.message.client_id.as_str(), "c-123");

    // A retry (even with different content) answers the original and stores nothing.
    let again = ts
        .send(&sam, SAM_ADA_CHAT, "c-123", "Is chapter 5 on the exam??")
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let again: SendMessageResponse = again.json();
    assert!(again.duplicate);
    assert_eq!(again.message, first.message);
    let chat = ts.chat(&sam, SAM_ADA_CHAT).await;
    assert_eq!(chat.last_seq, SAM_ADA_MESSAGES + 1);
    assert_eq!(
        chat.last_message.map(|m| m.content),
        Some("Is chapter 5 on the exam?".into())
    );
    assert_eq!(
        chat.my_read_seq,
        SAM_ADA_MESSAGES + 1,
        "sending reads up to the message"
    );

    // Ada may use the same client id: ids are per sender.
    let ada = ts.token(ADA).await;
    let hers = ts.send(&ada, SAM_ADA_CHAT, "c-123", "Yes.").await;
    assert_eq!(hers.status, StatusCode::CREATED, "{}", hers.body);
    assert_eq!(hers.body["message"]["seq"], SAM_ADA_MESSAGES + 2);
}

#[tokio::test]
async fn client_id_reused_in_another_chat_is_refused() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    ts.send(&sam, SAM_ADA_CHAT, "shared-id", "for Ada")
        .await
        .assert_ok();
    let alan_chat = ts.open_chat(&sam, "rust-101", "t-alan").await;
    let reply = ts.send(&sam, alan_chat, "shared-id", "for Alan").await;
    reply.assert_invalid("client_id");
    assert_eq!(reply.body["client_id"], "shared-id");
    assert_eq!(ts.chat(&sam, alan_chat).await.last_seq, 0, "nothing stored");
    let alan = ts.token(ALAN).await;
    let page: MessagePage = ts.page(&alan, alan_chat, "").await.json();
    assert!(page.messages.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sends_get_gapless_distinct_seqs() {
    let ts = Arc::new(TestServer::start().await);
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut sends = JoinSet::new();
    for i in 0..50 {
        let (ts, token) = (
            ts.clone(),
            if i % 2 == 0 { sam.clone() } else { ada.clone() },
        );
        sends.spawn(async move {
            let reply = ts
                .send(
                    &token,
                    SAM_ADA_CHAT,
                    &format!("burst-{i}"),
                    &format!("m{i}"),
                )
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
            reply.json::<SendMessageResponse>().message
        });
    }
    let mut stored = Vec::new();
    while let Some(done) = sends.join_next().await {
        stored.push(done.expect("send task"));
    }
    let mut assigned: Vec<u64> = stored.iter().map(|m| m.seq).collect();
    assigned.sort_unstable();
    let expected: Vec<u64> = (SAM_ADA_MESSAGES + 1..=SAM_ADA_MESSAGES + 50).collect();
    assert_eq!(assigned, expected);
    let ids: HashSet<i64> = stored.iter().map(|m| m.id.0).collect();
    assert_eq!(ids.len(), 50, "distinct message ids");

    // History agrees: exactly those 50 after the seeded ones, each client id once.
    let page: MessagePage = ts
        .page(
            &sam,
            SAM_ADA_CHAT,
            &format!("after_seq={SAM_ADA_MESSAGES}&limit=200"),
        )
        .await
        .json();
    assert_eq!(seqs(&page), expected);
    let client_ids: HashSet<&str> = page
        .messages
        .iter()
        .map(|v| v.message.client_id.as_str())
        .collect();
    assert_eq!(client_ids.len(), 50);
    assert_eq!(page.last_seq, SAM_ADA_MESSAGES + 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_of_one_client_id_store_one_message() {
    let ts = Arc::new(TestServer::start().await);
    let sam = ts.token(SAM).await;
    let mut sends = JoinSet::new();
    for _ in 0..10 {
        let (ts, sam) = (ts.clone(), sam.clone());
        sends.spawn(async move { ts.send(&sam, SAM_ADA_CHAT, "retry-storm", "once").await });
    }
    let mut created = 0;
    let mut ids = HashSet::new();
    while let Some(done) = sends.join_next().await {
        let reply = done.expect("send task");
        reply.assert_ok();
        let response: SendMessageResponse = reply.json();
        assert_eq!(
            response.duplicate,
            reply.status == StatusCode::OK,
            "{}",
            reply.body
        );
        created += usize::from(!response.duplicate);
        ids.insert(response.message.id);
    }
    assert_eq!(
        created, 1,
        "exactly one of the racing sends stores the message"
    );
    assert_eq!(ids.len(), 1, "every answer names the same message");
    assert_eq!(
        ts.chat(&sam, SAM_ADA_CHAT).await.last_seq,
        SAM_ADA_MESSAGES + 1
    );
}
