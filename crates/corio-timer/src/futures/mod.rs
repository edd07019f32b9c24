//! The timer futures built on a [`TimerHandle`](crate::TimerHandle):
//! [`Sleep`], [`Timeout`] and [`Interval`].

mod interval;
mod sleep;
mod timeout;

pub use interval::{Interval, MissedTickBehavior};
pub use sleep::Sleep;
pub use timeout::{Elapsed, Timeout};
