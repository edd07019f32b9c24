//! `Task<T>`: the handle to a spawned task's result.
//!
//! The handle owns the `HANDLE` bit. While it is set, only the handle may read
//! or drop the output of a completed task. Dropping the handle detaches the
//! task: it keeps running (asyncio's loop keeps its tasks), and its output is
//! dropped when it completes.

use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::awaiter;
use super::cell::Panic;
use super::header::Header;
use super::state::{Cancel, ReleaseHandle};
use crate::{TaskError, TaskId};

/// A handle to a spawned task: await it for the task's result.
///
/// Dropping a `Task` does not cancel it; call [`Task::cancel`] for that.
#[doc(alias = "JoinHandle")]
pub struct Task<T> {
    ptr: NonNull<Header>,
    _output: PhantomData<T>,
}

// SAFETY: the handle moves `T` out of the task, so it may cross threads when T may.
unsafe impl<T: Send> Send for Task<T> {}
// SAFETY: `&Task` only reads atomics and the immutable header, and `cancel`
// is a single atomic transition.
unsafe impl<T> Sync for Task<T> {}
impl<T> Unpin for Task<T> {}

impl<T> Task<T> {
    /// # Safety
    ///
    /// `ptr` is a live task whose output type is `T` and whose `HANDLE` bit
    /// the caller transfers.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Task<T> {
        Task {
            ptr,
            _output: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the HANDLE bit keeps the allocation alive.
        unsafe { self.ptr.as_ref() }
    }

    /// Requests cancellation: the task's future is dropped at the next
    /// scheduling point, never while it is being polled. Returns `false` if
    /// the task is already done.
    pub fn cancel(&self) -> bool {
        // SAFETY: the HANDLE bit keeps the task alive.
        unsafe { request_cancel(self.ptr) }
    }

    /// Requests cancellation with a message (asyncio's `Task.cancel(msg)`):
    /// the task's [`TaskError::Cancelled`] then carries it, readable with
    /// [`TaskError::cancel_message`]. The first message given wins; one
    /// given after the task ended is ignored. Returns `false` if the task
    /// is already done.
    ///
    /// ```
    /// use corio_executor::{LocalExecutor, ThreadPark};
    ///
    /// let ex = LocalExecutor::new();
    /// let task = ex.spawn(std::future::pending::<()>());
    /// assert!(task.cancel_with("shutting down"));
    /// let error = ex.block_on(task, &mut ThreadPark).unwrap_err();
    /// assert_eq!(error.cancel_message(), Some("shutting down"));
    /// ```
    pub fn cancel_with(&self, message: &str) -> bool {
        // SAFETY: the HANDLE bit keeps the task alive.
        unsafe { request_cancel_with(self.ptr, message) }
    }

    /// Whether the task ended because it was cancelled (its future was dropped
    /// before it finished). False until the cancellation has taken effect.
    pub fn is_cancelled(&self) -> bool {
        self.header().state.load().is_cancelled()
    }

    /// Whether the task ended by panicking (its result is a
    /// `TaskError::Panicked`), without taking the result.
    pub fn is_panicked(&self) -> bool {
        self.header().state.load().is_panicked()
    }

    /// Waits until the task is done without taking its result: `Ready` once
    /// it finished, panicked or was cancelled (then `await` or
    /// [`try_result`](Self::try_result) gives the result). Registers
    /// `cx`'s waker like polling the task does.
    pub fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_done() {
            return Poll::Ready(());
        }
        awaiter::register(self.header(), cx.waker());
        if self.is_done() {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// A type-erased handle that can cancel the task and watch it end,
    /// without owning its result. Holding one keeps the task's allocation
    /// (not its future) alive.
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle::new(self.ptr)
    }

    /// Whether the task has ended: finished, panicked or cancelled.
    pub fn is_done(&self) -> bool {
        self.header().is_completed()
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.header().id()
    }

