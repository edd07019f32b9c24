//! The `Park` hook: how an executor waits when it has nothing to run, and how
//! drivers (timers, IO) get a turn.

use std::time::Duration;

/// What an executor calls to wait for work, and to let its drivers (IO,
/// timers) queue work between iterations.
///
/// The facade implements it as "fire due timers, then sleep in the reactor
/// until the next timer deadline".
pub trait Park {
    /// `None`: nothing is runnable; block until an event arrives or the
    /// executor's unpark callback is called. `Some(ZERO)`: a maintenance turn
    /// while tasks are runnable; queue whatever is due without blocking.
    /// `Some(d)`: block at most `d`.
    fn park(&mut self, timeout: Option<Duration>);
}

/// A [`Park`] that sleeps the thread; pair it with [`LocalExecutor::new`],
/// whose unpark callback unparks the thread that created it.
///
/// [`LocalExecutor::new`]: crate::LocalExecutor::new
#[derive(Debug, Default)]
pub struct ThreadPark;

impl Park for ThreadPark {
    fn park(&mut self, timeout: Option<Duration>) {
        match timeout {
            None => std::thread::park(),
            Some(d) if d.is_zero() => {}
            Some(d) => std::thread::park_timeout(d),
        }
    }
}
