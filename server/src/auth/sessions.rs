//! Signed-out sessions whose access tokens have not expired yet.
//!
//! Access tokens are checked without the store, so signing out alone would leave a session's
//! token working until its `exp`. Signing out (or a detected refresh-token theft) puts the
//! session id here until the last token it could have minted has expired; the token check
//! refuses any token naming a listed session. The list is rebuilt from the store at start.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::locks::lock;

#[derive(Debug, Default)]
pub struct RevokedSessions {
    /// Session id → when its last access token expires. A std mutex: held for a lookup.
    until: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl RevokedSessions {
    /// Refuses the session's tokens until `until`.
    pub fn revoke(&self, sid: &str, until: DateTime<Utc>) {
        let now = Utc::now();
        let mut map = lock(&self.until);
        map.retain(|_, expiry| *expiry > now);
        map.insert(sid.to_owned(), until);
    }

    pub fn is_revoked(&self, sid: &str) -> bool {
        lock(&self.until)
            .get(sid)
            .is_some_and(|until| *until > Utc::now())
    }

    /// Sessions listed now (for metrics and tests).
    pub fn len(&self) -> usize {
        lock(&self.until).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn a_revoked_session_is_refused_until_its_tokens_expire() {
        let revoked = RevokedSessions::default();
        assert!(!revoked.is_revoked("s1"));
        revoked.revoke("s1", Utc::now() + Duration::minutes(15));
        revoked.revoke("old", Utc::now() - Duration::seconds(1));
        assert!(revoked.is_revoked("s1"));
        assert!(!revoked.is_revoked("old"));
        assert!(!revoked.is_revoked("s2"));
        revoked.revoke("s3", Utc::now() + Duration::minutes(1));
        assert_eq!(revoked.len(), 2, "expired entries are swept");
    }
}
