//! Task introspection (`corio::debug::dump_tasks`, `task_tree`): TaskGroup
//! children under their parents, task states, poll counts, names, spawn
//! locations and ages on the loop's clock. (Which task wrote a log line:
//! `task_logs.rs`.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::debug::{task_tree, TaskNode};
use corio::sync::Event;
use corio::task::{Builder, TaskGroup, TaskState};
use corio::TaskId;

/// The node of task `id` anywhere in the forest.
fn find(forest: &[TaskNode], id: TaskId) -> &TaskNode {
    forest
        .iter()
        .find_map(|node| node.find(id))
        .unwrap_or_else(|| panic!("task {id} is in the tree: {forest:#?}"))
}

/// Lets every ready task run a few times over.
async fn settle() {
    for _ in 0..5 {
        corio::yield_now().await;
    }
}

fn virtual_runner() -> corio::Runner {
    corio::Runner::builder().manual_clock().build().unwrap()
}

#[test]
fn task_group_children_sit_under_the_task_that_runs_the_scope_two_levels_deep() {
    corio::run(async {
        let release = Arc::new(Event::new());
        let loner = Builder::new().name("loner").create({
            let release = release.clone();
            async move { release.wait().await }
        });
        let loner_id = loner.id();
        let ids: Arc<Mutex<Vec<TaskId>>> = Arc::default();
        let release_all = release.clone();
        let ids_seen = ids.clone();
        TaskGroup::<()>::scope(|outer| async move {
            let inner_ids = ids_seen.clone();
            let release = release_all.clone();
            let outer_child = outer.create_task(async move {
                TaskGroup::<()>::scope(|inner| async move {
                    let grandchild = inner.create_task(async move {
                        release.wait().await;
                        Ok(())
                    });
                    inner_ids.lock().unwrap().push(grandchild.id());
                    Ok(())
                })
                .await
                .unwrap();
                Ok(())
            });
            // A task a child adds to the group belongs to the group: it sits
            // under the scope's owner, beside the child that added it.
            let added_by_child = outer.create_task({
                let outer = outer.clone();
                let release = release_all.clone();
                let ids = ids_seen.clone();
                async move {
                    let sibling = outer.create_task(async move {
                        release.wait().await;
                        Ok(())
                    });
                    ids.lock().unwrap().push(sibling.id());
                    Ok(())
                }
            });
            settle().await;

            let main = corio::current_task().unwrap().id();
            let id = |task: TaskId| task.as_u64();
            let (grandchild, sibling) = {
                let ids = ids_seen.lock().unwrap();
                (ids[0], ids[1])
            };
            let forest = task_tree();
            let roots: Vec<TaskId> = forest.iter().map(TaskNode::id).collect();
            assert_eq!(roots, [main, loner_id], "{forest:#?}");
            let main_node = &forest[0];
            assert!(main_node.is_main());
            assert_eq!(main_node.state(), TaskState::Running);
            let children: Vec<TaskId> = main_node.children().iter().map(TaskNode::id).collect();
            assert!(!children.contains(&added_by_child.id()), "it finished");
            assert_eq!(children, [outer_child.id(), sibling], "{forest:#?}");
            let outer_node = &main_node.children()[0];
            let grandchildren: Vec<TaskId> =
                outer_node.children().iter().map(TaskNode::id).collect();
            assert_eq!(grandchildren, [grandchild]);
            assert!(outer_node.children()[0].children().is_empty());

            // The rendering nests the same way.
            let dump = corio::debug::dump_tasks();
            let lines: Vec<&str> = dump.lines().collect();
            assert_eq!(lines.len(), 6, "{dump}");
            assert!(lines[0].starts_with("corio task tree (5 tasks, loop running for "));
            let expected = [
                format!("├── task {} (main) running  ", id(main)),
                format!("│   ├── task {} waiting  ", id(outer_child.id())),
                format!("│   │   └── task {} waiting  ", id(grandchild)),
                format!("│   └── task {} waiting  ", id(sibling)),
                format!("└── task {} \"loner\" waiting  ", id(loner_id)),
            ];
            for (line, expected) in lines[1..].iter().zip(&expected) {
                assert!(line.starts_with(expected), "{expected:?}\n{dump}");
            }
            release_all.set();
            Ok(())
        })
        .await
        .unwrap();
        loner.await.unwrap();
    });
}

