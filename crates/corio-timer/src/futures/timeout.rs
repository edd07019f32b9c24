//! [`Timeout`]: runs a future against a deadline that can be moved or
//! removed (asyncio's `timeout`, `timeout(None)`, `reschedule`, `when`,
//! `expired`), and [`Elapsed`], the error it gives when the deadline wins.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::driver::TimerHandle;
use crate::futures::deadline::Follower;
use crate::futures::{Deadline, Sleep};
use crate::instant::Instant;

pin_project! {
    /// A future that resolves to its inner future's output, or to
    /// [`Elapsed`] if the deadline comes first.
    ///
    /// The inner future is always polled first, so one that is ready returns
    /// its value even when the deadline has passed; and a timeout whose inner
    /// future completes on the first poll never touches the timer queue.
    /// When it gives `Err(Elapsed)` the inner future is not polled again;
    /// it is dropped with the `Timeout` (or recovered by
    /// [`into_inner`](Self::into_inner)), and [`expired`](Self::expired)
    /// is true.
    ///
    /// A timeout made by [`new`](Self::new) has an absolute deadline. One made
    /// by [`lazy`](Self::lazy) holds only a duration: its deadline is fixed
    /// (the clock read, the timers looked up) by the first poll that finds the
    /// inner future pending, so an unused timeout costs neither. One made by
    /// [`never`](Self::never) has no deadline until
    /// [`reschedule_at`](Self::reschedule_at) gives it one (asyncio's
    /// `timeout(None)`). One made by [`with_deadline`](Self::with_deadline)
    /// follows a shared [`Deadline`] that code inside the future can move.
    ///
    /// | asyncio (`async with asyncio.timeout(..) as cm`) | corio-timer |
    /// |---|---|
    /// | `asyncio.timeout(None)` | [`Timeout::never`] |
    /// | `cm.when()` | [`when`](Self::when) (`None`: no deadline) |
    /// | `cm.reschedule(t)` / `cm.reschedule(None)` | [`reschedule_at`](Self::reschedule_at)`(Some(t))` / `(None)` |
    /// | `cm.expired()` | [`expired`](Self::expired) |
    /// | `cm` used inside the block | a [`Deadline`] cloned into the future |
    pub struct Timeout<F> {
        #[pin]
        future: F,
        limit: Limit,
        expired: bool,
    }
}

/// A timeout's timer. Two variants, and only `Started` owns anything, so
/// the drop glue of a timeout that never started is one inlined test: with
/// a variant per case (armed, disabled, shared) the glue became an
/// out-of-line call costing a timeout around a ready future 14 of its 43
/// instructions (callgrind, `timeout-unused`).
enum Limit {
    /// Not started ([`Timeout::lazy`], [`Timeout::lazy_never`]): the
    /// deadline is `duration` after the first poll that finds the future
    /// pending (`None`: no deadline yet), on the timers `timers` finds.
    Lazy {
        duration: Option<Duration>,
        timers: fn() -> TimerHandle,
    },
    Started(Started),
}

/// A started limit: a sleep at the deadline, idle while there is none.
struct Started {
    sleep: Sleep,
    /// No deadline: `sleep` is idle (not queued) and not polled.
    disabled: bool,
    /// The shared deadline this timeout follows ([`Timeout::with_deadline`]).
    shared: Option<Follower>,
}

impl Limit {
    /// A limit at `deadline` (`None`: no deadline yet) on `handle`.
    fn started(handle: TimerHandle, deadline: Option<Instant>) -> Limit {
        Limit::Started(Started {
            sleep: Sleep::from_handle(handle, deadline.unwrap_or(Instant::MAX)),
            disabled: deadline.is_none(),
            shared: None,
        })
    }

