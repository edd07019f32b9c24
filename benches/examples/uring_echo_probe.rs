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
    if let Err(e) = linux::main() {
        eprintln!("uring_echo_probe: {e}");
        std::process::exit(1);
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::alloc::Layout;
    use std::io::{self, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::{AsRawFd, RawFd};
    use std::process::Command;
    use std::ptr::NonNull;
    use std::sync::atomic::{AtomicU16, Ordering};
    use std::time::{Duration, Instant};

    use io_uring::{cqueue, opcode, squeue, types, IoUring};

    /// Connections, as in `tcp-echo`.
    const CONNECTIONS: usize = 64;
    /// Bytes per message, as in `tcp-echo`.
    const MESSAGE: usize = 64;
    /// Entries of the provided-buffer ring (a power of two).
    const PBUF_ENTRIES: u16 = 512;
    /// Bytes per provided buffer.
    const PBUF_SIZE: usize = 1024;
    /// The provided-buffer group id.
    const BGID: u16 = 7;
    /// `IORING_RECVSEND_POLL_FIRST` (not exported by the crate): arm the
    /// poll before trying the receive.
    const RECVSEND_POLL_FIRST: u16 = 1;
    /// `user_data` of the final cancel-everything SQE.
    const CANCEL: u64 = u64::MAX;

    /// What one variant is.
    #[derive(Clone, Copy)]
    enum Kind {
        Floor,
        Epoll,
        Uring(Cfg),
        Bench(&'static str),
    }

    /// The io_uring knobs.
    #[derive(Clone, Copy)]
    struct Cfg {
        multishot: bool,
        defer: bool,
        fixed: bool,
        poll_first: bool,
        direct_send: bool,
    }

    const fn uring(multishot: bool, defer: bool, fixed: bool) -> Kind {
        Kind::Uring(Cfg {
            multishot,
            defer,
            fixed,
            poll_first: false,
            direct_send: false,
        })
    }

    /// Every variant, in report order.
    const VARIANTS: &[(&str, Kind)] = &[
        ("floor", Kind::Floor),
        ("epoll-et", Kind::Epoll),
        ("uring-batch", uring(false, false, false)),
        ("uring-batch-defer", uring(false, true, false)),
        (
            "uring-batch-pollfirst",
            Kind::Uring(Cfg {
                multishot: false,
                defer: false,
                fixed: false,
                poll_first: true,
                direct_send: false,
            }),
        ),
        (
            "uring-multishot-sendsyscall",
            Kind::Uring(Cfg {
                multishot: true,
                defer: false,
                fixed: false,
                poll_first: false,
                direct_send: true,
            }),
        ),
        (
            "uring-multishot-defer-sendsyscall",
            Kind::Uring(Cfg {
                multishot: true,
                defer: true,
                fixed: false,
                poll_first: false,
                direct_send: true,
            }),
        ),
        ("uring-multishot", uring(true, false, false)),
        ("uring-multishot-defer", uring(true, true, false)),
        ("uring-multishot-defer-fixed", uring(true, true, true)),
        ("corio", Kind::Bench("corio")),
        ("tokio-ct", Kind::Bench("tokio-ct")),
    ];

    /// Nanoseconds per round trip.
    #[derive(Clone, Copy)]
    struct Sample {
        wall: f64,
        cpu: f64,
    }

    pub(super) fn main() -> io::Result<()> {
        let mut rounds = 7usize;
        let mut size = 256_000usize;
        let mut only: Option<Vec<String>> = None;
        let exe = std::env::current_exe()?;
        let mut bench = exe
            .parent()
            .and_then(|examples| examples.parent())
            .map(|dir| dir.join("corio-benches"))
            .unwrap_or_default();
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| bad(format!("{flag} needs a value")))
            };
            match flag.as_str() {
                "--rounds" => rounds = value()?.parse().map_err(bad)?,
                "--size" => size = value()?.parse().map_err(bad)?,
                "--only" => only = Some(value()?.split(',').map(str::to_owned).collect()),
                "--bench" => bench = value()?.into(),
                _ => return Err(bad(format!("unknown argument {flag}"))),
            }
        }
        let chosen: Vec<(&str, Kind)> = VARIANTS
            .iter()
            .copied()
            .filter(|(name, _)| only.as_ref().is_none_or(|o| o.iter().any(|n| n == name)))
            .collect();
        let per_conn = size / CONNECTIONS;
        eprintln!(
            "{rounds} rounds, {} round trips per variant per round ({CONNECTIONS} x {per_conn}), \
             bench binary {}",
            per_conn * CONNECTIONS,
            bench.display()
        );
        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); chosen.len()];
        for round in 0..rounds {
            for step in 0..chosen.len() {
                let index = (round + step) % chosen.len();
                let (name, kind) = chosen[index];
                let sample = match kind {
                    Kind::Floor => floor(),
                    Kind::Epoll => in_process(per_conn, true, epoll_echo),
                    Kind::Uring(cfg) => in_process(per_conn, false, |p, n| uring_echo(p, n, cfg)),
                    Kind::Bench(runtime) => bench_child(&bench, runtime, per_conn * CONNECTIONS),
                }
                .map_err(|e| io::Error::new(e.kind(), format!("{name}, round {round}: {e}")))?;
                eprintln!(
                    "round {round}: {name:<34} {:>8.0} ns wall {:>8.0} ns CPU",
                    sample.wall, sample.cpu
                );
                samples[index].push(sample);
            }
        }
        report(&chosen, &samples);
        Ok(())
    }

    /// Adds what failed to an error.
    fn ctx(what: &'static str) -> impl Fn(io::Error) -> io::Error {
        move |e| io::Error::new(e.kind(), format!("{what}: {e}"))
    }

    fn bad(e: impl ToString) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
    }

    /// CPU time this process (all its threads) has used.
    fn cpu_now() -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec for the call's duration.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0, "CLOCK_PROCESS_CPUTIME_ID");
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    /// CPU time of the waited-for children so far.
    fn children_cpu() -> Duration {
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `usage` is a valid, writable rusage for the call's duration.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
        assert_eq!(rc, 0, "getrusage");
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        tv(usage.ru_utime) + tv(usage.ru_stime)
    }

    /// (a) The bench's floor, as `benches/src/workloads/syscall_floor.rs`
    /// measures it: 20,000 blocking round trips on one pair (after 2,000).
    fn floor() -> io::Result<Sample> {
        const ROUND_TRIPS: u32 = 20_000;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let mut client = TcpStream::connect(listener.local_addr()?)?;
        let (mut server, _) = listener.accept()?;
        client.set_nodelay(true)?;
        server.set_nodelay(true)?;
        let mut buf = [7u8; MESSAGE];
        let mut round_trip = || -> io::Result<()> {
            client.write_all(&buf)?;
            server.read_exact(&mut buf)?;
            server.write_all(&buf)?;
            client.read_exact(&mut buf)
        };
        for _ in 0..ROUND_TRIPS / 10 {
            round_trip()?;
        }
        let (cpu, start) = (cpu_now(), Instant::now());
        for _ in 0..ROUND_TRIPS {
            round_trip()?;
        }
        Ok(Sample {
            wall: start.elapsed().as_nanos() as f64 / f64::from(ROUND_TRIPS),
            cpu: (cpu_now() - cpu).as_nanos() as f64 / f64::from(ROUND_TRIPS),
        })
    }

    /// One client/server pair of sockets.
    struct Pair {
        client: TcpStream,
        server: TcpStream,
    }

    /// `CONNECTIONS` loopback pairs, `TCP_NODELAY` on the client side only
    /// (as `tcp-echo` sets it).
    fn connect_pairs(nonblocking: bool) -> io::Result<Vec<Pair>> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        (0..CONNECTIONS)
            .map(|_| {
                let client = TcpStream::connect(addr)?;
                let (server, _) = listener.accept()?;
                client.set_nodelay(true)?;
                client.set_nonblocking(nonblocking)?;
                server.set_nonblocking(nonblocking)?;
                Ok(Pair { client, server })
            })
            .collect()
    }

    /// Times `run(pairs, per_conn)` after an untimed `run(pairs, per_conn / 10)`.
    fn in_process(
        per_conn: usize,
        nonblocking: bool,
        run: impl Fn(&[Pair], usize) -> io::Result<()>,
    ) -> io::Result<Sample> {
        let pairs = connect_pairs(nonblocking)?;
        run(&pairs, per_conn / 10)?;
        let (cpu, start) = (cpu_now(), Instant::now());
        run(&pairs, per_conn)?;
        let ops = (per_conn * CONNECTIONS) as f64;
        Ok(Sample {
            wall: start.elapsed().as_nanos() as f64 / ops,
            cpu: (cpu_now() - cpu).as_nanos() as f64 / ops,
        })
    }

    /// The byte every byte of client `i`'s message of round `round` is.
    fn message_byte(i: usize, round: usize) -> u8 {
        (i.wrapping_mul(31).wrapping_add(round) & 0xff) as u8
    }

    /// (corio, tokio-ct) The bench binary's own `tcp-echo`, in a child.
    fn bench_child(bench: &std::path::Path, runtime: &str, size: usize) -> io::Result<Sample> {
        let cpu = children_cpu();
        let out = Command::new(bench)
            .args(["--workload", "tcp-echo", "--runtime", runtime, "--json"])
            .args(["--size", &size.to_string()])
            .output()?;
        let cpu = (children_cpu() - cpu).as_nanos() as f64;
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        if !out.status.success() {
            return Err(io::Error::other(format!("{bench:?} {runtime}: {stderr}")));
        }
        let field = |text: &str, key: &str, end: char| -> Option<f64> {
            let rest = &text[text.find(key)? + key.len()..];
            rest[..rest.find(end)?].trim().parse().ok()
        };
        let wall = field(&stdout, "\"ns_per_op\":", ',')
            .ok_or_else(|| bad(format!("no ns_per_op in {stdout}")))?;
        // The child also measured the floor (22,000 round trips): take its CPU out.
        let floor_cpu = field(&stderr, "ns per round trip, ", 'n').unwrap_or(0.0) * 22_000.0;
        let ops = (size + size / 10) as f64;
        Ok(Sample {
            wall,
            cpu: (cpu - floor_cpu) / ops,
        })
    }

    /// Panics with the OS error of a failed libc call.
    fn check(rc: libc::c_int, what: &str) -> libc::c_int {
        assert!(rc >= 0, "{what}: {}", io::Error::last_os_error());
        rc
    }

    /// (b) Edge-triggered epoll echo: `per_conn` round trips on every pair.
    fn epoll_echo(pairs: &[Pair], per_conn: usize) -> io::Result<()> {
        if per_conn == 0 {
            return Ok(());
        }
        // SAFETY: plain syscall, no pointers.
        let ep = check(
            unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) },
            "epoll_create1",
        );
        for (token, fd) in pairs
            .iter()
            .flat_map(|p| [p.client.as_raw_fd(), p.server.as_raw_fd()])
            .enumerate()
        {
            let mut ev = libc::epoll_event {
                events: (libc::EPOLLIN | libc::EPOLLET) as u32,
                u64: token as u64,
            };
            // SAFETY: `ev` is a valid epoll_event for the call's duration.
            check(
                unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) },
                "epoll_ctl",
            );
        }
        let mut rounds = vec![0usize; pairs.len()];
        let mut got = vec![0usize; pairs.len()];
        for (i, p) in pairs.iter().enumerate() {
            (&p.client).write_all(&[message_byte(i, 0); MESSAGE])?;
        }
        let mut done = 0;
        let mut buf = [0u8; 2048];
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
        while done < pairs.len() {
            // SAFETY: `events` is a writable array of the length passed.
            let n = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), events.len() as i32, -1) };
            if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            for ev in &events[..check(n, "epoll_wait") as usize] {
                let (i, server) = ((ev.u64 / 2) as usize, ev.u64 % 2 == 1);
                let p = &pairs[i];
                if server {
                    // Echo until a short read says the queue is empty.
                    loop {
                        let n = match (&p.server).read(&mut buf) {
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                            r => r?,
                        };
                        assert!(n > 0, "server {i}: unexpected EOF");
                        (&p.server).write_all(&buf[..n])?;
                        if n < buf.len() {
                            break;
                        }
                    }
                } else {
                    let n = match (&p.client).read(&mut buf) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        r => r?,
                    };
                    assert!(n > 0 && got[i] + n <= MESSAGE, "client {i}: read {n}");
                    let want = message_byte(i, rounds[i]);
                    assert!(
                        buf[..n].iter().all(|&b| b == want),
                        "client {i}: wrong echo"
                    );
                    got[i] += n;
                    if got[i] == MESSAGE {
                        got[i] = 0;
                        rounds[i] += 1;
                        if rounds[i] < per_conn {
                            (&p.client).write_all(&[message_byte(i, rounds[i]); MESSAGE])?;
                        } else {
                            done += 1;
                        }
                    }
                }
            }
        }
        // SAFETY: `ep` is our epoll fd, closed once.
        unsafe { libc::close(ep) };
        Ok(())
    }

    /// Memory the kernel reads or writes through SQEs: allocated once and
    /// never moved, reached only through raw pointers (no Rust reference to
    /// it is held while the kernel may write it), and freed only once
    /// `quiet` says no SQE refers to it any more; otherwise leaked.
    struct KernelMem {
        ptr: NonNull<u8>,
        layout: Layout,
        quiet: bool,
    }

    impl KernelMem {
        fn new(len: usize, align: usize) -> KernelMem {
            let layout = Layout::from_size_align(len, align).expect("layout");
            // SAFETY: `layout` has a non-zero size (every caller asks for > 0).
            let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
            let ptr = NonNull::new(ptr).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
            KernelMem {
                ptr,
                layout,
                quiet: false,
            }
        }

        /// The address `offset` bytes in, for `len` bytes.
        fn at(&self, offset: usize, len: usize) -> *mut u8 {
            assert!(offset + len <= self.layout.size(), "out of bounds");
            // SAFETY: in bounds of the allocation, checked above.
            unsafe { self.ptr.as_ptr().add(offset) }
        }
    }

    impl Drop for KernelMem {
        fn drop(&mut self) {
            if self.quiet {
                // SAFETY: allocated in `new` with this layout, and no SQE
                // refers to it any more (`quiet`).
                unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) };
            }
        }
    }

    /// A socket as an SQE names it.
    #[derive(Clone, Copy)]
    enum Target {
        Fd(RawFd),
        Fixed(u32),
    }

    macro_rules! on_target {
        ($target:expr, |$fd:ident| $make:expr) => {
            match $target {
                Target::Fd(raw) => {
                    let $fd = types::Fd(raw);
                    $make
                }
                Target::Fixed(index) => {
                    let $fd = types::Fixed(index);
                    $make
                }
            }
        };
    }

    /// One entry of a provided-buffer ring (`struct io_uring_buf`); the
    /// ring's tail is entry 0's `resv`.
    #[repr(C)]
    struct PBufEntry {
        addr: u64,
        len: u32,
        bid: u16,
        resv: u16,
    }

    /// One socket's state: index `k` = 2 × connection + (1 on the server side).
    #[derive(Default)]
    struct Side {
        recv_armed: bool,
        send_len: Option<usize>,
        got: usize,
        round: usize,
    }

    /// (c, d) io_uring echo: `per_conn` round trips on every pair.
    fn uring_echo(pairs: &[Pair], per_conn: usize, cfg: Cfg) -> io::Result<()> {
        if per_conn == 0 {
            return Ok(());
        }
        let mut builder = IoUring::builder();
        if cfg.defer {
            builder.setup_single_issuer().setup_defer_taskrun();
        }
        let mut ring: IoUring = builder
            .setup_cqsize(4096)
            .build(1024)
            .map_err(ctx("io_uring_setup"))?;
        let fds: Vec<RawFd> = pairs
            .iter()
            .flat_map(|p| [p.client.as_raw_fd(), p.server.as_raw_fd()])
            .collect();
        let sides = fds.len();
        // Per side: a receive buffer then a send buffer, MESSAGE bytes each.
        let mut own = KernelMem::new(sides * 2 * MESSAGE, 64);
        let recv_at = |k: usize| (2 * k) * MESSAGE;
        let send_at = |k: usize| (2 * k + 1) * MESSAGE;
        // The provided-buffer ring (page-aligned) and its buffers.
        let mut pring = KernelMem::new(usize::from(PBUF_ENTRIES) * 16, 4096);
        let mut pbufs = KernelMem::new(usize::from(PBUF_ENTRIES) * PBUF_SIZE, 64);
        let (mut submitter, mut sq, mut cq) = ring.split();
        if cfg.fixed {
            submitter
                .register_files(&fds)
                .map_err(ctx("register_files"))?;
            submitter
                .register_ring_fd()
                .map_err(ctx("register_ring_fd"))?;
        }
        let target = |k: usize| {
            if cfg.fixed {
                Target::Fixed(k as u32)
            } else {
                Target::Fd(fds[k])
            }
        };
        let entries = pring
            .at(0, usize::from(PBUF_ENTRIES) * size_of::<PBufEntry>())
            .cast::<PBufEntry>();
        // SAFETY: entry 0 lies inside `pring`; no reference is made.
        let tail_ptr = unsafe { std::ptr::addr_of_mut!((*entries).resv) };
        let mut tail: u16 = 0;
        let give_back = |bid: u16, tail: &mut u16| {
            // SAFETY: the slot at `tail` is outside the kernel's window
            // [head, tail): at most PBUF_ENTRIES buffers are ever in the
            // ring, and `bid` was just handed to us, so the window has room.
            // Only this thread writes the ring, and only through raw
            // pointers (no reference overlaps the atomic tail in entry 0).
            unsafe {
                let entry = entries.add(usize::from(*tail & (PBUF_ENTRIES - 1)));
                let addr = pbufs.at(usize::from(bid) * PBUF_SIZE, PBUF_SIZE) as u64;
                std::ptr::addr_of_mut!((*entry).addr).write(addr);
                std::ptr::addr_of_mut!((*entry).len).write(PBUF_SIZE as u32);
                std::ptr::addr_of_mut!((*entry).bid).write(bid);
            }
            *tail = tail.wrapping_add(1);
        };
        let publish = |tail: u16| {
            // SAFETY: `tail_ptr` is aligned, inside `pring` (alive until the
            // end of this function), and only ever accessed atomically: by
            // us here and by the kernel's acquire loads.
            unsafe { AtomicU16::from_ptr(tail_ptr) }.store(tail, Ordering::Release);
        };
        if cfg.multishot {
            for bid in 0..PBUF_ENTRIES {
                give_back(bid, &mut tail);
            }
            publish(tail);
            // SAFETY: `pring` is page-aligned, PBUF_ENTRIES entries long, and
            // lives (unmoved) until after `unregister_buf_ring` below, or is
            // leaked.
            unsafe {
                submitter
                    .register_buf_ring_with_flags(entries as u64, PBUF_ENTRIES, BGID, 0)
                    .map_err(ctx("register_buf_ring"))?
            };
        }

        let mut state: Vec<Side> = (0..sides).map(|_| Side::default()).collect();
        let mut inflight = 0usize;
        let mut pending: Vec<squeue::Entry> = Vec::with_capacity(4 * sides);
        let recv_sqe = |k: usize, got: usize| -> squeue::Entry {
            let entry = if cfg.multishot {
                on_target!(target(k), |fd| opcode::RecvMulti::new(fd, BGID).build())
            } else {
                let buf = own.at(recv_at(k) + got, MESSAGE - got);
                let ioprio = if cfg.poll_first {
                    RECVSEND_POLL_FIRST
                } else {
                    0
                };
                on_target!(target(k), |fd| opcode::Recv::new(
                    fd,
                    buf,
                    (MESSAGE - got) as u32
                )
                .ioprio(ioprio)
                .build())
            };
            entry.user_data((k as u64) << 1)
        };
        let send_sqe = |k: usize, len: usize| -> squeue::Entry {
            let buf = own.at(send_at(k), len);
            on_target!(target(k), |fd| opcode::Send::new(fd, buf, len as u32)
                .build())
            .user_data(((k as u64) << 1) | 1)
        };
        let write_message = |k: usize, byte: u8| {
            // SAFETY: no SEND SQE on side `k` is in flight (checked by the
            // callers through `send_len`), so nothing else touches it.
            unsafe { own.at(send_at(k), MESSAGE).write_bytes(byte, MESSAGE) };
        };
        let send_now = |k: usize, len: usize| {
            let buf = own.at(send_at(k), len);
            // SAFETY: `buf` is valid for `len` bytes (in `own`) and no SQE
            // refers to it; a blocking send on our own connected socket.
            let sent = unsafe { libc::send(fds[k], buf.cast(), len, libc::MSG_NOSIGNAL) };
            assert_eq!(sent, len as isize, "side {k}: send");
        };
        // Sends `len` bytes of side `k`'s send buffer: an SQE, or (for
        // `-sendsyscall`) a plain `send` right now.
        macro_rules! send {
            ($side:expr, $k:expr, $len:expr) => {
                if cfg.direct_send {
                    send_now($k, $len);
                } else {
                    pending.push(send_sqe($k, $len));
                    $side.send_len = Some($len);
                    inflight += 1;
                }
            };
        }
        for (k, side) in state.iter_mut().enumerate() {
            pending.push(recv_sqe(k, 0));
            side.recv_armed = true;
            inflight += 1;
            if k % 2 == 0 {
                write_message(k, message_byte(k / 2, 0));
                send!(side, k, MESSAGE);
            }
        }
        let mut done = 0;
        let mut cancelling = false;
        loop {
            if done == pairs.len() && !cancelling {
                cancelling = true;
                pending.push(
                    opcode::AsyncCancel2::new(types::CancelBuilder::any())
                        .build()
                        .user_data(CANCEL),
                );
                inflight += 1;
            }
            if cancelling && inflight == 0 {
                break;
            }
            for entry in pending.drain(..) {
                // SAFETY: every buffer an SQE names lies in `own` or `pbufs`,
                // which stay allocated and unmoved until `inflight` is back
                // to 0 (or are leaked), and are not otherwise touched while
                // the SQE is in flight.
                while unsafe { sq.push(&entry) }.is_err() {
                    sq.sync();
                    submitter.submit().map_err(ctx("submit (SQ full)"))?;
                }
            }
            sq.sync();
            match submitter.submit_and_wait(1) {
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                // The CQ overflowed (the kernel holds the extra CQEs): reap,
                // then submit again (the SQEs are still queued). Said, so
                // that a run where it happens is known.
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                    cq.sync();
                    eprintln!("EBUSY from io_uring_enter with {} CQEs ready", cq.len());
                }
                r => {
                    r.map_err(ctx("submit_and_wait"))?;
                }
            }
            cq.sync();
            for cqe in &mut cq {
                let (data, res, flags) = (cqe.user_data(), cqe.result(), cqe.flags());
                if data == CANCEL {
                    inflight -= 1;
                    continue;
                }
                let (k, is_send) = ((data >> 1) as usize, data & 1 == 1);
                let side = &mut state[k];
                if is_send {
                    inflight -= 1;
                    let len = side
                        .send_len
                        .take()
                        .expect("send completion without a send");
                    let cancelled = cancelling && res == -libc::ECANCELED;
                    assert!(cancelled || res == len as i32, "side {k}: send gave {res}");
                    continue;
                }
                if !cfg.multishot || !cqueue::more(flags) {
                    inflight -= 1;
                    side.recv_armed = false;
                }
                if res == -libc::ECANCELED && cancelling {
                    continue;
                }
                if res == -libc::ENOBUFS && cfg.multishot {
                    eprintln!("side {k}: ENOBUFS");
                } else {
                    assert!(res > 0, "side {k}: recv gave {res}");
                    let n = res as usize;
                    let (src, bid) = if cfg.multishot {
                        let bid = cqueue::buffer_select(flags).expect("no buffer id");
                        (pbufs.at(usize::from(bid) * PBUF_SIZE, n), Some(bid))
                    } else {
                        (own.at(recv_at(k) + side.got, n), None)
                    };
                    if k % 2 == 1 {
                        assert!(
                            side.send_len.is_none() && n <= MESSAGE,
                            "server {k}: echo overlap"
                        );
                        // SAFETY: the kernel wrote `n` bytes at `src` and is
                        // done with them (the CQE); no send is in flight on
                        // `k`'s send buffer, so the ranges are ours.
                        unsafe { std::ptr::copy_nonoverlapping(src, own.at(send_at(k), n), n) };
                        send!(side, k, n);
                    } else {
                        let want = message_byte(k / 2, side.round);
                        // SAFETY: as above, the kernel wrote these `n` bytes
                        // and no SQE refers to them any more.
                        let echo = unsafe { std::slice::from_raw_parts(src, n) };
                        assert!(
                            side.got + n <= MESSAGE && echo.iter().all(|&b| b == want),
                            "client {k}: wrong echo"
                        );
                        side.got += n;
                        if side.got == MESSAGE {
                            side.got = 0;
                            side.round += 1;
                            if side.round < per_conn {
                                assert!(side.send_len.is_none(), "client {k}: send overlap");
                                write_message(k, message_byte(k / 2, side.round));
                                send!(side, k, MESSAGE);
                            } else {
                                done += 1;
                            }
                        }
                    }
                    if let Some(bid) = bid {
                        give_back(bid, &mut tail);
                    }
                }
                let client_done = k % 2 == 0 && side.round >= per_conn;
                if !side.recv_armed && !cancelling && !client_done {
                    pending.push(recv_sqe(k, side.got));
                    side.recv_armed = true;
                    inflight += 1;
                }
            }
            if cfg.multishot {
                publish(tail);
            }
        }
        if cfg.multishot {
            submitter
                .unregister_buf_ring(BGID)
                .map_err(ctx("unregister_buf_ring"))?;
        }
        if cfg.fixed {
            // A registered ring fd lives in the thread's own table (16
            // slots) and holds the ring open until it is unregistered:
            // closing the ring does not free the slot.
            submitter
                .unregister_ring_fd()
                .map_err(ctx("unregister_ring_fd"))?;
        }
        // Nothing in flight, the buffer ring unregistered: the memory is ours.
        own.quiet = true;
        pring.quiet = true;
        pbufs.quiet = true;
        Ok(())
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        let m = v.len() / 2;
        if v.len() % 2 == 1 {
            v[m]
        } else {
            (v[m - 1] + v[m]) / 2.0
        }
    }

    /// The summary table, on stdout.
    fn report(chosen: &[(&str, Kind)], samples: &[Vec<Sample>]) {
        let find = |name: &str| chosen.iter().position(|(n, _)| *n == name);
        let ratio = |i: usize, base: Option<usize>, cpu: bool| -> String {
            match base {
                Some(b) => {
                    let pick = |s: &Sample| if cpu { s.cpu } else { s.wall };
                    let r = samples[i]
                        .iter()
                        .zip(&samples[b])
                        .map(|(x, y)| pick(x) / pick(y));
                    format!("{:.2}", median(r.collect()))
                }
                None => "-".to_owned(),
            }
        };
        println!(
            "| variant | wall ns/rt (median) | wall min-max | CPU ns/rt (median) | CPU min-max | \
             wall / floor | CPU / floor | wall / tokio-ct | CPU / tokio-ct |"
        );
        println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        for (i, (name, _)) in chosen.iter().enumerate() {
            let wall: Vec<f64> = samples[i].iter().map(|s| s.wall).collect();
            let cpu: Vec<f64> = samples[i].iter().map(|s| s.cpu).collect();
            let range = |v: &[f64]| {
                let (lo, hi) = v
                    .iter()
                    .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
                format!("{lo:.0}-{hi:.0}")
            };
            println!(
                "| {name} | {:.0} | {} | {:.0} | {} | {} | {} | {} | {} |",
                median(wall.clone()),
                range(&wall),
                median(cpu.clone()),
                range(&cpu),
                ratio(i, find("floor"), false),
                ratio(i, find("floor"), true),
                ratio(i, find("tokio-ct"), false),
                ratio(i, find("tokio-ct"), true),
            );
        }
    }
}
