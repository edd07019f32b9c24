//! `CancellationToken`: clones share one signal, children are cancelled with
//! their parent (not the other way round, and born cancelled under a
//! cancelled parent), the whole subtree is marked before any waker runs,
//! deep trees do not overflow the stack, `cancelled()` futures wake once
//! and leave no trace when dropped, `run_until_cancelled` and `drop_guard`.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};

use corio_sync::CancellationToken;

use crate::queue_support::Handle;

#[test]
fn clones_share_one_signal_and_every_waiter_wakes() {
    let token = CancellationToken::new();
    let clone = token.clone();
    let mut waiters: Vec<_> = (0..3).map(|_| Handle::pending(clone.cancelled())).collect();
    assert!(!token.is_cancelled());
    token.cancel();
    assert!(clone.is_cancelled());
    token.cancel(); // idempotent
    for waiter in &mut waiters {
        assert_eq!(waiter.wakes(), 1);
        waiter.ready();
        waiter.ready(); // cancellation is final: polling again is harmless
    }
    Handle::new(token.cancelled()).ready();
    assert_eq!(
        format!("{token:?}"),
        "CancellationToken { is_cancelled: true }"
    );
}

#[test]
fn children_follow_their_parent_only() {
    let root = CancellationToken::new();
    let child = root.child_token();
    let grandchild = child.child_token();
    let sibling = root.child_token();
    let mut waiter = Handle::pending(grandchild.cancelled());
    child.cancel();
    assert!(grandchild.is_cancelled() && !root.is_cancelled() && !sibling.is_cancelled());
    assert_eq!(waiter.wakes(), 1);
    waiter.ready();
    assert!(child.child_token().is_cancelled(), "born cancelled");
    root.cancel();
    assert!(sibling.is_cancelled());
}

#[test]
fn dropped_children_do_not_stop_the_rest() {
    let root = CancellationToken::new();
    let kept: Vec<_> = (0..100)
        .map(|i| {
            let child = root.child_token();
            // Most children are dropped at once: their links are swept.
            (i % 10 == 0).then_some(child)
        })
        .collect();
    root.cancel();
    assert!(kept.iter().flatten().all(CancellationToken::is_cancelled));
}

/// A waker that, when woken, records whether `check` is cancelled.
struct Observer {
    check: CancellationToken,
    seen: Mutex<Vec<bool>>,
}

impl Wake for Observer {
    fn wake(self: Arc<Self>) {
        self.seen.lock().unwrap().push(self.check.is_cancelled());
    }
}

#[test]
fn the_whole_subtree_is_cancelled_before_any_waker_runs() {
    let root = CancellationToken::new();
    let leaf = root.child_token().child_token();
    let observer = Arc::new(Observer {
        check: leaf.clone(),
        seen: Mutex::new(Vec::new()),
    });
    let waker = Waker::from(observer.clone());
    let mut fut = Box::pin(root.cancelled());
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    root.cancel();
    assert_eq!(*observer.seen.lock().unwrap(), [true]);
}

#[test]
fn a_deep_chain_does_not_overflow_the_stack() {
    let root = CancellationToken::new();
    let mut tokens = vec![root.clone()];
    for _ in 0..100_000 {
        let next = tokens.last().unwrap().child_token();
        tokens.push(next);
    }
    root.cancel();
    assert!(tokens.last().unwrap().is_cancelled());
    drop(tokens);
}

#[test]
fn a_dropped_wait_leaves_no_trace() {
    let token = CancellationToken::new();
    let first = Handle::pending(token.cancelled());
    let mut second = Handle::pending(token.cancelled());
    drop(first);
    drop(Box::pin(token.cancelled())); // never polled
    token.cancel();
    assert_eq!(second.wakes(), 1);
    second.ready();
}

#[test]
fn run_until_cancelled_drops_the_work() {
    struct Tracked(Arc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let token = CancellationToken::new();
    let work = {
        let guard = Tracked(drops.clone());
        async move {
            std::future::pending::<()>().await;
            drop(guard);
        }
    };
    let mut run = Handle::pending(token.run_until_cancelled(work));
    token.cancel();
    assert_eq!(run.wakes(), 1);
    assert_eq!(run.ready(), None);
    drop(run);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the work was dropped");
    // Both ready: the cancellation wins.
    assert_eq!(
        Handle::new(token.run_until_cancelled(async { 1 })).ready(),
        None
    );
    let fresh = CancellationToken::new();
    assert_eq!(
        Handle::new(fresh.run_until_cancelled(async { 1 })).ready(),
        Some(1)
    );
}

#[test]
fn drop_guard_cancels_unless_disarmed() {
    let token = CancellationToken::new();
    let guard = token.clone().drop_guard();
    assert!(format!("{guard:?}").starts_with("DropGuard"));
    let token2 = guard.disarm();
    assert!(!token.is_cancelled());
    drop(token2.drop_guard());
    assert!(token.is_cancelled());
}

#[test]
fn waits_are_send_and_static_under_tokio() {
    fn send_sync_static<T: Send + Sync + 'static>(_: &T) {}
    let token = CancellationToken::new();
    send_sync_static(&token);
    send_sync_static(&token.cancelled());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..16)
            .map(|_| tokio::spawn(token.child_token().cancelled()))
            .collect();
        tokio::task::yield_now().await;
        token.cancel();
        for task in tasks {
            task.await.unwrap();
        }
    });
}

#[test]
fn regression_dropped_intermediate_tokens_do_not_cut_the_chain() {
    // Found while writing these tests: with only weak links down the tree,
    // dropping the tokens in between orphaned the leaf.
    let root = CancellationToken::new();
    let mut leaf = root.child_token();
    for _ in 0..100_000 {
        leaf = leaf.child_token(); // the previous token is dropped here
    }
    let mut waiter = Handle::pending(leaf.cancelled());
    root.cancel();
    assert!(leaf.is_cancelled());
    assert_eq!(waiter.wakes(), 1);
    waiter.ready();
    drop(waiter);
    drop(leaf); // releases the chain of 100,000 parents without recursing
}
