//! `idle-conns`: `tcp-echo` with 10,000 idle connections open beside the
//! 64 active ones, to show that the reactor's cost per round trip does not
//! grow with registered sockets that never become ready.
//!
//! The idle count scales with the size: 10,000 at the default size (256,000
//! round trips), proportionally fewer below it (1,000 for `--quick`'s tenth,
//! and for the warm-up), never fewer than the 64 active ones, so a
//! `--quick` run (which CI runs) still puts the active sockets among many idle
//! ones at a tenth of the set-up.
//!
//! The holder connects at most 64 ahead of the runtime's accepts: with more,
//! the listener's accept queue overflowed, the kernel dropped SYNs, and each
//! dropped one cost its connect a retransmission timeout of a second or more
//! (a sample took 46-138 s, nearly all of it waiting; now 4-5 s at full size).
//!
//! Before timing, that many loopback connections are opened to the runtime's
//! listener; the server side of each has a task parked in `read`
//! (registered, waiting, never woken). Then 64 clients run `tcp-echo`'s
//! round trips against the same listener. One op is one round trip; compare
//! with `tcp-echo`'s row.
//!
//! The idle *client* sockets are held by a plain thread with a descriptor
//! table of its own (`unshare(CLONE_FILES)`), so the runtime's table holds
//! only the ~10,100 server-side descriptors: both ends in one table would
//! pass the usual 20,000 `RLIMIT_NOFILE` (raising the hard limit needs a
//! privilege containers lack). They close with `SO_LINGER` 0 (a reset, no
//! `TIME_WAIT`), so back-to-back samples do not run out of ephemeral ports.
//! If the limit is too low anyway, the run stops with exit status 3 and a
//! line saying so (`cargo xtask bench` reports it as unavailable).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `idle-conns` workload.
pub(super) const WORKLOAD: Workload = Workload {
    name: "idle-conns",
    description: "tcp-echo's 64 active connections beside 10,000 idle (fewer below the default N)",
    default_size: DEFAULT_SIZE,
    multi_threaded: false,
    corio,
    tokio,
    smol,
};

/// The default size: round trips.
const DEFAULT_SIZE: usize = 256_000;
/// Idle connections at [`DEFAULT_SIZE`] (and above).
const IDLE: usize = 10_000;
/// Active echo connections.
const ACTIVE: usize = 64;
/// Bytes per message.
const MESSAGE: usize = 64;
/// Idle connections the holder lets wait in the accept queue at once.
const IN_FLIGHT: usize = 64;
/// Idle connections for a run of `n` round trips: [`IDLE`] scaled by
/// `n / DEFAULT_SIZE`, between [`ACTIVE`] and [`IDLE`].
fn idle_count(n: usize) -> usize {
    (n.saturating_mul(IDLE) / DEFAULT_SIZE).clamp(ACTIVE, IDLE)
}

/// Makes sure this process may open the descriptors `idle` idle connections
/// need (the server ends, the active clients, some slack: the holder's table
/// needs fewer), raising `RLIMIT_NOFILE` (and its hard limit, where allowed)
/// if needed; exits with status 3 and a message if it cannot.
fn ensure_descriptors(idle: usize) {
    let fds = (idle + 2 * ACTIVE) as u64 + 512;
    if let Err(why) = raise_nofile(fds) {
        eprintln!(
            "corio-benches: idle-conns is unavailable: it needs {fds} file descriptors \
             ({idle} idle server ends, {ACTIVE} active connections): {why}"
        );
        std::process::exit(3);
    }
}

