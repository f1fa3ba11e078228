//! One chat's messages as the UI holds them, and the pure operations the store applies to
//! them: upsert by client id (so a pending echo becomes sent, then read, without duplicates),
//! seq order with the outbox's messages last, read receipts, discards, and merging the pages
//! the shell answers with.
//!
//! Works on [`ChatPage`] from `shared`; knows nothing of Yew or the shell.

use std::cmp::Ordering;

use tutorchat_shared::app::{ChatPage, DeliveryState, LocalMessage};
use tutorchat_shared::{ClientId, UserId};

/// Whether two values are the same message: a client id is unique per sender.
fn same_message(a: &LocalMessage, b: &LocalMessage) -> bool {
    a.client_id == b.client_id && a.sender_id == b.sender_id
}

/// Stored messages ascending by seq, then the outbox's (no seq yet) by when they were written.
fn display_order(a: &LocalMessage, b: &LocalMessage) -> Ordering {
    match (a.seq, b.seq) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.created_at.cmp(&b.created_at),
    }
}

/// How far along a message is; an update never moves one back (events can race the answer
/// to `send`, and an ack can race a read receipt).
fn progress(state: DeliveryState) -> u8 {
    match state {
        DeliveryState::Pending | DeliveryState::Failed => 0,
        DeliveryState::Sent => 1,
        DeliveryState::Read => 2,
    }
}

/// The newer of two versions of one message.
fn reconcile(current: &LocalMessage, incoming: LocalMessage) -> LocalMessage {
    match (current.seq, incoming.seq) {
        // A stored message never goes back to the outbox.
        (Some(_), None) => current.clone(),
        (Some(_), Some(_)) if progress(current.state) > progress(incoming.state) => LocalMessage {
            state: current.state,
            ..incoming
        },
        _ => incoming,
    }
}

/// Inserts or replaces each message, then restores display order (once).
pub(crate) fn upsert_all(messages: &mut Vec<LocalMessage>, incoming: Vec<LocalMessage>) {
    for message in incoming {
        match messages.iter_mut().find(|m| same_message(m, &message)) {
            Some(slot) => *slot = reconcile(slot, message),
            None => messages.push(message),
        }
    }
    messages.sort_by(display_order);
}

/// Inserts or replaces one message.
pub(crate) fn upsert(messages: &mut Vec<LocalMessage>, message: LocalMessage) {
    upsert_all(messages, vec![message]);
}

/// Removes a discarded outbox message. Returns whether one was there.
pub(crate) fn discard(messages: &mut Vec<LocalMessage>, client_id: &ClientId) -> bool {
    let before = messages.len();
    messages.retain(|m| !(m.seq.is_none() && &m.client_id == client_id));
    messages.len() != before
}

/// The peer has read up to `up_to_seq`: my stored messages up to there become read.
/// Returns whether anything changed.
pub(crate) fn apply_read_receipt(
    messages: &mut [LocalMessage],
    me: &UserId,
    up_to_seq: u64,
) -> bool {
    let mut changed = false;
    for message in messages.iter_mut() {
        if mark_read_if_covered(message, me, up_to_seq) {
            changed = true;
        }
    }
    changed
}

/// Turns one message read if it is mine, stored, sent, and at or below `up_to_seq`.
pub(crate) fn mark_read_if_covered(
    message: &mut LocalMessage,
    me: &UserId,
    up_to_seq: u64,
) -> bool {
    // The read rule, shared with the server and the client core.
    let covered = message
        .seq
        .is_some_and(|seq| tutorchat_shared::model::is_read(seq, up_to_seq));
    if covered && &message.sender_id == me && message.state == DeliveryState::Sent {
        message.state = DeliveryState::Read;
        true
    } else {
        false
    }
}

/// The lowest stored seq: the `before_seq` of the next older page.
pub(crate) fn lowest_seq(page: &ChatPage) -> Option<u64> {
    page.messages.iter().filter_map(|m| m.seq).min()
}

/// The highest stored seq: what `mark_read` is called with.
pub(crate) fn newest_seq(page: &ChatPage) -> Option<u64> {
    page.messages.iter().filter_map(|m| m.seq).max()
}

