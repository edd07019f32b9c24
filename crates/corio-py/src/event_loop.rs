//! `corio._corio.Loop`: the Rust base class of `corio.EventLoop`.
//!
//! It owns the ready queue, the timers and the fd callbacks, and implements
//! the `AbstractEventLoop` methods that run per callback: `call_soon`,
//! `call_soon_threadsafe`, `call_later`, `call_at`, `time`, `_run_once` and
//! the fd callback primitives asyncio's selector classes build on
//! (`_add_reader`, `_remove_reader`, `_add_writer`, `_remove_writer`).
//! `_closed`, `_stopping` and `_debug` are data descriptors here, so the
//! asyncio Python code that assigns them writes the Rust fields.
//!
//! **Borrows.** The class is borrowed (PyO3's runtime flag) only around
//! pure-Rust work: never across Python code, a Python allocation or the
//! release of a last reference, since any of those may run arbitrary code
//! (a `__del__`, the garbage collector, another thread taking the GIL) that
//! calls back into the loop. Handles are created before the borrow and
//! released after it.

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};

use crate::callbacks::{self, CallbackCache};
use crate::clock;
use crate::handle::{Handle, Ready, TimerHandle};
use crate::io::{FdKey, Io};
use crate::run_once;
use crate::timers::Timers;

mod call_soon;

/// The Rust core of a corio event loop (subclassed by `corio.EventLoop`).
#[pyclass(subclass, module = "corio._corio")]
pub struct Loop {
    pub(crate) ready: VecDeque<Ready>,
    pub(crate) timers: Timers,
    pub(crate) io: Io,
    #[pyo3(get, set, name = "_stopping")]
    pub(crate) stopping: bool,
    #[pyo3(get, set, name = "_closed")]
    pub(crate) closed: bool,
    #[pyo3(get, set, name = "_debug")]
    pub(crate) debug: bool,
    #[pyo3(get, set, name = "_clock_resolution")]
    pub(crate) clock_resolution: f64,
    /// `_task_factory` (asyncio's attribute, read by every `create_task`).
    #[pyo3(get, set, name = "_task_factory")]
    task_factory: Option<PyObject>,
    cache: CallbackCache,
    /// When the reactor was last polled (`clock::now()`).
    pub(crate) last_poll: f64,
    /// The iteration's batch, kept for its allocation (it swaps places with
    /// `ready` at every iteration).
    pub(crate) scratch: VecDeque<Ready>,
    /// The `sock_*` calls' registrations and waiting operations (py-sock).
    pub(crate) socks: crate::sock::Socks,
}

/// `io::Error` as Python's `OSError` (the errno picks the subclass).
pub(crate) fn os_error(e: io::Error) -> PyErr {
    match e.raw_os_error() {
        Some(code) => PyOSError::new_err((code, e.to_string())),
        None => PyOSError::new_err(e.to_string()),
    }
}

/// A handle's arguments: `None` for none.
fn non_empty(args: &Bound<'_, PyTuple>) -> Option<Py<PyTuple>> {
    (!args.is_empty()).then(|| args.clone().unbind())
}

fn closed_error() -> PyErr {
    PyRuntimeError::new_err("Event loop is closed")
}

/// `selectors._fileobj_to_fd`: an int, or an object's `fileno()`.
fn fileobj_to_fd(py: Python<'_>, fileobj: &Bound<'_, PyAny>) -> PyResult<RawFd> {
    if let Ok(fd) = fileobj.extract::<RawFd>() {
        if fd < 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "Invalid file descriptor: {fd}"
            )));
        }
        return Ok(fd);
    }
    py.import("selectors")?
        .getattr("_fileobj_to_fd")?
        .call1((fileobj,))?
        .extract()
}

impl Loop {
    /// Builds a handle for `callback` (asyncio's checks included) without
    /// queueing it.
    fn make_handle(
        slf: &Bound<'_, Loop>,
        callback: &Bound<'_, PyAny>,
        args: Option<Py<PyTuple>>,
        context: Option<PyObject>,
        method: &str,
        check_thread: bool,
    ) -> PyResult<Handle> {
        let py = slf.py();
        let (debug, known) = {
            let this = slf.borrow();
            if this.closed {
                return Err(closed_error());
            }
            (this.debug, this.cache.known_ok(py, callback)?)
        };
        if debug && check_thread {
            callbacks::check_thread(py, slf.as_any())?;
        }
        if !known {
            let learned = callbacks::check_callback(py, callback, method)?;
            slf.borrow_mut().cache.learn(learned);
        }
        let context = match context {
            Some(c) if !c.is_none(py) => c,
            _ => callbacks::copy_current_context(py)?,
        };
        let source_traceback = if debug {
            let frame = py.import("sys")?.getattr("_getframe")?.call1((0,))?;
            Some(callbacks::extract_stack(py)?.call1((frame,))?.unbind())
        } else {
            None
        };
        Ok(Handle::with_args(
            callback.clone().unbind(),
            args,
            context,
            slf.clone().into_any().unbind(),
            source_traceback,
        ))
    }

