//! asyncio's debug mode on corio: a task that blocks the loop with a
//! synchronous call is reported, with its name, spawn location and how long it
//! blocked; so is a task still pending when the loop closes.
//!
//! ```text
//! CORIO_DEBUG=1 cargo run -p corio --example debug_mode
//! ```
//!
//! prints (through `tracing`, here to stderr) something like:
//!
//! ```text
//! WARN corio: slow task poll: task #2 'resize-images' spawned at crates/corio/examples/debug_mode.rs:33:14 blocked the event loop for 150.1ms …
//! WARN corio: task destroyed while pending: task #3 'forgotten' spawned at crates/corio/examples/debug_mode.rs:39:14 …
//! ```
//!
//! Without `CORIO_DEBUG=1` it prints nothing: the checks are off and cost nothing.

use std::time::Duration;

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(true)
        .init();
    if std::env::var_os("CORIO_DEBUG").is_none() {
        eprintln!("(run with CORIO_DEBUG=1 to see the warnings)");
    }
    corio::run(async {
        // The mistake debug mode catches: a synchronous call inside a task
        // stalls every other task (use `corio::to_thread` for this).
        let blocking = corio::task::Builder::new()
            .name("resize-images")
            .create(async { std::thread::sleep(Duration::from_millis(150)) });
        blocking.await.unwrap();

        // A task nobody waits for, still pending when `run` returns.
        corio::task::Builder::new()
            .name("forgotten")
            .create(corio::sleep(Duration::from_secs(3600)));
        corio::yield_now().await;
    });
}
