//! `cargo xtask bench`: runs the `corio-benches` workloads on every runtime.
//!
//! The binary is built with `cargo build --release -p corio-benches`; the
//! workloads, their sizes and the runtimes come from `corio-benches --list
//! --json`, so a new workload there needs no change here. Each sample is a
//! separate process (a fresh heap, and its own peak RSS). Within a sample
//! round every runtime runs once, starting from a different runtime each
//! round, so drift in the machine's speed hits all of them alike (module
//! [`sample`]).
//!
//! Two tables: the single-threaded one (every workload on corio, tokio-ct
//! and smol-local) and the multi-threaded one, "multi-threaded
//! (workers=N)" (the workloads the binary marks `multi_threaded` on
//! corio-mt, tokio-mt and smol-mt, each with `--workers N`, default 2). A
//! runtime the binary says it cannot build here (exit status 3: it is not
//! supported on this system, as corio-mt was before corio had a
//! multi-threaded scheduler) is reported as *unavailable* with the binary's
//! one-line reason, and is not a failure.
//!
//! The results go to the terminal as tables, and to `<target>/bench/`:
//! `report.md` (the same tables, with notes), `report.svg` and
//! `report-mt.svg` (bar charts of corio's and corio-mt's ratios, module
//! [`chart`]) and, with `--json`, `report.json` (every sample). `--quick`
//! runs every workload at a tenth of its size with 3 samples, and only a
//! few multi-threaded rows ([`QUICK_MT`]) at a hundredth, in about a
//! minute; CI runs it as a smoke test.
//!
//! After the workloads comes the hyper load benchmark (module [`load`]):
//! `corio-benches --serve hyper` on corio and on tokio's current-thread
//! runtime, each loaded by `wrk` on loopback, in a table of its own, then
//! (not with `--quick`) the same on corio-mt and tokio-mt with `--workers
//! N`. It is skipped, with a message saying how to install wrk, when wrk is
//! not on `PATH` (with `--install-tools`, as root, xtask runs `apt-get
//! install -y wrk` first).
//!
//! `--scaling` runs something else instead: [`SCALING_WORKLOADS`] on the
//! multi-threaded runtimes at each of [`SCALING_WORKERS`] workers, in a
//! scaling table (module `report/scaling.rs`), written to
//! `<target>/bench/scaling.md` (and `scaling.json` with `--json`).
//!
//! `--python` runs the Python event-loop harness instead (module
//! [`python`]): asyncio, uvloop, rloop and corio-py's loop.

mod chart;
mod load;
mod python;
mod report;
mod sample;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::{project, Args, Result};
use report::{MultiThreaded, Report, Scaling, ScalingRow};
use sample::run_workload;

/// Samples per workload and runtime in a full run.
const SAMPLES: usize = 5;

/// Samples per workload and runtime with `--quick`.
const QUICK_SAMPLES: usize = 3;

/// `--quick` divides every workload's default size by this.
const QUICK_DIVISOR: u64 = 10;

/// The multi-threaded runtimes' `--workers` unless `--workers` says otherwise.
const WORKERS: u64 = 2;

/// The multi-threaded rows of a `--quick` run (when the binary marks them
/// `multi_threaded`): the scheduler, the injector, IO.
const QUICK_MT: &[&str] = &["spawn", "foreign-spawn", "tcp-echo"];

/// `--quick` divides the multi-threaded rows' default sizes by this.
const QUICK_MT_DIVISOR: u64 = 100;

/// The workloads of `--scaling`.
const SCALING_WORKLOADS: &[&str] = &["tcp-echo", "spawn"];

/// The worker counts of `--scaling`.
const SCALING_WORKERS: &[u64] = &[1, 2, 4, 8];

/// A workload the benchmark binary offers.
#[derive(Clone, Debug, PartialEq)]
struct CatalogWorkload {
    /// Its name.
    name: String,
    /// Its size in a full run.
    default_size: u64,
    /// Whether the multi-threaded table shows it.
    multi_threaded: bool,
}

/// What the benchmark binary offers, from `--list --json`.
struct Catalog {
    /// Every workload, in the binary's order.
    workloads: Vec<CatalogWorkload>,
    /// The single-threaded runtimes' names.
    runtimes: Vec<String>,
    /// The multi-threaded runtimes' names.
    mt_runtimes: Vec<String>,
}

/// What `cargo xtask bench`'s options ask for.
#[derive(Debug, PartialEq)]
struct Options {
    /// `--quick`.
    quick: bool,
    /// `--install-tools`.
    install_tools: bool,
    /// `--filter SUBSTR`.
    filter: Option<String>,
    /// `--samples K`, if given.
    explicit_samples: Option<usize>,
    /// `--workers N` (default [`WORKERS`]).
    workers: u64,
    /// `--scaling`.
    scaling: bool,
    /// `--json [PATH]`: `Some(None)` for the default path.
    json_path: Option<Option<String>>,
}

