//! `uring_echo_probe`: what an io_uring backend could buy on the `tcp-echo`
//! row (issue 17), measured before anyone builds one.
//!
//! Every variant does `tcp-echo`'s work per round trip: 64 loopback
//! connections in one thread, the client side and the server side in the
//! same process, the client sending 64 bytes (`TCP_NODELAY` on the client,
//! as in the bench) and the server echoing them back before the client sends
//! the next message. None has a runtime, tasks or wakers: they are the least
//! code that moves the bytes, so the gap between a runtime and its variant is
//! that runtime's own cost.
//!
//! * `floor`: the bench's one-thread blocking floor (`syscall_floor.rs`,
//!   copied): one connection, 2 writes + 2 reads per round trip, no poller.
//! * `epoll-et`: a hand-written edge-triggered epoll echo over the 64
//!   connections: one `recv` per message into a 2 KiB buffer (a short read
//!   means the queue is empty, so no `EAGAIN` read), one `send`, and one
//!   `epoll_wait` per batch of events.
//! * `uring-batch`: io_uring with one `submit_and_wait(1)` per loop
//!   iteration, carrying every `RECV`/`SEND` SQE made ready by the previous
//!   iteration's completions (single-shot receives into per-connection
//!   buffers). `-pollfirst`: the receives carry `IORING_RECVSEND_POLL_FIRST`
//!   (arm the poll at once, skipping the receive that would find the socket
//!   empty).
//! * `uring-multishot`: one multishot `RECV` per socket, reading into a
//!   provided-buffer ring (`IORING_REGISTER_PBUF_RING`), sends as SQEs.
//! * `uring-multishot-sendsyscall`: multishot receives, but each send a
//!   plain `send(2)` made at once (what a backend that keeps writes
//!   synchronous, and so keeps `poll_write(&[u8])` as it is, would do).
//! * `-defer`: the same with `IORING_SETUP_SINGLE_ISSUER |
//!   IORING_SETUP_DEFER_TASKRUN` (completions run at `io_uring_enter`, not
//!   on every return to user space); `-fixed`: plus registered files and a
//!   registered ring fd.
//! * `corio`, `tokio-ct`: the bench binary's own `tcp-echo` (`corio-benches
//!   --workload tcp-echo --runtime NAME --json`) as a child process, wall
//!   time from its JSON, CPU time from the child's rusage less the floor it
//!   prints, over its warm-up plus timed run (so it includes the runtime's
//!   start and the 64 connects, well under 1% at the default size).
//!
//! SQPOLL is left out on purpose: its kernel thread spins on a second core,
//! and this machine has two shared ones, so its numbers would be CPU bought
//! from elsewhere, not saved.
//!
//! The variants run interleaved, round after round (the order rotates), and
//! the report gives medians, the min-max range and the medians of the
//! per-round ratios to `floor` and `tokio-ct`. Each in-process variant runs a
//! tenth of its size untimed first; CPU time is the process's
//! (`CLOCK_PROCESS_CPUTIME_ID`: on loopback the receive path runs in the
//! sender's context, so the kernel's work is counted).
//!
//! ```text
//! cargo build --release -p corio-benches --examples --bin corio-benches
//! taskset -c 1 target/release/examples/uring_echo_probe [--rounds 7] [--size 256000]
//!     [--only floor,epoll-et,...] [--bench target/release/corio-benches]
//! strace -c -f target/release/examples/uring_echo_probe --rounds 1 --size 64000 --only uring-batch
//! ```
//!
//! Linux only: elsewhere it says so and exits with status 2.
//!
//! Found on the 2-core KVM dev machine (kernel 6.18, a bare `getppid` costs
//! 334 ns there), 9 rounds of 256,000 round trips, CPU ns per round trip:
//! floor 9,096; epoll-et 10,116; uring-batch 8,608; uring-multishot 7,888;
//! multishot with `send(2)` 10,807 (9,628 with DEFER_TASKRUN); corio
//! 11,361; tokio-ct 11,856. Per round trip, epoll-et makes 4 send/recv
//! syscalls + 0.03 `epoll_wait`, the ring variants 0.03-0.05
//! `io_uring_enter` and nothing else.

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("uring_echo_probe: io_uring exists only on Linux; nothing to measure here");
    std::process::exit(2);
}

#[cfg(target_os = "linux")]
fn main() {
    if let Err(e) = driver::main() {
        eprintln!("uring_echo_probe: {e}");
        std::process::exit(1);
    }
}

#[cfg(target_os = "linux")]
mod driver;
#[cfg(target_os = "linux")]
mod epoll;
#[cfg(target_os = "linux")]
mod uring;
