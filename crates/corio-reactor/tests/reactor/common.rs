//! Shared test helpers: a counting waker, a bounded `block_on` driven by the reactor,
//! a background driver thread, and bounded waiting. Every helper has a deadline so a
//! broken reactor fails a test instead of hanging it.
#![allow(dead_code)]

use std::future::Future;
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use corio_reactor::{Backend, Reactor, TriggerMode};

/// Generous bound for anything that should happen "promptly".
pub(crate) const PROMPT: Duration = Duration::from_secs(5);

/// Every (backend, trigger mode) this platform supports: the default first (epoll
/// on Linux), then the portable `polling` backend edge-triggered where it can be,
/// then its oneshot fallback.
pub(crate) fn reactors() -> Vec<Arc<Reactor>> {
    let mut out = vec![Arc::new(Reactor::new().expect("reactor"))];
    if out[0].mode() == TriggerMode::Edge {
        if out[0].backend() != Backend::Polling {
            out.push(Arc::new(
                Reactor::with_backend(Backend::Polling, TriggerMode::Edge)
                    .expect("polling edge reactor"),
            ));
        }
        out.push(Arc::new(
            Reactor::with_mode(TriggerMode::Oneshot).expect("oneshot reactor"),
        ));
    }
    out
}

/// A connected loopback TCP pair `(client, server)`, both ends non-blocking.
pub(crate) fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    client.set_nonblocking(true).expect("nonblocking");
    server.set_nonblocking(true).expect("nonblocking");
    (client, server)
}

/// A non-blocking `UnixStream` pair.
pub(crate) fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().expect("socketpair");
    a.set_nonblocking(true).expect("nonblocking");
    b.set_nonblocking(true).expect("nonblocking");
    (a, b)
}

/// A waker that counts how often it was woken.
#[derive(Default)]
pub(crate) struct Counter(AtomicUsize);

impl Counter {
    /// A fresh counter and a waker bumping it.
    pub(crate) fn waker() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter::default());
        let waker = Waker::from(Arc::clone(&counter));
        (counter, waker)
    }

    /// Times woken so far.
    pub(crate) fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `cond` until it holds or `limit` passes; returns whether it held.
pub(crate) fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// Polls the reactor (in this thread) until `cond` holds or `limit` passes.
pub(crate) fn poll_until(
    reactor: &Reactor,
    limit: Duration,
    mut cond: impl FnMut() -> bool,
) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        let slice = (deadline - now).min(Duration::from_millis(20));
        reactor.poll(Some(slice)).expect("reactor poll");
    }
}

/// A thread that drives `reactor.poll` in a loop until dropped.
pub(crate) struct Driver {
    stop: Arc<AtomicBool>,
    reactor: Arc<Reactor>,
    handle: Option<JoinHandle<()>>,
}

impl Driver {
    /// Starts polling `reactor` on a background thread.
    pub(crate) fn start(reactor: &Arc<Reactor>) -> Driver {
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let stop = Arc::clone(&stop);
            let reactor = Arc::clone(reactor);
            thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    reactor
                        .poll(Some(Duration::from_millis(50)))
                        .expect("reactor poll");
                }
            })
        };
        Driver {
            stop,
            reactor: Arc::clone(reactor),
            handle: Some(handle),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.reactor.notify();
        if let Some(handle) = self.handle.take() {
            let joined = handle.join();
            if joined.is_err() && !thread::panicking() {
                panic!("reactor driver thread panicked");
            }
        }
    }
}

/// The waker of [`block_on`]: flags the task runnable and interrupts the reactor, so
/// wakes from other threads are seen at once.
struct Unpark {
    woken: AtomicBool,
    reactor: Arc<Reactor>,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.reactor.notify().expect("notify");
    }
}

/// Runs `fut` to completion on this thread, polling the reactor while it is pending.
///
/// The future is only re-polled after its waker fired, so a reactor that forgets to
/// wake fails the test (panic after `limit`) instead of passing by busy-polling.
pub(crate) fn block_on<F: Future>(reactor: &Arc<Reactor>, limit: Duration, fut: F) -> F::Output {
    let unpark = Arc::new(Unpark {
        woken: AtomicBool::new(true),
        reactor: Arc::clone(reactor),
    });
    let waker = Waker::from(Arc::clone(&unpark));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    let deadline = Instant::now() + limit;
    loop {
        if unpark.woken.swap(false, Ordering::SeqCst) {
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return out;
            }
            continue;
        }
        let now = Instant::now();
        assert!(
            now < deadline,
            "block_on: future still pending after {limit:?}"
        );
        reactor.poll(Some(deadline - now)).expect("reactor poll");
    }
}
