//! User code re-entering the executor while it holds a task: a `tracing`
//! layer asking for the current task after a poll freed it, a `Drop` that
//! cancels or runs the task being dropped, a `Drop` that closes the
//! executor while it is closing, and `Drop`s that spawn onto a closed
//! executor, chain after chain. Each was a memory error or a crash once
//! (regressions named after the bug; valgrind shows the invalid reads and
//! frees these tests provoked before the fix).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use corio_executor::{current_task, current_task_id, AbortHandle, LocalExecutor, Spawner};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use crate::common::{drain, yield_now, Counter, Token};

/// A subscriber that enables everything and asks for the current task on
/// every exit of a poll span (target `corio::task`), recording what it saw.
struct AskOnExit {
    seen: Arc<Mutex<Vec<Option<u64>>>>,
    next_id: AtomicUsize,
    /// The ids of the poll spans (other spans, such as the `console`
    /// feature's, are entered and exited inside the poll).
    poll_spans: Mutex<Vec<u64>>,
}

impl Subscriber for AskOnExit {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) as u64 + 1;
        if span.metadata().target() == corio_executor::TASK_SPAN_TARGET {
            self.poll_spans.lock().unwrap().push(id);
        }
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, span: &Id) {
        if !self.poll_spans.lock().unwrap().contains(&span.into_u64()) {
            return;
        }
        // Reads the task's header if the executor still names it current.
        let info = current_task();
        self.seen
            .lock()
            .unwrap()
            .push(info.map(|info| info.id().as_u64()));
    }
}

/// Bug 1: the current-task pointer outlived the task. A detached task that
/// finishes in its first poll is freed by the poll; the poll span's exit
/// then ran with the freed task still current (an invalid read).
#[test]
fn a_span_exit_after_the_poll_does_not_see_the_freed_task() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let subscriber = AskOnExit {
        seen: seen.clone(),
        next_id: AtomicUsize::new(0),
        poll_spans: Mutex::new(Vec::new()),
    };
    crate::common::with_scoped_subscriber(subscriber, || {
        let ex = LocalExecutor::new();
        ex.set_task_spans(true);
        let task = ex.spawn(async { current_task_id().map(|id| id.as_u64()) });
        let id = task.id().as_u64();
        drop(task); // detached: the poll that finishes it frees it
        assert_eq!(ex.run_once(), 1);
        let seen = seen.lock().unwrap();
        assert!(!seen.is_empty(), "the poll ran in a span");
        assert!(
            seen.iter().all(|current| *current != Some(id)),
            "a span exit saw the finished (freed) task {id} as current: {seen:?}"
        );
    });
}

/// The current task is the one being polled, and also the one whose future
/// is being dropped (its `Drop` may ask), and nothing once that is over.
#[test]
fn the_current_task_is_set_while_its_future_is_polled_or_dropped() {
    struct Probe(Rc<RefCell<Option<u64>>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            *self.0.borrow_mut() = current_task_id().map(|id| id.as_u64());
        }
    }
    let ex = LocalExecutor::new();
    let in_drop = Rc::new(RefCell::new(None));
    let probe = Probe(in_drop.clone());
    let task = ex.spawn_local(async move {
        let _probe = probe;
        std::future::pending::<()>().await
    });
    drain(&ex);
    assert!(current_task().is_none());
    task.cancel();
    drain(&ex);
    assert_eq!(*in_drop.borrow(), Some(task.id().as_u64()));
    assert!(current_task().is_none());
}

/// Calls `f` from its `Drop`, once.
struct OnDrop<F: FnMut()> {
    action: F,
    _counted: Token,
}

impl<F: FnMut()> OnDrop<F> {
    fn new(action: F, counted: Token) -> OnDrop<F> {
        OnDrop {
            action,
            _counted: counted,
        }
    }
}

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.action)();
    }
}

/// Bug 2: a task's future could be dropped twice. While `cancel_now` drops
/// the future, its `Drop` calls `cancel_now` on the same task again: the
/// task looked idle, so the future was dropped a second time (invalid free).
#[test]
fn cancel_now_from_the_drop_of_the_future_it_is_dropping() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let drops = Counter::new();
    let me: Rc<RefCell<Option<AbortHandle>>> = Rc::default();
    let handle_slot = me.clone();
    let inner = spawner.clone();
    let guard = OnDrop::new(
        move || {
            if let Some(me) = handle_slot.borrow().as_ref() {
                assert!(!inner.cancel_now(me), "the future is already being dropped");
            }
        },
        drops.token(),
    );
    let task = ex.spawn_local(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
    drain(&ex);
    *me.borrow_mut() = Some(task.abort_handle());
    assert!(spawner.cancel_now(&task.abort_handle()));
    assert_eq!(drops.get(), 1, "the future was dropped exactly once");
    assert!(task.is_cancelled());
    drop(me.borrow_mut().take());
}

