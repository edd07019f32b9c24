//! The connection's task: one per transport, it owns the protocol and the
//! read buffer (allocated once, reused for every read), waits for read and
//! write readiness, flushes the write buffer, and calls the protocol. No
//! coroutine per read, no allocation per read.
//!
//! Every protocol call runs with no lock held, inside `run_callback`: a
//! panic is reported to the loop's exception handler (as a callback's) and
//! loses the connection with an error, as asyncio's `_fatal_error` does.

use std::future::poll_fn;
use std::io;
use std::panic::Location;
use std::sync::Arc;

use super::stream_io::StreamIo;
use super::transport::{Event, Inner};
use super::Protocol;
use crate::runtime::exception_handler::{run_callback, CallbackReporting};

/// Bytes read at most per `data_received` (asyncio's selector transport
/// reads 256 KiB; 64 KiB keeps a thousand idle connections at 64 MiB).
const READ_SIZE: usize = 64 * 1024;

/// Protocol events handled in a row before the task yields to the loop, so
/// one busy connection cannot starve the others (asyncio handles one
/// readiness event per connection per iteration).
const BUDGET: u32 = 32;

/// How protocol callbacks are run and their panics reported.
pub(crate) struct Calls {
    pub(crate) reporting: CallbackReporting,
    pub(crate) location: &'static Location<'static>,
}

impl Calls {
    /// Runs one protocol callback outside every lock; `None` if it panicked
    /// (reported to the loop's exception handler).
    pub(crate) fn call<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        let mut out = None;
        run_callback(|| out = Some(f()), self.location, &self.reporting);
        out
    }
}

fn panicked(what: &str) -> io::Error {
    io::Error::other(format!("the protocol's {what} panicked"))
}

/// Calls `connection_made`; on a panic the connection is lost at once.
pub(crate) fn connection_made<S: StreamIo, P: Protocol>(
    inner: &Arc<Inner<S>>,
    protocol: &mut P,
    calls: &Calls,
) {
    let transport = super::Transport::new(inner.clone());
    inner.set_in_callback(true);
    let made = calls.call(|| protocol.connection_made(transport));
    inner.set_in_callback(false);
    if made.is_none() {
        inner.fail(panicked("connection_made"));
    }
}

/// The connection's task, after `connection_made`: runs until the protocol
/// has heard `connection_lost`, closes the socket, and returns the protocol.
pub(crate) async fn drive<S: StreamIo, P: Protocol>(
    inner: Arc<Inner<S>>,
    mut protocol: P,
    calls: Calls,
) -> P {
    let mut buf = if S::READS {
        vec![0u8; READ_SIZE]
    } else {
        Vec::new()
    };
    let mut budget = BUDGET;
    loop {
        let event = poll_fn(|cx| inner.poll_event(cx, &mut buf)).await;
        if let Event::Lost(err) = event {
            calls.call(|| protocol.connection_lost(err));
            inner.release();
            return protocol;
        }
        inner.set_in_callback(true);
        let ok = match event {
            Event::Data(n) => calls
                .call(|| protocol.data_received(&buf[..n]))
                .ok_or("data_received"),
            Event::Eof => match calls.call(|| protocol.eof_received()) {
                // asyncio: a false (or None) return closes the transport.
                Some(false) => {
                    super::transport::TransportOps::close(&*inner);
                    Ok(())
                }
                Some(true) => Ok(()),
                None => Err("eof_received"),
            },
            Event::PauseWriting => calls
                .call(|| protocol.pause_writing())
                .ok_or("pause_writing"),
            Event::ResumeWriting => calls
                .call(|| protocol.resume_writing())
                .ok_or("resume_writing"),
            Event::Lost(_) => unreachable!("handled above"),
        };
        inner.set_in_callback(false);
        if let Err(what) = ok {
            inner.fail(panicked(what));
        }
        budget -= 1;
        if budget == 0 {
            budget = BUDGET;
            crate::yield_now().await;
        }
    }
}
