//! loom models of the queues: a bounded(1) producer and consumers with a
//! getter future dropped mid-way (its reserved item must pass on, never be
//! lost), and a put racing a shutdown and a get (no item lost or duplicated,
//! the put either done or failed with its item back), and a waiting putter
//! dropped while a get makes room (its item put exactly once or dropped).

use std::future::Future;
use std::pin::pin;
use std::sync::Mutex as StdMutex;
use std::task::{Context, Poll, Wake, Waker};

use corio_sync::{Queue, QueueShutDown, TryGetError};
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

struct Noop;

impl Wake for Noop {
    fn wake(self: std::sync::Arc<Self>) {}
}

fn noop_waker() -> Waker {
    Waker::from(std::sync::Arc::new(Noop))
}

/// Polls a fresh `get()` once (a waiter that may get queued, then woken
/// with an item reserved for it by the other thread) and drops it.
fn get_once_then_drop(queue: &Queue<u32>) -> Option<u32> {
    let mut get = pin!(queue.get());
    match get.as_mut().poll(&mut Context::from_waker(&noop_waker())) {
        Poll::Ready(item) => Some(item.unwrap()),
        Poll::Pending => {
            thread::yield_now();
            None
        }
    }
}

#[test]
fn bounded_one_consumer_drops_a_get_mid_way() {
    loom::model(|| {
        let queue = Arc::new(Queue::new(1));
        let producer = {
            let queue = queue.clone();
            thread::spawn(move || {
                for i in 1..=2 {
                    block_on(queue.put(i)).unwrap();
                }
            })
        };
        let mut got: Vec<u32> = get_once_then_drop(&queue).into_iter().collect();
        while got.len() < 2 {
            got.push(block_on(queue.get()).unwrap());
        }
        producer.join().unwrap();
        assert_eq!(got, [1, 2], "nothing lost, FIFO kept");
        assert_eq!(queue.get_nowait(), Err(TryGetError::Empty));
    });
}

#[test]
fn bounded_two_consumers_one_drops_its_get() {
    loom::model(|| {
        let queue = Arc::new(Queue::new(1));
        let dropper = {
            let queue = queue.clone();
            thread::spawn(move || get_once_then_drop(&queue))
        };
        let consumer = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.get()).unwrap())
        };
        for i in 1..=2 {
            block_on(queue.put(i)).unwrap();
        }
        let mut got = vec![consumer.join().unwrap()];
        got.extend(dropper.join().unwrap());
        while let Ok(item) = queue.get_nowait() {
            got.push(item);
        }
        got.sort_unstable();
        assert_eq!(got, [1, 2], "each item got exactly once");
    });
}

/// An item that logs its drop, to count every item exactly once.
struct Tracked(u32, std::sync::Arc<StdMutex<Vec<u32>>>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.1.lock().unwrap().push(self.0);
    }
}

fn put_races_shutdown(immediate: bool) {
    loom::model(move || {
        let dropped = std::sync::Arc::new(StdMutex::new(Vec::new()));
        let queue = Arc::new(Queue::new(1));
        queue.put_nowait(Tracked(0, dropped.clone())).unwrap();
        let putter = {
            let (queue, dropped) = (queue.clone(), dropped.clone());
            thread::spawn(move || {
                block_on(queue.put(Tracked(1, dropped))).map_err(|QueueShutDown(item)| item.0)
            })
        };
        let getter = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.get()).ok().map(|item| item.0))
        };
        queue.shutdown(immediate);
        let put = putter.join().unwrap();
        let got = getter.join().unwrap();
        let left: Vec<u32> =
            std::iter::from_fn(|| queue.get_nowait().ok().map(|item| item.0)).collect();
        assert_eq!(
            queue.get_nowait().map(|item| item.0),
            Err(TryGetError::ShutDown)
        );
        if !immediate {
            assert_eq!(got, Some(0), "a plain shutdown lets gets drain");
        }
        match put {
            // Done: the item went in (the get made room before the shutdown).
            Ok(()) => {
                assert!(got == Some(1) || left.contains(&1) || immediate);
                if !immediate {
                    assert_eq!(left, [1]);
                }
            }
            // Failed: the item came back, and is nowhere in the queue.
            Err(item) => {
                assert_eq!(item, 1);
                assert!(!left.contains(&1) && got != Some(1));
            }
        }
        drop(queue);
        // Every item dropped exactly once: none lost, none duplicated.
        let mut dropped = dropped.lock().unwrap().clone();
        dropped.sort_unstable();
        assert_eq!(dropped, [0, 1]);
    });
}

#[test]
fn put_races_plain_shutdown_and_a_get() {
    put_races_shutdown(false);
}

#[test]
fn put_races_immediate_shutdown_and_a_get() {
    put_races_shutdown(true);
}

#[test]
fn waiting_putter_dropped_races_a_get() {
    loom::model(|| {
        let dropped = std::sync::Arc::new(StdMutex::new(Vec::new()));
        let queue = Arc::new(Queue::new(1));
        queue.put_nowait(Tracked(0, dropped.clone())).unwrap();
        let putter = {
            let (queue, dropped) = (queue.clone(), dropped.clone());
            thread::spawn(move || {
                let mut put = pin!(queue.put(Tracked(1, dropped)));
                let polled = put.as_mut().poll(&mut Context::from_waker(&noop_waker()));
                thread::yield_now();
                polled.is_ready()
            })
        };
        let got = block_on(queue.get()).unwrap();
        assert_eq!(got.0, 0);
        drop(got);
        let ready_at_once = putter.join().unwrap();
        // Taken before draining: draining drops the items it takes.
        let dropped_now = dropped.lock().unwrap().clone();
        let left: Vec<u32> =
            std::iter::from_fn(|| queue.get_nowait().ok().map(|item| item.0)).collect();
        // The put either happened (item 1 in the queue, not dropped) or its
        // item went with the dropped future; never both, never neither.
        assert_eq!(left.contains(&1), !dropped_now.contains(&1));
        if ready_at_once {
            assert_eq!(left, [1]);
        }
        drop(queue);
        let mut dropped = dropped.lock().unwrap().clone();
        dropped.sort_unstable();
        assert_eq!(dropped, [0, 1]);
    });
}