/// Bug 2, the other door: the `Drop` runs the executor, whose queue holds
/// the very task being dropped (it was woken just before). The run must
/// skip it, not poll or drop it again.
#[test]
fn run_once_from_the_drop_of_a_queued_task_being_dropped() {
    let ex = Rc::new(LocalExecutor::new());
    let drops = Counter::new();
    let polls = Rc::new(AtomicUsize::new(0));
    let inner = Rc::downgrade(&ex);
    let guard = OnDrop::new(
        move || {
            if let Some(ex) = inner.upgrade() {
                ex.run_once();
            }
        },
        drops.token(),
    );
    let counted = polls.clone();
    let task = ex.spawn_local(async move {
        let _guard = guard;
        std::future::poll_fn(|cx| {
            counted.fetch_add(1, Ordering::SeqCst);
            cx.waker().wake_by_ref(); // queued again after every poll
            std::task::Poll::<()>::Pending
        })
        .await
    });
    ex.run_once();
    assert_eq!(polls.load(Ordering::SeqCst), 1);
    assert!(ex.spawner().cancel_now(&task.abort_handle()));
    assert_eq!(drops.get(), 1);
    assert_eq!(
        polls.load(Ordering::SeqCst),
        1,
        "never polled while dropping"
    );
    assert!(task.is_cancelled());
    drain(&ex);
    assert_eq!(drops.get(), 1);
}

/// Bug 3: `close` walked uncounted pointers across user `Drop` code. The
/// closer task's `Drop` runs the executor again, which polls the (queued,
/// detached) tasks to completion and frees them, while the outer close still
/// held their addresses (an invalid read in valgrind).
#[test]
fn close_re_entered_from_a_drop_during_close() {
    let ex = Rc::new(LocalExecutor::new());
    let drops = Counter::new();
    let inner = Rc::downgrade(&ex);
    let closer = OnDrop::new(
        move || {
            if let Some(ex) = inner.upgrade() {
                ex.run_once();
                ex.close();
            }
        },
        drops.token(),
    );
    // Detached tasks, queued (they yield) and done at their next poll.
    let spawn_yielding = |ex: &LocalExecutor| {
        let token = drops.token();
        drop(ex.spawn_local(async move {
            yield_now().await;
            drop(token);
        }));
    };
    for _ in 0..8 {
        spawn_yielding(&ex);
    }
    drop(ex.spawn_local(async move {
        let _closer = closer;
        std::future::pending::<()>().await
    }));
    for _ in 0..8 {
        spawn_yielding(&ex);
    }
    ex.run_once();
    ex.close();
    assert_eq!(drops.get(), 17, "every future dropped exactly once");
    assert_eq!(ex.task_count(), 0);
}

/// A chain link: its `Drop` spawns the next link onto `spawner`, until
/// `left` runs out.
struct Respawn {
    spawner: Spawner,
    left: usize,
    dropped: Arc<AtomicUsize>,
}

impl Drop for Respawn {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        if self.left > 0 {
            let next = Respawn {
                spawner: self.spawner.clone(),
                left: self.left - 1,
                dropped: self.dropped.clone(),
            };
            drop(self.spawner.spawn(async move {
                let _next = next;
            }));
        }
    }
}

/// Bug 6: spawning from `Drop` onto a closed executor recursed on the stack.
/// Each rejected task's future was dropped inside the spawn call, and its
/// `Drop` spawned again: a 100k-link chain overflowed the stack (2 MiB test
/// thread) and aborted the process.
#[test]
fn a_long_chain_of_spawns_from_drop_after_close_uses_bounded_stack() {
    const LINKS: usize = 100_000;
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    ex.close();
    let dropped = Arc::new(AtomicUsize::new(0));
    let first = Respawn {
        spawner: spawner.clone(),
        left: LINKS,
        dropped: dropped.clone(),
    };
    let task = spawner.spawn(async move {
        let _first = first;
    });
    assert!(
        task.is_cancelled(),
        "cancelled at once: nothing else is running"
    );
    assert_eq!(dropped.load(Ordering::Relaxed), LINKS + 1);
}

/// Bug 6 during `close` itself: a pending task whose `Drop` starts the chain.
#[test]
fn a_long_chain_of_spawns_from_drop_during_close_uses_bounded_stack() {
    const LINKS: usize = 100_000;
    let ex = LocalExecutor::new();
    let dropped = Arc::new(AtomicUsize::new(0));
    let first = Respawn {
        spawner: ex.spawner(),
        left: LINKS,
        dropped: dropped.clone(),
    };
    drop(ex.spawn(async move {
        let _first = first;
        std::future::pending::<()>().await
    }));
    drain(&ex);
    ex.close();
    assert_eq!(dropped.load(Ordering::Relaxed), LINKS + 1);
    assert_eq!(ex.task_count(), 0);
}

/// `block_on` called from a `Drop` that closing runs: its future is
/// cancelled at once, not queued behind the close (it would wait forever).
#[test]
fn block_on_from_a_drop_during_close_reports_cancelled() {
    let ex = Rc::new(LocalExecutor::new());
    let cancelled = Rc::new(RefCell::new(None));
    let (inner, out) = (Rc::downgrade(&ex), cancelled.clone());
    let guard = OnDrop::new(
        move || {
            if let Some(ex) = inner.upgrade() {
                let borrowed = 1;
                let result = ex.block_on_catch(async { borrowed }, &mut corio_executor::ThreadPark);
                *out.borrow_mut() = Some(result.is_err_and(|error| error.is_cancelled()));
            }
        },
        Counter::new().token(),
    );
    drop(ex.spawn_local(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    }));
    drain(&ex);
    ex.close();
    assert_eq!(*cancelled.borrow(), Some(true));
}
