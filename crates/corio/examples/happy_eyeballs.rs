//! A "happy eyeballs" connection race (RFC 8305) built on
//! `wait(FirstCompleted)`: asyncio's `staggered.staggered_race`, which
//! `loop.create_connection(..., happy_eyeballs_delay=0.25)` uses.
//!
//! One connection attempt starts per address, each 250 ms after the previous
//! one or as soon as the previous one fails, whichever comes first. The first
//! attempt that connects wins, and the attempts still running are cancelled.
//! The network is simulated with sleeps:
//!
//! ```text
//!    0 ms  trying 2001:db8::1
//!  250 ms  trying 192.0.2.1 (1 attempt still running)
//!  300 ms  192.0.2.1 failed: connection refused
//!  300 ms  trying 192.0.2.2 (1 attempt still running)
//!  400 ms  connected to 192.0.2.2
//!  400 ms  cancelled 1 attempt still running
//! ```
//!
//! Run it with `cargo run -p corio --example happy_eyeballs`.

use std::time::{Duration, Instant};

use corio::{ReturnWhen, Task};

/// How long an attempt gets before the next one starts.
const HAPPY_EYEBALLS_DELAY: Duration = Duration::from_millis(250);

/// One simulated address: how long it takes to answer, and whether it accepts.
struct Address {
    ip: &'static str,
    latency: Duration,
    accepts: bool,
}

/// Stands in for a TCP connect: `Ok(ip)` once connected.
async fn connect(address: Address) -> Result<&'static str, String> {
    corio::sleep(address.latency).await;
    if address.accepts {
        Ok(address.ip)
    } else {
        Err(format!("{} failed: connection refused", address.ip))
    }
}

/// Races staggered connection attempts; the first success wins.
async fn happy_eyeballs(addresses: Vec<Address>, start: Instant) -> Result<&'static str, String> {
    let log = |line: String| println!("{:>5} ms  {line}", start.elapsed().as_millis());
    let mut addresses = addresses.into_iter().peekable();
    let mut running: Vec<Task<Result<&'static str, String>>> = Vec::new();
    loop {
        if let Some(address) = addresses.next() {
            match running.len() {
                0 => log(format!("trying {}", address.ip)),
                n => log(format!("trying {} ({n} attempt still running)", address.ip)),
            }
            running.push(corio::create_task(connect(address)));
        } else if running.is_empty() {
            return Err("every attempt failed".to_string());
        }
        // Give the attempts until the next one is due, or forever when
        // there is no next one.
        let delay = addresses.peek().map(|_| HAPPY_EYEBALLS_DELAY);
        let (done, pending) = corio::wait(running, ReturnWhen::FirstCompleted, delay).await;
        running = pending;
        for task in done {
            match task.await {
                Ok(Ok(ip)) => {
                    log(format!("connected to {ip}"));
                    // The race is won: cancel the losers (their futures are
                    // dropped at the next scheduling point).
                    for loser in &running {
                        loser.cancel();
                    }
                    log(format!("cancelled {} attempt still running", running.len()));
                    return Ok(ip);
                }
                Ok(Err(error)) => log(error),
                Err(error) => log(format!("attempt crashed: {error}")),
            }
        }
    }
}

fn main() {
    let addresses = vec![
        Address {
            ip: "2001:db8::1",
            latency: Duration::from_secs(10),
            accepts: false,
        },
        Address {
            ip: "192.0.2.1",
            latency: Duration::from_millis(50),
            accepts: false,
        },
        Address {
            ip: "192.0.2.2",
            latency: Duration::from_millis(100),
            accepts: true,
        },
    ];
    let winner = corio::run(happy_eyeballs(addresses, Instant::now()));
    assert_eq!(winner, Ok("192.0.2.2"));
}
