//! `RwLock`: readers share, a writer is alone, FIFO order with writers never
//! starved (a queued writer holds back later readers), readers queued
//! together let in together, cancel safety (a dropped queued writer lets the
//! readers behind it in; a writer dropped after the hand-off passes it on),
//! `downgrade`, and a multi-threaded stress run under tokio.

use std::sync::Arc;

use corio_sync::{RwLock, RwLockWriteGuard};

use crate::queue_support::Handle;

#[test]
fn readers_share_and_writers_exclude() {
    let lock = RwLock::new(1);
    let r1 = lock.try_read().unwrap();
    let r2 = lock.try_read().unwrap();
    assert_eq!(*r1 + *r2, 2);
    assert!(lock.try_write().is_none());
    assert_eq!(format!("{lock:?}"), "RwLock { data: 1 }");
    drop((r1, r2));
    let mut w = lock.try_write().unwrap();
    *w = 5;
    assert!(lock.try_read().is_none() && lock.try_write().is_none());
    assert_eq!(format!("{lock:?}"), "RwLock { data: <locked> }");
    assert_eq!(format!("{w:?} {w}"), "5 5");
    drop(w);
    let mut lock = lock;
    *lock.get_mut() += 1;
    assert_eq!(lock.into_inner(), 6);
    assert_eq!(RwLock::<u8>::default().into_inner(), 0);
    assert_eq!(RwLock::from("x").into_inner(), "x");
}

#[test]
fn a_queued_writer_holds_back_later_readers() {
    let lock = RwLock::new(0);
    let early = lock.try_read().unwrap();
    let mut writer = Handle::pending(lock.write());
    // Readers arriving after the writer wait behind it: no starvation.
    assert!(lock.try_read().is_none());
    let mut late = Handle::pending(lock.read());
    drop(early);
    assert_eq!((writer.wakes(), late.wakes()), (1, 0));
    let mut w = writer.ready();
    *w += 1;
    assert!(late.poll().is_pending());
    drop(w);
    assert_eq!(late.wakes(), 1);
    assert_eq!(*late.ready(), 1);
}

#[test]
fn readers_queued_together_are_let_in_together() {
    let lock = RwLock::new(());
    let w = lock.try_write().unwrap();
    let mut r1 = Handle::pending(lock.read());
    let mut r2 = Handle::pending(lock.read());
    let mut w2 = Handle::pending(lock.write());
    let mut r3 = Handle::pending(lock.read());
    drop(w);
    assert_eq!(
        (r1.wakes(), r2.wakes(), w2.wakes(), r3.wakes()),
        (1, 1, 0, 0),
        "the readers up to the next writer"
    );
    let (g1, g2) = (r1.ready(), r2.ready());
    drop(g1);
    assert_eq!(w2.wakes(), 0, "one reader is still in");
    drop(g2);
    assert_eq!(w2.wakes(), 1);
    let g = w2.ready();
    assert_eq!(r3.wakes(), 0);
    drop(g);
    assert_eq!(r3.wakes(), 1);
    drop(r3.ready());
    assert!(lock.try_write().is_some(), "nothing leaked");
}

#[test]
fn a_dropped_queued_writer_lets_the_readers_behind_it_in() {
    let lock = RwLock::new(());
    let held = lock.try_read().unwrap();
    let writer = Handle::pending(lock.write());
    let mut reader = Handle::pending(lock.read());
    drop(writer);
    assert_eq!(reader.wakes(), 1);
    let second = reader.ready();
    drop((held, second));
    assert!(lock.try_write().is_some());
}

#[test]
fn a_writer_dropped_after_the_hand_off_passes_it_on() {
    let lock = RwLock::new(0);
    let held = lock.try_read().unwrap();
    let writer = Handle::pending(lock.write());
    let mut reader = Handle::pending(lock.read());
    drop(held);
    assert_eq!(writer.wakes(), 1, "handed the lock");
    assert_eq!(reader.wakes(), 0);
    drop(writer); // never ran
    assert_eq!(reader.wakes(), 1);
    drop(reader.ready());
    assert!(lock.try_write().is_some());
}

#[test]
fn a_reader_dropped_after_the_hand_off_gives_its_share_back() {
    let lock = RwLock::new(0);
    let w = lock.try_write().unwrap();
    let reader = Handle::pending(lock.read());
    let mut writer = Handle::pending(lock.write());
    drop(w);
    assert_eq!((reader.wakes(), writer.wakes()), (1, 0));
    drop(reader);
    assert_eq!(writer.wakes(), 1);
    drop(writer.ready());
}

#[test]
fn downgrade_lets_readers_in_but_not_writers() {
    let lock = RwLock::new(0);
    let mut w = lock.try_write().unwrap();
    let mut r = Handle::pending(lock.read());
    let mut w2 = Handle::pending(lock.write());
    *w = 9;
    let read = RwLockWriteGuard::downgrade(w);
    assert_eq!(r.wakes(), 1);
    assert_eq!(*r.ready(), 9);
    assert_eq!(*read, 9);
    assert_eq!(w2.wakes(), 0);
    drop(read);
    assert_eq!(w2.wakes(), 1);
    drop(w2.ready());
    assert!(lock.try_write().is_some(), "every permit came back");
}

#[test]
fn send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let lock = RwLock::new(String::new());
    send_sync(&lock);
    send(&lock.read());
    send(&lock.write());
    send_sync(&lock.try_read().unwrap());
    send_sync(&lock.try_write());
}

#[test]
fn readers_never_see_a_half_done_write_under_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let lock = Arc::new(RwLock::new((0u64, 0u64)));
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let lock = lock.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..300 {
                    let mut w = lock.write().await;
                    w.0 += 1;
                    tokio::task::yield_now().await; // held across an await
                    w.1 += 1;
                }
            }));
        }
        for _ in 0..8 {
            let lock = lock.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..300 {
                    let r = lock.read().await;
                    assert_eq!(r.0, r.1, "a reader saw a write in progress");
                    tokio::task::yield_now().await;
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(*lock.try_read().unwrap(), (1200, 1200));
}
