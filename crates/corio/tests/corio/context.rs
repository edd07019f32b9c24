//! Context variables (`corio::context`): asyncio's documented `contextvars`
//! behaviour: a copy at task creation, isolation between siblings, reset
//! tokens, callbacks in the context they were scheduled from, contexts
//! across workers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::context::{Context, ContextVar};
use corio::task::{Builder, TaskGroup};

static VALUE: ContextVar<u32> = ContextVar::new("value");
static NAME: ContextVar<String> = ContextVar::with_default("name", String::new());
static OTHER: ContextVar<u32> = ContextVar::new("other");

#[test]
fn a_task_sees_its_creators_values_as_they_were_at_creation() {
    corio::run(async {
        VALUE.set(1);
        let child = corio::create_task(async {
            corio::yield_now().await;
            VALUE.get()
        });
        // Set after the child was created: the child does not see it.
        VALUE.set(2);
        assert_eq!(child.await.unwrap(), Some(1));
        assert_eq!(VALUE.get(), Some(2));
    });
}

#[test]
fn what_a_task_sets_stays_in_it_and_reaches_only_tasks_it_creates_later() {
    corio::run(async {
        VALUE.set(10);
        let child = corio::create_task(async {
            VALUE.set(11);
            corio::yield_now().await;
            let grandchild = corio::create_task(async { VALUE.get() });
            (VALUE.get(), grandchild.await.unwrap())
        });
        assert_eq!(child.await.unwrap(), (Some(11), Some(11)));
        assert_eq!(VALUE.get(), Some(10));
    });
}

