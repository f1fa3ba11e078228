//! Who is typing in which chat. Every start gets a generation; the expiry timer started with
//! it only clears the state if no later start or stop happened, so "typing…" never sticks.

use std::collections::HashMap;
use std::sync::Mutex;

use tutorchat_shared::{ChatId, UserId};

use crate::locks::lock;

#[derive(Debug, Default)]
pub struct Typing {
    /// A std mutex: held only to update the map.
    state: Mutex<HashMap<(ChatId, UserId), u64>>,
    next_generation: std::sync::atomic::AtomicU64,
}

impl Typing {
    /// Marks the user typing; returns the generation for its expiry timer and whether this is
    /// a change (not a refresh of an ongoing one) worth announcing.
    pub fn start(&self, chat: ChatId, user: &UserId) -> (u64, bool) {
        let generation = self
            .next_generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let previous = lock(&self.state).insert((chat, user.clone()), generation);
        (generation, previous.is_none())
    }

    /// Clears the state; true if the user was typing (announce the stop).
    pub fn stop(&self, chat: ChatId, user: &UserId) -> bool {
        lock(&self.state).remove(&(chat, user.clone())).is_some()
    }

    /// Clears the state if it is still from `generation`; true if it was (announce the stop).
    pub fn expire(&self, chat: ChatId, user: &UserId, generation: u64) -> bool {
        let mut state = lock(&self.state);
        let key = (chat, user.clone());
        if state.get(&key) == Some(&generation) {
            state.remove(&key);
            true
        } else {
            false
        }
    }

    /// The users typing in a chat now.
    pub fn in_chat(&self, chat: ChatId) -> Vec<UserId> {
        lock(&self.state)
            .keys()
            .filter(|(c, _)| *c == chat)
            .map(|(_, u)| u.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_keeps_typing_alive_past_the_first_timer() {
        let t = Typing::default();
        let ada = UserId::new("t-ada");
        let (first, announce) = t.start(ChatId(1), &ada);
        assert!(announce);
        let (second, announce_again) = t.start(ChatId(1), &ada);
        assert!(!announce_again, "a refresh is not announced twice");
        assert!(
            !t.expire(ChatId(1), &ada, first),
            "the first timer is stale"
        );
        assert_eq!(t.in_chat(ChatId(1)), vec![ada.clone()]);
        assert!(t.expire(ChatId(1), &ada, second));
        assert!(t.in_chat(ChatId(1)).is_empty());
    }
}
