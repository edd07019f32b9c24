//! asyncio's "Set signal handlers for SIGINT and SIGTERM" example (the
//! "Event Loop" page) on corio: `LoopHandle::add_signal_handler` calls a
//! closure on the loop when the process receives a signal.
//!
//! ```python
//! import asyncio
//! import functools
//! import os
//! import signal
//!
//! def ask_exit(signame, loop):
//!     print("got signal %s: exit" % signame)
//!     loop.stop()
//!
//! async def main():
//!     loop = asyncio.get_running_loop()
//!
//!     for signame in {'SIGINT', 'SIGTERM'}:
//!         loop.add_signal_handler(
//!             getattr(signal, signame),
//!             functools.partial(ask_exit, signame, loop))
//!
//!     await asyncio.sleep(3600)
//!
//! print("Event loop running for 1 hour, press Ctrl+C to interrupt.")
//! print(f"pid {os.getpid()}: send SIGINT or SIGTERM to exit.")
//!
//! asyncio.run(main())
//! ```
//!
//! So that it ends by itself, this program also sends itself SIGTERM after
//! 50 ms (the Python would add `loop.call_later(0.05, os.kill, os.getpid(),
//! signal.SIGTERM)`); Ctrl-C or `kill <pid>` stop it the same way before
//! that. It prints:
//!
//! ```text
//! Event loop running for 1 hour, press Ctrl+C to interrupt.
//! pid 4242: send SIGINT or SIGTERM to exit.
//! got signal SIGTERM: exit
//! ```
//!
//! One difference in shape: `loop.stop()` stops `run_forever`, not
//! `run_until_complete`. The Python above ends with `RuntimeError: Event
//! loop stopped before Future completed.`, because `asyncio.run` runs `main`
//! with `run_until_complete`; in corio `stop` has no effect on
//! [`corio::run`] at all. So `main` here runs as a task on an [`EventLoop`]
//! that runs forever until the handler stops it (in Python,
//! `loop.create_task(main()); loop.run_forever()`); `close` then cancels
//! `main`, still asleep, and removes the handlers. (In a program built on
//! `corio::run`, the handler would instead set an [`Event`] that `main`
//! awaits, or `main` would await a [`Signals`] stream itself, as
//! `graceful_shutdown.rs` does.)
//!
//! The handler is a closure, called on the loop's thread between tasks,
//! never inside the OS signal handler, so it may do anything a callback may.
//!
//! [`Event`]: corio::sync::Event
//! [`EventLoop`]: corio::EventLoop
//! [`Signals`]: corio::signal::Signals
//!
//! Run it with `cargo run -p corio --example signal_handler` (Unix only).

#[cfg(unix)]
fn main() -> std::io::Result<()> {
    use corio::EventLoop;

    println!("Event loop running for 1 hour, press Ctrl+C to interrupt.");
    println!(
        "pid {}: send SIGINT or SIGTERM to exit.",
        std::process::id()
    );

    let mut event_loop = EventLoop::new()?;
    event_loop.handle().create_task(unix::main());
    // Until a signal handler calls `stop`.
    event_loop.run_forever();
    // Cancels `main` (asleep for the rest of the hour) and removes the
    // signal handlers.
    event_loop.close();
    Ok(())
}

#[cfg(unix)]
mod unix {
    use std::time::Duration;

    use corio::signal::{SIGINT, SIGTERM};
    use corio::LoopHandle;

    fn ask_exit(signame: &str, event_loop: &LoopHandle) {
        println!("got signal {signame}: exit");
        event_loop.stop();
    }

    pub(crate) async fn main() {
        let event_loop = corio::get_running_loop();

        for (signame, signal) in [("SIGINT", SIGINT), ("SIGTERM", SIGTERM)] {
            let handle = event_loop.clone();
            event_loop
                .add_signal_handler(signal, move || ask_exit(signame, &handle))
                .expect("SIGINT and SIGTERM can be handled");
        }

        // So that the example ends by itself: SIGTERM to ourselves in 50 ms.
        corio::create_task(async {
            corio::sleep(Duration::from_millis(50)).await;
            let pid = std::process::id().to_string();
            let sent = corio::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .await;
            if !sent.is_ok_and(|status| status.success()) {
                eprintln!("could not run `kill -TERM {pid}`: stop me with Ctrl-C");
            }
        });

        corio::sleep(Duration::from_secs(3600)).await;
    }
}

#[cfg(not(unix))]
fn main() {
    println!("signal_handler: add_signal_handler needs Unix signals; nothing to show here.");
}
