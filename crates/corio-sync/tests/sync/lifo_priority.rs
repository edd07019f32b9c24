//! Unit tests of `LifoQueue` (newest first) and `PriorityQueue` (smallest
//! first): the same core as `Queue`, so these pin what differs (the order)
//! and how waiting, cancellation and shutdown look with that order.

use std::cmp::Reverse;
use std::sync::Arc;

use corio_sync::{
    LifoQueue, PriorityQueue, QueueShutDown, TaskDoneError, TryGetError, TryPutError,
};

use crate::queue_support::Handle;

fn drain<T>(mut get: impl FnMut() -> Result<T, TryGetError>) -> Vec<T> {
    std::iter::from_fn(|| get().ok()).collect()
}

#[test]
fn lifo_yields_the_newest_first() {
    let queue = LifoQueue::new(0);
    for i in 0..5 {
        queue.put_nowait(i).unwrap();
    }
    assert_eq!(queue.get_nowait(), Ok(4));
    queue.put_nowait(9).unwrap();
    assert_eq!(drain(|| queue.get_nowait()), [9, 3, 2, 1, 0]);
}

#[test]
fn priority_yields_the_smallest_first() {
    let queue = PriorityQueue::new(0);
    for i in [5, 1, 4, 1, 3, 9, 2, 6] {
        queue.put_nowait(i).unwrap();
    }
    assert_eq!(queue.get_nowait(), Ok(1));
    queue.put_nowait(0).unwrap();
    assert_eq!(drain(|| queue.get_nowait()), [0, 1, 2, 3, 4, 5, 6, 9]);

    let largest_first = PriorityQueue::new(0);
    for i in [2, 7, 1] {
        largest_first.put_nowait(Reverse(i)).unwrap();
    }
    assert_eq!(largest_first.get_nowait(), Ok(Reverse(7)));

    let jobs = PriorityQueue::new(0);
    jobs.put_nowait((1, "b")).unwrap();
    jobs.put_nowait((0, "z")).unwrap();
    jobs.put_nowait((1, "a")).unwrap();
    assert_eq!(drain(|| jobs.get_nowait()), [(0, "z"), (1, "a"), (1, "b")]);
}

#[test]
fn bounded_lifo_and_priority() {
    let lifo = LifoQueue::new(2);
    let priority = PriorityQueue::new(2);
    for i in [3, 1] {
        lifo.put_nowait(i).unwrap();
        priority.put_nowait(i).unwrap();
    }
    assert!(lifo.is_full() && priority.is_full());
    assert_eq!(lifo.put_nowait(0), Err(TryPutError::Full(0)));
    assert_eq!(priority.put_nowait(0), Err(TryPutError::Full(0)));
    assert_eq!((lifo.maxsize(), priority.qsize()), (2, 2));
    assert_eq!(
        format!("{priority:?}"),
        "PriorityQueue { maxsize: 2, qsize: 2, .. }"
    );
}

#[test]
fn waiting_putters_put_in_their_order_and_the_kind_orders_the_items() {
    let lifo = LifoQueue::new(1);
    lifo.put_nowait(0).unwrap();
    let mut a = Handle::pending(lifo.put(1));
    let mut b = Handle::pending(lifo.put(2));
    assert_eq!(lifo.get_nowait(), Ok(0));
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    assert_eq!(a.ready(), Ok(()));
    assert_eq!(lifo.get_nowait(), Ok(1));
    assert_eq!(b.ready(), Ok(()));
    assert_eq!(lifo.get_nowait(), Ok(2));

    let priority = PriorityQueue::new(2);
    priority.put_nowait(5).unwrap();
    priority.put_nowait(6).unwrap();
    let mut big = Handle::pending(priority.put(9));
    let mut small = Handle::pending(priority.put(1));
    assert_eq!(priority.get_nowait(), Ok(5)); // room: the first putter (9) goes in
    assert_eq!((big.wakes(), small.wakes()), (1, 0));
    assert_eq!(priority.get_nowait(), Ok(6)); // room: 1 goes in
    assert_eq!((big.ready(), small.ready()), (Ok(()), Ok(())));
    assert_eq!(drain(|| priority.get_nowait()), [1, 9]);
}

