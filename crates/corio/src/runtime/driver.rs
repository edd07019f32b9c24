//! The loop's `Park`: fire due timers, then sleep in the reactor until the
//! next timer deadline (rounded up to a whole millisecond) or a wake from
//! another thread.
//!
//! Under a manual clock (virtual time) the driver never sleeps towards a
//! timer: when nothing is runnable and no IO is ready, it sets the clock to
//! the next deadline and fires it. Time stands still while anything can run.

use std::sync::Arc;
use std::time::Duration;

use corio_executor::Park;
use corio_reactor::Reactor;
use corio_timer::{Instant, Timers};

use super::timer_callbacks::TimerCallbacks;

/// What the executor calls between iterations.
pub(crate) struct Driver {
    pub(crate) timers: Timers,
    pub(crate) reactor: Arc<Reactor>,
    /// `call_later`/`call_at` callbacks: overdue ones are released here.
    pub(crate) timer_callbacks: Arc<TimerCallbacks>,
}

impl Driver {
    /// Fires every due timer; returns how many. Reads the clock only when a
    /// timer is pending.
    fn fire_due(&self) -> usize {
        if self.timers.is_empty() {
            return 0;
        }
        self.timers.fire(self.timers.clock().now())
    }

    /// Releases overdue timer callbacks, then fires due timers: overdue
    /// deadlines are all earlier than the wheel's, so callbacks reach the
    /// run queue in deadline order.
    fn release_due(&self) -> usize {
        self.timer_callbacks.release_overdue() + self.fire_due()
    }
}

impl Driver {
    /// Virtual time, when nothing is runnable: ready IO first, else jump the
    /// clock to the next timer deadline, else wait for IO or a wake.
    fn park_virtual(&mut self) {
        match self.reactor.poll(Some(Duration::ZERO)) {
            Ok(0) => {}
            Ok(_) => return,
            Err(error) => tracing::error!(target: "corio", "polling the reactor failed: {error}"),
        }
        let next = self
            .timers
            .next_deadline()
            .filter(|deadline| *deadline != Instant::MAX);
        match next {
            Some(deadline) => {
                // `next_deadline` may be the start of a coarse wheel slot:
                // jumping there cascades the slot, and the next park jumps on.
                self.timers.clock().set(deadline);
                self.fire_due();
            }
            None => {
                if let Err(error) = self.reactor.poll(None) {
                    tracing::error!(target: "corio", "polling the reactor failed: {error}");
                }
            }
        }
    }
}

/// Rounds a wait for a timer up to a whole millisecond, the wheel's
/// resolution (asyncio's epoll selector and tokio's timer do the same).
///
/// Timers due within the same millisecond then fire in one wake-up instead of
/// one each: with deadlines a few µs apart, waking for each cost more than the
/// gap (see docs/performance.md, "Timers"). A timer may fire up to 1 ms late,
/// never early.
fn round_up_to_millisecond(wait: Duration) -> Duration {
    let millis = wait.as_nanos().div_ceil(1_000_000);
    Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}

impl Park for Driver {
    fn park(&mut self, timeout: Option<Duration>) {
        let fired = self.release_due();
        if fired == 0 && timeout.is_none() && self.timers.clock().is_manual() {
            self.park_virtual();
            return;
        }
        let poll_only = fired > 0 || timeout == Some(Duration::ZERO);
        let wait = if poll_only {
            Some(Duration::ZERO)
        } else {
            // A timer that never fires (`Instant::MAX`) must not become a
            // poll timeout of centuries; treat it as "no deadline".
            let until_timer = self
                .timers
                .next_deadline()
                .filter(|deadline| *deadline != Instant::MAX)
                .map(|deadline| deadline.saturating_duration_since(self.timers.clock().now()))
                .map(round_up_to_millisecond);
            match (timeout, until_timer) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        if let Err(error) = self.reactor.poll(wait) {
            tracing::error!(target: "corio", "polling the reactor failed: {error}");
        }
        if !poll_only {
            self.fire_due();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_waits_round_up_to_whole_milliseconds() {
        assert_eq!(round_up_to_millisecond(Duration::ZERO), Duration::ZERO);
        assert_eq!(
            round_up_to_millisecond(Duration::from_nanos(1)),
            Duration::from_millis(1)
        );
        assert_eq!(
            round_up_to_millisecond(Duration::from_micros(1_000)),
            Duration::from_millis(1)
        );
        assert_eq!(
            round_up_to_millisecond(Duration::from_micros(1_001)),
            Duration::from_millis(2)
        );
        assert_eq!(
            round_up_to_millisecond(Duration::MAX),
            Duration::from_millis(u64::MAX)
        );
    }
}
