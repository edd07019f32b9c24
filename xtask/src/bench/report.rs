//! The results of `cargo xtask bench`, and their renderings: text tables,
//! a markdown report, JSON and SVG charts.
//!
//! A [`Report`] holds every raw sample, so other renderings (a chart, say)
//! can be built from it without re-running anything. It has up to four
//! parts: the single-threaded table (corio against tokio-ct and smol-local),
//! the multi-threaded one (corio-mt against tokio-mt and smol-mt at one
//! worker count), the scaling table (`--scaling`: the -mt runtimes at
//! several worker counts) and the hyper load benchmark. The two workload
//! tables are the same kind of thing, a [`Section`], rendered the same way.
//! This file holds the data and its statistics; each rendering has its own
//! file under `report/`: `table.rs` (the tables both text renderings
//! share), `text.rs` (plain text and markdown), `json.rs`, `svg.rs`, and
//! two that render one part in every way: `hyper.rs` (the load benchmark,
//! for either table's runtimes) and `scaling.rs`.

use super::load::{LoadResult, LoadSeries};

mod hyper;
mod json;
mod scaling;
mod svg;
mod table;
#[cfg(test)]
mod tests;
mod text;

/// The runtime the others are compared against in the single-threaded
/// table's ratio columns.
pub(crate) const SUBJECT: &str = "corio";

/// The runtime the others are compared against in the multi-threaded and
/// scaling tables' ratio columns.
pub(crate) const MT_SUBJECT: &str = "corio-mt";

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
    /// Whether that was because the runtime cannot be built here (the
    /// benchmark binary said it is unavailable): reported, not a failure.
    pub(crate) unavailable: bool,
}

impl Series {
    /// Whether sampling stopped on an error that counts as a failure.
    pub(crate) fn failed(&self) -> bool {
        self.error.is_some() && !self.unavailable
    }

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

/// The multi-threaded table: the -mt runtimes at one worker count.
#[derive(Clone, Debug)]
pub(crate) struct MultiThreaded {
    /// The runtimes' `--workers`.
    pub(crate) workers: u64,
    /// The runtimes, in column order ([`MT_SUBJECT`] first).
    pub(crate) runtimes: Vec<String>,
    /// One entry per workload, in run order.
    pub(crate) workloads: Vec<WorkloadResult>,
    /// The hyper load benchmark on the multi-threaded servers, if
    /// `--filter` selected it (not in `--quick` runs).
    pub(crate) hyper: Option<LoadResult>,
}

/// One row of the scaling table: a workload at one worker count.
#[derive(Clone, Debug)]
pub(crate) struct ScalingRow {
    /// The runtimes' `--workers`.
    pub(crate) workers: u64,
    /// Every runtime's results at that count.
    pub(crate) result: WorkloadResult,
}

/// The scaling table (`--scaling`): the -mt runtimes at several worker counts.
#[derive(Clone, Debug)]
pub(crate) struct Scaling {
    /// The runtimes, in column order ([`MT_SUBJECT`] first).
    pub(crate) runtimes: Vec<String>,
    /// The rows, workload by workload, each by rising worker count.
    pub(crate) rows: Vec<ScalingRow>,
}

/// The whole outcome of a `cargo xtask bench` run.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    /// Whether it was a `--quick` run.
    pub(crate) quick: bool,
    /// Samples taken per workload and runtime.
    pub(crate) samples: usize,
    /// The single-threaded runtimes, in column order.
    pub(crate) runtimes: Vec<String>,
    /// The single-threaded table: one entry per workload, in run order.
    pub(crate) workloads: Vec<WorkloadResult>,
    /// The multi-threaded table, if it ran.
    pub(crate) multi: Option<MultiThreaded>,
    /// The scaling table, if `--scaling` asked for it.
    pub(crate) scaling: Option<Scaling>,
    /// The hyper load benchmark, if `--filter` selected it.
    pub(crate) hyper: Option<LoadResult>,
}

/// A table of workloads: the runtimes it compares and their results.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Section<'a> {
    /// The runtime the ratio columns compare with the others.
    pub(crate) subject: &'a str,
    /// The runtimes, in column order.
    pub(crate) runtimes: &'a [String],
    /// One entry per workload, in run order.
    pub(crate) workloads: &'a [WorkloadResult],
    /// The hyper load benchmark on these runtimes, if selected.
    pub(crate) hyper: Option<&'a LoadResult>,
    /// The multi-threaded runtimes' `--workers` (`None`: single-threaded).
    pub(crate) workers: Option<u64>,
}

