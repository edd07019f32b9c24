//! loom models of the channel halves and `watch`: the last sender dropping
//! while the receiver waits (the items drain, then `None`: no hang, no loss),
//! the receiver dropping while a sender waits for room (the item is either
//! delivered, dropped with the channel or handed back, exactly once), a
//! watch send-then-drop racing `changed()` (the receiver ends on the last
//! value), and broadcast sends racing a receiver's `recv` and another
//! receiver dropping out (every value read or counted as missed, then
//! `Closed`).

use std::sync::atomic::{AtomicUsize, Ordering};

use corio_sync::{channel, SendError};
use loom::future::block_on;
use loom::thread;

/// An item that counts its drops (std atomics: loom runs one thread at a
/// time, so they only tally).
struct Tracked(u32, std::sync::Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn last_sender_drop_races_a_waiting_recv() {
    loom::model(|| {
        let (tx, mut rx) = channel(1);
        let producer = {
            let tx = tx.clone();
            thread::spawn(move || {
                block_on(tx.send(1u32)).unwrap();
            })
        };
        drop(tx);
        let mut got = Vec::new();
        while let Some(item) = block_on(rx.recv()) {
            got.push(item);
        }
        producer.join().unwrap();
        assert_eq!(got, [1], "drained, then the end");
    });
}

#[test]
fn receiver_drop_races_a_waiting_send() {
    loom::model(|| {
        let drops = std::sync::Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = channel(1);
        tx.try_send(Tracked(1, drops.clone())).unwrap();
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || match block_on(tx.send(Tracked(2, drops))) {
                Ok(()) => None,
                Err(SendError(back)) => Some(back.0),
            })
        };
        // Maybe take one item (making room for the waiting sender), then go.
        let first = rx.try_recv().ok().map(|item| item.0);
        drop(rx);
        let handed_back = sender.join().unwrap();
        assert!(matches!(first, None | Some(1)));
        if handed_back.is_some() {
            assert_eq!(handed_back, Some(2));
        }
        // Every item dropped exactly once, wherever it ended up.
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn watch_send_and_drop_race_changed() {
    loom::model(|| {
        let (tx, mut rx) = corio_sync::watch(0u32);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            drop(tx);
        });
        while block_on(rx.changed()).is_ok() {}
        assert_eq!(*rx.borrow(), 1, "ends on the last value");
        sender.join().unwrap();
    });
}

#[test]
fn broadcast_sends_and_a_dropping_receiver_race_recv() {
    loom::model(|| {
        let (tx, mut rx) = corio_sync::broadcast(1);
        let other = tx.subscribe();
        let sender = thread::spawn(move || {
            for i in 0..2u32 {
                tx.send(i).unwrap();
            }
        });
        let dropper = thread::spawn(move || drop(other));
        let (mut got, mut missed) = (Vec::new(), 0);
        loop {
            match block_on(rx.recv()) {
                Ok(value) => got.push(value),
                Err(corio_sync::broadcast::RecvError::Lagged(n)) => missed += n,
                Err(corio_sync::broadcast::RecvError::Closed) => break,
            }
        }
        sender.join().unwrap();
        dropper.join().unwrap();
        assert_eq!(got.last(), Some(&1), "the last value always arrives");
        assert_eq!(
            got.len() as u64 + missed,
            2,
            "each value read or counted as missed"
        );
    });
}