    /// The armed sleep, starting a lazy limit now (reading the clock);
    /// `None` when there is no deadline.
    fn arm(&mut self) -> Option<&mut Sleep> {
        if let Limit::Lazy {
            duration: Some(duration),
            timers,
        } = *self
        {
            let handle = timers();
            let deadline = handle.now().saturating_add(duration);
            *self = Limit::started(handle, Some(deadline));
        }
        match self {
            Limit::Started(started) if !started.disabled => Some(&mut started.sleep),
            _ => None,
        }
    }

    /// The shared deadline this limit follows, if any.
    fn shared(&mut self) -> Option<&mut Follower> {
        match self {
            Limit::Started(Started {
                shared: Some(follower),
                ..
            }) => Some(follower),
            _ => None,
        }
    }

    /// The deadline; for a lazy limit not started, the one it would get now.
    fn when(&self) -> Option<Instant> {
        match self {
            Limit::Lazy { duration, timers } => {
                duration.map(|duration| timers().now().saturating_add(duration))
            }
            Limit::Started(Started {
                shared: Some(follower),
                ..
            }) => follower.deadline.when(),
            Limit::Started(started) => (!started.disabled).then(|| started.sleep.deadline()),
        }
    }

    /// Moves the deadline, or removes it (`None`); a lazy limit forgets its
    /// duration.
    fn set(&mut self, when: Option<Instant>) {
        match self {
            Limit::Lazy { duration, timers } => match when {
                None => *duration = None,
                Some(when) => *self = Limit::started(timers(), Some(when)),
            },
            Limit::Started(started) => match when {
                // A queued sleep moves in place and keeps its waker; an idle
                // one just takes the deadline.
                Some(when) => {
                    started.sleep.reset_unpinned(when);
                    started.disabled = false;
                }
                None if started.disabled => {}
                None => {
                    // Replacing the sleep drops the old one, which cancels
                    // its queue entry.
                    let idle = Sleep::from_handle(started.sleep.handle().clone(), Instant::MAX);
                    started.sleep = idle;
                    started.disabled = true;
                }
            },
        }
    }
}

impl<F> Timeout<F> {
    /// Runs `fut` with a deadline of `deadline` on `handle`'s timers.
    pub fn new(handle: &TimerHandle, deadline: Instant, fut: F) -> Timeout<F> {
        Timeout::with_limit(Limit::started(handle.clone(), Some(deadline)), fut)
    }

    /// Runs `fut` with a time limit of `duration` that starts at its first
    /// poll: creating it does nothing, and only when a poll finds `fut`
    /// pending for the first time does it call `timers` and read their clock,
    /// setting the deadline to that time plus `duration` (saturating). A
    /// `fut` that completes on its first poll never calls `timers`.
    ///
    /// `timers` is how a facade finds the running loop's timers (a
    /// thread-local lookup, say); it is called at most once per poll that
    /// needs it, on the polling thread.
    pub fn lazy(duration: Duration, timers: fn() -> TimerHandle, fut: F) -> Timeout<F> {
        let duration = Some(duration);
        Timeout::with_limit(Limit::Lazy { duration, timers }, fut)
    }

    /// Runs `fut` with no deadline (asyncio's `timeout(None)`) until
    /// [`reschedule_at`](Self::reschedule_at) gives it one on `handle`'s
    /// timers. Until then it is `fut` itself, touching no timer.
    ///
    /// ```
    /// use std::pin::pin;
    /// use std::future::{pending, Future};
    /// use std::task::{Context, Waker};
    /// use std::time::Duration;
    /// use corio_timer::{Clock, Timeout, Timers};
    ///
    /// let timers = Timers::new(Clock::manual());
    /// let handle = timers.handle();
    /// let mut t = pin!(Timeout::never(&handle, pending::<()>()));
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(t.when(), None);
    /// assert!(t.as_mut().poll(&mut cx).is_pending());
    /// assert!(timers.is_empty(), "no deadline, no timer");
    /// // Later, inside the same task: give it one.
    /// t.as_mut().reschedule_at(Some(handle.now() + Duration::from_secs(1)));
    /// assert!(t.as_mut().poll(&mut cx).is_pending());
    /// timers.clock().advance(Duration::from_secs(1));
    /// timers.fire(handle.now());
    /// assert!(t.as_mut().poll(&mut cx).is_ready());
    /// assert!(t.expired());
    /// ```
    pub fn never(handle: &TimerHandle, fut: F) -> Timeout<F> {
        Timeout::with_limit(Limit::started(handle.clone(), None), fut)
    }

