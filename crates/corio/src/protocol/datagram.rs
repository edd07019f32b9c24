//! UDP endpoints: [`DatagramTransport`], its state and task, and
//! `LoopHandle::create_datagram_endpoint` (asyncio's datagram transport).
//! As for streams, one task per endpoint receives into a buffer it reuses
//! and calls the [`DatagramProtocol`] with no lock held.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::panic::Location;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use corio_executor::Builder as TaskBuilder;
use corio_reactor::Async;
use parking_lot::{Mutex, MutexGuard};

use super::driver::Calls;
use super::DatagramProtocol;
use crate::{LoopHandle, Task};

/// The largest UDP payload: the receive buffer's size.
const RECV_SIZE: usize = 64 * 1024;

enum Event {
    Datagram(usize, SocketAddr),
    Error(io::Error),
    Lost(Option<io::Error>),
}

struct Inner {
    state: Mutex<State>,
    remote: Option<SocketAddr>,
}

struct State {
    io: Option<Async<UdpSocket>>,
    /// Datagrams the socket did not take yet, and their total size.
    queue: VecDeque<(Vec<u8>, Option<SocketAddr>)>,
    queued_bytes: usize,
    /// Send errors for `error_received`.
    errors: VecDeque<io::Error>,
    closing: bool,
    aborted: bool,
    lost: bool,
    in_callback: bool,
    waker: Option<Waker>,
}

impl State {
    fn lose(&mut self, err: Option<io::Error>) -> Poll<Event> {
        self.lost = true;
        self.queue.clear();
        self.queued_bytes = 0;
        Poll::Ready(Event::Lost(err))
    }
}

fn send(io: &UdpSocket, data: &[u8], addr: Option<SocketAddr>) -> io::Result<usize> {
    match addr {
        Some(addr) => io.send_to(data, addr),
        None => io.send(data),
    }
}

impl Inner {
    fn wake(&self, state: MutexGuard<'_, State>) {
        let waker = (!state.in_callback).then(|| state.waker.clone()).flatten();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn set_in_callback(&self, on: bool) {
        self.state.lock().in_callback = on;
    }

    fn poll_event(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Event> {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        if !state
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            state.waker = Some(cx.waker().clone());
        }
        if state.aborted {
            return state.lose(None);
        }
        let Some(io) = state.io.as_ref() else {
            return state.lose(None);
        };
        while let Some((data, addr)) = state.queue.front() {
            match io
                .source()
                .poll_write_with(cx, || send(io.get_ref(), data, *addr))
            {
                Poll::Ready(result) => {
                    let len = data.len();
                    state.queue.pop_front();
                    state.queued_bytes -= len;
                    if let Err(e) = result {
                        state.errors.push_back(e);
                    }
                }
                Poll::Pending => break,
            }
        }
        if let Some(err) = state.errors.pop_front() {
            return Poll::Ready(Event::Error(err));
        }
        if state.closing {
            if state.queue.is_empty() {
                return state.lose(None);
            }
            return Poll::Pending;
        }
        match io
            .source()
            .poll_read_with(cx, || io.get_ref().recv_from(buf))
        {
            Poll::Ready(Ok((n, addr))) => Poll::Ready(Event::Datagram(n, addr)),
            Poll::Ready(Err(e)) => Poll::Ready(Event::Error(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A UDP endpoint's transport (asyncio's `DatagramTransport`). Cheap to
/// clone; every method works from any thread and inside any protocol
/// callback, and never blocks.
#[derive(Clone)]
pub struct DatagramTransport {
    inner: Arc<Inner>,
}

impl DatagramTransport {
    /// Sends `data` to `addr` (asyncio's `sendto(data, addr)`), or to the
    /// endpoint's remote address with `None`. Sent at once when nothing is
    /// queued, else queued; a failure goes to `error_received`. Does
    /// nothing once closing.
    ///
    /// # Panics
    ///
    /// With `None` on an endpoint with no remote address, or an address
    /// other than the remote one (asyncio raises `ValueError`).
    pub fn sendto(&self, data: &[u8], addr: Option<SocketAddr>) {
        let remote = self.inner.remote;
        match (remote, addr) {
            (None, None) => panic!("DatagramTransport::sendto: no address and no remote_addr"),
            (Some(remote), Some(addr)) if remote != addr => {
                panic!("DatagramTransport::sendto: {addr} is not the remote_addr {remote}")
            }
            _ => {}
        }
        // A connected socket sends with `send`.
        let addr = if remote.is_some() { None } else { addr };
        let mut state = self.inner.state.lock();
        if state.closing || state.aborted || state.lost {
            return;
        }
        if state.queue.is_empty() {
            let Some(io) = state.io.as_ref() else { return };
            let tick = io.source().writable_tick();
            match send(io.get_ref(), data, addr) {
                Ok(_) => return,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    io.source().clear_writable_at(tick);
                }
                Err(e) => {
                    state.errors.push_back(e);
                    return self.inner.wake(state);
                }
            }
        }
        state.queue.push_back((data.to_vec(), addr));
        state.queued_bytes += data.len();
        if state.queue.len() == 1 {
            self.inner.wake(state);
        }
    }

    /// Sends the queued datagrams, then closes; the protocol then hears
    /// `connection_lost(None)`. Idempotent.
    pub fn close(&self) {
        let mut state = self.inner.state.lock();
        if !state.closing {
            state.closing = true;
            self.inner.wake(state);
        }
    }

    /// Drops the queue and closes at once.
    pub fn abort(&self) {
        let mut state = self.inner.state.lock();
        if !state.aborted {
            state.aborted = true;
            self.inner.wake(state);
        }
    }

    /// Whether the endpoint is closing or closed.
    pub fn is_closing(&self) -> bool {
        let state = self.inner.state.lock();
        state.closing || state.aborted || state.lost
    }

    /// Bytes queued and not yet sent.
    pub fn get_write_buffer_size(&self) -> usize {
        self.inner.state.lock().queued_bytes
    }

    /// The local address (asyncio's `get_extra_info("sockname")`).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.inner
            .state
            .lock()
            .io
            .as_ref()?
            .get_ref()
            .local_addr()
            .ok()
    }

    /// The remote address given at creation, if any.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.inner.remote
    }
}

impl fmt::Debug for DatagramTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatagramTransport")
            .field("local", &self.local_addr())
            .field("remote", &self.inner.remote)
            .field("closing", &self.is_closing())
            .finish()
    }
}

