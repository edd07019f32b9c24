//! A [`Report`] as an SVG bar chart of corio's ratio to each baseline
//! (drawn by `bench/chart.rs`).

use super::super::chart;
use super::{cpus, load_ratio, LoadResult, Report, SUBJECT};

impl Report {
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
}