#[test]
fn sibling_tasks_are_isolated_across_their_awaits() {
    corio::run(async {
        let tasks: Vec<_> = (0..10u32)
            .map(|i| {
                corio::create_task(async move {
                    assert_eq!(VALUE.get(), None);
                    VALUE.set(i);
                    for _ in 0..5 {
                        corio::yield_now().await;
                        assert_eq!(VALUE.get(), Some(i));
                    }
                    VALUE.get()
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), Some(i as u32));
        }
        assert_eq!(VALUE.get(), None);
    });
}

/// A task that starts in an empty context and sets a variable keeps it
/// across its polls, and the next task polled on the thread does not see it.
#[test]
fn a_set_in_a_task_created_empty_does_not_leak_to_the_next_task_polled() {
    corio::run(async {
        let setter = corio::create_task(async {
            VALUE.set(5);
            corio::yield_now().await;
            VALUE.get()
        });
        let reader = corio::create_task(async {
            let first = VALUE.get();
            corio::yield_now().await;
            (first, VALUE.get())
        });
        assert_eq!(setter.await.unwrap(), Some(5));
        assert_eq!(reader.await.unwrap(), (None, None));
        assert_eq!(VALUE.get(), None);
    });
}

#[test]
fn reset_restores_the_previous_value_or_unsets() {
    corio::run(async {
        assert_eq!(NAME.get().as_deref(), Some(""));
        let first = NAME.set("a".into());
        assert_eq!(first.old_value(), None);
        let second = NAME.set("b".into());
        assert_eq!(second.old_value().as_deref(), Some("a"));
        assert_eq!(NAME.get().as_deref(), Some("b"));
        NAME.reset(second);
        assert_eq!(NAME.get().as_deref(), Some("a"));
        NAME.reset(first);
        assert_eq!(NAME.get().as_deref(), Some("")); // back to the default
        assert_eq!(Context::current().len(), 0);
    });
}

#[test]
#[should_panic(expected = "created by the variable \"value\", not by \"other\"")]
fn a_token_of_another_variable_panics() {
    let token = VALUE.set(1);
    OTHER.reset(token);
}

#[test]
fn a_token_from_another_task_panics_there() {
    corio::run(async {
        let token = VALUE.set(1);
        let task = corio::create_task(async move { VALUE.reset(token) });
        let error = task.await.unwrap_err();
        assert!(
            error.to_string().contains("created in a different Context"),
            "{error}"
        );
        assert_eq!(VALUE.get(), Some(1));
    });
}

#[test]
fn context_run_runs_in_a_copy_and_run_mut_keeps_the_changes() {
    let outer = VALUE.set(1);
    let ctx = Context::current();
    let inside = ctx.run(|| {
        let before = VALUE.get();
        VALUE.set(2);
        (before, VALUE.get())
    });
    assert_eq!(inside, (Some(1), Some(2)));
    assert_eq!(VALUE.get(), Some(1));
    assert_eq!(VALUE.get_in(&ctx), Some(1));
    let mut kept = Context::new();
    kept.run_mut(|| VALUE.set(3));
    assert_eq!(VALUE.get_in(&kept), Some(3));
    assert_eq!(kept.run(|| VALUE.get()), Some(3));
    assert_eq!(VALUE.get(), Some(1));
    VALUE.reset(outer);
    assert_eq!(VALUE.get(), None);
}

#[test]
fn builder_context_runs_a_task_in_the_given_context() {
    corio::run(async {
        VALUE.set(1);
        let ctx = Context::new().run(|| {
            VALUE.set(42);
            Context::current()
        });
        let task = Builder::new().context(ctx.clone()).create(async {
            VALUE.set(43);
            VALUE.get()
        });
        assert_eq!(task.await.unwrap(), Some(43));
        // The task ran in a copy: neither `ctx` nor the creator changed.
        assert_eq!(VALUE.get_in(&ctx), Some(42));
        assert_eq!(VALUE.get(), Some(1));
        let empty = Builder::new()
            .context(Context::new())
            .create(async { VALUE.get() });
        assert_eq!(empty.await.unwrap(), None);
    });
}

type Seen = Arc<Mutex<Vec<(&'static str, Option<u32>)>>>;

#[test]
fn callbacks_run_in_the_context_they_were_scheduled_from() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    corio::run({
        let seen = seen.clone();
        async move {
            let handle = corio::get_running_loop();
            VALUE.set(1);
            let record = |seen: &Seen, what| {
                let seen = seen.clone();
                move || seen.lock().unwrap().push((what, VALUE.get()))
            };
            handle.call_soon(record(&seen, "soon"));
            handle.call_later(Duration::from_millis(1), record(&seen, "later"));
            handle.call_at(corio::time::now(), record(&seen, "at"));
            VALUE.set(2); // after scheduling: the callbacks keep 1
                          // From another thread: that thread's (empty) context.
            let remote = handle.clone();
            let seen_remote = seen.clone();
            std::thread::spawn(move || {
                remote.call_soon_threadsafe(move || {
                    seen_remote
                        .lock()
                        .unwrap()
                        .push(("threadsafe", VALUE.get()))
                });
            })
            .join()
            .unwrap();
            corio::sleep(Duration::from_millis(5)).await;
            assert_eq!(VALUE.get(), Some(2));
        }
    });
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("at", Some(1)),
            ("later", Some(1)),
            ("soon", Some(1)),
            ("threadsafe", None)
        ]
    );
}

#[test]
fn a_callbacks_set_does_not_reach_the_loop_or_the_next_callback() {
    corio::run(async {
        let handle = corio::get_running_loop();
        let second = Arc::new(Mutex::new(Some(0)));
        handle.call_soon(|| drop(VALUE.set(9)));
        handle.call_soon({
            let second = second.clone();
            move || *second.lock().unwrap() = VALUE.get()
        });
        corio::sleep(Duration::from_millis(1)).await;
        assert_eq!(*second.lock().unwrap(), None);
        assert_eq!(VALUE.get(), None);
    });
}

#[test]
fn a_nested_task_group_child_sees_the_parents_value_at_creation() {
    let seen = corio::run(async {
        VALUE.set(1);
        let inner = TaskGroup::<()>::scope(|outer| async move {
            VALUE.set(2); // the scope body is the parent task itself
            Ok(outer.create_task(async {
                let child = TaskGroup::<()>::scope(|group| async move {
                    let child = group.create_task(async { Ok(VALUE.get()) });
                    VALUE.set(3); // after creating the child
                    Ok(child)
                })
                .await
                .map_err(|_| ())?;
                child.await.map_err(|_| ())
            }))
        })
        .await
        .unwrap();
        inner.await.unwrap()
    });
    assert_eq!(seen, Some(2));
}

