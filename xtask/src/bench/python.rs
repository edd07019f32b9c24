//! `cargo xtask bench --python`: the Python event-loop benchmarks.
//!
//! asyncio's default loop, uvloop, rloop and corio-py's loop on uvloop's
//! classic rows (echo through streams, protocols and `sock_*` calls, an
//! HTTP/1.1 server under `wrk`, `call_soon` and `create_task` throughput),
//! in the same run, interleaved. The harness itself is Python
//! (`crates/corio-py/bench/`, see its README): this module only maps
//! xtask's options onto `crates/corio-py/bench/run.sh`, which makes the
//! virtualenv, builds corio's wheel in release mode and runs `bench.py`.
//! The table goes to the terminal and to `<target>/bench/python.md`.

use std::path::PathBuf;
use std::process::Command;

use crate::{project, Args, Result};

/// The options of `cargo xtask bench --python`, as `run.sh` arguments.
#[derive(Debug, PartialEq)]
pub(crate) struct PythonOptions {
    /// `--quick`: one sample, short runs.
    quick: bool,
    /// `--samples K`.
    samples: Option<String>,
    /// `--filter SUBSTR` (the harness takes a regex; a plain substring is one).
    filter: Option<String>,
}

impl PythonOptions {
    /// Takes the options `--python` understands out of `args`; anything else
    /// (`--json`, `--workers`, `--scaling`) is an error naming the option.
    pub(crate) fn parse(mut args: Args) -> Result<PythonOptions> {
        let quick = args.flag("--quick");
        let samples = args.value("--samples")?;
        if let Some(text) = &samples {
            if !text.parse::<u32>().is_ok_and(|k| k > 0) {
                return Err(format!("--samples: `{text}` is not a positive whole number").into());
            }
        }
        let filter = args.value("--filter")?;
        args.finish().map_err(|e| {
            format!("{e}; --python takes only --quick, --samples K, --filter SUBSTR")
        })?;
        Ok(PythonOptions {
            quick,
            samples,
            filter,
        })
    }

    /// The arguments for `run.sh` (and so `bench.py`), writing the table to
    /// `out` too.
    fn harness_args(&self, out: &str) -> Vec<String> {
        let mut argv = Vec::new();
        if self.quick {
            argv.push("--quick".to_owned());
        }
        if let Some(k) = &self.samples {
            argv.extend(["--samples".to_owned(), k.clone()]);
        }
        if let Some(f) = &self.filter {
            argv.extend(["--filter".to_owned(), f.clone()]);
        }
        argv.extend(["--out".to_owned(), out.to_owned()]);
        argv
    }
}

/// Runs the Python harness with `options`.
pub(crate) fn run(options: &PythonOptions) -> Result<()> {
    let script: PathBuf = project::root().join("crates/corio-py/bench/run.sh");
    let dir = project::target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = dir.join("python.md");
    let status = Command::new("bash")
        .arg(&script)
        .args(options.harness_args(&out.display().to_string()))
        .current_dir(project::root())
        .status()
        .map_err(|e| format!("bash {}: {e}", script.display()))?;
    if !status.success() {
        return Err(format!(
            "{} failed ({status}); it needs python3 (3.11-3.13), PyPI for its \
             virtualenv, and wrk for the http row (`cargo xtask bench --install-tools` \
             installs wrk)",
            script.display()
        )
        .into());
    }
    println!("bench --python: table written to {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::PythonOptions;
    use crate::Args;

    fn parse(s: &str) -> crate::Result<PythonOptions> {
        let v: Vec<String> = s.split_whitespace().map(str::to_owned).collect();
        PythonOptions::parse(Args::new(&v))
    }

    #[test]
    fn maps_options_onto_the_harness() {
        let o = parse("--quick --samples 3 --filter call_soon").unwrap();
        assert_eq!(
            o.harness_args("x.md"),
            [
                "--quick",
                "--samples",
                "3",
                "--filter",
                "call_soon",
                "--out",
                "x.md"
            ]
        );
        assert_eq!(parse("").unwrap().harness_args("y"), ["--out", "y"]);
    }

    #[test]
    fn rejects_what_the_harness_does_not_take() {
        let err = parse("--json").unwrap_err().to_string();
        assert!(
            err.contains("--json") && err.contains("--python takes only"),
            "{err}"
        );
        assert!(parse("--samples 0").is_err());
        assert!(parse("--samples x").is_err());
    }
}
