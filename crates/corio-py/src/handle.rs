//! `Handle`: asyncio's callback handle, in Rust, and how the loop runs one.
//!
//! A handle holds the callback, its arguments, the `contextvars.Context` it
//! runs in and the loop; the loop's ready queue holds handles and runs each
//! through [`run_ready`]: `context.run(callback, *args)`, an exception
//! other than `KeyboardInterrupt`/`SystemExit` going to the loop's
//! `call_exception_handler` with asyncio's keys (`message`, `exception`,
//! `handle`, and `source_traceback` in debug mode). `cancel()` drops the
//! callback and arguments at once, as asyncio's does. The attribute names
//! asyncio's helpers read (`_callback`, `_args`, `_cancelled`,
//! `_source_traceback`) are exposed read-only. (`TimerHandle` is in
//! `timers.rs`.)
//!
//! **No borrow flags.** The class is `frozen`: its mutable state lives in
//! `GILProtected<Cell<_>>`s, read and written with the GIL held and never
//! borrowed across Python code, so no PyO3 borrow flag is checked per
//! callback and no re-entrant call can fail a borrow.
//!
//! **Allocation.** `call_soon` makes one handle per callback, so the
//! handles of the loop's own paths ([`Handle::create`]) come from a free
//! list of their own, and a handle's `tp_dealloc` is replaced by
//! [`handle_dealloc`] (which also releases the handle's references without
//! PyO3's per-reference GIL check). Both write the Rust value at the offset
//! PyO3's `PyClassObject<Handle>` puts it, which [`install`] verifies
//! against a handle made by PyO3 itself before enabling them (else every
//! handle is PyO3's, as `Py::new` makes it).

use std::cell::Cell;

use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::GILProtected;
use pyo3::types::PyTuple;

use crate::callbacks;
use crate::event_loop::Loop;
pub(crate) use crate::timers::TimerHandle;

