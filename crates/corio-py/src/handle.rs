//! `Handle` and `TimerHandle`: asyncio's callback handles, in Rust.
//!
//! A handle holds the callback, its arguments, the `contextvars.Context` it
//! runs in and the loop; the loop's ready queue holds handles and runs each
//! through [`run_handle`]: `context.run(callback, *args)`, an exception
//! other than `KeyboardInterrupt`/`SystemExit` going to the loop's
//! `call_exception_handler` with asyncio's keys (`message`, `exception`,
//! `handle`, and `source_traceback` in debug mode). `cancel()` drops the
//! callback and arguments at once, as asyncio's does. The attribute names
//! asyncio's helpers read (`_callback`, `_args`, `_cancelled`, `_when`,
//! `_scheduled`, `_source_traceback`) are exposed read-only.

use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit};
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::PyTuple;

use crate::callbacks;
use crate::event_loop::Loop;

/// `asyncio.Handle`'s equivalent: a callback scheduled on a corio loop.
///
/// Not tracked by the garbage collector (no `__traverse__`): see
/// [`run_handle`] and `docs/python.md`.
#[pyclass(subclass, weakref, freelist = 256, module = "corio._corio")]
pub struct Handle {
    pub(crate) callback: Option<PyObject>,
    pub(crate) args: Option<Py<PyTuple>>,
    pub(crate) context: PyObject,
    pub(crate) event_loop: PyObject,
    pub(crate) cancelled: bool,
    repr: Option<String>,
    pub(crate) source_traceback: Option<PyObject>,
}

impl Handle {
    pub(crate) fn new(
        callback: PyObject,
        args: Py<PyTuple>,
        context: PyObject,
        event_loop: PyObject,
        source_traceback: Option<PyObject>,
    ) -> Handle {
        Handle {
            callback: Some(callback),
            args: Some(args),
            context,
            event_loop,
            cancelled: false,
            repr: None,
            source_traceback,
        }
    }

    /// The `cancel()` of both handle kinds: in debug mode keeps the repr.
    pub(crate) fn cancel_base(slf: &Bound<'_, Handle>) -> PyResult<()> {
        let py = slf.py();
        if slf.borrow().cancelled {
            return Ok(());
        }
        let debug = {
            let event_loop = slf.borrow().event_loop.clone_ref(py);
            let event_loop = event_loop.bind(py);
            match event_loop.downcast::<Loop>() {
                Ok(l) => l.borrow().debug,
                Err(_) => event_loop.call_method0("get_debug")?.is_truthy()?,
            }
        };
        let repr = if debug {
            Some(slf.repr()?.to_string())
        } else {
            None
        };
        let (callback, args) = {
            let mut this = slf.borrow_mut();
            this.cancelled = true;
            if repr.is_some() {
                this.repr = repr;
            }
            (this.callback.take(), this.args.take())
        };
        // Released outside the borrow: their `__del__` may run Python code.
        drop((callback, args));
        Ok(())
    }

    fn repr_info(slf: &Bound<'_, Handle>) -> PyResult<Vec<String>> {
        let py = slf.py();
        let this = slf.borrow();
        let mut info = vec![slf.get_type().name()?.to_string()];
        if this.cancelled {
            info.push("cancelled".to_owned());
        }
        if let Some(cb) = &this.callback {
            let source = callbacks::format_callback_source(py)?.call1((
                cb,
                this.args.as_ref(),
                &this.event_loop,
            ))?;
            info.push(source.to_string());
        }
        if let Some(tb) = &this.source_traceback {
            let tb = tb.bind(py);
            if tb.is_truthy()? {
                let frame = tb.get_item(-1)?;
                info.push(format!(
                    "created at {}:{}",
                    frame.get_item(0)?,
                    frame.get_item(1)?
                ));
            }
        }
        Ok(info)
    }
}

/// Runs a handle as the loop does: `Ok` unless the callback raised
/// `KeyboardInterrupt` or `SystemExit` (or the exception handler failed).
///
/// With `consume`, the handle gives up its callback and arguments as it
/// runs (the loop's path outside debug mode): a handle that ran holds
/// nothing, so an object that keeps the handle of its own callback (a
/// timeout's `self._handle = loop.call_later(d, self._fire)`) forms no
/// reference cycle with it. This is what lets handles stay outside the
/// garbage collector (see `docs/python.md`).
pub(crate) fn run_handle(handle: &Bound<'_, Handle>, consume: bool) -> PyResult<()> {
    match take_call(handle, consume, false) {
        Some((callback, args, context)) => run_taken(handle, callback, args, context),
        None => Ok(()),
    }
}

/// The loop's path for a queued handle: skipped if cancelled, else run as
/// [`run_handle`] does, with one borrow of the handle for both.
pub(crate) fn run_ready(handle: &Bound<'_, Handle>, consume: bool) -> PyResult<()> {
    match take_call(handle, consume, true) {
        Some((callback, args, context)) => run_taken(handle, callback, args, context),
        None => Ok(()),
    }
}

