//! The hyper load benchmark of `cargo xtask bench`: `corio-benches --serve
//! hyper` on each runtime, loaded by `wrk` on loopback.
//!
//! For each sample and runtime: start `corio-benches --serve hyper --runtime
//! R --port 0`, read the port from its `listening on 127.0.0.1:PORT` line,
//! run `wrk -t1 -c64 -d5s --latency` against it (`-d2s` with `--quick`),
//! parse Requests/sec and the p50/p99 latencies, then kill the server and
//! wait for it. Runtimes are interleaved within each round, as the other
//! workloads are. Runtimes that have no server (smol) are left out. The
//! single-threaded servers ([`SERVED`]) and the multi-threaded ones
//! ([`SERVED_MT`], with `--workers N`) are two runs of their own.
//!
//! Pinning: wrk and the server share the machine, so where `taskset` is on
//! `PATH` and there are at least two CPUs, a single-threaded server runs on
//! CPU 0 and wrk on CPU 1 (`taskset -c`), so neither runtime's numbers depend
//! on where the scheduler happened to put the two processes. The
//! multi-threaded servers are not pinned (their workers need the CPUs wrk
//! would be kept off). The report says which was done.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::Result;

/// The load generator.
pub(crate) const TOOL: &str = "wrk";

/// The single-threaded runtimes that `corio-benches --serve hyper` runs on.
pub(crate) const SERVED: &[&str] = &["corio", "tokio-ct"];

/// The multi-threaded runtimes that `corio-benches --serve hyper` runs on
/// (with `--workers N`).
pub(crate) const SERVED_MT: &[&str] = &["corio-mt", "tokio-mt"];

/// wrk's threads: one, so that wrk leaves the server as much of the
/// machine as it can.
pub(crate) const THREADS: u32 = 1;

/// wrk's open connections, all kept alive.
pub(crate) const CONNECTIONS: u32 = 64;

/// Seconds of load per sample in a full run.
pub(crate) const DURATION_S: u32 = 5;

/// Seconds of load per sample with `--quick`.
pub(crate) const QUICK_DURATION_S: u32 = 2;

/// Samples per runtime unless `--samples` says otherwise (each takes
/// [`DURATION_S`] seconds).
pub(crate) const SAMPLES: usize = 3;

/// What to tell the user when there is no wrk.
pub(crate) const MISSING: &str = "wrk not found: install it with `apt-get install wrk` \
     (Debian/Ubuntu) to run the hyper load benchmark";

/// Where the server and wrk run: the CPU numbers `taskset -c` is given.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Pinning {
    /// The server's CPU.
    pub(crate) server_cpu: usize,
    /// wrk's CPU.
    pub(crate) wrk_cpu: usize,
}

/// The pinning of a single-threaded server and wrk: CPUs 0 and 1, where
/// `taskset` exists and there are two CPUs; `None` otherwise.
fn pinning() -> Option<Pinning> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    (cpus >= 2 && on_path("taskset").is_some()).then_some(Pinning {
        server_cpu: 0,
        wrk_cpu: 1,
    })
}

/// `program` as a command, run under `taskset -c cpu` when `cpu` is given.
fn pinned(program: &Path, cpu: Option<usize>) -> Command {
    match cpu {
        Some(cpu) => {
            let mut cmd = Command::new("taskset");
            cmd.arg("-c").arg(cpu.to_string()).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// One wrk run against one server.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LoadSample {
    /// wrk's `Requests/sec`.
    pub(crate) requests_per_sec: f64,
    /// The median latency, in milliseconds.
    pub(crate) p50_ms: f64,
    /// The 99th-percentile latency, in milliseconds.
    pub(crate) p99_ms: f64,
    /// Socket errors plus non-2xx/3xx responses wrk counted.
    pub(crate) errors: u64,
}

/// Every sample of the server on one runtime.
#[derive(Clone, Debug, Default)]
pub(crate) struct LoadSeries {
    /// The runtime's name.
    pub(crate) runtime: String,
    /// The successful samples, in the order they were taken.
    pub(crate) samples: Vec<LoadSample>,
    /// Why sampling stopped early, if it did.
    pub(crate) error: Option<String>,
}

/// The hyper load benchmark's outcome.
#[derive(Clone, Debug)]
pub(crate) enum LoadResult {
    /// It ran: the wrk settings and one series per served runtime.
    Ran {
        /// wrk's `-d`, in seconds.
        duration_s: u32,
        /// The CPUs the server and wrk were pinned to, if they were.
        pinning: Option<Pinning>,
        /// One series per runtime in [`SERVED`].
        series: Vec<LoadSeries>,
    },
    /// It could not run: why.
    Skipped(String),
}

/// Finds `wrk`; with `install` (and as root), tries `apt-get install -y wrk`
/// when it is missing. `Err` carries the message to show when there is none.
pub(crate) fn find_tool(install: bool) -> std::result::Result<PathBuf, String> {
    if let Some(path) = on_path(TOOL) {
        return Ok(path);
    }
    if !install {
        return Err(format!(
            "{MISSING} (or pass --install-tools, as root, to have xtask do it)"
        ));
    }
    if !is_root() {
        return Err(format!("{MISSING} (--install-tools needs root)"));
    }
    for args in [
        &["install", "-y", TOOL][..],
        &["update"],
        &["install", "-y", TOOL],
    ] {
        eprintln!("bench: $ apt-get {}", args.join(" "));
        match Command::new("apt-get").args(args).status() {
            Ok(status) if status.success() => {
                if let Some(path) = on_path(TOOL) {
                    return Ok(path);
                }
            }
            Ok(status) => eprintln!("bench: apt-get {} failed ({status})", args.join(" ")),
            Err(e) => return Err(format!("{MISSING} (could not run apt-get: {e})")),
        }
    }
    Err(format!("{MISSING} (`apt-get install -y wrk` did not work)"))
}

/// The first executable file called `name` in `$PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether this process runs as root (its real uid in `/proc` is 0).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next().map(|uid| uid == "0"))
            .unwrap_or(false)
    })
}