    /// `call_soon` and its thread-safe twin.
    fn schedule_soon<'py>(
        slf: &Bound<'py, Loop>,
        callback: &Bound<'py, PyAny>,
        args: Option<Py<PyTuple>>,
        context: Option<PyObject>,
        method: &str,
        check_thread: bool,
    ) -> PyResult<Bound<'py, Handle>> {
        let py = slf.py();
        let handle = Self::make_handle(slf, callback, args, context, method, check_thread)?;
        let handle = Handle::create(py, handle)?;
        slf.borrow_mut()
            .ready
            .push_back(Ready::Native(handle.clone().unbind()));
        Ok(handle)
    }

    fn add_fd(
        slf: &Bound<'_, Loop>,
        fd: &Bound<'_, PyAny>,
        callback: &Bound<'_, PyAny>,
        args: Option<Py<PyTuple>>,
        read: bool,
    ) -> PyResult<Py<Handle>> {
        let py = slf.py();
        let fd = fileobj_to_fd(py, fd)?;
        // A sock_* registration of the fd makes way (py-sock).
        crate::sock::before_add_fd(slf, fd)?;
        let method = if read { "add_reader" } else { "add_writer" };
        let handle = Self::make_handle(slf, callback, args, None, method, true)?;
        let handle = Handle::create(py, handle)?.unbind();
        let old = slf
            .borrow_mut()
            .io
            .add(fd, read, handle.clone_ref(py))
            .map_err(os_error)?;
        if let Some(old) = old {
            Handle::cancel_base(old.bind(py))?;
        }
        Ok(handle)
    }

    fn remove_fd(slf: &Bound<'_, Loop>, fd: &Bound<'_, PyAny>, read: bool) -> PyResult<bool> {
        let py = slf.py();
        if slf.borrow().closed {
            return Ok(false);
        }
        let fd = fileobj_to_fd(py, fd)?;
        let old = slf.borrow_mut().io.remove(fd, read);
        match old {
            Some(old) => {
                Handle::cancel_base(old.bind(py))?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[pymethods]
impl Loop {
    #[new]
    #[classmethod]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn py_new(
        cls: &Bound<'_, PyType>,
        _args: &Bound<'_, PyTuple>,
        _kwargs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Loop> {
        let py = cls.py();
        call_soon::install(py)?;
        call_soon::allocate_with_values(cls);
        Ok(Loop {
            ready: VecDeque::new(),
            timers: Timers::default(),
            io: Io::new().map_err(os_error)?,
            stopping: false,
            closed: false,
            debug: false,
            clock_resolution: clock::resolution(),
            cache: CallbackCache::new(py)?,
            scratch: VecDeque::new(),
            task_factory: None,
            last_poll: 0.0,
            socks: Default::default(),
        })
    }

    /// `loop.create_task(coro, *, name=None, context=None, **kwargs)`:
    /// asyncio's (C) `Task` on this loop; with a task factory set, asyncio's
    /// own method handles the factory. Other keyword arguments go to the
    /// `Task` (uvloop's extension, e.g. `eager_start=True` on 3.12+, where
    /// `Task` takes it; an unknown one is the `Task`'s `TypeError`).
    #[pyo3(signature = (coro, *, name=None, context=None, **task_kwargs))]
    fn create_task<'py>(
        slf: &Bound<'py, Self>,
        coro: &Bound<'py, PyAny>,
        name: Option<&Bound<'py, PyAny>>,
        context: Option<&Bound<'py, PyAny>>,
        task_kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let (debug, has_factory) = {
            let this = slf.borrow();
            if this.closed {
                return Err(closed_error());
            }
            (this.debug, this.task_factory.is_some())
        };
        let kwargs = match task_kwargs {
            Some(extra) => extra.copy()?,
            None => PyDict::new(py),
        };
        if let Some(name) = name {
            kwargs.set_item(pyo3::intern!(py, "name"), name)?;
        }
        if let Some(context) = context {
            kwargs.set_item(pyo3::intern!(py, "context"), context)?;
        }
        if has_factory {
            return callbacks::base_create_task(py)?
                .getattr(pyo3::intern!(py, "create_task"))?
                .call((slf, coro), Some(&kwargs));
        }
        kwargs.set_item(pyo3::intern!(py, "loop"), slf)?;
        let task = callbacks::task_type(py)?.call((coro,), Some(&kwargs))?;
        if debug {
            let tb = task.getattr(pyo3::intern!(py, "_source_traceback"))?;
            if tb.is_truthy()? {
                tb.del_item(-1)?;
            }
        }
        Ok(task)
    }

    /// Whether debug mode is on (read by every asyncio `Future` created).
    fn get_debug(&self) -> bool {
        self.debug
    }

    /// `time.monotonic()`, the loop's clock.
    fn time(&self) -> f64 {
        clock::now()
    }

    /// Schedules `callback(*args)` for the next iteration (FIFO). (The
    /// first loop created replaces this method with `call_soon.rs`'s.)
    #[pyo3(signature = (callback, *args, context=None))]
    fn call_soon(
        slf: &Bound<'_, Self>,
        callback: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        context: Option<PyObject>,
    ) -> PyResult<Py<Handle>> {
        Self::schedule_soon(slf, callback, non_empty(args), context, "call_soon", true)
            .map(Bound::unbind)
    }

    /// asyncio's internal `_call_soon(callback, args, context)`.
    #[pyo3(signature = (callback, args, context=None))]
    fn _call_soon(
        slf: &Bound<'_, Self>,
        callback: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        context: Option<PyObject>,
    ) -> PyResult<Py<Handle>> {
        Self::schedule_soon(slf, callback, non_empty(args), context, "call_soon", false)
            .map(Bound::unbind)
    }

    /// `call_soon` from any thread: also wakes the loop's reactor.
    #[pyo3(signature = (callback, *args, context=None))]
    fn call_soon_threadsafe(
        slf: &Bound<'_, Self>,
        callback: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        context: Option<PyObject>,
    ) -> PyResult<Py<Handle>> {
        let handle = Self::schedule_soon(
            slf,
            callback,
            non_empty(args),
            context,
            "call_soon_threadsafe",
            false,
        )?
        .unbind();
        let reactor = slf.borrow().io.reactor().clone();
        reactor.notify().map_err(os_error)?;
        Ok(handle)
    }

    /// Schedules `callback(*args)` at `loop.time() + delay`.
    #[pyo3(signature = (delay, callback, *args, context=None))]
    fn call_later(
        slf: &Bound<'_, Self>,
        delay: Option<f64>,
        callback: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        context: Option<PyObject>,
    ) -> PyResult<Py<TimerHandle>> {
        let Some(delay) = delay else {
            return Err(PyTypeError::new_err("delay must not be None"));
        };
        Self::schedule_at(
            slf,
            clock::now() + delay,
            callback,
            args,
            context,
            "call_later",
        )
    }

    /// Schedules `callback(*args)` at the loop time `when`.
    #[pyo3(signature = (when, callback, *args, context=None))]
    fn call_at(
        slf: &Bound<'_, Self>,
        when: Option<f64>,
        callback: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        context: Option<PyObject>,
    ) -> PyResult<Py<TimerHandle>> {
        let Some(when) = when else {
            return Err(PyTypeError::new_err("when cannot be None"));
        };
        Self::schedule_at(slf, when, callback, args, context, "call_at")
    }

    /// Counts a cancelled scheduled timer (asyncio's hook).
    fn _timer_handle_cancelled(&mut self, handle: &Bound<'_, PyAny>) -> PyResult<()> {
        let scheduled = match handle.downcast::<TimerHandle>() {
            Ok(t) => t.get().is_scheduled(handle.py()),
            Err(_) => handle.getattr("_scheduled")?.is_truthy()?,
        };
        if scheduled {
            self.timers.note_cancelled();
        }
        Ok(())
    }

    /// Queues a handle object (`_add_callback`, used by signal handling).
    fn _add_callback(slf: &Bound<'_, Self>, handle: &Bound<'_, PyAny>) -> PyResult<()> {
        let item = match handle.downcast::<Handle>() {
            Ok(h) => {
                if h.get().is_cancelled(h.py()) {
                    return Ok(());
                }
                // Not consumed: asyncio may queue the same handle again
                // (a signal handler's, on every signal).
                Ready::Fd(h.clone().unbind())
            }
            Err(_) => {
                if handle.getattr("_cancelled")?.is_truthy()? {
                    return Ok(());
                }
                Ready::Foreign(handle.clone().unbind())
            }
        };
        slf.borrow_mut().ready.push_back(item);
        Ok(())
    }

    /// Wakes the loop if it is waiting (`Reactor::notify`, thread-safe).
    fn _write_to_self(&self) -> PyResult<()> {
        self.io.reactor().notify().map_err(os_error)
    }

    /// One iteration of the loop, as `BaseEventLoop._run_once`.
    fn _run_once(slf: &Bound<'_, Self>) -> PyResult<()> {
        run_once::run_once(slf).map(drop)
    }

    /// `while True: self._run_once(); if self._stopping: break`, in Rust.
    fn _run_forever_loop(slf: &Bound<'_, Self>) -> PyResult<()> {
        while !run_once::run_once(slf)? {}
        Ok(())
    }

    #[pyo3(signature = (fd, callback, *args))]
    fn _add_reader(
        slf: &Bound<'_, Self>,
        fd: &Bound<'_, PyAny>,
        callback: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<Handle>> {
        Self::add_fd(slf, fd, callback, non_empty(args), true)
    }

    #[pyo3(signature = (fd, callback, *args))]
    fn _add_writer(
        slf: &Bound<'_, Self>,
        fd: &Bound<'_, PyAny>,
        callback: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<Handle>> {
        Self::add_fd(slf, fd, callback, non_empty(args), false)
    }

    fn _remove_reader(slf: &Bound<'_, Self>, fd: &Bound<'_, PyAny>) -> PyResult<bool> {
        Self::remove_fd(slf, fd, true)
    }

    fn _remove_writer(slf: &Bound<'_, Self>, fd: &Bound<'_, PyAny>) -> PyResult<bool> {
        Self::remove_fd(slf, fd, false)
    }

    /// `(events, reader, writer)` for a watched fd, else `None` (events:
    /// 1 read, 2 write, as `selectors.EVENT_*`).
    fn _fd_key(&self, py: Python<'_>, fd: &Bound<'_, PyAny>) -> PyResult<Option<FdKey>> {
        let fd = fileobj_to_fd(py, fd)?;
        Ok(self.io.key(py, fd))
    }

    /// The watched fds.
    fn _watched_fds(&self) -> Vec<RawFd> {
        self.io.fds()
    }

    /// Number of handles in the ready queue.
    fn _ready_count(&self) -> usize {
        self.ready.len()
    }

    /// Number of timers in the heap (cancelled ones included).
    fn _timer_count(&self) -> usize {
        self.timers.len()
    }

    /// Drops every queued callback, timer and fd callback (`close()`).
    fn _clear_core(slf: &Bound<'_, Self>) {
        let (ready, timers, fds) = {
            let mut this = slf.borrow_mut();
            let ready = std::mem::take(&mut this.ready);
            let timers = this.timers.clear();
            let fds = this.io.clear();
            // py-sock: what `_sock_close_all` did not already give back.
            let socks = this.socks.take_all();
            (ready, timers, (fds, socks))
        };
        // Released outside the borrow: `__del__`s may call back.
        drop((ready, timers, fds));
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(factory) = &self.task_factory {
            visit.call(factory)?;
        }
        for item in &self.ready {
            visit.call(item.object())?;
        }
        for item in &self.scratch {
            visit.call(item.object())?;
        }
        for handle in self.timers.handles() {
            visit.call(handle)?;
        }
        for handle in self.io.handles() {
            visit.call(handle)?;
        }
        self.socks.traverse(&visit)?;
        Ok(())
    }

    fn __clear__(&mut self) {
        self.task_factory = None;
        self.ready.clear();
        self.scratch.clear();
        drop(self.timers.clear());
        drop(self.io.clear());
        drop(self.socks.take_all());
    }
}

impl Loop {
    fn schedule_at(
        slf: &Bound<'_, Loop>,
        when: f64,
        callback: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        context: Option<PyObject>,
        method: &str,
    ) -> PyResult<Py<TimerHandle>> {
        let py = slf.py();
        let base = Self::make_handle(slf, callback, non_empty(args), context, method, true)?;
        let handle = TimerHandle::create(py, when, base)?;
        slf.borrow_mut().timers.push(py, when, handle.clone_ref(py));
        Ok(handle)
    }
}
