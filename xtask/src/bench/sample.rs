//! Taking samples for `cargo xtask bench`: one `corio-benches` process per
//! sample, runtimes interleaved within each round, and what a run's exit
//! says (a result line, a failure, or a runtime that cannot be built here).

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::report::{Sample, Series, WorkloadResult};

/// How long one benchmark process may run before it is killed.
const TIMEOUT: Duration = Duration::from_secs(300);

/// The exit status with which `corio-benches` says that the runtime cannot
/// be built here (it is not supported on this system), after one line on
/// stderr saying why.
const UNAVAILABLE: i32 = 3;

/// The prefix of `corio-benches`' own error lines on stderr.
const ERROR_PREFIX: &str = "corio-benches: ";

/// Why a run gave no sample.
#[derive(Debug, PartialEq)]
pub(super) struct RunFailure {
    /// What went wrong, in one line.
    pub(super) message: String,
    /// Whether the runtime cannot be built here: reported, not a failure.
    pub(super) unavailable: bool,
}

impl RunFailure {
    /// A plain failure.
    fn failed(message: impl ToString) -> RunFailure {
        RunFailure {
            message: message.to_string(),
            unavailable: false,
        }
    }
}

/// Takes `samples` rounds of `workload` at `size`, one run per runtime per
/// round, rotating which runtime goes first. `workers` is passed to the
/// (multi-threaded) runtimes as `--workers`.
pub(super) fn run_workload(
    exe: &Path,
    workload: &str,
    size: u64,
    runtimes: &[String],
    samples: usize,
    workers: Option<u64>,
) -> WorkloadResult {
    let mut series: Vec<Series> = runtimes
        .iter()
        .map(|r| Series {
            runtime: r.clone(),
            ..Series::default()
        })
        .collect();
    let at = workers.map_or_else(String::new, |n| format!(" w={n}"));
    for round in 0..samples {
        for i in 0..series.len() {
            let s = &mut series[(i + round) % runtimes.len()];
            if s.error.is_some() {
                continue;
            }
            match run_once(exe, workload, &s.runtime, size, workers) {
                Ok((ops, sample)) => {
                    let rss = sample.peak_rss_kib.map_or_else(
                        || "n/a".to_owned(),
                        |kib| format!("{:.1} MiB", kib as f64 / 1024.0),
                    );
                    eprintln!(
                        "bench: {workload:<10} round {}/{samples}  {:<12}{at} {:>10.1} ns/op  {rss:>10}",
                        round + 1,
                        s.runtime,
                        sample.ns_per_op
                    );
                    s.ops = ops;
                    s.samples.push(sample);
                }
                Err(failure) => {
                    let what = if failure.unavailable {
                        "unavailable"
                    } else {
                        "failed"
                    };
                    eprintln!(
                        "bench: {workload} on {}{at}: {what}: {}",
                        s.runtime, failure.message
                    );
                    s.error = Some(failure.message);
                    s.unavailable = failure.unavailable;
                }
            }
        }
    }
    WorkloadResult {
        name: workload.to_owned(),
        size,
        series,
    }
}

/// Runs the benchmark binary once; returns the op count and the sample.
fn run_once(
    exe: &Path,
    workload: &str,
    runtime: &str,
    size: u64,
    workers: Option<u64>,
) -> Result<(u64, Sample), RunFailure> {
    let mut cmd = Command::new(exe);
    cmd.args(["--workload", workload, "--runtime", runtime, "--size"])
        .arg(size.to_string());
    if let Some(n) = workers {
        cmd.arg("--workers").arg(n.to_string());
    }
    let mut child = cmd
        .arg("--json")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| RunFailure::failed(format!("could not run {}: {e}", exe.display())))?;
    // Pass stderr on as it comes, keeping the binary's last own error line.
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut last = None;
        for line in stderr
            .into_iter()
            .flat_map(|e| BufReader::new(e).lines().map_while(Result::ok))
        {
            eprintln!("{line}");
            if let Some(message) = line.strip_prefix(ERROR_PREFIX) {
                last = Some(message.to_owned());
            }
        }
        last
    });
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(RunFailure::failed)? {
            break status;
        }
        if Instant::now() >= deadline {
            // Best effort: the process may have exited in the meantime.
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunFailure::failed(format!(
                "timed out after {} s",
                TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout)
            .map_err(RunFailure::failed)?;
    }
    let said = reader.join().unwrap_or(None);
    if !status.success() {
        return Err(exit_failure(status.code(), &status.to_string(), said));
    }
    parse_result(&stdout).map_err(RunFailure::failed)
}

