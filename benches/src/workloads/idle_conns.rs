//! `idle-conns`: `tcp-echo` with 10,000 idle connections open beside the
//! 64 active ones, to show that the reactor's cost per round trip does not
//! grow with registered sockets that never become ready.
//!
//! Before timing, the runtime opens 10,000 loopback connections whose server
//! side each has a task parked in `read` (registered, waiting, never woken)
//! and whose client side is held open; then 64 clients run `tcp-echo`'s
//! round trips against the same listener. One op is one round trip; compare
//! with `tcp-echo`'s row. The idle client sockets close with `SO_LINGER` 0
//! (a reset, no `TIME_WAIT`), so back-to-back samples do not run out of
//! ephemeral ports.
//!
//! Both ends live in this process: about 20,200 descriptors. If
//! `RLIMIT_NOFILE` is lower and cannot be raised, the run stops with exit
//! status 3 and a line saying so (`cargo xtask bench` reports it as
//! unavailable).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `idle-conns` workload.
pub(super) const WORKLOAD: Workload = Workload {
    name: "idle-conns",
    description: "tcp-echo's 64 active connections beside 10,000 idle ones",
    default_size: 256_000,
    multi_threaded: false,
    corio,
    tokio,
    smol,
};

/// Idle connections.
const IDLE: usize = 10_000;
/// Active echo connections.
const ACTIVE: usize = 64;
/// Bytes per message.
const MESSAGE: usize = 64;
/// Descriptors needed: both ends of every connection, and some slack.
const FDS: u64 = 2 * (IDLE + ACTIVE) as u64 + 512;

/// Makes sure this process may open [`FDS`] descriptors, raising
/// `RLIMIT_NOFILE` (and its hard limit, where allowed) if needed; exits with
/// status 3 and a message if it cannot.
fn ensure_descriptors() {
    if let Err(why) = raise_nofile(FDS) {
        eprintln!(
            "corio-benches: idle-conns is unavailable: it needs {FDS} file descriptors \
             ({IDLE} idle + {ACTIVE} active connections, both ends): {why}"
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

/// Closes with a reset instead of a FIN: no `TIME_WAIT` left behind.
fn reset_on_close(socket: &impl std::os::fd::AsFd) {
    let _ = socket2::SockRef::from(socket).set_linger(Some(Duration::ZERO));
}

/// `idle-conns` on corio.
fn corio(threads: Threads, n: usize) -> Measurement {
    use smol::io::AsyncReadExt;
    ensure_descriptors();
    let per_connection = n / ACTIVE;
    runtime::corio(threads, async move {
        let listener = corio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let accepted = Arc::new(AtomicUsize::new(0));
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
        let mut idle = Vec::with_capacity(IDLE);
        for _ in 0..IDLE {
            idle.push(
                corio::net::TcpStream::connect(addr)
                    .await
                    .expect("connect idle"),
            );
        }
        while accepted.load(Ordering::Relaxed) < IDLE {
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
        idle.iter().for_each(reset_on_close);
        drop(idle);
        server.cancel();
        measured
    })
}

/// `idle-conns` on tokio.
fn tokio(threads: Threads, n: usize) -> Measurement {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ensure_descriptors();
    let per_connection = n / ACTIVE;
    runtime::tokio(threads).block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let accepted = Arc::new(AtomicUsize::new(0));
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
        let mut idle = Vec::with_capacity(IDLE);
        for _ in 0..IDLE {
            idle.push(
                tokio::net::TcpStream::connect(addr)
                    .await
                    .expect("connect idle"),
            );
        }
        while accepted.load(Ordering::Relaxed) < IDLE {
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
        idle.iter().for_each(reset_on_close);
        drop(idle);
        server.abort();
        measured
    })
}

/// `idle-conns` on smol.
fn smol(threads: Threads, n: usize) -> Measurement {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    ensure_descriptors();
    let per_connection = n / ACTIVE;
    crate::smol_run!(threads, |ex| async move {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let accepted = Arc::new(AtomicUsize::new(0));
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
        let mut idle = Vec::with_capacity(IDLE);
        for _ in 0..IDLE {
            idle.push(
                smol::net::TcpStream::connect(addr)
                    .await
                    .expect("connect idle"),
            );
        }
        while accepted.load(Ordering::Relaxed) < IDLE {
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
        idle.iter().for_each(reset_on_close);
        drop(idle);
        drop(server);
        measured
    })
}
