//! Unit tests of `Queue` (FIFO): asyncio 3.13's semantics, fairness and
//! cancel safety, futures polled by hand with recording wakers where the
//! exact interleaving matters, and tokio tasks for the rest.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use corio_sync::{Queue, QueueShutDown, TaskDoneError, TryGetError, TryPutError};

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
fn sizes_and_bounds() {
    let queue = Queue::new(2);
    assert_eq!(queue.maxsize(), 2);
    assert!(queue.is_empty() && !queue.is_full());
    queue.put_nowait(1).unwrap();
    assert_eq!(queue.qsize(), 1);
    queue.put_nowait(2).unwrap();
    assert!(queue.is_full() && !queue.is_empty());
    assert_eq!(queue.put_nowait(3), Err(TryPutError::Full(3)));
    assert_eq!(queue.qsize(), 2);

    let unbounded = Queue::new(0);
    for i in 0..10_000 {
        unbounded.put_nowait(i).unwrap();
    }
    assert!(!unbounded.is_full());
    assert_eq!(unbounded.qsize(), 10_000);
    assert_eq!(unbounded.maxsize(), 0);
    let default: Queue<u8> = Queue::default();
    assert_eq!(default.maxsize(), 0);
    assert_eq!(format!("{queue:?}"), "Queue { maxsize: 2, qsize: 2, .. }");
}

#[test]
fn fifo_order_and_empty() {
    let queue = Queue::new(0);
    assert_eq!(queue.get_nowait(), Err::<i32, _>(TryGetError::Empty));
    for i in 0..5 {
        queue.put_nowait(i).unwrap();
    }
    let out: Vec<_> = std::iter::from_fn(|| queue.get_nowait().ok()).collect();
    assert_eq!(out, [0, 1, 2, 3, 4]);
    assert_eq!(queue.get_nowait(), Err(TryGetError::Empty));
}

#[test]
fn errors_display_and_give_items_back() {
    assert_eq!(TryPutError::Full(5).into_inner(), 5);
    assert!(TryPutError::Full(5).is_full() && !TryPutError::Full(5).is_shut_down());
    assert!(TryPutError::ShutDown(5).is_shut_down());
    assert_eq!(
        TryPutError::from(QueueShutDown(7)),
        TryPutError::ShutDown(7)
    );
    assert_eq!(TryGetError::from(QueueShutDown(())), TryGetError::ShutDown);
    assert_eq!(QueueShutDown("x").into_inner(), "x");
    assert_eq!(TryPutError::Full(()).to_string(), "queue is full");
    assert_eq!(TryPutError::ShutDown(()).to_string(), "queue is shut down");
    assert_eq!(TryGetError::Empty.to_string(), "queue is empty");
    assert_eq!(QueueShutDown(()).to_string(), "queue is shut down");
    assert_eq!(
        TaskDoneError.to_string(),
        "task_done() called more times than items were put"
    );
    // Debug does not need T: Debug.
    struct Opaque;
    assert_eq!(format!("{:?}", TryPutError::Full(Opaque)), "Full(..)");
    let _: Box<dyn std::error::Error + Send + Sync> = Box::new(QueueShutDown(Opaque));
}

#[test]
fn send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync::<Queue<std::cell::Cell<u8>>>();
    assert_send_sync::<corio_sync::LifoQueue<String>>();
    assert_send_sync::<corio_sync::PriorityQueue<String>>();
    let queue = Queue::new(1);
    assert_send(&queue.put(String::new()));
    assert_send(&queue.get());
    assert_send(&queue.join());
}

#[test]
fn get_waits_while_empty_and_put_wakes_it() {
    let queue = Queue::new(0);
    let mut get = Handle::pending(queue.get());
    assert!(get.poll().is_pending(), "re-polling keeps waiting");
    assert_eq!(get.wakes(), 0);
    queue.put_nowait("a").unwrap();
    assert_eq!(get.wakes(), 1);
    assert_eq!(get.ready(), Ok("a"));
    assert!(queue.is_empty());
}

#[test]
fn put_waits_while_full_and_get_completes_it() {
    let queue = Queue::new(1);
    queue.put_nowait(1).unwrap();
    let mut put = Handle::pending(queue.put(2));
    assert_eq!(queue.qsize(), 1);
    assert_eq!(queue.get_nowait(), Ok(1));
    // The get moved the waiting putter's item in on its behalf.
    assert_eq!(put.wakes(), 1);
    assert_eq!(queue.qsize(), 1);
    assert_eq!(put.ready(), Ok(()));
    assert_eq!(queue.get_nowait(), Ok(2));
}

