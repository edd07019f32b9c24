//! The task header: the untyped front of every task allocation.
//!
//! Everything that does not depend on the future's type lives here, so the
//! waker, the `Runnable` and most of the handle are compiled once. Layout is
//! kept to 56 bytes (7 words): with a trivial future the whole allocation
//! (header, scheduler `Arc`, one-word stage) is 72 bytes, an 80-byte malloc
//! chunk. A compile-time assertion below keeps it so (outside loom, whose
//! checked atomics and cells are larger).

use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering as StdOrdering};
use std::sync::Arc;
use std::task::Waker;

use super::state::State;
use crate::loom::UnsafeCell;
use crate::{Schedule, TaskId};

/// The typed operations of one task, filled in per (future, output, scheduler).
pub(crate) struct TaskVTable {
    /// Polls the future once. Returns `Some(panicked)` when the future finished and was
    /// dropped (its output, or its panic, is now stored).
    pub(crate) poll: unsafe fn(NonNull<Header>) -> Option<bool>,
    /// Drops the future without finishing it (cancellation).
    pub(crate) drop_future: unsafe fn(NonNull<Header>),
    /// Moves the live output out into `*mut Option<Result<T, Panic>>`.
    pub(crate) take_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Drops the live output, which nobody will read.
    pub(crate) drop_output: unsafe fn(NonNull<Header>),
    /// Hands a `Runnable` (owning one reference) to the task's scheduler.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Frees the allocation.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// The task's scheduler, type-erased: where its done-callbacks run (see
    /// `done_callbacks.rs`). Valid while the caller keeps the task alive.
    pub(crate) scheduler: unsafe fn(NonNull<Header>) -> *const dyn Schedule,
}

/// Marks the scheduler slot of a task that no registry holds.
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// Flag: the task is an internal one (a loop callback) and is left out of task listings.
pub(crate) const FLAG_HIDDEN: u32 = 1 << 0;
/// Flag: the task's future is `!Send` and must only be touched on its executor's thread.
pub(crate) const FLAG_LOCAL: u32 = 1 << 1;
/// Flag: the task runs the future passed to `block_on` (the facade's "main task").
pub(crate) const FLAG_BLOCK_ON: u32 = 1 << 2;
/// Flag: a task spawned without a wrapper (from an empty context) set a
/// context during a poll, and it waits in the side table of
/// `current/side.rs` until the next poll or the drop of the future. Unlike
/// the flags above it changes after allocation, but only by the holder of
/// `RUNNING` (after a poll) or `DROPPING` (after the drop of the future),
/// with a relaxed load and store, the discipline of the poll counter.
pub(crate) const FLAG_SIDE_CONTEXT: u32 = 1 << 3;
/// Where the poll counter starts in the `flags` word: the bits above the flags.
pub(crate) const POLLS_SHIFT: u32 = 4;
/// The most polls the counter records; it saturates there (268,435,455).
pub(crate) const POLLS_MAX: u32 = u32::MAX >> POLLS_SHIFT;

/// The untyped front of a task. `#[repr(C)]` so a pointer to the allocation
/// is a pointer to its header.
#[repr(C)]
pub struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static TaskVTable,
    /// The waker of whoever awaits the `Task` handle. Guarded by the `LOCKED`
    /// state bit: only touched inside `with_mut` while holding it (see
    /// `Task::register` and `notify_awaiter`), or by the party freeing the task.
    pub(crate) awaiter: UnsafeCell<Option<Waker>>,
    pub(crate) id: TaskId,
    /// Spawn location, optional name and cancel message, in one word.
    pub(crate) meta: Meta,
    /// The local executor's registry index. Only the registry reads or writes
    /// it, on the executor's thread; relaxed atomics keep the header `Sync`.
    pub(crate) slot: AtomicU32,
    /// The `FLAG_*` bits (set at allocation, never changed, except
    /// [`FLAG_SIDE_CONTEXT`], written like the counter) and, above
    /// [`POLLS_SHIFT`], a saturating count of the future's polls. Only the
    /// poller writes the count, while it holds `RUNNING`, so a relaxed load
    /// and store suffice (no read-modify-write): successive pollers are
    /// ordered by the state word's transitions, and readers only ever want a
    /// snapshot. Packing the counter here keeps the header at 7 words.
    pub(crate) flags: AtomicU32,
}

