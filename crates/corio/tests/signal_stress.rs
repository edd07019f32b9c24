//! Separate binary: it sends hundreds of signals to its own process, which would reach
//! any other test's listeners in a shared binary.
//!
//! Stress for "a server that ignored SIGTERM": the main future listens through one
//! `Signals` for two signals (as a server listens for SIGTERM and SIGINT) while
//! spawned tasks run bursts of TCP echo traffic, and other tasks churn TCP listeners
//! and short-lived `Signals` on the same signals (self-pipes and sockets come and go,
//! so fd numbers are reused all the time). Another thread sends signals with `kill`,
//! some right after a burst ends, and after each one waits until the main future has
//! seen a delivery. Signals coalesce, so the check is "at least one delivery after
//! each kill", and the last kill must always be seen.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::net::{TcpListener, TcpStream};
use corio::signal::{Signals, SIGUSR1, SIGUSR2};

/// Kills sent (alternating the two signals).
const KILLS: usize = 300;
/// How long one delivery may take before it counts as lost.
const LOST_AFTER: Duration = Duration::from_secs(5);

/// Sends `signal` to this process the way an operator does: `kill -<signal> <pid>`.
fn kill(signal: i32) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(std::process::id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} failed");
}

/// What the sender thread and the loop share.
#[derive(Default)]
struct Shared {
    /// Deliveries the main future has seen.
    delivered: AtomicUsize,
    /// Echo bursts completed by the clients.
    bursts: AtomicUsize,
    /// Set by the sender when it is done (or gave up): the loop winds down.
    stop: AtomicBool,
    /// Set by the sender just before its final kill.
    final_sent: AtomicBool,
    /// Index of the first kill that was never delivered, plus one (0: none lost).
    lost: AtomicUsize,
}

/// Echo server: one task per connection.
async fn serve(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        corio::create_task(async move {
            let mut buf = [0u8; 256];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if stream.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}

/// Clients: bursts of a few connections doing echo round trips, then an idle gap.
async fn clients(addr: std::net::SocketAddr, shared: Arc<Shared>) {
    let mut round = 0u64;
    while !shared.stop.load(Ordering::SeqCst) {
        round += 1;
        let conns = 1 + (round % 8) as usize;
        let mut tasks = Vec::new();
        for c in 0..conns {
            tasks.push(corio::create_task(async move {
                let stream = TcpStream::connect(addr).await?;
                let mut buf = [0u8; 64];
                for i in 0..(8 + c * 4) {
                    let msg = [i as u8; 64];
                    stream.write_all(&msg).await?;
                    let mut got = 0;
                    while got < msg.len() {
                        let n = stream.read(&mut buf[got..]).await?;
                        if n == 0 {
                            return Err(std::io::ErrorKind::UnexpectedEof.into());
                        }
                        got += n;
                    }
                    assert_eq!(buf, msg);
                }
                std::io::Result::Ok(())
            }));
        }
        for task in tasks {
            task.await.expect("client task").expect("echo round trip");
        }
        shared.bursts.fetch_add(1, Ordering::SeqCst);
        corio::sleep(Duration::from_micros(200 * (round % 5))).await;
    }
}

/// Listener churn: TCP listeners and extra `Signals` on the same signals, created and
/// dropped all the time, sometimes while a signal is in flight.
async fn churn(shared: Arc<Shared>) {
    let mut round = 0u64;
    while !shared.stop.load(Ordering::SeqCst) {
        round += 1;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let mut extra = Signals::new([SIGUSR1, SIGUSR2]).expect("extra Signals");
        if round % 3 == 0 {
            // Sometimes wait on it briefly (and cancel the wait), sometimes not at all.
            let _ = corio::timeout(Duration::from_micros(300), extra.recv()).await;
        }
        drop(listener);
        drop(extra);
        corio::sleep(Duration::from_micros(100 * (round % 4))).await;
    }
}

/// The sender: after each kill, waits until the main future saw a delivery.
fn sender(shared: Arc<Shared>) {
    for i in 0..=KILLS {
        // Half the kills go out right after a burst of client traffic ends.
        if i % 2 == 0 {
            let bursts = shared.bursts.load(Ordering::SeqCst);
            let deadline = Instant::now() + LOST_AFTER;
            while shared.bursts.load(Ordering::SeqCst) == bursts && Instant::now() < deadline {
                std::thread::yield_now();
            }
        }
        let before = shared.delivered.load(Ordering::SeqCst);
        if i == KILLS {
            // The final kill: the main future stops at its delivery.
            shared.final_sent.store(true, Ordering::SeqCst);
        }
        kill(if i % 4 < 2 { SIGUSR1 } else { SIGUSR2 });
        let deadline = Instant::now() + LOST_AFTER;
        while shared.delivered.load(Ordering::SeqCst) == before {
            if Instant::now() >= deadline {
                shared.lost.store(i + 1, Ordering::SeqCst);
                shared.stop.store(true, Ordering::SeqCst);
                return;
            }
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    shared.stop.store(true, Ordering::SeqCst);
}

#[test]
fn every_signal_sent_during_io_bursts_and_listener_churn_is_delivered() {
    let shared = Arc::new(Shared::default());
    let outcome = corio::run({
        let shared = Arc::clone(&shared);
        async move {
            let mut signals = Signals::new([SIGUSR1, SIGUSR2]).expect("Signals");
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("local_addr");
            let server = corio::create_task(serve(listener));
            let clients = corio::create_task(clients(addr, Arc::clone(&shared)));
            let churn = corio::create_task(churn(Arc::clone(&shared)));
            let sender = {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || sender(shared))
            };
            let mut final_seen = false;
            for round in 0u64.. {
                let wait = LOST_AFTER * 2;
                let received = if round % 2 == 0 {
                    corio::timeout(wait, signals.recv()).await
                } else {
                    // A server loop that re-creates its `recv` future all the time
                    // (short timeouts, as a select against other work would).
                    let started = Instant::now();
                    loop {
                        match corio::timeout(Duration::from_micros(500), signals.recv()).await {
                            Err(_) if started.elapsed() < wait => continue,
                            other => break other,
                        }
                    }
                };
                match received {
                    Ok(Some(_)) => {
                        let last = shared.final_sent.load(Ordering::SeqCst);
                        shared.delivered.fetch_add(1, Ordering::SeqCst);
                        if last {
                            final_seen = true;
                            break;
                        }
                    }
                    Ok(None) => unreachable!("the set is not empty"),
                    // Nothing for twice the loss bound: the sender gave up or the final
                    // kill was lost.
                    Err(_) => break,
                }
            }
            shared.stop.store(true, Ordering::SeqCst);
            sender.join().expect("sender thread");
            // The clients first: a burst may be in flight when `stop` is set, and
            // cancelling the server drops its listener, which resets every
            // connection still waiting in its accept queue (the clients saw
            // `ConnectionReset` on their first read). The server goes last.
            clients.await.expect("clients task");
            churn.await.expect("churn task");
            server.cancel();
            final_seen
        }
    });
    let lost = shared.lost.load(Ordering::SeqCst);
    assert_eq!(
        lost,
        0,
        "kill #{} was never delivered ({} deliveries, {} bursts)",
        lost.saturating_sub(1),
        shared.delivered.load(Ordering::SeqCst),
        shared.bursts.load(Ordering::SeqCst)
    );
    assert!(outcome, "the final kill was never delivered");
}