#[test]
fn getters_are_served_in_order_each_woken_once() {
    let queue = Queue::new(0);
    let mut getters: Vec<_> = (0..3).map(|_| Handle::pending(queue.get())).collect();
    queue.put_nowait(10).unwrap();
    assert_eq!(
        getters.iter().map(Handle::wakes).collect::<Vec<_>>(),
        [1, 0, 0]
    );
    queue.put_nowait(11).unwrap();
    queue.put_nowait(12).unwrap();
    assert_eq!(
        getters.iter().map(Handle::wakes).collect::<Vec<_>>(),
        [1, 1, 1]
    );
    let got: Vec<_> = getters.iter_mut().map(|g| g.ready().unwrap()).collect();
    assert_eq!(got, [10, 11, 12]);
    assert!(getters.iter().all(|g| g.wakes() == 1));
}

#[test]
fn waiting_getters_are_not_overtaken() {
    let queue = Queue::new(0);
    let mut first = Handle::pending(queue.get());
    queue.put_nowait("x").unwrap();
    // The item is promised to the waiting getter: counted, but not for the taking.
    assert_eq!(queue.qsize(), 1);
    assert_eq!(queue.get_nowait(), Err(TryGetError::Empty));
    let mut late = Handle::pending(queue.get());
    assert_eq!(first.ready(), Ok("x"));
    queue.put_nowait("y").unwrap();
    assert_eq!(late.ready(), Ok("y"));
}

#[test]
fn putters_are_served_in_order_each_woken_once() {
    let queue = Queue::new(1);
    queue.put_nowait(0).unwrap();
    let mut putters: Vec<_> = (1..=3).map(|i| Handle::pending(queue.put(i))).collect();
    // put_nowait does not overtake them (the queue is full while they wait).
    assert_eq!(queue.put_nowait(9), Err(TryPutError::Full(9)));
    let mut out = Vec::new();
    for (i, expected_wakes) in [[1, 0, 0], [1, 1, 0], [1, 1, 1]].into_iter().enumerate() {
        out.push(queue.get_nowait().unwrap());
        assert_eq!(
            putters.iter().map(Handle::wakes).collect::<Vec<_>>(),
            expected_wakes
        );
        assert_eq!(putters[i].ready(), Ok(()));
    }
    out.push(queue.get_nowait().unwrap());
    assert_eq!(out, [0, 1, 2, 3]);
    assert!(putters.iter().all(|p| p.wakes() == 1));
}

#[test]
fn getter_dropped_while_waiting_leaves_no_trace() {
    let queue = Queue::new(0);
    let first = Handle::pending(queue.get());
    let mut second = Handle::pending(queue.get());
    drop(first);
    queue.put_nowait(1).unwrap();
    assert_eq!(second.wakes(), 1);
    assert_eq!(second.ready(), Ok(1));
    // Nobody waits: the next item is free for the taking.
    queue.put_nowait(2).unwrap();
    assert_eq!(queue.get_nowait(), Ok(2));
}

#[test]
fn woken_getter_dropped_passes_its_item_to_the_next_getter() {
    let queue = Queue::new(0);
    let first = Handle::pending(queue.get());
    let mut second = Handle::pending(queue.get());
    queue.put_nowait("a").unwrap();
    assert_eq!((first.wakes(), second.wakes()), (1, 0));
    drop(first); // woken, never polled
    assert_eq!(second.wakes(), 1);
    assert_eq!(second.ready(), Ok("a"));
    assert!(queue.is_empty());
}

#[test]
fn woken_getter_dropped_puts_its_item_back_at_the_front() {
    let queue = Queue::new(0);
    let first = Handle::pending(queue.get());
    queue.put_nowait("a").unwrap();
    queue.put_nowait("b").unwrap();
    assert_eq!(first.wakes(), 1);
    assert_eq!(
        queue.get_nowait(),
        Ok("a"),
        "one item is free: get_nowait takes the oldest, the other stays promised"
    );
    drop(first);
    // The promise is gone: nothing lost, order kept.
    assert_eq!(queue.get_nowait(), Ok("b"));
    assert_eq!(queue.get_nowait(), Err(TryGetError::Empty));

    // The same with the dropped getter's item at the front.
    let first = Handle::pending(queue.get());
    queue.put_nowait("c").unwrap();
    queue.put_nowait("d").unwrap();
    drop(first);
    assert_eq!(queue.get_nowait(), Ok("c"));
    assert_eq!(queue.get_nowait(), Ok("d"));
}