impl<'a> Section<'a> {
    /// The runtimes other than the subject, if the subject is among them.
    pub(super) fn baselines(&self) -> Vec<&'a str> {
        if !self.runtimes.iter().any(|r| r == self.subject) {
            return Vec::new();
        }
        self.runtimes
            .iter()
            .map(String::as_str)
            .filter(|r| *r != self.subject)
            .collect()
    }

    /// Whether a runtime of this table could not be built here.
    pub(crate) fn has_unavailable(&self) -> bool {
        self.workloads
            .iter()
            .flat_map(|w| &w.series)
            .any(|s| s.unavailable)
    }
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

/// The number of CPUs this process may use (0 if unknown).
fn cpus() -> usize {
    std::thread::available_parallelism().map_or(0, usize::from)
}

impl Report {
    /// The single-threaded table.
    pub(crate) fn single(&self) -> Section<'_> {
        Section {
            subject: SUBJECT,
            runtimes: &self.runtimes,
            workloads: &self.workloads,
            hyper: self.hyper.as_ref(),
            workers: None,
        }
    }

    /// The multi-threaded table, if it ran.
    pub(crate) fn multi_section(&self) -> Option<Section<'_>> {
        self.multi.as_ref().map(|m| Section {
            subject: MT_SUBJECT,
            runtimes: &m.runtimes,
            workloads: &m.workloads,
            hyper: m.hyper.as_ref(),
            workers: Some(m.workers),
        })
    }

    /// `- hyper on R: error` for each runtime whose server runs failed,
    /// single- and multi-threaded.
    pub(crate) fn hyper_failures(&self) -> Vec<String> {
        std::iter::once(self.single())
            .chain(self.multi_section())
            .flat_map(|section| section.hyper_failures())
            .collect()
    }

    /// The single-threaded runtimes other than [`SUBJECT`] (the hyper
    /// table's baselines too).
    pub(super) fn baselines(&self) -> Vec<&str> {
        self.single().baselines()
    }

    /// Every workload result in the report: both tables and the scaling
    /// rows.
    fn all_results(&self) -> impl Iterator<Item = &WorkloadResult> {
        let multi = self.multi.iter().flat_map(|m| &m.workloads);
        let scaling = self.scaling.iter().flat_map(|s| &s.rows).map(|r| &r.result);
        self.workloads.iter().chain(multi).chain(scaling)
    }

    /// The runtimes that could not be built here: `(runtime, why, the
    /// workloads it was to run)`, in the order they first appear.
    pub(crate) fn unavailable(&self) -> Vec<(String, String, Vec<String>)> {
        let mut found: Vec<(String, String, Vec<String>)> = Vec::new();
        for w in self.all_results() {
            for s in w.series.iter().filter(|s| s.unavailable) {
                let why = s.error.clone().unwrap_or_else(|| "unavailable".to_owned());
                match found
                    .iter_mut()
                    .find(|(r, y, _)| *r == s.runtime && *y == why)
                {
                    Some((_, _, names)) => {
                        if !names.contains(&w.name) {
                            names.push(w.name.clone());
                        }
                    }
                    None => found.push((s.runtime.clone(), why, vec![w.name.clone()])),
                }
            }
        }
        found
    }

    /// `WORKLOAD on RUNTIME` for every run that failed (not counting
    /// runtimes that are unavailable here), in every table.
    pub(crate) fn failed_runs(&self) -> Vec<String> {
        let sections = std::iter::once(self.single()).chain(self.multi_section());
        let scaling = self.scaling.iter().flat_map(|s| &s.rows);
        let mut failed: Vec<String> = sections
            .flat_map(|section| section.workloads)
            .flat_map(|w| {
                w.series
                    .iter()
                    .filter(|s| s.failed())
                    .map(move |s| format!("{} on {}", w.name, s.runtime))
            })
            .chain(scaling.flat_map(|row| {
                row.result
                    .series
                    .iter()
                    .filter(|s| s.failed())
                    .map(move |s| {
                        format!(
                            "{} on {} (workers={})",
                            row.result.name, s.runtime, row.workers
                        )
                    })
            }))
            .collect();
        failed.extend(
            self.hyper_failures()
                .into_iter()
                .map(|f| f.trim_start_matches("- ").to_owned()),
        );
        failed
    }
}
