//! Starting a stream transport: `LoopHandle::create_connection` (TCP),
//! `connect_read_pipe`, `connect_write_pipe`, their free-function forms on
//! the running loop, and `start_stream`, which the server shares: register
//! the socket, call `connection_made`, spawn the connection's task.

use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::panic::Location;
use std::sync::Arc;

use corio_executor::Builder as TaskBuilder;
use corio_reactor::Async;

use super::driver::{self, Calls};
use super::stream_io::{ReadPipe, StreamIo, WritePipe};
use super::transport::Inner;
use super::{Protocol, Transport};
use crate::net::ToSocketAddrs;
use crate::{LoopHandle, Task};

impl LoopHandle {
    /// Opens a TCP connection to `addr` and runs the protocol `factory()`
    /// makes on it (asyncio's `loop.create_connection(protocol_factory,
    /// host, port)`). `connection_made` has run when this returns; the
    /// [`Task`] ends when `connection_lost` has run and returns the protocol
    /// (see the [module docs](crate::protocol) for why this shape). As
    /// asyncio does, the socket gets `TCP_NODELAY`.
    ///
    /// ```
    /// use corio::protocol::{Protocol, Transport};
    ///
    /// #[derive(Default)]
    /// struct Collect(Vec<u8>, Option<Transport>);
    ///
    /// impl Protocol for Collect {
    ///     fn connection_made(&mut self, transport: Transport) {
    ///         transport.write(b"hello");
    ///         transport.write_eof();
    ///         self.1 = Some(transport);
    ///     }
    ///     fn data_received(&mut self, data: &[u8]) {
    ///         self.0.extend_from_slice(data);
    ///     }
    ///     fn connection_lost(&mut self, _err: Option<std::io::Error>) {}
    /// }
    ///
    /// corio::run(async {
    ///     let server = corio::start_server(|mut r, mut w| async move {
    ///         let data = r.read_to_end().await.unwrap();
    ///         w.write(&data.to_ascii_uppercase());
    ///         let _ = w.wait_closed().await;
    ///     }, "127.0.0.1:0").await.unwrap();
    ///     let handle = corio::get_running_loop();
    ///     let (_transport, done) = handle
    ///         .create_connection(Collect::default, server.local_addr().unwrap())
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(done.await.unwrap().0, b"HELLO");
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// [`TcpStream::connect`](crate::net::TcpStream::connect)'s.
    #[track_caller]
    pub fn create_connection<P, F, A>(
        &self,
        factory: F,
        addr: A,
    ) -> impl Future<Output = io::Result<(Transport, Task<P>)>>
    where
        P: Protocol,
        F: FnOnce() -> P,
        A: ToSocketAddrs,
    {
        let location = Location::caller();
        let handle = self.clone();
        async move {
            let stream = crate::net::TcpStream::connect(addr).await?.into_std()?;
            stream.set_nodelay(true)?;
            handle.start_stream(stream, factory(), location)
        }
    }

    /// Runs the protocol `factory()` makes on the read end of a pipe
    /// (asyncio's `loop.connect_read_pipe`): `data_received` as bytes come,
    /// `eof_received` when every writer closed. The fd is put in
    /// non-blocking mode and closed with the transport. Writing to this
    /// transport panics.
    ///
    /// # Errors
    ///
    /// The fd cannot be polled (a regular file) or made non-blocking.
    #[track_caller]
    pub fn connect_read_pipe<P: Protocol>(
        &self,
        factory: impl FnOnce() -> P,
        pipe: impl Into<OwnedFd>,
    ) -> io::Result<(Transport, Task<P>)> {
        let pipe = ReadPipe::new(pipe.into());
        self.start_stream(pipe, factory(), Location::caller())
    }

    /// Runs the protocol `factory()` makes on the write end of a pipe
    /// (asyncio's `loop.connect_write_pipe`): write through the transport;
    /// `write_eof` or `close` closes the pipe once flushed. When the reader
    /// goes away the protocol hears `connection_lost` (with `BrokenPipe` if
    /// bytes were still buffered, as asyncio).
    ///
    /// # Errors
    ///
    /// As [`connect_read_pipe`](Self::connect_read_pipe).
    #[track_caller]
    pub fn connect_write_pipe<P: Protocol>(
        &self,
        factory: impl FnOnce() -> P,
        pipe: impl Into<OwnedFd>,
    ) -> io::Result<(Transport, Task<P>)> {
        let pipe = WritePipe::new(pipe.into());
        self.start_stream(pipe, factory(), Location::caller())
    }

    /// Registers `io`, calls `connection_made`, spawns the connection's task.
    pub(super) fn start_stream<S: StreamIo, P: Protocol>(
        &self,
        io: S,
        mut protocol: P,
        location: &'static Location<'static>,
    ) -> io::Result<(Transport, Task<P>)> {
        let inner = Arc::new(Inner::new(Async::new(&self.shared.reactor, io)?));
        let calls = Calls {
            reporting: self.shared.callback_reporting(),
            location,
        };
        driver::connection_made(&inner, &mut protocol, &calls);
        let transport = Transport::new(inner.clone());
        let builder = TaskBuilder::new().hidden(true).location(location);
        let task = self
            .shared
            .spawner
            .spawn_with(builder, driver::drive(inner, protocol, calls));
        Ok((transport, task))
    }
}

/// [`LoopHandle::create_connection`] on the running loop.
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn create_connection<P, F, A>(
    factory: F,
    addr: A,
) -> impl Future<Output = io::Result<(Transport, Task<P>)>>
where
    P: Protocol,
    F: FnOnce() -> P,
    A: ToSocketAddrs,
{
    crate::get_running_loop().create_connection(factory, addr)
}

/// [`LoopHandle::connect_read_pipe`] on the running loop.
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn connect_read_pipe<P: Protocol>(
    factory: impl FnOnce() -> P,
    pipe: impl Into<OwnedFd>,
) -> io::Result<(Transport, Task<P>)> {
    crate::get_running_loop().connect_read_pipe(factory, pipe)
}

/// [`LoopHandle::connect_write_pipe`] on the running loop.
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn connect_write_pipe<P: Protocol>(
    factory: impl FnOnce() -> P,
    pipe: impl Into<OwnedFd>,
) -> io::Result<(Transport, Task<P>)> {
    crate::get_running_loop().connect_write_pipe(factory, pipe)
}