#[test]
fn putter_dropped_while_waiting_drops_its_item_and_leaves_no_trace() {
    let drops = Arc::new(AtomicUsize::new(0));
    let queue = Queue::new(1);
    queue.put_nowait(Tracked(0, drops.clone())).unwrap();
    let first = Handle::pending(queue.put(Tracked(1, drops.clone())));
    let mut second = Handle::pending(queue.put(Tracked(2, drops.clone())));
    drop(first);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the item goes with the future"
    );
    assert_eq!(queue.get_nowait().unwrap().0, 0);
    assert_eq!(second.wakes(), 1);
    assert!(second.ready().is_ok());
    assert_eq!(queue.get_nowait().unwrap().0, 2);
    assert!(queue.is_empty());
}

#[test]
fn woken_putter_dropped_has_put_its_item() {
    let queue = Queue::new(1);
    queue.put_nowait(0).unwrap();
    let put = Handle::pending(queue.put(1));
    assert_eq!(queue.get_nowait(), Ok(0));
    assert_eq!(put.wakes(), 1);
    drop(put); // woken, never polled: the put was already done
    assert_eq!(queue.get_nowait(), Ok(1));
    assert_eq!(queue.task_done(), Ok(()));
    assert_eq!(queue.task_done(), Ok(()));
    assert_eq!(queue.task_done(), Err(TaskDoneError));
}

#[test]
fn get_that_frees_room_hands_the_putters_item_to_the_next_getter() {
    // maxsize 1, the only item promised to a woken getter, a second getter
    // and a putter both waiting: when the first getter takes its item, the
    // putter's item goes in and is promised to the second getter.
    let queue = Queue::new(1);
    let mut first = Handle::pending(queue.get());
    queue.put_nowait(1).unwrap();
    let mut second = Handle::pending(queue.get());
    let mut put = Handle::pending(queue.put(2));
    assert_eq!(first.ready(), Ok(1));
    assert_eq!((put.wakes(), second.wakes()), (1, 1));
    assert_eq!(put.ready(), Ok(()));
    assert_eq!(queue.get_nowait(), Err(TryGetError::Empty));
    assert_eq!(second.ready(), Ok(2));
}

#[test]
fn task_done_and_join() {
    let queue = Queue::new(0);
    assert_eq!(queue.task_done(), Err(TaskDoneError));
    Handle::new(queue.join()).ready(); // nothing unfinished: at once
    queue.put_nowait(1).unwrap();
    queue.put_nowait(2).unwrap();
    let mut joiners: Vec<_> = (0..3).map(|_| Handle::pending(queue.join())).collect();
    drop(joiners.remove(1)); // a dropped joiner leaves no trace
    queue.get_nowait().unwrap();
    queue.get_nowait().unwrap();
    assert!(
        joiners.iter().all(|j| j.wakes() == 0),
        "getting is not finishing"
    );
    queue.task_done().unwrap();
    assert!(joiners.iter_mut().all(|j| j.poll().is_pending()));
    queue.task_done().unwrap();
    assert!(joiners.iter().all(|j| j.wakes() == 1));
    joiners.iter_mut().for_each(|j| j.ready());
    assert_eq!(queue.task_done(), Err(TaskDoneError));
    Handle::new(queue.join()).ready();
}

#[test]
fn join_counts_items_put_by_waiting_putters() {
    let queue = Queue::new(1);
    queue.put_nowait(1).unwrap();
    let mut put = Handle::pending(queue.put(2));
    queue.get_nowait().unwrap();
    queue.task_done().unwrap();
    // The putter's item went in on its behalf: still unfinished.
    let mut join = Handle::pending(queue.join());
    assert_eq!(put.ready(), Ok(()));
    queue.get_nowait().unwrap();
    queue.task_done().unwrap();
    assert_eq!(join.wakes(), 1);
    join.ready();
}

