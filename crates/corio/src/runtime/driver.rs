//! The loop's `Park`: fire due timers, then sleep in the reactor until the
//! next timer deadline or a wake from another thread.

use std::sync::Arc;
use std::time::Duration;

use corio_executor::Park;
use corio_reactor::Reactor;
use corio_timer::{Instant, Timers};

/// What the executor calls between iterations.
pub(crate) struct Driver {
    pub(crate) timers: Timers,
    pub(crate) reactor: Arc<Reactor>,
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
}

impl Park for Driver {
    fn park(&mut self, timeout: Option<Duration>) {
        let fired = self.fire_due();
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
                .map(|deadline| deadline.saturating_duration_since(self.timers.clock().now()));
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
