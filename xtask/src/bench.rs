//! `cargo xtask bench`: runs the `corio-benches` workloads on every runtime.
//!
//! The binary is built with `cargo build --release -p corio-benches`; the
//! workloads, their sizes and the runtimes come from `corio-benches --list
//! --json`, so a new workload there needs no change here. Each sample is a
//! separate process (a fresh heap, and its own peak RSS). Within a sample
//! round every runtime runs once, starting from a different runtime each
//! round, so drift in the machine's speed hits all of them alike.
//!
//! The results go to the terminal as a table, and to `<target>/bench/`:
//! `report.md` (the same table, with notes), `report.svg` (a bar chart of
//! corio's ratios, module [`chart`]) and, with `--json`, `report.json`
//! (every sample). `--quick` runs every workload at a tenth of its size with
//! 3 samples, in well under a minute; CI runs it as a smoke test.
//!
//! After the workloads comes the hyper load benchmark (module [`load`]):
//! `corio-benches --serve hyper` on corio and on tokio's current-thread
//! runtime, each loaded by `wrk` on loopback, in a table of its own. It is
//! skipped, with a message saying how to install wrk, when wrk is not on
//! `PATH` (with `--install-tools`, as root, xtask runs `apt-get install -y
//! wrk` first).

mod chart;
mod load;
mod report;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{project, Args, Result};
use report::{Report, Sample, Series, WorkloadResult};

/// Samples per workload and runtime in a full run.
const SAMPLES: usize = 5;

/// Samples per workload and runtime with `--quick`.
const QUICK_SAMPLES: usize = 3;

/// `--quick` divides every workload's default size by this.
const QUICK_DIVISOR: u64 = 10;

/// How long one benchmark process may run before it is killed.
const TIMEOUT: Duration = Duration::from_secs(300);

/// What the benchmark binary offers, from `--list --json`.
struct Catalog {
    /// (name, default size) of each workload.
    workloads: Vec<(String, u64)>,
    /// The runtimes' names.
    runtimes: Vec<String>,
}

/// Runs `cargo xtask bench` with its arguments.
pub(crate) fn run(mut args: Args) -> Result<()> {
    let quick = args.flag("--quick");
    let install_tools = args.flag("--install-tools");
    let filter = args.value("--filter")?;
    let explicit_samples = match args.value("--samples")? {
        Some(text) => Some(
            text.parse::<usize>()
                .ok()
                .filter(|&k| k > 0)
                .ok_or_else(|| format!("--samples: `{text}` is not a positive whole number"))?,
        ),
        None => None,
    };
    let samples = match explicit_samples {
        Some(k) => k,
        None if quick => QUICK_SAMPLES,
        None => SAMPLES,
    };
    // `--json` alone writes <target>/bench/report.json; `--json PATH` writes PATH.
    let json_path = args.optional_value("--json");
    args.finish()?;

    let exe = build()?;
    let catalog = list(&exe)?;
    let workloads: Vec<(String, u64)> = catalog
        .workloads
        .into_iter()
        .filter(|(name, _)| matches(filter.as_deref(), name))
        .collect();
    let hyper = matches(filter.as_deref(), "hyper");
    if workloads.is_empty() && !hyper {
        return Err(format!(
            "no workload matches --filter {}",
            filter.unwrap_or_default()
        )
        .into());
    }

    let mut results = Vec::new();
    for (name, default_size) in workloads {
        let size = if quick {
            (default_size / QUICK_DIVISOR).max(1)
        } else {
            default_size
        };
        results.push(run_workload(&exe, &name, size, &catalog.runtimes, samples));
    }
    let hyper = hyper.then(|| match load::find_tool(install_tools) {
        Ok(wrk) => {
            let samples = explicit_samples.unwrap_or(load::SAMPLES);
            load::run(&exe, &wrk, quick, samples)
        }
        Err(why) => {
            eprintln!("bench: skipping the hyper load benchmark: {why}");
            load::LoadResult::Skipped(why)
        }
    });
    let report = Report {
        quick,
        samples,
        runtimes: catalog.runtimes,
        workloads: results,
        hyper,
    };

    print!("{}", report.to_text());
    let dir = project::target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    write(&dir.join("report.md"), &report.to_markdown())?;
    write(&dir.join("report.svg"), &report.to_svg()?)?;
    if let Some(path) = json_path {
        let path = path.map_or_else(|| dir.join("report.json"), PathBuf::from);
        write(&path, &format!("{:#}\n", report.to_json()))?;
    }

    let failed: Vec<String> = report
        .workloads
        .iter()
        .flat_map(|w| {
            w.series
                .iter()
                .filter(|s| s.error.is_some())
                .map(move |s| format!("{} on {}", w.name, s.runtime))
        })
        .chain(
            report
                .hyper_failures()
                .into_iter()
                .map(|f| f.trim_start_matches("- ").to_owned()),
        )
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("some runs failed: {}", failed.join(", ")).into())
    }
}

/// Whether `name` passes `--filter`: there is none, or it is a substring.
fn matches(filter: Option<&str>, name: &str) -> bool {
    filter.is_none_or(|f| name.contains(f))
}

