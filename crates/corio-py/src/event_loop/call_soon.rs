//! `loop.call_soon` as a raw `METH_FASTCALL | METH_KEYWORDS` method.
//!
//! `call_soon` is the loop's hottest entry point: asyncio's C `Task` calls
//! it for every step (`loop.call_soon(step, context=ctx)`). PyO3's generic
//! argument handling (the `*args` tuple, keyword names matched by their
//! UTF-8 text, a type check of `self`) costs about a tenth of a callback;
//! this method reads the vectorcall arguments directly and then does what
//! the `#[pymethods]` `call_soon` does ([`Loop::schedule_soon`]).
//!
//! [`install`] puts the method on `_corio.Loop` in place of the PyO3 one
//! the first time a loop is created (from `Loop.__new__`, so every loop
//! object ever called sees it; `lib.rs` stays untouched).
//!
//! **The attribute lookup.** `loop.call_soon(cb)` in Python code is a
//! `LOAD_ATTR` of a method, which CPython 3.11-3.13 specialise for an
//! instance whose attributes are *inline values* (the layout
//! `object.__new__` gives a class with a managed `__dict__`). PyO3's
//! `tp_new` allocates with `tp_alloc` alone, so a loop's attributes went to
//! a real dictionary and every lookup took the generic path (~200
//! instructions). [`allocate_with_values`] gives `corio.EventLoop` (and
//! every Python subclass of `_corio.Loop`) a `tp_alloc` that allocates
//! through `object.__new__`, which makes the inline values.

use std::os::raw::c_char;

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyString, PyTuple, PyType};

use super::Loop;

/// Replaces `Loop.call_soon` with the raw method, once per interpreter.
pub(super) fn install(py: Python<'_>) -> PyResult<()> {
    static DONE: GILOnceCell<()> = GILOnceCell::new();
    DONE.get_or_try_init(py, || {
        let ty = py.get_type::<Loop>();
        // The method table must outlive the type: one small leaked entry
        // per interpreter (PyO3 supports one).
        let def: &'static mut ffi::PyMethodDef = Box::leak(Box::new(ffi::PyMethodDef {
            ml_name: c"call_soon".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunctionFastWithKeywords: call_soon_raw,
            },
            ml_flags: ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
            ml_doc: c"call_soon(callback, *args, context=None)\n--\n\nSchedules `callback(*args)` for the next iteration (FIFO).".as_ptr(),
        }));
        // SAFETY: the GIL is held; `ty` is a live type object and `def` a
        // valid method table that lives forever. `PyDescr_NewMethod` returns
        // a new reference or NULL with an exception set.
        let descr = unsafe {
            Bound::from_owned_ptr_or_err(py, ffi::PyDescr_NewMethod(ty.as_ptr().cast(), def))?
        };
        ty.setattr(pyo3::intern!(py, "call_soon"), descr)?;
        Ok::<_, PyErr>(())
    })?;
    Ok(())
}

/// Makes `cls`, a Python subclass of `Loop` about to be instantiated,
/// allocate through `object.__new__` (see the module doc), unless it has
/// no managed `__dict__` or an allocator of its own. Idempotent.
#[cfg(not(feature = "abi3"))]
pub(super) fn allocate_with_values(cls: &Bound<'_, PyType>) {
    let tp = cls.as_type_ptr();
    // SAFETY: the GIL is held and `tp` is a live type object (borrowed).
    // Only a heap type's (a Python class's) `tp_alloc` is replaced, and only
    // when it is CPython's generic allocator, by a function that returns
    // the same kind of memory (see `alloc_with_values`); no instance is
    // being allocated meanwhile (this runs in `Loop.__new__` before PyO3
    // allocates).
    unsafe {
        let plain = ffi::PyType_HasFeature(tp, ffi::Py_TPFLAGS_HEAPTYPE) != 0
            && ffi::PyType_HasFeature(tp, ffi::Py_TPFLAGS_MANAGED_DICT) != 0
            && (*tp).tp_itemsize == 0
            && (*tp).tp_alloc.map(|f| f as usize)
                == Some(ffi::PyType_GenericAlloc as *const () as usize);
        if plain {
            (*tp).tp_alloc = Some(alloc_with_values);
        }
    }
}

