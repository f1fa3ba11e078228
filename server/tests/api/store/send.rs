//! Conformance checks on the checked send path (`Store::send_message`, `send_messages`): its
//! refusals, its deduplication before any check, batches stored in order, and the commit hook
//! that publishes in commit order.

use std::sync::{Arc, Mutex};

use futures_util::future::join_all;
use tutorchat_server::store::{
    InsertOutcome, OnCommit, PageRequest, Provisioning, SendRefusal, Store,
};
use tutorchat_shared::api::EnrollmentChange;
use tutorchat_shared::CourseId;

use super::{checks, id, new_message, school, COURSE, STUDENT, TUTOR};

/// A hook that records the seqs it saw, in the order it saw them.
fn recorder() -> (Arc<Mutex<Vec<u64>>>, impl Fn() -> OnCommit) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook_seen = seen.clone();
    let make = move || -> OnCommit {
        let seen = hook_seen.clone();
        Box::new(move |message, _| seen.lock().expect("lock").push(message.seq))
    };
    (seen, make)
}

pub async fn send_message_refuses_blocked_unenrolled_and_non_teaching(store: &dyn Store) {
    let chat = school(store).await.id;
    let (seen, hook) = recorder();

    store
        .set_block(&id(TUTOR), &id(STUDENT), true)
        .await
        .expect("block");
    let outcome = store
        .send_message(new_message(chat, STUDENT, "b-1"), checks(), Some(hook()))
        .await
        .expect("send");
    assert_eq!(outcome, InsertOutcome::Refused(SendRefusal::Blocked));
    store
        .set_block(&id(TUTOR), &id(STUDENT), false)
        .await
        .expect("unblock");

    let revoke = Provisioning {
        enrollments: vec![EnrollmentChange {
            course_id: CourseId::new(COURSE),
            student_id: id(STUDENT),
            active: false,
        }],
        ..Default::default()
    };
    store
        .provision(revoke)
        .await
        .expect("store")
        .expect("revoked");
    let outcome = store
        .send_message(new_message(chat, STUDENT, "e-1"), checks(), Some(hook()))
        .await
        .expect("send");
    assert_eq!(outcome, InsertOutcome::Refused(SendRefusal::NotEnrolled));

    // A tutor who (by these checks) does not teach the course, writing to the student.
    let from_tutor = new_message(chat, TUTOR, "t-1");
    let mut to_student = checks();
    to_student.tutor = id("t-nobody");
    to_student.recipient = id(STUDENT);
    // Enrollment is checked first; give it back so only the teaching check can refuse.
    let regrant = Provisioning {
        enrollments: vec![EnrollmentChange {
            course_id: CourseId::new(COURSE),
            student_id: id(STUDENT),
            active: true,
        }],
        ..Default::default()
    };
    store
        .provision(regrant)
        .await
        .expect("store")
        .expect("granted");
    let outcome = store
        .send_message(from_tutor, to_student, Some(hook()))
        .await
        .expect("send");
    assert_eq!(outcome, InsertOutcome::Refused(SendRefusal::NotCourseTutor));

    let page = store
        .messages(chat, PageRequest::Latest { limit: 10 })
        .await
        .expect("page");
    assert!(page.messages.is_empty(), "a refused send stores nothing");
    assert!(
        seen.lock().expect("lock").is_empty(),
        "no hook for a refusal"
    );
}

pub async fn send_message_deduplicates_before_checking(store: &dyn Store) {
    let chat = school(store).await.id;
    let (seen, hook) = recorder();
    let first = store
        .send_message(new_message(chat, STUDENT, "d-1"), checks(), Some(hook()))
        .await
        .expect("send");
    let InsertOutcome::Stored(original) = first else {
        panic!("expected a new message, got {first:?}");
    };
    // Blocked now, but a retry of the stored message still gets the original.
    store
        .set_block(&id(TUTOR), &id(STUDENT), true)
        .await
        .expect("block");
    let retry = store
        .send_message(new_message(chat, STUDENT, "d-1"), checks(), Some(hook()))
        .await
        .expect("send");
    assert_eq!(retry, InsertOutcome::Duplicate(original));
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![1],
        "the hook ran once, for the new message"
    );
}

pub async fn send_message_hooks_run_in_commit_order(store: &dyn Store) {
    let chat = school(store).await.id;
    let (seen, hook) = recorder();
    let sends = (0..64).map(|i| {
        let sender = if i % 2 == 0 { STUDENT } else { TUTOR };
        let mut checks = checks();
        if sender == TUTOR {
            checks.recipient = id(STUDENT);
        }
        store.send_message(
            new_message(chat, sender, &format!("o-{i}")),
            checks,
            Some(hook()),
        )
    });
    for outcome in join_all(sends).await {
        assert!(matches!(outcome.expect("send"), InsertOutcome::Stored(_)));
    }
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen, (1..=64).collect::<Vec<_>>(), "published in seq order");
}

