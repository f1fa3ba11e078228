//! Each chat's line of delivery on this node, when several nodes share the work: messages
//! reach the node from its own commits and from the bus, and the bus is only a hint (it may
//! lose, delay or repeat). A line delivers a chat's messages in seq order, once: the next
//! seq goes out at once, an old one is dropped, and one past a gap is held while the gap is
//! filled from the database, which has every seq below any committed one (a seq is taken
//! under the chat's row lock, so the one before it committed first). A new line first reads
//! the few seqs before its first message, in case one is still on its way. Pure state; the
//! hub pushes what it answers and the cluster runs the fills.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use tutorchat_shared::{ChatId, Message, UserId};

use super::ConnId;

/// Past this many chats, idle lines are forgotten.
const MAX_LINES: usize = 100_000;
/// A new line does not trust its first message: messages this far before it may still be on
/// their way (a send on another node committed just before it), so the line starts with a
/// fill from there, and delivers those of them written in the last [`RECENT`] (older ones
/// were delivered before this line existed, or reach a device through its sync).
const LOOKBACK: u64 = 8;
const RECENT: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// A message on its way to this node's connections.
#[derive(Debug, Clone)]
pub struct Pending {
    pub message: Message,
    pub members: [UserId; 2],
    /// The connection that sent it (it gets an ack instead), if it is on this node.
    pub origin: Option<ConnId>,
    pub committed: Instant,
}

#[derive(Debug, Default)]
pub struct Lines {
    chats: HashMap<ChatId, Line>,
}

#[derive(Debug)]
struct Line {
    /// The last seq delivered.
    last: u64,
    /// A fill is running: everything new waits in `held`.
    filling: bool,
    /// Its first fill has not come back yet (see [`LOOKBACK`]).
    fresh: bool,
    held: BTreeMap<u64, Pending>,
    members: [UserId; 2],
}

/// What to do after offering a message or a fill's result.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Deliver these now, in this order.
    pub deliver: Vec<Pending>,
    /// Start a fill of the chat's messages after this seq.
    pub fill_after: Option<u64>,
}

impl Lines {
    pub fn offer(&mut self, pending: Pending) -> Verdict {
        let chat = pending.message.chat_id;
        let seq = pending.message.seq;
        if self.chats.len() >= MAX_LINES && !self.chats.contains_key(&chat) {
            self.chats.retain(|_, line| line.filling);
        }
        let mut verdict = Verdict::default();
        let line = match self.chats.entry(chat) {
            std::collections::hash_map::Entry::Occupied(line) => line.into_mut(),
            std::collections::hash_map::Entry::Vacant(vacant) => {
                let last = seq.saturating_sub(1 + LOOKBACK);
                let line = vacant.insert(Line {
                    last,
                    filling: true,
                    fresh: true,
                    held: BTreeMap::new(),
                    members: pending.members.clone(),
                });
                line.held.insert(seq, pending);
                verdict.fill_after = Some(last);
                return verdict;
            }
        };
        if seq <= line.last {
            return verdict;
        }
        if line.filling || seq > line.last + 1 {
            line.held.insert(seq, pending);
            if !line.filling {
                line.filling = true;
                verdict.fill_after = Some(line.last);
            }
            return verdict;
        }
        line.last = seq;
        verdict.deliver.push(pending);
        drain(line, &mut verdict.deliver);
        verdict
    }

    /// A fill's result: the chat's messages after the seq it was asked for, ascending, or
    /// `None` if the database could not answer (then what is held goes out as it is, and a
    /// client that sees the gap re-syncs).
    pub fn filled(&mut self, chat: ChatId, fetched: Option<Vec<Message>>) -> Verdict {
        let mut verdict = Verdict::default();
        let Some(line) = self.chats.get_mut(&chat) else {
            return verdict;
        };
        let before = line.last;
        match fetched {
            Some(messages) => {
                let recent = chrono::Utc::now() - RECENT;
                for message in messages {
                    let old = line.fresh
                        && message.created_at < recent
                        && !line.held.contains_key(&message.seq);
                    if message.seq == line.last + 1 && old {
                        line.last = message.seq;
                    } else if message.seq == line.last + 1 {
                        line.last = message.seq;
                        // The copy held here, if any, knows which connection sent it.
                        let pending = line.held.remove(&message.seq).unwrap_or(Pending {
                            message,
                            members: line.members.clone(),
                            origin: None,
                            committed: Instant::now(),
                        });
                        verdict.deliver.push(pending);
                    }
                }
            }
            None => {
                if let Some(&first) = line.held.keys().next() {
                    line.last = line.last.max(first - 1);
                }
            }
        }
        line.fresh = false;
        drain(line, &mut verdict.deliver);
        if line.held.is_empty() {
            line.filling = false;
        } else if line.last > before {
            verdict.fill_after = Some(line.last);
        } else {
            // No progress: the database does not have what the bus promised. Go on.
            if let Some(&first) = line.held.keys().next() {
                line.last = first - 1;
            }
            drain(line, &mut verdict.deliver);
            line.filling = !line.held.is_empty();
            if line.filling {
                verdict.fill_after = Some(line.last);
            }
        }
        verdict
    }