#[test]
fn shutdown_fails_puts_and_lets_gets_drain() {
    let queue = Queue::new(2);
    queue.put_nowait(1).unwrap();
    queue.put_nowait(2).unwrap();
    let mut putter = Handle::pending(queue.put(3));
    let mut join = Handle::pending(queue.join());
    queue.shutdown(false);
    assert!(queue.is_shut_down());
    assert_eq!(putter.wakes(), 1);
    assert_eq!(
        putter.ready(),
        Err(QueueShutDown(3)),
        "the waiting putter gets its item back"
    );
    assert_eq!(queue.put_nowait(4), Err(TryPutError::ShutDown(4)));
    assert_eq!(Handle::new(queue.put(5)).ready(), Err(QueueShutDown(5)));
    assert_eq!(queue.qsize(), 2);
    // Gets drain what is left, then fail.
    assert_eq!(Handle::new(queue.get()).ready(), Ok(1));
    assert_eq!(queue.get_nowait(), Ok(2));
    assert_eq!(queue.get_nowait(), Err(TryGetError::ShutDown));
    assert_eq!(Handle::new(queue.get()).ready(), Err(QueueShutDown(())));
    // A non-immediate shutdown does not release join: the items were not done.
    assert_eq!(join.wakes(), 0);
    queue.task_done().unwrap();
    queue.task_done().unwrap();
    assert_eq!(join.wakes(), 1);
    join.ready();
    queue.shutdown(false); // again: harmless
}

#[test]
fn shutdown_fails_waiting_getters() {
    let queue = Queue::<u8>::new(0);
    let mut getters: Vec<_> = (0..2).map(|_| Handle::pending(queue.get())).collect();
    queue.shutdown(false);
    for getter in &mut getters {
        assert_eq!(getter.wakes(), 1);
        assert_eq!(getter.ready(), Err(QueueShutDown(())));
    }
}

#[test]
fn woken_getter_keeps_its_item_through_a_plain_shutdown() {
    let queue = Queue::new(0);
    let mut getter = Handle::pending(queue.get());
    queue.put_nowait(1).unwrap();
    queue.shutdown(false);
    assert_eq!(getter.wakes(), 1);
    assert_eq!(getter.ready(), Ok(1));
}

#[test]
fn immediate_shutdown_empties_the_queue_and_releases_join() {
    let drops = Arc::new(AtomicUsize::new(0));
    let queue = Queue::new(2);
    for i in 0..2 {
        queue.put_nowait(Tracked(i, drops.clone())).unwrap();
    }
    let mut putter = Handle::pending(queue.put(Tracked(9, drops.clone())));
    let mut join = Handle::pending(queue.join());
    queue.shutdown(true);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        2,
        "the queued items were dropped"
    );
    assert!(queue.is_empty());
    assert!(matches!(putter.ready(), Err(QueueShutDown(Tracked(9, _)))));
    assert_eq!(join.wakes(), 1, "the removed items count as done");
    join.ready();
    assert_eq!(queue.task_done(), Err(TaskDoneError));
    assert!(matches!(queue.get_nowait(), Err(TryGetError::ShutDown)));
}

#[test]
fn immediate_shutdown_keeps_join_while_got_items_are_unfinished() {
    let queue = Queue::new(0);
    queue.put_nowait(1).unwrap();
    queue.put_nowait(2).unwrap();
    queue.get_nowait().unwrap(); // got, not yet done
    let mut join = Handle::pending(queue.join());
    queue.shutdown(true);
    assert_eq!(join.wakes(), 0, "one item is still being worked on");
    queue.task_done().unwrap();
    join.ready();
}

#[test]
fn immediate_shutdown_fails_woken_getters_too() {
    let queue = Queue::new(0);
    let mut woken = Handle::pending(queue.get());
    let passed_on = Handle::pending(queue.get());
    let dropped_woken = Handle::pending(queue.get());
    let mut heir = Handle::pending(queue.get());
    for i in 1..=3 {
        queue.put_nowait(i).unwrap();
    }
    assert_eq!(
        [
            woken.wakes(),
            passed_on.wakes(),
            dropped_woken.wakes(),
            heir.wakes()
        ],
        [1, 1, 1, 0]
    );
    drop(passed_on); // its promise passes to the last getter
    assert_eq!(heir.wakes(), 1);
    let mut waiting = Handle::pending(queue.get());
    queue.shutdown(true);
    assert_eq!(waiting.wakes(), 1);
    assert_eq!(waiting.ready(), Err(QueueShutDown(())));
    // The promised items were thrown away with the rest.
    assert_eq!(woken.ready(), Err(QueueShutDown(())));
    drop(dropped_woken); // a voided promise: nothing to pass on
    assert_eq!(heir.ready(), Err(QueueShutDown(())));
    assert_eq!(queue.get_nowait(), Err(TryGetError::ShutDown));
    assert_eq!(queue.qsize(), 0);
}

