//! Transports and protocols (asyncio's low-level networking API): a
//! [`Protocol`] is a set of callbacks the loop calls as bytes arrive, and
//! the [`Transport`] it gets in `connection_made` is how it writes. No
//! coroutine per read: each connection is one task that waits for
//! readiness, reads into a buffer it reuses, and calls `data_received` with
//! a slice of it. This is asyncio's fastest path, and corio's.
//!
//! | asyncio | corio |
//! |---|---|
//! | `class P(asyncio.Protocol)` | `impl` [`Protocol`] `for P` |
//! | `await loop.create_connection(P, host, port)` | [`LoopHandle::create_connection`](crate::LoopHandle::create_connection)`(P::new, addr).await` → `(Transport, Task<P>)` |
//! | `await loop.create_server(P, host, port)` | [`LoopHandle::create_server`](crate::LoopHandle::create_server)`(P::new, addr).await` → [`Server`] |
//! | `await loop.create_datagram_endpoint(P, local_addr=..)` | [`LoopHandle::create_datagram_endpoint`](crate::LoopHandle::create_datagram_endpoint)`(P::new, local, remote).await` |
//! | `await loop.connect_read_pipe(P, pipe)` / `connect_write_pipe` | [`LoopHandle::connect_read_pipe`](crate::LoopHandle::connect_read_pipe)`(P::new, fd).await` / `connect_write_pipe` |
//!
//! The free functions [`create_connection`], [`create_server`],
//! [`create_datagram_endpoint`], [`connect_read_pipe`] and
//! [`connect_write_pipe`] do the same on the running loop.
//!
//! **Where the protocol lives.** asyncio returns `(transport, protocol)`;
//! corio keeps the protocol inside the connection's task (it is `&mut` in
//! every callback, with no lock) and returns `(Transport, Task<P>)`: the
//! task ends once `connection_lost` has run and gives the protocol back, so
//! awaiting it replaces asyncio's `on_con_lost` future. Dropping the task
//! handle detaches it; the connection goes on.
//!
//! **Order of callbacks**, as asyncio's: `connection_made` (before
//! `create_connection` returns), `data_received`*, `eof_received` (at most
//! once), `connection_lost` (exactly once, last); `pause_writing` and
//! `resume_writing` alternate, starting with `pause_writing`. A callback
//! that panics is reported to the loop's exception handler and loses the
//! connection with an error (asyncio's "Fatal error: protocol.data_received()
//! call failed").
//!
//! **Why `Send`.** Every loop API is usable under workers, where the
//! connection's task may run on any worker: protocols are `Send + 'static`
//! (they need not be `Sync`: only their task touches them).

use std::io;
use std::net::SocketAddr;

mod connect;
mod datagram;
mod driver;
mod server;
mod stream_io;
mod transport;

pub use connect::{connect_read_pipe, connect_write_pipe, create_connection};
pub use datagram::{create_datagram_endpoint, DatagramTransport};
pub use server::{create_server, Server};
pub use transport::Transport;

/// A stream protocol (asyncio's `asyncio.Protocol`): the callbacks a
/// transport calls. Only `connection_made`, `data_received` and
/// `connection_lost` have no default.
///
/// ```
/// use corio::protocol::{Protocol, Transport};
///
/// /// Echoes every byte back.
/// struct Echo(Option<Transport>);
///
/// impl Protocol for Echo {
///     fn connection_made(&mut self, transport: Transport) {
///         self.0 = Some(transport);
///     }
///     fn data_received(&mut self, data: &[u8]) {
///         self.0.as_ref().unwrap().write(data);
///     }
///     fn connection_lost(&mut self, _err: Option<std::io::Error>) {}
/// }
/// ```
pub trait Protocol: Send + 'static {
    /// The connection is up; keep `transport` to write.
    fn connection_made(&mut self, transport: Transport);

    /// Bytes arrived. `data` borrows the connection's read buffer.
    fn data_received(&mut self, data: &[u8]);

    /// The peer closed its write direction. Return `false` (the default) to
    /// have the transport close itself, `true` to keep writing (then close
    /// it yourself).
    fn eof_received(&mut self) -> bool {
        false
    }

    /// The connection is closed: `None` after `close`, `abort` or a clean
    /// EOF, `Some(err)` after an error (a reset, a failed write). Called
    /// exactly once, last.
    fn connection_lost(&mut self, err: Option<io::Error>);

    /// The write buffer went over the high-water mark: stop writing.
    fn pause_writing(&mut self) {}

    /// The write buffer is back to the low-water mark: write again.
    fn resume_writing(&mut self) {}
}

/// A datagram protocol (asyncio's `asyncio.DatagramProtocol`).
pub trait DatagramProtocol: Send + 'static {
    /// The endpoint is ready; keep `transport` to send.
    fn connection_made(&mut self, transport: DatagramTransport);

    /// A datagram arrived from `addr`. `data` borrows the receive buffer.
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr);

    /// A send or receive failed (an ICMP "port unreachable" shows up here as
    /// `ConnectionRefused` on a connected endpoint); the endpoint goes on.
    fn error_received(&mut self, err: io::Error) {
        let _ = err;
    }

    /// The endpoint is closed. Called exactly once, last.
    fn connection_lost(&mut self, err: Option<io::Error>) {
        let _ = err;
    }
}
