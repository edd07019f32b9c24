//! What one workload run yields, and the process's peak memory.

use std::time::Duration;

/// The outcome of one timed workload run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Measurement {
    /// How many operations the run performed (the divisor of `ns_per_op`).
    pub(crate) ops: u64,
    /// Wall time of the whole workload inside the runtime, excluding the
    /// runtime's construction.
    pub(crate) elapsed: Duration,
}

impl Measurement {
    /// A measurement of `ops` operations that took `elapsed` in all.
    pub(crate) fn new(ops: usize, elapsed: Duration) -> Measurement {
        Measurement {
            ops: ops as u64,
            elapsed,
        }
    }

    /// Mean nanoseconds per operation.
    pub(crate) fn ns_per_op(&self) -> f64 {
        self.elapsed.as_nanos() as f64 / self.ops.max(1) as f64
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

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_own_peak_rss() {
        assert!(peak_rss_kib().is_some_and(|kib| kib > 0));
    }
}
