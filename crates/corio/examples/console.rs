//! Watching a corio program in tokio-console.
//!
//! With the `console` feature, every corio task lives in the `runtime.spawn`
//! span tokio-console knows, and its wakers report their wakes, so
//! console-subscriber's layer sees corio's tasks as it sees tokio's: name,
//! kind, spawn location, polls, busy and idle time, wakes, and warnings such
//! as a task that lost its waker or one that polls for too long.
//!
//! Run it (console-subscriber insists on a `cfg` it otherwise expects from
//! tokio's unstable tracing; corio's spans need only this one, and corio's
//! `console` feature fails the build with a message naming it when it is
//! missing, before console-subscriber could panic blaming tokio):
//!
//! ```text
//! RUSTFLAGS="--cfg console_without_tokio_unstable" \
//!     cargo run -p corio --example console --features console
//! ```
//!
//! (`--cfg tokio_unstable` works too, and also shows the console server's
//! own tokio tasks.) Then, in another terminal, run `tokio-console`
//! (`cargo install --locked tokio-console`); it connects to
//! `127.0.0.1:6669`. The program runs for 60 seconds, or `--seconds N`, or
//! until Ctrl-C. Its tasks:
//!
//! - `ticker`: sleeps 100 ms in a loop (mostly idle);
//! - `yielder`: yields to the loop 1,000 times a second (many short polls,
//!   all self-wakes);
//! - `busy`: blocks the loop for 30 ms every second (tokio-console flags its
//!   long polls);
//! - `worker-N`: wait on a shared queue that `producer` fills (wakes from
//!   another task);
//! - short-lived `job` tasks spawned every 500 ms (they come and go).

use std::time::{Duration, Instant};

use corio::sync::Queue;

fn main() {
    let seconds = parse_seconds();
    // Without the `cfg` above this would panic; the build has checked it.
    console_subscriber::init();
    println!("corio tasks are visible in tokio-console for {seconds} s (Ctrl-C to stop early)");

    corio::run(async move {
        let deadline = Duration::from_secs(seconds);
        let queue = std::sync::Arc::new(Queue::<u64>::new(16));

        let mut tasks = Vec::new();
        tasks.push(named("ticker").create(async {
            loop {
                corio::sleep(Duration::from_millis(100)).await;
            }
        }));
        tasks.push(named("yielder").create(async {
            loop {
                for _ in 0..10 {
                    corio::task::yield_now().await;
                }
                corio::sleep(Duration::from_millis(10)).await;
            }
        }));
        tasks.push(named("busy").create(async {
            loop {
                let start = Instant::now();
                while start.elapsed() < Duration::from_millis(30) {
                    std::hint::spin_loop();
                }
                corio::sleep(Duration::from_secs(1)).await;
            }
        }));
        for n in 0..3 {
            let queue = queue.clone();
            tasks.push(named(&format!("worker-{n}")).create(async move {
                while let Ok(item) = queue.get().await {
                    corio::sleep(Duration::from_millis(item % 50)).await;
                }
            }));
        }
        let producer = queue.clone();
        tasks.push(named("producer").create(async move {
            for item in 0.. {
                if producer.put(item).await.is_err() {
                    break;
                }
                corio::sleep(Duration::from_millis(20)).await;
            }
        }));
        tasks.push(named("spawner").create(async {
            for n in 0.. {
                corio::sleep(Duration::from_millis(500)).await;
                // Dropping the handle detaches the task; the loop keeps it.
                drop(named("job").create(async move {
                    corio::sleep(Duration::from_millis(200 + n % 7 * 100)).await;
                }));
            }
        }));

        let stop = corio::signal::ctrl_c();
        if corio::timeout(deadline, stop).await.is_ok() {
            println!("Ctrl-C: stopping");
        }
        for task in &tasks {
            task.cancel();
        }
    });
}

fn named(name: &str) -> corio::task::Builder {
    corio::task::Builder::new().name(name)
}

/// `--seconds N` (default 60).
fn parse_seconds() -> u64 {
    let mut args = std::env::args().skip(1);
    let mut seconds = 60;
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--seconds", Some(n)) => match n.parse() {
                Ok(n) => seconds = n,
                Err(_) => usage(),
            },
            _ => usage(),
        }
    }
    seconds
}

fn usage() -> ! {
    eprintln!("usage: console [--seconds N]");
    std::process::exit(2)
}