impl Options {
    /// Takes the options out of `args`; anything left over is an error.
    fn parse(mut args: Args) -> Result<Options> {
        let positive = |name: &str, text: String| {
            text.parse::<u64>()
                .ok()
                .filter(|&k| k > 0)
                .ok_or_else(|| format!("{name}: `{text}` is not a positive whole number"))
        };
        let quick = args.flag("--quick");
        let install_tools = args.flag("--install-tools");
        let scaling = args.flag("--scaling");
        let filter = args.value("--filter")?;
        let explicit_samples = match args.value("--samples")? {
            Some(text) => Some(positive("--samples", text)? as usize),
            None => None,
        };
        let workers = match args.value("--workers")? {
            Some(_) if scaling => {
                return Err(format!(
                    "--workers does not go with --scaling, which runs {SCALING_WORKERS:?} workers"
                )
                .into())
            }
            Some(text) => positive("--workers", text)?,
            None => WORKERS,
        };
        // `--json` alone writes <target>/bench/report.json; `--json PATH` writes PATH.
        let json_path = args.optional_value("--json");
        args.finish()?;
        Ok(Options {
            quick,
            install_tools,
            filter,
            explicit_samples,
            workers,
            scaling,
            json_path,
        })
    }

    /// Samples per workload and runtime.
    fn samples(&self) -> usize {
        match self.explicit_samples {
            Some(k) => k,
            None if self.quick => QUICK_SAMPLES,
            None => SAMPLES,
        }
    }
}

/// The workloads of the multi-threaded table: those marked so that pass
/// `filter`, only [`QUICK_MT`]'s with `--quick`; with their sizes.
fn mt_workloads(
    catalog: &[CatalogWorkload],
    filter: Option<&str>,
    quick: bool,
) -> Vec<(String, u64)> {
    catalog
        .iter()
        .filter(|w| w.multi_threaded && matches(filter, &w.name))
        .filter(|w| !quick || QUICK_MT.contains(&w.name.as_str()))
        .map(|w| {
            let size = if quick {
                (w.default_size / QUICK_MT_DIVISOR).max(1)
            } else {
                w.default_size
            };
            (w.name.clone(), size)
        })
        .collect()
}

/// Runs `cargo xtask bench` with its arguments.
pub(crate) fn run(mut args: Args) -> Result<()> {
    if args.flag("--python") {
        return python::run(&python::PythonOptions::parse(args)?);
    }
    let options = Options::parse(args)?;
    let samples = options.samples();
    let filter = options.filter.as_deref();
    let exe = build()?;
    let catalog = list(&exe)?;
    if options.scaling {
        return run_scaling(&exe, &catalog, &options);
    }
    let workloads: Vec<(String, u64)> = catalog
        .workloads
        .iter()
        .filter(|w| matches(filter, &w.name))
        .map(|w| {
            let size = if options.quick {
                (w.default_size / QUICK_DIVISOR).max(1)
            } else {
                w.default_size
            };
            (w.name.clone(), size)
        })
        .collect();
    let mt = mt_workloads(&catalog.workloads, filter, options.quick);
    let hyper = matches(filter, "hyper");
    if workloads.is_empty() && mt.is_empty() && !hyper {
        return Err(format!(
            "no workload matches --filter {}",
            filter.unwrap_or_default()
        )
        .into());
    }

    let mut results = Vec::new();
    for (name, size) in workloads {
        results.push(run_workload(
            &exe,
            &name,
            size,
            &catalog.runtimes,
            samples,
            None,
        ));
    }
    let mut mt_results = Vec::new();
    for (name, size) in mt {
        let workers = Some(options.workers);
        mt_results.push(run_workload(
            &exe,
            &name,
            size,
            &catalog.mt_runtimes,
            samples,
            workers,
        ));
    }
    let wrk = hyper.then(|| {
        load::find_tool(options.install_tools).inspect_err(|why| {
            eprintln!("bench: skipping the hyper load benchmark: {why}");
        })
    });
    let load_samples = options.explicit_samples.unwrap_or(load::SAMPLES);
    let hyper = wrk.as_ref().map(|wrk| match wrk {
        Ok(wrk) => load::run(&exe, wrk, options.quick, load_samples, load::SERVED, None),
        Err(why) => load::LoadResult::Skipped(why.clone()),
    });
    // The multi-threaded servers, where there is a wrk (the single-threaded
    // section says so where there is none); not in --quick runs, which
    // have a few -mt rows only.
    let mt_hyper = wrk
        .and_then(Result::ok)
        .filter(|_| !options.quick)
        .map(|wrk| {
            let workers = Some(options.workers);
            load::run(&exe, &wrk, false, load_samples, load::SERVED_MT, workers)
        });
    let multi = if mt_results.is_empty() && mt_hyper.is_none() {
        None
    } else {
        Some(MultiThreaded {
            workers: options.workers,
            runtimes: catalog.mt_runtimes.clone(),
            workloads: mt_results,
            hyper: mt_hyper,
        })
    };
    let report = Report {
        quick: options.quick,
        samples,
        runtimes: catalog.runtimes,
        workloads: results,
        multi,
        scaling: None,
        hyper,
    };

    print!("{}", report.to_text());
    let dir = project::target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    write(&dir.join("report.md"), &report.to_markdown())?;
    write(&dir.join("report.svg"), &report.to_svg()?)?;
    if let Some(svg) = report.to_mt_svg() {
        write(&dir.join("report-mt.svg"), &svg?)?;
    }
    if let Some(path) = options.json_path {
        let path = path.map_or_else(|| dir.join("report.json"), PathBuf::from);
        write(&path, &format!("{:#}\n", report.to_json()))?;
    }
    finish(&report)
}

