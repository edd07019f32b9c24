//! The one-thread syscall floor of `tcp-echo`: the same 64-byte round trip
//! (client writes, server reads, server writes, client reads) done with
//! blocking sockets in one thread, no runtime and no poller. What a runtime
//! spends above this per round trip is its own overhead plus the readiness
//! syscalls (`epoll_wait`, the `EAGAIN` reads) the blocking loop never makes.
//!
//! `tcp-echo` prints it once per process, after its first run, so every
//! sample of every runtime carries a floor measured in the same run.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Bytes per message: `tcp-echo`'s.
const MESSAGE: usize = 64;

/// Round trips timed (after a tenth as many untimed).
const ROUND_TRIPS: u32 = 20_000;

/// Nanoseconds per blocking loopback round trip of `MESSAGE` bytes.
pub(super) fn tcp_round_trip_ns() -> std::io::Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let mut client = TcpStream::connect(listener.local_addr()?)?;
    let (mut server, _) = listener.accept()?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let mut buf = [7u8; MESSAGE];
    let mut round_trip = |buf: &mut [u8; MESSAGE]| -> std::io::Result<()> {
        client.write_all(buf)?;
        server.read_exact(buf)?;
        server.write_all(buf)?;
        client.read_exact(buf)
    };
    for _ in 0..ROUND_TRIPS / 10 {
        round_trip(&mut buf)?;
    }
    let start = Instant::now();
    for _ in 0..ROUND_TRIPS {
        round_trip(&mut buf)?;
    }
    Ok(start.elapsed().as_nanos() as f64 / f64::from(ROUND_TRIPS))
}

/// Prints the floor on stderr, the first time only.
pub(super) fn report_tcp_echo_once() {
    static DONE: AtomicBool = AtomicBool::new(false);
    if DONE.swap(true, Ordering::Relaxed) {
        return;
    }
    match tcp_round_trip_ns() {
        Ok(ns) => eprintln!(
            "tcp-echo floor: {ns:.1} ns per round trip (2 writes + 2 reads of {MESSAGE} B, \
             blocking, one thread, no runtime)"
        ),
        Err(e) => eprintln!("tcp-echo floor: not measured: {e}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_floor_is_measured() {
        let ns = super::tcp_round_trip_ns().expect("loopback round trips");
        assert!(ns > 0.0 && ns.is_finite());
    }
}