#[test]
fn an_eager_task_runs_in_a_copy_of_its_creators_context() {
    corio::run(async {
        VALUE.set(1);
        let task = Builder::new().eager().create(async {
            let seen = VALUE.get();
            VALUE.set(7);
            corio::yield_now().await;
            (seen, VALUE.get())
        });
        // The eager step's set stayed in the task.
        assert_eq!(VALUE.get(), Some(1));
        assert_eq!(task.await.unwrap(), (Some(1), Some(7)));
    });
}

#[test]
fn a_cancelled_tasks_drop_runs_in_its_context() {
    struct Check(Arc<Mutex<Option<u32>>>);
    impl Drop for Check {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = VALUE.get();
        }
    }
    let seen = Arc::new(Mutex::new(None));
    corio::run({
        let seen = seen.clone();
        async move {
            let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let running = started.clone();
            let task = corio::create_task(async move {
                VALUE.set(8);
                let _check = Check(seen);
                running.store(true, std::sync::atomic::Ordering::SeqCst);
                std::future::pending::<()>().await
            });
            // On one thread the task runs at the first yield; under
            // workers it may start later, on another thread.
            while !started.load(std::sync::atomic::Ordering::SeqCst) {
                corio::yield_now().await;
            }
            task.cancel();
            assert!(task.await.is_err());
            assert_eq!(VALUE.get(), None);
        }
    });
    assert_eq!(*seen.lock().unwrap(), Some(8));
}

#[test]
fn the_runners_context_carries_from_one_run_to_the_next() {
    let mut runner = corio::Runner::new();
    runner.run(async { drop(VALUE.set(4)) });
    assert_eq!(VALUE.get(), None); // not the caller's
    assert_eq!(runner.run(async { VALUE.get() }), Some(4));
    runner.close();
    let ctx = Context::new().run(|| {
        VALUE.set(6);
        Context::current()
    });
    let mut given = corio::Runner::builder().context(ctx).build().unwrap();
    let seen = given.run(async { corio::create_task(async { VALUE.get() }).await.unwrap() });
    assert_eq!(seen, Some(6));
    given.close();
    // corio::run starts from a copy of the caller's context.
    let outer = VALUE.set(12);
    assert_eq!(corio::run(async { VALUE.get() }), Some(12));
    VALUE.reset(outer);
}

#[test]
fn contexts_follow_tasks_across_worker_threads() {
    let mut runner = corio::Runner::builder().workers(4).build().unwrap();
    let wrong = Arc::new(AtomicBool::new(false));
    runner.run({
        let wrong = wrong.clone();
        async move {
            VALUE.set(1000);
            let tasks: Vec<_> = (0..64u32)
                .map(|i| {
                    let wrong = wrong.clone();
                    corio::create_task(async move {
                        if VALUE.get() != Some(1000) {
                            wrong.store(true, Ordering::SeqCst);
                        }
                        VALUE.set(i);
                        for _ in 0..20 {
                            corio::yield_now().await;
                            if VALUE.get() != Some(i) {
                                wrong.store(true, Ordering::SeqCst);
                            }
                        }
                        let child = corio::create_task(async { VALUE.get() });
                        child.await.unwrap() == Some(i)
                    })
                })
                .collect();
            for task in tasks {
                assert!(task.await.unwrap());
            }
            assert_eq!(VALUE.get(), Some(1000));
            let handle = corio::get_running_loop();
            let seen = Arc::new(Mutex::new(None));
            handle.call_soon({
                let seen = seen.clone();
                move || *seen.lock().unwrap() = VALUE.get()
            });
            corio::sleep(Duration::from_millis(5)).await;
            assert_eq!(*seen.lock().unwrap(), Some(1000));
        }
    });
    runner.close();
    assert!(!wrong.load(Ordering::SeqCst));
}

#[test]
fn to_thread_runs_in_a_copy_of_the_callers_context() {
    static REQUEST: corio::context::ContextVar<u32> = corio::context::ContextVar::new("request");
    corio::run(async {
        REQUEST.set(7);
        let (seen, after_set) = corio::to_thread(|| {
            let seen = REQUEST.get();
            REQUEST.set(8);
            (seen, REQUEST.get())
        })
        .await
        .unwrap();
        assert_eq!((seen, after_set), (Some(7), Some(8)));
        assert_eq!(REQUEST.get(), Some(7), "the thread's set stays in its copy");
    });
}
