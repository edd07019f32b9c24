//! `cargo xtask loom`: the loom model-checking tests of every crate that has them.
//!
//! A crate has loom tests when it has `tests/loom.rs`. Each such crate gets
//! `cargo test --release -p <crate> --test loom` with `RUSTFLAGS="--cfg loom"`
//! and `LOOM_MAX_PREEMPTIONS=2` (unless set already), built in
//! `<target>/loom` so that the changed `RUSTFLAGS` do not invalidate the
//! normal build cache.

use std::ffi::OsString;

use crate::{project, Result};

/// The preemption bound used unless `LOOM_MAX_PREEMPTIONS` is set.
const MAX_PREEMPTIONS: &str = "2";

/// Runs the loom tests; `test_args` are passed to each test binary.
pub(crate) fn run(test_args: &[String]) -> Result<()> {
    let metadata = project::metadata()?;
    let crates: Vec<String> = project::packages(&metadata)
        .into_iter()
        .filter(|(_, dir)| dir.join("tests").join("loom.rs").is_file())
        .map(|(name, _)| name)
        .collect();
    if crates.is_empty() {
        eprintln!("loom: no crate has tests/loom.rs; nothing to run");
        return Ok(());
    }
    let target_dir = project::target_dir().join("loom");
    let mut rustflags = std::env::var_os("RUSTFLAGS").unwrap_or_default();
    if !rustflags.is_empty() {
        rustflags.push(" ");
    }
    rustflags.push("--cfg loom");
    let preemptions =
        std::env::var_os("LOOM_MAX_PREEMPTIONS").unwrap_or_else(|| OsString::from(MAX_PREEMPTIONS));

    let mut failed = Vec::new();
    for name in &crates {
        eprintln!("loom: {name}");
        let mut cmd = project::cargo();
        cmd.env("RUSTFLAGS", &rustflags)
            .env("LOOM_MAX_PREEMPTIONS", &preemptions)
            .env("CARGO_TARGET_DIR", &target_dir)
            .args(["test", "--release", "-p", name, "--test", "loom"]);
        if !test_args.is_empty() {
            cmd.arg("--").args(test_args);
        }
        if let Err(error) = project::run_checked(&mut cmd) {
            eprintln!("loom: {error}");
            failed.push(name.as_str());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("loom tests failed in: {}", failed.join(", ")).into())
    }
}