    /// The chats with a line, and the last seq each delivered (to check after the bus was
    /// away).
    pub fn positions(&self) -> Vec<(ChatId, u64)> {
        self.chats
            .iter()
            .filter(|(_, line)| !line.filling)
            .map(|(chat, line)| (*chat, line.last))
            .collect()
    }
}

/// Moves what is held and now next in line to `out`; drops what is already delivered.
fn drain(line: &mut Line, out: &mut Vec<Pending>) {
    while let Some(entry) = line.held.first_entry() {
        let seq = *entry.key();
        if seq <= line.last {
            entry.remove();
        } else if seq == line.last + 1 {
            line.last = seq;
            out.push(entry.remove());
        } else {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use tutorchat_shared::{ClientId, MessageId, MessageKind};

    use super::*;

    fn message(seq: u64) -> Message {
        Message {
            id: MessageId(i64::try_from(seq).expect("small")),
            chat_id: ChatId(1),
            seq,
            sender_id: UserId::new("s"),
            client_id: ClientId::new(format!("c-{seq}")),
            kind: MessageKind::Text,
            content: String::new(),
            created_at: Utc::now(),
            attachment: None,
        }
    }

    fn pending(seq: u64) -> Pending {
        Pending {
            message: message(seq),
            members: [UserId::new("s"), UserId::new("t")],
            origin: None,
            committed: Instant::now(),
        }
    }

    fn seqs(verdict: &Verdict) -> Vec<u64> {
        verdict.deliver.iter().map(|p| p.message.seq).collect()
    }

    /// A line that has delivered up to `last`.
    fn started(last: u64) -> Lines {
        let mut lines = Lines::default();
        let first = lines.offer(pending(last));
        assert!(
            first.deliver.is_empty(),
            "a new line holds its first message"
        );
        let from = first.fill_after.expect("and fills first");
        let before: Vec<Message> = (from + 1..last).map(message).collect();
        let done = lines.filled(ChatId(1), Some(before));
        assert_eq!(seqs(&done).last(), Some(&last));
        lines
    }

    #[test]
    fn a_new_line_first_brings_what_may_still_be_on_its_way() {
        let mut lines = Lines::default();
        let mut first = pending(20);
        first.origin = Some(7);
        let verdict = lines.offer(first);
        assert!(verdict.deliver.is_empty());
        assert_eq!(verdict.fill_after, Some(20 - 1 - LOOKBACK));
        // Seq 19 committed on another node just before and is still on the bus.
        let done = lines.filled(ChatId(1), Some((12..=20).map(message).collect()));
        assert_eq!(seqs(&done), (12..=20).collect::<Vec<_>>());
        assert_eq!(
            done.deliver.last().and_then(|p| p.origin),
            Some(7),
            "the held copy, which knows its sender's connection, goes out"
        );
        assert!(
            seqs(&lines.offer(pending(19))).is_empty(),
            "19 arrives late: dropped"
        );
        assert_eq!(seqs(&lines.offer(pending(21))), [21]);
    }

    #[test]
    fn a_new_line_does_not_replay_old_history() {
        let mut lines = Lines::default();
        let verdict = lines.offer(pending(30));
        let mut before: Vec<Message> = (30 - LOOKBACK..30).map(message).collect();
        for m in &mut before[..LOOKBACK as usize - 1] {
            m.created_at = Utc::now() - chrono::TimeDelta::hours(1);
        }
        let done = lines.filled(ChatId(1), Some(before));
        assert_eq!(verdict.fill_after, Some(30 - 1 - LOOKBACK));
        assert_eq!(
            seqs(&done),
            [29, 30],
            "only the one written just now, then the first"
        );
    }

    #[test]
    fn in_order_goes_out_at_once_and_repeats_are_dropped() {
        let mut lines = started(4);
        assert_eq!(seqs(&lines.offer(pending(5))), [5]);
        assert!(seqs(&lines.offer(pending(5))).is_empty(), "a repeat");
        assert!(seqs(&lines.offer(pending(3))).is_empty(), "an old one");
    }

    #[test]
    fn a_gap_holds_what_follows_until_the_fill_brings_the_missing() {
        let mut lines = started(1);
        let gap = lines.offer(pending(4));
        assert!(gap.deliver.is_empty());
        assert_eq!(gap.fill_after, Some(1), "fill after the last delivered");
        let waiting = lines.offer(pending(5));
        assert!(
            waiting.deliver.is_empty() && waiting.fill_after.is_none(),
            "held"
        );
        let done = lines.filled(ChatId(1), Some(vec![message(2), message(3), message(4)]));
        assert_eq!(
            seqs(&done),
            [2, 3, 4, 5],
            "the fill, then what was held, once"
        );
        assert_eq!(done.fill_after, None);
        assert_eq!(seqs(&lines.offer(pending(6))), [6]);
    }

    #[test]
    fn a_fill_that_cannot_answer_lets_the_held_messages_go() {
        let mut lines = started(1);
        lines.offer(pending(3));
        let done = lines.filled(ChatId(1), None);
        assert_eq!(seqs(&done), [3]);
        assert_eq!(seqs(&lines.offer(pending(4))), [4], "and the line goes on");
    }
}
