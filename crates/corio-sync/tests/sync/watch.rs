//! `watch`: receivers see the latest value (sends between looks coalesce),
//! `changed()` marks it seen and fails only once the sender is gone and
//! nothing unseen is left, a dropped `changed()` marks nothing seen, `send`
//! fails with its value once no receiver is left while `send_replace`
//! stores anyway, `closed()`, `wait_for`, and many receivers under tokio.

use std::sync::Arc;

use corio_sync::watch::{RecvError, SendError};

use crate::queue_support::Handle;

#[test]
fn changes_coalesce_and_are_marked_seen() {
    let (tx, mut rx) = corio_sync::watch(0);
    assert_eq!(rx.has_changed(), Ok(false));
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(rx.has_changed(), Ok(true));
    Handle::new(rx.changed()).ready().unwrap();
    assert_eq!(*rx.borrow(), 2, "the latest value, once");
    assert_eq!(rx.has_changed(), Ok(false));
    let mut waiting = Handle::pending(rx.changed());
    tx.send_modify(|n| *n += 1);
    assert_eq!(waiting.wakes(), 1);
    waiting.ready().unwrap();
    drop(waiting);
    assert_eq!(*rx.borrow_and_update(), 3);
    assert_eq!(*tx.borrow(), 3);
}

#[test]
fn every_waiting_receiver_wakes_once_per_send() {
    let (tx, rx) = corio_sync::watch("a");
    let mut receivers = [rx.clone(), rx.clone(), rx];
    let mut waits: Vec<_> = receivers
        .iter_mut()
        .map(|rx| Handle::pending(rx.changed()))
        .collect();
    tx.send("b").unwrap();
    for wait in &mut waits {
        assert_eq!(wait.wakes(), 1);
        wait.ready().unwrap();
    }
    drop(waits);
    assert!(receivers.iter().all(|rx| rx.has_changed() == Ok(false)));
}

#[test]
fn the_sender_dropping_ends_changed_after_the_last_value() {
    let (tx, mut rx) = corio_sync::watch(0);
    let mut waiting = Handle::pending(rx.changed());
    drop(tx);
    assert_eq!(waiting.wakes(), 1);
    assert_eq!(waiting.ready(), Err(RecvError));
    drop(waiting);

    let (tx, mut rx) = corio_sync::watch(0);
    tx.send(5).unwrap();
    drop(tx);
    assert_eq!(rx.has_changed(), Ok(true), "an unseen value is still there");
    assert_eq!(Handle::new(rx.changed()).ready(), Ok(()));
    assert_eq!(*rx.borrow(), 5);
    assert_eq!(rx.has_changed(), Err(RecvError));
    assert_eq!(Handle::new(rx.changed()).ready(), Err(RecvError));
}

#[test]
fn a_dropped_changed_marks_nothing_seen() {
    let (tx, mut rx) = corio_sync::watch(0);
    drop(Handle::pending(rx.changed()));
    tx.send(1).unwrap();
    // A change that arrives after a wait was dropped is still unseen.
    assert_eq!(rx.has_changed(), Ok(true));
    Handle::new(rx.changed()).ready().unwrap();
    assert_eq!(rx.has_changed(), Ok(false));
    // Woken by a send, then dropped before it ran: the change stays unseen.
    let waiting = Handle::pending(rx.changed());
    tx.send(2).unwrap();
    assert_eq!(waiting.wakes(), 1);
    drop(waiting);
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(Handle::new(rx.changed()).ready(), Ok(()));
    assert_eq!(*rx.borrow(), 2);
}

#[test]
fn send_needs_a_receiver_but_send_replace_does_not() {
    let (tx, rx) = corio_sync::watch(1);
    assert_eq!(tx.receiver_count(), 1);
    let rx2 = rx.clone();
    assert!(rx.same_channel(&rx2));
    assert_eq!(tx.receiver_count(), 2);
    drop((rx, rx2));
    assert!(tx.is_closed());
    assert_eq!(tx.send(2), Err(SendError(2)));
    assert_eq!(*tx.borrow(), 1, "a failed send stores nothing");
    assert_eq!(tx.send_replace(3), 1);
    let rx = tx.subscribe();
    assert_eq!((*rx.borrow(), rx.has_changed()), (3, Ok(false)));
    assert_eq!(tx.send(4), Ok(()));
    assert_eq!(SendError(4).into_inner(), 4);
    assert_eq!(format!("{:?}", SendError(4)), "SendError(..)");
    assert_eq!(
        RecvError.to_string(),
        "watch channel closed: the sender is gone"
    );
    assert!(!tx.send_if_modified(|_| false));
    assert_eq!(rx.has_changed(), Ok(true), "the earlier send(4)");
    assert!(format!("{tx:?}").contains("value: 4"));
    assert!(format!("{rx:?}").contains("has_changed: Ok(true)"));
}

#[test]
fn closed_waits_for_the_last_receiver() {
    let (tx, rx) = corio_sync::watch(());
    let rx2 = rx.clone();
    let mut closed = Handle::pending(tx.closed());
    drop(rx);
    assert_eq!(closed.wakes(), 0);
    drop(rx2);
    assert_eq!(closed.wakes(), 1);
    closed.ready();
    drop(closed);
    Handle::new(tx.closed()).ready();
    // A dropped closed() wait leaves no trace.
    let rx = tx.subscribe();
    drop(Handle::pending(tx.closed()));
    drop(rx);
}

#[test]
fn wait_for_checks_the_current_value_then_each_change() {
    let (tx, mut rx) = corio_sync::watch(0);
    assert_eq!(*Handle::new(rx.wait_for(|n| *n == 0)).ready().unwrap(), 0);
    let mut wait = Handle::pending(rx.wait_for(|n| *n >= 2));
    tx.send(1).unwrap();
    assert!(wait.poll().is_pending());
    tx.send(2).unwrap();
    assert_eq!(*wait.ready().unwrap(), 2);
    drop(wait);
    assert_eq!(rx.has_changed(), Ok(false), "marked seen");
    let mut never = Handle::pending(rx.wait_for(|n| *n > 10));
    drop(tx);
    assert!(never.ready().is_err());
}

#[test]
fn send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let (tx, mut rx) = corio_sync::watch(String::new());
    send_sync(&tx);
    send_sync(&rx);
    send(&tx.closed());
    send(&rx.changed());
    send(&rx.wait_for(|s| s.is_empty()));
}

#[test]
fn receivers_converge_on_the_last_value_under_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, rx) = corio_sync::watch(0u32);
        let tx = Arc::new(tx);
        let watchers: Vec<_> = (0..8)
            .map(|_| {
                let mut rx = rx.clone();
                tokio::spawn(async move {
                    let mut last = 0;
                    while rx.changed().await.is_ok() {
                        let now = *rx.borrow_and_update();
                        assert!(now > last, "values only go up: {now} after {last}");
                        last = now;
                    }
                    last
                })
            })
            .collect();
        drop(rx);
        for n in 1..=1000 {
            tx.send(n).unwrap();
            if n % 50 == 0 {
                tokio::task::yield_now().await;
            }
        }
        drop(tx);
        for watcher in watchers {
            assert_eq!(watcher.await.unwrap(), 1000);
        }
    });
}