impl Header {
    /// The task's id.
    #[inline]
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The task's name, if it was given one.
    #[inline]
    pub fn name(&self) -> Option<&str> {
        self.meta.name()
    }

    /// Where the task was spawned.
    #[inline]
    pub fn location(&self) -> &'static Location<'static> {
        self.meta.location()
    }

    /// The local executor's registry slot, [`NO_SLOT`] if unset.
    #[inline]
    pub(crate) fn slot(&self) -> u32 {
        self.slot.load(StdOrdering::Relaxed)
    }

    /// Sets the registry slot. Only the registry calls this, on the
    /// executor's thread: a wrong slot would make it forget a live task.
    #[inline]
    pub(crate) fn set_slot(&self, slot: u32) {
        self.slot.store(slot, StdOrdering::Relaxed)
    }

    /// Whether the task is internal to its runtime (left out of listings).
    #[inline]
    pub fn is_hidden(&self) -> bool {
        self.flags.load(StdOrdering::Relaxed) & FLAG_HIDDEN != 0
    }

    /// Whether the task's future is `!Send`.
    #[inline]
    pub fn is_local(&self) -> bool {
        self.flags.load(StdOrdering::Relaxed) & FLAG_LOCAL != 0
    }

    /// Whether the task runs the future passed to `block_on`.
    #[inline]
    pub fn is_block_on(&self) -> bool {
        self.flags.load(StdOrdering::Relaxed) & FLAG_BLOCK_ON != 0
    }

    /// How many times the future has been polled (saturating at 268,435,455).
    #[inline]
    pub fn polls(&self) -> u64 {
        u64::from(self.flags.load(StdOrdering::Relaxed) >> POLLS_SHIFT)
    }

    /// Counts one poll and returns the flags as they were. Only the holder
    /// of `RUNNING` calls this.
    #[inline]
    pub(crate) fn count_poll(&self) -> u32 {
        let flags = self.flags.load(StdOrdering::Relaxed);
        self.flags.store(one_more_poll(flags), StdOrdering::Relaxed);
        flags
    }

    /// Whether [`FLAG_SIDE_CONTEXT`] is set.
    #[inline]
    pub(crate) fn has_side_context(&self) -> bool {
        self.flags.load(StdOrdering::Relaxed) & FLAG_SIDE_CONTEXT != 0
    }

    /// Sets or clears [`FLAG_SIDE_CONTEXT`]. Only the holder of `RUNNING` or
    /// `DROPPING` calls this (the counter's discipline: one writer at a
    /// time, ordered by the state word's transitions).
    #[inline]
    pub(crate) fn set_side_context(&self, on: bool) {
        let flags = self.flags.load(StdOrdering::Relaxed);
        let flags = if on {
            flags | FLAG_SIDE_CONTEXT
        } else {
            flags & !FLAG_SIDE_CONTEXT
        };
        self.flags.store(flags, StdOrdering::Relaxed);
    }

    /// Whether the future has finished or been dropped.
    #[inline]
    pub fn is_completed(&self) -> bool {
        self.state.load().is_completed()
    }

    /// Whether the future is being polled right now.
    #[inline]
    pub fn is_running(&self) -> bool {
        self.state.load().is_running()
    }

    /// Whether the task waits in a run queue.
    #[inline]
    pub fn is_scheduled(&self) -> bool {
        self.state.load().is_scheduled()
    }
}

/// `flags` with one more poll counted: the flag bits kept, the count saturating.
#[inline]
fn one_more_poll(flags: u32) -> u32 {
    if flags >> POLLS_SHIFT == POLLS_MAX {
        flags
    } else {
        flags + (1 << POLLS_SHIFT)
    }
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id)
            .field("name", &self.name())
            .field("location", &format_args!("{}", self.location()))
            .finish()
    }
}

