//! Each chat's line of delivery on this node, when several nodes share the work: messages
//! reach the node from its own commits and from the bus, and the bus is only a hint (it may
//! lose, delay or repeat). A line delivers a chat's messages in seq order, once: the next
//! seq goes out at once, an old one is dropped, and one past a gap is held while the gap is
//! filled from the database (which has every seq below any committed one: a seq is taken
//! under the chat's row lock, so the one before it committed first). Pure state; the hub
//! pushes what it answers and the cluster runs the fills.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use tutorchat_shared::{ChatId, Message, UserId};

use super::ConnId;

/// Past this many chats the lines start over (a new line trusts its first message).
const MAX_LINES: usize = 100_000;

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
            self.chats.clear();
        }
        let line = self.chats.entry(chat).or_insert_with(|| Line {
            last: seq.saturating_sub(1),
            filling: false,
            held: BTreeMap::new(),
            members: pending.members.clone(),
        });
        let mut verdict = Verdict::default();
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
                for message in messages {
                    if message.seq == line.last + 1 {
                        line.last = message.seq;
                        verdict.deliver.push(Pending {
                            message,
                            members: line.members.clone(),
                            origin: None,
                            committed: Instant::now(),
                        });
                    }
                }
            }
            None => {
                if let Some(&first) = line.held.keys().next() {
                    line.last = line.last.max(first - 1);
                }
            }
        }
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

    #[test]
    fn in_order_goes_out_at_once_and_repeats_are_dropped() {
        let mut lines = Lines::default();
        assert_eq!(
            seqs(&lines.offer(pending(4))),
            [4],
            "a new line trusts its first"
        );
        assert_eq!(seqs(&lines.offer(pending(5))), [5]);
        assert!(seqs(&lines.offer(pending(5))).is_empty(), "a repeat");
        assert!(seqs(&lines.offer(pending(3))).is_empty(), "an old one");
    }

    #[test]
    fn a_gap_holds_what_follows_until_the_fill_brings_the_missing() {
        let mut lines = Lines::default();
        lines.offer(pending(1));
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
        let mut lines = Lines::default();
        lines.offer(pending(1));
        lines.offer(pending(3));
        let done = lines.filled(ChatId(1), None);
        assert_eq!(seqs(&done), [3]);
        assert_eq!(seqs(&lines.offer(pending(4))), [4], "and the line goes on");
    }
}
