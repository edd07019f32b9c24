//! `channel` / `unbounded_channel`: FIFO delivery, the end of the stream when
//! the last sender drops (items drain first), sends failing with their item
//! once the receiver is gone or closed, FIFO senders on a full channel, and
//! cancel safety of both `send` and `recv`, futures polled by hand where the
//! interleaving matters and tokio tasks for the rest.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use corio_sync::{channel, unbounded_channel, SendError, TryRecvError, TrySendError};

use crate::queue_support::Handle;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// An item that counts how many of its kind were dropped.
#[derive(Debug)]
struct Tracked(u32, Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn items_arrive_in_order_then_none_after_the_last_sender() {
    let (tx, mut rx) = channel(16);
    let tx2 = tx.clone();
    assert!(tx.same_channel(&tx2));
    assert_eq!(rx.sender_count(), 2);
    for i in 0..5 {
        tx.try_send(i).unwrap();
    }
    tx2.try_send(5).unwrap();
    drop(tx);
    assert!(!rx.is_closed(), "one sender is left");
    assert_eq!(rx.try_recv(), Ok(0));
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.sender_count(), 0);
    runtime().block_on(async {
        let mut rest = Vec::new();
        while let Some(i) = rx.recv().await {
            rest.push(i);
        }
        assert_eq!(rest, [1, 2, 3, 4, 5]);
        assert_eq!(rx.recv().await, None, "the end is final");
    });
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_waiting_receiver_is_woken_by_the_last_sender_dropping() {
    let (tx, mut rx) = channel::<u8>(4);
    let mut recv = Handle::pending(rx.recv());
    let clone = tx.clone();
    drop(tx);
    assert_eq!(recv.wakes(), 0, "a sender is left");
    drop(clone);
    assert_eq!(recv.wakes(), 1);
    assert_eq!(recv.ready(), None);
}

#[test]
fn dropping_the_receiver_fails_sends_and_drops_what_was_left() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel(2);
    tx.try_send(Tracked(1, drops.clone())).unwrap();
    tx.try_send(Tracked(2, drops.clone())).unwrap();
    // A sender waiting for room.
    let mut waiting = Handle::pending(tx.send(Tracked(3, drops.clone())));
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(
        drops.load(Ordering::SeqCst),
        2,
        "the items left are dropped"
    );
    assert_eq!(waiting.wakes(), 1);
    let SendError(back) = waiting.ready().unwrap_err();
    assert_eq!(back.0, 3, "the waiting sender gets its item back");
    drop(back);
    let err = tx.try_send(Tracked(4, drops.clone())).unwrap_err();
    assert!(err.is_closed());
    assert_eq!(err.into_inner().0, 4);
    let err = runtime()
        .block_on(tx.send(Tracked(5, drops.clone())))
        .unwrap_err();
    assert_eq!(err.into_inner().0, 5);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        5,
        "nothing lost, nothing kept"
    );
}

#[test]
fn an_item_dropped_with_the_receiver_may_use_the_channel() {
    // Re-entrancy: an item's Drop runs while the receiver is being dropped,
    // and sends on the same channel; it must fail, not deadlock.
    struct SendsOnDrop(
        corio_sync::Sender<Option<SendsOnDrop>>,
        Arc<Mutex<Vec<bool>>>,
    );
    impl Drop for SendsOnDrop {
        fn drop(&mut self) {
            let failed = self.0.try_send(None).is_err();
            self.1.lock().unwrap().push(failed);
        }
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = channel(4);
    tx.try_send(Some(SendsOnDrop(tx.clone(), log.clone())))
        .unwrap();
    drop(rx);
    assert_eq!(*log.lock().unwrap(), [true]);
}

#[test]
fn senders_on_a_full_channel_wait_in_fifo_order() {
    let (tx, mut rx) = channel(1);
    tx.try_send("a").unwrap();
    let mut b = Handle::pending(tx.send("b"));
    let mut c = Handle::pending(tx.send("c"));
    let mut d = Handle::pending(tx.send("d"));
    // try_send does not overtake waiting senders.
    assert_eq!(tx.try_send("x"), Err(TrySendError::Full("x")));
    assert_eq!(rx.try_recv(), Ok("a"));
    // The receive moved b's item in on its behalf and woke b only.
    assert_eq!((b.wakes(), c.wakes(), d.wakes()), (1, 0, 0));
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv(), Ok("b"));
    assert_eq!(rx.try_recv(), Ok("c"));
    assert_eq!(rx.try_recv(), Ok("d"));
    assert_eq!((c.wakes(), d.wakes()), (1, 1));
    assert!(b.ready().is_ok() && c.ready().is_ok() && d.ready().is_ok());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_dropped_send_gives_its_place_back() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = channel(1);
    tx.try_send(Tracked(0, drops.clone())).unwrap();
    let mut a = Handle::pending(tx.send(Tracked(1, drops.clone())));
    let b = Handle::pending(tx.send(Tracked(2, drops.clone())));
    let mut c = Handle::pending(tx.send(Tracked(3, drops.clone())));
    drop(b);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "its item goes with it");
    assert_eq!(rx.try_recv().unwrap().0, 0);
    assert_eq!(rx.try_recv().unwrap().0, 1);
    assert_eq!(rx.try_recv().unwrap().0, 3, "c moved up into b's place");
    assert!(a.ready().is_ok() && c.ready().is_ok());
}