/// Takes `samples` rounds, one wrk run per runtime in `served` per round,
/// rotating which runtime goes first; `workers` goes to the servers as
/// `--workers` (for the multi-threaded ones).
pub(crate) fn run(
    exe: &Path,
    wrk: &Path,
    quick: bool,
    samples: usize,
    served: &[&str],
    workers: Option<u64>,
) -> LoadResult {
    let duration_s = if quick { QUICK_DURATION_S } else { DURATION_S };
    let pinning = workers.is_none().then(pinning).flatten();
    match pinning {
        Some(p) => eprintln!(
            "bench: hyper: server pinned to CPU {}, wrk to CPU {} (taskset -c)",
            p.server_cpu, p.wrk_cpu
        ),
        None => eprintln!("bench: hyper: server and wrk not pinned"),
    }
    let mut series: Vec<LoadSeries> = served
        .iter()
        .map(|r| LoadSeries {
            runtime: (*r).to_owned(),
            ..LoadSeries::default()
        })
        .collect();
    let n = series.len();
    for round in 0..samples {
        for i in 0..n {
            let s = &mut series[(i + round) % n];
            if s.error.is_some() {
                continue;
            }
            match run_once(exe, wrk, &s.runtime, workers, duration_s, pinning) {
                Ok(sample) => {
                    eprintln!(
                        "bench: hyper      round {}/{samples}  {:<12} {:>10.0} req/s  p50 {:.3} ms  p99 {:.3} ms",
                        round + 1,
                        s.runtime,
                        sample.requests_per_sec,
                        sample.p50_ms,
                        sample.p99_ms
                    );
                    s.samples.push(sample);
                }
                Err(error) => {
                    eprintln!("bench: hyper on {}: {error}", s.runtime);
                    s.error = Some(error.to_string());
                }
            }
        }
    }
    LoadResult::Ran {
        duration_s,
        pinning,
        series,
    }
}

