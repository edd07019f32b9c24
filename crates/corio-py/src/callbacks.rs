//! The Python objects the core calls (cached once per interpreter) and
//! asyncio's callback checks: `_check_callback` (a coroutine or a
//! non-callable is a `TypeError`) and `_check_thread` (debug mode).

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyDict, PyTuple};

/// `(module, attribute)` lookups, cached.
macro_rules! cached {
    ($name:ident, $module:expr, $attr:expr) => {
        pub(crate) fn $name(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
            static CELL: GILOnceCell<PyObject> = GILOnceCell::new();
            CELL.get_or_try_init(py, || {
                Ok::<_, PyErr>(py.import($module)?.getattr($attr)?.unbind())
            })
            .map(|o| o.bind(py))
        }
    };
}

#[cfg(all(feature = "abi3", not(feature = "context-api")))]
cached!(context_run, "contextvars", "Context");
#[cfg(all(feature = "abi3", not(feature = "context-api")))]
cached!(copy_context, "contextvars", "copy_context");
cached!(function_type, "types", "FunctionType");
cached!(method_type, "types", "MethodType");
cached!(iscoroutine, "asyncio.coroutines", "iscoroutine");
cached!(
    iscoroutinefunction,
    "asyncio.coroutines",
    "iscoroutinefunction"
);
cached!(
    format_callback_source,
    "corio._hooks",
    "format_callback_source"
);
cached!(extract_stack, "corio._hooks", "extract_stack");
cached!(warn_slow, "corio._hooks", "warn_slow_callback");
cached!(get_ident, "threading", "get_ident");
cached!(task_type, "asyncio.tasks", "Task");
cached!(base_create_task, "asyncio.base_events", "BaseEventLoop");

/// `contextvars.Context.run`, the unbound method descriptor: calling it as
/// `run(ctx, cb, *args)` spares the bound-method object per call.
#[cfg(all(feature = "abi3", not(feature = "context-api")))]
pub(crate) fn context_run_method(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static CELL: GILOnceCell<PyObject> = GILOnceCell::new();
    CELL.get_or_try_init(py, || {
        Ok::<_, PyErr>(context_run(py)?.getattr("run")?.unbind())
    })
    .map(|o| o.bind(py))
}

/// `contextvars.copy_context()`: a new reference to a copy of the current
/// context.
#[cfg(all(feature = "abi3", not(feature = "context-api")))]
pub(crate) fn copy_current_context(py: Python<'_>) -> PyResult<PyObject> {
    Ok(copy_context(py)?.call0()?.unbind())
}

/// `contextvars.copy_context()`, by `PyContext_CopyCurrent`.
#[cfg(any(not(feature = "abi3"), feature = "context-api"))]
pub(crate) fn copy_current_context(py: Python<'_>) -> PyResult<PyObject> {
    // SAFETY: the GIL is held (`py`); `PyContext_CopyCurrent` returns a new
    // reference or NULL with an exception set, which `from_owned_ptr_or_err`
    // takes over.
    unsafe { Bound::from_owned_ptr_or_err(py, capi::PyContext_CopyCurrent()) }.map(Bound::unbind)
}

/// The context functions of CPython's C API, which are not in the limited
/// API: pyo3's declarations in the build for one interpreter; with the
/// `context-api` feature, our own in the abi3 build (CPython 3.11 to 3.13
/// export them, with these signatures, since 3.7; `docs/python.md`).
#[cfg(not(feature = "abi3"))]
mod capi {
    pub(super) use pyo3::ffi::{PyContext_CopyCurrent, PyContext_Enter, PyContext_Exit};
}

#[cfg(all(feature = "abi3", feature = "context-api"))]
mod capi {
    use pyo3::ffi::PyObject;
    use std::os::raw::c_int;

    extern "C" {
        pub(super) fn PyContext_CopyCurrent() -> *mut PyObject;
        pub(super) fn PyContext_Enter(ctx: *mut PyObject) -> c_int;
        pub(super) fn PyContext_Exit(ctx: *mut PyObject) -> c_int;
    }
}

/// `PyObject_Vectorcall`: in the stable ABI from CPython 3.12; 3.11 exports
/// it with the same signature (`cpython/abstract.h`), so the abi3 wheel
/// (3.11+) declares it itself (`docs/python.md`).
#[cfg(all(feature = "abi3", not(feature = "context-api")))]
mod vectorcall {
    use pyo3::ffi::PyObject;