/// The stable ABI hides `tp_alloc`: loops keep PyO3's allocation.
#[cfg(feature = "abi3")]
pub(super) fn allocate_with_values(_cls: &Bound<'_, PyType>) {}

/// Set while `object.__new__` runs for [`alloc_with_values`]: its own call
/// of the type's `tp_alloc` (this function again) then allocates plainly.
#[cfg(not(feature = "abi3"))]
static IN_OBJECT_NEW: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A loop subclass's `tp_alloc`: `object.__new__(subtype)`, which
/// allocates (calling this again, which then calls `PyType_GenericAlloc`)
/// and sets up the instance's inline values; PyO3 then writes the Rust
/// state into the zeroed object as with `PyType_GenericAlloc`'s.
///
/// # Safety
///
/// Called by CPython or PyO3 as a `tp_alloc`, with the GIL held, for a type
/// [`allocate_with_values`] accepted.
#[cfg(not(feature = "abi3"))]
unsafe extern "C" fn alloc_with_values(
    subtype: *mut ffi::PyTypeObject,
    nitems: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    use std::sync::atomic::Ordering::Relaxed;
    // SAFETY: the GIL is held (the contract), which also serialises the
    // flag: it is set just before `object.__new__` and cleared by the one
    // nested call (or after a failure before it), with no Python code in
    // between (a collection during the allocation runs after the flag was
    // cleared). `object.__new__` with an empty tuple and no keywords
    // accepts any type (the flags checked above) and returns a new
    // reference or NULL with an exception set.
    unsafe {
        if nitems != 0 || IN_OBJECT_NEW.swap(false, Relaxed) {
            return ffi::PyType_GenericAlloc(subtype, nitems);
        }
        let Some(object_new) = (*std::ptr::addr_of!(ffi::PyBaseObject_Type)).tp_new else {
            return ffi::PyType_GenericAlloc(subtype, nitems);
        };
        let empty = ffi::PyTuple_New(0);
        if empty.is_null() {
            return std::ptr::null_mut();
        }
        IN_OBJECT_NEW.store(true, Relaxed);
        let obj = object_new(subtype, empty, std::ptr::null_mut());
        IN_OBJECT_NEW.store(false, Relaxed);
        ffi::Py_DECREF(empty);
        obj
    }
}

/// The C entry point.
///
/// # Safety
///
/// Called by CPython with the GIL held, through the method descriptor made
/// by [`install`]: `slf` is an instance of `Loop` (the descriptor checks
/// it), `args` holds `nargs` positional arguments followed by one value per
/// name in `kwnames` (NULL or a tuple of strings), all borrowed for the
/// call.
unsafe extern "C" fn call_soon_raw(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: the contract above. This is what PyO3's fastcall trampoline
    // does, less its per-thread GIL count (two thread-local accesses per
    // call): the body's own references are `Bound`s, released by a direct
    // decref; a `Py` dropped on an error path with the count at zero (a
    // call from a thread that never entered PyO3) is decref'd later by
    // PyO3's pool, which is correct, only later. A panic is caught here
    // (it must not unwind into CPython) and raised as `PanicException`.
    unsafe {
        let py = Python::assume_gil_acquired();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            call_soon_body(py, slf, args, nargs, kwnames)
        }));
        match result {
            Ok(Ok(handle)) => handle,
            Ok(Err(err)) => {
                err.restore(py);
                std::ptr::null_mut()
            }
            Err(payload) => {
                panic_error(payload).restore(py);
                std::ptr::null_mut()
            }
        }
    }
}

/// A caught panic as the `PanicException` PyO3 would raise.
#[cold]
fn panic_error(payload: Box<dyn std::any::Any + Send>) -> PyErr {
    let message = if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "panic from Rust code".to_owned()
    };
    pyo3::panic::PanicException::new_err(message)
}

/// # Safety
///
/// As [`call_soon_raw`].
unsafe fn call_soon_body(
    py: Python<'_>,
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<*mut ffi::PyObject> {
    // SAFETY: `slf` is a live `Loop` (checked by the method descriptor),
    // borrowed for the call.
    let slf = unsafe { Borrowed::from_ptr(py, slf) };
    // SAFETY: as above: the descriptor checked the type.
    let slf = unsafe { slf.downcast_unchecked::<Loop>() };
    let nargs = usize::try_from(nargs).unwrap_or(0);
    let nkw = if kwnames.is_null() {
        0
    } else {
        // SAFETY: `kwnames` is a live tuple when not NULL.
        let n = unsafe { ffi::PyTuple_Size(kwnames) };
        usize::try_from(n).unwrap_or(0)
    };
    let all: &[*mut ffi::PyObject] = if nargs + nkw == 0 {
        &[]
    } else {
        // SAFETY: CPython passes `nargs + len(kwnames)` live borrowed
        // pointers (`args` may be NULL only when there are none).
        unsafe { std::slice::from_raw_parts(args, nargs + nkw) }
    };
    let Some((&callback, positional)) = all[..nargs].split_first() else {
        return Err(PyTypeError::new_err(
            "call_soon() missing 1 required positional argument: 'callback'",
        ));
    };
    let mut context = None;
    for (i, &value) in all[nargs..].iter().enumerate() {
        // SAFETY: `kwnames` is a tuple of `nkw` strings (i < nkw); the item
        // is borrowed from it.
        let name = unsafe { ffi::PyTuple_GetItem(kwnames, i as ffi::Py_ssize_t) };
        if !is_context(py, name) {
            // SAFETY: a live borrowed string.
            let name = unsafe { Borrowed::from_ptr(py, name) }.to_owned();
            return Err(PyTypeError::new_err(format!(
                "call_soon() got an unexpected keyword argument '{name}'"
            )));
        }
        // SAFETY: a live borrowed object; a new reference is taken.
        context = Some(unsafe { Borrowed::from_ptr(py, value) }.to_owned().unbind());
    }
    let extra = if positional.is_empty() {
        None
    } else {
        let items = positional.iter().map(|&a| {
            // SAFETY: live borrowed objects; `PyTuple::new` takes its own
            // references.
            unsafe { Borrowed::from_ptr(py, a) }
        });
        Some(PyTuple::new(py, items)?.unbind())
    };
    // SAFETY: a live borrowed object.
    let callback = unsafe { Borrowed::from_ptr(py, callback) }.to_owned();
    let handle = Loop::schedule_soon(slf, &callback, extra, context, "call_soon", true)?;
    Ok(handle.into_ptr())
}

/// Whether a keyword name is `context`: the interned string (Python code,
/// most callers) by identity, any other equal string by its text.
fn is_context(py: Python<'_>, name: *mut ffi::PyObject) -> bool {
    static CONTEXT: GILOnceCell<Py<PyString>> = GILOnceCell::new();
    let interned = CONTEXT.get_or_init(py, || PyString::intern(py, "context").unbind());
    if std::ptr::eq(name, interned.as_ptr()) {
        return true;
    }
    // SAFETY: `name` is a live string; the other argument is a
    // NUL-terminated ASCII literal. The function cannot fail.
    unsafe {
        ffi::PyUnicode_CompareWithASCIIString(name, c"context".as_ptr().cast::<c_char>()) == 0
    }
}
