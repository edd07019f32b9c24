//! `LocalExecutor::close` (and drop): every pending task's future is dropped
//! on the executor's thread — `!Send` ones, ones nobody can wake, ones
//! spawned by a `Drop` during the close — awaiters learn `Cancelled`, later
//! spawns are cancelled at once, and the task listings follow along.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::thread::ThreadId;
use std::time::Duration;

use crate::common::{drain, forgotten, Counter, Flag, WakerSlot};
use corio_executor::{Builder, LocalExecutor, TaskState, ThreadPark};

#[test]
fn close_drops_every_pending_future() {
    let ex = LocalExecutor::new();
    let drops = Counter::new();
    let slot = WakerSlot::new();
    // Waiting with its waker held elsewhere.
    let (token, wait) = (drops.token(), slot.wait());
    let held = ex.spawn(async move {
        let _token = token;
        wait.await
    });
    // Waiting with no waker anywhere: only the executor knows about it.
    let token = drops.token();
    let orphan = ex.spawn(async move {
        let _token = token;
        forgotten::<()>().await
    });
    // !Send, waiting.
    let token = drops.token();
    let local = Rc::new(());
    let not_send = ex.spawn_local(async move {
        let _token = token;
        let _local = local;
        forgotten::<()>().await
    });
    drain(&ex);
    // Queued but never polled.
    let token = drops.token();
    let queued = ex.spawn(async move {
        let _token = token;
    });
    assert_eq!(ex.task_count(), 4);
    assert_eq!(drops.get(), 0);
    ex.close();
    assert_eq!(drops.get(), 4);
    assert_eq!(ex.task_count(), 0);
    assert!(ex.is_idle());
    for mut task in [held, orphan, queued] {
        assert!(task.is_cancelled());
        assert!(task.try_result().unwrap().unwrap_err().is_cancelled());
    }
    assert!(not_send.is_cancelled());
    // The waker the slot still holds is now inert.
    slot.release();
    assert_eq!(ex.run_once(), 0);
}

#[test]
fn dropping_the_executor_closes_it() {
    let drops = Counter::new();
    let task = {
        let ex = LocalExecutor::new();
        let token = drops.token();
        let task = ex.spawn(async move {
            let _token = token;
            forgotten::<()>().await
        });
        drain(&ex);
        task
    };
    assert_eq!(drops.get(), 1);
    assert!(task.is_cancelled());
}

#[test]
fn close_is_idempotent_and_visible_through_spawners() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    assert!(!ex.is_closed());
    assert!(!spawner.is_closed());
    ex.close();
    ex.close();
    assert!(ex.is_closed());
    assert!(spawner.is_closed());
    assert!(std::thread::spawn(move || spawner.is_closed())
        .join()
        .unwrap());
}

/// Spawns one more task from its `Drop`, on the executor it points at.
struct SpawnOnDrop {
    ex: Weak<LocalExecutor>,
    depth: usize,
    drops: Counter,
    finished_drops: Counter,
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let _token = self.drops.token();
        if self.depth > 0 {
            let ex = self.ex.upgrade().expect("the executor outlives its close");
            let child = SpawnOnDrop {
                ex: self.ex.clone(),
                depth: self.depth - 1,
                drops: self.drops.clone(),
                finished_drops: self.finished_drops.clone(),
            };
            // Both kinds of spawn, from inside a Drop that runs during close.
            drop(ex.spawn_local(async move {
                let _child = child;
                forgotten::<()>().await
            }));
            let token = self.drops.token();
            drop(ex.spawner().spawn(async move {
                let _token = token;
                forgotten::<()>().await
            }));
        }
        drop(self.finished_drops.token());
    }
}

#[test]
fn tasks_spawned_by_a_drop_during_close_are_dropped_too() {
    let ex = Rc::new(LocalExecutor::new());
    let drops = Counter::new();
    let finished_drops = Counter::new();
    let guard = SpawnOnDrop {
        ex: Rc::downgrade(&ex),
        depth: 3,
        drops: drops.clone(),
        finished_drops: finished_drops.clone(),
    };
    drop(ex.spawn_local(async move {
        let _guard = guard;
        forgotten::<()>().await
    }));
    drain(&ex);
    ex.close();
    // 4 SpawnOnDrop guards (depths 3..0) and 3 extra Send tasks' tokens.
    assert_eq!(finished_drops.get(), 4, "every guard's Drop ran to its end");
    assert_eq!(drops.get(), 4 + 3);
    assert_eq!(ex.task_count(), 0);
    assert!(ex.is_idle());
}

