//! What the device knows of right now: who is online and who is typing where. Typing expires
//! on its own here too, so a lost `typing: false` never leaves "typing…" on screen.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tutorchat_shared::{ChatId, UserId};

/// Longest a typing indicator is shown without being renewed.
pub const TYPING_TTL: Duration = Duration::from_secs(8);

#[derive(Debug, Default)]
pub struct LiveState {
    /// A std mutex: held for a lookup or update only.
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    online: HashSet<UserId>,
    typing: HashMap<(ChatId, UserId), Instant>,
}

impl LiveState {
    pub fn set_online(&self, user: &UserId, online: bool) -> bool {
        let mut inner = self.lock();
        if online {
            inner.online.insert(user.clone())
        } else {
            inner.online.remove(user)
        }
    }

    pub fn is_online(&self, user: &UserId) -> bool {
        self.lock().online.contains(user)
    }

    /// Forgets everything (the connection is gone: nothing is known to be current).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.online.clear();
        inner.typing.clear();
    }

    pub fn set_typing(&self, chat: ChatId, user: &UserId, typing: bool) {
        let mut inner = self.lock();
        if typing {
            inner
                .typing
                .insert((chat, user.clone()), Instant::now() + TYPING_TTL);
        } else {
            inner.typing.remove(&(chat, user.clone()));
        }
    }

    /// Whether someone other than `me` types in `chat` now.
    pub fn someone_typing(&self, chat: ChatId, me: &UserId) -> bool {
        let now = Instant::now();
        self.lock()
            .typing
            .iter()
            .any(|((c, u), until)| *c == chat && u != me && *until > now)
    }

    /// Drops typing entries past their time; returns them so the caller can announce it.
    pub fn expire_typing(&self) -> Vec<(ChatId, UserId)> {
        let now = Instant::now();
        let mut inner = self.lock();
        let expired: Vec<_> = inner
            .typing
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in &expired {
            inner.typing.remove(key);
        }
        expired
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}
