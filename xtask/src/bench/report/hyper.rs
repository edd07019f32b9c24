//! The hyper load benchmark's part of a [`Report`], for either table's
//! runtimes: the single-threaded servers (corio, tokio-ct) and the
//! multi-threaded ones (corio-mt, tokio-mt with `--workers N`). One
//! [`Section`] renders its own: a one-row table, its notes, text and
//! markdown, JSON, failures and its bar in the chart.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::super::chart;
use super::super::load::{self, LoadResult};
use super::table::Table;
use super::{cpus, load_ratio, Stats, HYPER_TITLE};

use super::Section;

/// Statistics as JSON: `{median, min, max}`, or `null`.
fn stats(s: Option<Stats>) -> Value {
    s.map_or(
        Value::Null,
        |s| json!({ "median": s.median, "min": s.min, "max": s.max }),
    )
}

impl Section<'_> {
    /// The title of this section's hyper table.
    pub(super) fn hyper_title(&self) -> String {
        match self.workers {
            Some(n) => format!("{HYPER_TITLE}, workers={n}"),
            None => HYPER_TITLE.to_owned(),
        }
    }

    /// The hyper load benchmark as a table (one row), if it ran: median
    /// req/s per runtime, the subject's ratios, median p99 latency; `-` for
    /// a runtime that has no server.
    pub(super) fn hyper_table(&self) -> Option<Table> {
        let Some(LoadResult::Ran {
            duration_s, series, ..
        }) = self.hyper
        else {
            return None;
        };
        let subject = self.subject;
        let baselines = self.baselines();
        let mut header = vec!["server".to_owned(), "load".to_owned()];
        header.extend(self.runtimes.iter().map(|r| format!("{r} req/s")));
        header.extend(baselines.iter().map(|b| format!("{subject}/{b}")));
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
        for rt in self.runtimes {
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
                Some(_) => load_ratio(series, subject, b)
                    .map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}")),
                None => "-".to_owned(),
            });
        }
        for rt in self.runtimes {
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
    fn hyper_notes(&self, quick: bool) -> String {
        let mut out = String::new();
        let Some(LoadResult::Ran {
            duration_s,
            pinning,
            series,
        }) = self.hyper
        else {
            return out;
        };
        let subject = self.subject;
        let samples = series.iter().map(|s| s.samples.len()).max().unwrap_or(0);
        let workers = self
            .workers
            .map_or_else(String::new, |n| format!(" --workers {n}"));
        let _ = writeln!(
            out,
            "- `cargo xtask bench{}`: {samples} sample(s) per runtime; each starts \
             `corio-benches --serve hyper --runtime R{workers} --port 0` (hyper HTTP/1, \
             keep-alive, `Hello, World!`) and loads it for {duration_s} s with `wrk -t{} -c{} \
             -d{duration_s}s --latency` on loopback; runtimes interleaved within each round.",
            if quick { " --quick" } else { "" },
            load::THREADS,
            load::CONNECTIONS
        );
        out.push_str(
            "- *req/s*: median of wrk's Requests/sec over the samples; ± is half the min–max \
             range, as a percentage of the median.\n",
        );
        let _ = writeln!(
            out,
            "- *{subject}/X*: ratio of median req/s; **above** 1.0 means {subject} serves more \
             requests per second (the inverse sense of the ns/op ratios)."
        );
        out.push_str("- *p99 ms*: median over the samples of wrk's 99th-percentile latency.\n");
        out.push_str("- `-`: no server on that runtime (smol is not served).\n");
        let server = match self.workers {
            Some(n) => format!("server's {n} worker(s)"),
            None => "single-threaded server".to_owned(),
        };
        match pinning {
            Some(p) => {
                let _ = writeln!(
                    out,
                    "- pinned: the {server} on CPU {} and wrk's one thread on CPU {} \
                     (`taskset -c`), of the machine's {}.",
                    p.server_cpu,
                    p.wrk_cpu,
                    cpus()
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "- wrk's one thread and the {server} run on the same machine and share \
                     its {} CPU(s), not pinned.",
                    cpus()
                );
            }
        }
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

    /// The hyper benchmark as plain text: why it was skipped, or its title,
    /// table and a line on how to read it; empty if it was not selected.
    pub(super) fn hyper_text(&self) -> String {
        let mut out = String::new();
        let subject = self.subject;
        match self.hyper {
            None => {}
            Some(LoadResult::Skipped(why)) => {
                let _ = writeln!(out, "{}: skipped: {why}", self.hyper_title());
            }
            Some(LoadResult::Ran { pinning, .. }) => {
                let _ = writeln!(out, "{}", self.hyper_title());
                if let Some(table) = self.hyper_table() {
                    out.push_str(&table.to_text());
                }
                let placement = match pinning {
                    Some(p) => format!(
                        "server pinned to CPU {}, wrk to CPU {} (taskset)",
                        p.server_cpu, p.wrk_cpu
                    ),
                    None => format!("wrk and the server share {} CPU(s), not pinned", cpus()),
                };
                let _ = writeln!(
                    out,
                    "(median req/s; {subject}/X above 1.0: {subject} serves more; {placement})"
                );
            }
        }
        out
    }

    /// The hyper benchmark as a markdown section (empty if not selected).
    pub(super) fn hyper_markdown(&self, quick: bool) -> String {
        let mut out = String::new();
        match self.hyper {
            None => {}
            Some(LoadResult::Skipped(why)) => {
                let _ = writeln!(out, "## {}\n\nSkipped: {why}.", self.hyper_title());
            }
            Some(LoadResult::Ran { .. }) => {
                let _ = writeln!(out, "## {}\n", self.hyper_title());
                if let Some(table) = self.hyper_table() {
                    out.push_str(&table.to_markdown());
                }
                out.push('\n');
                out.push_str(&self.hyper_notes(quick));
            }
        }
        out
    }

    /// `- hyper on R: error` for each runtime whose server runs failed.
    pub(super) fn hyper_failures(&self) -> Vec<String> {
        match self.hyper {
            Some(LoadResult::Ran { series, .. }) => series
                .iter()
                .filter_map(|s| Some(format!("- hyper on {}: {}", s.runtime, s.error.as_ref()?)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The chart's hyper row, if it ran: time per request (the inverse of
    /// the req/s ratio, so that left of 1.0 means the subject is better
    /// there too).
    pub(super) fn hyper_chart_row(&self) -> Option<chart::Row> {
        let Some(LoadResult::Ran { series, .. }) = self.hyper else {
            return None;
        };
        Some(chart::Row {
            label: "hyper (time/request)".to_owned(),
            ratios: self
                .baselines()
                .iter()
                .map(|b| {
                    load_ratio(series, self.subject, b)
                        .filter(|r| *r > 0.0)
                        .map(|r| 1.0 / r)
                })
                .collect(),
        })
    }

    /// The hyper load benchmark as JSON: `null` if not selected,
    /// `{"skipped": why}` if it could not run.
    pub(super) fn hyper_json(&self) -> Value {
        let subject = self.subject;
        match self.hyper {
            None => Value::Null,
            Some(LoadResult::Skipped(why)) => json!({ "skipped": why }),
            Some(LoadResult::Ran {
                duration_s,
                pinning,
                series,
            }) => {
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
                    .filter(|s| s.runtime != subject)
                    .map(|s| {
                        (
                            format!("{subject}/{}", s.runtime),
                            json!(load_ratio(series, subject, &s.runtime)),
                        )
                    })
                    .collect();
                json!({
                    "tool": load::TOOL,
                    "threads": load::THREADS,
                    "connections": load::CONNECTIONS,
                    "duration_s": duration_s,
                    "pinned": pinning.map(|p| json!({
                        "server_cpu": p.server_cpu,
                        "wrk_cpu": p.wrk_cpu,
                    })),
                    "workers": self.workers,
                    "results": results,
                    "ratios": ratios,
                })
            }
        }
    }
}
