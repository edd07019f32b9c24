//! The scaling table of a [`Report`] (`cargo xtask bench --scaling`): the
//! multi-threaded runtimes on a few workloads at several worker counts, as
//! a table (text and markdown), its notes, and JSON.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::table::{ns_cell, ratio_cell, Table};
use super::{cpus, Report, ScalingRow, MT_SUBJECT};

/// The scaling table's title.
pub(super) const TITLE: &str = "scaling (the multi-threaded runtimes by worker count)";

impl ScalingRow {
    /// The median ns/op of `runtime` in this row.
    fn median(&self, runtime: &str) -> Option<f64> {
        Some(self.result.series(runtime)?.ns_per_op()?.median)
    }
}

impl Report {
    /// The rows of the same workload at the fewest workers, the reference of
    /// the speed-up columns: the first row of `row`'s workload.
    fn scaling_reference(&self, row: &ScalingRow) -> Option<&ScalingRow> {
        self.scaling
            .as_ref()?
            .rows
            .iter()
            .find(|r| r.result.name == row.result.name)
    }

    /// `runtime`'s speed-up in `row` over its workload's first row: that
    /// row's median ns/op over this one's (above 1.0: faster with more
    /// workers).
    fn speed_up(&self, row: &ScalingRow, runtime: &str) -> Option<f64> {
        let reference = self.scaling_reference(row)?.median(runtime)?;
        let here = row.median(runtime)?;
        (here > 0.0).then(|| reference / here)
    }

    /// The scaling table, if `--scaling` ran: a row per workload and
    /// worker count; each runtime's ns/op, [`MT_SUBJECT`]'s ratios to the
    /// others, and each runtime's speed-up over the fewest workers.
    pub(super) fn scaling_table(&self) -> Option<Table> {
        let scaling = self.scaling.as_ref()?;
        let baselines: Vec<&str> = scaling
            .runtimes
            .iter()
            .map(String::as_str)
            .filter(|r| *r != MT_SUBJECT)
            .collect();
        let has_subject = baselines.len() < scaling.runtimes.len();
        let mut header = vec!["workload".to_owned(), "workers".to_owned(), "N".to_owned()];
        header.extend(scaling.runtimes.iter().map(|r| format!("{r} ns/op")));
        if has_subject {
            header.extend(baselines.iter().map(|b| format!("{MT_SUBJECT}/{b}")));
        }
        header.extend(scaling.runtimes.iter().map(|r| format!("{r} speed-up")));
        let rows = scaling
            .rows
            .iter()
            .map(|row| {
                let w = &row.result;
                let mut cells = vec![w.label(), row.workers.to_string(), w.size.to_string()];
                for rt in &scaling.runtimes {
                    cells.push(ns_cell(w.series(rt)));
                }
                if has_subject {
                    for b in &baselines {
                        cells.push(ratio_cell(w.ratio(MT_SUBJECT, b)));
                    }
                }
                for rt in &scaling.runtimes {
                    cells.push(
                        self.speed_up(row, rt)
                            .map_or_else(|| "n/a".to_owned(), |x| format!("{x:.2}x")),
                    );
                }
                cells
            })
            .collect();
        Some(Table { header, rows })
    }

    /// The notes under the scaling table in markdown.
    pub(super) fn scaling_notes(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "- `cargo xtask bench --scaling{}`: {} sample(s) per workload, runtime and worker \
             count, each a separate process; runtimes interleaved within each round; {} CPU(s) \
             (worker counts above that are oversubscribed).",
            if self.quick { " --quick" } else { "" },
            self.samples,
            cpus()
        );
        out.push_str(
            "- *ns/op*: median over the samples; ± is half the min–max range, as a percentage \
             of the median.\n",
        );
        let _ = writeln!(
            out,
            "- *{MT_SUBJECT}/X*: ratio of median ns/op at the same worker count; below 1.0 \
             means {MT_SUBJECT} is faster."
        );
        out.push_str(
            "- *speed-up*: the runtime's median ns/op at the fewest workers divided by its \
             median at this count; above 1.0: faster with more workers, below: slower.\n",
        );
        out.push_str(
            "- workers=1: corio-mt is `Builder::workers(1)`, corio's single-threaded loop; \
             tokio-mt is the multi_thread runtime with one worker thread beside the calling \
             thread (which runs the main future); smol-mt is the `Executor` run by the \
             calling thread alone.\n",
        );
        out
    }

    /// `- WORKLOAD on RUNTIME (workers=N): error` for each failed scaling run.
    pub(super) fn scaling_failures(&self) -> Vec<String> {
        let Some(scaling) = &self.scaling else {
            return Vec::new();
        };
        scaling
            .rows
            .iter()
            .flat_map(|row| {
                row.result
                    .series
                    .iter()
                    .filter(|s| s.failed())
                    .map(move |s| {
                        format!(
                            "- {} on {} (workers={}): {}",
                            row.result.name,
                            s.runtime,
                            row.workers,
                            s.error.as_deref().unwrap_or("failed")
                        )
                    })
            })
            .collect()
    }

    /// The scaling table as JSON (`null` if it did not run): per row, the
    /// worker count, each runtime's statistics and samples, the ratios and
    /// the speed-ups.
    pub(super) fn scaling_json(&self) -> Value {
        let Some(scaling) = &self.scaling else {
            return Value::Null;
        };
        let rows: Vec<Value> = scaling
            .rows
            .iter()
            .map(|row| {
                let mut v = super::json::workload_json(&row.result, MT_SUBJECT, &scaling.runtimes);
                v["workers"] = json!(row.workers);
                let speed_up: serde_json::Map<String, Value> = scaling
                    .runtimes
                    .iter()
                    .map(|rt| (rt.clone(), json!(self.speed_up(row, rt))))
                    .collect();
                v["speed_up"] = Value::Object(speed_up);
                v
            })
            .collect();
        json!({
            "subject": MT_SUBJECT,
            "runtimes": scaling.runtimes,
            "rows": rows,
        })
    }
}