#[test]
fn woken_getters_take_the_newest_or_smallest_when_they_run() {
    // As in asyncio, a woken getter takes what the order says when it runs,
    // not the item whose put woke it.
    let lifo = LifoQueue::new(0);
    let mut getter = Handle::pending(lifo.get());
    lifo.put_nowait("old").unwrap();
    lifo.put_nowait("new").unwrap();
    assert_eq!(getter.wakes(), 1);
    assert_eq!(
        lifo.get_nowait(),
        Ok("new"),
        "one item is free for the taking"
    );
    assert_eq!(
        lifo.get_nowait(),
        Err(TryGetError::Empty),
        "the other is promised"
    );
    assert_eq!(getter.ready(), Ok("old"));

    let priority = PriorityQueue::new(0);
    let mut getter = Handle::pending(priority.get());
    priority.put_nowait(5).unwrap();
    priority.put_nowait(1).unwrap();
    assert_eq!(getter.ready(), Ok(1));
    assert_eq!(priority.get_nowait(), Ok(5));
}

#[test]
fn dropped_woken_getter_leaves_every_item_in_its_place() {
    let lifo = LifoQueue::new(0);
    let getter = Handle::pending(lifo.get());
    lifo.put_nowait(1).unwrap();
    lifo.put_nowait(2).unwrap();
    drop(getter);
    assert_eq!(
        drain(|| lifo.get_nowait()),
        [2, 1],
        "newest first, as if never promised"
    );

    let priority = PriorityQueue::new(0);
    let getter = Handle::pending(priority.get());
    let mut next = Handle::pending(priority.get());
    priority.put_nowait(7).unwrap();
    drop(getter); // its promise passes on
    assert_eq!(next.wakes(), 1);
    priority.put_nowait(3).unwrap();
    assert_eq!(next.ready(), Ok(3));
    assert_eq!(priority.get_nowait(), Ok(7));
}

#[test]
fn shutdown_and_join_are_shared_semantics() {
    let lifo = LifoQueue::new(0);
    lifo.put_nowait(1).unwrap();
    lifo.put_nowait(2).unwrap();
    lifo.shutdown(false);
    assert_eq!(lifo.put_nowait(3), Err(TryPutError::ShutDown(3)));
    assert_eq!(drain(|| lifo.get_nowait()), [2, 1]);
    assert_eq!(lifo.get_nowait(), Err(TryGetError::ShutDown));
    lifo.task_done().unwrap();
    lifo.task_done().unwrap();
    assert_eq!(lifo.task_done(), Err(TaskDoneError));

    let priority = PriorityQueue::new(0);
    priority.put_nowait(2).unwrap();
    priority.put_nowait(1).unwrap();
    let mut join = Handle::pending(priority.join());
    priority.shutdown(true);
    assert!(priority.is_empty() && priority.is_shut_down());
    assert_eq!(join.wakes(), 1, "the thrown-away items count as done");
    join.ready();
    assert_eq!(priority.get_nowait(), Err(TryGetError::ShutDown));
    assert_eq!(priority.put_nowait(0), Err(TryPutError::ShutDown(0)));

    let empty = PriorityQueue::<u8>::new(0);
    let mut getter = Handle::pending(empty.get());
    empty.shutdown(false);
    assert_eq!(getter.ready(), Err(QueueShutDown(())));
}

#[test]
fn async_lifo_and_priority_on_tokio() {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            let queue = Arc::new(PriorityQueue::new(3));
            let consumer = {
                let queue = queue.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    while let Ok(item) = queue.get().await {
                        got.push(item);
                        tokio::task::yield_now().await;
                    }
                    got
                })
            };
            for i in (0..20).rev() {
                queue.put(i).await.unwrap();
            }
            queue.shutdown(false);
            let got = consumer.await.unwrap();
            let mut sorted = got.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..20).collect::<Vec<_>>());

            let stack = LifoQueue::new(0);
            for i in 0..3 {
                stack.put(i).await.unwrap();
            }
            assert_eq!(stack.get().await, Ok(2));
        });
}
