//! [`TaskNode`]: one task of the tree and its children; building the tree
//! from the executor's listing and the group links, and rendering it.

use std::collections::HashMap;
use std::fmt::Write;
use std::panic::Location;
use std::time::Duration;

use corio_executor::{TaskId, TaskInfo, TaskState};

/// One task in the loop's task tree (see [`task_tree`](super::task_tree)),
/// with the tasks of the `TaskGroup`s it runs as its children.
#[derive(Clone, Debug)]
pub struct TaskNode {
    info: TaskInfo,
    children: Vec<TaskNode>,
}

impl TaskNode {
    /// The snapshot of the task itself.
    pub fn info(&self) -> &TaskInfo {
        &self.info
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.info.id()
    }

    /// The task's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.info.name()
    }

    /// What the task was doing: `Running` (being polled: the caller of
    /// `task_tree`), `Scheduled` (in the ready queue), `Waiting` (pending
    /// until something wakes it) or `Done`.
    pub fn state(&self) -> TaskState {
        self.info.state()
    }

    /// Where the task was created.
    pub fn location(&self) -> &'static Location<'static> {
        self.info.location()
    }

    /// How long ago the task was created, on the loop's clock, to the
    /// millisecond.
    pub fn age(&self) -> Duration {
        self.info.age().unwrap_or_default()
    }

    /// How many times the task's future has been polled (the running poll
    /// included).
    pub fn polls(&self) -> u64 {
        self.info.polls()
    }

    /// Whether this is the loop's main task: the future passed to
    /// [`run`](crate::run) or `run_until_complete`.
    pub fn is_main(&self) -> bool {
        self.info.is_block_on()
    }

    /// The children of the `TaskGroup`s this task runs, in creation order.
    pub fn children(&self) -> &[TaskNode] {
        &self.children
    }

    /// The node of task `id` in this subtree, if it is there.
    pub fn find(&self, id: TaskId) -> Option<&TaskNode> {
        if self.id() == id {
            return Some(self);
        }
        self.children.iter().find_map(|child| child.find(id))
    }
}

/// Builds the forest: a task goes under its group's owner when the owner is
/// listed too, else at the top level. Siblings are in id (creation) order.
pub(super) fn build(mut tasks: Vec<TaskInfo>, parents: &HashMap<TaskId, TaskId>) -> Vec<TaskNode> {
    tasks.sort_by_key(TaskInfo::id);
    let listed: HashMap<TaskId, usize> = tasks
        .iter()
        .enumerate()
        .map(|(index, task)| (task.id(), index))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); tasks.len()];
    let mut roots = Vec::new();
    for (index, task) in tasks.iter().enumerate() {
        match parents
            .get(&task.id())
            .and_then(|parent| listed.get(parent))
        {
            Some(&parent) if parent != index => children[parent].push(index),
            _ => roots.push(index),
        }
    }
    let mut slots: Vec<Option<TaskInfo>> = tasks.into_iter().map(Some).collect();
    let mut forest: Vec<TaskNode> = roots
        .into_iter()
        .map(|root| take_subtree(root, &mut slots, &children))
        .collect();
    // Links can only form a cycle through a bug; show such tasks anyway.
    for index in 0..slots.len() {
        if slots[index].is_some() {
            forest.push(take_subtree(index, &mut slots, &children));
        }
    }
    forest
}

/// Moves task `index` and its not yet placed descendants into a node.
fn take_subtree(index: usize, slots: &mut [Option<TaskInfo>], children: &[Vec<usize>]) -> TaskNode {
    let info = slots[index].take().expect("each task is placed once");
    let kids = children[index]
        .iter()
        .filter(|&&child| slots[child].is_some())
        .copied()
        .collect::<Vec<_>>()
        .into_iter()
        .map(|child| take_subtree(child, slots, children))
        .collect();
    TaskNode {
        info,
        children: kids,
    }
}

/// Renders the forest as `dump_tasks` shows it.
pub(super) fn render(forest: &[TaskNode]) -> String {
    fn count(nodes: &[TaskNode]) -> usize {
        nodes.iter().map(|node| 1 + count(node.children())).sum()
    }
    let total = count(forest);
    let mut out = format!(
        "corio task tree ({total} task{}",
        if total == 1 { "" } else { "s" }
    );
    if let Some(main) = forest.iter().find(|node| node.is_main()) {
        let _ = write!(out, ", loop running for {}", age(main.age()));
    }
    out.push_str(")\n");
    render_level(&mut out, forest, "");
    out
}

fn render_level(out: &mut String, nodes: &[TaskNode], indent: &str) {
    for (index, node) in nodes.iter().enumerate() {
        let last = index + 1 == nodes.len();
        let branch = if last { "└── " } else { "├── " };
        let _ = write!(out, "{indent}{branch}task {}", node.id().as_u64());
        if let Some(name) = node.name() {
            let _ = write!(out, " {name:?}");
        } else if node.is_main() {
            out.push_str(" (main)");
        }
        let _ = writeln!(
            out,
            " {}  {}  age {}  polls {}",
            state(node.state()),
            node.location(),
            age(node.age()),
            node.polls()
        );
        let deeper = format!("{indent}{}", if last { "    " } else { "│   " });
        render_level(out, node.children(), &deeper);
    }
}

fn state(state: TaskState) -> &'static str {
    match state {
        TaskState::Running => "running",
        TaskState::Scheduled => "scheduled",
        TaskState::Waiting => "waiting",
        TaskState::Done => "done",
    }
}

/// `250ms` below a second, `1.2s` below a minute, `3m07s` above.
fn age(age: Duration) -> String {
    let millis = age.as_millis();
    if millis < 1_000 {
        format!("{millis}ms")
    } else if millis < 60_000 {
        format!("{}.{}s", millis / 1_000, millis % 1_000 / 100)
    } else {
        let secs = age.as_secs();
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::age;
    use std::time::Duration;

    #[test]
    fn ages_read_well() {
        assert_eq!(age(Duration::ZERO), "0ms");
        assert_eq!(age(Duration::from_millis(999)), "999ms");
        assert_eq!(age(Duration::from_millis(1_250)), "1.2s");
        assert_eq!(age(Duration::from_secs(5)), "5.0s");
        assert_eq!(age(Duration::from_secs(187)), "3m07s");
    }
}
