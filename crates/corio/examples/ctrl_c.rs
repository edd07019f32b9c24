//! What Ctrl-C does to `corio::run`: the first one cancels the main future
//! (its `Drop`s run, the tasks left are cancelled) and `run` panics saying it
//! was interrupted; a second one during that clean-up ends the process at once.
//!
//! ```text
//! cargo run -p corio --example ctrl_c                   # press Ctrl-C once
//! cargo run -p corio --example ctrl_c -- --slow-cleanup  # press Ctrl-C twice
//! ```
//!
//! `tests/ctrl_c.rs` runs this program and sends it SIGINT.

use std::time::Duration;

/// Prints when it is dropped: shows what cancellation reaches.
struct Announce(&'static str, Duration);

impl Drop for Announce {
    fn drop(&mut self) {
        println!("{} dropped", self.0);
        // A clean-up that takes a while: a second Ctrl-C ends it.
        std::thread::sleep(self.1);
        if !self.1.is_zero() {
            println!("{} clean-up finished", self.0);
        }
    }
}

/// The program (public so `tests/ctrl_c.rs` can run it).
pub(crate) fn main() {
    let cleanup = if std::env::args().any(|arg| arg == "--slow-cleanup") {
        Duration::from_secs(10)
    } else {
        Duration::ZERO
    };
    corio::run(async move {
        let _main = Announce("main", Duration::ZERO);
        let _worker = corio::create_task(async move {
            let _worker = Announce("worker", cleanup);
            loop {
                corio::sleep(Duration::from_secs(1)).await;
                println!("worker: tick");
            }
        });
        println!("ready: press Ctrl-C (pid {})", std::process::id());
        corio::sleep(Duration::from_secs(3600)).await;
    });
}
