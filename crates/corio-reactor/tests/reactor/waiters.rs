//! Waker retention: a waiter that is dropped releases its waker at once, and a waiter
//! re-polled with a fresh waker replaces its own stored waker instead of adding one.
//! Counted with wakers that track how many of them are alive, so a retained waker
//! shows up as a number, not as a slow leak.

use std::future::Future;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use crate::common::{eventually, pair, poll_until, reactors, PROMPT};
use corio_reactor::{Async, Reactor, Source};
use futures_io::AsyncRead;

/// Counts live wakers and wakes: every [`Tracked::waker`] is a distinct waker (its own
/// allocation), alive as long as any clone of it is.
#[derive(Default)]
struct Tracked {
    live: Arc<AtomicUsize>,
    woken: Arc<AtomicUsize>,
}

/// The allocation behind one tracked waker.
struct TrackedWaker {
    live: Arc<AtomicUsize>,
    woken: Arc<AtomicUsize>,
}

impl Wake for TrackedWaker {
    fn wake(self: Arc<Self>) {
        self.woken.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for TrackedWaker {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Tracked {
    /// A new distinct waker (never `will_wake` any other).
    fn waker(&self) -> Waker {
        self.live.fetch_add(1, Ordering::SeqCst);
        Waker::from(Arc::new(TrackedWaker {
            live: Arc::clone(&self.live),
            woken: Arc::clone(&self.woken),
        }))
    }

    /// Distinct wakers still alive (held by the test or stored by the reactor).
    fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Wakes delivered to any of them.
    fn woken(&self) -> usize {
        self.woken.load(Ordering::SeqCst)
    }
}

/// Polls `fut` once with a fresh tracked waker that the test does not keep.
fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>, wakers: &Tracked) -> Poll<F::Output> {
    let waker = wakers.waker();
    fut.poll(&mut Context::from_waker(&waker))
}

fn settle(reactor: &Reactor) {
    while reactor
        .poll(Some(std::time::Duration::from_millis(30)))
        .unwrap()
        > 0
    {}
}

/// Fills `stream`'s send buffer until a write would block.
fn fill(stream: &UnixStream) {
    let chunk = [0u8; 4096];
    loop {
        match (&*stream).write(&chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
            Err(e) => panic!("fill: {e}"),
        }
    }
}

#[test]
fn dropped_readable_futures_release_their_wakers() {
    for reactor in reactors() {
        let (a, _b) = pair();
        let source = reactor.register(a.as_fd()).unwrap();
        settle(&reactor);
        let wakers = Tracked::default();
        let mut futures: Vec<_> = (0..1_000).map(|_| Box::pin(source.readable())).collect();
        for fut in &mut futures {
            assert!(poll_once(fut.as_mut(), &wakers).is_pending());
        }
        assert!(wakers.live() >= 1, "the waiters' wakers are stored");
        drop(futures);
        assert_eq!(
            wakers.live(),
            0,
            "{:?}: wakers of dropped Readable futures still stored",
            reactor.mode()
        );
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn dropped_writable_futures_release_their_wakers() {
    for reactor in reactors() {
        let (a, _b) = pair();
        let source = reactor.register(a.as_fd()).unwrap();
        settle(&reactor);
        fill(&a);
        source.clear_writable();
        let wakers = Tracked::default();
        let mut futures: Vec<_> = (0..1_000).map(|_| Box::pin(source.writable())).collect();
        for fut in &mut futures {
            assert!(poll_once(fut.as_mut(), &wakers).is_pending());
        }
        drop(futures);
        assert_eq!(
            wakers.live(),
            0,
            "{:?}: wakers of dropped Writable futures still stored",
            reactor.mode()
        );
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn a_readable_future_repolled_with_fresh_wakers_stores_one() {
    for reactor in reactors() {
        let (a, _b) = pair();
        let source = reactor.register(a.as_fd()).unwrap();
        settle(&reactor);
        let wakers = Tracked::default();
        let mut fut = Box::pin(source.readable());
        for _ in 0..100_000 {
            assert!(poll_once(fut.as_mut(), &wakers).is_pending());
        }
        assert_eq!(
            wakers.live(),
            1,
            "{:?}: stored wakers after 100k re-polls",
            reactor.mode()
        );
        drop(fut);
        assert_eq!(wakers.live(), 0);
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn poll_readable_with_fresh_wakers_stores_one() {
    for reactor in reactors() {
        let (a, _b) = pair();
        let source = reactor.register(a.as_fd()).unwrap();
        settle(&reactor);
        let wakers = Tracked::default();
        for _ in 0..100_000 {
            let waker = wakers.waker();
            assert!(source
                .poll_readable(&mut Context::from_waker(&waker))
                .is_pending());
        }
        assert_eq!(
            wakers.live(),
            1,
            "{:?}: stored wakers after 100k poll_readable calls",
            reactor.mode()
        );
        reactor.deregister(&source).unwrap();
        assert_eq!(wakers.live(), 0, "deregistration releases the last one");
    }
}

#[test]
fn async_read_polled_with_fresh_wakers_stores_one() {
    for reactor in reactors() {
        let (a, _b) = UnixStream::pair().unwrap();
        let mut a = Async::new(&reactor, a).unwrap();
        settle(&reactor);
        let wakers = Tracked::default();
        let mut buf = [0u8; 16];
        for _ in 0..100_000 {
            let waker = wakers.waker();
            let polled = Pin::new(&mut a).poll_read(&mut Context::from_waker(&waker), &mut buf);
            assert!(polled.is_pending());
        }
        assert_eq!(
            wakers.live(),
            1,
            "{:?}: stored wakers after 100k poll_read calls",
            reactor.mode()
        );
        drop(a);
        assert_eq!(wakers.live(), 0);
    }
}

#[test]
fn cancelled_reader_tasks_are_released_and_never_woken() {
    for reactor in reactors() {
        let (a, b) = UnixStream::pair().unwrap();
        let a = Async::new(&reactor, a).unwrap();
        let b = Async::new(&reactor, b).unwrap();
        settle(&reactor);
        let cancelled = Tracked::default();
        {
            let mut readers: Vec<Pin<Box<dyn Future<Output = std::io::Result<usize>> + '_>>> = (0
                ..10_000)
                .map(|_| {
                    let reader = a.read_with(|io| {
                        let mut buf = [0u8; 1];
                        (&*io).read(&mut buf)
                    });
                    Box::pin(reader) as Pin<Box<dyn Future<Output = _>>>
                })
                .collect();
            for reader in &mut readers {
                assert!(poll_once(reader.as_mut(), &cancelled).is_pending());
            }
        }
        assert_eq!(
            cancelled.live(),
            0,
            "{:?}: wakers of 10k cancelled readers still stored",
            reactor.mode()
        );

        // A reader still waiting gets the byte; the cancelled ones are never woken.
        let survivor = Tracked::default();
        let mut reader = Box::pin(a.read_with(|io| {
            let mut buf = [0u8; 1];
            (&*io).read(&mut buf)
        }));
        assert!(poll_once(reader.as_mut(), &survivor).is_pending());
        b.get_ref().write_all(b"!").unwrap();
        assert!(poll_until(&reactor, PROMPT, || survivor.woken() > 0));
        assert_eq!(survivor.woken(), 1);
        assert_eq!(cancelled.woken(), 0, "cancelled readers were woken");
        assert!(matches!(
            poll_once(reader.as_mut(), &survivor),
            Poll::Ready(Ok(1))
        ));
        drop(reader);
        assert_eq!(survivor.live(), 0);
    }
}

/// A waker whose last drop runs user code that re-enters the reactor on the very source
/// it waited on (a task freed by the drop whose future owned that socket).
struct Reentrant {
    reactor: Arc<Reactor>,
    source: Mutex<Option<Arc<Source>>>,
    dropped: Arc<AtomicBool>,
}

impl Wake for Reentrant {
    fn wake(self: Arc<Self>) {}
}

impl Drop for Reentrant {
    fn drop(&mut self) {
        if let Some(source) = self.source.lock().unwrap().take() {
            let _ = self.reactor.deregister(&source);
        }
        self.dropped.store(true, Ordering::SeqCst);
    }
}

fn reentrant_waker(
    reactor: &Arc<Reactor>,
    source: &Arc<Source>,
    dropped: &Arc<AtomicBool>,
) -> Waker {
    Waker::from(Arc::new(Reentrant {
        reactor: Arc::clone(reactor),
        source: Mutex::new(Some(Arc::clone(source))),
        dropped: Arc::clone(dropped),
    }))
}

/// Runs `f` on a thread; fails (instead of hanging) if it deadlocks.
fn without_deadlock(what: &str, f: impl FnOnce() + Send + 'static) {
    let handle = thread::spawn(f);
    assert!(
        eventually(PROMPT, || handle.is_finished()),
        "{what}: deadlocked"
    );
    handle.join().unwrap();
}

#[test]
fn a_released_waker_may_reenter_the_reactor_from_its_drop() {
    for reactor in reactors() {
        let mode = reactor.mode();

        // Released by dropping the waiter.
        let dropped = Arc::new(AtomicBool::new(false));
        let (flag, reactor2) = (Arc::clone(&dropped), Arc::clone(&reactor));
        without_deadlock("dropping a waiter", move || {
            let (a, _b) = pair();
            let source = reactor2.register(a.as_fd()).unwrap();
            settle(&reactor2);
            let waker = reentrant_waker(&reactor2, &source, &flag);
            let mut fut = Box::pin(source.readable());
            assert!(fut
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending());
            drop(waker);
            drop(fut);
            assert!(
                flag.load(Ordering::SeqCst),
                "the dropped waiter's waker was not released"
            );
            let _ = reactor2.deregister(&source);
        });
        assert!(
            dropped.load(Ordering::SeqCst),
            "{mode:?}: the dropped waiter's waker was not released"
        );

        // Released by replacing it with a new waker.
        let dropped = Arc::new(AtomicBool::new(false));
        let (flag, reactor2) = (Arc::clone(&dropped), Arc::clone(&reactor));
        without_deadlock("replacing a stored waker", move || {
            let (a, _b) = pair();
            let source = reactor2.register(a.as_fd()).unwrap();
            settle(&reactor2);
            let waker = reentrant_waker(&reactor2, &source, &flag);
            assert!(source
                .poll_readable(&mut Context::from_waker(&waker))
                .is_pending());
            drop(waker);
            let other = Tracked::default().waker();
            let _ = source.poll_readable(&mut Context::from_waker(&other));
            assert!(
                flag.load(Ordering::SeqCst),
                "the replaced waker was not released"
            );
            let _ = reactor2.deregister(&source);
        });
        assert!(
            dropped.load(Ordering::SeqCst),
            "{mode:?}: the replaced waker was not released"
        );
    }
}
