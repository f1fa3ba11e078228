//! Overload: how long committed messages wait for a CPU before they reach a socket, and how
//! many new sends to refuse because of it.
//!
//! Past saturation the cores cannot keep up, and everything — reading frames, committing,
//! writing deliveries — waits in one line: without a limit, every message then waits seconds.
//! The writer's queue limit does not see this (the queue is the CPU, not the writer). So every
//! delivery reports how long it waited between its commit and its write ([`Overload::note`]),
//! and every [`WINDOW`] their mean is the window's delay. (Not their minimum, as CoDel takes for
//! a FIFO queue: the run queue is not one — a delivery to a connection whose task is already
//! about to run is written at once however long the line is, so the minimum stayed near zero
//! while the mean was 230 ms.) While it is over the threshold, a growing share of new sends is refused at once with
//! `rate_limited` (retry in 1 s); once it is back under half the threshold, the share shrinks
//! again. A refusal costs a frame read and one small write, a send a commit and a write per
//! device, so refusing some keeps the rest fast instead of making all of them slow.
//!
//! (A timer that notes how late it wakes does not see this queue: tokio runs a task woken by
//! its own timer or I/O ahead of the queue, so such a probe woke on time while deliveries
//! waited for seconds.)

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::locks::lock;

/// How long each measurement lasts.
const WINDOW: Duration = Duration::from_millis(100);
/// Shares are in thousandths.
const ALL: u32 = 1000;
/// Windows in a row over the threshold before any send is refused: a second of it. A slow
/// disk sync (this machine's disk stalled up to 240 ms now and then, even with nothing else
/// running) holds every send, which then commit at once; near full load the burst takes a
/// second or so to drain, and refusing during it would only make those senders wait the
/// retry's second. A queue that lasts longer is more work than the CPU can do.
const OVER_IN_A_ROW: u32 = 10;
/// How much the refused share grows after each further window over the threshold…
const STEP_UP: u32 = 100;
/// …and shrinks after one under half of it.
const STEP_DOWN: u32 = 50;

/// The deliveries' wait and the share of sends refused because of it.
#[derive(Debug)]
pub struct Overload {
    /// The waits noted since the window opened: their sum in microseconds, and how many.
    waited_us: AtomicU64,
    waits: AtomicU64,
    /// Thousandths of new sends refused now.
    refused: AtomicU32,
    controller: Mutex<Controller>,
}

impl Overload {
    /// `threshold` zero turns refusing off (the delay is still measured).
    pub fn new(threshold: Duration) -> Arc<Overload> {
        Arc::new(Overload {
            waited_us: AtomicU64::new(0),
            waits: AtomicU64::new(0),
            refused: AtomicU32::new(0),
            controller: Mutex::new(Controller::new(threshold)),
        })
    }

    /// A committed message waited `delay` for its connection to write it.
    pub fn note(&self, delay: Duration) {
        let us = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.waited_us.fetch_add(us, Ordering::Relaxed);
        self.waits.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether to take a new send now (false: refuse it as busy).
    pub fn admit(&self) -> bool {
        match self.refused.load(Ordering::Relaxed) {
            0 => true,
            share if share >= ALL => false,
            share => rand::random::<u32>() % ALL >= share,
        }
    }

    /// Thousandths of new sends refused now.
    pub fn refused_share(&self) -> u32 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Starts closing a window every [`WINDOW`] on the current runtime. The task holds only a
    /// weak handle and ends once the last strong one is dropped.
    pub fn watch(self: &Arc<Self>) {
        let me = Arc::downgrade(self);
        tokio::spawn(close_windows(me));
    }

    /// Closes the window; returns its mean wait (`None`: nothing was delivered in it).
    fn close_window(&self) -> Option<Duration> {
        // Two swaps, not one snapshot: a wait noted between them only moves to the next window.
        let waits = self.waits.swap(0, Ordering::Relaxed);
        let waited_us = self.waited_us.swap(0, Ordering::Relaxed);
        let delay = waited_us.checked_div(waits).map(Duration::from_micros);
        let share = lock(&self.controller).close(delay);
        self.refused.store(share, Ordering::Relaxed);
        delay
    }
}

async fn close_windows(overload: Weak<Overload>) {
    let mut every = tokio::time::interval(WINDOW);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match overload.upgrade() {
            Some(overload) => {
                overload.close_window();
            }
            None => return,
        }
    }
}

