//! A UnixStream pair: one thread writes, a driver thread runs the reactor, and the main
//! thread parks until the reactor wakes its readiness waker, then reads.
//!
//! Run with `cargo run -p corio-reactor --example wake_on_readable`.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use corio_reactor::Reactor;

/// Wakes by unparking the thread that is waiting.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

fn main() -> io::Result<()> {
    let reactor = Arc::new(Reactor::new()?);
    println!("reactor mode: {:?}", reactor.mode());

    let (mut ours, mut theirs) = UnixStream::pair()?;
    ours.set_nonblocking(true)?;
    let source = reactor.register(ours.as_fd())?;

    // The driver: what an event loop does when it has nothing else to run.
    let stop = Arc::new(AtomicBool::new(false));
    let driver = {
        let (reactor, stop) = (Arc::clone(&reactor), Arc::clone(&stop));
        thread::spawn(move || -> io::Result<()> {
            while !stop.load(Ordering::SeqCst) {
                reactor.poll(None)?;
            }
            Ok(())
        })
    };

    // The peer writes a little later, from its own thread.
    let writer = thread::spawn(move || -> io::Result<UnixStream> {
        thread::sleep(Duration::from_millis(100));
        theirs.write_all(b"hello from the other side")?;
        Ok(theirs)
    });

    // "Task": wait for readability, parking the thread until woken.
    let started = Instant::now();
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut buf = [0u8; 64];
    let n = loop {
        // Take the readiness tick before trying, so an event that lands between the
        // `WouldBlock` and the clear is not forgotten.
        let tick = source.readable_tick();
        match ours.read(&mut buf) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                source.clear_readable_at(tick);
                match source.poll_readable(&mut cx) {
                    Poll::Ready(result) => result?,
                    Poll::Pending => thread::park_timeout(Duration::from_secs(5)),
                }
            }
            Err(e) => return Err(e),
        }
    };
    println!(
        "woken after {:?}: {:?}",
        started.elapsed(),
        String::from_utf8_lossy(&buf[..n])
    );

    let _theirs = writer.join().expect("writer thread")?;
    stop.store(true, Ordering::SeqCst);
    reactor.notify()?;
    driver.join().expect("driver thread")?;
    reactor.deregister(&source)?;
    Ok(())
}
