//! A tour of corio for asyncio programmers: tasks, timeouts, `to_thread`,
//! callbacks and the loop's clock, printed as it goes.
//!
//! Run it with `cargo run --release --example tour`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::time::Instant;

fn main() {
    // A task's panic is caught and returned as its error; keep the default
    // hook's report short so the tour's own output stays readable.
    std::panic::set_hook(Box::new(|info| eprintln!("    (panic hook) {info}")));
    corio::run(async {
        let start = corio::time::now();
        let stamp = move || {
            format!(
                "[{:>6.1} ms]",
                (corio::time::now() - start).as_secs_f64() * 1e3
            )
        };

        // 1. Tasks: created now, first polled once main yields.
        println!("{} 1. tasks run concurrently, in FIFO order", stamp());
        let slow = corio::task::Builder::new().name("slow").create(async {
            corio::sleep(Duration::from_millis(30)).await;
            "slow done"
        });
        let fast = corio::create_task(async { "fast done" });
        println!(
            "{}    awaiting '{}' and task {}",
            stamp(),
            slow.name().unwrap(),
            fast.id()
        );
        let (fast, slow) = (fast.await.unwrap(), slow.await.unwrap());
        println!("{}    {fast} / {slow}", stamp());

        // 2. yield_now is asyncio's sleep(0): everyone else runs once.
        let order = Arc::new(parking_order());
        for name in ["a", "b"] {
            let order = order.clone();
            corio::create_task(async move {
                for round in 0..2 {
                    order.push(format!("{name}{round}"));
                    corio::yield_now().await;
                }
            });
        }
        corio::sleep(Duration::from_millis(1)).await;
        println!(
            "{} 2. two tasks interleave at yield_now: {}",
            stamp(),
            order.join()
        );

        // 3. Timeouts: asyncio.wait_for. The slow future is dropped on expiry.
        let result = corio::timeout(
            Duration::from_millis(20),
            corio::sleep(Duration::from_secs(10)),
        )
        .await;
        println!(
            "{} 3. timeout on a 10 s sleep after 20 ms: {:?}",
            stamp(),
            result.map_err(|e| e.to_string())
        );
        let quick = corio::timeout(Duration::from_millis(20), async { 42 }).await;
        println!("{}    timeout on a ready future: {:?}", stamp(), quick);

        // 4. Cancellation drops the future at the next scheduling point.
        let doomed = corio::create_task(corio::sleep(Duration::from_secs(3600)));
        doomed.cancel();
        let outcome = doomed.await;
        println!("{} 4. a cancelled task: {}", stamp(), outcome.unwrap_err());

        // 5. A panicking task is an error value; the loop goes on.
        let bad = corio::task::Builder::new()
            .name("bad")
            .create(async { panic!("something broke") });
        println!(
            "{} 5. a panicking task: {}",
            stamp(),
            bad.await.unwrap_err()
        );

        // 6. Blocking work goes to the thread pool; the loop keeps ticking.
        let ticks = Arc::new(AtomicUsize::new(0));
        let ticker = corio::create_task({
            let ticks = ticks.clone();
            async move {
                let mut interval = corio::interval(Duration::from_millis(5));
                loop {
                    interval.tick().await;
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let sum = corio::to_thread(|| {
            std::thread::sleep(Duration::from_millis(50));
            (1..=1_000_000u64).sum::<u64>()
        })
        .await
        .unwrap();
        ticker.cancel();
        println!(
            "{} 6. to_thread computed {sum} while the loop ticked {} times",
            stamp(),
            ticks.load(Ordering::Relaxed)
        );

        // 7. Callbacks: call_soon (FIFO) and call_later/call_at (deadline order).
        let handle = corio::get_running_loop();
        let log = Arc::new(parking_order());
        let now: Instant = handle.time();
        for (delay, name) in [(15, "later-15ms"), (5, "later-5ms")] {
            let log = log.clone();
            handle.call_later(Duration::from_millis(delay), move || {
                log.push(name.to_string())
            });
        }
        let cancelled = handle.call_at(now + Duration::from_millis(1), {
            let log = log.clone();
            move || log.push("never".to_string())
        });
        cancelled.cancel();
        for name in ["soon-1", "soon-2"] {
            let log = log.clone();
            handle.call_soon(move || log.push(name.to_string()));
        }
        corio::sleep(Duration::from_millis(20)).await;
        println!("{} 7. callbacks ran in this order: {}", stamp(), log.join());

        // 8. Introspection.
        let _waiting = corio::task::Builder::new()
            .name("waiter")
            .create(corio::sleep(Duration::from_secs(60)));
        corio::yield_now().await;
        let names: Vec<String> = corio::all_tasks().iter().map(|t| t.to_string()).collect();
        println!(
            "{} 8. all_tasks():\n     {}",
            stamp(),
            names.join("\n     ")
        );
        println!(
            "{} done; run() now cancels the waiter and closes the loop",
            stamp()
        );
    });
}

/// A tiny thread-safe log, so the tour needs nothing but corio and std.
struct Order(std::sync::Mutex<Vec<String>>);

fn parking_order() -> Order {
    Order(std::sync::Mutex::new(Vec::new()))
}

impl Order {
    fn push(&self, item: String) {
        self.0.lock().unwrap().push(item);
    }
    fn join(&self) -> String {
        self.0.lock().unwrap().join(" ")
    }
}