    /// The task's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.header().name()
    }

    /// Renames the task (asyncio's `Task.set_name`): later listings, errors
    /// and [`TaskInfo`](crate::TaskInfo) snapshots show the new name. Safe to
    /// call while other threads read the name; each old name is kept (not
    /// freed) until the task is freed, so renaming a task in a loop grows it.
    ///
    /// ```
    /// use corio_executor::{LocalExecutor, ThreadPark};
    ///
    /// let ex = LocalExecutor::new();
    /// let task = ex.spawn(async { corio_executor::current_task().unwrap() });
    /// assert_eq!(task.name(), None);
    /// task.set_name("fetcher");
    /// assert_eq!(task.name(), Some("fetcher"));
    /// let info = ex.block_on(task, &mut ThreadPark).unwrap();
    /// assert_eq!(info.name(), Some("fetcher"));
    /// ```
    pub fn set_name(&self, name: &str) {
        self.header().meta.set_name(name);
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.header().location()
    }

    /// Registers `callback` to run once the task is done: finished,
    /// panicked or cancelled (asyncio's `Task.add_done_callback`). It gets a
    /// snapshot of the task. Callbacks run on the task's own executor, in the
    /// order they were added, scheduled when the task completes: after what
    /// is already queued then, never inside the task's last poll. Added to a
    /// task that is already done, the callback is scheduled at once. They
    /// run even if this handle is dropped; a callback that panics does not
    /// stop the others, and its panic is reported as an unretrieved one. If
    /// the executor closes before they run, they are dropped unrun.
    ///
    /// One difference from asyncio: whoever awaits this handle is woken when
    /// the task completes, before its callbacks are scheduled (asyncio's
    /// awaiter wakeup is itself a done-callback, ordered by registration).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use corio_executor::{LocalExecutor, ThreadPark};
    ///
    /// let ex = LocalExecutor::new();
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let task = ex.spawn(async { 1 });
    /// let seen = log.clone();
    /// task.add_done_callback(move |info| seen.lock().unwrap().push(info.id()));
    /// let id = task.id();
    /// ex.block_on(task, &mut ThreadPark).unwrap();
    /// ex.run_once(); // the callback runs in a later step of the loop
    /// assert_eq!(*log.lock().unwrap(), [id]);
    /// ```
    pub fn add_done_callback(&self, callback: impl FnOnce(&crate::TaskInfo) + Send + 'static) {
        // SAFETY: the HANDLE bit keeps the task alive.
        unsafe { super::done_callbacks::add(self.ptr, Box::new(callback)) }
    }

    /// The task's result if it is done, without waiting (asyncio's
    /// `Task.result()`). `None` while it runs. A value or panic can be taken
    /// once (later calls return `None`); a cancelled task reports
    /// `Err(Cancelled)` every time, as asyncio's `result()` raises
    /// `CancelledError` every time.
    ///
    /// A task cancelled during the poll in which it finished keeps its value:
    /// the cancellation came too late to drop the future.
    pub fn try_result(&mut self) -> Option<Result<T, TaskError>> {
        if !self.is_done() {
            return None;
        }
        self.take()
    }

    /// Moves the output out of a completed task. `None` if it was taken before.
    fn take(&mut self) -> Option<Result<T, TaskError>> {
        let header = self.header();
        let state = header.state.load();
        if state.is_cancelled() {
            return Some(Err(TaskError::cancelled(header)));
        }
        if state.output_was_taken() {
            return None;
        }
        let mut out: Option<Result<T, Panic>> = None;
        // SAFETY: COMPLETED without CANCELLED or TAKEN: the output is live,
        // and HANDLE makes it ours; `out` has the type the vtable expects.
        unsafe {
            (header.vtable.take_output)(
                self.ptr,
                (&mut out as *mut Option<Result<T, Panic>>).cast(),
            )
        };
        header.state.mark_taken();
        Some(match out.expect("take_output writes the output") {
            Ok(value) => Ok(value),
            Err(payload) => Err(TaskError::panicked(header, *payload)),
        })
    }
}

/// A type-erased handle to a task: cancel it, see whether it ended. Made by
/// [`Task::abort_handle`]; cheap to clone (one atomic increment).
pub struct AbortHandle {
    ptr: NonNull<Header>,
}

// SAFETY: an AbortHandle only touches the header's atomics and immutable
// fields, and cancelling is a single atomic transition; it holds a counted
// reference, never the future or the output.
unsafe impl Send for AbortHandle {}
// SAFETY: as above.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// Takes a counted reference to `ptr`, which the caller keeps alive meanwhile.
    pub(crate) fn new(ptr: NonNull<Header>) -> AbortHandle {
        // SAFETY: the caller (a Task or an AbortHandle) keeps the header alive.
        unsafe { ptr.as_ref() }.state.ref_inc();
        AbortHandle { ptr }
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: our counted reference keeps the header alive.
        unsafe { self.ptr.as_ref() }
    }

    /// A handle to the task being polled (or dropped) on this thread, if
    /// any: a task can cancel itself (asyncio's `current_task().cancel()`).
    /// A cancellation requested during the task's own poll takes effect when
    /// that poll returns `Pending` (its next await): the future is dropped
    /// then, without another poll. If the poll returns `Ready` instead, the
    /// task keeps its value (it finished before the cancellation could act).
    ///
    /// ```
    /// use corio_executor::{AbortHandle, LocalExecutor, ThreadPark};
    ///
    /// let ex = LocalExecutor::new();
    /// let task = ex.spawn(async {
    ///     AbortHandle::current().unwrap().cancel_with("giving up");
    ///     std::future::pending::<()>().await // the cancellation lands here
    /// });
    /// let error = ex.block_on(task, &mut ThreadPark).unwrap_err();
    /// assert_eq!(error.cancel_message(), Some("giving up"));
    /// assert!(AbortHandle::current().is_none(), "not inside a task");
    /// ```
    pub fn current() -> Option<AbortHandle> {
        let info = crate::current_task()?;
        let ptr = NonNull::new(std::ptr::with_exposed_provenance_mut::<Header>(info.addr))?;
        // `current_task` returned the task this thread is polling or
        // dropping right now. The poller (or dropper) holds a reference for
        // the whole poll (see `current.rs`), and we are inside that poll on
        // the same thread, with no user code run in between: the header is
        // alive, so taking a counted reference is sound.
        Some(AbortHandle::new(ptr))
    }

    pub(crate) fn as_ptr(&self) -> NonNull<Header> {
        self.ptr
    }

    /// Requests cancellation, as [`Task::cancel`] does.
    pub fn cancel(&self) -> bool {
        // SAFETY: our counted reference keeps the task alive.
        unsafe { request_cancel(self.ptr) }
    }

    /// Requests cancellation with a message, as [`Task::cancel_with`] does.
    pub fn cancel_with(&self, message: &str) -> bool {
        // SAFETY: our counted reference keeps the task alive.
        unsafe { request_cancel_with(self.ptr, message) }
    }

    /// Whether the task ended: finished, panicked or cancelled.
    pub fn is_done(&self) -> bool {
        self.header().is_completed()
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.header().id()
    }

    /// The task's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.header().name()
    }

    /// Registers a done-callback, as [`Task::add_done_callback`] does.
    pub fn add_done_callback(&self, callback: impl FnOnce(&crate::TaskInfo) + Send + 'static) {
        // SAFETY: our counted reference keeps the task alive.
        unsafe { super::done_callbacks::add(self.ptr, Box::new(callback)) }
    }

    /// Renames the task, as [`Task::set_name`] does.
    pub fn set_name(&self, name: &str) {
        self.header().meta.set_name(name);
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.header().location()
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> AbortHandle {
        AbortHandle::new(self.ptr)
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // SAFETY: we own one counted reference and give it up.
        unsafe { super::waker::drop_ref(self.ptr) }
    }
}

