//! Eager children of a `TaskGroup`: asyncio's `TaskGroup.create_task` goes
//! through the loop's task factory, so under `eager_task_factory` (corio:
//! `Runner::builder().eager_tasks(true)`, or `group.builder().eager()`) a
//! child's first step runs inside `create_task`.

use std::sync::{Arc, Mutex};

use corio::task::TaskGroup;

type Log = Arc<Mutex<Vec<String>>>;

fn push(log: &Log, entry: &str) {
    log.lock().unwrap().push(entry.to_owned());
}

/// asyncio 3.12:
/// ```python
/// loop.set_task_factory(asyncio.eager_task_factory)
/// async with asyncio.TaskGroup() as tg:
///     tg.create_task(child("a")); log("created a")
///     tg.create_task(child("b")); log("created b")
/// # child: log(f"{n} first"); await asyncio.sleep(0); log(f"{n} second")
/// ```
/// prints a first, created a, b first, created b, a second, b second.
#[test]
fn group_children_are_eager_on_an_eager_loop_in_asyncio_order() {
    let log: Log = Arc::default();
    let mut runner = corio::Runner::builder().eager_tasks(true).build().unwrap();
    runner
        .run({
            let log = log.clone();
            TaskGroup::<()>::scope(move |group| async move {
                for name in ["a", "b"] {
                    let log2 = log.clone();
                    group.create_task(async move {
                        push(&log2, &format!("{name} first"));
                        corio::yield_now().await;
                        push(&log2, &format!("{name} second"));
                        Ok(())
                    });
                    push(&log, &format!("created {name}"));
                }
                Ok(())
            })
        })
        .unwrap();
    runner.close();
    assert_eq!(
        *log.lock().unwrap(),
        [
            "a first",
            "created a",
            "b first",
            "created b",
            "a second",
            "b second"
        ]
    );
}

#[test]
fn an_eager_child_that_finishes_in_its_first_step_is_done_and_the_group_succeeds() {
    let out = corio::run(TaskGroup::<&str>::scope(|group| async move {
        let child = group.builder().eager().create(async { Ok(7) });
        assert!(child.is_done(), "finished inside create");
        let local = group.builder().eager().create_local(async { Ok(8) });
        assert!(local.is_done());
        Ok(child.await.unwrap() + local.await.unwrap())
    }));
    assert_eq!(out.unwrap(), 15);
}

#[test]
fn an_eager_child_that_fails_in_its_first_step_fails_the_group_and_cancels_siblings() {
    let log: Log = Arc::default();
    let out = corio::run({
        let log = log.clone();
        TaskGroup::<&str>::scope(move |group| async move {
            let log2 = log.clone();
            let sibling = group.create_task(async move {
                corio::sleep(std::time::Duration::from_secs(60)).await;
                push(&log2, "sibling finished");
                Ok(())
            });
            // The failure happens inside `create`: the group is already
            // cancelling when it returns (asyncio: the body is cancelled at
            // its next await).
            let failing = group
                .builder()
                .eager()
                .create(async { Err::<(), _>("boom") });
            push(&log, "after create");
            corio::sleep(std::time::Duration::from_secs(60)).await;
            push(&log, "body finished");
            drop((sibling, failing));
            Ok(())
        })
    });
    let err = out.unwrap_err();
    assert_eq!(err.errors().len(), 1);
    assert_eq!(err.errors()[0].error(), Some(&"boom"));
    assert_eq!(*log.lock().unwrap(), ["after create"]);
}
