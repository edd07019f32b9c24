//! What one workload run yields, and the process's peak memory.

use std::time::Duration;

/// The outcome of one timed workload run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Measurement {
    /// How many operations the run performed (the divisor of `ns_per_op`).
    pub(crate) ops: u64,
    /// Time the whole workload took inside the runtime, excluding the
    /// runtime's construction: wall time, or CPU time if `cpu` is set.
    pub(crate) elapsed: Duration,
    /// Whether `elapsed` is the process's CPU time rather than wall time.
    pub(crate) cpu: bool,
}

impl Measurement {
    /// A measurement of `ops` operations that took `elapsed` (wall time) in all.
    pub(crate) fn new(ops: usize, elapsed: Duration) -> Measurement {
        Measurement {
            ops: ops as u64,
            elapsed,
            cpu: false,
        }
    }

    /// The clock `elapsed` was read from: `"cpu"` or `"wall"`.
    pub(crate) fn clock(&self) -> &'static str {
        if self.cpu {
            "cpu"
        } else {
            "wall"
        }
    }

    /// Mean nanoseconds per operation.
    pub(crate) fn ns_per_op(&self) -> f64 {
        self.elapsed.as_nanos() as f64 / self.ops.max(1) as f64
    }
}

/// CPU time (user + system, all threads) this process has used so far, or
/// `None` where the platform has no such clock.
///
/// Workloads that mostly wait (the timers) are timed with this rather than
/// with the wall clock: their idle waiting is the same on every runtime and
/// would drown the runtimes' own costs.
pub(crate) fn process_cpu_time() -> Option<Duration> {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec for the duration of the
        // call, and CLOCK_PROCESS_CPUTIME_ID is a clock every unix we build
        // on has.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// A stopwatch over the process's CPU time, falling back to the wall clock
/// where there is no CPU clock.
pub(crate) struct CpuTimer {
    /// CPU time at the start, if the clock exists.
    cpu: Option<Duration>,
    /// Wall time at the start (the fallback).
    wall: std::time::Instant,
}

impl CpuTimer {
    /// Starts the stopwatch.
    pub(crate) fn start() -> CpuTimer {
        CpuTimer {
            cpu: process_cpu_time(),
            wall: std::time::Instant::now(),
        }
    }

    /// A measurement of `ops` operations ending now, marked as CPU time
    /// (or as wall time where there is no CPU clock).
    pub(crate) fn measurement(&self, ops: usize) -> Measurement {
        match (self.cpu, process_cpu_time()) {
            (Some(start), Some(now)) => Measurement {
                ops: ops as u64,
                elapsed: now.saturating_sub(start),
                cpu: true,
            },
            _ => Measurement::new(ops, self.wall.elapsed()),
        }
    }
}

/// The process's peak resident set size in KiB (`VmHWM` in
/// `/proc/self/status`), or `None` where that file is unavailable.
pub(crate) fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

/// Extracts the `VmHWM` value, in KiB, from the text of `/proc/<pid>/status`.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut fields = line["VmHWM:".len()..].split_whitespace();
    let value: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") | None => Some(value),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vm_hwm() {
        let status =
            "Name:\tcorio-benches\nVmPeak:\t  20000 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(12345));
        assert_eq!(parse_vm_hwm("VmRSS:\t 1000 kB\n"), None);
    }

    #[test]
    fn ns_per_op_divides_by_ops() {
        let m = Measurement::new(4, Duration::from_nanos(10));
        assert_eq!(m.ns_per_op(), 2.5);
    }

    #[cfg(unix)]
    #[test]
    fn cpu_timer_counts_busy_time() {
        let timer = CpuTimer::start();
        let wall = std::time::Instant::now();
        let mut x = 0u64;
        while wall.elapsed() < Duration::from_millis(20) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let m = timer.measurement(1);
        assert!(m.cpu && m.clock() == "cpu");
        assert!(m.elapsed >= Duration::from_millis(10), "{x}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_own_peak_rss() {
        assert!(peak_rss_kib().is_some_and(|kib| kib > 0));
    }
}
