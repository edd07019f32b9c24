//! A [`Report`] as plain text (what `cargo xtask bench` prints) and as a
//! markdown report with notes on every column, a list of failures and of
//! runtimes that could not be built here.

use std::fmt::Write as _;

use super::super::load::{self, LoadResult};
use super::{cpus, Report, Section, WorkloadResult, HYPER_TITLE, SUBJECT};

/// The title of the multi-threaded table.
pub(super) fn multi_title(workers: u64) -> String {
    format!("multi-threaded (workers={workers})")
}

impl Section<'_> {
    /// The notes under a workload table in markdown: what its columns mean.
    /// `svg` is the file of its chart.
    fn notes(&self, svg: &str) -> String {
        let subject = self.subject;
        let mut out = String::from(
            "- *ns/op*: median over the samples; ± is half the min–max range, as a \
             percentage of the median.\n",
        );
        if !self.baselines().is_empty() {
            let _ = writeln!(
                out,
                "- *{subject}/X*: ratio of median ns/op; below 1.0 means {subject} is faster."
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
        if self.has_unavailable() {
            out.push_str(
                "- *unavailable*: the runtime cannot be built here (see \"Not run\" below).\n",
            );
        }
        let _ = writeln!(
            out,
            "\n![{subject}'s time per operation divided by each peer's, per workload \
             (log scale; left of 1.0: {subject} faster)]({svg})"
        );
        out
    }
}

impl Report {
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

    /// The tables as aligned plain text: the workloads (single-threaded,
    /// multi-threaded), the scaling table, then the hyper load benchmark;
    /// a line per runtime that could not be built.
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        if !self.workloads.is_empty() {
            out.push_str(&self.single().table().to_text());
        }
        if let (Some(multi), Some(section)) = (&self.multi, self.multi_section()) {
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", multi_title(multi.workers));
            out.push_str(&section.table().to_text());
        }
        if let Some(table) = self.scaling_table() {
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", super::scaling::TITLE);
            out.push_str(&table.to_text());
        }
        for (runtime, why, _) in self.unavailable() {
            let _ = writeln!(out, "({runtime} not run: {why})");
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

    /// The workload tables that ran: the single-threaded one (if it has
    /// rows) and the multi-threaded one.
    pub(super) fn sections(&self) -> impl Iterator<Item = Section<'_>> {
        let single = (!self.workloads.is_empty()).then(|| self.single());
        single.into_iter().chain(self.multi_section())
    }

    /// A markdown report: the tables, what their columns mean, failures and
    /// the runtimes that could not be built here.
    pub(crate) fn to_markdown(&self) -> String {
        let cpus = cpus();
        let mut out = String::from("# corio benchmarks\n\n");
        let quick = if self.quick { " --quick" } else { "" };
        if !self.workloads.is_empty() {
            let _ = writeln!(
                out,
                "`cargo xtask bench{quick}`: {} sample(s) per workload and runtime, each a \
                 separate process; runtimes interleaved within each round; {cpus} CPU(s).\n",
                self.samples,
            );
            let single = self.single();
            out.push_str(&single.table().to_markdown());
            out.push('\n');
            out.push_str(&single.notes("report.svg"));
        }
        if let (Some(multi), Some(section)) = (&self.multi, self.multi_section()) {
            if !out.ends_with("\n\n") {
                out.push('\n');
            }
            let _ = writeln!(out, "## {}\n", multi_title(multi.workers));
            let _ = writeln!(
                out,
                "The multi-threaded runtimes with `--workers {}`: corio's `Runner::builder()\
                 .workers(N)`, tokio's `multi_thread` runtime with N worker threads, smol's \
                 `Executor` run on N threads; the main future on the calling thread. {} \
                 sample(s) per workload and runtime, interleaved as above; {cpus} CPU(s).\n",
                multi.workers, self.samples,
            );
            out.push_str(&section.table().to_markdown());
            out.push('\n');
            out.push_str(&section.notes("report-mt.svg"));
        }
        if let Some(table) = self.scaling_table() {
            if !out.ends_with("\n\n") {
                out.push('\n');
            }
            let _ = writeln!(out, "## {}\n", super::scaling::TITLE);
            out.push_str(&table.to_markdown());
            out.push('\n');
            out.push_str(&self.scaling_notes());
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
            .sections()
            .flat_map(|section| section.workloads)
            .flat_map(|w| {
                w.series.iter().filter(|s| s.failed()).filter_map(move |s| {
                    Some(format!(
                        "- {} on {}: {}",
                        w.name,
                        s.runtime,
                        s.error.as_ref()?
                    ))
                })
            })
            .collect();
        failures.extend(self.scaling_failures());
        failures.extend(self.hyper_failures());
        if !failures.is_empty() {
            out.push_str("\n## Failures\n\n");
            out.push_str(&failures.join("\n"));
            out.push('\n');
        }
        let not_run = self.unavailable();
        if !not_run.is_empty() {
            out.push_str(
                "\n## Not run\n\nRuntimes that cannot be built here (not counted as \
                 failures):\n\n",
            );
            for (runtime, why, workloads) in not_run {
                let _ = writeln!(out, "- {runtime} ({}): {why}", workloads.join(", "));
            }
        }
        out
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
