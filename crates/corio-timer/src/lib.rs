#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod clock;
mod driver;
mod futures;
mod instant;
mod slab;
mod wheel;

pub use clock::Clock;
pub use driver::{TimerHandle, Timers};
pub use futures::{Deadline, Elapsed, Interval, MissedTickBehavior, Sleep, Timeout};
pub use instant::Instant;
pub use wheel::{TimerKey, TimerQueue};
