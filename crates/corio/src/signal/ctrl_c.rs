//! `ctrl_c()`: wait for one SIGINT.

use std::future::Future;
use std::io;

use super::Signals;

/// Completes when the process receives SIGINT (Ctrl-C in a terminal).
///
/// Listening starts when `ctrl_c()` is called, not when the future is first polled. While the
/// future exists, Ctrl-C no longer cancels [`run`](crate::run)'s main future: the program handles
/// it itself.
///
/// ```no_run
/// corio::run(async {
///     let server = corio::create_task(async { /* serve */ });
///     corio::signal::ctrl_c().await.unwrap();
///     println!("shutting down");
///     server.cancel();
/// });
/// ```
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn ctrl_c() -> impl Future<Output = io::Result<()>> {
    let signals = Signals::new([libc::SIGINT]);
    async move {
        signals?.recv().await;
        Ok(())
    }
}