/// A task's spawn location, optional name and optional cancel message, in
/// one word: a plain pointer to the `'static` location (low bit clear), or a
/// pointer to a [`Named`] node (low bit set). Most tasks have neither a name
/// nor a cancel message, so most pay nothing.
///
/// `set_name` and `set_cancel_message` never change a node: they publish a
/// new one (with a compare-and-swap) that links to the word it replaced.
/// Every node stays alive until the task is freed (`Drop`, which has
/// `&mut self`), so a `&str` borrowed from a node stays valid for as long as
/// the `&Meta` it was read through, even while another thread renames the
/// task. The cost: each rename keeps its old node until the task is freed.
pub(crate) struct Meta(AtomicPtr<()>);

/// The name, location and cancel message of a named (or cancelled with a
/// message) task. Immutable once published.
struct Named {
    location: &'static Location<'static>,
    name: Option<Box<str>>,
    cancel_message: Option<Arc<str>>,
    /// The word this node replaced (a tagged `Named` or the plain location),
    /// freed with it.
    previous: *mut (),
}

// SAFETY: Meta owns a shared `&'static Location` and a chain of `Named`
// nodes (Box<str>, Arc<str>, and pointers to older nodes it owns), all of
// which may be sent and shared; nodes are immutable once published.
unsafe impl Send for Meta {}
// SAFETY: as above: the word is atomic and the nodes are immutable, freed
// only by `Drop`, which has exclusive access.
unsafe impl Sync for Meta {}

impl Meta {
    pub(crate) fn new(location: &'static Location<'static>, name: Option<Box<str>>) -> Meta {
        let word = match name {
            None => NonNull::from(location).cast::<()>().as_ptr(),
            Some(name) => publishable(Named {
                location,
                name: Some(name),
                cancel_message: None,
                previous: std::ptr::null_mut(),
            }),
        };
        Meta(AtomicPtr::new(word))
    }

    /// The node behind `word`, if it is a tagged one.
    ///
    /// # Safety
    ///
    /// `word` was read from this Meta (or is in its chain), so a tagged word
    /// is a node this Meta owns and frees only in `Drop`.
    unsafe fn node<'a>(word: *mut ()) -> Option<&'a Named> {
        if word.addr() & 1 == 0 {
            return None;
        }
        // SAFETY: a set low bit means the pointer came from `publishable`
        // (a leaked Box<Named>, aligned to 8, so the bit was free); the
        // caller's contract keeps it alive.
        Some(unsafe { &*untagged(word) })
    }

    /// The current node, if any. Borrowed for as long as `self`: nodes are
    /// freed only by `Drop`.
    fn named(&self) -> Option<&Named> {
        // Acquire: pairs with the Release of the CAS that published the
        // node, so its fields are visible.
        let word = self.0.load(StdOrdering::Acquire);
        // SAFETY: read from this Meta.
        unsafe { Meta::node(word) }
    }

