//! A [`Report`] as JSON, raw samples included: both workload tables, the
//! scaling rows (built in `scaling.rs` from [`workload_json`]) and hyper
//! (built in `hyper.rs`).

use serde_json::{json, Value};

use super::{Report, Section, Stats, WorkloadResult, MT_SUBJECT, SUBJECT};

/// Statistics as JSON: `{median, min, max}`, or `null`.
fn stats(s: Option<Stats>) -> Value {
    s.map_or(
        Value::Null,
        |s| json!({ "median": s.median, "min": s.min, "max": s.max }),
    )
}

/// One workload's results as JSON: every series (statistics, raw samples,
/// error) and `subject`'s ratios to the other `runtimes`.
pub(super) fn workload_json(w: &WorkloadResult, subject: &str, runtimes: &[String]) -> Value {
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
                "unavailable": s.unavailable,
            })
        })
        .collect();
    let section = Section {
        subject,
        runtimes,
        workloads: std::slice::from_ref(w),
        hyper: None,
        workers: None,
    };
    let ratios: serde_json::Map<String, Value> = section
        .baselines()
        .into_iter()
        .map(|b| (format!("{subject}/{b}"), json!(w.ratio(subject, b))))
        .collect();
    json!({ "name": w.name, "size": w.size, "results": results, "ratios": ratios })
}

impl Report {
    /// The report, raw samples included, as JSON.
    pub(crate) fn to_json(&self) -> Value {
        let workloads: Vec<Value> = self
            .workloads
            .iter()
            .map(|w| workload_json(w, SUBJECT, &self.runtimes))
            .collect();
        let multi = self.multi.as_ref().map_or(Value::Null, |m| {
            let workloads: Vec<Value> = m
                .workloads
                .iter()
                .map(|w| workload_json(w, MT_SUBJECT, &m.runtimes))
                .collect();
            let hyper = self.multi_section().map_or(Value::Null, |s| s.hyper_json());
            json!({
                "workers": m.workers,
                "subject": MT_SUBJECT,
                "runtimes": m.runtimes,
                "workloads": workloads,
                "hyper": hyper,
            })
        });
        json!({
            "quick": self.quick,
            "samples": self.samples,
            "subject": SUBJECT,
            "runtimes": self.runtimes,
            "workloads": workloads,
            "multi_threaded": multi,
            "scaling": self.scaling_json(),
            "hyper": self.single().hyper_json(),
        })
    }
}
