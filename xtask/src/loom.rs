//! `cargo xtask loom`: the loom model-checking tests of every crate that has them.
//!
//! A crate has loom tests when it has `tests/loom.rs` (models of its public
//! API) or a line starting `#[cfg(all(test, loom))]` in `src/` (models that
//! drive crate-private code, such as corio-executor's worker loop). Each such
//! crate gets `cargo test --release -p <crate> --test loom` (and `--lib` for
//! the in-crate models) with `RUSTFLAGS="--cfg loom"` and
//! `LOOM_MAX_PREEMPTIONS=2` (unless set already), built in `<target>/loom`
//! so that the changed `RUSTFLAGS` do not invalidate the normal build cache.

use std::ffi::OsString;
use std::fs;
use std::path::Path;

use crate::{project, Result};

/// The preemption bound used unless `LOOM_MAX_PREEMPTIONS` is set.
const MAX_PREEMPTIONS: &str = "2";

/// Runs the loom tests; `test_args` are passed to each test binary.
pub(crate) fn run(test_args: &[String]) -> Result<()> {
    let metadata = project::metadata()?;
    let crates: Vec<(String, Vec<&str>)> = project::packages(&metadata)
        .into_iter()
        .filter_map(|(name, dir)| {
            let mut targets = Vec::new();
            if has_unit_models(&dir.join("src")) {
                targets.push("--lib");
            }
            if dir.join("tests").join("loom.rs").is_file() {
                targets.extend(["--test", "loom"]);
            }
            (!targets.is_empty()).then_some((name, targets))
        })
        .collect();
    if crates.is_empty() {
        eprintln!("loom: no crate has tests/loom.rs or loom unit tests; nothing to run");
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
    for (name, targets) in &crates {
        eprintln!("loom: {name}");
        let mut cmd = project::cargo();
        cmd.env("RUSTFLAGS", &rustflags)
            .env("LOOM_MAX_PREEMPTIONS", &preemptions)
            .env("CARGO_TARGET_DIR", &target_dir)
            .args(["test", "--release", "-p", name])
            .args(targets);
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

/// The attribute that marks a crate's in-crate loom models, at the start of
/// a line.
const UNIT_MODELS: &str = "#[cfg(all(test, loom))]";

/// Whether a `.rs` file under `dir` (recursively) has loom unit tests.
fn has_unit_models(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        if path.is_dir() {
            has_unit_models(&path)
        } else {
            path.extension().is_some_and(|ext| ext == "rs")
                && fs::read_to_string(&path).is_ok_and(|text| {
                    text.lines()
                        .any(|line| line.trim_start().starts_with(UNIT_MODELS))
                })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_loom_unit_tests_in_nested_source_files() {
        let root = std::env::temp_dir().join(format!("xtask-loom-{}", std::process::id()));
        let nested = root.join("a").join("b");
        fs::create_dir_all(&nested).unwrap();
        fs::write(
            root.join("lib.rs"),
            "mod a;\n#[cfg(test)]\nmod tests;\nconst S: &str = \"#[cfg(all(test, loom))]\";\n",
        )
        .unwrap();
        assert!(!has_unit_models(&root));
        fs::write(
            nested.join("m.rs"),
            "#[cfg(all(test, loom))]\nmod models;\n",
        )
        .unwrap();
        assert!(has_unit_models(&root));
        fs::remove_dir_all(&root).unwrap();
        assert!(!has_unit_models(&root));
    }
}
