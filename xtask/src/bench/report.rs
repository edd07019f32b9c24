//! The results of `cargo xtask bench`, and their renderings: a text table,
//! a markdown report and JSON.
//!
//! A [`Report`] holds every raw sample, so other renderings (a chart, say)
//! can be built from it without re-running anything.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::chart;
use super::load::{self, LoadResult, LoadSeries};

/// The runtime the others are compared against in the ratio columns.
pub(crate) const SUBJECT: &str = "corio";

/// One run of one workload on one runtime, in its own process.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Sample {
    /// Mean nanoseconds per operation over the run.
    pub(crate) ns_per_op: f64,
    /// The process's peak resident set size, if the platform reports it.
    pub(crate) peak_rss_kib: Option<u64>,
    /// Whether `ns_per_op` is CPU time (the process's user + system) rather
    /// than wall time.
    pub(crate) cpu_time: bool,
}

/// Median and range of a set of measurements.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Stats {
    /// The median (the mean of the middle two for an even count).
    pub(crate) median: f64,
    /// The smallest value.
    pub(crate) min: f64,
    /// The largest value.
    pub(crate) max: f64,
}

impl Stats {
    /// The statistics of `values`, or `None` if there are none.
    pub(crate) fn of(values: &[f64]) -> Option<Stats> {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Some(Stats {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }

    /// Half the min–max range, as a percentage of the median.
    pub(crate) fn spread_pct(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / 2.0 / self.median * 100.0
        }
    }
}

/// Every sample of one workload on one runtime.
#[derive(Clone, Debug, Default)]
pub(crate) struct Series {
    /// The runtime's name.
    pub(crate) runtime: String,
    /// Operations per run, as the benchmark binary counted them.
    pub(crate) ops: u64,
    /// The successful samples, in the order they were taken.
    pub(crate) samples: Vec<Sample>,
    /// Why sampling stopped early, if it did.
    pub(crate) error: Option<String>,
}

impl Series {
    /// Statistics of ns/op over the samples.
    pub(crate) fn ns_per_op(&self) -> Option<Stats> {
        let values: Vec<f64> = self.samples.iter().map(|s| s.ns_per_op).collect();
        Stats::of(&values)
    }

    /// Statistics of peak RSS in MiB over the samples that report it.
    pub(crate) fn peak_rss_mib(&self) -> Option<Stats> {
        let values: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|s| s.peak_rss_kib)
            .map(|kib| kib as f64 / 1024.0)
            .collect();
        Stats::of(&values)
    }
}

/// Every runtime's results for one workload.
#[derive(Clone, Debug)]
pub(crate) struct WorkloadResult {
    /// The workload's name.
    pub(crate) name: String,
    /// The size it ran at.
    pub(crate) size: u64,
    /// One series per runtime, in the report's runtime order.
    pub(crate) series: Vec<Series>,
}

impl WorkloadResult {
    /// The series of `runtime`, if it ran.
    pub(crate) fn series(&self, runtime: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.runtime == runtime)
    }

    /// Whether any sample of this workload was timed in CPU time.
    pub(crate) fn cpu_time(&self) -> bool {
        self.series
            .iter()
            .flat_map(|s| &s.samples)
            .any(|s| s.cpu_time)
    }

    /// The workload's name, marked ` (CPU)` if it was timed in CPU time.
    pub(crate) fn label(&self) -> String {
        if self.cpu_time() {
            format!("{} (CPU)", self.name)
        } else {
            self.name.clone()
        }
    }

    /// The ratio of `a`'s median ns/op to `b`'s (below 1.0: `a` is faster).
    pub(crate) fn ratio(&self, a: &str, b: &str) -> Option<f64> {
        let a = self.series(a)?.ns_per_op()?.median;
        let b = self.series(b)?.ns_per_op()?.median;
        (b > 0.0).then(|| a / b)
    }
}