/// The failure of a run that exited with `code` (`status` in words),
/// after saying `said` on stderr, if it did.
fn exit_failure(code: Option<i32>, status: &str, said: Option<String>) -> RunFailure {
    match (code, said) {
        (Some(UNAVAILABLE), said) => RunFailure {
            message: said.unwrap_or_else(|| format!("unavailable ({status})")),
            unavailable: true,
        },
        (_, Some(said)) => RunFailure::failed(format!("{said} ({status})")),
        (_, None) => RunFailure::failed(format!("exited with {status}")),
    }
}

/// Parses the result line that `corio-benches --json` prints last.
fn parse_result(stdout: &str) -> crate::Result<(u64, Sample)> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let bad = || format!("unexpected result line: `{line}`");
    let v: Value = serde_json::from_str(line).map_err(|_| bad())?;
    let ops = v["ops"].as_u64().ok_or_else(bad)?;
    let ns_per_op = v["ns_per_op"].as_f64().ok_or_else(bad)?;
    Ok((
        ops,
        Sample {
            ns_per_op,
            peak_rss_kib: v["peak_rss_kib"].as_u64(),
            cpu_time: v["clock"] == "cpu",
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_result_line() {
        let (ops, s) = parse_result(
            "{\"workload\":\"spawn\",\"runtime\":\"corio\",\"size\":10,\"ops\":10,\"elapsed_ns\":1234,\"ns_per_op\":123.4,\"peak_rss_kib\":42}\n",
        )
        .unwrap();
        assert_eq!((ops, s.ns_per_op, s.peak_rss_kib), (10, 123.4, Some(42)));
        assert!(!s.cpu_time);
        let (_, s) =
            parse_result("{\"ops\":1,\"ns_per_op\":1.0,\"peak_rss_kib\":1,\"clock\":\"cpu\"}")
                .unwrap();
        assert!(s.cpu_time);
        let (_, s) = parse_result("{\"ops\":1,\"ns_per_op\":1.0,\"peak_rss_kib\":null}").unwrap();
        assert_eq!(s.peak_rss_kib, None);
        let (ops, _) = parse_result(
            "{\"workload\":\"spawn\",\"runtime\":\"tokio-mt\",\"workers\":2,\"size\":10,\"ops\":10,\"ns_per_op\":1.5,\"peak_rss_kib\":1}",
        )
        .unwrap();
        assert_eq!(ops, 10);
        assert!(parse_result("").is_err());
    }

    #[test]
    fn exit_status_3_is_unavailable_not_failed() {
        let why = "corio-mt is unavailable: corio: Builder::workers(2) needs ...";
        assert_eq!(
            exit_failure(Some(3), "exit status: 3", Some(why.to_owned())),
            RunFailure {
                message: why.to_owned(),
                unavailable: true,
            }
        );
        assert!(exit_failure(Some(3), "exit status: 3", None).unavailable);
        let failed = exit_failure(Some(101), "exit status: 101", None);
        assert_eq!(failed, RunFailure::failed("exited with exit status: 101"));
        let failed = exit_failure(Some(1), "exit status: 1", Some("bind: denied".into()));
        assert_eq!(failed, RunFailure::failed("bind: denied (exit status: 1)"));
        assert!(!exit_failure(None, "signal: 9 (SIGKILL)", None).unavailable);
    }
}
