//! One iteration of the loop: `BaseEventLoop._run_once`, in Rust.
//!
//! 1. Drop cancelled timers (asyncio's rule, see `timers.rs`) and check the
//!    fds that ran callbacks last time (level-triggered, see `io.rs`).
//! 2. Wait in the reactor, **with the GIL released**: not at all if
//!    callbacks are ready, the loop is stopping or an fd is still ready;
//!    else until the next timer (at most a day, as asyncio), or forever.
//!    A signal interrupts the wait; its Python handler runs right after.
//! 3. The callbacks of ready fds join the ready queue, then the timers due
//!    before `now + clock_resolution`, in deadline order.
//! 4. Run exactly the handles that were ready at this point, in order;
//!    those queued meanwhile wait for the next iteration. A callback that
//!    raises `KeyboardInterrupt` or `SystemExit` ends the iteration there,
//!    the handles not yet run staying at the front of the queue.

use std::time::Duration;

use pyo3::prelude::*;

use crate::callbacks;
use crate::clock;
use crate::event_loop::{os_error, Loop};
use crate::handle::{run_handle, run_ready, Handle, Ready};

/// While callbacks are ready, the reactor is polled (a syscall) at most
/// once per this many seconds of busy iterations; see `docs/python.md`.
const BUSY_POLL_INTERVAL: f64 = 20e-6;

/// asyncio's `MAXIMUM_SELECT_TIMEOUT`: one day.
const MAXIMUM_SELECT_TIMEOUT: f64 = 24.0 * 3600.0;

/// One iteration; `Ok(true)` if the loop is stopping after it (read with
/// the iteration's last borrow, for `_run_forever_loop`).
pub(crate) fn run_once(slf: &Bound<'_, Loop>) -> PyResult<bool> {
    let py = slf.py();
    let mut removed = Vec::new();
    let (timeout, poll_now, last_poll) = {
        let mut this = slf.borrow_mut();
        this.timers.purge(py, &mut removed);
        let hot = this.io.settle();
        let poll_now = hot || this.stopping;
        let timeout = if poll_now || !this.ready.is_empty() {
            Some(Duration::ZERO)
        } else {
            this.timers.next_when().map(|when| {
                Duration::from_secs_f64((when - clock::now()).clamp(0.0, MAXIMUM_SELECT_TIMEOUT))
            })
        };
        (timeout, poll_now, this.last_poll)
    };
    drop(removed);

    // A zero-timeout poll never blocks: it keeps the GIL (releasing and
    // taking it back costs more than the poll itself), and while callbacks
    // keep the loop busy it is skipped if the last one is under
    // BUSY_POLL_INTERVAL old: IO readiness is asynchronous anyway, and
    // every ready fd is still seen within that interval.
    if timeout == Some(Duration::ZERO) {
        let now = clock::now();
        if poll_now || now - last_poll >= BUSY_POLL_INTERVAL {
            let reactor = slf.borrow().io.reactor().clone();
            reactor.poll(timeout).map_err(os_error)?;
            slf.borrow_mut().last_poll = now;
        }
    } else {
        let reactor = slf.borrow().io.reactor().clone();
        py.allow_threads(|| reactor.poll(timeout))
            .map_err(os_error)?;
        slf.borrow_mut().last_poll = clock::now();
    }
    py.check_signals()?;

    // The batch: exactly the handles ready now. The queue and the spare
    // deque swap places (no copy); callbacks queue into the empty one.
    let (mut batch, debug) = {
        let mut this = slf.borrow_mut();
        let this = &mut *this;
        this.io.collect(py, &mut this.ready);
        if this.timers.len() > 0 {
            let end = clock::now() + this.clock_resolution;
            this.timers.pop_due(py, end, &mut this.ready);
        }
        let mut batch = std::mem::take(&mut this.scratch);
        std::mem::swap(&mut batch, &mut this.ready);
        (batch, this.debug)
    };

    let mut failure = None;
    while let Some(item) = batch.pop_front() {
        let result = match &item {
            Ready::Native(handle) | Ready::Fd(handle) => {
                let handle = handle.bind(py);
                if debug {
                    if handle.get().is_cancelled(py) {
                        item.release(py);
                        continue;
                    }
                    run_debug(slf, handle)
                } else {
                    run_ready(handle, matches!(item, Ready::Native(_)))
                }
            }
            Ready::Foreign(handle) => run_foreign(handle.bind(py)),
            // py-transport: a socket transport, entered directly (in debug
            // mode through a handle made for the occasion, so that a slow
            // read is logged as any callback).
            Ready::Stream(transport) => {
                let transport = transport.bind(py);
                if debug {
                    crate::transport::debug_handle(transport).and_then(|h| run_debug(slf, &h))
                } else {
                    crate::transport::run_ready(transport)
                }
            }
        };
        item.release(py);
        if let Err(err) = result {
            failure = Some(err);
            break;
        }
    }
    let mut this = slf.borrow_mut();
    if !batch.is_empty() {
        // Interrupted (KeyboardInterrupt, SystemExit): the handles not run
        // go back to the front of the queue, ahead of those queued since.
        batch.append(&mut this.ready);
        std::mem::swap(&mut batch, &mut this.ready);
    }
    this.scratch = batch;
    let stopping = this.stopping;
    drop(this);
    match failure {
        Some(err) => Err(err),
        None => Ok(stopping),
    }
}

/// A handle of another kind: skipped if `_cancelled`, else `_run()`.
fn run_foreign(handle: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = handle.py();
    if handle
        .getattr(pyo3::intern!(py, "_cancelled"))?
        .is_truthy()?
    {
        return Ok(());
    }
    handle.call_method0(pyo3::intern!(py, "_run"))?;
    Ok(())
}

/// Debug mode: `loop._current_handle` is set while the handle runs, and a
/// run longer than `loop.slow_callback_duration` is logged with the handle
/// (the task and its coroutine's location, for a task step).
fn run_debug(slf: &Bound<'_, Loop>, handle: &Bound<'_, Handle>) -> PyResult<()> {
    let py = slf.py();
    slf.setattr(pyo3::intern!(py, "_current_handle"), handle)?;
    let started = clock::now();
    let result = run_handle(handle, false);
    let elapsed = clock::now() - started;
    slf.setattr(pyo3::intern!(py, "_current_handle"), py.None())?;
    result?;
    let limit: f64 = slf
        .getattr(pyo3::intern!(py, "slow_callback_duration"))?
        .extract()?;
    if elapsed >= limit {
        callbacks::warn_slow(py)?.call1((handle, elapsed))?;
    }
    Ok(())
}
