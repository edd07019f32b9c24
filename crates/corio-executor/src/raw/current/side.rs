//! The contexts of bare tasks: a task spawned while its spawner's context
//! was empty (the common case) is not wrapped in a [`Contextual`], so it
//! carries no context word. If such a task sets a context during a poll,
//! the poller moves it here, into a table keyed by the task's id, and sets
//! the task's `FLAG_SIDE_CONTEXT`; the next poll (or the drop of the future)
//! installs it again and puts back what is left afterwards. The entry goes
//! when the future is gone (the poll that finished it, its drop) or, for a
//! task whose future was leaked, when the task is freed.
//!
//! [`around`] wraps every poll and every drop of a future by the untyped
//! layer (`runnable.rs`). Its common path (flag clear, thread empty) reads
//! one thread-local before and one after and moves nothing. A wrapped task
//! restores the outer context itself, so the look after its poll finds
//! the thread as it was.
//!
//! [`Contextual`]: super::Contextual

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::{context_is_empty, swap, Slot};
use crate::raw::header::{Header, FLAG_SIDE_CONTEXT};

/// Shards of the side table (a task picks one by its id).
const SHARDS: usize = 16;

/// The contexts bare tasks set, by task id. A plain `std` mutex also under
/// loom: entries are only moved in and out, never held across user code
/// (a context's data is dropped after the lock is released: its `Drop`
/// may re-enter the runtime).
static SIDE: [Mutex<Option<HashMap<u64, Slot>>>; SHARDS] = [const { Mutex::new(None) }; SHARDS];

fn shard(header: &Header) -> &'static Mutex<Option<HashMap<u64, Slot>>> {
    let id = header.id().as_u64();
    &SIDE[(id % SHARDS as u64) as usize]
}

/// Takes `header`'s entry out of the table (empty if none).
fn take(header: &Header) -> Slot {
    let mut table = shard(header).lock().unwrap_or_else(PoisonError::into_inner);
    table
        .as_mut()
        .and_then(|map| map.remove(&header.id().as_u64()))
        .unwrap_or(Slot::EMPTY)
}

/// Puts `slot` (not empty) into the table as `header`'s entry.
fn put(header: &Header, slot: Slot) {
    let mut table = shard(header).lock().unwrap_or_else(PoisonError::into_inner);
    let old = table
        .get_or_insert_with(HashMap::new)
        .insert(header.id().as_u64(), slot);
    drop(table);
    // None: the entry was taken out before the poll or drop (see `enter`).
    drop(old);
}

/// Runs `f`, a poll (`finishes == false`: `f` returns whether the future
/// finished) or a drop of `header`'s future, in the task's context: for a
/// bare task, the one in the side table, if any (else none); for a wrapped
/// task, none (the wrapper installs its own). The outer context is put back
/// afterwards, and what a bare task left installed goes into the table
/// unless its future is gone.
///
/// The caller holds `RUNNING` or `DROPPING` (so it may write the flag) and
/// a reference. `f` does not unwind (the cell catches panics of the future).
#[inline(always)]
pub(crate) fn around(header: &Header, flags: u32, f: impl FnOnce() -> bool) -> bool {
    if flags & FLAG_SIDE_CONTEXT == 0 && context_is_empty() {
        let gone = f();
        if !context_is_empty() {
            settle(header, false, swap(Slot::EMPTY), gone);
        }
        gone
    } else {
        let outer = enter(header, flags);
        let gone = f();
        leave(header, outer, gone);
        gone
    }
}

/// Installs the task's context (its side entry, or none) and returns the
/// outer one (`None` if the thread-local is gone).
#[cold]
#[inline(never)]
fn enter(header: &Header, flags: u32) -> Option<Slot> {
    let mine = if flags & FLAG_SIDE_CONTEXT != 0 {
        take(header)
    } else {
        Slot::EMPTY
    };
    swap(mine)
}

/// Puts `outer` back and settles what the task left installed.
#[cold]
#[inline(never)]
fn leave(header: &Header, outer: Option<Slot>, gone: bool) {
    let flagged = header.has_side_context();
    match outer {
        Some(outer) => settle(header, flagged, swap(outer), gone),
        // The thread-local is gone (the thread is exiting): nothing stayed.
        None => settle(header, flagged, None, gone),
    }
}

/// After a poll or drop: `left` is what the task left installed (the
/// thread already holds the outer context again). Kept in the table while
/// the future lives; otherwise dropped, outside the lock, with the flag
/// cleared.
#[cold]
#[inline(never)]
fn settle(header: &Header, flagged: bool, left: Option<Slot>, gone: bool) {
    match left {
        Some(left) if !left.is_empty() && !gone => {
            put(header, left);
            if !flagged {
                header.set_side_context(true);
            }
        }
        other => {
            if flagged {
                header.set_side_context(false);
            }
            drop(other);
        }
    }
}

/// Drops the side entry of a task being freed whose future was leaked
/// (never finished nor dropped: see `Runnable::abandon`), so the table
/// keeps nothing of a freed task.
#[cold]
#[inline(never)]
pub(crate) fn forget(header: &Header) {
    drop(take(header));
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    use super::*;
    use crate::{LocalExecutor, Spawner, Task};

    /// Pending once (waking itself), then ready.
    struct YieldOnce(bool);

    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    fn has_entry(id: u64) -> bool {
        let table = SIDE[(id % SHARDS as u64) as usize]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        table.as_ref().is_some_and(|map| map.contains_key(&id))
    }

    /// A bare task that sets a context, then waits (once, or forever).
    async fn setter(n: u32, forever: bool) -> u32 {
        drop(Spawner::replace_context(Some(Arc::new(n)), 0));
        YieldOnce(false).await;
        if forever {
            std::future::pending::<()>().await;
        }
        let (data, id) = Spawner::replace_context(None, 0);
        let seen = data
            .as_deref()
            .and_then(|d| d.downcast_ref::<u32>())
            .copied();
        drop(Spawner::replace_context(data, id));
        seen.unwrap_or(u32::MAX)
    }

    fn ids<T>(tasks: &[Task<T>]) -> Vec<u64> {
        tasks.iter().map(|t| t.id().as_u64()).collect()
    }

    #[test]
    fn side_contexts_of_finished_and_cancelled_tasks_leave_no_entry() {
        const N: u32 = 10_000;
        let ex = LocalExecutor::new();
        let finishing: Vec<_> = (0..N).map(|n| ex.spawn(setter(n, false))).collect();
        let cancelled: Vec<_> = (0..N).map(|n| ex.spawn(setter(n, true))).collect();
        let (finishing_ids, cancelled_ids) = (ids(&finishing), ids(&cancelled));
        ex.run_once(); // every task set its context and yielded
        assert!(context_is_empty(), "a bare task's set stays off the thread");
        let waiting = finishing_ids.iter().chain(&cancelled_ids);
        assert!(waiting.clone().all(|&id| has_entry(id)), "set aside");
        while ex.run_once() > 0 {}
        assert!(finishing_ids.iter().all(|&id| !has_entry(id)));
        assert!(cancelled_ids.iter().all(|&id| has_entry(id)));
        for (n, mut task) in (0..N).zip(finishing) {
            assert_eq!(task.try_result().map(Result::unwrap), Some(n));
        }
        for task in &cancelled {
            task.cancel();
        }
        while ex.run_once() > 0 {}
        drop(cancelled);
        drop(ex);
        assert!(cancelled_ids.iter().all(|&id| !has_entry(id)));
        assert!(context_is_empty());
    }
}
