//! Presence across devices and nodes: a user is online from their first connection until their
//! last one closes plus a grace period, so a quick reconnect does not flap. This node counts
//! its own connections; with several nodes it also holds which other nodes say the user is
//! online there (the cluster feeds it). Pure state; the caller runs the timers and announces
//! the transitions this reports.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use tutorchat_shared::UserId;

use crate::locks::lock;

/// Another server node's id.
pub type NodeId = u64;

#[derive(Debug, Default)]
pub struct Presence {
    /// A std mutex: held only to update a counter.
    users: Mutex<HashMap<UserId, Entry>>,
    /// Users online on other nodes, and on which. A std mutex, as above.
    remote: Mutex<HashMap<UserId, BTreeSet<NodeId>>>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    connections: usize,
    /// Bumped when the last connection closes; a grace timer only expires its own generation.
    generation: u64,
}

impl Presence {
    /// Online: connected here or on another node, or within the grace after the last
    /// connection closed.
    pub fn is_online(&self, user: &UserId) -> bool {
        self.is_online_here(user) || self.is_online_elsewhere(user)
    }

    /// Online on this node (connected, or within the grace).
    pub fn is_online_here(&self, user: &UserId) -> bool {
        self.lock().contains_key(user)
    }

    fn is_online_elsewhere(&self, user: &UserId) -> bool {
        lock(&self.remote).contains_key(user)
    }

    /// Users online on this node (what it tells the other nodes).
    pub fn online_here(&self) -> Vec<UserId> {
        self.lock().keys().cloned().collect()
    }

    /// `node` says whether `user` is online there. True if that changes whether the user is
    /// online at all (announce it to this node's connections).
    pub fn set_remote(&self, user: &UserId, node: NodeId, online: bool) -> bool {
        let before = self.is_online(user);
        {
            let mut remote = lock(&self.remote);
            if online {
                remote.entry(user.clone()).or_default().insert(node);
            } else if let Some(nodes) = remote.get_mut(user) {
                nodes.remove(&node);
                if nodes.is_empty() {
                    remote.remove(user);
                }
            }
        }
        before != self.is_online(user)
    }

    /// `node` says exactly these users are online there (a snapshot: after it joined, or
    /// after the bus came back). Answers every user whose being online at all changed, with
    /// whether they are online now.
    pub fn replace_remote(&self, node: NodeId, users: &[UserId]) -> Vec<(UserId, bool)> {
        let listed: BTreeSet<&UserId> = users.iter().collect();
        let before: Vec<UserId> = lock(&self.remote)
            .iter()
            .filter(|(user, nodes)| nodes.contains(&node) && !listed.contains(user))
            .map(|(user, _)| user.clone())
            .collect();
        let mut changed = Vec::new();
        for user in before {
            if self.set_remote(&user, node, false) {
                changed.push((user, false));
            }
        }
        for user in users {
            if self.set_remote(user, node, true) {
                changed.push((user.clone(), true));
            }
        }
        changed
    }

    /// `node` is gone (no heartbeat): its users are no longer online there. Answers those now
    /// offline everywhere.
    pub fn forget_node(&self, node: NodeId) -> Vec<UserId> {
        self.replace_remote(node, &[])
            .into_iter()
            .map(|(user, _)| user)
            .collect()
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
        lock(&self.users)
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

    #[test]
    fn online_elsewhere_until_every_node_says_otherwise_or_is_gone() {
        let p = Presence::default();
        let sam = UserId::new("s-sam");
        assert!(p.set_remote(&sam, 7, true), "online on node 7: a change");
        assert!(!p.set_remote(&sam, 8, true), "and on node 8: none");
        assert!(p.is_online(&sam) && !p.is_online_here(&sam));
        assert!(!p.set_remote(&sam, 7, false), "still on node 8");
        assert_eq!(p.forget_node(8), vec![sam.clone()], "node 8 died");
        assert!(!p.is_online(&sam));

        p.connect(&sam);
        assert!(!p.set_remote(&sam, 7, true), "already online here");
        let ada = UserId::new("t-ada");
        p.set_remote(&ada, 7, true);
        let changed = p.replace_remote(7, std::slice::from_ref(&sam));
        assert_eq!(
            changed,
            vec![(ada.clone(), false)],
            "the snapshot drops ada"
        );
        assert!(p.is_online(&sam) && !p.is_online(&ada));
    }
}