/// Writes `text` to `path`, saying so on stderr.
fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("bench: wrote {}", path.display());
    Ok(())
}

/// Builds the benchmark binary in release mode and returns its path.
fn build() -> Result<PathBuf> {
    let mut cmd = project::cargo();
    cmd.args([
        "build",
        "--release",
        "-p",
        "corio-benches",
        "--message-format=json-render-diagnostics",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    eprintln!("bench: building the benchmarks: $ {}", project::show(&cmd));
    let output = cmd
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("building corio-benches failed ({})", output.status).into());
    }
    executable(&String::from_utf8_lossy(&output.stdout))
        .ok_or_else(|| "cargo reported no corio-benches executable".into())
}

/// The `corio-benches` executable named in cargo's JSON build messages.
fn executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "corio-benches")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

/// Asks the benchmark binary for its workloads and runtimes.
fn list(exe: &Path) -> Result<Catalog> {
    let output = Command::new(exe)
        .args(["--list", "--json"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run {}: {e}", exe.display()))?;
    if !output.status.success() {
        return Err(format!(
            "`{} --list --json` failed ({})",
            exe.display(),
            output.status
        )
        .into());
    }
    parse_catalog(&String::from_utf8_lossy(&output.stdout))
}

/// Parses the output of `corio-benches --list --json`.
fn parse_catalog(text: &str) -> Result<Catalog> {
    let v: Value = serde_json::from_str(text.trim())?;
    let bad = || format!("unexpected `--list --json` output: {}", text.trim());
    let workloads = v["workloads"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|w| Some((w["name"].as_str()?.to_owned(), w["default_size"].as_u64()?)))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(bad)?;
    let runtimes = v["runtimes"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|r| r["name"].as_str().map(str::to_owned))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(bad)?;
    Ok(Catalog {
        workloads,
        runtimes,
    })
}

/// Takes `samples` rounds of `workload` at `size`, one run per runtime per
/// round, rotating which runtime goes first.
fn run_workload(
    exe: &Path,
    workload: &str,
    size: u64,
    runtimes: &[String],
    samples: usize,
) -> WorkloadResult {
    let mut series: Vec<Series> = runtimes
        .iter()
        .map(|r| Series {
            runtime: r.clone(),
            ..Series::default()
        })
        .collect();
    for round in 0..samples {
        for i in 0..series.len() {
            let s = &mut series[(i + round) % runtimes.len()];
            if s.error.is_some() {
                continue;
            }
            match run_once(exe, workload, &s.runtime, size) {
                Ok((ops, sample)) => {
                    let rss = sample.peak_rss_kib.map_or_else(
                        || "n/a".to_owned(),
                        |kib| format!("{:.1} MiB", kib as f64 / 1024.0),
                    );
                    eprintln!(
                        "bench: {workload:<10} round {}/{samples}  {:<12} {:>10.1} ns/op  {rss:>10}",
                        round + 1,
                        s.runtime,
                        sample.ns_per_op
                    );
                    s.ops = ops;
                    s.samples.push(sample);
                }
                Err(error) => {
                    eprintln!("bench: {workload} on {}: {error}", s.runtime);
                    s.error = Some(error.to_string());
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
fn run_once(exe: &Path, workload: &str, runtime: &str, size: u64) -> Result<(u64, Sample)> {
    let mut child = Command::new(exe)
        .args(["--workload", workload, "--runtime", runtime, "--size"])
        .arg(size.to_string())
        .arg("--json")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not run {}: {e}", exe.display()))?;
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            // Best effort: the process may have exited in the meantime.
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {} s", TIMEOUT.as_secs()).into());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout)?;
    }
    if !status.success() {
        return Err(format!("exited with {status}").into());
    }
    parse_result(&stdout)
}

/// Parses the result line that `corio-benches --json` prints last.
fn parse_result(stdout: &str) -> Result<(u64, Sample)> {
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
    fn finds_the_executable_in_build_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"corio"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"corio-benches"},"executable":"/t/release/corio-benches"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable(messages),
            Some(PathBuf::from("/t/release/corio-benches"))
        );
        assert_eq!(executable("not json\n"), None);
    }

    #[test]
    fn parses_the_catalog() {
        let c = parse_catalog(
            r#"{"workloads":[{"name":"spawn","default_size":1000000,"description":"d"}],
                "runtimes":[{"name":"corio","description":"d"},{"name":"tokio-ct","description":"d"}]}"#,
        )
        .unwrap();
        assert_eq!(c.workloads, vec![("spawn".to_owned(), 1_000_000)]);
        assert_eq!(c.runtimes, ["corio", "tokio-ct"]);
        assert!(parse_catalog(r#"{"workloads":[{"name":1}],"runtimes":[]}"#).is_err());
    }

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
        assert!(parse_result("").is_err());
    }

    #[test]
    fn filter_matches_substrings() {
        assert!(matches(None, "spawn"));
        assert!(matches(Some("pa"), "spawn"));
        assert!(!matches(Some("yield"), "spawn"));
    }
}