pub async fn send_messages_stores_a_batch_in_order_with_one_outcome_each(store: &dyn Store) {
    let chat = school(store).await.id;
    let (seen, hook) = recorder();
    let first = store
        .send_message(new_message(chat, STUDENT, "m-0"), checks(), Some(hook()))
        .await
        .expect("send");
    let InsertOutcome::Stored(original) = first else {
        panic!("expected a new message, got {first:?}");
    };
    let batch = ["m-0", "m-1", "m-2", "m-3"]
        .into_iter()
        .map(|client_id| new_message(chat, STUDENT, client_id))
        .collect();
    let outcomes = store
        .send_messages(batch, checks(), Some(hook()))
        .await
        .expect("send");
    assert_eq!(outcomes.len(), 4, "one outcome per message");
    assert_eq!(
        outcomes[0],
        InsertOutcome::Duplicate(original),
        "a repeat inside a batch"
    );
    let seqs: Vec<u64> = outcomes[1..]
        .iter()
        .map(|outcome| match outcome {
            InsertOutcome::Stored(message) => message.seq,
            other => panic!("expected a new message, got {other:?}"),
        })
        .collect();
    assert_eq!(seqs, [2, 3, 4], "stored in the order given");
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![1, 2, 3, 4],
        "the hook ran once per new message, in seq order"
    );

    store
        .set_block(&id(TUTOR), &id(STUDENT), true)
        .await
        .expect("block");
    let batch = ["m-3", "m-4", "m-5"]
        .into_iter()
        .map(|client_id| new_message(chat, STUDENT, client_id))
        .collect();
    let outcomes = store
        .send_messages(batch, checks(), Some(hook()))
        .await
        .expect("send");
    assert!(
        matches!(outcomes[0], InsertOutcome::Duplicate(_)),
        "the stored one still answers with the original"
    );
    assert_eq!(
        outcomes[1..],
        [
            InsertOutcome::Refused(SendRefusal::Blocked),
            InsertOutcome::Refused(SendRefusal::Blocked)
        ]
    );
    let page = store
        .messages(chat, PageRequest::Latest { limit: 10 })
        .await
        .expect("page");
    assert_eq!(page.last_seq, 4, "a refused batch stores nothing");
}

/// Several handles on one database stand for several nodes. Every message is sent through two
/// of them at once (a client's retry that reached another node while the first try was in
/// flight): each is stored exactly once, the other answer is that same message, the chat's
/// seqs have no gap, and each node's hook saw what it stored in seq order.
pub async fn sends_through_several_nodes_are_gapless_and_stored_once(nodes: &[&dyn Store]) {
    const MESSAGES: usize = 90;
    let chat = school(nodes[0]).await.id;
    let hooks: Vec<_> = nodes.iter().map(|_| recorder()).collect();
    let send = |i: usize, node: usize| {
        let sender = if i % 2 == 0 { STUDENT } else { TUTOR };
        let mut checks = checks();
        if sender == TUTOR {
            checks.recipient = id(STUDENT);
        }
        nodes[node].send_message(
            new_message(chat, sender, &format!("n-{i}")),
            checks,
            Some((hooks[node].1)()),
        )
    };
    let pairs = (0..MESSAGES).map(|i| {
        let first = i % nodes.len();
        let second = (i + 1) % nodes.len();
        futures_util::future::join(send(i, first), send(i, second))
    });
    let mut stored = Vec::new();
    for (a, b) in join_all(pairs).await {
        let (a, b) = (a.expect("send"), b.expect("send"));
        let message = match (&a, &b) {
            (InsertOutcome::Stored(m), InsertOutcome::Duplicate(d))
            | (InsertOutcome::Duplicate(d), InsertOutcome::Stored(m)) => {
                assert_eq!(m, d, "the duplicate answers the stored message");
                m.clone()
            }
            // One handle shared by "both nodes" may see the second as a duplicate only.
            other => panic!("expected one stored and one duplicate, got {other:?}"),
        };
        stored.push(message.seq);
    }
    stored.sort_unstable();
    assert_eq!(stored, (1..=MESSAGES as u64).collect::<Vec<_>>(), "gapless");
    for (seen, _) in &hooks {
        let seen = seen.lock().expect("lock").clone();
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "a node publishes in seq order: {seen:?}"
        );
    }
    let heard: usize = hooks
        .iter()
        .map(|(seen, _)| seen.lock().expect("lock").len())
        .sum();
    assert_eq!(
        heard, MESSAGES,
        "each stored message is published once, by its node"
    );
    let page = nodes[nodes.len() - 1]
        .messages(chat, PageRequest::After { seq: 0, limit: 200 })
        .await
        .expect("page");
    assert_eq!(page.last_seq, MESSAGES as u64);
    assert_eq!(page.messages.len(), MESSAGES);
}