/// The whole outcome of a `cargo xtask bench` run.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    /// Whether it was a `--quick` run.
    pub(crate) quick: bool,
    /// Samples taken per workload and runtime.
    pub(crate) samples: usize,
    /// The runtimes, in column order.
    pub(crate) runtimes: Vec<String>,
    /// One entry per workload, in run order.
    pub(crate) workloads: Vec<WorkloadResult>,
    /// The hyper load benchmark, if `--filter` selected it.
    pub(crate) hyper: Option<LoadResult>,
}

impl LoadSeries {
    /// Statistics of requests per second over the samples.
    pub(crate) fn requests_per_sec(&self) -> Option<Stats> {
        let values: Vec<f64> = self.samples.iter().map(|s| s.requests_per_sec).collect();
        Stats::of(&values)
    }

    /// Statistics of the p50 latency (ms) over the samples.
    pub(crate) fn p50_ms(&self) -> Option<Stats> {
        let values: Vec<f64> = self.samples.iter().map(|s| s.p50_ms).collect();
        Stats::of(&values)
    }

    /// Statistics of the p99 latency (ms) over the samples.
    pub(crate) fn p99_ms(&self) -> Option<Stats> {
        let values: Vec<f64> = self.samples.iter().map(|s| s.p99_ms).collect();
        Stats::of(&values)
    }

    /// Errors wrk counted, over all samples.
    pub(crate) fn errors(&self) -> u64 {
        self.samples.iter().map(|s| s.errors).sum()
    }
}

/// The title of the hyper load benchmark's section.
pub(crate) const HYPER_TITLE: &str = "hyper hello-world (wrk)";

/// The ratio of `a`'s median req/s to `b`'s (above 1.0: `a` serves more).
fn load_ratio(series: &[LoadSeries], a: &str, b: &str) -> Option<f64> {
    let median = |rt: &str| {
        series
            .iter()
            .find(|s| s.runtime == rt)?
            .requests_per_sec()
            .map(|st| st.median)
    };
    let (a, b) = (median(a)?, median(b)?);
    (b > 0.0).then(|| a / b)
}

/// A rendered table: a header row and body rows of equal length.
struct Table {
    /// Column titles.
    header: Vec<String>,
    /// Cells, row by row.
    rows: Vec<Vec<String>>,
}

impl Table {
    /// The table as aligned plain text: the first column left-aligned, the
    /// numbers right-aligned.
    fn to_text(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (cell, &w))| {
                    if i == 0 {
                        format!("{cell:<w$}")
                    } else {
                        format!("{cell:>w$}")
                    }
                })
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out
    }

    /// The table as markdown.
    fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "| {} |", self.header.join(" | "));
        let align: Vec<&str> = (0..self.header.len())
            .map(|i| if i == 0 { ":---" } else { "---:" })
            .collect();
        let _ = writeln!(out, "| {} |", align.join(" | "));
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out
    }
}

/// The number of CPUs this process may use (0 if unknown).
fn cpus() -> usize {
    std::thread::available_parallelism().map_or(0, usize::from)
}

impl Report {
    /// The runtimes other than [`SUBJECT`], if the subject is among them.
    fn baselines(&self) -> Vec<&str> {
        if !self.runtimes.iter().any(|r| r == SUBJECT) {
            return Vec::new();
        }
        self.runtimes
            .iter()
            .map(String::as_str)
            .filter(|r| *r != SUBJECT)
            .collect()
    }