/// The callback and arguments (given up by the handle with `consume`,
/// else new references), and the context's pointer, in one borrow; `None`
/// if `skip_cancelled` and the handle is cancelled.
type Call = (
    Option<PyObject>,
    Option<Py<PyTuple>>,
    *mut pyo3::ffi::PyObject,
);

fn take_call(handle: &Bound<'_, Handle>, consume: bool, skip_cancelled: bool) -> Option<Call> {
    let py = handle.py();
    let mut this = handle.borrow_mut();
    if skip_cancelled && this.cancelled {
        return None;
    }
    let context = this.context.as_ptr();
    Some(if consume {
        (this.callback.take(), this.args.take(), context)
    } else {
        (
            this.callback.as_ref().map(|c| c.clone_ref(py)),
            this.args.as_ref().map(|a| a.clone_ref(py)),
            context,
        )
    })
}

/// Runs `callback(*args)` in the handle's context; the callback and the
/// arguments are released (bound, so with no check of the GIL) after it.
fn run_taken(
    handle: &Bound<'_, Handle>,
    callback: Option<PyObject>,
    args: Option<Py<PyTuple>>,
    context: *mut pyo3::ffi::PyObject,
) -> PyResult<()> {
    let py = handle.py();
    let callback = match callback {
        Some(c) => c.into_bound(py),
        None => py.None().into_bound(py),
    };
    let args = match args {
        Some(a) => a.into_bound(py),
        None => PyTuple::empty(py),
    };
    // SAFETY: `context` is the handle's own reference, written once by
    // `Handle::new` and never replaced (no setter, no `__clear__`); the
    // handle lives until this returns (the caller's `handle` is a strong
    // reference, whatever the callback does: cancel it, drop the loop's
    // reference, close the loop), so the pointer stays valid for the call.
    let context = unsafe { Borrowed::from_ptr(py, context) };
    match callbacks::run_in_context(py, context, &callback, &args) {
        Ok(()) => Ok(()),
        Err(err) => report(handle, err, &callback, &args),
    }
}

/// A callback's exception: propagated if it is `KeyboardInterrupt` or
/// `SystemExit`, else handed to `loop.call_exception_handler`.
fn report(
    handle: &Bound<'_, Handle>,
    err: PyErr,
    callback: &Bound<'_, PyAny>,
    args: &Bound<'_, PyTuple>,
) -> PyResult<()> {
    let py = handle.py();
    if err.is_instance_of::<PyKeyboardInterrupt>(py) || err.is_instance_of::<PySystemExit>(py) {
        return Err(err);
    }
    let (event_loop, tb) = {
        let this = handle.borrow();
        (
            this.event_loop.clone_ref(py),
            this.source_traceback.as_ref().map(|t| t.clone_ref(py)),
        )
    };
    let event_loop = event_loop.bind(py);
    let context = callbacks::callback_error_context(
        py,
        &err,
        callback,
        args,
        handle.as_any(),
        event_loop,
        tb.as_ref(),
    )?;
    event_loop.call_method1(pyo3::intern!(py, "call_exception_handler"), (context,))?;
    Ok(())
}

