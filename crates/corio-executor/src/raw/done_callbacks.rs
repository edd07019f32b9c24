//! Done-callbacks (asyncio's `Future.add_done_callback`): the side table that
//! holds them until their task completes, and the hidden task that runs them
//! on the task's own scheduler.
//!
//! **Where they wait.** Not in the header (it stays 7 words): in a sharded
//! table of mutexes keyed by task id, plus the `CALLBACKS` bit of the state
//! word. A task nobody adds a callback to never touches the table; its
//! completer pays one bit test on the state `complete` already returns.
//!
//! **Race-free hand-over.** [`add`] pushes under the shard lock, then sets
//! the bit with one read-modify-write (`State::mark_callbacks`) whose
//! previous value says whether the task had completed. The completer's
//! `complete` is also one read-modify-write, and returns the new state. The
//! two RMWs are ordered on the state word, so exactly one side sees the
//! other: if the bit was set before `complete`, the completer drains the
//! entry ([`completed`]); if `complete` came first, `add` drains its own entry.
//! A drain takes the whole entry under the lock, so nothing runs twice, and
//! a push precedes its bit, so nothing is lost.
//!
//! **How they run.** Never inside the completing poll: the drained callbacks
//! move into one hidden task ([`Builder::hidden`]) scheduled on the task's
//! own scheduler, which runs them in registration order after whatever is
//! already queued (asyncio `call_soon`s them). The hidden task's scheduler
//! is [`Via`], which forwards to the completed task's scheduler through the
//! vtable (`TaskVTable::scheduler`), so one code path serves every executor
//! and every `Schedule` type without knowing it. A callback that panics does
//! not stop the later ones; the first panic is re-raised after they ran, and
//! reaches the executor's unretrieved-panic report like any detached task's.
//!
//! **At close.** A task dropped by a closing executor completes, and its
//! callbacks task is rejected by the closed queue and dropped unrun (the
//! callbacks with it). One exception today: the work-stealing executor's
//! closed pinned queue (`push_pinned`) abandons every Runnable it rejects, so
//! the callbacks of a pinned local task dropped at close are leaked with the
//! callbacks task (and the executor core its `Via` keeps alive).

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::handle::AbortHandle;
use super::header::{Header, NO_SLOT};
use super::{Builder, Runnable};
use crate::loom::Mutex;
use crate::{Schedule, TaskId, TaskInfo};

/// A registered done-callback.
pub(crate) type Callback = Box<dyn FnOnce(&TaskInfo) + Send + 'static>;

/// How many shards the table has (a power of two).
const SHARDS: usize = 16;

/// The waiting callbacks of uncompleted tasks, by task id.
struct Table {
    shards: Vec<Mutex<HashMap<TaskId, Vec<Callback>>>>,
}

impl Table {
    fn new() -> Table {
        Table {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, id: TaskId) -> &Mutex<HashMap<TaskId, Vec<Callback>>> {
        // Ids come in per-thread blocks of consecutive numbers: the low bits spread.
        &self.shards[id.as_u64() as usize & (SHARDS - 1)]
    }
}

#[cfg(not(loom))]
fn table() -> &'static Table {
    static TABLE: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    TABLE.get_or_init(Table::new)
}

#[cfg(loom)]
fn table() -> &'static Table {
    loom::lazy_static! {
        static ref TABLE: Table = Table::new();
    }
    &TABLE
}

/// Takes the task's whole entry (empty if another party drained it).
fn take(id: TaskId) -> Vec<Callback> {
    let removed = table().shard(id).lock().remove(&id);
    removed.unwrap_or_default()
}

/// Registers `callback` to run once the task completes, or schedules it now
/// if the task already has.
///
/// # Safety
///
/// The caller keeps `ptr` alive for the duration of the call (a `Task` or an
/// `AbortHandle`).
pub(crate) unsafe fn add(ptr: NonNull<Header>, callback: Callback) {
    // SAFETY: the caller keeps the header alive.
    let header = unsafe { ptr.as_ref() };
    if header.is_completed() {
        // SAFETY: as above.
        return unsafe { schedule(ptr, vec![callback]) };
    }
    let id = header.id();
    // The lock is released before the RMW below and before any user code
    // (a callback's Drop runs only after `take`, outside the lock).
    table()
        .shard(id)
        .lock()
        .entry(id)
        .or_default()
        .push(callback);
    if header.state.mark_callbacks() {
        // Completed before our bit: the completer did not look, so we drain.
        // Another `add` racing with us may have drained our callback with
        // its own; then the entry is empty or holds only later ones.
        let callbacks = take(id);
        if !callbacks.is_empty() {
            // SAFETY: as above.
            unsafe { schedule(ptr, callbacks) };
        }
    }
}