impl std::fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .field("done", &self.is_done())
            .finish()
    }
}

/// Records the cancel message (unless the task ended or has one), then
/// requests cancellation as [`request_cancel`] does.
///
/// # Safety
///
/// The caller keeps `ptr` alive for the duration of the call.
pub(crate) unsafe fn request_cancel_with(ptr: NonNull<Header>, message: &str) -> bool {
    // SAFETY: the caller keeps the header alive.
    let header = unsafe { ptr.as_ref() };
    // Recorded before CLOSED is set, so whoever drops the future and builds
    // the error sees it. A task that completes in between keeps a message it
    // never reports unless it ended cancelled.
    if !header.is_completed() {
        header.meta.set_cancel_message(message);
    }
    // SAFETY: forwarded.
    unsafe { request_cancel(ptr) }
}

/// Marks a task cancelled and, if it is idle, schedules it so its executor
/// drops the future at the next scheduling point. Returns false if the task
/// already ended.
///
/// # Safety
///
/// The caller keeps `ptr` alive for the duration of the call.
pub(crate) unsafe fn request_cancel(ptr: NonNull<Header>) -> bool {
    // SAFETY: the caller keeps the header alive.
    let header = unsafe { ptr.as_ref() };
    match header.state.request_cancel() {
        Cancel::Ended => false,
        Cancel::Requested => true,
        Cancel::Schedule => {
            // SAFETY: the reference and SCHEDULED bit just added go to the Runnable.
            unsafe { (header.vtable.schedule)(ptr) };
            true
        }
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.is_done() {
            awaiter::register(self.header(), cx.waker());
            // Re-check after publishing AWAITER: a completion racing with the
            // registration either saw AWAITER or is visible here.
            if !self.is_done() {
                return Poll::Pending;
            }
        }
        match self.take() {
            Some(result) => Poll::Ready(result),
            None => polled_after_result(),
        }
    }
}

/// The panic of a `Task` awaited again after it gave its result.
#[cold]
#[track_caller]
fn polled_after_result() -> ! {
    panic!(
        "`Task` polled after it returned its result: a corio Task gives its result once; \
         to await it from several places use `Task::shared()` (T: Clone) or keep a `Promise`"
    )
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        let ptr = self.ptr;
        let header = self.header();
        // Take back the waker this handle registered: left in the slot it
        // would keep the awaiting task alive until this one completes, and
        // two tasks that dropped each other's handles would pin each other
        // forever. Only this handle sets AWAITER, so a clear bit stays clear.
        let waker = if header.state.load().has_awaiter() {
            awaiter::clear(header)
        } else {
            None
        };
        let vtable = header.vtable;
        let free = loop {
            match header.state.release_handle() {
                ReleaseHandle::DropOutput => {
                    // SAFETY: COMPLETED with the output live, and HANDLE
                    // (still ours) makes it ours to drop.
                    unsafe { (vtable.drop_output)(ptr) };
                    header.state.mark_taken();
                }
                ReleaseHandle::Released { free } => break free,
            }
        };
        if free {
            // SAFETY: our transition produced the free state.
            unsafe { (vtable.dealloc)(ptr) };
        }
        // Dropped last: the waker's Drop may run user code.
        drop(waker);
    }
}

impl<T> std::fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("done", &self.is_done())
            .finish()
    }
}
