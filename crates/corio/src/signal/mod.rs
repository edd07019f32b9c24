//! OS signals, delivered to the event loop (asyncio's `loop.add_signal_handler`, tokio's
//! `signal`): [`ctrl_c`], the [`Signals`] stream, and
//! [`LoopHandle::add_signal_handler`](crate::LoopHandle::add_signal_handler).
//!
//! Nothing corio runs inside a signal handler but signal-hook's one-byte write to a self-pipe;
//! the loop reads the pipe and wakes whoever listens. While a signal has a listener, its default
//! action (terminating, for SIGINT and SIGTERM) is suspended; when the last listener goes, the
//! default comes back.
//!
//! ```no_run
//! use corio::signal::{Signals, SIGHUP, SIGTERM};
//!
//! corio::run(async {
//!     let mut signals = Signals::new([SIGTERM, SIGHUP]).unwrap();
//!     while let Some(signal) = signals.recv().await {
//!         match signal {
//!             SIGHUP => println!("reloading configuration"),
//!             _ => break, // SIGTERM: shut down
//!         }
//!     }
//! });
//! ```
//!
//! [`run`](crate::run) and [`Runner::run`](crate::Runner::run) turn the first Ctrl-C into a
//! cancellation of the main future (see [`run`](crate::run)); a program that listens to SIGINT
//! itself opts out of that.

mod ctrl_c;
mod disposition;
mod handlers;
mod hub;
pub(crate) mod interrupt;
mod signals;

pub use ctrl_c::ctrl_c;
pub(crate) use handlers::SignalHandler;
pub(crate) use hub::Subscription;
pub use signals::Signals;

/// Hangup: the controlling terminal closed; daemons reload their configuration.
pub const SIGHUP: i32 = libc::SIGHUP;
/// Interrupt: Ctrl-C in a terminal.
pub const SIGINT: i32 = libc::SIGINT;
/// Quit: Ctrl-\ in a terminal.
pub const SIGQUIT: i32 = libc::SIGQUIT;
/// User-defined signal 1.
pub const SIGUSR1: i32 = libc::SIGUSR1;
/// User-defined signal 2.
pub const SIGUSR2: i32 = libc::SIGUSR2;
/// Write to a pipe nobody reads (Rust programs ignore it by default).
pub const SIGPIPE: i32 = libc::SIGPIPE;
/// Alarm clock.
pub const SIGALRM: i32 = libc::SIGALRM;
/// Termination request: `kill <pid>`, service managers stopping a service.
pub const SIGTERM: i32 = libc::SIGTERM;
/// A child process stopped or exited.
pub const SIGCHLD: i32 = libc::SIGCHLD;
/// The terminal window changed size.
pub const SIGWINCH: i32 = libc::SIGWINCH;