    extern "C" {
        pub(super) fn PyObject_Vectorcall(
            callable: *mut PyObject,
            args: *const *mut PyObject,
            nargsf: usize,
            kwnames: *mut PyObject,
        ) -> *mut PyObject;
    }
}

/// How many callback arguments [`run_in_context`] passes on the stack.
#[cfg(all(feature = "abi3", not(feature = "context-api")))]
const STACK_ARGS: usize = 4;

/// `context.run(callback, *args)`: a vectorcall of the unbound
/// `Context.run` with `(context, callback, *args)` on the stack (a tuple
/// only beyond [`STACK_ARGS`] arguments).
#[cfg(all(feature = "abi3", not(feature = "context-api")))]
pub(crate) fn run_in_context(
    py: Python<'_>,
    context: &Bound<'_, PyAny>,
    callback: &Bound<'_, PyAny>,
    args: Option<&Bound<'_, PyTuple>>,
) -> PyResult<()> {
    let run = context_run_method(py)?.as_ptr();
    let empty = PyTuple::empty(py);
    let args = args.unwrap_or(&empty);
    let n = args.len();
    let result = if n <= STACK_ARGS {
        let mut stack = [std::ptr::null_mut::<ffi::PyObject>(); 2 + STACK_ARGS];
        stack[0] = context.as_ptr();
        stack[1] = callback.as_ptr();
        for (i, slot) in stack[2..2 + n].iter_mut().enumerate() {
            *slot = args.get_borrowed_item(i)?.as_ptr();
        }
        // SAFETY: the GIL is held (`py`). The first `2 + n` entries of
        // `stack` are live objects for the whole call: `run` is kept by its
        // static cell; `context`, `callback` and `args` are borrowed from
        // references the caller holds until this returns (a callback that
        // cancels or drops its handle cannot free them), and the tuple's
        // items are owned by the immutable tuple. The call returns a new
        // reference or NULL with an exception set.
        unsafe { vectorcall::PyObject_Vectorcall(run, stack.as_ptr(), 2 + n, std::ptr::null_mut()) }
    } else {
        let mut items: Vec<Bound<'_, PyAny>> = Vec::with_capacity(2 + n);
        items.push(context.clone());
        items.push(callback.clone());
        items.extend(args.iter());
        let all = PyTuple::new(py, items)?;
        // SAFETY: the GIL is held; `run` and `all` are live; a new reference
        // or NULL with an exception set comes back.
        unsafe { ffi::PyObject_Call(run, all.as_ptr(), std::ptr::null_mut()) }
    };
    // SAFETY: `result` is a new reference or NULL with an exception set.
    unsafe { Bound::from_owned_ptr_or_err(py, result) }.map(drop)
}

/// `context.run(callback, *args)` as `Context.run` itself does it:
/// `PyContext_Enter`, the call, `PyContext_Exit`.
#[cfg(any(not(feature = "abi3"), feature = "context-api"))]
pub(crate) fn run_in_context(
    py: Python<'_>,
    context: &Bound<'_, PyAny>,
    callback: &Bound<'_, PyAny>,
    args: Option<&Bound<'_, PyTuple>>,
) -> PyResult<()> {
    let ctx = context.as_ptr();
    // SAFETY: the GIL is held (`py`). `ctx`, `callback` and `args` are live
    // for the whole call (borrowed from references the caller holds until
    // this returns, whatever the callback does to its handle).
    // `PyContext_Enter` checks that `ctx` is a `Context` not already
    // entered (TypeError / RuntimeError otherwise, as `Context.run`).
    // `PyContext_Exit` runs whatever the callback did, so the context stack
    // is left as it was found; its failure (the callback left `ctx` entered
    // elsewhere) wins over the result, as in `Context.run`. The call returns
    // a new reference or NULL with an exception set, which
    // `from_owned_ptr_or_err` takes over.
    unsafe {
        if capi::PyContext_Enter(ctx) < 0 {
            return Err(PyErr::fetch(py));
        }
        let result = Bound::from_owned_ptr_or_err(py, call_tuple(callback, args));
        if capi::PyContext_Exit(ctx) < 0 {
            drop(result);
            return Err(PyErr::fetch(py));
        }
        result.map(drop)
    }
}