#[test]
fn spawning_through_a_spawner_after_close_gives_a_cancelled_task() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    ex.close();
    let drops = Counter::new();
    let ran = Flag::new();
    let (token, ran2) = (drops.token(), ran.clone());
    let task = spawner.spawn(async move {
        let _token = token;
        ran2.set();
    });
    assert!(task.is_done());
    assert!(task.is_cancelled());
    assert_eq!(drops.get(), 1, "the future was dropped at once");
    assert!(
        crate::common::poll_once(&mut { task }).map(|r| r.unwrap_err().is_cancelled())
            == std::task::Poll::Ready(true)
    );
    assert!(!ran.get());
}

#[test]
fn spawning_from_another_thread_after_close_gives_a_cancelled_task() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    ex.close();
    let drops = Counter::new();
    let token = drops.token();
    let mut task = std::thread::spawn(move || spawner.spawn(async move { token }))
        .join()
        .unwrap();
    assert_eq!(drops.get(), 1);
    assert!(task.try_result().unwrap().unwrap_err().is_cancelled());
    assert_eq!(ex.run_once(), 0);
}

#[test]
fn spawning_on_the_executor_after_close_gives_a_cancelled_task() {
    let ex = LocalExecutor::new();
    ex.close();
    let drops = Counter::new();
    let token = drops.token();
    let sent = ex.spawn(async move {
        let _token = token;
    });
    let token = drops.token();
    let local = ex.spawn_local(async move {
        let _token = token;
        Rc::new(())
    });
    assert_eq!(drops.get(), 2, "both futures were dropped at once");
    assert!(sent.is_cancelled());
    assert!(local.is_cancelled());
    assert_eq!(ex.task_count(), 0);
    assert!(ex.is_idle());
}

/// Records the thread its `Drop` ran on.
struct DropThread(Rc<RefCell<Option<ThreadId>>>);

impl Drop for DropThread {
    fn drop(&mut self) {
        *self.0.borrow_mut() = Some(std::thread::current().id());
    }
}

#[test]
fn a_local_future_is_never_dropped_off_its_thread_after_close() {
    let ex = LocalExecutor::new();
    ex.close();
    let dropped_on = Rc::new(RefCell::new(None));
    let slot = WakerSlot::new();
    let (guard, wait) = (DropThread(dropped_on.clone()), slot.wait());
    let task = ex.spawn_local(async move {
        let _guard = guard;
        wait.await
    });
    drain(&ex);
    // If the task had been polled, its waker would now be in the slot; wake
    // it from another thread, where the closed executor cannot take it.
    let releaser = slot.clone();
    std::thread::spawn(move || releaser.release())
        .join()
        .unwrap();
    drain(&ex);
    assert!(task.is_done());
    assert_eq!(*dropped_on.borrow(), Some(std::thread::current().id()));
}

#[test]
fn block_on_after_close_reports_the_future_cancelled() {
    let ex = LocalExecutor::new();
    ex.close();
    let drops = Counter::new();
    let token = drops.token();
    let err = ex
        .block_on_catch(
            async move {
                let _token = token;
                1
            },
            &mut ThreadPark,
        )
        .unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(drops.get(), 1);
}

#[test]
fn close_wakes_an_awaiter_on_another_executor_thread() {
    let ex = LocalExecutor::new();
    let task = ex.spawn(forgotten::<u8>());
    drain(&ex);
    let (tx, rx) = std::sync::mpsc::channel();
    let awaiter = std::thread::spawn(move || {
        let other = LocalExecutor::new();
        other.block_on(
            async move {
                let mut task = task;
                // Register the waker, tell the main thread, then wait.
                assert!(crate::common::poll_once(&mut task).is_pending());
                tx.send(()).unwrap();
                task.await
            },
            &mut ThreadPark,
        )
    });
    rx.recv().unwrap();
    std::thread::sleep(Duration::from_millis(10));
    ex.close();
    assert!(awaiter.join().unwrap().unwrap_err().is_cancelled());
}

