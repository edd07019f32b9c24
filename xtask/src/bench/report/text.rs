//! A [`Report`] as plain text (what `cargo xtask bench` prints) and as a
//! markdown report with notes on every column, a list of failures and of
//! runtimes that could not be built here.

use std::fmt::Write as _;

use super::{cpus, Report, Section, WorkloadResult};

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
    /// The tables as aligned plain text: the workloads (single-threaded,
    /// multi-threaded), the scaling table, a line per runtime that could
    /// not be built, then the hyper load benchmark (single-, then
    /// multi-threaded).
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        if !self.workloads.is_empty() {
            out.push_str(&self.single().table().to_text());
        }
        if let (Some(multi), Some(section)) = (self.multi_table(), self.multi_section()) {
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
        for section in std::iter::once(self.single()).chain(self.multi_section()) {
            let hyper = section.hyper_text();
            if !hyper.is_empty() && !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&hyper);
        }
        out
    }

    /// The multi-threaded table, if it has rows (a `--filter hyper` run
    /// has only its hyper benchmark).
    fn multi_table(&self) -> Option<&super::MultiThreaded> {
        self.multi.as_ref().filter(|m| !m.workloads.is_empty())
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
        if let (Some(multi), Some(section)) = (self.multi_table(), self.multi_section()) {
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
        for section in std::iter::once(self.single()).chain(self.multi_section()) {
            let hyper = section.hyper_markdown(self.quick);
            if !hyper.is_empty() && !out.ends_with("\n\n") {
                out.push('\n');
            }
            out.push_str(&hyper);
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
}