/// `callback(*args)`: a vectorcall with the tuple's own item array.
///
/// # Safety
///
/// The GIL is held; returns a new reference or NULL with an exception set.
#[cfg(not(feature = "abi3"))]
unsafe fn call_tuple(
    callback: &Bound<'_, PyAny>,
    args: Option<&Bound<'_, PyTuple>>,
) -> *mut ffi::PyObject {
    let (items, n) = match args {
        Some(args) => {
            let tuple = args.as_ptr().cast::<ffi::PyTupleObject>();
            // SAFETY: `args` is a tuple (typed), immutable and owning its
            // items, so `ob_item` holds `len` live pointers for the call.
            unsafe {
                (
                    std::ptr::addr_of!((*tuple).ob_item).cast::<*mut ffi::PyObject>(),
                    ffi::PyTuple_GET_SIZE(args.as_ptr()) as usize,
                )
            }
        }
        // A NULL array is allowed with a count of 0.
        None => (std::ptr::null(), 0),
    };
    let callable = callback.as_ptr();
    // SAFETY: the caller holds the GIL; `callable` is live. A type with
    // `Py_TPFLAGS_HAVE_VECTORCALL` has a positive `tp_vectorcall_offset`
    // to an instance's vectorcall pointer (which may be NULL). Calling it
    // directly is `PyObject_Vectorcall` less the thread-state lookup and
    // `_Py_CheckFunctionResult` (which turns a result inconsistent with the
    // error indicator into `SystemError`, a bug of the callee's); anything
    // else goes through `PyObject_Vectorcall`.
    unsafe {
        let tp = ffi::Py_TYPE(callable);
        if ffi::PyType_HasFeature(tp, ffi::Py_TPFLAGS_HAVE_VECTORCALL) != 0 {
            let slot = callable
                .cast::<u8>()
                .offset((*tp).tp_vectorcall_offset)
                .cast::<Option<ffi::vectorcallfunc>>();
            if let Some(vectorcall) = *slot {
                return vectorcall(callable, items, n, std::ptr::null_mut());
            }
        }
        ffi::PyObject_Vectorcall(callable, items, n, std::ptr::null_mut())
    }
}

/// `callback(*args)` by `PyObject_Call`, which hands the tuple's items to
/// the callee's vectorcall without a copy.
///
/// # Safety
///
/// The GIL is held; returns a new reference or NULL with an exception set.
#[cfg(all(feature = "abi3", feature = "context-api"))]
unsafe fn call_tuple(
    callback: &Bound<'_, PyAny>,
    args: Option<&Bound<'_, PyTuple>>,
) -> *mut ffi::PyObject {
    let empty = PyTuple::empty(callback.py());
    let args = args.unwrap_or(&empty);
    // SAFETY: both are live objects the caller holds; the caller holds the
    // GIL.
    unsafe { ffi::PyObject_Call(callback.as_ptr(), args.as_ptr(), std::ptr::null_mut()) }
}

/// One function recently found not to be a coroutine function: calling
/// `call_soon(f)` a million times checks `f`'s code flags once.
/// Also the types of C callables seen (a task's step wrapper, a builtin
/// method), which cannot be coroutine functions. Types are kept by address
/// (the cached `types.FunctionType`/`MethodType` live forever, a learned
/// type is held by `plain_types`), compared with `Py_TYPE(callback)`.
pub(crate) struct CallbackCache {
    last_ok: Option<PyObject>,
    plain_types: Vec<PyObject>,
    function_type: usize,
    method_type: usize,
}

impl CallbackCache {
    pub(crate) fn new(py: Python<'_>) -> PyResult<CallbackCache> {
        Ok(CallbackCache {
            last_ok: None,
            plain_types: Vec::new(),
            function_type: function_type(py)?.as_ptr() as usize,
            method_type: method_type(py)?.as_ptr() as usize,
        })
    }
}

/// How many C callable types [`CallbackCache`] remembers.
const PLAIN_TYPES: usize = 8;

const CO_COROUTINE: i64 = 0x0080;

/// What a full check learned, to be remembered by the cache.
pub(crate) enum Learned {
    Nothing,
    Function(PyObject),
    PlainType(PyObject),
}

impl CallbackCache {
    /// The check's fast path, which runs no user code (type checks,
    /// identities, a method's `__func__`): `true` if `callback` is known to
    /// be fine; `false` means "ask [`check_callback`]".
    pub(crate) fn known_ok(&self, py: Python<'_>, callback: &Bound<'_, PyAny>) -> PyResult<bool> {
        let ty = callback.get_type_ptr() as usize;
        if ty == self.function_type {
            return Ok(self.last_ok.as_ref().is_some_and(|f| f.is(callback)));
        }
        if self.plain_types.iter().any(|t| t.as_ptr() as usize == ty) {
            return Ok(true);
        }
        if ty == self.method_type {
            if let Some(last) = &self.last_ok {
                return Ok(last.is(&callback.getattr(pyo3::intern!(py, "__func__"))?));
            }
        }
        Ok(false)
    }

