//! Unit tests of the report: statistics and every rendering.

use serde_json::Value;

use super::super::load::{self, LoadResult, LoadSeries};
use super::{Report, Sample, Series, Stats, WorkloadResult, HYPER_TITLE};

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
