//! The probe's driver: the variants, the interleaved rounds, the floor,
//! the bench-binary children and the report.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{epoll::*, uring::*};

/// Connections, as in `tcp-echo`.
pub(crate) const CONNECTIONS: usize = 64;
/// Bytes per message, as in `tcp-echo`.
pub(crate) const MESSAGE: usize = 64;
/// Entries of the provided-buffer ring (a power of two).
pub(crate) const PBUF_ENTRIES: u16 = 512;
/// Bytes per provided buffer.
pub(crate) const PBUF_SIZE: usize = 1024;
/// The provided-buffer group id.
pub(crate) const BGID: u16 = 7;
/// `IORING_RECVSEND_POLL_FIRST` (not exported by the crate): arm the
/// poll before trying the receive.
pub(crate) const RECVSEND_POLL_FIRST: u16 = 1;
/// `user_data` of the final cancel-everything SQE.
pub(crate) const CANCEL: u64 = u64::MAX;

/// What one variant is.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Floor,
    Epoll,
    Uring(Cfg),
    Bench(&'static str),
}

/// The io_uring knobs.
#[derive(Clone, Copy)]
pub(crate) struct Cfg {
    pub(crate) multishot: bool,
    pub(crate) defer: bool,
    pub(crate) fixed: bool,
    pub(crate) poll_first: bool,
    pub(crate) direct_send: bool,
}

pub(crate) const fn uring(multishot: bool, defer: bool, fixed: bool) -> Kind {
    Kind::Uring(Cfg {
        multishot,
        defer,
        fixed,
        poll_first: false,
        direct_send: false,
    })
}

/// Every variant, in report order.
pub(crate) const VARIANTS: &[(&str, Kind)] = &[
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
pub(crate) struct Sample {
    wall: f64,
    cpu: f64,
}

pub(crate) fn main() -> io::Result<()> {
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
pub(crate) fn ctx(what: &'static str) -> impl Fn(io::Error) -> io::Error {
    move |e| io::Error::new(e.kind(), format!("{what}: {e}"))
}

pub(crate) fn bad(e: impl ToString) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
}

/// CPU time this process (all its threads) has used.
pub(crate) fn cpu_now() -> Duration {
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
pub(crate) fn children_cpu() -> Duration {
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
pub(crate) fn floor() -> io::Result<Sample> {
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
pub(crate) struct Pair {
    pub(crate) client: TcpStream,
    pub(crate) server: TcpStream,
}

/// `CONNECTIONS` loopback pairs, `TCP_NODELAY` on the client side only
/// (as `tcp-echo` sets it).
pub(crate) fn connect_pairs(nonblocking: bool) -> io::Result<Vec<Pair>> {
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
pub(crate) fn in_process(
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
pub(crate) fn message_byte(i: usize, round: usize) -> u8 {
    (i.wrapping_mul(31).wrapping_add(round) & 0xff) as u8
}

/// (corio, tokio-ct) The bench binary's own `tcp-echo`, in a child.
pub(crate) fn bench_child(
    bench: &std::path::Path,
    runtime: &str,
    size: usize,
) -> io::Result<Sample> {
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
pub(crate) fn check(rc: libc::c_int, what: &str) -> libc::c_int {
    assert!(rc >= 0, "{what}: {}", io::Error::last_os_error());
    rc
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// The summary table, on stdout.
pub(crate) fn report(chosen: &[(&str, Kind)], samples: &[Vec<Sample>]) {
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