    pub(crate) fn location(&self) -> &'static Location<'static> {
        let word = self.0.load(StdOrdering::Acquire);
        // SAFETY: read from this Meta.
        match unsafe { Meta::node(word) } {
            Some(named) => named.location,
            // SAFETY: a clear low bit means the word is the `&'static
            // Location` it was made from.
            None => unsafe { &*word.cast::<Location<'static>>() },
        }
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.named().and_then(|named| named.name.as_deref())
    }

    /// The message of the first `cancel_with`, if any.
    pub(crate) fn cancel_message(&self) -> Option<Arc<str>> {
        self.named().and_then(|named| named.cancel_message.clone())
    }

    /// Renames the task: publishes a node with the new name.
    pub(crate) fn set_name(&self, name: &str) {
        self.publish(|location, _, message| Some((location, Some(name.into()), message.cloned())));
    }

    /// Records `message` unless a message was recorded before (the first
    /// one wins). Returns whether this call recorded it.
    pub(crate) fn set_cancel_message(&self, message: &str) -> bool {
        self.publish(|location, name, old| match old {
            Some(_) => None,
            None => Some((location, name.map(Into::into), Some(message.into()))),
        })
    }

    /// The one CAS loop: `next` maps the current (location, name, message)
    /// to the next one, or `None` to leave it. Returns whether it published.
    #[allow(clippy::type_complexity)]
    fn publish(
        &self,
        mut next: impl FnMut(
            &'static Location<'static>,
            Option<&str>,
            Option<&Arc<str>>,
        ) -> Option<(
            &'static Location<'static>,
            Option<Box<str>>,
            Option<Arc<str>>,
        )>,
    ) -> bool {
        let mut word = self.0.load(StdOrdering::Acquire);
        loop {
            // SAFETY: read from this Meta.
            let current = unsafe { Meta::node(word) };
            let (location, name, message) = match current {
                Some(named) => (
                    named.location,
                    named.name.as_deref(),
                    named.cancel_message.as_ref(),
                ),
                // SAFETY: an untagged word is the plain location.
                None => (unsafe { &*word.cast::<Location<'static>>() }, None, None),
            };
            let Some((location, name, cancel_message)) = next(location, name, message) else {
                return false;
            };
            let fresh = publishable(Named {
                location,
                name,
                cancel_message,
                previous: word,
            });
            // Release publishes the node's fields; AcqRel so that a retry
            // reads the node another thread published.
            match self
                .0
                .compare_exchange(word, fresh, StdOrdering::AcqRel, StdOrdering::Acquire)
            {
                Ok(_) => return true,
                Err(actual) => {
                    // SAFETY: `fresh` was never published; we own it.
                    drop(unsafe { Box::from_raw(untagged(fresh)) });
                    word = actual;
                }
            }
        }
    }
}

/// Leaks `named` and returns its tagged word.
fn publishable(named: Named) -> *mut () {
    let ptr = Box::into_raw(Box::new(named)).cast::<()>();
    ptr.map_addr(|addr| addr | 1)
}

/// A tagged word's node pointer.
fn untagged(word: *mut ()) -> *mut Named {
    word.map_addr(|addr| addr & !1).cast::<Named>()
}

impl Drop for Meta {
    fn drop(&mut self) {
        let mut word = *self.0.get_mut();
        while word.addr() & 1 != 0 {
            // SAFETY: `&mut self`: nobody borrows a node any more; each node
            // of the chain is owned by this Meta and freed once, here.
            let named = unsafe { Box::from_raw(untagged(word)) };
            word = named.previous;
        }
    }
}

/// Hands out task ids. Each thread reserves a block of ids at a time so a
/// spawn does not touch a shared cache line.
pub(crate) fn next_task_id() -> TaskId {
    const BLOCK: u64 = 1024;
    static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static RANGE: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
    }
    RANGE.with(|range| {
        let (mut next, mut end) = range.get();
        if next == end {
            next = NEXT_BLOCK.fetch_add(BLOCK, StdOrdering::Relaxed);
            end = next + BLOCK;
        }
        range.set((next + 1, end));
        TaskId::from_raw(next)
    })
}

// The header must stay 7 words: see the module docs. Loom's atomics and
// cells carry their model state, so the check only holds without loom.
#[cfg(not(loom))]
const _: () = assert!(std::mem::size_of::<Header>() == 56);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_count_keeps_the_flags_and_saturates() {
        let flags = FLAG_HIDDEN | FLAG_BLOCK_ON;
        let once = one_more_poll(flags);
        assert_eq!(once >> POLLS_SHIFT, 1);
        assert_eq!(once & ((1 << POLLS_SHIFT) - 1), flags);
        let full = (POLLS_MAX << POLLS_SHIFT) | FLAG_LOCAL;
        assert_eq!(one_more_poll(full), full);
        assert_eq!(one_more_poll(full - (1 << POLLS_SHIFT)), full);
    }
}
