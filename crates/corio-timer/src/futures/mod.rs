//! The timer futures built on a [`TimerHandle`](crate::TimerHandle):
//! [`Sleep`], [`Timeout`] (with its shared [`Deadline`]) and [`Interval`].

mod deadline;
mod interval;
mod sleep;
mod timeout;

pub use deadline::Deadline;
pub use interval::{Interval, MissedTickBehavior};
pub use sleep::Sleep;
pub use timeout::{Elapsed, Timeout};
