//! The one-thread syscall floors of the TCP rows, with blocking sockets in
//! one thread, no runtime and no poller:
//!
//! * `tcp-echo`'s: the same 64-byte round trip (client writes, server reads,
//!   server writes, client reads). What a runtime spends above this per round
//!   trip is its own overhead plus the readiness syscalls (`epoll_wait`, the
//!   `EAGAIN` reads) the blocking loop never makes.
//! * `tcp-stream`'s: one 64 KiB chunk written and read back on a loopback
//!   pair (`write_all` then `read_exact`, the socket buffers sized so that a
//!   chunk always fits, so one thread never blocks on itself).
//!
//! Each row prints its floor once per process, after its first run (the
//! warm-up), so every sample of every runtime carries a floor measured in the
//! same run. The line gives wall time and the process's CPU time per op: on a
//! loaded machine the CPU time is the steadier of the two.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Bytes per message: `tcp-echo`'s.
const MESSAGE: usize = 64;

/// Round trips timed (after a tenth as many untimed).
const ROUND_TRIPS: u32 = 20_000;

/// Bytes per `tcp-stream` chunk: that row's.
const CHUNK: usize = 64 * 1024;

/// `tcp-stream` chunks timed (after a tenth as many untimed): 256 MiB.
const CHUNKS: u32 = 4_096;

/// Wall and CPU nanoseconds per op of `ops` runs of `op` (after a tenth as
/// many untimed); the CPU time is the process's (NaN without a CPU clock).
fn time_ops(ops: u32, mut op: impl FnMut() -> std::io::Result<()>) -> std::io::Result<(f64, f64)> {
    for _ in 0..ops / 10 {
        op()?;
    }
    let cpu = crate::measure::process_cpu_time();
    let start = Instant::now();
    for _ in 0..ops {
        op()?;
    }
    let wall = start.elapsed().as_nanos() as f64 / f64::from(ops);
    let cpu = match (cpu, crate::measure::process_cpu_time()) {
        (Some(a), Some(b)) => (b - a).as_nanos() as f64 / f64::from(ops),
        _ => f64::NAN,
    };
    Ok((wall, cpu))
}

/// Nanoseconds (wall, CPU) per blocking loopback round trip of `MESSAGE` bytes.
pub(super) fn tcp_round_trip_ns() -> std::io::Result<(f64, f64)> {
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
    time_ops(ROUND_TRIPS, || round_trip(&mut buf))
}

/// Nanoseconds (wall, CPU) per 64 KiB chunk written and read back on one
/// blocking loopback pair in one thread.
pub(super) fn tcp_stream_chunk_ns() -> std::io::Result<(f64, f64)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    // Room for a whole chunk on both sides, so `write_all` returns before the
    // same thread reads; a timeout rather than a hang if the kernel thinks
    // otherwise.
    for socket in [&client, &server] {
        let socket = socket2::SockRef::from(socket);
        socket.set_send_buffer_size(4 * CHUNK)?;
        socket.set_recv_buffer_size(4 * CHUNK)?;
    }
    client.set_write_timeout(Some(std::time::Duration::from_secs(5)))?;
    server.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let (mut client, mut server) = (client, server);
    let chunk = vec![1u8; CHUNK];
    let mut buf = vec![0u8; CHUNK];
    time_ops(CHUNKS, || {
        client.write_all(&chunk)?;
        server.read_exact(&mut buf)
    })
}

/// Prints `tcp-echo`'s floor on stderr, the first time only.
pub(super) fn report_tcp_echo_once() {
    static DONE: AtomicBool = AtomicBool::new(false);
    if DONE.swap(true, Ordering::Relaxed) {
        return;
    }
    match tcp_round_trip_ns() {
        Ok((wall, cpu)) => eprintln!(
            "tcp-echo floor: {wall:.1} ns per round trip, {cpu:.1} ns CPU (2 writes + 2 reads \
             of {MESSAGE} B, blocking, one thread, no runtime)"
        ),
        Err(e) => eprintln!("tcp-echo floor: not measured: {e}"),
    }
}

/// Prints `tcp-stream`'s floor on stderr, the first time only.
pub(super) fn report_tcp_stream_once() {
    static DONE: AtomicBool = AtomicBool::new(false);
    if DONE.swap(true, Ordering::Relaxed) {
        return;
    }
    match tcp_stream_chunk_ns() {
        Ok((wall, cpu)) => {
            let gib_per_s = CHUNK as f64 / wall / 1.073_741_824;
            eprintln!(
                "tcp-stream floor: {wall:.1} ns per 64 KiB chunk ({gib_per_s:.2} GiB/s), \
                 {cpu:.1} ns CPU (write_all + read_exact, blocking, one thread, no runtime)"
            );
        }
        Err(e) => eprintln!("tcp-stream floor: not measured: {e}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_floors_are_measured() {
        let (wall, cpu) = super::tcp_round_trip_ns().expect("loopback round trips");
        assert!(wall > 0.0 && wall.is_finite() && cpu >= 0.0, "{wall} {cpu}");
        let (wall, cpu) = super::tcp_stream_chunk_ns().expect("loopback chunks");
        assert!(wall > 0.0 && wall.is_finite() && cpu >= 0.0, "{wall} {cpu}");
    }
}