#[test]
fn a_send_dropped_after_its_item_went_in_keeps_it_sent() {
    let (tx, mut rx) = channel(1);
    tx.try_send(1).unwrap();
    let sent = Handle::pending(tx.send(2));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(sent.wakes(), 1);
    drop(sent); // woken with the put done, never polled
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn a_dropped_recv_loses_no_item() {
    let (tx, mut rx) = channel(4);
    {
        let recv = Handle::pending(rx.recv());
        tx.try_send("kept").unwrap();
        assert_eq!(recv.wakes(), 1, "promised the item");
        // Dropped before it ran: the item stays first in line.
    }
    tx.try_send("next").unwrap();
    assert_eq!(rx.try_recv(), Ok("kept"));
    assert_eq!(rx.try_recv(), Ok("next"));
    // Dropped while waiting: no trace.
    drop(Handle::pending(rx.recv()));
    tx.try_send("after").unwrap();
    assert_eq!(rx.try_recv(), Ok("after"));
}

#[test]
fn recv_in_a_select_loop_loses_nothing() {
    // The pattern recv's cancel safety is for: racing recv against another
    // branch, dropping it whenever the other one wins.
    runtime().block_on(async {
        let (tx, mut rx) = channel(2);
        let producer = tokio::spawn(async move {
            for i in 0..200u32 {
                tx.send(i).await.unwrap();
                if i % 3 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        });
        let mut got = Vec::new();
        let mut ticks = 0;
        loop {
            tokio::select! {
                item = rx.recv() => match item {
                    Some(i) => got.push(i),
                    None => break,
                },
                () = tokio::task::yield_now() => ticks += 1,
            }
        }
        producer.await.unwrap();
        assert_eq!(got, (0..200).collect::<Vec<_>>());
        assert!(ticks > 0, "the other branch won sometimes");
    });
}

#[test]
fn close_fails_sends_but_drains() {
    let (tx, mut rx) = channel(4);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    rx.close();
    assert!(rx.is_closed() && tx.is_closed());
    assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    assert_eq!(runtime().block_on(tx.send(4)), Err(SendError(4)));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(runtime().block_on(rx.recv()), Some(2));
    assert_eq!(runtime().block_on(rx.recv()), None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn closed_waits_for_the_receiver() {
    let (tx, rx) = channel::<u8>(1);
    let mut closed = Handle::pending(tx.closed());
    drop(rx);
    assert_eq!(closed.wakes(), 1);
    closed.ready();
    // Ready at once afterwards.
    Handle::new(tx.closed()).ready();
}

#[test]
fn unbounded_never_waits() {
    let (tx, mut rx) = unbounded_channel();
    assert_eq!(tx.max_capacity(), None);
    runtime().block_on(async {
        for i in 0..10_000 {
            tx.send(i).await.unwrap();
        }
    });
    assert_eq!(rx.len(), 10_000);
    assert_eq!(rx.try_recv(), Ok(0));
    let (bounded, _rx) = channel::<u8>(3);
    assert_eq!(bounded.max_capacity(), Some(3));
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn zero_capacity_panics() {
    let _ = channel::<u8>(0);
}

#[test]
fn errors_and_debug() {
    assert_eq!(SendError(5).into_inner(), 5);
    assert_eq!(TrySendError::from(SendError(5)), TrySendError::Closed(5));
    assert!(TrySendError::Full(1).is_full() && !TrySendError::Full(1).is_closed());
    assert_eq!(format!("{:?}", SendError(vec![1])), "SendError(..)");
    assert_eq!(format!("{:?}", TrySendError::Full(1)), "Full(..)");
    assert_eq!(
        SendError(()).to_string(),
        "channel closed: the receiver is gone"
    );
    assert_eq!(TrySendError::Full(()).to_string(), "channel is full");
    assert_eq!(TryRecvError::Empty.to_string(), "channel is empty");
    assert_eq!(
        TryRecvError::Disconnected.to_string(),
        "channel is empty and closed"
    );
    let (tx, rx) = channel::<u8>(2);
    tx.try_send(1).unwrap();
    assert_eq!(
        format!("{tx:?}"),
        "Sender { max_capacity: Some(2), len: 1, closed: false }"
    );
    assert_eq!(format!("{rx:?}"), "Receiver { len: 1, closed: false }");
    assert!(!rx.is_empty());
}

#[test]
fn send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let (tx, mut rx) = channel::<String>(1);
    send_sync(&tx);
    send_sync(&rx);
    send(&tx.send(String::new()));
    send(&tx.closed());
    send(&rx.recv());
}

#[test]
fn many_senders_under_a_multi_threaded_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, mut rx) = channel(3);
        for sender in 0..8u32 {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..500u32 {
                    tx.send((sender, i)).await.unwrap();
                }
            });
        }
        drop(tx);
        let mut next = [0u32; 8];
        let mut count = 0;
        while let Some((sender, i)) = rx.recv().await {
            assert_eq!(next[sender as usize], i, "each sender's items in order");
            next[sender as usize] += 1;
            count += 1;
        }
        assert_eq!(count, 8 * 500);
    });
}
