//! Which task owns which `TaskGroup`: the parent links of the task tree.
//!
//! Each loop keeps a registry of its live `TaskGroup` scopes. A group records
//! its *owner* when its scope starts: the task that runs `scope()`, which is
//! the task that waits for the group (asyncio's "the task that entered
//! `async with TaskGroup()`"). The tree puts every child of the group under
//! that owner.
//!
//! Why the owner per group rather than a parent per child, recorded at spawn
//! time: a child may add tasks to its group through a clone of the handle,
//! and those tasks belong to the group (the scope waits for them), not to the
//! child that happened to spawn them; the owner is right for both. It also
//! keeps introspection off the spawn path: a child spawn pays nothing here,
//! a scope pays one registration, and the links are read only when someone
//! asks for the tree (from the group's own child map, under its lock).

use std::collections::HashMap;
use std::sync::Weak;

use corio_executor::TaskId;
use parking_lot::Mutex;

use crate::LoopHandle;

/// What the tree needs to know about a live group.
pub(crate) trait GroupView: Send + Sync {
    /// The task that runs the group's scope, if it runs in a task.
    fn owner(&self) -> Option<TaskId>;
    /// Appends the ids of the group's children whose futures are alive.
    fn child_ids(&self, out: &mut Vec<TaskId>);
}

/// A loop's live `TaskGroup` scopes.
#[derive(Default)]
pub(crate) struct GroupRegistry {
    inner: Mutex<Groups>,
}

#[derive(Default)]
struct Groups {
    next_key: u64,
    live: HashMap<u64, Weak<dyn GroupView>>,
}

impl GroupRegistry {
    /// Registers a group for as long as the returned registration lives
    /// (the group's scope future holds it).
    pub(crate) fn register(handle: &LoopHandle, group: Weak<dyn GroupView>) -> GroupRegistration {
        let mut groups = handle.shared.task_groups.inner.lock();
        groups.next_key += 1;
        let key = groups.next_key;
        groups.live.insert(key, group);
        GroupRegistration {
            handle: handle.clone(),
            key,
        }
    }

    /// Child id to owner id, for every child of every live group.
    pub(crate) fn parents(&self) -> HashMap<TaskId, TaskId> {
        let groups: Vec<_> = self.inner.lock().live.values().cloned().collect();
        let mut parents = HashMap::new();
        let mut children = Vec::new();
        for group in groups.iter().filter_map(Weak::upgrade) {
            let Some(owner) = group.owner() else { continue };
            children.clear();
            group.child_ids(&mut children);
            for &child in &children {
                parents.insert(child, owner);
            }
        }
        parents
    }
}

/// Keeps a group in its loop's registry; removes it when dropped.
pub(crate) struct GroupRegistration {
    handle: LoopHandle,
    key: u64,
}

impl Drop for GroupRegistration {
    fn drop(&mut self) {
        self.handle
            .shared
            .task_groups
            .inner
            .lock()
            .live
            .remove(&self.key);
    }
}