/// `--scaling`: [`SCALING_WORKLOADS`] (those that pass `--filter`) on the
/// multi-threaded runtimes at each of [`SCALING_WORKERS`], in one table.
fn run_scaling(exe: &Path, catalog: &Catalog, options: &Options) -> Result<()> {
    let samples = options.samples();
    let workloads: Vec<&CatalogWorkload> = catalog
        .workloads
        .iter()
        .filter(|w| SCALING_WORKLOADS.contains(&w.name.as_str()))
        .filter(|w| matches(options.filter.as_deref(), &w.name))
        .collect();
    if workloads.is_empty() {
        return Err(format!(
            "--scaling runs {}; none matches --filter {}",
            SCALING_WORKLOADS.join(", "),
            options.filter.as_deref().unwrap_or_default()
        )
        .into());
    }
    let mut rows = Vec::new();
    for w in workloads {
        let size = if options.quick {
            (w.default_size / QUICK_MT_DIVISOR).max(1)
        } else {
            w.default_size
        };
        for &workers in SCALING_WORKERS {
            let result = run_workload(
                exe,
                &w.name,
                size,
                &catalog.mt_runtimes,
                samples,
                Some(workers),
            );
            rows.push(ScalingRow { workers, result });
        }
    }
    let report = Report {
        quick: options.quick,
        samples,
        runtimes: catalog.runtimes.clone(),
        workloads: Vec::new(),
        multi: None,
        scaling: Some(Scaling {
            runtimes: catalog.mt_runtimes.clone(),
            rows,
        }),
        hyper: None,
    };
    print!("{}", report.to_text());
    let dir = project::target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    write(&dir.join("scaling.md"), &report.to_markdown())?;
    if let Some(path) = &options.json_path {
        let path = path
            .as_ref()
            .map_or_else(|| dir.join("scaling.json"), PathBuf::from);
        write(&path, &format!("{:#}\n", report.to_json()))?;
    }
    finish(&report)
}

/// The end of a run: an error naming every failed run, if any.
fn finish(report: &Report) -> Result<()> {
    let failed = report.failed_runs();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("some runs failed: {}", failed.join(", ")).into())
    }
}

/// Whether `name` passes `--filter`: there is none, or it is a substring.
fn matches(filter: Option<&str>, name: &str) -> bool {
    filter.is_none_or(|f| name.contains(f))
}

/// Writes `text` to `path`, saying so on stderr.
fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("bench: wrote {}", path.display());
    Ok(())
}

/// Builds the benchmark binary in release mode and returns its path.
fn build() -> Result<PathBuf> {
    let mut cmd = project::cargo();
    cmd.args([
        "build",
        "--release",
        "-p",
        "corio-benches",
        "--message-format=json-render-diagnostics",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    eprintln!("bench: building the benchmarks: $ {}", project::show(&cmd));
    let output = cmd
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("building corio-benches failed ({})", output.status).into());
    }
    executable(&String::from_utf8_lossy(&output.stdout))
        .ok_or_else(|| "cargo reported no corio-benches executable".into())
}

/// The `corio-benches` executable named in cargo's JSON build messages.
fn executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "corio-benches")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

