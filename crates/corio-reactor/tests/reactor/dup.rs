//! `dup`'d descriptors: a poller registration belongs to the open file description, so
//! it outlives the closing of the registered fd while a duplicate keeps the description
//! open. Its events must never reach the source that gets the fd number next, and
//! `Async` must delete its registration before it closes the fd.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::task::Context;
use std::time::{Duration, Instant};

use crate::common::{pair, poll_until, reactors, Counter, PROMPT};
use corio_reactor::Async;

#[test]
fn events_of_a_dup_kept_registration_never_reach_the_numbers_next_source() {
    for reactor in reactors() {
        let mode = reactor.mode();
        let (a, mut b) = pair();
        let stale = reactor.register(a.as_fd()).unwrap();
        let (stale_woken, waker) = Counter::waker();
        assert!(stale
            .poll_readable(&mut Context::from_waker(&waker))
            .is_pending());
        // A duplicate keeps `a`'s open file description, and with it the poller's
        // registration, alive after `a`'s own fd is closed.
        let keep = a.try_clone().unwrap();
        let number = a.as_raw_fd();

        // Break the contract: close the registered fd without deregistering, and let
        // its number name another socket at once (dup2 closes and reuses atomically).
        let (c, mut d) = pair();
        let mut slot: OwnedFd = a.into();
        rustix::io::dup2(&c, &mut slot).unwrap();
        drop(c);
        let fresh = reactor.register(slot.as_fd()).unwrap();
        assert_eq!(fresh.raw(), number);
        assert!(stale.is_deregistered());
        assert_eq!(stale_woken.count(), 1, "{mode:?}: stale waiter not woken");

        let (fresh_woken, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        assert!(fresh.poll_readable(&mut cx).is_pending());

        // The old description becomes readable: the kernel reports it under the old
        // registration's key, which must not be taken for the fresh source's.
        b.write_all(b"stale").unwrap();
        let deadline = Instant::now() + Duration::from_millis(200);
        while Instant::now() < deadline {
            reactor.poll(Some(Duration::from_millis(20))).unwrap();
        }
        assert_eq!(
            fresh_woken.count(),
            0,
            "{mode:?}: an event of the dup-kept description reached the fd number's new source"
        );
        assert!(
            fresh.poll_readable(&mut cx).is_pending(),
            "{mode:?}: the new source was marked readable by the old description"
        );

        // The fresh registration still gets its own events.
        d.write_all(b"fresh").unwrap();
        assert!(
            poll_until(&reactor, PROMPT, || fresh_woken.count() > 0),
            "{mode:?}: the new source's own event was lost"
        );
        reactor.deregister(&fresh).unwrap();
        reactor.deregister(&stale).unwrap();
        drop(keep);
    }
}

#[test]
fn async_deletes_its_registration_before_closing_even_with_a_dup_alive() {
    for reactor in reactors() {
        let mode = reactor.mode();
        let (a, mut b) = UnixStream::pair().unwrap();
        let a = Async::new(&reactor, a).unwrap();
        // Arm read interest (matters in oneshot mode), then keep a duplicate alive.
        let (_, waker) = Counter::waker();
        assert!(a
            .poll_readable(&mut Context::from_waker(&waker))
            .is_pending());
        let keep = a.get_ref().try_clone().unwrap();
        drop(a);
        assert_eq!(reactor.source_count(), 0);

        // Were the registration left behind, this write would end the wait at once.
        b.write_all(b"late").unwrap();
        let started = Instant::now();
        assert_eq!(reactor.poll(Some(Duration::from_millis(200))).unwrap(), 0);
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "{mode:?}: the poller still reports the dropped Async's description"
        );
        drop(keep);
    }
}