/// `asyncio.Handle`'s equivalent: a callback scheduled on a corio loop.
///
/// Not tracked by the garbage collector (no `__traverse__`): see
/// [`run_ready`] and `docs/python.md`.
#[pyclass(subclass, weakref, frozen, module = "corio._corio")]
pub struct Handle {
    /// Until the handle is cancelled, or ran with `consume`.
    callback: GILProtected<Cell<Option<PyObject>>>,
    /// The arguments; `None` for none, and with the callback gone.
    args: GILProtected<Cell<Option<Py<PyTuple>>>>,
    pub(crate) context: PyObject,
    pub(crate) event_loop: PyObject,
    cancelled: GILProtected<Cell<bool>>,
    /// Kept by `cancel()` in debug mode.
    repr: GILProtected<Cell<Option<Box<str>>>>,
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
        // SAFETY: `args` is a live tuple (typed); `PyTuple_Size` cannot
        // fail on one.
        let empty = unsafe { ffi::PyTuple_Size(args.as_ptr()) } == 0;
        Handle::with_args(
            callback,
            if empty { None } else { Some(args) },
            context,
            event_loop,
            source_traceback,
        )
    }

    /// [`Handle::new`] with `None` for no arguments.
    pub(crate) fn with_args(
        callback: PyObject,
        args: Option<Py<PyTuple>>,
        context: PyObject,
        event_loop: PyObject,
        source_traceback: Option<PyObject>,
    ) -> Handle {
        Handle {
            callback: GILProtected::new(Cell::new(Some(callback))),
            args: GILProtected::new(Cell::new(args)),
            context,
            event_loop,
            cancelled: GILProtected::new(Cell::new(false)),
            repr: GILProtected::new(Cell::new(None)),
            source_traceback,
        }
    }

    pub(crate) fn is_cancelled(&self, py: Python<'_>) -> bool {
        self.cancelled.get(py).get()
    }

    /// New references to the callback and the arguments (`None`s once the
    /// handle ran with `consume` or was cancelled; no arguments: `None`).
    fn peek(&self, py: Python<'_>) -> (Option<PyObject>, Option<Py<PyTuple>>) {
        let callback = self.callback.get(py).take();
        let copy = callback.as_ref().map(|c| c.clone_ref(py));
        self.callback.get(py).set(callback);
        let args = self.args.get(py).take();
        let args_copy = args.as_ref().map(|a| a.clone_ref(py));
        self.args.get(py).set(args);
        (copy, args_copy)
    }

    /// The callback and the arguments, given up by the handle.
    fn take(&self, py: Python<'_>) -> (Option<PyObject>, Option<Py<PyTuple>>) {
        (self.callback.get(py).take(), self.args.get(py).take())
    }

    /// Releases the references with the GIL known to be held (no check of
    /// it per reference, as a plain drop of a `Py` makes).
    #[cfg(not(feature = "abi3"))]
    fn release(self, py: Python<'_>) {
        let (callback, args) = self.take(py);
        drop(self.repr.get(py).take());
        if let Some(c) = callback {
            c.drop_ref(py);
        }
        if let Some(a) = args {
            a.drop_ref(py);
        }
        self.context.drop_ref(py);
        self.event_loop.drop_ref(py);
        if let Some(t) = self.source_traceback {
            t.drop_ref(py);
        }
    }

    /// A new handle object: from the free list of the fast path when
    /// it is enabled (see the module doc), else as PyO3 makes one.
    pub(crate) fn create(py: Python<'_>, value: Handle) -> PyResult<Bound<'_, Handle>> {
        #[cfg(not(feature = "abi3"))]
        return fast::create(py, value);
        // The stable ABI hides the type's slots.
        #[cfg(feature = "abi3")]
        Bound::new(py, value)
    }

    /// The `cancel()` of both handle kinds: in debug mode keeps the repr.
    pub(crate) fn cancel_base(slf: &Bound<'_, Handle>) -> PyResult<()> {
        let py = slf.py();
        let this = slf.get();
        if this.is_cancelled(py) {
            return Ok(());
        }
        this.cancelled.get(py).set(true);
        let debug = {
            let event_loop = this.event_loop.bind(py);
            match event_loop.downcast::<Loop>() {
                Ok(l) => l.borrow().debug,
                Err(_) => event_loop.call_method0("get_debug")?.is_truthy()?,
            }
        };
        if debug {
            // asyncio's order: the repr says "cancelled" and shows the
            // callback, which is dropped right after.
            let repr = slf.repr()?.to_string();
            this.repr.get(py).set(Some(repr.into()));
        }
        let (callback, args) = this.take(py);
        // Released after the state is final: their `__del__` may run Python.
        drop((callback, args));
        Ok(())
    }

    pub(crate) fn repr_info(slf: &Bound<'_, Handle>) -> PyResult<Vec<String>> {
        let py = slf.py();
        let this = slf.get();
        let mut info = vec![slf.get_type().name()?.to_string()];
        if this.is_cancelled(py) {
            info.push("cancelled".to_owned());
        }
        let (callback, args) = this.peek(py);
        if let Some(cb) = callback {
            let args = args.unwrap_or_else(|| PyTuple::empty(py).unbind());
            let source =
                callbacks::format_callback_source(py)?.call1((cb, args, &this.event_loop))?;
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

/// Runs a handle as `_run()` does (a cancelled one too: its callback is
/// gone, so that is asyncio's `TypeError`, reported): `Ok` unless the
/// callback raised `KeyboardInterrupt` or `SystemExit` (or the exception
/// handler failed). With `consume`, see [`run_ready`].
pub(crate) fn run_handle(handle: &Bound<'_, Handle>, consume: bool) -> PyResult<()> {
    let py = handle.py();
    let this = handle.get();
    let (callback, args) = if consume {
        this.take(py)
    } else {
        this.peek(py)
    };
    run_taken(handle, callback, args)
}

/// The loop's path for a queued handle: skipped if cancelled, else run.
///
/// With `consume`, the handle gives up its callback and arguments as it
/// runs (the loop's path outside debug mode): a handle that ran holds
/// nothing, so an object that keeps the handle of its own callback (a
/// timeout's `self._handle = loop.call_later(d, self._fire)`) forms no
/// reference cycle with it. This is what lets handles stay outside the
/// garbage collector (see `docs/python.md`).
pub(crate) fn run_ready(handle: &Bound<'_, Handle>, consume: bool) -> PyResult<()> {
    if handle.get().is_cancelled(handle.py()) {
        return Ok(());
    }
    run_handle(handle, consume)
}

/// Runs `callback(*args)` in the handle's context; the callback and the
/// arguments are released (bound, so with no check of the GIL) after it.
fn run_taken(
    handle: &Bound<'_, Handle>,
    callback: Option<PyObject>,
    args: Option<Py<PyTuple>>,
) -> PyResult<()> {
    let py = handle.py();
    let callback = match callback {
        Some(c) => c.into_bound(py),
        None => py.None().into_bound(py),
    };
    let args = args.map(|a| a.into_bound(py));
    // The handle (a strong reference the caller holds until this returns,
    // whatever the callback does: cancel it, drop the loop's reference,
    // close the loop) keeps its context alive for the call.
    let context = handle.get().context.bind(py);
    match callbacks::run_in_context(py, context, &callback, args.as_ref()) {
        Ok(()) => Ok(()),
        Err(err) => {
            let args = args.unwrap_or_else(|| PyTuple::empty(py));
            report(handle, err, &callback, &args)
        }
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
    let this = handle.get();
    let event_loop = this.event_loop.bind(py);
    let context = callbacks::callback_error_context(
        py,
        &err,
        callback,
        args,
        handle.as_any(),
        event_loop,
        this.source_traceback.as_ref(),
    )?;
    event_loop.call_method1(pyo3::intern!(py, "call_exception_handler"), (context,))?;
    Ok(())
}

#[pymethods]
impl Handle {
    /// `Handle(callback, args, loop, context=None)`, as asyncio's.
    #[new]
    #[pyo3(signature = (callback, args, r#loop, context=None))]
    pub(crate) fn py_new(
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
    fn cancelled(&self, py: Python<'_>) -> bool {
        self.is_cancelled(py)
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
        self.peek(py).0
    }

    #[getter]
    fn _args(&self, py: Python<'_>) -> Option<Py<PyTuple>> {
        match self.peek(py) {
            (Some(_), None) => Some(PyTuple::empty(py).unbind()),
            (_, args) => args,
        }
    }

    #[getter]
    fn _cancelled(&self, py: Python<'_>) -> bool {
        self.is_cancelled(py)
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
        let py = slf.py();
        let kept = slf.get().repr.get(py).take();
        if let Some(repr) = kept {
            let text = repr.to_string();
            slf.get().repr.get(py).set(Some(repr));
            return Ok(text);
        }
        // A subclass (TimerHandle) may override `_repr_info`.
        let info: Vec<String> = slf.call_method0("_repr_info")?.extract()?;
        Ok(format!("<{}>", info.join(" ")))
    }
}

/// The free list and the `tp_dealloc` of the build for one interpreter.
#[cfg(not(feature = "abi3"))]
mod fast {
    use std::cell::RefCell;
    use std::mem::size_of;
    use std::ptr;
    use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering::Relaxed};

    use pyo3::ffi;
    use pyo3::prelude::*;
    use pyo3::sync::GILProtected;

    use super::Handle;

    /// Where PyO3's `PyClassObject<Handle>` keeps the value: right after the
    /// object header (`#[repr(C)]`, no base class fields, pointer-aligned).
    const VALUE_OFFSET: usize = size_of::<ffi::PyObject>();
    /// The weakref list pointer after the value (no borrow flag: frozen).
    const WEAKREF_OFFSET: usize = VALUE_OFFSET + size_of::<Handle>();
    /// How many emptied handle objects are kept for reuse.
    const FREE_MAX: usize = 256;

    /// `Handle`'s type once [`install`] verified the layout, else NULL.
    static FAST_TYPE: AtomicPtr<ffi::PyTypeObject> = AtomicPtr::new(ptr::null_mut());
    static INSTALL_TRIED: AtomicBool = AtomicBool::new(false);
    /// PyO3's `tp_dealloc` of `Handle` (for Python subclasses of it).
    static PYO3_DEALLOC: AtomicUsize = AtomicUsize::new(0);

    /// An emptied handle object (its memory, refcount 0).
    struct FreeObject(*mut ffi::PyObject);
    // SAFETY: a pooled object is plain memory owned by the free list, only
    // touched with the GIL held (the list is `GILProtected`).
    unsafe impl Send for FreeObject {}

    static FREE_LIST: GILProtected<RefCell<Vec<FreeObject>>> =
        GILProtected::new(RefCell::new(Vec::new()));

    /// Enables the free list and [`handle_dealloc`] if a handle made by PyO3
    /// has the layout they write (once per process; PyO3 0.23 refuses
    /// subinterpreters, so there is one `Handle` type).
    fn install(py: Python<'_>) {
        let Ok(probe) = Bound::new(
            py,
            Handle::with_args(py.None(), None, py.None(), py.None(), None),
        ) else {
            return;
        };
        let tp = probe.get_type().as_type_ptr();
        let value_at =
            (probe.get() as *const Handle as usize).wrapping_sub(probe.as_ptr() as usize);
        // SAFETY: the GIL is held; `tp` is `Handle`'s live heap type (the probe
        // holds it). Its slots are read, and `tp_dealloc` is replaced before any
        // handle is made by `Handle::create`: instances made by PyO3 meanwhile
        // have the verified layout too, so the new function can free them.
        unsafe {
            let ok = value_at == VALUE_OFFSET
                && (*tp).tp_basicsize as usize == WEAKREF_OFFSET + size_of::<usize>()
                && (*tp).tp_weaklistoffset as usize == WEAKREF_OFFSET
                && (*tp).tp_itemsize == 0
                && ffi::PyType_IS_GC(tp) == 0
                && ffi::PyType_HasFeature(tp, ffi::Py_TPFLAGS_HEAPTYPE) != 0
                && (*tp).tp_free.is_some();
            let Some(dealloc) = (*tp).tp_dealloc.filter(|_| ok) else {
                return;
            };
            PYO3_DEALLOC.store(dealloc as usize, Relaxed);
            (*tp).tp_dealloc = Some(handle_dealloc);
            FAST_TYPE.store(tp, Relaxed);
        }
    }

    /// `Handle`'s `tp_dealloc` once [`install`] ran: clears weak references,
    /// moves the value out, pools the memory (or frees it) and gives back the
    /// type reference, then releases the handle's references. A Python
    /// subclass's instance goes to PyO3's own function.
    unsafe extern "C" fn handle_dealloc(obj: *mut ffi::PyObject) {
        // SAFETY: CPython calls this with the GIL held, once, for an object of
        // `Handle`'s type or a subclass (this is `Handle`'s slot) whose
        // refcount reached zero. For `Handle` itself, the layout is the one
        // `install` verified; the value is read out exactly once, after the
        // weakrefs' callbacks (which see the object as dead), and the memory is
        // never touched again but by the free list. The type reference each
        // live instance holds (`PyType_GenericAlloc`, `PyObject_Init`) is given
        // back. `PYO3_DEALLOC` holds the function `install` replaced.
        unsafe {
            let tp = ffi::Py_TYPE(obj);
            if tp != FAST_TYPE.load(Relaxed) {
                let pyo3: ffi::destructor = std::mem::transmute(PYO3_DEALLOC.load(Relaxed));
                return pyo3(obj);
            }
            let py = Python::assume_gil_acquired();
            let weakrefs = obj
                .cast::<u8>()
                .add(WEAKREF_OFFSET)
                .cast::<*mut ffi::PyObject>();
            if !(*weakrefs).is_null() {
                ffi::PyObject_ClearWeakRefs(obj);
                *weakrefs = ptr::null_mut();
            }
            let value = ptr::read(obj.cast::<u8>().add(VALUE_OFFSET).cast::<Handle>());
            let pooled = match FREE_LIST.get(py).try_borrow_mut() {
                Ok(mut free) if free.len() < FREE_MAX => {
                    free.push(FreeObject(obj));
                    true
                }
                _ => false,
            };
            if !pooled {
                if let Some(free) = (*tp).tp_free {
                    free(obj.cast());
                }
            }
            ffi::Py_DECREF(tp.cast());
            value.release(py);
        }
    }

    /// A new handle object: see [`Handle::create`].
    pub(super) fn create(py: Python<'_>, value: Handle) -> PyResult<Bound<'_, Handle>> {
        let tp = FAST_TYPE.load(Relaxed);
        if tp.is_null() {
            if !INSTALL_TRIED.swap(true, Relaxed) {
                install(py);
                return create(py, value);
            }
            return Bound::new(py, value);
        }
        let pooled = FREE_LIST
            .get(py)
            .try_borrow_mut()
            .ok()
            .and_then(|mut free| free.pop());
        // SAFETY: the GIL is held. `tp` is `Handle`'s type, whose instances
        // [`install`] verified to hold the value at `VALUE_OFFSET` (no
        // borrow flag: the class is frozen; the weakref slot after it).
        // A pooled object is one `handle_dealloc` emptied (value moved out,
        // weakref slot NULL, type reference given back), which
        // `PyObject_Init` makes live again; a new one comes zeroed from
        // `PyType_GenericAlloc`. Either way the value is written once into
        // uninitialised memory, and the new reference is ours.
        unsafe {
            let obj = match pooled {
                Some(FreeObject(obj)) => ffi::PyObject_Init(obj, tp),
                None => ffi::PyType_GenericAlloc(tp, 0),
            };
            if obj.is_null() {
                return Err(PyErr::fetch(py));
            }
            ptr::write(obj.cast::<u8>().add(VALUE_OFFSET).cast::<Handle>(), value);
            Ok(Bound::from_owned_ptr(py, obj).downcast_into_unchecked())
        }
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
    /// py-transport: a socket transport's readiness (`io.rs` streams), run
    /// by `transport::run_ready` in the transport's context.
    Stream(Py<crate::transport::SocketTransport>),
}

impl Ready {
    /// Drops the queue's reference with the GIL known to be held (a `Py`
    /// dropped plainly checks for it first).
    pub(crate) fn release(self, py: Python<'_>) {
        match self {
            Ready::Native(h) | Ready::Fd(h) => h.drop_ref(py),
            Ready::Foreign(o) => o.drop_ref(py),
            Ready::Stream(t) => t.drop_ref(py),
        }
    }

    pub(crate) fn object(&self) -> &PyObject {
        match self {
            Ready::Native(h) | Ready::Fd(h) => h.as_any(),
            Ready::Foreign(o) => o,
            Ready::Stream(t) => t.as_any(),
        }
    }
}
