//! asyncio's `Condition` (the "Synchronization Primitives" page) on corio:
//! two consumers wait until a producer has put an item for each of them.
//!
//! The documentation shows the condition only as a pattern:
//!
//! ```python
//! cond = asyncio.Condition()
//!
//! # ... later
//! async with cond:
//!     await cond.wait()
//! ```
//!
//! This program puts it to work:
//!
//! ```python
//! async def consumer(name, cond, items):
//!     async with cond:
//!         print(f'{name}: waiting')
//!         await cond.wait_for(lambda: items)
//!         item = items.pop(0)
//!         print(f'{name}: got {item}')
//!
//! async def producer(cond, items):
//!     for item in ('apple', 'pear'):
//!         await asyncio.sleep(0.01)
//!         async with cond:
//!             items.append(item)
//!             print(f'producer: put {item}')
//!             cond.notify()
//!
//! async def main():
//!     cond = asyncio.Condition()
//!     items = []
//!     consumers = [asyncio.create_task(consumer(name, cond, items))
//!                  for name in ('c1', 'c2')]
//!     await producer(cond, items)
//!     await asyncio.gather(*consumers)
//!     print('every item consumed')
//!
//! asyncio.run(main())
//! ```
//!
//! Both print:
//!
//! ```text
//! c1: waiting
//! c2: waiting
//! producer: put apple
//! c1: got apple
//! producer: put pear
//! c2: got pear
//! every item consumed
//! ```
//!
//! The shape is `std::sync::Condvar`'s rather than asyncio's: an asyncio
//! `Condition` carries its own lock, while a corio [`Condition`] is used with
//! the guard of a [`Lock`] that owns the state (here the list of items).
//! `async with cond:` is `items.lock().await`; `cond.wait_for(pred)` takes
//! that guard, releases the lock while it waits, and hands the guard back
//! with the lock held again and the predicate true.
//!
//! Run it with `cargo run -p corio --example sync_condition`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use corio::sync::{Condition, Lock};

async fn consumer(name: &'static str, cond: Arc<Condition>, items: Arc<Lock<VecDeque<&str>>>) {
    let guard = items.lock().await;
    println!("{name}: waiting");
    let mut guard = cond.wait_for(guard, |items| !items.is_empty()).await;
    let item = guard.pop_front().expect("wait_for checked it");
    println!("{name}: got {item}");
}

async fn producer(cond: &Condition, items: &Lock<VecDeque<&'static str>>) {
    for item in ["apple", "pear"] {
        corio::sleep(Duration::from_millis(10)).await;
        let mut guard = items.lock().await;
        guard.push_back(item);
        println!("producer: put {item}");
        cond.notify(1);
    }
}

fn main() {
    corio::run(async {
        let cond = Arc::new(Condition::new());
        let items = Arc::new(Lock::new(VecDeque::new()));
        let consumers: Vec<_> = ["c1", "c2"]
            .into_iter()
            .map(|name| corio::create_task(consumer(name, Arc::clone(&cond), Arc::clone(&items))))
            .collect();
        producer(&cond, &items).await;
        for consumer in corio::gather(consumers).await {
            consumer.expect("a consumer neither panics nor is cancelled");
        }
        println!("every item consumed");
    });
}
