//! The workload tables of a report: a [`Section`] of workloads, one row
//! each (the single- and the multi-threaded table), and how any table
//! renders as aligned text or markdown.

use std::fmt::Write as _;

use super::{Section, Series};

/// A rendered table: a header row and body rows of equal length.
pub(super) struct Table {
    /// Column titles.
    pub(super) header: Vec<String>,
    /// Cells, row by row.
    pub(super) rows: Vec<Vec<String>>,
}

impl Table {
    /// The table as aligned plain text: the first column left-aligned, the
    /// numbers right-aligned.
    pub(super) fn to_text(&self) -> String {
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
    pub(super) fn to_markdown(&self) -> String {
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

/// A series' ns/op cell: `median ±spread%`, or why there is none.
pub(super) fn ns_cell(series: Option<&Series>) -> String {
    match series {
        Some(s) => match s.ns_per_op() {
            Some(st) => format!("{:.1} ±{:.1}%", st.median, st.spread_pct()),
            None if s.unavailable => "unavailable".to_owned(),
            None if s.error.is_some() => "failed".to_owned(),
            None => "n/a".to_owned(),
        },
        None => "n/a".to_owned(),
    }
}

/// A ratio cell: two decimals, or `n/a`.
pub(super) fn ratio_cell(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}"))
}

impl Section<'_> {
    /// The results as a table: one row per workload.
    pub(super) fn table(&self) -> Table {
        let subject = self.subject;
        let baselines = self.baselines();
        let mut header = vec!["workload".to_owned(), "N".to_owned()];
        header.extend(self.runtimes.iter().map(|r| format!("{r} ns/op")));
        header.extend(baselines.iter().map(|b| format!("{subject}/{b}")));
        header.extend(self.runtimes.iter().map(|r| format!("{r} MiB")));

        let rows = self
            .workloads
            .iter()
            .map(|w| {
                let mut row = vec![w.label(), w.size.to_string()];
                for rt in self.runtimes {
                    row.push(ns_cell(w.series(rt)));
                }
                for b in &baselines {
                    row.push(ratio_cell(w.ratio(subject, b)));
                }
                for rt in self.runtimes {
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
}
