//! Token-bucket rate limiting, keyed by user or address.
//!
//! A bucket holds up to `burst` tokens and refills at `per_second`; each request takes one.
//! Full buckets are forgotten from time to time, so memory follows active callers only.
//!
//! Why not `governor`: its keyed limiter would do, but it answers in GCRA terms and its
//! `NotUntil` needs a clock to turn into the whole seconds of `Retry-After`; the contract here
//! (burst, refill, a zero rate meaning "off", `retry_after_secs` rounding up) is pinned by the
//! tests below and by clients that honour `retry_after_secs`, and this file is 100 lines with
//! no `unsafe`. Revisit if limits ever need to be shared between nodes (a Redis limiter then).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::locks::lock;

/// Forget full buckets once the map grows past this many keys.
const SWEEP_AT: usize = 10_000;

#[derive(Debug)]
pub struct RateLimiter<K> {
    per_second: f64,
    burst: f64,
    /// A std mutex: held for a few arithmetic operations, never across `.await`.
    buckets: Mutex<HashMap<K, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A single token bucket, for a limit owned by one task (a WebSocket connection's frames).
#[derive(Debug, Clone, Copy)]
pub struct TokenBucket {
    per_second: f64,
    burst: f64,
    bucket: Bucket,
}

impl TokenBucket {
    pub fn new(per_second: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            per_second,
            burst,
            bucket: Bucket {
                tokens: burst,
                at: Instant::now(),
            },
        }
    }

    /// Takes one token, or says how long until one is there. A zero rate never refuses.
    pub fn take(&mut self) -> Result<(), Duration> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        self.bucket.tokens = self.bucket.refilled(now, self.per_second, self.burst);
        self.bucket.at = now;
        if self.bucket.tokens >= 1.0 {
            self.bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.bucket.tokens) / self.per_second,
            ))
        }
    }
}

impl<K: Eq + Hash + Clone> RateLimiter<K> {
    /// `per_second` sustained, `burst` at once. A zero rate disables limiting.
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self {
            per_second,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`, or says how long until one is there.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = lock(&self.buckets);
        if buckets.len() >= SWEEP_AT {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| b.refilled(now, rate, burst) < burst);
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        bucket.tokens = bucket.refilled(now, self.per_second, self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }
}

impl Bucket {
    fn refilled(&self, now: Instant, per_second: f64, burst: f64) -> f64 {
        let elapsed = now.duration_since(self.at).as_secs_f64();
        (self.tokens + elapsed * per_second).min(burst)
    }
}

/// Whole seconds to put in `Retry-After` (at least 1).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_is_allowed_then_refused_with_a_wait() {
        let limiter = RateLimiter::new(1.0, 3);
        for _ in 0..3 {
            assert!(limiter.check(&"sam").is_ok());
        }
        let wait = limiter
            .check(&"sam")
            .expect_err("fourth request is over the burst");
        assert!(wait <= Duration::from_secs(1));
        assert_eq!(retry_after_secs(wait), 1);
        assert!(limiter.check(&"ada").is_ok(), "buckets are per key");
    }

    #[test]
    fn zero_rate_means_unlimited() {
        let limiter = RateLimiter::new(0.0, 1);
        for _ in 0..100 {
            assert!(limiter.check(&1).is_ok());
        }
    }
}
