//! Injectable wall clock. Everything that depends on time (deletion windows, SigV4 skew,
//! `LastAccessedDate`) reads it from a [`Clock`], so tests can move time without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC.
pub type EpochMillis = i64;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time in milliseconds since the Unix epoch.
    fn now_millis(&self) -> EpochMillis;
}

/// The real system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> EpochMillis {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock that starts at a fixed instant and moves only when told to; for tests.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A manual clock set to `start`.
    pub fn new(start: EpochMillis) -> Self {
        Self(Arc::new(AtomicI64::new(start)))
    }

    /// A manual clock set to the current system time.
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now_millis())
    }

    /// Moves the clock forward by `millis`.
    pub fn advance(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: EpochMillis) {
        self.0.store(at, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> EpochMillis {
        self.0.load(Ordering::SeqCst)
    }
}

/// A value that depends only on the second, computed at most once per second by each thread
/// that keeps one in a `thread_local!`: the timestamps every response and audit record carry.
#[derive(Debug, Default)]
pub struct PerSecond<T>(std::cell::RefCell<Option<(i64, T)>>);

impl<T: Clone> PerSecond<T> {
    /// Empty: the first [`get`](Self::get) computes.
    pub const fn new() -> Self {
        Self(std::cell::RefCell::new(None))
    }

    /// The value for the second of `at`, from `make(at)` when that second is not the cached one.
    pub fn get(&self, at: EpochMillis, make: impl FnOnce(EpochMillis) -> T) -> T {
        let second = at.div_euclid(1000);
        let mut cached = self.0.borrow_mut();
        match cached.as_ref() {
            Some((s, value)) if *s == second => value.clone(),
            _ => {
                let value = make(at);
                *cached = Some((second, value.clone()));
                value
            }
        }
    }
}

/// Milliseconds in one day.
pub const DAY_MILLIS: i64 = 86_400_000;

/// Truncates a timestamp to midnight UTC, the precision AWS uses for `LastAccessedDate`.
pub fn truncate_to_day(at: EpochMillis) -> EpochMillis {
    at.div_euclid(DAY_MILLIS) * DAY_MILLIS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_advances() {
        let c = ManualClock::new(1_000);
        c.advance(500);
        assert_eq!(c.now_millis(), 1_500);
    }

    #[test]
    fn truncates_to_midnight() {
        assert_eq!(truncate_to_day(DAY_MILLIS * 3 + 12_345), DAY_MILLIS * 3);
        assert_eq!(truncate_to_day(-1), -DAY_MILLIS);
    }

    #[test]
    fn per_second_computes_once_per_second() {
        let cache = PerSecond::new();
        let mut made = 0;
        let mut get = |at| {
            cache.get(at, |at| {
                made += 1;
                at.div_euclid(1000)
            })
        };
        assert_eq!(get(5_000), 5);
        assert_eq!(get(5_999), 5);
        assert_eq!(get(6_000), 6);
        assert_eq!(get(-1), -1);
        assert_eq!(made, 3);
    }
}