/// The completer saw `CALLBACKS` in the state `complete` returned: schedules
/// every callback registered so far.
///
/// Out of line and cold: tasks with callbacks are rare, and inlined into the
/// poll loop this path made `Runnable::run` save two more registers on
/// every poll (measured with callgrind).
///
/// # Safety
///
/// The caller just completed the task and holds a reference.
#[cold]
#[inline(never)]
pub(crate) unsafe fn completed(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header alive.
    let id = unsafe { ptr.as_ref() }.id();
    let callbacks = take(id);
    if !callbacks.is_empty() {
        // SAFETY: as above.
        unsafe { schedule(ptr, callbacks) };
    }
}

/// Spawns the hidden task that runs `callbacks` on the completed task's
/// scheduler, and queues it there.
///
/// # Safety
///
/// The caller keeps `ptr` alive for the duration of the call, and the task
/// has completed.
unsafe fn schedule(ptr: NonNull<Header>, callbacks: Vec<Callback>) {
    let origin = AbortHandle::new(ptr);
    let via = Via(origin.clone());
    let (runnable, task) = Builder::new()
        .hidden(true)
        .location(origin.location())
        .spawn(RunCallbacks { origin, callbacks }, via);
    // Detached: nobody awaits it; a panic of a callback is reported as a
    // detached task's panic.
    drop(task);
    // SAFETY: the caller keeps the header alive, and with it the scheduler.
    let header = unsafe { ptr.as_ref() };
    // SAFETY: the vtable matches the allocation, alive for this call.
    let scheduler = unsafe { &*(header.vtable.scheduler)(ptr) };
    scheduler.schedule(runnable);
}

/// The future of the hidden task: runs the callbacks in order, each with a
/// snapshot of the completed task.
struct RunCallbacks {
    origin: AbortHandle,
    callbacks: Vec<Callback>,
}

impl Future for RunCallbacks {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let info = TaskInfo::of(this.origin.header());
        let mut first_panic: Option<Box<dyn Any + Send>> = None;
        // Take one at a time: a callback may run the executor, which never
        // polls this task again meanwhile (it is RUNNING), so the vector is ours.
        for callback in std::mem::take(&mut this.callbacks) {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback(&info))) {
                first_panic.get_or_insert(payload);
            }
        }
        if let Some(payload) = first_panic {
            resume_unwind(payload);
        }
        Poll::Ready(())
    }
}

/// The scheduler of a callbacks task: the completed task's own scheduler,
/// reached through its vtable. Holding the `AbortHandle` keeps the completed
/// task's allocation, and so its scheduler, alive.
struct Via(AbortHandle);

impl Via {
    fn target(&self) -> &dyn Schedule {
        let ptr = self.0.as_ptr();
        // SAFETY: our AbortHandle keeps the header alive.
        let header = unsafe { ptr.as_ref() };
        // SAFETY: the vtable matches the allocation, which stays alive (our
        // reference) for as long as `self` is borrowed.
        unsafe { &*(header.vtable.scheduler)(ptr) }
    }
}

impl Schedule for Via {
    fn schedule(&self, runnable: Runnable) {
        self.target().schedule(runnable);
    }

    fn release(&self, task: &Header) {
        // Only a registry that listed the callbacks task (the local
        // executor lists whatever reaches its queue) needs to hear of its
        // end. The work-stealing executor lists only what it spawned, and
        // its pinned scheduler insists on being told on its own thread,
        // which a dropped (never run) callbacks task need not be on.
        if task.slot() != NO_SLOT {
            self.target().release(task);
        }
    }

    fn panic_never_retrieved(&self, task: &Header, payload: &(dyn Any + Send)) {
        self.target().panic_never_retrieved(task, payload);
    }
}
