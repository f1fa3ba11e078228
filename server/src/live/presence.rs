//! Presence across devices: a user is online from their first connection until their last one
//! closes plus a grace period, so a quick reconnect does not flap. Pure state; the caller runs
//! the grace timer and announces the transitions this reports.

use std::collections::HashMap;
use std::sync::Mutex;

use tutorchat_shared::UserId;

#[derive(Debug, Default)]
pub struct Presence {
    /// A std mutex: held only to update a counter.
    users: Mutex<HashMap<UserId, Entry>>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    connections: usize,
    /// Bumped when the last connection closes; a grace timer only expires its own generation.
    generation: u64,
}

impl Presence {
    /// Online: connected, or within the grace after the last connection closed.
    pub fn is_online(&self, user: &UserId) -> bool {
        self.lock().contains_key(user)
    }

    /// Counts a connection; true if the user just came online (announce it).
    pub fn connect(&self, user: &UserId) -> bool {
        let mut users = self.lock();
        match users.get_mut(user) {
            Some(entry) => {
                entry.connections += 1;
                false
            }
            None => {
                users.insert(
                    user.clone(),
                    Entry {
                        connections: 1,
                        generation: 0,
                    },
                );
                true
            }
        }
    }

    /// Drops a connection; `Some(generation)` if it was the last one: start the grace timer
    /// and call [`Presence::expire`] with it when it runs out.
    pub fn disconnect(&self, user: &UserId) -> Option<u64> {
        let mut users = self.lock();
        let entry = users.get_mut(user)?;
        entry.connections = entry.connections.saturating_sub(1);
        if entry.connections == 0 {
            entry.generation += 1;
            Some(entry.generation)
        } else {
            None
        }
    }

    /// Ends the grace: true if the user is now offline (announce it); false if they came back.
    pub fn expire(&self, user: &UserId, generation: u64) -> bool {
        let mut users = self.lock();
        match users.get(user) {
            Some(entry) if entry.connections == 0 && entry.generation == generation => {
                users.remove(user);
                true
            }
            _ => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Entry>> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_until_the_last_device_leaves_and_the_grace_ends() {
        let p = Presence::default();
        let sam = UserId::new("s-sam");
        assert!(p.connect(&sam), "first device announces online");
        assert!(!p.connect(&sam), "second device does not");
        assert_eq!(p.disconnect(&sam), None, "one device is still there");
        let generation = p.disconnect(&sam).expect("last device left");
        assert!(p.is_online(&sam), "still online during the grace");
        assert!(p.expire(&sam, generation));
        assert!(!p.is_online(&sam));
    }

    #[test]
    fn a_reconnect_within_the_grace_cancels_the_offline() {
        let p = Presence::default();
        let sam = UserId::new("s-sam");
        p.connect(&sam);
        let generation = p.disconnect(&sam).expect("last");
        assert!(
            !p.connect(&sam),
            "back within the grace: no new announcement"
        );
        assert!(!p.expire(&sam, generation), "the old timer does nothing");
        assert!(p.is_online(&sam));
    }
}