/// Asks the benchmark binary for its workloads and runtimes.
fn list(exe: &Path) -> Result<Catalog> {
    let output = Command::new(exe)
        .args(["--list", "--json"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run {}: {e}", exe.display()))?;
    if !output.status.success() {
        return Err(format!(
            "`{} --list --json` failed ({})",
            exe.display(),
            output.status
        )
        .into());
    }
    parse_catalog(&String::from_utf8_lossy(&output.stdout))
}

/// Parses the output of `corio-benches --list --json`.
fn parse_catalog(text: &str) -> Result<Catalog> {
    let v: Value = serde_json::from_str(text.trim())?;
    let bad = || format!("unexpected `--list --json` output: {}", text.trim());
    let workloads = v["workloads"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|w| {
            Some(CatalogWorkload {
                name: w["name"].as_str()?.to_owned(),
                default_size: w["default_size"].as_u64()?,
                multi_threaded: w["multi_threaded"].as_bool().unwrap_or(false),
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(bad)?;
    let all = v["runtimes"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|r| {
            let mt = r["multi_threaded"].as_bool().unwrap_or(false);
            r["name"].as_str().map(|name| (name.to_owned(), mt))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(bad)?;
    let (mt, single): (Vec<_>, Vec<_>) = all.into_iter().partition(|(_, mt)| *mt);
    Ok(Catalog {
        workloads,
        runtimes: single.into_iter().map(|(name, _)| name).collect(),
        mt_runtimes: mt.into_iter().map(|(name, _)| name).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_executable_in_build_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"corio"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"corio-benches"},"executable":"/t/release/corio-benches"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable(messages),
            Some(PathBuf::from("/t/release/corio-benches"))
        );
        assert_eq!(executable("not json\n"), None);
    }

    fn workload(name: &str, default_size: u64, multi_threaded: bool) -> CatalogWorkload {
        CatalogWorkload {
            name: name.to_owned(),
            default_size,
            multi_threaded,
        }
    }

    #[test]
    fn parses_the_catalog() {
        let c = parse_catalog(
            r#"{"workloads":[{"name":"spawn","default_size":1000000,"multi_threaded":true,"description":"d"},
                             {"name":"gather","default_size":10000,"multi_threaded":false,"description":"d"}],
                "runtimes":[{"name":"corio","multi_threaded":false,"description":"d"},
                            {"name":"tokio-ct","description":"d"},
                            {"name":"corio-mt","multi_threaded":true,"description":"d"},
                            {"name":"tokio-mt","multi_threaded":true,"description":"d"}]}"#,
        )
        .unwrap();
        assert_eq!(
            c.workloads,
            vec![
                workload("spawn", 1_000_000, true),
                workload("gather", 10_000, false)
            ]
        );
        assert_eq!(c.runtimes, ["corio", "tokio-ct"]);
        assert_eq!(c.mt_runtimes, ["corio-mt", "tokio-mt"]);
        assert!(parse_catalog(r#"{"workloads":[{"name":1}],"runtimes":[]}"#).is_err());
    }

    fn options(args: &str) -> Result<Options> {
        let args: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
        Options::parse(Args::new(&args))
    }

    #[test]
    fn parses_workers_and_scaling() {
        let o = options("--quick --workers 4 --filter spawn").unwrap();
        assert_eq!((o.workers, o.quick, o.scaling), (4, true, false));
        assert_eq!(o.filter.as_deref(), Some("spawn"));
        assert_eq!(o.samples(), QUICK_SAMPLES);
        let o = options("--scaling --samples=2 --json").unwrap();
        assert_eq!((o.workers, o.scaling, o.samples()), (WORKERS, true, 2));
        assert_eq!(o.json_path, Some(None));
        assert_eq!(options("").unwrap().samples(), SAMPLES);
        assert!(options("--workers 0").is_err());
        assert!(options("--workers x").is_err());
        assert!(options("--workers").is_err());
        assert!(options("--scaling --workers 2").is_err());
        assert!(options("--bogus").is_err());
    }

    #[test]
    fn quick_runs_a_few_small_mt_rows() {
        let catalog = [
            workload("spawn", 1_000_000, true),
            workload("yield", 1_000_000, true),
            workload("tcp-echo", 640_000, true),
            workload("gather", 10_000, false),
        ];
        assert_eq!(
            mt_workloads(&catalog, None, false),
            [
                ("spawn".to_owned(), 1_000_000),
                ("yield".to_owned(), 1_000_000),
                ("tcp-echo".to_owned(), 640_000)
            ]
        );
        assert_eq!(
            mt_workloads(&catalog, None, true),
            [("spawn".to_owned(), 10_000), ("tcp-echo".to_owned(), 6_400)]
        );
        assert_eq!(
            mt_workloads(&catalog, Some("tcp"), true),
            [("tcp-echo".to_owned(), 6_400)]
        );
        assert!(mt_workloads(&catalog, Some("gather"), false).is_empty());
    }

    #[test]
    fn filter_matches_substrings() {
        assert!(matches(None, "spawn"));
        assert!(matches(Some("pa"), "spawn"));
        assert!(!matches(Some("yield"), "spawn"));
    }
}
