//! asyncio's `Lock` (the "Synchronization Primitives" page) on corio: three
//! tasks update a shared balance with an await between the read and the
//! write; the lock keeps each update whole.
//!
//! The documentation shows the lock only as a pattern:
//!
//! ```python
//! lock = asyncio.Lock()
//!
//! # ... later
//! async with lock:
//!     # access shared state
//! ```
//!
//! This program puts it to work:
//!
//! ```python
//! async def deposit(name, lock, account):
//!     async with lock:
//!         balance = account['balance']
//!         print(f'{name}: read balance {balance}')
//!         await asyncio.sleep(0.01)  # a round trip to the bank, say
//!         account['balance'] = balance + 10
//!         print(f'{name}: wrote balance {balance + 10}')
//!
//! async def main():
//!     lock = asyncio.Lock()
//!     account = {'balance': 0}
//!     tasks = [asyncio.create_task(deposit(name, lock, account))
//!              for name in ('A', 'B', 'C')]
//!     await asyncio.sleep(0)
//!     print(f'locked: {lock.locked()}')
//!     await asyncio.gather(*tasks)
//!     print(f'final balance: {account["balance"]}')
//!
//! asyncio.run(main())
//! ```
//!
//! Both print:
//!
//! ```text
//! A: read balance 0
//! locked: true
//! A: wrote balance 10
//! B: read balance 10
//! B: wrote balance 20
//! C: read balance 20
//! C: wrote balance 30
//! final balance: 30
//! ```
//!
//! (Python spells it `True`.) B and C queue for the lock in the order they
//! asked, and get it in that order. The difference from asyncio is
//! Rust's `Mutex` shape: the [`Lock`] owns the data it guards, and the guard
//! that `lock().await` returns is the only way to reach it, so the "forgot to
//! take the lock" bug does not compile. `async with lock:` is the guard's
//! scope; the lock is released when the guard is dropped.
//!
//! The lines come in this order on every run because the loop is
//! asyncio's: one thread, one FIFO queue. With `CORIO_WORKERS=2` (worker
//! threads behind `corio::run`) the tasks run in parallel, and `locked:`
//! may print before any task has taken the lock; the final lines stay right.
//!
//! Run it with `cargo run -p corio --example sync_lock`.

use std::sync::Arc;
use std::time::Duration;

use corio::sync::Lock;

async fn deposit(name: &'static str, account: Arc<Lock<u32>>) {
    let mut balance = account.lock().await;
    let read = *balance;
    println!("{name}: read balance {read}");
    // A round trip to the bank, say: other tasks run meanwhile.
    corio::sleep(Duration::from_millis(10)).await;
    *balance = read + 10;
    println!("{name}: wrote balance {}", read + 10);
    // The guard drops here: `async with` ends, the next waiter gets the lock.
}

fn main() {
    corio::run(async {
        let account = Arc::new(Lock::new(0u32));
        let tasks: Vec<_> = ["A", "B", "C"]
            .into_iter()
            .map(|name| corio::create_task(deposit(name, Arc::clone(&account))))
            .collect();
        corio::yield_now().await;
        println!("locked: {}", account.is_locked());
        for task in corio::gather(tasks).await {
            task.expect("a deposit neither panics nor is cancelled");
        }
        println!("final balance: {}", *account.lock().await);
    });
}