    /// [`never`](Self::never) that finds its timers by calling `timers`,
    /// and only if it is given a deadline (see [`lazy`](Self::lazy)).
    ///
    /// ```
    /// use std::future::ready;
    /// use corio_timer::{TimerHandle, Timeout};
    ///
    /// fn no_timers() -> TimerHandle {
    ///     unreachable!("a timeout without a deadline never looks")
    /// }
    /// let t = Timeout::lazy_never(no_timers, ready(1));
    /// assert_eq!(t.when(), None);
    /// ```
    pub fn lazy_never(timers: fn() -> TimerHandle, fut: F) -> Timeout<F> {
        let duration = None;
        Timeout::with_limit(Limit::Lazy { duration, timers }, fut)
    }

    /// Runs `fut` against the shared `deadline`, on `handle`'s timers: the
    /// timeout follows every [`Deadline::reschedule`], from inside `fut` or
    /// from anywhere else, and marks it [`expired`](Deadline::expired) when
    /// it elapses. See [`Deadline`] for an example.
    pub fn with_deadline(handle: &TimerHandle, deadline: &Deadline, fut: F) -> Timeout<F> {
        // The version first: a reschedule between the two reads shows up
        // as a newer version at the first poll.
        let follower = deadline.follow();
        let mut limit = Limit::started(handle.clone(), deadline.when());
        if let Limit::Started(started) = &mut limit {
            started.shared = Some(follower);
        }
        Timeout::with_limit(limit, fut)
    }

    fn with_limit(limit: Limit, fut: F) -> Timeout<F> {
        Timeout {
            future: fut,
            limit,
            expired: false,
        }
    }

    /// The instant the timeout elapses at, [`Instant::MAX`] if it has no
    /// deadline. For a [`lazy`](Self::lazy) timeout not yet polled, the
    /// instant it would elapse at if its limit started now (the clock is
    /// read on every such call).
    pub fn deadline(&self) -> Instant {
        self.when().unwrap_or(Instant::MAX)
    }

    /// The deadline, or `None` if the timeout has none (asyncio's
    /// `when()`). For a lazy timeout not yet polled, as
    /// [`deadline`](Self::deadline).
    ///
    /// ```
    /// use std::future::pending;
    /// use corio_timer::{Clock, Timeout, Timers};
    ///
    /// let timers = Timers::new(Clock::manual());
    /// let handle = timers.handle();
    /// let at = handle.now();
    /// assert_eq!(Timeout::new(&handle, at, pending::<()>()).when(), Some(at));
    /// assert_eq!(Timeout::never(&handle, pending::<()>()).when(), None);
    /// ```
    pub fn when(&self) -> Option<Instant> {
        self.limit.when()
    }

    /// Moves the deadline (earlier or later), even after it elapsed. On a
    /// [`lazy`](Self::lazy) timeout not yet started, this fixes the deadline:
    /// the duration is forgotten. Same as
    /// [`reschedule_at`](Self::reschedule_at)`(Some(deadline))`.
    pub fn reschedule(self: Pin<&mut Self>, deadline: Instant) {
        self.reschedule_at(Some(deadline));
    }

