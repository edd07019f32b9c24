//! How the multi-threaded scheduler hears of its tasks: `Schedule` for a
//! `Send` task (`Arc<MultiScheduler>`: a wake goes to the LIFO slot, a
//! self-wake to the back of the local queue, off the workers to the
//! injector) and for a pinned `!Send` one (`Pinned`: its slot's queue only).

use std::cell::Cell;
use std::sync::Arc;

use concurrent_queue::PushError;

use super::{MultiScheduler, Pinned, POLLING};
use crate::raw::{Header, Runnable};
use crate::{teardown, Schedule};

impl Schedule for Arc<MultiScheduler> {
    /// A wake. On one of this executor's workers, a task woken by another
    /// task's poll goes to the LIFO slot (the one it displaces to the back
    /// of the local queue); a task that woke itself, to the back.
    #[inline]
    fn schedule(&self, runnable: Runnable) {
        let Some(slot) = self.worker_slot() else {
            return self.push_injector(runnable);
        };
        let own = runnable.header() as *const Header as usize;
        if POLLING.with(Cell::get) == own {
            return self.push_local(slot, runnable);
        }
        let lifo = &self.slots[slot].lifo;
        match lifo.push(runnable) {
            Ok(()) => self.arm_watch(),
            Err(PushError::Full(runnable)) => {
                // The newest goes in, the one it displaces to the back.
                let displaced = lifo.pop().ok();
                if let Err(full) = lifo.push(runnable) {
                    self.push_local(slot, full.into_inner());
                }
                if let Some(displaced) = displaced {
                    self.push_local(slot, displaced);
                }
            }
            Err(PushError::Closed(runnable)) => teardown::drop_rejected(runnable),
        }
    }

    #[inline]
    fn release(&self, task: &Header) {
        self.shard(task).lock().remove(task);
    }

    fn panic_never_retrieved(&self, task: &Header, payload: &(dyn std::any::Any + Send)) {
        self.report_unretrieved(task, payload);
    }
}

impl Schedule for Pinned {
    #[inline]
    fn schedule(&self, runnable: Runnable) {
        self.scheduler.push_pinned(self.slot, runnable);
    }

    fn release(&self, task: &Header) {
        // A hard check: a local task is polled and dropped only on its
        // slot's thread.
        if self.scheduler.current_slot() != Some(self.slot) {
            released_off_thread();
        }
        self.scheduler.slots[self.slot]
            .pinned_tasks
            .lock()
            .remove(task);
    }

    fn panic_never_retrieved(&self, task: &Header, payload: &(dyn std::any::Any + Send)) {
        self.scheduler.report_unretrieved(task, payload);
    }
}

/// The hard check of `Pinned::release`, out of line.
#[cold]
#[inline(never)]
fn released_off_thread() -> ! {
    panic!("a local task was released off its worker's thread")
}
