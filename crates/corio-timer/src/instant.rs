//! [`Instant`]: corio's point in time, a plain `u64` of nanoseconds since a
//! process-wide origin.
//!
//! A `u64` instead of `std::time::Instant` because the timing wheel does integer
//! arithmetic on it (ticks, bit masks), it is `Copy` into atomics, and it has a
//! representable "never" ([`Instant::MAX`]) so `Duration::MAX` timeouts saturate
//! instead of panicking.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::sync::OnceLock;
use std::time::Duration;

/// The std instant all corio instants count from; captured on first use so
/// that every clock in the process agrees on what nanosecond 0 means.
static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();

fn origin() -> std::time::Instant {
    *ORIGIN.get_or_init(std::time::Instant::now)
}

/// Converts a duration to whole nanoseconds, saturating at `u64::MAX`
/// (about 584 years), which is as far as an [`Instant`] can reach anyway.
pub(crate) fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// corio's clock instant: nanoseconds since a process-wide origin captured on
/// first use.
///
/// All arithmetic saturates: adding [`Duration::MAX`] gives [`Instant::MAX`]
/// ("never"), subtracting past the origin gives the origin, and the difference
/// of an earlier minus a later instant is zero.
///
/// ```
/// use corio_timer::Instant;
/// use std::time::Duration;
///
/// let t = Instant::from_nanos(1_000);
/// assert_eq!((t + Duration::from_nanos(500)).as_nanos(), 1_500);
/// assert_eq!(t + Duration::MAX, Instant::MAX);
/// assert_eq!(t - Duration::from_secs(1), Instant::from_nanos(0));
/// assert_eq!(Instant::from_nanos(10) - t, Duration::ZERO);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    nanos: u64,
}

impl Instant {
    /// The latest representable instant; corio treats it as "never".
    pub const MAX: Instant = Instant { nanos: u64::MAX };

    /// The current time of the real monotonic clock.
    pub fn now() -> Instant {
        Instant::from_std(std::time::Instant::now())
    }

    /// Converts a std instant; times before the process origin saturate to 0.
    pub fn from_std(t: std::time::Instant) -> Instant {
        let since = t.saturating_duration_since(origin());
        Instant {
            nanos: duration_nanos(since),
        }
    }

    /// Converts to a std instant. Instants too far in the future for the
    /// platform's `std::time::Instant` saturate to the latest one it can
    /// represent from the origin.
    pub fn into_std(self) -> std::time::Instant {
        let base = origin();
        if let Some(t) = base.checked_add(Duration::from_nanos(self.nanos)) {
            return t;
        }
        // Rare path (only reachable on platforms with a narrow Instant):
        // binary-search the largest offset std accepts.
        let (mut lo, mut hi) = (0u64, self.nanos);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if base.checked_add(Duration::from_nanos(mid)).is_some() {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        base + Duration::from_nanos(lo)
    }

    /// `self + d`, saturating at [`Instant::MAX`].
    pub fn saturating_add(self, d: Duration) -> Instant {
        Instant {
            nanos: self.nanos.saturating_add(duration_nanos(d)),
        }
    }

    /// `self + d`, or `None` if that is past [`Instant::MAX`].
    pub fn checked_add(self, d: Duration) -> Option<Instant> {
        let d = u64::try_from(d.as_nanos()).ok()?;
        self.nanos.checked_add(d).map(Instant::from_nanos)
    }

    /// `self - d`, saturating at the origin (nanosecond 0).
    pub fn saturating_sub(self, d: Duration) -> Instant {
        Instant {
            nanos: self.nanos.saturating_sub(duration_nanos(d)),
        }
    }

    /// `self - d`, or `None` if that is before the origin.
    pub fn checked_sub(self, d: Duration) -> Option<Instant> {
        let d = u64::try_from(d.as_nanos()).ok()?;
        self.nanos.checked_sub(d).map(Instant::from_nanos)
    }

    /// How long after `earlier` this instant is; zero if it is not after it.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.nanos.saturating_sub(earlier.nanos))
    }

    /// Same as [`saturating_duration_since`](Self::saturating_duration_since),
    /// matching `std::time::Instant::duration_since`, which saturates too.
    pub fn duration_since(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// How long after `earlier` this instant is, or `None` if it is earlier.
    pub fn checked_duration_since(self, earlier: Instant) -> Option<Duration> {
        self.nanos
            .checked_sub(earlier.nanos)
            .map(Duration::from_nanos)
    }

    /// Raw nanoseconds since the process origin (for drivers and tests).
    pub const fn as_nanos(self) -> u64 {
        self.nanos
    }

    /// Builds an instant from raw nanoseconds since the process origin.
    pub const fn from_nanos(nanos: u64) -> Instant {
        Instant { nanos }
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Instant::MAX {
            f.write_str("Instant(MAX)")
        } else {
            // Shown as a duration since the origin: readable in test failures.
            write!(f, "Instant(+{:?})", Duration::from_nanos(self.nanos))
        }
    }
}

impl From<std::time::Instant> for Instant {
    fn from(t: std::time::Instant) -> Instant {
        Instant::from_std(t)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(t: Instant) -> std::time::Instant {
        t.into_std()
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturates at [`Instant::MAX`] rather than panicking, so
    /// `now + Duration::MAX` is a valid "never".
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = self.saturating_add(d);
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the origin.
    fn sub(self, d: Duration) -> Instant {
        self.saturating_sub(d)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        *self = self.saturating_sub(d);
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturates at zero, like `std::time::Instant`.
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}