    /// Remembers what [`check_callback`] learned.
    pub(crate) fn learn(&mut self, learned: Learned) {
        match learned {
            Learned::Nothing => {}
            Learned::Function(f) => self.last_ok = Some(f),
            Learned::PlainType(t) => {
                if self.plain_types.len() < PLAIN_TYPES {
                    self.plain_types.push(t);
                }
            }
        }
    }
}

/// asyncio's `_check_callback(callback, method)` in full (may run Python
/// code: call it with no borrow of the loop held).
///
/// Callables that cannot be coroutine functions (builtins, C method
/// wrappers such as a task's step) pass with a type check (and their type
/// is learned); Python functions and methods have their code flags read
/// (and the function is learned); other callables (partials, instances) go
/// through asyncio's `iscoroutinefunction`.
pub(crate) fn check_callback(
    py: Python<'_>,
    callback: &Bound<'_, PyAny>,
    method: &str,
) -> PyResult<Learned> {
    if !callback.is_callable() {
        if iscoroutine(py)?.call1((callback,))?.is_truthy()? {
            return Err(coroutine_error(method));
        }
        return Err(PyTypeError::new_err(format!(
            "a callable object was expected by {method}(), got {}",
            callback.repr()?
        )));
    }
    let ty = callback.get_type();
    let func = if ty.is(function_type(py)?) {
        callback.clone()
    } else if ty.is(method_type(py)?) {
        callback.getattr(pyo3::intern!(py, "__func__"))?
    } else if ty.is_subclass_of::<pyo3::types::PyType>()? {
        // A class.
        return Ok(Learned::Nothing);
    } else if callback.hasattr(pyo3::intern!(py, "__self__"))?
        && !callback.hasattr(pyo3::intern!(py, "__func__"))?
        && !callback.hasattr(pyo3::intern!(py, "__code__"))?
        && !iscoroutinefunction(py)?.call1((callback,))?.is_truthy()?
    {
        // A builtin function or method, a C method wrapper (a task's step):
        // bound to an object, with no Python code behind it.
        return Ok(Learned::PlainType(ty.into_any().unbind()));
    } else {
        if iscoroutinefunction(py)?.call1((callback,))?.is_truthy()? {
            return Err(coroutine_error(method));
        }
        return Ok(Learned::Nothing);
    };
    if !func.get_type().is(function_type(py)?) {
        if iscoroutinefunction(py)?.call1((callback,))?.is_truthy()? {
            return Err(coroutine_error(method));
        }
        return Ok(Learned::Nothing);
    }
    let flags: i64 = func
        .getattr(pyo3::intern!(py, "__code__"))?
        .getattr(pyo3::intern!(py, "co_flags"))?
        .extract()?;
    if flags & CO_COROUTINE != 0 || iscoroutinefunction(py)?.call1((&func,))?.is_truthy()? {
        return Err(coroutine_error(method));
    }
    Ok(Learned::Function(func.unbind()))
}

fn coroutine_error(method: &str) -> PyErr {
    PyTypeError::new_err(format!("coroutines cannot be used with {method}()"))
}

/// asyncio's `_check_thread` (debug mode): a non-threadsafe call from a
/// thread other than the one running the loop is a `RuntimeError`.
pub(crate) fn check_thread(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<()> {
    let thread_id = event_loop.getattr(pyo3::intern!(py, "_thread_id"))?;
    if thread_id.is_none() {
        return Ok(());
    }
    if !thread_id.eq(get_ident(py)?.call0()?)? {
        return Err(PyRuntimeError::new_err(
            "Non-thread-safe operation invoked on an event loop other than the current one",
        ));
    }
    Ok(())
}

/// asyncio's exception context for a callback that raised.
pub(crate) fn callback_error_context<'py>(
    py: Python<'py>,
    err: &PyErr,
    callback: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    handle: &Bound<'py, PyAny>,
    event_loop: &Bound<'py, PyAny>,
    source_traceback: Option<&PyObject>,
) -> PyResult<Bound<'py, PyDict>> {
    let source = format_callback_source(py)?.call1((callback, args, event_loop))?;
    let context = PyDict::new(py);
    context.set_item("message", format!("Exception in callback {source}"))?;
    context.set_item("exception", err.value(py))?;
    context.set_item("handle", handle)?;
    if let Some(tb) = source_traceback {
        if tb.bind(py).is_truthy()? {
            context.set_item("source_traceback", tb)?;
        }
    }
    Ok(context)
}
