//! The work-stealing scheduler's introspection (task counts and listings
//! across every slot), cancellation (`cancel_all`, `cancel_now`) and
//! closing (each slot's local tasks on its own thread, then every `Send`
//! task and queued Runnable, one at a time, no lock held across a `Drop`).

use super::{teardown, AbortHandle, Header, MultiScheduler};
use crate::loom::Ordering;
use crate::{TaskInfo, UnretrievedPanic};

impl MultiScheduler {
    // ---- introspection ----

    /// How many tasks are alive, hidden ones included.
    pub(crate) fn task_count(&self) -> usize {
        let send: usize = self.shards.iter().map(|shard| shard.lock().len()).sum();
        let local: usize = self
            .slots
            .iter()
            .map(|slot| slot.pinned_tasks.lock().len())
            .sum();
        send + local
    }

    /// Snapshots of the live tasks (hidden ones left out), every slot's.
    pub(crate) fn tasks(&self) -> Vec<TaskInfo> {
        let mut out = Vec::new();
        let lists = self
            .shards
            .iter()
            .chain(self.slots.iter().map(|slot| &slot.pinned_tasks));
        for list in lists {
            list.lock().for_each(|header| {
                if !header.is_hidden() {
                    out.push(TaskInfo::of(header));
                }
            });
        }
        out
    }

    // ---- cancellation and closing ----

    /// Requests cancellation of every live task. Returns how many.
    pub(crate) fn cancel_all(&self) -> usize {
        let mut handles = Vec::new();
        let lists = self
            .shards
            .iter()
            .chain(self.slots.iter().map(|slot| &slot.pinned_tasks));
        for list in lists {
            handles.extend(list.lock().handles());
        }
        let count = handles.len();
        // Outside every lock: a cancel may wake, and a wake may run user code.
        for handle in handles {
            handle.cancel();
        }
        count
    }

    /// Cancels the task and drops its future here when that is allowed and
    /// it is neither being polled nor dropped: any thread for a `Send` task,
    /// its slot's thread for a local one. Returns whether it was dropped here.
    pub(crate) fn cancel_now(&self, handle: &AbortHandle) -> bool {
        // SAFETY: the AbortHandle's reference keeps the header alive.
        let header = unsafe { handle.as_ptr().as_ref() };
        let task = if header.is_local() {
            self.current_slot()
                .and_then(|slot| self.slots[slot].pinned_tasks.lock().registered(handle))
        } else {
            self.shard(header).lock().registered(handle)
        };
        // The lock is released: dropping the future runs user code.
        let dropped = task.is_some_and(|task| task.drop_now());
        if !dropped {
            handle.cancel();
        }
        dropped
    }

    /// Marks the executor closed and wakes every slot's thread.
    pub(crate) fn begin_close(&self) {
        self.closed.store(true, Ordering::Release);
        for slot in 0..self.slots.len() {
            self.unpark_slot(slot);
        }
    }

    /// On slot `slot`'s thread, once closed: drops the futures of the local
    /// tasks pinned there and their queued Runnables, one at a time.
    pub(crate) fn close_slot(&self, slot: usize) {
        let slot = &self.slots[slot];
        slot.pinned.close();
        teardown::drain_scope(|| loop {
            let task = slot.pinned_tasks.lock().pop();
            if let Some(task) = task {
                task.drop_now();
                continue;
            }
            if let Ok(runnable) = slot.pinned.pop() {
                drop(runnable);
                continue;
            }
            if let Some(runnable) = teardown::pop_deferred() {
                drop(runnable);
                continue;
            }
            break;
        });
    }

    /// Once every worker thread has exited: drops every `Send` task's
    /// future and every queued Runnable, one at a time (a `Drop` may spawn:
    /// the queues are closed, so such tasks are cancelled at once).
    pub(crate) fn close_send_tasks(&self) {
        self.injector.close();
        for slot in self.slots.iter() {
            slot.queue.close();
            slot.lifo.close();
        }
        teardown::drain_scope(|| loop {
            let task = self.shards.iter().find_map(|shard| shard.lock().pop());
            if let Some(task) = task {
                task.drop_now();
                continue;
            }
            let queued = std::iter::once(&self.injector)
                .chain(self.slots.iter().map(|slot| &slot.queue))
                .chain(self.slots.iter().map(|slot| &slot.lifo))
                .find_map(|queue| queue.pop().ok());
            if let Some(runnable) = queued {
                drop(runnable);
                continue;
            }
            if let Some(runnable) = teardown::pop_deferred() {
                drop(runnable);
                continue;
            }
            break;
        });
    }

    pub(super) fn report_unretrieved(&self, task: &Header, payload: &(dyn std::any::Any + Send)) {
        if let Some(report) = self.on_unretrieved_panic.get() {
            report(&UnretrievedPanic {
                id: task.id(),
                name: task.name().map(Into::into),
                location: task.location(),
                message: crate::payload_message(payload).map(str::to_owned),
            });
        }
    }
}