async fn drive<P: DatagramProtocol>(inner: Arc<Inner>, mut protocol: P, calls: Calls) -> P {
    let mut buf = vec![0u8; RECV_SIZE];
    loop {
        match poll_fn(|cx| inner.poll_event(cx, &mut buf)).await {
            Event::Lost(err) => {
                calls.call(|| protocol.connection_lost(err));
                let io = inner.state.lock().io.take();
                drop(io);
                return protocol;
            }
            Event::Datagram(n, addr) => {
                inner.set_in_callback(true);
                let ok = calls.call(|| protocol.datagram_received(&buf[..n], addr));
                inner.set_in_callback(false);
                if ok.is_none() {
                    // asyncio's `_fatal_error`: the endpoint goes.
                    inner.state.lock().aborted = true;
                }
            }
            Event::Error(err) => {
                inner.set_in_callback(true);
                let ok = calls.call(|| protocol.error_received(err));
                inner.set_in_callback(false);
                if ok.is_none() {
                    inner.state.lock().aborted = true;
                }
            }
        }
        crate::yield_now().await;
    }
}

impl LoopHandle {
    /// Opens a UDP endpoint (asyncio's `loop.create_datagram_endpoint(
    /// protocol_factory, local_addr=.., remote_addr=..)`): bound to `local`
    /// (any port of the wildcard address if `None`), connected to `remote`
    /// if given. `connection_made` has run when this returns; the task ends
    /// after `connection_lost` and returns the protocol.
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use corio::protocol::{DatagramProtocol, DatagramTransport};
    ///
    /// struct Echo(Option<DatagramTransport>);
    ///
    /// impl DatagramProtocol for Echo {
    ///     fn connection_made(&mut self, transport: DatagramTransport) {
    ///         self.0 = Some(transport);
    ///     }
    ///     fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
    ///         self.0.as_ref().unwrap().sendto(data, Some(addr));
    ///     }
    /// }
    ///
    /// corio::run(async {
    ///     let handle = corio::get_running_loop();
    ///     let local = "127.0.0.1:0".parse().ok();
    ///     let (server, _task) = handle.create_datagram_endpoint(|| Echo(None), local, None).await.unwrap();
    ///     let client = corio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     client.send_to(b"ping", server.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let (n, _) = client.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"ping");
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// Binding or connecting the socket failed.
    #[track_caller]
    pub fn create_datagram_endpoint<P, F>(
        &self,
        factory: F,
        local: Option<SocketAddr>,
        remote: Option<SocketAddr>,
    ) -> impl Future<Output = io::Result<(DatagramTransport, Task<P>)>>
    where
        P: DatagramProtocol,
        F: FnOnce() -> P,
    {
        let location = Location::caller();
        let handle = self.clone();
        async move {
            let local = local.unwrap_or_else(|| match remote {
                Some(SocketAddr::V6(_)) => "[::]:0".parse().expect("a literal address"),
                _ => "0.0.0.0:0".parse().expect("a literal address"),
            });
            let socket = UdpSocket::bind(local)?;
            if let Some(remote) = remote {
                socket.connect(remote)?;
            }
            let io = Async::new(&handle.shared.reactor, socket)?;
            let inner = Arc::new(Inner {
                state: Mutex::new(State {
                    io: Some(io),
                    queue: VecDeque::new(),
                    queued_bytes: 0,
                    errors: VecDeque::new(),
                    closing: false,
                    aborted: false,
                    lost: false,
                    in_callback: false,
                    waker: None,
                }),
                remote,
            });
            let calls = Calls {
                reporting: handle.shared.callback_reporting(),
                location,
            };
            let mut protocol = factory();
            let transport = DatagramTransport {
                inner: inner.clone(),
            };
            inner.set_in_callback(true);
            let made = calls.call(|| protocol.connection_made(transport.clone()));
            inner.set_in_callback(false);
            if made.is_none() {
                inner.state.lock().aborted = true;
            }
            let builder = TaskBuilder::new().hidden(true).location(location);
            let task = handle
                .shared
                .spawner
                .spawn_with(builder, drive(inner, protocol, calls));
            Ok((transport, task))
        }
    }
}

/// [`LoopHandle::create_datagram_endpoint`] on the running loop.
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn create_datagram_endpoint<P, F>(
    factory: F,
    local: Option<SocketAddr>,
    remote: Option<SocketAddr>,
) -> impl Future<Output = io::Result<(DatagramTransport, Task<P>)>>
where
    P: DatagramProtocol,
    F: FnOnce() -> P,
{
    crate::get_running_loop().create_datagram_endpoint(factory, local, remote)
}
