//! When each connection's access token expires: one ordered map for the node, swept once a
//! second, instead of a timer inside every connection's task. A timer is ~0.1 KiB of each idle
//! connection's state for as long as it is open (README, Performance: idle sockets); an entry
//! here is a key and a weak pointer. A connection closes within a second of its expiry.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};

use super::hub::ConnId;
use super::queue::ConnQueue;

use crate::locks::lock;

/// Connections by (expiry in seconds since the epoch, id).
#[derive(Debug, Default)]
pub struct Expiries {
    /// A std mutex: held for an insert, a removal or a split, never across `.await`.
    by_time: Mutex<BTreeMap<(i64, ConnId), Weak<ConnQueue>>>,
}

impl Expiries {
    pub fn insert(&self, expires_at: i64, id: ConnId, queue: &Arc<ConnQueue>) {
        lock(&self.by_time).insert((expires_at, id), Arc::downgrade(queue));
    }

    /// The connection closed before its token expired.
    pub fn remove(&self, expires_at: i64, id: ConnId) {
        lock(&self.by_time).remove(&(expires_at, id));
    }

    /// Takes out the connections whose tokens expired at or before `now`.
    pub fn take_due(&self, now: i64) -> Vec<Arc<ConnQueue>> {
        let due = {
            let mut by_time = lock(&self.by_time);
            let later = by_time.split_off(&(now.saturating_add(1), 0));
            std::mem::replace(&mut *by_time, later)
        };
        due.into_values().filter_map(|q| q.upgrade()).collect()
    }

    pub fn len(&self) -> usize {
        lock(&self.by_time).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_connections_come_out_once_in_expiry_order_and_closed_ones_not_at_all() {
        let expiries = Expiries::default();
        let queues: Vec<Arc<ConnQueue>> = (0..4).map(|_| Arc::new(ConnQueue::new(4))).collect();
        expiries.insert(100, 1, &queues[0]);
        expiries.insert(101, 2, &queues[1]);
        expiries.insert(100, 3, &queues[2]);
        expiries.insert(200, 4, &queues[3]);
        // Connection 3 closed before its token expired.
        expiries.remove(100, 3);

        assert!(expiries.take_due(99).is_empty());
        let due = expiries.take_due(101);
        assert_eq!(due.len(), 2);
        assert!(Arc::ptr_eq(&due[0], &queues[0]) && Arc::ptr_eq(&due[1], &queues[1]));
        assert!(expiries.take_due(101).is_empty(), "taken once");
        assert_eq!(expiries.len(), 1);
        // A queue dropped without its removal (a connection's task that panicked) is skipped.
        let gone = Arc::new(ConnQueue::new(4));
        expiries.insert(150, 5, &gone);
        drop(gone);
        let due = expiries.take_due(300);
        assert_eq!(due.len(), 1);
        assert!(Arc::ptr_eq(&due[0], &queues[3]));
        assert!(expiries.is_empty());
    }
}
