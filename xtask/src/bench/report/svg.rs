//! A [`Report`] as SVG bar charts of the subject's ratio to each baseline
//! (drawn by `bench/chart.rs`): corio against the single-threaded peers
//! (`report.svg`, with hyper), corio-mt against the multi-threaded ones
//! (`report-mt.svg`).

use super::super::chart;
use super::{cpus, Report, Section, SUBJECT};

impl Section<'_> {
    /// A chart row per workload: the subject's ratio to each baseline;
    /// then hyper's time per request, if it ran.
    fn chart_rows(&self) -> Vec<chart::Row> {
        let baselines = self.baselines();
        self.workloads
            .iter()
            .map(|w| chart::Row {
                label: w.label(),
                ratios: baselines.iter().map(|b| w.ratio(self.subject, b)).collect(),
            })
            .chain(self.hyper_chart_row())
            .collect()
    }
}

impl Report {
    /// The rows of the SVG chart: corio's ratio to each baseline per
    /// workload, then hyper's time per request (the inverse of its req/s
    /// ratio, so that left of 1.0 means corio is better there too).
    pub(crate) fn chart_rows(&self) -> Vec<chart::Row> {
        self.single().chart_rows()
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
        chart::ratio_chart(SUBJECT, &self.baselines(), &self.chart_rows(), &note)
    }

    /// The multi-threaded table's SVG bar chart, if that table ran.
    pub(crate) fn to_mt_svg(&self) -> Option<crate::Result<String>> {
        let (multi, section) = (self.multi.as_ref()?, self.multi_section()?);
        let note = format!(
            "cargo xtask bench{}: workers={}, {} sample(s) per workload and runtime, one \
             process each, runtimes interleaved; {} CPU(s); sizes and ns/op in report.md",
            if self.quick { " --quick" } else { "" },
            multi.workers,
            self.samples,
            cpus()
        );
        Some(chart::ratio_chart(
            section.subject,
            &section.baselines(),
            &section.chart_rows(),
            &note,
        ))
    }
}
