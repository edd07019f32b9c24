//! Unit tests of the report: statistics and every rendering.

use serde_json::Value;

use super::super::load::{self, LoadResult, LoadSeries};
use super::{
    MultiThreaded, Report, Sample, Scaling, ScalingRow, Series, Stats, WorkloadResult, HYPER_TITLE,
};

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
        unavailable: false,
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
        multi: None,
        scaling: None,
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
            pinning: Some(crate::bench::load::Pinning {
                server_cpu: 0,
                wrk_cpu: 1,
            }),
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
    assert!(
        text.contains("server pinned to CPU 0, wrk to CPU 1"),
        "{text}"
    );
}

#[test]
fn hyper_section_in_markdown_and_json() {
    let r = hyper_report();
    let md = r.to_markdown();
    assert!(md.contains("## hyper hello-world (wrk)"), "{md}");
    assert!(md.contains("| server | load | corio req/s |"), "{md}");
    assert!(md.contains("above** 1.0 means corio serves more"), "{md}");
    assert!(
        md.contains("on CPU 0 and wrk's one thread on CPU 1"),
        "{md}"
    );
    assert!(!md.contains("| workload |"), "{md}");
    let v = r.to_json();
    assert_eq!(v["hyper"]["pinned"]["wrk_cpu"], 1);
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

/// The reason corio-benches gives while corio-mt cannot be built.
const WHY: &str = "corio-mt is unavailable: corio: Builder::workers(2) needs the scheduler";

fn unavailable(runtime: &str) -> Series {
    Series {
        runtime: runtime.into(),
        error: Some(WHY.into()),
        unavailable: true,
        ..Series::default()
    }
}

fn mt_runtimes() -> Vec<String> {
    vec!["corio-mt".into(), "tokio-mt".into(), "smol-mt".into()]
}

/// The single-threaded report plus a multi-threaded table of two rows:
/// corio-mt unavailable on `spawn`, measured on `yield`.
fn mt_report() -> Report {
    Report {
        multi: Some(MultiThreaded {
            workers: 2,
            runtimes: mt_runtimes(),
            workloads: vec![
                WorkloadResult {
                    name: "spawn".into(),
                    size: 10_000,
                    series: vec![
                        unavailable("corio-mt"),
                        series("tokio-mt", &[200.0, 200.0, 200.0]),
                        series("smol-mt", &[100.0, 100.0, 100.0]),
                    ],
                },
                WorkloadResult {
                    name: "yield".into(),
                    size: 10_000,
                    series: vec![
                        series("corio-mt", &[30.0, 30.0, 30.0]),
                        series("tokio-mt", &[60.0, 60.0, 60.0]),
                        series("smol-mt", &[40.0, 40.0, 40.0]),
                    ],
                },
            ],
            hyper: None,
        }),
        ..report()
    }
}

#[test]
fn mt_table_follows_with_its_own_subject() {
    let text = mt_report().to_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[2], "", "{text}");
    assert_eq!(lines[3], "multi-threaded (workers=2)", "{text}");
    for column in [
        "corio-mt ns/op",
        "corio-mt/tokio-mt",
        "corio-mt/smol-mt",
        "smol-mt MiB",
    ] {
        assert!(lines[4].contains(column), "{column} missing: {text}");
    }
    assert!(
        lines[5].starts_with("spawn") && lines[5].contains("unavailable"),
        "{text}"
    );
    for cell in ["30.0 ±0.0%", "0.50", "0.75"] {
        assert!(lines[6].contains(cell), "{cell} missing: {text}");
    }
    assert!(
        text.contains(&format!("(corio-mt not run: {WHY})")),
        "{text}"
    );
}

#[test]
fn unavailable_runtimes_are_not_failures() {
    let r = mt_report();
    assert_eq!(r.failed_runs(), ["spawn on smol-local"]);
    assert_eq!(
        r.unavailable(),
        [(
            "corio-mt".to_owned(),
            WHY.to_owned(),
            vec!["spawn".to_owned()]
        )]
    );
    let md = r.to_markdown();
    assert!(md.contains("## multi-threaded (workers=2)"), "{md}");
    assert!(md.contains("| workload | N | corio-mt ns/op |"), "{md}");
    assert!(md.contains("below 1.0 means corio-mt is faster"), "{md}");
    assert!(md.contains("](report-mt.svg)"), "{md}");
    assert!(md.contains("## Not run"), "{md}");
    assert!(md.contains(&format!("- corio-mt (spawn): {WHY}")), "{md}");
    let failures = &md[md.find("## Failures").unwrap()..md.find("## Not run").unwrap()];
    assert!(!failures.contains("corio-mt"), "{md}");
    assert!(failures.contains("- spawn on smol-local"), "{md}");
}

#[test]
fn mt_table_in_json_and_svg() {
    let r = mt_report();
    let v = r.to_json();
    let multi = &v["multi_threaded"];
    assert_eq!(multi["workers"], 2);
    assert_eq!(multi["subject"], "corio-mt");
    assert_eq!(multi["workloads"][0]["results"][0]["unavailable"], true);
    assert_eq!(
        multi["workloads"][0]["ratios"]["corio-mt/tokio-mt"],
        Value::Null
    );
    assert_eq!(multi["workloads"][1]["ratios"]["corio-mt/tokio-mt"], 0.5);
    assert_eq!(report().to_json()["multi_threaded"], Value::Null);
    let svg = r.to_mt_svg().unwrap().unwrap();
    assert!(
        svg.contains("corio-mt ÷ smol-mt") && svg.contains("0.75"),
        "{svg}"
    );
    assert!(report().to_mt_svg().is_none());
}