    /// Moves the deadline, or removes it with `None` (asyncio's
    /// `reschedule(when)`). Clears [`expired`](Self::expired): the timeout
    /// is armed again, even after it elapsed (asyncio refuses that). On a
    /// timeout made by [`with_deadline`](Self::with_deadline) this moves
    /// the shared [`Deadline`].
    ///
    /// ```
    /// use std::future::{pending, Future};
    /// use std::pin::pin;
    /// use std::task::{Context, Waker};
    /// use std::time::Duration;
    /// use corio_timer::{Clock, Timeout, Timers};
    ///
    /// let timers = Timers::new(Clock::manual());
    /// let handle = timers.handle();
    /// let mut t = pin!(Timeout::new(&handle, handle.now() + Duration::from_secs(1), pending::<()>()));
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(t.as_mut().poll(&mut cx).is_pending());
    /// t.as_mut().reschedule_at(None); // asyncio: cm.reschedule(None)
    /// assert!(timers.is_empty(), "the timer is gone");
    /// timers.clock().advance(Duration::from_secs(5));
    /// timers.fire(handle.now());
    /// assert!(t.as_mut().poll(&mut cx).is_pending());
    /// ```
    pub fn reschedule_at(self: Pin<&mut Self>, when: Option<Instant>) {
        let this = self.project();
        if let Some(follower) = this.limit.shared() {
            follower.reschedule(when);
        }
        *this.expired = false;
        this.limit.set(when);
    }

    /// Whether the deadline came first: the last poll gave `Err(Elapsed)`
    /// and cut the inner future off (asyncio's `expired()`). An inner future
    /// that is ready at the same poll wins, and this stays false.
    ///
    /// ```
    /// use std::future::{pending, Future};
    /// use std::pin::pin;
    /// use std::task::{Context, Waker};
    /// use corio_timer::{Clock, Timeout, Timers};
    ///
    /// let timers = Timers::new(Clock::manual());
    /// let handle = timers.handle();
    /// // A deadline already reached: the first poll elapses.
    /// let mut t = pin!(Timeout::new(&handle, handle.now(), pending::<()>()));
    /// assert!(!t.expired());
    /// assert!(t.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_ready());
    /// assert!(t.expired());
    /// ```
    pub fn expired(&self) -> bool {
        self.expired
    }

    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The inner future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }

    /// The inner future, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut F> {
        self.project().future
    }

    /// Takes the inner future back, cancelling the deadline.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(follower) = this.limit.shared() {
            follower.deadline.begin_poll();
        }
        if let Poll::Ready(out) = this.future.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        // Picks up a reschedule of a shared deadline made by the body (or by
        // anyone since the last poll), and leaves our waker for later ones.
        let moved = (this.limit.shared()).and_then(|follower| follower.sync(cx.waker()));
        if let Some(when) = moved {
            this.limit.set(when);
        }
        let Some(sleep) = this.limit.arm() else {
            return Poll::Pending;
        };
        match sleep.poll_unpinned(cx) {
            Poll::Ready(()) => {
                *this.expired = true;
                if let Some(follower) = this.limit.shared() {
                    follower.deadline.set_expired();
                }
                Poll::Ready(Err(Elapsed(())))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl fmt::Debug for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Lazy {
                duration: Some(duration),
                ..
            } => f
                .debug_struct("NotStarted")
                .field("duration", duration)
                .finish(),
            Limit::Lazy { duration: None, .. } => f.write_str("NoDeadline"),
            Limit::Started(started) => {
                let mut s = match started.disabled {
                    true => f.debug_struct("NoDeadline"),
                    false => f.debug_struct("Armed"),
                };
                if !started.disabled {
                    s.field("sleep", &started.sleep);
                }
                if let Some(follower) = &started.shared {
                    s.field("shared", &follower.deadline);
                }
                s.finish()
            }
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("future", &self.future)
            .field("limit", &self.limit)
            .field("expired", &self.expired)
            .finish()
    }
}

/// The error of a [`Timeout`] whose deadline passed before its future
/// completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    /// An `Elapsed` error, for code that reports timeouts the same way
    /// without a [`Timeout`] (a facade's own timeout helpers).
    pub const fn new() -> Elapsed {
        Elapsed(())
    }
}

impl Default for Elapsed {
    fn default() -> Elapsed {
        Elapsed::new()
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(e: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, e)
    }
}
