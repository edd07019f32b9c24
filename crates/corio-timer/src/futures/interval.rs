//! [`Interval`]: ticks on a fixed schedule `start + k * period`, and
//! [`MissedTickBehavior`], what to do when ticks are missed.

use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::driver::TimerHandle;
use crate::futures::Sleep;
use crate::instant::{duration_nanos, Instant};

/// How late a tick may be and still count as on time. Without some slack
/// the ordinary wake-up latency of a real clock would make `Delay` and `Skip`
/// shift the schedule on every tick; 5 ms is tokio's choice too.
const LATE_SLACK: Duration = Duration::from_millis(5);

/// What an [`Interval`] does when a tick is observed late (the task was busy
/// or the thread was descheduled past one or more scheduled ticks). The same
/// three policies as tokio's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up, keeping the
    /// original schedule `start + k * period`.
    #[default]
    Burst,
    /// Start a new schedule one period after the late tick was observed.
    Delay,
    /// Drop the missed ticks and go on with the next one on the original
    /// schedule that is still in the future.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline after a tick scheduled at `scheduled` was observed at `now`.
    fn next(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => scheduled + period,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                // The next point of the original grid strictly after `now`.
                let late = duration_nanos(now - scheduled);
                let period = duration_nanos(period);
                now + Duration::from_nanos(period - late % period)
            }
        }
    }
}

/// A stream of ticks at `start`, `start + period`, `start + 2 * period`, ...
///
/// Each tick yields the instant it was scheduled for. The schedule does not
/// drift: with [`MissedTickBehavior::Burst`] (the default) tick `k` is
/// always scheduled at exactly `start + k * period`, however late earlier
/// ticks were observed.
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// An interval whose first tick completes at `start`.
    ///
    /// # Panics
    ///
    /// Panics if `period` is zero.
    pub fn new(handle: &TimerHandle, start: Instant, period: Duration) -> Interval {
        assert!(!period.is_zero(), "interval period must be non-zero");
        Interval {
            sleep: Sleep::new(handle, start),
            period,
            missed: MissedTickBehavior::default(),
        }
    }

    /// Waits for the next tick and returns the instant it was scheduled for.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick; `Ready` carries the instant it was scheduled for.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if self.sleep.poll_unpinned(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.sleep.deadline();
        let now = self.sleep_clock_now();
        let next = if now > scheduled + LATE_SLACK {
            self.missed.next(scheduled, now, self.period)
        } else {
            scheduled + self.period
        };
        self.sleep.reset_unpinned(next);
        Poll::Ready(scheduled)
    }

    /// The time between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the schedule so the next tick is one period from now.
    pub fn reset(&mut self) {
        let next = self.sleep_clock_now() + self.period;
        self.sleep.reset_unpinned(next);
    }

    /// Restarts the schedule so the next tick is at `start`.
    pub fn reset_at(&mut self, start: Instant) {
        self.sleep.reset_unpinned(start);
    }

    /// The instant the next tick is scheduled for.
    pub fn next_tick(&self) -> Instant {
        self.sleep.deadline()
    }

    /// Sets what happens when ticks are missed.
    pub fn set_missed_tick_behavior(&mut self, b: MissedTickBehavior) {
        self.missed = b;
    }

    /// What happens when ticks are missed.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    fn sleep_clock_now(&self) -> Instant {
        self.sleep.handle().now()
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("next_tick", &self.sleep.deadline())
            .field("period", &self.period)
            .field("missed_tick_behavior", &self.missed)
            .finish()
    }
}
