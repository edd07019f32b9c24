//! `broadcast`: every receiver sees every value sent after it subscribed, in
//! order; a receiver more than `capacity` behind gets `Lagged(n)` and skips
//! to the oldest value held; `Closed` only after the last value; values are
//! dropped once every receiver has read them (or dropped out), cloned only
//! for the readers before the last; `recv` is cancel-safe.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use corio_sync::broadcast::{RecvError, SendError, TryRecvError};

use crate::queue_support::Handle;

/// A value that counts its clones and drops.
#[derive(Debug)]
struct Counted {
    id: u32,
    clones: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        self.clones.fetch_add(1, Ordering::SeqCst);
        Counted {
            id: self.id,
            clones: self.clones.clone(),
            drops: self.drops.clone(),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn every_receiver_sees_every_value_in_order() {
    let (tx, mut a) = corio_sync::broadcast(8);
    let mut b = tx.subscribe();
    assert_eq!(tx.receiver_count(), 2);
    for i in 0..5 {
        assert_eq!(tx.send(i), Ok(2));
    }
    let mut late = b.resubscribe();
    tx.send(5).unwrap();
    assert_eq!(a.len(), 6);
    let read = |rx: &mut corio_sync::broadcast::Receiver<i32>| {
        std::iter::from_fn(|| rx.try_recv().ok()).collect::<Vec<_>>()
    };
    assert_eq!(read(&mut a), [0, 1, 2, 3, 4, 5]);
    assert_eq!(read(&mut b), [0, 1, 2, 3, 4, 5]);
    assert_eq!(read(&mut late), [5], "only what came after it");
    assert!(a.is_empty());
    assert_eq!(a.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_lagging_receiver_is_told_and_skips_ahead() {
    let (tx, mut slow) = corio_sync::broadcast(3);
    let mut fast = tx.subscribe();
    for i in 0..5 {
        tx.send(i).unwrap();
        assert_eq!(fast.try_recv(), Ok(i));
    }
    assert_eq!(slow.len(), 3, "only capacity values are kept");
    assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(2)));
    assert_eq!(slow.try_recv(), Ok(2));
    // Lagging again while waiting in recv.
    let mut waiting = Handle::new(slow.recv());
    assert_eq!(waiting.ready(), Ok(3));
    drop(waiting);
    assert_eq!(slow.try_recv(), Ok(4));
    for i in 5..10 {
        tx.send(i).unwrap();
    }
    assert_eq!(Handle::new(slow.recv()).ready(), Err(RecvError::Lagged(2)));
    assert_eq!(Handle::new(slow.recv()).ready(), Ok(7));
}

#[test]
fn closed_comes_after_the_last_value() {
    let (tx, mut rx) = corio_sync::broadcast(4);
    let tx2 = tx.clone();
    assert!(tx.same_channel(&tx2));
    tx.send(1).unwrap();
    drop(tx);
    let mut waiting = Handle::new(rx.recv());
    assert_eq!(waiting.ready(), Ok(1));
    drop(waiting);
    let mut waiting = Handle::pending(rx.recv());
    drop(tx2);
    assert_eq!(waiting.wakes(), 1);
    assert_eq!(waiting.ready(), Err(RecvError::Closed));
    drop(waiting);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn send_without_receivers_gives_the_value_back() {
    let (tx, rx) = corio_sync::broadcast(2);
    drop(rx);
    assert_eq!(tx.send("x"), Err(SendError("x")));
    assert_eq!(SendError(1).into_inner(), 1);
    let mut rx = tx.subscribe();
    tx.send("y").unwrap();
    assert_eq!(rx.try_recv(), Ok("y"));
}

#[test]
fn every_waiting_receiver_wakes_on_a_send() {
    let (tx, rx) = corio_sync::broadcast(2);
    let mut receivers = [rx.resubscribe(), rx.resubscribe(), rx];
    let mut waits: Vec<_> = receivers
        .iter_mut()
        .map(|rx| Handle::pending(rx.recv()))
        .collect();
    tx.send(9).unwrap();
    for wait in &mut waits {
        assert_eq!(wait.wakes(), 1);
        assert_eq!(wait.ready(), Ok(9));
    }
}

#[test]
fn a_dropped_recv_loses_nothing() {
    let (tx, mut rx) = corio_sync::broadcast(2);
    drop(Handle::pending(rx.recv())); // dropped while waiting
    {
        let waiting = Handle::pending(rx.recv());
        tx.send(1).unwrap();
        assert_eq!(waiting.wakes(), 1);
        // Woken by the send, dropped before it ran.
    }
    tx.send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn values_are_shared_cloned_for_all_but_the_last_reader_and_dropped_once_read() {
    let clones = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let value = |id| Counted {
        id,
        clones: clones.clone(),
        drops: drops.clone(),
    };
    let (tx, mut a) = corio_sync::broadcast(4);
    let mut b = tx.subscribe();
    tx.send(value(1)).unwrap();
    let first = a.try_recv().unwrap();
    assert_eq!(first.id, 1);
    assert_eq!(
        clones.load(Ordering::SeqCst),
        1,
        "a clone for the first reader"
    );
    let last = b.try_recv().unwrap();
    assert_eq!(clones.load(Ordering::SeqCst), 1, "the last reader takes it");
    drop((first, last));
    assert_eq!(drops.load(Ordering::SeqCst), 2);

    // A receiver dropping out releases what only it had left to read.
    tx.send(value(2)).unwrap();
    tx.send(value(3)).unwrap();
    assert_eq!(a.try_recv().unwrap().id, 2);
    assert_eq!(a.try_recv().unwrap().id, 3);
    let before = drops.load(Ordering::SeqCst);
    drop(b);
    assert_eq!(drops.load(Ordering::SeqCst), before + 2, "2 and 3 released");

    // An overwritten value is dropped at once.
    let (tx, _rx) = corio_sync::broadcast(1);
    let before = drops.load(Ordering::SeqCst);
    tx.send(value(4)).unwrap();
    tx.send(value(5)).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), before + 1);
    drop((tx, _rx));
    assert_eq!(drops.load(Ordering::SeqCst), before + 2);
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn zero_capacity_panics() {
    let _ = corio_sync::broadcast::<u8>(0);
}

#[test]
fn errors_and_debug() {
    assert_eq!(RecvError::Closed.to_string(), "broadcast channel closed");
    assert_eq!(
        RecvError::Lagged(3).to_string(),
        "broadcast receiver lagged behind by 3 values"
    );
    assert_eq!(
        TryRecvError::from(RecvError::Lagged(3)),
        TryRecvError::Lagged(3)
    );
    assert_eq!(
        TryRecvError::Empty.to_string(),
        "broadcast channel is empty"
    );
    assert_eq!(format!("{:?}", SendError(1)), "SendError(..)");
    let (tx, rx) = corio_sync::broadcast::<u8>(2);
    tx.send(1).unwrap();
    assert_eq!(format!("{tx:?}"), "broadcast::Sender { receivers: 1 }");
    assert_eq!(format!("{rx:?}"), "broadcast::Receiver { len: 1 }");
    assert!(rx.same_channel(&tx.subscribe()));
}

#[test]
fn send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let (tx, mut rx) = corio_sync::broadcast::<String>(2);
    send_sync(&tx);
    send_sync(&rx);
    send(&rx.recv());
}

#[test]
fn every_listener_gets_everything_under_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, rx) = corio_sync::broadcast(1024);
        let listeners: Vec<_> = (0..6)
            .map(|_| {
                let mut rx = rx.resubscribe();
                tokio::spawn(async move {
                    let mut sum = 0u64;
                    let mut count = 0;
                    loop {
                        match rx.recv().await {
                            Ok(v) => {
                                sum += v;
                                count += 1;
                            }
                            Err(RecvError::Closed) => break (sum, count),
                            Err(RecvError::Lagged(n)) => panic!("lagged by {n}"),
                        }
                    }
                })
            })
            .collect();
        drop(rx);
        let senders: Vec<_> = (0..2u64)
            .map(|s| {
                let tx = tx.clone();
                tokio::spawn(async move {
                    for i in 0..500 {
                        tx.send(s * 1000 + i).unwrap();
                        if i % 64 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        for sender in senders {
            sender.await.unwrap();
        }
        let expected: u64 = (0..500).sum::<u64>() * 2 + 1000 * 500;
        for listener in listeners {
            assert_eq!(listener.await.unwrap(), (expected, 1000));
        }
    });
}
