//! [`Clock`]: where a timer driver gets "now" from — the real monotonic clock,
//! or a manual (virtual) clock that only moves when told to, for deterministic
//! tests and simulations.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::instant::{duration_nanos, Instant};

/// The clock a timer driver reads: real ([`Instant::now`]) or manual
/// (virtual time that moves only when told).
///
/// Cloning a manual clock shares its time: advancing one clone advances all,
/// which is how a test and the driver it steers see the same "now".
///
/// ```
/// use corio_timer::Clock;
/// use std::time::Duration;
///
/// let clock = Clock::manual();
/// let start = clock.now();
/// clock.advance(Duration::from_millis(5));
/// assert_eq!(clock.now() - start, Duration::from_millis(5));
/// ```
#[derive(Clone)]
pub struct Clock {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Real,
    /// Nanoseconds of the current virtual instant; an atomic so a test thread
    /// can move time while a driver thread reads it.
    Manual(Arc<AtomicU64>),
}

impl Clock {
    /// The real monotonic clock.
    pub fn real() -> Clock {
        Clock { kind: Kind::Real }
    }

    /// A manual clock that starts at [`Instant::now`] and stands still until
    /// [`advance`](Self::advance) or [`set`](Self::set) moves it.
    pub fn manual() -> Clock {
        Clock {
            kind: Kind::Manual(Arc::new(AtomicU64::new(Instant::now().as_nanos()))),
        }
    }

    /// The clock's current time.
    pub fn now(&self) -> Instant {
        match &self.kind {
            Kind::Real => Instant::now(),
            // Acquire pairs with the Release in advance/set so whatever the
            // mover did before moving time is visible to whoever sees the new time.
            Kind::Manual(t) => Instant::from_nanos(t.load(Ordering::Acquire)),
        }
    }

    /// Whether this is a manual clock.
    pub fn is_manual(&self) -> bool {
        matches!(self.kind, Kind::Manual(_))
    }

    /// Moves a manual clock forward by `d` (saturating at [`Instant::MAX`]).
    ///
    /// # Panics
    ///
    /// Panics on a real clock, which cannot be moved.
    pub fn advance(&self, d: Duration) {
        let t = self.manual_time("advance");
        let d = duration_nanos(d);
        // fetch_update instead of fetch_add so a huge `d` saturates, never wraps.
        let _ = t.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            Some(n.saturating_add(d))
        });
    }

    /// Sets a manual clock to `t`; a `t` earlier than the current time is
    /// ignored, since monotonic time never moves backwards.
    ///
    /// # Panics
    ///
    /// Panics on a real clock, which cannot be moved.
    pub fn set(&self, t: Instant) {
        self.manual_time("set")
            .fetch_max(t.as_nanos(), Ordering::AcqRel);
    }

    fn manual_time(&self, op: &str) -> &AtomicU64 {
        match &self.kind {
            Kind::Manual(t) => t,
            Kind::Real => {
                panic!("Clock::{op} called on a real clock; only Clock::manual() can be moved")
            }
        }
    }
}

impl Default for Clock {
    /// The real clock.
    fn default() -> Clock {
        Clock::real()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Real => f.write_str("Clock::Real"),
            Kind::Manual(_) => f.debug_tuple("Clock::Manual").field(&self.now()).finish(),
        }
    }
}