/// Raises the soft (and if needed the hard) `RLIMIT_NOFILE` to `want`.
fn raise_nofile(want: u64) -> Result<(), String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` through a valid, exclusive pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(format!("getrlimit: {}", std::io::Error::last_os_error()));
    }
    if limit.rlim_cur >= want {
        return Ok(());
    }
    let raised = libc::rlimit {
        rlim_cur: want,
        rlim_max: limit.rlim_max.max(want),
    };
    // SAFETY: `setrlimit` reads one `rlimit` through a valid pointer.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Err(format!(
            "RLIMIT_NOFILE is {} (hard {}) and raising it failed: {}",
            limit.rlim_cur,
            limit.rlim_max,
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// The thread holding the idle client sockets, in a descriptor table of its own.
struct Holder {
    addr: mpsc::Sender<SocketAddr>,
    failed: mpsc::Receiver<String>,
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Holder {
    /// Starts the thread; it unshares its descriptor table at once, while
    /// the runtime has opened nothing yet, then waits for the address.
    fn start(count: usize, accepted: Arc<AtomicUsize>) -> Holder {
        let (addr, addr_rx) = mpsc::channel::<SocketAddr>();
        let (failed_tx, failed) = mpsc::channel();
        let (stop, stop_rx) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            // SAFETY: `unshare(CLONE_FILES)` gives this thread a private copy
            // of the descriptor table; it reads or writes no memory of ours.
            let unshared = unsafe { libc::unshare(libc::CLONE_FILES) };
            let error = std::io::Error::last_os_error();
            let Ok(addr) = addr_rx.recv() else {
                return;
            };
            if unshared != 0 {
                let _ = failed_tx.send(format!("unshare(CLONE_FILES): {error}"));
                return;
            }
            let mut idle = Vec::with_capacity(count);
            for connected in 0..count {
                // At most IN_FLIGHT connections wait in the listener's accept
                // queue: a full queue drops SYNs, and each dropped one costs
                // its connect a retransmission timeout (1 s and more).
                while connected - accepted.load(Ordering::Relaxed).min(connected) >= IN_FLIGHT {
                    std::thread::sleep(Duration::from_micros(100));
                }
                match std::net::TcpStream::connect(addr) {
                    Ok(stream) => idle.push(stream),
                    Err(e) => {
                        let _ = failed_tx.send(format!("connecting an idle socket: {e}"));
                        return;
                    }
                }
            }
            let _ = stop_rx.recv();
            idle.iter().for_each(reset_on_close);
        });
        Holder {
            addr,
            failed,
            stop,
            thread,
        }
    }

    /// Panics with the holder's error, if it reported one.
    fn check(&self) {
        if let Ok(why) = self.failed.try_recv() {
            panic!("idle-conns: {why}");
        }
    }

    /// Closes the idle sockets and waits for the thread.
    fn finish(self) {
        let _ = self.stop.send(());
        self.thread.join().expect("idle holder thread");
    }
}

/// Closes with a reset instead of a FIN: no `TIME_WAIT` left behind.
fn reset_on_close(socket: &impl std::os::fd::AsFd) {
    let _ = socket2::SockRef::from(socket).set_linger(Some(Duration::ZERO));
}

/// `idle-conns` on corio.
fn corio(threads: Threads, n: usize) -> Measurement {
    use smol::io::AsyncReadExt;
    let idle = idle_count(n);
    ensure_descriptors(idle);
    let accepted = Arc::new(AtomicUsize::new(0));
    let holder = Holder::start(idle, Arc::clone(&accepted));
    let per_connection = n / ACTIVE;
    runtime::corio(threads, async move {
        let listener = corio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let server = corio::create_task({
            let accepted = Arc::clone(&accepted);
            async move {
                loop {
                    let Ok((mut stream, _)) = listener.accept().await else {
                        return;
                    };
                    accepted.fetch_add(1, Ordering::Relaxed);
                    corio::create_task(async move {
                        let mut buf = [0u8; MESSAGE];
                        while stream.read_exact(&mut buf).await.is_ok() {
                            if stream.write_all(&buf).await.is_err() {
                                return;
                            }
                        }
                    });
                }
            }
        });
        holder.addr.send(addr).expect("idle holder thread");
        while accepted.load(Ordering::Relaxed) < idle {
            holder.check();
            corio::sleep(Duration::from_millis(1)).await;
        }
        let start = Instant::now();
        let clients: Vec<_> = (0..ACTIVE)
            .map(|_| {
                corio::create_task(async move {
                    let mut stream = corio::net::TcpStream::connect(addr).await.expect("connect");
                    stream.set_nodelay(true).expect("nodelay");
                    let mut buf = [7u8; MESSAGE];
                    for _ in 0..per_connection {
                        stream.write_all(&buf).await.expect("write");
                        stream.read_exact(&mut buf).await.expect("read");
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.expect("client");
        }
        let measured = Measurement::new(ACTIVE * per_connection, start.elapsed());
        holder.finish();
        server.cancel();
        measured
    })
}

/// `idle-conns` on tokio.
fn tokio(threads: Threads, n: usize) -> Measurement {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let idle = idle_count(n);
    ensure_descriptors(idle);
    let accepted = Arc::new(AtomicUsize::new(0));
    let holder = Holder::start(idle, Arc::clone(&accepted));
    let per_connection = n / ACTIVE;
    runtime::tokio(threads).block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let server = tokio::spawn({
            let accepted = Arc::clone(&accepted);
            async move {
                loop {
                    let Ok((mut stream, _)) = listener.accept().await else {
                        return;
                    };
                    accepted.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(async move {
                        let mut buf = [0u8; MESSAGE];
                        while stream.read_exact(&mut buf).await.is_ok() {
                            if stream.write_all(&buf).await.is_err() {
                                return;
                            }
                        }
                    });
                }
            }
        });
        holder.addr.send(addr).expect("idle holder thread");
        while accepted.load(Ordering::Relaxed) < idle {
            holder.check();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let start = Instant::now();
        let clients: Vec<_> = (0..ACTIVE)
            .map(|_| {
                tokio::spawn(async move {
                    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
                    stream.set_nodelay(true).expect("nodelay");
                    let mut buf = [7u8; MESSAGE];
                    for _ in 0..per_connection {
                        stream.write_all(&buf).await.expect("write");
                        stream.read_exact(&mut buf).await.expect("read");
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.expect("client");
        }
        let measured = Measurement::new(ACTIVE * per_connection, start.elapsed());
        holder.finish();
        server.abort();
        measured
    })
}

/// `idle-conns` on smol.
fn smol(threads: Threads, n: usize) -> Measurement {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    let idle = idle_count(n);
    ensure_descriptors(idle);
    let accepted = Arc::new(AtomicUsize::new(0));
    let holder = Holder::start(idle, Arc::clone(&accepted));
    let per_connection = n / ACTIVE;
    crate::smol_run!(threads, |ex| async move {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let server_ex = ex.clone();
        let server = ex.spawn({
            let accepted = Arc::clone(&accepted);
            async move {
                loop {
                    let Ok((mut stream, _)) = listener.accept().await else {
                        return;
                    };
                    accepted.fetch_add(1, Ordering::Relaxed);
                    server_ex
                        .spawn(async move {
                            let mut buf = [0u8; MESSAGE];
                            while stream.read_exact(&mut buf).await.is_ok() {
                                if stream.write_all(&buf).await.is_err() {
                                    return;
                                }
                            }
                        })
                        .detach();
                }
            }
        });
        holder.addr.send(addr).expect("idle holder thread");
        while accepted.load(Ordering::Relaxed) < idle {
            holder.check();
            smol::Timer::after(Duration::from_millis(1)).await;
        }
        let start = Instant::now();
        let clients: Vec<_> = (0..ACTIVE)
            .map(|_| {
                ex.spawn(async move {
                    let mut stream = smol::net::TcpStream::connect(addr).await.expect("connect");
                    stream.set_nodelay(true).expect("nodelay");
                    let mut buf = [7u8; MESSAGE];
                    for _ in 0..per_connection {
                        stream.write_all(&buf).await.expect("write");
                        stream.read_exact(&mut buf).await.expect("read");
                    }
                })
            })
            .collect();
        for client in clients {
            client.await;
        }
        let measured = Measurement::new(ACTIVE * per_connection, start.elapsed());
        holder.finish();
        // Cancelled and awaited: the server task holds the executor (to spawn
        // on), and the executor holds it; only running the cancellation
        // breaks the cycle, so the idle server sockets close before the next
        // run (the warm-up's would otherwise stay open beside the timed run's).
        server.cancel().await;
        measured
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_count_scales_with_the_size() {
        assert_eq!(idle_count(DEFAULT_SIZE), IDLE);
        assert_eq!(idle_count(10 * DEFAULT_SIZE), IDLE);
        assert_eq!(idle_count(DEFAULT_SIZE / 10), IDLE / 10);
        assert_eq!(idle_count(2_000), 78);
        assert_eq!(idle_count(1_000), ACTIVE);
        assert_eq!(idle_count(usize::MAX), IDLE);
    }
}
