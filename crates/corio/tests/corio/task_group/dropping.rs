//! Dropping the scope future (also while children's `Drop`s add more
//! children, with bounded stack) or cancelling the parent task drops every
//! child before it returns.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::{Group, HOUR, MS};
use crate::common::{flag, SetOnDrop};

#[test]
fn dropping_the_scope_future_drops_every_child_before_the_drop_returns() {
    corio::run(async {
        let dropped = Arc::new(AtomicUsize::new(0));
        struct Count(Arc<AtomicUsize>);
        impl Drop for Count {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let result = corio::timeout(10 * MS, {
            let dropped = dropped.clone();
            Group::scope(|group| async move {
                for _ in 0..5 {
                    let count = Count(dropped.clone());
                    group.create_task(async move {
                        let _count = count;
                        corio::sleep(HOUR).await;
                        Ok(())
                    });
                }
                corio::sleep(HOUR).await;
                Ok(())
            })
        })
        .await;
        assert!(result.is_err(), "the timeout expired");
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            5,
            "all children dropped by the time the timeout returned"
        );
    });
}

/// A child's future whose `Drop` adds the next child to the group, `left`
/// more times: the chain issue 12's bug 7 is about.
struct RespawnOnDrop {
    group: Group,
    left: usize,
    dropped: Arc<AtomicUsize>,
}

impl RespawnOnDrop {
    fn spawn(self) {
        let group = self.group.clone();
        group.create_task(async move {
            let _respawn = self;
            corio::sleep(HOUR).await;
            Ok(())
        });
    }
}

impl Drop for RespawnOnDrop {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
        if self.left > 0 {
            RespawnOnDrop {
                group: self.group.clone(),
                left: self.left - 1,
                dropped: self.dropped.clone(),
            }
            .spawn();
        }
    }
}

/// Drops a scope (outer timeout) whose one child starts a `RespawnOnDrop`
/// chain of `chain` more children; checks every one is dropped by the time
/// the timeout returns, and none later.
fn drop_a_scope_whose_child_respawns_on_drop(chain: usize) {
    corio::run(async move {
        let dropped = Arc::new(AtomicUsize::new(0));
        let result = corio::timeout(10 * MS, {
            let dropped = dropped.clone();
            Group::scope(move |group| async move {
                RespawnOnDrop {
                    group: group.clone(),
                    left: chain,
                    dropped,
                }
                .spawn();
                corio::sleep(HOUR).await;
                Ok(())
            })
        })
        .await;
        assert!(result.is_err(), "the timeout expired");
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            chain + 1,
            "every child, including those added during the drop, dropped by the time the timeout returned"
        );
        corio::yield_now().await;
        assert_eq!(dropped.load(Ordering::SeqCst), chain + 1);
    });
}

#[test]
fn children_added_by_a_childs_drop_during_the_scope_drop_are_gone_before_it_returns() {
    // Regression (issue 12, bug 7): the scope's drop cancelled a snapshot of
    // the children, so a child added by a child's `Drop` was dropped one loop
    // iteration after the drop returned. Before the fix: "left: 1, right: 4",
    // then the late child's `Drop` panicked with "TaskGroup is finished".
    drop_a_scope_whose_child_respawns_on_drop(3);
}

#[test]
fn a_long_chain_of_children_added_during_the_scope_drop_uses_bounded_stack() {
    // The scope's drop iterates over the children added meanwhile; one that
    // recursed would overflow the test thread's stack here.
    drop_a_scope_whose_child_respawns_on_drop(20_000);
}

#[test]
fn a_cancelled_parent_task_drops_the_groups_children() {
    corio::run(async {
        let dropped = flag();
        let guard = SetOnDrop(dropped.clone());
        let parent = corio::create_task(async move {
            let _ = Group::scope(|group| async move {
                group.create_task(async move {
                    let _guard = guard;
                    corio::sleep(HOUR).await;
                    Ok(())
                });
                Ok(())
            })
            .await;
        });
        corio::sleep(2 * MS).await;
        parent.cancel();
        assert!(parent.await.unwrap_err().is_cancelled());
        assert!(dropped.load(Ordering::SeqCst));
    });
}