    /// The results as a table: one row per workload.
    fn table(&self) -> Table {
        let baselines = self.baselines();
        let mut header = vec!["workload".to_owned(), "N".to_owned()];
        header.extend(self.runtimes.iter().map(|r| format!("{r} ns/op")));
        header.extend(baselines.iter().map(|b| format!("{SUBJECT}/{b}")));
        header.extend(self.runtimes.iter().map(|r| format!("{r} MiB")));

        let rows = self
            .workloads
            .iter()
            .map(|w| {
                let mut row = vec![w.label(), w.size.to_string()];
                for rt in &self.runtimes {
                    row.push(match w.series(rt) {
                        Some(s) => match s.ns_per_op() {
                            Some(st) => format!("{:.1} ±{:.1}%", st.median, st.spread_pct()),
                            None if s.error.is_some() => "failed".to_owned(),
                            None => "n/a".to_owned(),
                        },
                        None => "n/a".to_owned(),
                    });
                }
                for b in &baselines {
                    row.push(
                        w.ratio(SUBJECT, b)
                            .map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}")),
                    );
                }
                for rt in &self.runtimes {
                    let rss = w.series(rt).and_then(Series::peak_rss_mib);
                    row.push(
                        rss.map_or_else(|| "n/a".to_owned(), |st| format!("{:.1}", st.median)),
                    );
                }
                row
            })
            .collect();
        Table { header, rows }
    }

    /// The hyper load benchmark as a table (one row), if it ran: median
    /// req/s per runtime, corio's ratios, median p99 latency; `-` for a
    /// runtime that has no server.
    fn hyper_table(&self) -> Option<Table> {
        let Some(LoadResult::Ran { duration_s, series }) = &self.hyper else {
            return None;
        };
        let baselines = self.baselines();
        let mut header = vec!["server".to_owned(), "load".to_owned()];
        header.extend(self.runtimes.iter().map(|r| format!("{r} req/s")));
        header.extend(baselines.iter().map(|b| format!("{SUBJECT}/{b}")));
        header.extend(self.runtimes.iter().map(|r| format!("{r} p99 ms")));
        let mut row = vec![
            "hello-world".to_owned(),
            format!(
                "-t{} -c{} -d{duration_s}s",
                load::THREADS,
                load::CONNECTIONS
            ),
        ];
        let find = |rt: &str| series.iter().find(|s| s.runtime == rt);
        for rt in &self.runtimes {
            row.push(match find(rt) {
                Some(s) => match s.requests_per_sec() {
                    Some(st) => format!("{:.0} ±{:.1}%", st.median, st.spread_pct()),
                    None if s.error.is_some() => "failed".to_owned(),
                    None => "n/a".to_owned(),
                },
                None => "-".to_owned(),
            });
        }
        for b in &baselines {
            row.push(match find(b) {
                Some(_) => load_ratio(series, SUBJECT, b)
                    .map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}")),
                None => "-".to_owned(),
            });
        }
        for rt in &self.runtimes {
            row.push(match find(rt) {
                Some(s) => s
                    .p99_ms()
                    .map_or_else(|| "n/a".to_owned(), |st| format!("{:.3}", st.median)),
                None => "-".to_owned(),
            });
        }
        Some(Table {
            header,
            rows: vec![row],
        })
    }

    /// The footnotes of the hyper table, as markdown list items.
    fn hyper_notes(&self) -> String {
        let mut out = String::new();
        let Some(LoadResult::Ran { duration_s, series }) = &self.hyper else {
            return out;
        };
        let samples = series.iter().map(|s| s.samples.len()).max().unwrap_or(0);
        let _ = writeln!(
            out,
            "- `cargo xtask bench{}`: {samples} sample(s) per runtime; each starts \
             `corio-benches --serve hyper --runtime R --port 0` (hyper HTTP/1, keep-alive, \
             `Hello, World!`) and loads it for {duration_s} s with `wrk -t{} -c{} \
             -d{duration_s}s --latency` on loopback; runtimes interleaved within each round.",
            if self.quick { " --quick" } else { "" },
            load::THREADS,
            load::CONNECTIONS
        );
        out.push_str(
            "- *req/s*: median of wrk's Requests/sec over the samples; ± is half the min–max \
             range, as a percentage of the median.\n",
        );
        let _ = writeln!(
            out,
            "- *{SUBJECT}/X*: ratio of median req/s; **above** 1.0 means {SUBJECT} serves more \
             requests per second (the inverse sense of the ns/op ratios)."
        );
        out.push_str("- *p99 ms*: median over the samples of wrk's 99th-percentile latency.\n");
        out.push_str(
            "- `-`: no server on that runtime (the issue compares corio with tokio's \
             current_thread runtime only).\n",
        );
        let _ = writeln!(
            out,
            "- wrk's one thread and the single-threaded server run on the same machine and \
             share its {} CPU(s).",
            cpus()
        );
        for s in series.iter().filter(|s| s.errors() > 0) {
            let _ = writeln!(
                out,
                "- on {}: wrk counted {} socket errors and non-2xx/3xx responses.",
                s.runtime,
                s.errors()
            );
        }
        out
    }

    /// The tables as aligned plain text: the workloads, then the hyper
    /// load benchmark.
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        if !self.workloads.is_empty() {
            out.push_str(&self.table().to_text());
        }
        match &self.hyper {
            None => {}
            Some(LoadResult::Skipped(why)) => {
                if !out.is_empty() {
                    out.push('\n');
                }
                let _ = writeln!(out, "{HYPER_TITLE}: skipped: {why}");
            }
            Some(LoadResult::Ran { .. }) => {
                if !out.is_empty() {
                    out.push('\n');
                }
                let _ = writeln!(out, "{HYPER_TITLE}");
                if let Some(table) = self.hyper_table() {
                    out.push_str(&table.to_text());
                }
                let _ = writeln!(
                    out,
                    "(median req/s; {SUBJECT}/X above 1.0: {SUBJECT} serves more; wrk and the \
                     server share {} CPU(s))",
                    cpus()
                );
            }
        }
        out
    }

    /// A markdown report: the table, what its columns mean, and failures.
    pub(crate) fn to_markdown(&self) -> String {
        let table = self.table();
        let cpus = cpus();
        let mut out = String::from("# corio benchmarks\n\n");
        if !self.workloads.is_empty() {
            let _ = writeln!(
                out,
                "`cargo xtask bench{}`: {} sample(s) per workload and runtime, each a separate \
                 process; runtimes interleaved within each round; {} CPU(s).\n",
                if self.quick { " --quick" } else { "" },
                self.samples,
                cpus
            );
            out.push_str(&table.to_markdown());
            out.push_str(
                "\n- *ns/op*: median over the samples; ± is half the min–max range, as a \
                 percentage of the median.\n",
            );
            if !self.baselines().is_empty() {
                let _ = writeln!(
                    out,
                    "- *{SUBJECT}/X*: ratio of median ns/op; below 1.0 means {SUBJECT} is faster."
                );
            }
            out.push_str(
                "- *MiB*: median peak RSS (VmHWM) of the benchmark process, read after the \
                 timed run (the warm-up runs at N/10 first).\n",
            );
            if self.workloads.iter().any(WorkloadResult::cpu_time) {
                out.push_str(
                    "- *(CPU)*: ns/op is the process's CPU time (user + system, all threads) \
                     per op, not wall time: such a workload mostly waits (for timers), and \
                     the waiting is the same on every runtime.\n",
                );
            }
            out.push_str(
                "\n![corio's time per operation divided by each peer's, per workload \
                 (log scale; left of 1.0: corio faster)](report.svg)\n",
            );
        }
        if self.hyper.is_some() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        match &self.hyper {
            None => {}
            Some(LoadResult::Skipped(why)) => {
                let _ = writeln!(out, "## {HYPER_TITLE}\n\nSkipped: {why}.");
            }
            Some(LoadResult::Ran { .. }) => {
                let _ = writeln!(out, "## {HYPER_TITLE}\n");
                if let Some(table) = self.hyper_table() {
                    out.push_str(&table.to_markdown());
                }
                out.push('\n');
                out.push_str(&self.hyper_notes());
            }
        }
        let mut failures: Vec<String> = self
            .workloads
            .iter()
            .flat_map(|w| {
                w.series.iter().filter_map(move |s| {
                    let error = s.error.as_ref()?;
                    Some(format!("- {} on {}: {}", w.name, s.runtime, error))
                })
            })
            .collect();
        failures.extend(self.hyper_failures());
        if !failures.is_empty() {
            out.push_str("\n## Failures\n\n");
            out.push_str(&failures.join("\n"));
            out.push('\n');
        }
        out
    }

    /// The report, raw samples included, as JSON.
    pub(crate) fn to_json(&self) -> Value {
        let stats = |s: Option<Stats>| {
            s.map_or(
                Value::Null,
                |s| json!({ "median": s.median, "min": s.min, "max": s.max }),
            )
        };
        let workloads: Vec<Value> = self
            .workloads
            .iter()
            .map(|w| {
                let results: Vec<Value> = w
                    .series
                    .iter()
                    .map(|s| {
                        let samples: Vec<Value> = s
                            .samples
                            .iter()
                            .map(|x| json!({ "ns_per_op": x.ns_per_op, "peak_rss_kib": x.peak_rss_kib }))
                            .collect();
                        let cpu = s.samples.iter().any(|x| x.cpu_time);
                        json!({
                            "runtime": s.runtime,
                            "clock": if cpu { "cpu" } else { "wall" },
                            "ops": s.ops,
                            "ns_per_op": stats(s.ns_per_op()),
                            "peak_rss_mib": stats(s.peak_rss_mib()),
                            "samples": samples,
                            "error": s.error,
                        })
                    })
                    .collect();
                let ratios: serde_json::Map<String, Value> = self
                    .baselines()
                    .into_iter()
                    .map(|b| (format!("{SUBJECT}/{b}"), json!(w.ratio(SUBJECT, b))))
                    .collect();
                json!({ "name": w.name, "size": w.size, "results": results, "ratios": ratios })
            })
            .collect();
        json!({
            "quick": self.quick,
            "samples": self.samples,
            "subject": SUBJECT,
            "runtimes": self.runtimes,
            "workloads": workloads,
            "hyper": self.hyper_json(),
        })
    }

    /// The rows of the SVG chart: corio's ratio to each baseline per
    /// workload, then hyper's time per request (the inverse of its req/s
    /// ratio, so that left of 1.0 means corio is better there too).
    pub(crate) fn chart_rows(&self) -> Vec<chart::Row> {
        let baselines = self.baselines();
        let mut rows: Vec<chart::Row> = self
            .workloads
            .iter()
            .map(|w| chart::Row {
                label: w.label(),
                ratios: baselines.iter().map(|b| w.ratio(SUBJECT, b)).collect(),
            })
            .collect();
        if let Some(LoadResult::Ran { series, .. }) = &self.hyper {
            rows.push(chart::Row {
                label: "hyper (time/request)".to_owned(),
                ratios: baselines
                    .iter()
                    .map(|b| {
                        load_ratio(series, SUBJECT, b)
                            .filter(|r| *r > 0.0)
                            .map(|r| 1.0 / r)
                    })
                    .collect(),
            });
        }
        rows
    }

    /// The SVG bar chart of [`chart_rows`](Report::chart_rows).
    pub(crate) fn to_svg(&self) -> crate::Result<String> {
        let note = format!(
            "cargo xtask bench{}: {} sample(s) per workload and runtime, one process each, \
             runtimes interleaved; {} CPU(s); sizes and ns/op in report.md",
            if self.quick { " --quick" } else { "" },
            self.samples,
            cpus()
        );
        chart::ratio_chart(&self.baselines(), &self.chart_rows(), &note)
    }

    /// The hyper load benchmark as JSON: `null` if not selected,
    /// `{"skipped": why}` if it could not run.
    fn hyper_json(&self) -> Value {
        let stats = |s: Option<Stats>| {
            s.map_or(
                Value::Null,
                |s| json!({ "median": s.median, "min": s.min, "max": s.max }),
            )
        };
        match &self.hyper {
            None => Value::Null,
            Some(LoadResult::Skipped(why)) => json!({ "skipped": why }),
            Some(LoadResult::Ran { duration_s, series }) => {
                let results: Vec<Value> = series
                    .iter()
                    .map(|s| {
                        let samples: Vec<Value> = s
                            .samples
                            .iter()
                            .map(|x| {
                                json!({
                                    "requests_per_sec": x.requests_per_sec,
                                    "p50_ms": x.p50_ms,
                                    "p99_ms": x.p99_ms,
                                    "errors": x.errors,
                                })
                            })
                            .collect();
                        json!({
                            "runtime": s.runtime,
                            "requests_per_sec": stats(s.requests_per_sec()),
                            "p50_ms": stats(s.p50_ms()),
                            "p99_ms": stats(s.p99_ms()),
                            "samples": samples,
                            "error": s.error,
                        })
                    })
                    .collect();
                let ratios: serde_json::Map<String, Value> = series
                    .iter()
                    .filter(|s| s.runtime != SUBJECT)
                    .map(|s| {
                        (
                            format!("{SUBJECT}/{}", s.runtime),
                            json!(load_ratio(series, SUBJECT, &s.runtime)),
                        )
                    })
                    .collect();
                json!({
                    "tool": load::TOOL,
                    "threads": load::THREADS,
                    "connections": load::CONNECTIONS,
                    "duration_s": duration_s,
                    "results": results,
                    "ratios": ratios,
                })
            }
        }
    }

    /// `- hyper on R: error` for each runtime whose server runs failed.
    pub(crate) fn hyper_failures(&self) -> Vec<String> {
        match &self.hyper {
            Some(LoadResult::Ran { series, .. }) => series
                .iter()
                .filter_map(|s| Some(format!("- hyper on {}: {}", s.runtime, s.error.as_ref()?)))
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(runtime: &str, ns: &[f64]) -> Series {
        Series {
            runtime: runtime.to_owned(),
            ops: 1000,
            samples: ns
                .iter()
                .map(|&ns_per_op| Sample {
                    ns_per_op,
                    peak_rss_kib: Some(2048),
                    cpu_time: false,
                })
                .collect(),
            error: None,
        }
    }

    fn report() -> Report {
        Report {
            quick: true,
            samples: 3,
            runtimes: vec!["corio".into(), "tokio-ct".into(), "smol-local".into()],
            workloads: vec![WorkloadResult {
                name: "spawn".into(),
                size: 1000,
                series: vec![
                    series("corio", &[50.0, 40.0, 60.0]),
                    series("tokio-ct", &[100.0, 100.0, 100.0]),
                    Series {
                        runtime: "smol-local".into(),
                        error: Some("exited with status 101".into()),
                        ..Series::default()
                    },
                ],
            }],
            hyper: None,
        }
    }

    fn load_series(runtime: &str, rps: &[f64]) -> LoadSeries {
        LoadSeries {
            runtime: runtime.to_owned(),
            samples: rps
                .iter()
                .map(|&requests_per_sec| load::LoadSample {
                    requests_per_sec,
                    p50_ms: 0.25,
                    p99_ms: 0.5,
                    errors: 0,
                })
                .collect(),
            error: None,
        }
    }

    fn hyper_report() -> Report {
        Report {
            workloads: Vec::new(),
            hyper: Some(LoadResult::Ran {
                duration_s: 5,
                series: vec![
                    load_series("corio", &[120_000.0, 110_000.0, 130_000.0]),
                    load_series("tokio-ct", &[100_000.0, 100_000.0, 100_000.0]),
                ],
            }),
            ..report()
        }
    }

    #[test]
    fn hyper_table_has_req_per_sec_ratio_and_p99() {
        let text = hyper_report().to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HYPER_TITLE, "{text}");
        for column in ["corio req/s", "corio/tokio-ct", "smol-local p99 ms"] {
            assert!(lines[1].contains(column), "{column} missing: {text}");
        }
        for cell in ["120000 ±8.3%", "100000 ±0.0%", "1.20", "0.500", " -"] {
            assert!(lines[2].contains(cell), "{cell} missing: {text}");
        }
        assert!(text.contains("corio serves more"), "{text}");
    }

    #[test]
    fn hyper_section_in_markdown_and_json() {
        let r = hyper_report();
        let md = r.to_markdown();
        assert!(md.contains("## hyper hello-world (wrk)"), "{md}");
        assert!(md.contains("| server | load | corio req/s |"), "{md}");
        assert!(md.contains("above** 1.0 means corio serves more"), "{md}");
        assert!(!md.contains("| workload |"), "{md}");
        let v = r.to_json();
        assert_eq!(v["hyper"]["ratios"]["corio/tokio-ct"], 1.2);
        assert_eq!(
            v["hyper"]["results"][0]["requests_per_sec"]["median"],
            120_000.0
        );
        assert_eq!(
            v["hyper"]["results"][1]["samples"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert_eq!(report().to_json()["hyper"], Value::Null);
    }

    #[test]
    fn skipped_hyper_says_why() {
        let r = Report {
            hyper: Some(LoadResult::Skipped(load::MISSING.to_owned())),
            ..report()
        };
        assert!(r
            .to_text()
            .contains("hyper hello-world (wrk): skipped: wrk not found"));
        assert!(r.to_markdown().contains("apt-get install wrk"));
        assert_eq!(r.to_json()["hyper"]["skipped"], load::MISSING);
    }

    #[test]
    fn failed_hyper_runs_are_listed() {
        let mut r = hyper_report();
        if let Some(LoadResult::Ran { series, .. }) = &mut r.hyper {
            series[1] = LoadSeries {
                runtime: "tokio-ct".into(),
                error: Some("wrk failed".into()),
                ..LoadSeries::default()
            };
        }
        assert_eq!(r.hyper_failures(), ["- hyper on tokio-ct: wrk failed"]);
        assert!(r.to_text().contains("failed"));
        assert!(r.to_markdown().contains("- hyper on tokio-ct: wrk failed"));
    }

    #[test]
    fn chart_rows_hold_ratios_and_inverted_hyper() {
        let rows = hyper_report().chart_rows();
        assert!(rows.is_empty() || rows[0].label == "hyper (time/request)");
        let rows = Report {
            hyper: hyper_report().hyper,
            ..report()
        }
        .chart_rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].label, "spawn");
        assert_eq!(rows[0].ratios, [Some(0.5), None]);
        let inverted = rows[1].ratios[0].unwrap();
        assert!((inverted - 1.0 / 1.2).abs() < 1e-9, "{inverted}");
        assert_eq!(rows[1].ratios[1], None);
        let svg = report().to_svg().unwrap();
        assert!(svg.contains("spawn") && svg.contains("0.50"), "{svg}");
    }

    #[test]
    fn stats_take_median_and_range() {
        assert_eq!(Stats::of(&[]), None);
        let s = Stats::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Stats::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert_eq!(s.spread_pct(), 50.0);
    }

    #[test]
    fn text_table_has_medians_ratios_and_memory() {
        let text = report().to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        for column in [
            "corio ns/op",
            "corio/tokio-ct",
            "corio/smol-local",
            "smol-local MiB",
        ] {
            assert!(lines[0].contains(column), "{column} missing: {text}");
        }
        for cell in ["50.0 ±20.0%", "100.0 ±0.0%", "failed", "0.50", "n/a", "2.0"] {
            assert!(lines[1].contains(cell), "{cell} missing: {text}");
        }
    }

    #[test]
    fn markdown_lists_failures() {
        let md = report().to_markdown();
        assert!(md.contains("| workload | N | corio ns/op |"), "{md}");
        assert!(md.contains("| :--- | ---: |"), "{md}");
        assert!(md.contains("](report.svg)"), "{md}");
        assert!(
            md.contains("- spawn on smol-local: exited with status 101"),
            "{md}"
        );
    }

    #[test]
    fn cpu_timed_workloads_are_marked() {
        let mut r = report();
        assert!(!r.to_markdown().contains("(CPU)"));
        for s in &mut r.workloads[0].series[0].samples {
            s.cpu_time = true;
        }
        assert!(r.to_text().contains("spawn (CPU)"));
        assert!(r.to_markdown().contains("- *(CPU)*"));
        assert_eq!(r.chart_rows()[0].label, "spawn (CPU)");
        assert_eq!(r.to_json()["workloads"][0]["results"][0]["clock"], "cpu");
        assert_eq!(r.to_json()["workloads"][0]["results"][1]["clock"], "wall");
    }

    #[test]
    fn json_keeps_raw_samples() {
        let v = report().to_json();
        let corio = &v["workloads"][0]["results"][0];
        assert_eq!(corio["samples"].as_array().unwrap().len(), 3);
        assert_eq!(corio["ns_per_op"]["median"], 50.0);
        assert_eq!(v["workloads"][0]["ratios"]["corio/tokio-ct"], 0.5);
        assert_eq!(v["workloads"][0]["ratios"]["corio/smol-local"], Value::Null);
    }
}