#[test]
fn states_are_waiting_scheduled_and_running() {
    corio::run(async {
        let event = Arc::new(Event::new());
        let waiter = corio::create_task({
            let event = event.clone();
            async move { event.wait().await }
        });
        let fresh = corio::create_task(async {});
        let state_of = |id| find(&task_tree(), id).state();
        assert_eq!(state_of(fresh.id()), TaskState::Scheduled, "not yet run");
        settle().await;
        assert_eq!(
            state_of(waiter.id()),
            TaskState::Waiting,
            "blocked on the event"
        );
        event.set();
        assert_eq!(
            state_of(waiter.id()),
            TaskState::Scheduled,
            "woken, not yet polled"
        );
        let me = corio::current_task().unwrap().id();
        assert_eq!(state_of(me), TaskState::Running, "the caller");
        let waiter_id = waiter.id();
        waiter.await.unwrap();
        assert!(
            task_tree().iter().all(|node| node.id() != waiter_id),
            "a finished task leaves the tree"
        );
    });
}

#[test]
fn poll_counts_count_every_poll() {
    corio::run(async {
        let event = Arc::new(Event::new());
        let yielder = corio::create_task({
            let event = event.clone();
            async move {
                for _ in 0..3 {
                    corio::yield_now().await;
                }
                event.wait().await;
            }
        });
        let polls = |id| find(&task_tree(), id).polls();
        assert_eq!(polls(yielder.id()), 0, "not yet run");
        settle().await;
        // The first poll, one after each of the 3 yields (the last one
        // parks on the event).
        assert_eq!(polls(yielder.id()), 4);
        settle().await;
        assert_eq!(polls(yielder.id()), 4, "a waiting task is not polled");
        let me = corio::current_task().unwrap().id();
        // The main task: its first poll, one per yield of the two settles.
        assert_eq!(polls(me), 11);
        event.set();
        yielder.await.unwrap();
    });
}

/// On the virtual clock, so the dump's `age 0ms` holds however busy the
/// machine (other tests run on the threads beside this one).
#[test]
fn names_and_spawn_locations_are_shown() {
    virtual_runner().run(async {
        let builder = Builder::new().name("fetch-a");
        let line = line!() + 1;
        let named = builder.create(std::future::pending::<()>());
        let unnamed = corio::create_task(std::future::pending::<()>());
        let forest = task_tree();
        let node = find(&forest, named.id());
        assert_eq!(node.name(), Some("fetch-a"));
        assert!(node.location().file().ends_with("debug_dump.rs"));
        assert_eq!(node.location().line(), line);
        let other = find(&forest, unnamed.id());
        assert_eq!(other.name(), None);
        assert_eq!(other.location().line(), line + 1);

        let dump = corio::debug::dump_tasks();
        let expected = format!(
            "task {} \"fetch-a\" scheduled  {}  age 0ms  polls 0",
            named.id().as_u64(),
            node.location()
        );
        assert!(dump.contains(&expected), "{expected}\n{dump}");
        assert!(dump.contains(&format!("debug_dump.rs:{line}:")), "{dump}");
        named.cancel();
        unnamed.cancel();
    });
}

#[test]
fn ages_follow_the_loop_clock_exactly_under_virtual_time() {
    virtual_runner().run(async {
        let old = Builder::new()
            .name("old")
            .create(std::future::pending::<()>());
        corio::sleep(Duration::from_secs(5)).await;
        let young = Builder::new()
            .name("young")
            .create(std::future::pending::<()>());
        corio::sleep(Duration::from_millis(1_250)).await;

        let forest = task_tree();
        assert_eq!(find(&forest, old.id()).age(), Duration::from_millis(6_250));
        assert_eq!(
            find(&forest, young.id()).age(),
            Duration::from_millis(1_250)
        );
        let me = corio::current_task().unwrap().id();
        assert_eq!(find(&forest, me).age(), Duration::from_millis(6_250));

        let dump = corio::debug::dump_tasks();
        assert!(
            dump.starts_with("corio task tree (3 tasks, loop running for 6.2s)\n"),
            "{dump}"
        );
        assert!(dump.contains("\"old\" waiting"), "{dump}");
        assert!(dump.contains("age 6.2s  polls 1"), "{dump}");
        assert!(dump.contains("age 1.2s  polls 1"), "{dump}");
        old.cancel();
        young.cancel();
    });
}

#[test]
fn callbacks_are_left_out() {
    corio::run(async {
        let handle = corio::get_running_loop();
        let soon = handle.call_soon(|| {});
        let later = handle.call_later(Duration::from_secs(3600), || {});
        let dump = corio::debug::dump_tasks();
        assert!(dump.starts_with("corio task tree (1 task, "), "{dump}");
        soon.cancel();
        later.cancel();
    });
}

#[test]
#[should_panic(expected = "corio::debug::dump_tasks() needs a running event loop")]
fn dump_tasks_outside_a_loop_panics_with_the_fix() {
    corio::debug::dump_tasks();
}
