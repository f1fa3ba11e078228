//! Who is online: a count of live connections per user.
//!
//! The REST API reads it for the `online` flags; the WebSocket layer will register and drop
//! connections here. A user is online while their count is above zero.

use std::collections::HashMap;
use std::sync::Mutex;

use tutorchat_shared::UserId;

#[derive(Debug, Default)]
pub struct Presence {
    /// A std mutex: held only to read or bump a counter.
    connections: Mutex<HashMap<UserId, usize>>,
}

impl Presence {
    pub fn is_online(&self, user: &UserId) -> bool {
        self.lock().get(user).is_some_and(|n| *n > 0)
    }

    /// Counts a new connection; returns true if the user just came online.
    pub fn connect(&self, user: &UserId) -> bool {
        let mut map = self.lock();
        let n = map.entry(user.clone()).or_insert(0);
        *n += 1;
        *n == 1
    }

    /// Drops a connection; returns true if it was the user's last.
    pub fn disconnect(&self, user: &UserId) -> bool {
        let mut map = self.lock();
        match map.get_mut(user) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                map.remove(user);
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, usize>> {
        self.connections.lock().unwrap_or_else(|p| p.into_inner())
    }
}