#[test]
fn task_count_and_tasks_list_live_tasks_without_hidden_ones() {
    let ex = LocalExecutor::new();
    let slot = WakerSlot::new();
    let waiting = ex.spawn_local_with(Builder::new().name("waiting"), slot.wait());
    let hidden = ex.spawn_local_with(
        Builder::new().name("internal").hidden(true),
        forgotten::<()>(),
    );
    let queued = ex.spawn_local_with(Builder::new().name("queued"), async {});
    assert_eq!(ex.task_count(), 3);
    let listed = ex.tasks();
    let names: Vec<_> = listed
        .iter()
        .map(|t| t.name().unwrap().to_string())
        .collect();
    assert_eq!(names, ["waiting", "queued"]);
    assert!(listed.iter().all(|t| t.state() == TaskState::Scheduled));
    assert_eq!(listed[0].id(), waiting.id());
    assert_eq!(listed[1].id(), queued.id());

    drain(&ex);
    assert_eq!(
        ex.task_count(),
        2,
        "queued finished; waiting and hidden remain"
    );
    let listed = ex.tasks();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name(), Some("waiting"));
    assert_eq!(listed[0].state(), TaskState::Waiting);
    let shown = listed[0].to_string();
    assert!(
        shown.contains("'waiting'") && shown.contains("Waiting"),
        "{shown}"
    );

    slot.release();
    assert_eq!(ex.tasks()[0].state(), TaskState::Scheduled);
    drain(&ex);
    assert_eq!(ex.task_count(), 1);
    assert!(ex.tasks().is_empty());
    assert!(hidden.cancel());
    drain(&ex);
    assert_eq!(ex.task_count(), 0);
    assert!(queued.is_done() && waiting.is_done() && hidden.is_cancelled());
}

#[test]
fn a_remotely_spawned_task_counts_once_it_reached_the_executor() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let task = std::thread::spawn(move || spawner.spawn(forgotten::<()>()))
        .join()
        .unwrap();
    assert!(!ex.is_idle());
    ex.run_once();
    assert_eq!(ex.task_count(), 1);
    assert_eq!(ex.tasks()[0].id(), task.id());
    ex.close();
    assert!(task.is_cancelled());
}

/// Logs its polls and its drop; closes its executor in its first poll.
struct ClosesItsExecutor {
    ex: Weak<LocalExecutor>,
    log: Rc<RefCell<Vec<&'static str>>>,
    data: Vec<u32>,
}

impl std::future::Future for ClosesItsExecutor {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.log.borrow_mut().push("poll starts");
        self.ex.upgrade().unwrap().close();
        // The future must still be intact here.
        assert_eq!(self.data, [1, 2, 3]);
        self.log.borrow_mut().push("poll returns");
        std::task::Poll::Pending
    }
}

impl Drop for ClosesItsExecutor {
    fn drop(&mut self) {
        self.log.borrow_mut().push("dropped");
    }
}

#[test]
fn a_task_closing_its_executor_is_dropped_after_its_poll_returns() {
    let ex = Rc::new(LocalExecutor::new());
    let log = Rc::new(RefCell::new(Vec::new()));
    let drops = Counter::new();
    let token = drops.token();
    let bystander = ex.spawn(async move {
        let _token = token;
        forgotten::<()>().await
    });
    drain(&ex);
    let closer = ex.spawn_local(ClosesItsExecutor {
        ex: Rc::downgrade(&ex),
        log: log.clone(),
        data: vec![1, 2, 3],
    });
    drain(&ex);
    assert_eq!(*log.borrow(), ["poll starts", "poll returns", "dropped"]);
    assert!(ex.is_closed());
    assert!(closer.is_cancelled());
    assert!(bystander.is_cancelled());
    assert_eq!(drops.get(), 1);
    assert_eq!(ex.task_count(), 0);
}