#[test]
fn items_are_dropped_outside_the_lock() {
    // An item whose Drop uses the queue would deadlock if dropped under its lock.
    struct Reentrant(Arc<Queue<Reentrant>>);
    impl Drop for Reentrant {
        fn drop(&mut self) {
            let _ = self.0.qsize();
            let _ = self.0.is_full();
        }
    }
    let queue = Arc::new(Queue::new(1));
    queue.put_nowait(Reentrant(queue.clone())).unwrap();
    let put = Handle::pending(queue.put(Reentrant(queue.clone())));
    drop(put); // waiting putter dropped
    assert!(queue.put_nowait(Reentrant(queue.clone())).is_err()); // error dropped
    let mut put = Handle::pending(queue.put(Reentrant(queue.clone())));
    queue.shutdown(true); // drains
    drop(put.ready()); // the item comes back in the error
    assert!(queue.is_empty());
}

#[test]
#[should_panic(expected = "after completion")]
fn polling_after_completion_panics() {
    let queue = Queue::new(0);
    queue.put_nowait(1).unwrap();
    let mut get = Handle::new(queue.get());
    assert_eq!(get.ready(), Ok(1));
    let _ = get.poll();
}

#[test]
fn workers_task_done_and_join_on_tokio() {
    runtime().block_on(async {
        let queue = Arc::new(Queue::new(4));
        let done = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let (queue, done) = (queue.clone(), done.clone());
                tokio::spawn(async move {
                    while let Ok(job) = queue.get().await {
                        tokio::task::yield_now().await;
                        done.fetch_add(job, Ordering::SeqCst);
                        queue.task_done().unwrap();
                    }
                })
            })
            .collect();
        for job in 1..=100 {
            queue.put(job).await.unwrap();
        }
        queue.join().await;
        assert_eq!(done.load(Ordering::SeqCst), 5050);
        queue.shutdown(false);
        for worker in workers {
            worker.await.unwrap();
        }
    });
}

#[test]
fn spawned_getters_are_served_in_order_on_tokio() {
    runtime().block_on(async {
        let queue = Arc::new(Queue::new(0));
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for id in 0..5 {
            let (queue, order) = (queue.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let item = queue.get().await.unwrap();
                order.lock().unwrap().push((id, item));
            }));
            tokio::task::yield_now().await; // let it start waiting
        }
        for item in 0..5 {
            queue.put(item * 10).await.unwrap();
        }
        for task in tasks {
            task.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        assert_eq!(order, [(0, 0), (1, 10), (2, 20), (3, 30), (4, 40)]);
    });
}

#[test]
fn bounded_producers_and_consumers_across_threads() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    runtime.block_on(async {
        let queue = Arc::new(Queue::new(8));
        let producers: Vec<_> = (0..4u64)
            .map(|p| {
                let queue = queue.clone();
                tokio::spawn(async move {
                    for i in 0..2_000 {
                        queue.put(p * 1_000_000 + i).await.unwrap();
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let queue = queue.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    while let Ok(item) = queue.get().await {
                        got.push(item);
                    }
                    got
                })
            })
            .collect();
        for producer in producers {
            producer.await.unwrap();
        }
        queue.shutdown(false);
        let mut all = Vec::new();
        for consumer in consumers {
            let got = consumer.await.unwrap();
            // Each producer's items reach each consumer in the order they were put.
            for p in 0..4u64 {
                let mine: Vec<_> = got.iter().filter(|&&x| x / 1_000_000 == p).collect();
                assert!(mine.windows(2).all(|w| w[0] < w[1]));
            }
            all.extend(got);
        }
        all.sort_unstable();
        let expected: Vec<_> = (0..4u64)
            .flat_map(|p| (0..2_000).map(move |i| p * 1_000_000 + i))
            .collect();
        assert_eq!(all, expected, "no item lost or duplicated");
    });
}
