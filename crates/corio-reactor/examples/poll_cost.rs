//! Measures the reactor's hot paths: `poll(Some(ZERO))` with nothing registered, the
//! same with one idle source registered, and a `notify()` + `poll()` round trip.
//!
//! Run in release: `cargo run --release -p corio-reactor --example poll_cost`.

use std::hint::black_box;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use corio_reactor::Reactor;

/// Runs `f` `iters` times, five rounds; returns the best ns per call.
fn bench(iters: u32, mut f: impl FnMut() -> io::Result<usize>) -> io::Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let started = Instant::now();
        for _ in 0..iters {
            black_box(f()?);
        }
        let ns = started.elapsed().as_nanos() as f64 / f64::from(iters);
        best = best.min(ns);
    }
    Ok(best)
}

fn main() -> io::Result<()> {
    let reactor = Reactor::new()?;
    println!("mode: {:?}", reactor.mode());

    let empty = bench(10_000_000, || reactor.poll(Some(Duration::ZERO)))?;
    println!("poll(Some(ZERO)), nothing registered:   {empty:>8.1} ns");

    let (a, _b) = UnixStream::pair()?;
    a.set_nonblocking(true)?;
    let source = reactor.register(a.as_fd())?;
    reactor.poll(Some(Duration::from_millis(10)))?; // consume the initial writable edge
    let idle = bench(200_000, || reactor.poll(Some(Duration::ZERO)))?;
    println!("poll(Some(ZERO)), one idle source:      {idle:>8.1} ns");

    let round_trip = bench(200_000, || {
        reactor.notify()?;
        reactor.poll(None)
    })?;
    println!("notify() + poll(None) round trip:       {round_trip:>8.1} ns");

    let coalesced = bench(10_000_000, || reactor.notify().map(|()| 0))?;
    println!("notify() while already notified:        {coalesced:>8.1} ns");
    reactor.poll(Some(Duration::ZERO))?;

    reactor.deregister(&source)?;
    Ok(())
}