/// Kills the server when dropped, and waits for it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        // Best effort: it may have exited already.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server on `runtime` (with `--workers`, if given), loads it
/// with wrk once, stops it; each pinned to its CPU if `pinning` says so.
fn run_once(
    exe: &Path,
    wrk: &Path,
    runtime: &str,
    workers: Option<u64>,
    duration_s: u32,
    pinning: Option<Pinning>,
) -> Result<LoadSample> {
    let mut cmd = pinned(exe, pinning.map(|p| p.server_cpu));
    cmd.args(["--serve", "hyper", "--runtime", runtime, "--port", "0"]);
    if let Some(n) = workers {
        cmd.arg("--workers").arg(n.to_string());
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not run {}: {e}", exe.display()))?;
    let mut server = Server(child);
    let stdout = server.0.stdout.take().ok_or("no stdout from the server")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let port = parse_listening(&line).ok_or_else(|| {
        format!(
            "the server did not say where it listens (`{}`)",
            line.trim()
        )
    })?;

    let url = format!("http://127.0.0.1:{port}/");
    let output = pinned(wrk, pinning.map(|p| p.wrk_cpu))
        .args([
            format!("-t{THREADS}"),
            format!("-c{CONNECTIONS}"),
            format!("-d{duration_s}s"),
            "--latency".to_owned(),
            url,
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("could not run {}: {e}", wrk.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("wrk failed ({}): {}{}", output.status, text, stderr.trim()).into());
    }
    // The server must have lived through the whole run.
    if let Some(status) = server.0.try_wait()? {
        return Err(format!("the server exited during the run ({status})").into());
    }
    drop(server);
    parse_wrk(&text).ok_or_else(|| format!("unexpected wrk output:\n{text}").into())
}

/// The port in the server's `listening on 127.0.0.1:PORT` line.
fn parse_listening(line: &str) -> Option<u16> {
    let addr = line.trim().strip_prefix("listening on ")?;
    addr.rsplit_once(':')?.1.parse().ok()
}

/// Parses `wrk --latency` output: Requests/sec, the 50% and 99% latencies,
/// and the errors it counted.
pub(crate) fn parse_wrk(text: &str) -> Option<LoadSample> {
    let mut requests_per_sec = None;
    let mut p50_ms = None;
    let mut p99_ms = None;
    let mut errors = 0;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            requests_per_sec = rest.trim().parse::<f64>().ok();
        } else if let Some(rest) = line.strip_prefix("50%") {
            p50_ms = duration_ms(rest.trim());
        } else if let Some(rest) = line.strip_prefix("99%") {
            p99_ms = duration_ms(rest.trim());
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 1, write 0, timeout 0"
            errors += rest
                .split(',')
                .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>();
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            errors += rest.trim().parse::<u64>().ok()?;
        }
    }
    Some(LoadSample {
        requests_per_sec: requests_per_sec?,
        p50_ms: p50_ms?,
        p99_ms: p99_ms?,
        errors,
    })
}

/// A wrk duration (`387.00us`, `1.20ms`, `2.00s`, `1.00m`) in milliseconds.
fn duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match unit {
        "us" => 1e-3,
        "ms" => 1.0,
        "s" => 1e3,
        "m" => 60e3,
        "h" => 3600e3,
        _ => return None,
    };
    Some(number * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `wrk -t1 -c64 -d2s --latency` against `corio-benches --serve hyper`.
    const WRK_OUTPUT: &str = "\
Running 2s test @ http://127.0.0.1:42489/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   394.11us   88.74us   3.69ms   98.58%
    Req/Sec   159.74k     4.62k  165.29k    85.00%
  Latency Distribution
     50%  387.00us
     75%  400.00us
     90%  417.00us
     99%  529.00us
  317072 requests in 2.00s, 26.91MB read
Requests/sec: 158420.19
Transfer/sec:     13.45MB
";

    #[test]
    fn parses_wrk_output() {
        let s = parse_wrk(WRK_OUTPUT).unwrap();
        assert_eq!(s.requests_per_sec, 158_420.19);
        assert!((s.p50_ms - 0.387).abs() < 1e-9, "{s:?}");
        assert!((s.p99_ms - 0.529).abs() < 1e-9, "{s:?}");
        assert_eq!(s.errors, 0);
    }

    #[test]
    fn counts_wrk_errors_and_units() {
        let text = WRK_OUTPUT
            .replace("99%  529.00us", "99%    1.50s")
            .replace(
                "Requests/sec:",
                "  Socket errors: connect 0, read 3, write 1, timeout 2\n  Non-2xx or 3xx responses: 5\nRequests/sec:",
            );
        let s = parse_wrk(&text).unwrap();
        assert_eq!(s.p99_ms, 1500.0);
        assert_eq!(s.errors, 11);
    }

    #[test]
    fn rejects_incomplete_wrk_output() {
        assert_eq!(parse_wrk(""), None);
        assert_eq!(parse_wrk(&WRK_OUTPUT.replace("Requests/sec", "Reqs")), None);
        assert_eq!(parse_wrk(&WRK_OUTPUT.replace("99%", "98%")), None);
    }

    #[test]
    fn parses_the_listening_line() {
        assert_eq!(
            parse_listening("listening on 127.0.0.1:42489\n"),
            Some(42489)
        );
        assert_eq!(parse_listening("listening on 127.0.0.1:\n"), None);
        assert_eq!(parse_listening(""), None);
    }

    #[test]
    fn converts_durations() {
        assert_eq!(duration_ms("250.00us"), Some(0.25));
        assert_eq!(duration_ms("3.50ms"), Some(3.5));
        assert_eq!(duration_ms("2.00s"), Some(2000.0));
        assert_eq!(duration_ms("12"), None);
        assert_eq!(duration_ms("1.0xs"), None);
    }
}