/// Merges a fresh newest page into what is held. Older messages already loaded stay, unless
/// the fresh page does not reach them (a gap after a long absence): then it replaces them.
pub(crate) fn merge_newest(held: &mut ChatPage, fresh: ChatPage) {
    let held_top = newest_seq(held);
    let fresh_bottom = lowest_seq(&fresh);
    let gap = matches!((held_top, fresh_bottom), (Some(top), Some(bottom)) if bottom > top + 1);
    if gap {
        *held = fresh;
        return;
    }
    let keeps_older = match (lowest_seq(held), fresh_bottom) {
        (Some(held_bottom), Some(bottom)) => held_bottom < bottom,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if !keeps_older {
        held.has_more_before = fresh.has_more_before;
    }
    upsert_all(&mut held.messages, fresh.messages);
}

/// Merges an older page (asked for with `before_seq`) into what is held.
pub(crate) fn merge_older(held: &mut ChatPage, older: ChatPage) {
    held.has_more_before = older.has_more_before;
    upsert_all(&mut held.messages, older.messages);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{message, own, page, pending, ME, PEER};

    fn client_ids(messages: &[LocalMessage]) -> Vec<&str> {
        messages.iter().map(|m| m.client_id.as_str()).collect()
    }

    #[test]
    fn upsert_replaces_a_pending_echo_by_client_id() {
        let mut messages = vec![message(1, "a", PEER), pending("mine", 10)];
        upsert(&mut messages, own(2, "mine"));
        assert_eq!(client_ids(&messages), ["a", "mine"]);
        assert_eq!(messages[1].seq, Some(2));
        assert_eq!(messages[1].state, DeliveryState::Sent);
    }

    #[test]
    fn stored_messages_come_in_seq_order_with_pending_ones_last() {
        let mut messages = Vec::new();
        upsert_all(
            &mut messages,
            vec![
                pending("p2", 20),
                message(3, "c", PEER),
                pending("p1", 10),
                message(1, "a", PEER),
                own(2, "b"),
            ],
        );
        assert_eq!(client_ids(&messages), ["a", "b", "c", "p1", "p2"]);
    }

    #[test]
    fn a_late_pending_echo_does_not_undo_an_ack() {
        let mut messages = vec![own(4, "mine")];
        upsert(&mut messages, pending("mine", 10));
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].seq, Some(4));
        assert_eq!(messages[0].state, DeliveryState::Sent);
    }

    #[test]
    fn a_late_ack_does_not_undo_a_read_receipt() {
        let mut messages = vec![own(4, "mine")];
        apply_read_receipt(&mut messages, &UserId::new(ME), 4);
        upsert(&mut messages, own(4, "mine"));
        assert_eq!(messages[0].state, DeliveryState::Read);
    }

    #[test]
    fn the_same_client_id_from_two_senders_is_two_messages() {
        let mut messages = vec![own(1, "x")];
        upsert(&mut messages, message(2, "x", PEER));
        assert_eq!(messages.len(), 2);
    }

    #[test]
    fn read_receipts_turn_my_messages_up_to_the_pointer_read() {
        let mut messages = vec![own(1, "a"), message(2, "b", PEER), own(3, "c"), own(5, "e")];
        messages.push(pending("p", 10));
        assert!(apply_read_receipt(&mut messages, &UserId::new(ME), 3));
        let states: Vec<_> = messages.iter().map(|m| m.state).collect();
        assert_eq!(
            states,
            [
                DeliveryState::Read,
                DeliveryState::Sent, // the peer's own message is not "mine"
                DeliveryState::Read,
                DeliveryState::Sent, // above the pointer
                DeliveryState::Pending,
            ]
        );
        assert!(!apply_read_receipt(&mut messages, &UserId::new(ME), 3));
    }

    #[test]
    fn discard_removes_only_the_outbox_message() {
        let mut messages = vec![own(1, "a"), pending("p", 10)];
        assert!(discard(&mut messages, &ClientId::new("p")));
        assert_eq!(client_ids(&messages), ["a"]);
        assert!(
            !discard(&mut messages, &ClientId::new("a")),
            "stored ones stay"
        );
    }

    #[test]
    fn merging_a_fresh_newest_page_keeps_older_history() {
        let mut held = page(vec![message(1, "a", PEER), message(2, "b", PEER)], false);
        let fresh = page(vec![message(2, "b", PEER), message(3, "c", PEER)], true);
        merge_newest(&mut held, fresh);
        assert_eq!(client_ids(&held.messages), ["a", "b", "c"]);
        assert!(
            !held.has_more_before,
            "the held page already reaches further back"
        );
    }

    #[test]
    fn a_fresh_page_beyond_a_gap_replaces_what_is_held() {
        let mut held = page(vec![message(1, "a", PEER), message(2, "b", PEER)], false);
        let fresh = page(vec![message(80, "x", PEER), message(81, "y", PEER)], true);
        merge_newest(&mut held, fresh);
        assert_eq!(client_ids(&held.messages), ["x", "y"]);
        assert!(held.has_more_before);
    }

    #[test]
    fn an_older_page_goes_before_and_sets_has_more() {
        let mut held = page(vec![message(3, "c", PEER), pending("p", 10)], true);
        merge_older(
            &mut held,
            page(vec![message(1, "a", PEER), message(2, "b", PEER)], false),
        );
        assert_eq!(client_ids(&held.messages), ["a", "b", "c", "p"]);
        assert!(!held.has_more_before);
        assert_eq!(lowest_seq(&held), Some(1));
        assert_eq!(newest_seq(&held), Some(3));
    }
}
