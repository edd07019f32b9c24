//! Panics inside tasks: caught and reported as `TaskError::Panicked` with the
//! message, id and name; the executor keeps running; a panicking `Drop` after
//! a panicking poll (or during cancellation) neither aborts nor replaces the
//! first outcome.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::common::{drain, forgotten, yield_now, Counter};
use corio_executor::{payload_message, Builder, LocalExecutor, ThreadPark};

#[test]
fn a_panicking_local_task_reports_its_message_id_and_name() {
    let ex = LocalExecutor::new();
    let task = ex.spawn_local_with(Builder::new().name("worker"), async {
        yield_now().await;
        panic!("boom");
    });
    let id = task.id();
    assert_eq!(task.name(), Some("worker"));
    let err = ex.block_on(task, &mut ThreadPark).unwrap_err();
    assert!(err.is_panic());
    assert!(!err.is_cancelled());
    assert_eq!(err.panic_message(), Some("boom"));
    assert_eq!(err.id(), id);
    assert_eq!(err.name(), Some("worker"));
    let shown = err.to_string();
    assert!(shown.contains(&id.to_string()), "{shown}");
    assert!(shown.contains("worker"), "{shown}");
    assert!(shown.contains("boom"), "{shown}");
    let debug = format!("{err:?}");
    assert!(
        debug.contains("Panicked") && debug.contains("boom"),
        "{debug}"
    );
}

#[test]
fn a_panicking_task_spawned_through_a_spawner_reports_its_name() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let task = std::thread::spawn(move || {
        spawner.spawn_with(Builder::new().name("remote"), async {
            panic!("formatted {}", 42);
        })
    })
    .join()
    .unwrap();
    let id = task.id();
    let err = ex.block_on(task, &mut ThreadPark).unwrap_err();
    assert_eq!(err.panic_message(), Some("formatted 42"));
    assert_eq!(
        err.to_string(),
        format!("task {id} 'remote' panicked: formatted 42")
    );
}

#[test]
fn an_unnamed_task_error_names_only_the_id() {
    let ex = LocalExecutor::new();
    let task = ex.spawn(async { panic!("plain") });
    let id = task.id();
    let err = ex.block_on(task, &mut ThreadPark).unwrap_err();
    assert_eq!(err.name(), None);
    assert_eq!(err.to_string(), format!("task {id} panicked: plain"));
}

#[test]
fn a_non_string_payload_has_no_message_and_can_be_re_raised() {
    let ex = LocalExecutor::new();
    let task = ex.spawn(async { std::panic::panic_any(17_u32) });
    let err = ex.block_on(task, &mut ThreadPark).unwrap_err();
    assert_eq!(err.panic_message(), None);
    assert!(err.to_string().ends_with("panicked"), "{err}");
    let payload = err.into_panic();
    assert_eq!(payload_message(&*payload), None);
    assert_eq!(*payload.downcast::<u32>().unwrap(), 17);
}

#[test]
fn the_executor_keeps_running_other_tasks_after_a_panic() {
    let ex = LocalExecutor::new();
    let before = ex.spawn(async {
        yield_now().await;
        1
    });
    let bad = ex.spawn(async {
        yield_now().await;
        panic!("in the middle");
    });
    let after = ex.spawn(async {
        yield_now().await;
        yield_now().await;
        3
    });
    drain(&ex);
    assert_eq!(ex.task_count(), 0);
    let (a, b, c) = ex.block_on(
        async { (before.await, bad.await, after.await) },
        &mut ThreadPark,
    );
    assert_eq!(a.unwrap(), 1);
    assert_eq!(b.unwrap_err().panic_message(), Some("in the middle"));
    assert_eq!(c.unwrap(), 3);
}

/// Panics when dropped, after counting the drop.
struct PanicOnDrop(Counter);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        drop(self.0.token());
        panic!("panic in Drop");
    }
}

/// A hand-written future (so its fields are dropped by the executor, after
/// `poll` returned, not while unwinding out of `poll` as an async block's
/// locals are) holding a guard that panics on drop.
struct GuardedFuture {
    _guard: PanicOnDrop,
    panic_in_poll: bool,
}

impl Future for GuardedFuture {
    type Output = &'static str;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<&'static str> {
        if self.panic_in_poll {
            panic!("poll panicked");
        }
        Poll::Ready("fine")
    }
}

#[test]
fn a_future_whose_drop_panics_after_it_panicked_does_not_abort() {
    let ex = LocalExecutor::new();
    let drops = Counter::new();
    let task = ex.spawn(GuardedFuture {
        _guard: PanicOnDrop(drops.clone()),
        panic_in_poll: true,
    });
    let err = ex.block_on(task, &mut ThreadPark).unwrap_err();
    assert_eq!(
        err.panic_message(),
        Some("poll panicked"),
        "the first outcome is reported"
    );
    assert_eq!(drops.get(), 1);
    assert_eq!(ex.task_count(), 0);
}

#[test]
fn a_future_whose_drop_panics_after_it_finished_keeps_its_output() {
    let ex = LocalExecutor::new();
    let drops = Counter::new();
    let task = ex.spawn(GuardedFuture {
        _guard: PanicOnDrop(drops.clone()),
        panic_in_poll: false,
    });
    assert_eq!(ex.block_on(task, &mut ThreadPark).unwrap(), "fine");
    assert_eq!(drops.get(), 1);
}

#[test]
fn a_future_whose_drop_panics_during_cancellation_is_reported_cancelled() {
    let ex = LocalExecutor::new();
    let drops = Counter::new();
    let guard = PanicOnDrop(drops.clone());
    let task = ex.spawn(async move {
        let _guard = guard;
        forgotten::<()>().await
    });
    drain(&ex);
    assert!(task.cancel());
    let err = ex.block_on(task, &mut ThreadPark).unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(drops.get(), 1);
}

#[test]
fn a_future_whose_drop_panics_at_close_does_not_stop_the_close() {
    let ex = LocalExecutor::new();
    let drops = Counter::new();
    let others = Counter::new();
    for _ in 0..3 {
        let guard = PanicOnDrop(drops.clone());
        let token = others.token();
        drop(ex.spawn(async move {
            let _guard = guard;
            let _token = token;
            forgotten::<()>().await
        }));
    }
    drain(&ex);
    ex.close();
    assert_eq!(drops.get(), 3);
    assert_eq!(others.get(), 3);
    assert_eq!(ex.task_count(), 0);
}