fn scaling_report() -> Report {
    let row = |workers: u64, corio: &[f64], tokio: &[f64]| ScalingRow {
        workers,
        result: WorkloadResult {
            name: "spawn".into(),
            size: 1000,
            series: vec![
                series("corio-mt", corio),
                series("tokio-mt", tokio),
                unavailable("smol-mt"),
            ],
        },
    };
    Report {
        workloads: Vec::new(),
        scaling: Some(Scaling {
            runtimes: mt_runtimes(),
            rows: vec![row(1, &[100.0], &[300.0]), row(2, &[50.0], &[200.0])],
        }),
        ..report()
    }
}

#[test]
fn scaling_table_has_ratios_and_speed_ups() {
    let r = scaling_report();
    let text = r.to_text();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("scaling"), "{text}");
    for column in ["workers", "corio-mt/tokio-mt", "tokio-mt speed-up"] {
        assert!(lines[1].contains(column), "{column} missing: {text}");
    }
    for cell in ["0.33", "1.00x"] {
        assert!(lines[2].contains(cell), "{cell} missing: {text}");
    }
    for cell in ["0.25", "2.00x", "1.50x", "unavailable"] {
        assert!(lines[3].contains(cell), "{cell} missing: {text}");
    }
    assert!(r.failed_runs().is_empty());
    let md = r.to_markdown();
    assert!(
        md.contains("| workload | workers | N | corio-mt ns/op |"),
        "{md}"
    );
    assert!(md.contains("*speed-up*"), "{md}");
    assert!(!md.contains("| workload | N |"), "{md}");
    let v = r.to_json();
    assert_eq!(v["scaling"]["rows"][1]["workers"], 2);
    assert_eq!(v["scaling"]["rows"][1]["speed_up"]["tokio-mt"], 1.5);
    assert_eq!(v["scaling"]["rows"][1]["ratios"]["corio-mt/tokio-mt"], 0.25);
    assert_eq!(v["scaling"]["rows"][0]["speed_up"]["smol-mt"], Value::Null);
}

#[test]
fn failed_scaling_runs_are_failures() {
    let mut r = scaling_report();
    let row = &mut r.scaling.as_mut().unwrap().rows[1];
    row.result.series[1] = Series {
        runtime: "tokio-mt".into(),
        error: Some("timed out after 300 s".into()),
        ..Series::default()
    };
    assert_eq!(r.failed_runs(), ["spawn on tokio-mt (workers=2)"]);
    assert!(r
        .to_markdown()
        .contains("- spawn on tokio-mt (workers=2): timed out after 300 s"));
}

/// `mt_report` with the hyper benchmark on the multi-threaded servers.
fn mt_hyper_report() -> Report {
    let mut r = mt_report();
    r.multi.as_mut().unwrap().hyper = Some(LoadResult::Ran {
        duration_s: 5,
        pinning: None,
        series: vec![
            load_series("corio-mt", &[150_000.0, 150_000.0, 150_000.0]),
            load_series("tokio-mt", &[100_000.0, 100_000.0, 100_000.0]),
        ],
    });
    r
}

#[test]
fn mt_hyper_has_its_own_table() {
    let r = mt_hyper_report();
    let text = r.to_text();
    let at = text
        .find("hyper hello-world (wrk), workers=2\n")
        .expect(&text);
    let lines: Vec<&str> = text[at..].lines().collect();
    for column in ["corio-mt req/s", "corio-mt/tokio-mt", "smol-mt p99 ms"] {
        assert!(lines[1].contains(column), "{column} missing: {text}");
    }
    for cell in ["150000 ±0.0%", "1.50", " -"] {
        assert!(lines[2].contains(cell), "{cell} missing: {text}");
    }
    assert!(text.contains("corio-mt serves more"), "{text}");
    let md = r.to_markdown();
    assert!(md.contains("## hyper hello-world (wrk), workers=2"), "{md}");
    assert!(md.contains("--runtime R --workers 2 --port 0"), "{md}");
    assert!(md.contains("the server's 2 worker(s)"), "{md}");
    let v = r.to_json();
    assert_eq!(
        v["multi_threaded"]["hyper"]["ratios"]["corio-mt/tokio-mt"],
        1.5
    );
    assert_eq!(v["multi_threaded"]["hyper"]["workers"], 2);
    assert_eq!(v["hyper"], Value::Null);
    let svg = r.to_mt_svg().unwrap().unwrap();
    assert!(svg.contains("hyper (time/request)"), "{svg}");
    assert!(!r.to_svg().unwrap().contains("hyper (time/request)"));
}

#[test]
fn mt_hyper_alone_has_no_empty_workload_table() {
    let mut r = mt_hyper_report();
    r.workloads.clear();
    r.multi.as_mut().unwrap().workloads.clear();
    let text = r.to_text();
    assert!(!text.contains("multi-threaded (workers=2)"), "{text}");
    assert!(
        text.starts_with("hyper hello-world (wrk), workers=2\n"),
        "{text}"
    );
    let md = r.to_markdown();
    assert!(!md.contains("## multi-threaded"), "{md}");
    assert!(md.contains("## hyper hello-world (wrk), workers=2"), "{md}");
    if let Some(LoadResult::Ran { series, .. }) = &mut r.multi.as_mut().unwrap().hyper {
        series[0].error = Some("the server exited during the run".into());
    }
    assert_eq!(
        r.hyper_failures(),
        ["- hyper on corio-mt: the server exited during the run"]
    );
    assert_eq!(
        r.failed_runs(),
        ["hyper on corio-mt: the server exited during the run"]
    );
}
