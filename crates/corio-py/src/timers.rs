//! The loop's timers: `TimerHandle` and asyncio's `_scheduled` heap, with
//! its rules.
//!
//! A binary heap ordered by (deadline, insertion sequence), so timers with
//! equal deadlines run in the order they were scheduled. A cancelled timer
//! stays in the heap and is counted; `purge` (at the start of every
//! iteration) rebuilds the heap when more than half of more than 100 timers
//! are cancelled, else pops the cancelled ones at the head, exactly as
//! `BaseEventLoop._run_once` does. Moving a handle between the heap and the
//! ready queue never drops a reference, so no Python code runs here.

use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::sync::GILProtected;
use pyo3::types::PyTuple;

use crate::event_loop::Loop;
use crate::handle::{Handle, Ready};

/// `_MIN_SCHEDULED_TIMER_HANDLES` in asyncio.
const MIN_SCHEDULED: usize = 100;
/// `_MIN_CANCELLED_TIMER_HANDLES_FRACTION` in asyncio.
const MIN_CANCELLED_FRACTION: f64 = 0.5;

/// One scheduled timer.
struct Entry {
    when: f64,
    seq: u64,
    handle: Py<TimerHandle>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Entry) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// Reversed: `BinaryHeap` is a max-heap, the earliest deadline must top it.
    fn cmp(&self, other: &Entry) -> Ordering {
        other
            .when
            .total_cmp(&self.when)
            .then(other.seq.cmp(&self.seq))
    }
}

/// The timer heap and its count of cancelled timers.
#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Entry>,
    seq: u64,
    cancelled: usize,
}

fn is_cancelled(py: Python<'_>, handle: &Py<TimerHandle>) -> bool {
    handle.bind(py).as_super().get().is_cancelled(py)
}

fn set_scheduled(py: Python<'_>, handle: &Py<TimerHandle>, scheduled: bool) {
    handle.get().scheduled.get(py).set(scheduled);
}

impl Timers {
    /// Schedules `handle` (marks it `_scheduled`).
    pub(crate) fn push(&mut self, py: Python<'_>, when: f64, handle: Py<TimerHandle>) {
        set_scheduled(py, &handle, true);
        self.seq += 1;
        self.heap.push(Entry {
            when,
            seq: self.seq,
            handle,
        });
    }

    /// `loop._timer_handle_cancelled(handle)`: one more cancelled timer.
    pub(crate) fn note_cancelled(&mut self) {
        self.cancelled += 1;
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Drops cancelled timers by asyncio's rule; the removed handles are
    /// returned, to be released by the caller outside any borrow.
    pub(crate) fn purge(&mut self, py: Python<'_>, removed: &mut Vec<Py<TimerHandle>>) {
        let count = self.heap.len();
        if count > MIN_SCHEDULED && self.cancelled as f64 / count as f64 > MIN_CANCELLED_FRACTION {
            let entries = std::mem::take(&mut self.heap).into_vec();
            let mut kept = Vec::with_capacity(entries.len() - self.cancelled.min(entries.len()));
            for entry in entries {
                if is_cancelled(py, &entry.handle) {
                    set_scheduled(py, &entry.handle, false);
                    removed.push(entry.handle);
                } else {
                    kept.push(entry);
                }
            }
            self.heap = BinaryHeap::from(kept);
            self.cancelled = 0;
        } else {
            while let Some(top) = self.heap.peek() {
                if !is_cancelled(py, &top.handle) {
                    break;
                }
                let entry = self.heap.pop().expect("peeked");
                self.cancelled = self.cancelled.saturating_sub(1);
                set_scheduled(py, &entry.handle, false);
                removed.push(entry.handle);
            }
        }
    }

    /// The earliest deadline.
    pub(crate) fn next_when(&self) -> Option<f64> {
        self.heap.peek().map(|e| e.when)
    }

    /// Moves the timers due before `end` to `ready`, in deadline order.
    pub(crate) fn pop_due(&mut self, py: Python<'_>, end: f64, ready: &mut VecDeque<Ready>) {
        while let Some(top) = self.heap.peek() {
            if top.when >= end {
                break;
            }
            let entry = self.heap.pop().expect("peeked");
            set_scheduled(py, &entry.handle, false);
            ready.push_back(Ready::Native(
                entry.handle.into_bound(py).into_super().unbind(),
            ));
        }
    }

    /// Empties the heap (`loop.close()`); the handles are returned.
    pub(crate) fn clear(&mut self) -> Vec<Py<TimerHandle>> {
        self.cancelled = 0;
        std::mem::take(&mut self.heap)
            .into_vec()
            .into_iter()
            .map(|e| e.handle)
            .collect()
    }

    /// For the garbage collector.
    pub(crate) fn handles(&self) -> impl Iterator<Item = &Py<TimerHandle>> {
        self.heap.iter().map(|e| &e.handle)
    }
}

/// `asyncio.TimerHandle`'s equivalent: a callback due at `when()`.
#[pyclass(extends = Handle, weakref, frozen, module = "corio._corio")]
pub struct TimerHandle {
    pub(crate) when: f64,
    scheduled: GILProtected<Cell<bool>>,
}

impl TimerHandle {
    fn init(when: f64, base: Handle) -> PyClassInitializer<TimerHandle> {
        PyClassInitializer::from(base).add_subclass(TimerHandle {
            when,
            scheduled: GILProtected::new(Cell::new(false)),
        })
    }

    pub(crate) fn create(py: Python<'_>, when: f64, base: Handle) -> PyResult<Py<TimerHandle>> {
        Py::new(py, TimerHandle::init(when, base))
    }

    pub(crate) fn is_scheduled(&self, py: Python<'_>) -> bool {
        self.scheduled.get(py).get()
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
        Ok(TimerHandle::init(when, base))
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
    fn _scheduled(&self, py: Python<'_>) -> bool {
        self.is_scheduled(py)
    }

    /// Cancels the timer; the loop counts it so that a heap mostly made of
    /// cancelled timers is rebuilt (asyncio's rule).
    fn cancel(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let base = slf.as_super();
        if base.get().is_cancelled(py) {
            return Ok(());
        }
        if slf.get().is_scheduled(py) {
            let event_loop = base.get().event_loop.bind(py);
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
        let pos = if base.get().is_cancelled(slf.py()) {
            2
        } else {
            1
        };
        info.insert(pos.min(info.len()), format!("when={}", slf.get().when));
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
        let (a, b) = (slf.get().when, other.get().when);
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
