//! The executor's debug hooks: `set_slow_poll_hook` (polls at or over the
//! threshold are reported with the task's identity; quick, hidden, or
//! unhooked ones are not) and `set_unretrieved_panic_hook` (a panic dropped
//! unread is reported once; a retrieved one is not).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio_executor::{Builder, LocalExecutor, SlowPoll, ThreadPark};

fn hooked(ex: &LocalExecutor, threshold: Duration) -> Arc<Mutex<Vec<SlowPoll>>> {
    let seen: Arc<Mutex<Vec<SlowPoll>>> = Arc::default();
    let sink = seen.clone();
    ex.set_slow_poll_hook(threshold, move |poll: &SlowPoll| {
        sink.lock().unwrap().push(poll.clone())
    });
    seen
}

#[test]
fn a_slow_poll_is_reported_with_id_name_location_and_duration() {
    let ex = LocalExecutor::new();
    let seen = hooked(&ex, Duration::from_millis(20));
    let slow = ex.spawn_local_with(Builder::new().name("slow"), async {
        std::thread::sleep(Duration::from_millis(30))
    });
    let quick = ex.spawn(async {});
    let slow_id = slow.id();
    ex.block_on(
        async {
            slow.await.unwrap();
            quick.await.unwrap()
        },
        &mut ThreadPark,
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "only the slow poll: {seen:?}");
    assert_eq!(seen[0].id, slow_id);
    assert_eq!(seen[0].name.as_deref(), Some("slow"));
    assert!(seen[0].location.file().ends_with("debug_hooks.rs"));
    assert!(seen[0].duration >= Duration::from_millis(30));
}

#[test]
fn hidden_tasks_and_an_unset_hook_report_nothing() {
    let ex = LocalExecutor::new();
    let seen = hooked(&ex, Duration::from_millis(5));
    let hidden = ex.spawn_local_with(Builder::new().hidden(true), async {
        std::thread::sleep(Duration::from_millis(10))
    });
    ex.block_on(hidden, &mut ThreadPark).unwrap();
    assert!(seen.lock().unwrap().is_empty());
    ex.clear_slow_poll_hook();
    let slow = ex.spawn(async { std::thread::sleep(Duration::from_millis(10)) });
    ex.block_on(slow, &mut ThreadPark).unwrap();
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn panics_nobody_retrieved_are_reported_once_each() {
    use corio_executor::UnretrievedPanic;
    let ex = LocalExecutor::new();
    let seen: Arc<Mutex<Vec<UnretrievedPanic>>> = Arc::default();
    let sink = seen.clone();
    ex.set_unretrieved_panic_hook(move |panic: &UnretrievedPanic| {
        sink.lock().unwrap().push(panic.clone())
    });
    // Detached before it panics.
    drop(ex.spawn_local_with(Builder::new().name("detached"), async { panic!("one") }));
    // Handle dropped after it panicked, unread.
    let unread = ex.spawn(async { panic!("two") });
    // Retrieved: not reported.
    let mut read = ex.spawn(async { panic!("three") });
    ex.run_once();
    assert!(read.try_result().unwrap().is_err());
    drop(read);
    drop(unread);
    let seen = seen.lock().unwrap();
    let messages: Vec<_> = seen.iter().map(|p| p.message.clone().unwrap()).collect();
    assert_eq!(messages, ["one", "two"]);
    assert_eq!(seen[0].name.as_deref(), Some("detached"));
}