#[pymethods]
impl Handle {
    /// `Handle(callback, args, loop, context=None)`, as asyncio's.
    #[new]
    #[pyo3(signature = (callback, args, r#loop, context=None))]
    fn py_new(
        py: Python<'_>,
        callback: PyObject,
        args: Py<PyTuple>,
        r#loop: PyObject,
        context: Option<PyObject>,
    ) -> PyResult<Handle> {
        let context = match context {
            Some(c) => c,
            None => callbacks::copy_current_context(py)?,
        };
        Ok(Handle::new(callback, args, context, r#loop, None))
    }

    /// Cancels the callback: it will not run; its references are dropped.
    fn cancel(slf: &Bound<'_, Self>) -> PyResult<()> {
        Handle::cancel_base(slf)
    }

    /// Whether `cancel()` was called.
    fn cancelled(&self) -> bool {
        self.cancelled
    }

    /// The `contextvars.Context` the callback runs in.
    fn get_context(&self, py: Python<'_>) -> PyObject {
        self.context.clone_ref(py)
    }

    /// Runs the callback now, as the loop does.
    fn _run(slf: &Bound<'_, Self>) -> PyResult<()> {
        run_handle(slf, false)
    }

    #[getter]
    fn _callback(&self, py: Python<'_>) -> Option<PyObject> {
        self.callback.as_ref().map(|c| c.clone_ref(py))
    }

    #[getter]
    fn _args(&self, py: Python<'_>) -> Option<Py<PyTuple>> {
        self.args.as_ref().map(|a| a.clone_ref(py))
    }

    #[getter]
    fn _cancelled(&self) -> bool {
        self.cancelled
    }

    #[getter]
    fn _context(&self, py: Python<'_>) -> PyObject {
        self.context.clone_ref(py)
    }

    #[getter]
    fn _loop(&self, py: Python<'_>) -> PyObject {
        self.event_loop.clone_ref(py)
    }

    #[getter]
    fn _source_traceback(&self, py: Python<'_>) -> Option<PyObject> {
        self.source_traceback.as_ref().map(|t| t.clone_ref(py))
    }

    /// asyncio's `_repr_info()`: the parts of the repr.
    fn _repr_info(slf: &Bound<'_, Self>) -> PyResult<Vec<String>> {
        Handle::repr_info(slf)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        if let Some(repr) = &slf.borrow().repr {
            return Ok(repr.clone());
        }
        // A subclass (TimerHandle) may override `_repr_info`.
        let info: Vec<String> = slf.call_method0("_repr_info")?.extract()?;
        Ok(format!("<{}>", info.join(" ")))
    }
}

/// `asyncio.TimerHandle`'s equivalent: a callback due at `when()`.
#[pyclass(extends = Handle, weakref, module = "corio._corio")]
pub struct TimerHandle {
    pub(crate) when: f64,
    pub(crate) scheduled: bool,
}

impl TimerHandle {
    pub(crate) fn create(py: Python<'_>, when: f64, base: Handle) -> PyResult<Py<TimerHandle>> {
        let init = PyClassInitializer::from(base).add_subclass(TimerHandle {
            when,
            scheduled: false,
        });
        Py::new(py, init)
    }
}

#[pymethods]
impl TimerHandle {
    /// `TimerHandle(when, callback, args, loop, context=None)`, as asyncio's.
    #[new]
    #[pyo3(signature = (when, callback, args, r#loop, context=None))]
    fn py_new(
        py: Python<'_>,
        when: f64,
        callback: PyObject,
        args: Py<PyTuple>,
        r#loop: PyObject,
        context: Option<PyObject>,
    ) -> PyResult<PyClassInitializer<TimerHandle>> {
        let base = Handle::py_new(py, callback, args, r#loop, context)?;
        Ok(PyClassInitializer::from(base).add_subclass(TimerHandle {
            when,
            scheduled: false,
        }))
    }

    /// The absolute time (`loop.time()`) the callback is due at.
    fn when(&self) -> f64 {
        self.when
    }

    #[getter]
    fn _when(&self) -> f64 {
        self.when
    }

    #[getter]
    fn _scheduled(&self) -> bool {
        self.scheduled
    }

    /// Cancels the timer; the loop counts it so that a heap mostly made of
    /// cancelled timers is rebuilt (asyncio's rule).
    fn cancel(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let base = slf.as_super();
        if base.borrow().cancelled {
            return Ok(());
        }
        let scheduled = slf.borrow().scheduled;
        if scheduled {
            let event_loop = base.borrow().event_loop.clone_ref(py);
            let event_loop = event_loop.bind(py);
            match event_loop.downcast::<Loop>() {
                Ok(l) => {
                    if let Ok(mut l) = l.try_borrow_mut() {
                        l.timers.note_cancelled();
                    }
                }
                Err(_) => {
                    event_loop.call_method1("_timer_handle_cancelled", (slf,))?;
                }
            }
        }
        Handle::cancel_base(base)
    }

    fn _repr_info(slf: &Bound<'_, Self>) -> PyResult<Vec<String>> {
        let base = slf.as_super();
        let mut info = Handle::repr_info(base)?;
        let pos = if base.borrow().cancelled { 2 } else { 1 };
        info.insert(pos.min(info.len()), format!("when={}", slf.borrow().when));
        Ok(info)
    }

    fn __hash__(&self) -> u64 {
        self.when.to_bits()
    }

    fn __richcmp__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<PyObject> {
        let py = slf.py();
        let Ok(other) = other.downcast::<TimerHandle>() else {
            return Ok(py.NotImplemented());
        };
        let (a, b) = (slf.borrow().when, other.borrow().when);
        let result = match op {
            CompareOp::Lt => a < b,
            CompareOp::Le => a <= b || slf.is(other),
            CompareOp::Gt => a > b,
            CompareOp::Ge => a >= b || slf.is(other),
            CompareOp::Eq => slf.is(other),
            CompareOp::Ne => !slf.is(other),
        };
        Ok(result.into_pyobject(py)?.to_owned().into_any().unbind())
    }
}

/// An entry of the loop's ready queue: one of ours, or another handle
/// object (asyncio's `events.Handle` from `_add_callback`, which the
/// signal machinery of `unix_events` uses), run through `_cancelled` and
/// `_run()`.
pub(crate) enum Ready {
    /// A one-shot handle (`call_soon`, a due timer): consumed as it runs.
    Native(Py<Handle>),
    /// An fd callback: runs again while the fd stays ready, never consumed.
    Fd(Py<Handle>),
    Foreign(PyObject),
}

impl Ready {
    /// Drops the queue's reference with the GIL known to be held (a `Py`
    /// dropped plainly checks for it first).
    pub(crate) fn release(self, py: Python<'_>) {
        match self {
            Ready::Native(h) | Ready::Fd(h) => drop(h.into_bound(py)),
            Ready::Foreign(o) => drop(o.into_bound(py)),
        }
    }

    pub(crate) fn object(&self) -> &PyObject {
        match self {
            Ready::Native(h) | Ready::Fd(h) => h.as_any(),
            Ready::Foreign(o) => o,
        }
    }
}