/// The refused share, moved by each window's mean wait.
#[derive(Debug)]
struct Controller {
    threshold: Duration,
    share: u32,
    /// Windows in a row over the threshold.
    over: u32,
}

impl Controller {
    fn new(threshold: Duration) -> Controller {
        Controller {
            threshold,
            share: 0,
            over: 0,
        }
    }

    /// Closes a window whose mean wait was `delay` (`None`: nothing was delivered in it);
    /// returns the share to refuse next. A window without deliveries measured nothing: it
    /// neither breaks a run of windows over the threshold nor extends it, and the share shrinks
    /// (with every send refused, nothing would be delivered to measure again).
    fn close(&mut self, delay: Option<Duration>) -> u32 {
        if self.threshold.is_zero() {
            return 0;
        }
        let Some(delay) = delay else {
            self.share = self.share.saturating_sub(STEP_DOWN);
            return self.share;
        };
        if delay > self.threshold {
            self.over += 1;
            if self.over >= OVER_IN_A_ROW {
                self.share = (self.share + STEP_UP).min(ALL);
            }
        } else {
            self.over = 0;
            if delay < self.threshold / 2 {
                self.share = self.share.saturating_sub(STEP_DOWN);
            }
        }
        self.share
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn the_refused_share_grows_while_the_delay_stands_and_shrinks_once_it_drains() {
        let mut c = Controller::new(MS(20));
        assert_eq!(
            c.close(Some(MS(5))),
            0,
            "under the threshold nothing is refused"
        );
        for _ in 1..OVER_IN_A_ROW {
            assert_eq!(c.close(Some(MS(300))), 0, "a burst");
        }
        assert_eq!(c.close(Some(MS(5))), 0, "drained in time");
        for _ in 1..OVER_IN_A_ROW {
            assert_eq!(c.close(Some(MS(30))), 0);
        }
        assert_eq!(c.close(Some(MS(30))), 100, "a second in a row: a queue");
        assert_eq!(c.close(Some(MS(300))), 200);
        assert_eq!(
            c.close(Some(MS(15))),
            200,
            "between half and the threshold it holds"
        );
        assert_eq!(c.close(Some(MS(1))), 150);
        for _ in 0..20 {
            c.close(Some(MS(500)));
        }
        assert_eq!(c.close(Some(MS(500))), ALL, "never more than every send");
        for _ in 0..20 {
            c.close(Some(Duration::ZERO));
        }
        assert_eq!(c.close(Some(Duration::ZERO)), 0);
    }

    #[test]
    fn a_window_with_nothing_delivered_neither_breaks_a_run_nor_extends_it() {
        let mut c = Controller::new(MS(20));
        for _ in 1..OVER_IN_A_ROW {
            c.close(Some(MS(30)));
            assert_eq!(c.close(None), 0);
        }
        assert_eq!(c.close(Some(MS(30))), STEP_UP);
        assert_eq!(c.close(None), STEP_UP - STEP_DOWN, "and the share shrinks");
    }

    #[test]
    fn a_zero_threshold_never_refuses() {
        let mut c = Controller::new(Duration::ZERO);
        assert_eq!(c.close(Some(Duration::from_secs(9))), 0);
    }

    #[test]
    fn a_window_s_delay_is_its_mean_wait_and_an_empty_window_has_none() {
        let overload = Overload::new(MS(20));
        overload.note(MS(40));
        overload.note(MS(2));
        overload.note(MS(60));
        assert_eq!(overload.close_window(), Some(MS(34)));
        for _ in 1..OVER_IN_A_ROW {
            overload.note(MS(34));
            overload.close_window();
        }
        assert_eq!(overload.refused_share(), STEP_UP);
        assert!((0..10_000).any(|_| !overload.admit()), "some sends refused");
        assert!((0..10_000).any(|_| overload.admit()), "most still taken");

        assert_eq!(overload.close_window(), None);
        assert_eq!(overload.refused_share(), STEP_UP - STEP_DOWN);
        overload.close_window();
        assert_eq!(overload.refused_share(), 0);
        assert!((0..10_000).all(|_| overload.admit()));
    }
}
