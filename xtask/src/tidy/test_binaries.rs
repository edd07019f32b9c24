//! One integration-test binary per crate: every binary links the whole crate
//! graph, so on a small machine linking them is most of `cargo test`'s time.
//!
//! A crate's integration tests are `tests/<name>/main.rs` with a module per
//! behaviour (rust-analyzer's `tests/slow-tests/main.rs` layout). A test that
//! must run in a process of its own (signals, Ctrl-C, an env var read once per
//! process, loom, a global allocator) stays a top-level `tests/<name>.rs`,
//! which cargo builds as a binary of its own, and says why in its first line:
//! `//! Separate binary: <why>`. A separate binary that has modules may be a
//! `tests/<name>/main.rs` beginning with that same line; it does not count
//! as the crate's one main binary. No `[[test]]` target lives anywhere else.

use std::fs;
use std::path::Path;

use super::{relative, Violation};
use crate::Result;

/// The first line a top-level `tests/*.rs` file begins with, then its reason.
const SEPARATE: &str = "//! Separate binary:";

/// The test layout rule for the package in `dir`.
pub(super) fn check_package(root: &Path, dir: &Path) -> Result<Vec<Violation>> {
    let tests = dir.join("tests");
    let mut files = Vec::new();
    let mut mains = Vec::new();
    if tests.is_dir() {
        let entries = fs::read_dir(&tests).map_err(|e| format!("{}: {e}", tests.display()))?;
        for entry in entries {
            let path = entry?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if path.is_dir() && path.join("main.rs").is_file() {
                let main = path.join("main.rs");
                let text =
                    fs::read_to_string(&main).map_err(|e| format!("{}: {e}", main.display()))?;
                // A separate binary with modules says so, as a file would.
                if !declares_separate(text.lines().next().unwrap_or("")) {
                    mains.push(relative(root, &main));
                }
            } else if path.is_file() && name.ends_with(".rs") {
                let text =
                    fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let first = text.lines().next().unwrap_or("").to_owned();
                files.push((relative(root, &path), first));
            }
        }
    }
    files.sort();
    mains.sort();
    let manifest_path = dir.join("Cargo.toml");
    let manifest = fs::read_to_string(&manifest_path)
        .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    Ok(check_layout(
        &relative(root, dir),
        &files,
        &mains,
        &manifest,
    ))
}

/// Whether a test binary's first line says why it is separate (a reason
/// after the marker, not blank).
fn declares_separate(first: &str) -> bool {
    first
        .strip_prefix(SEPARATE)
        .is_some_and(|reason| !reason.trim().is_empty())
}

/// The rule over one crate (`crate_dir`, relative to the root): its
/// top-level `tests/*.rs` files with their first line, its
/// `tests/<name>/main.rs` files, and its `Cargo.toml`.
fn check_layout(
    crate_dir: &str,
    files: &[(String, String)],
    mains: &[String],
    manifest: &str,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (path, first) in files {
        if !declares_separate(first) {
            violations.push(Violation::new(
                path,
                format!(
                    "a test binary of its own: make it a module of the \
                     crate's tests/<name>/main.rs, or begin it with `{SEPARATE} <why>`"
                ),
            ));
        }
    }
    if mains.len() > 1 {
        violations.push(Violation::new(
            crate_dir,
            format!(
                "{} test binaries ({}): a crate's integration tests are one binary, \
                 tests/<name>/main.rs",
                mains.len(),
                mains.join(", ")
            ),
        ));
    }
    for (name, path) in test_targets(manifest) {
        let Some(path) = path else { continue };
        let parts: Vec<&str> = path.trim_start_matches("./").split('/').collect();
        let in_layout = match parts.as_slice() {
            ["tests", file] => file.ends_with(".rs"),
            ["tests", _, "main.rs"] => true,
            _ => false,
        };
        if !in_layout {
            violations.push(Violation::new(
                format!("{crate_dir}/Cargo.toml"),
                format!(
                    "[[test]] `{name}` at `{path}`: a test binary is tests/<name>/main.rs, or a \
                     top-level tests/<name>.rs that says why it is separate"
                ),
            ));
        }
    }
    violations
}

/// The `[[test]]` targets of a `Cargo.toml`: each one's `name` and `path`
/// (a line-based reading, enough for `key = "value"` lines).
fn test_targets(manifest: &str) -> Vec<(String, Option<String>)> {
    let mut targets: Vec<(String, Option<String>)> = Vec::new();
    let mut in_test = false;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            in_test = line.replace(' ', "") == "[[test]]";
            if in_test {
                targets.push((String::new(), None));
            }
            continue;
        }
        if !in_test {
            continue;
        }
        let (Some(target), Some((key, value))) = (targets.last_mut(), line.split_once('=')) else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_owned();
        match key.trim() {
            "name" => target.0 = value,
            "path" => target.1 = Some(value),
            _ => {}
        }
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(p, f)| ((*p).to_owned(), (*f).to_owned()))
            .collect()
    }

    #[test]
    fn top_level_test_files_must_say_why_they_are_separate() {
        let found = check_layout(
            "crates/a",
            &files(&[
                (
                    "crates/a/tests/signals.rs",
                    "//! Separate binary: installs signal handlers.",
                ),
                ("crates/a/tests/plain.rs", "//! Plain tests."),
                ("crates/a/tests/empty_reason.rs", "//! Separate binary:   "),
                ("crates/a/tests/second_line.rs", ""),
            ]),
            &["crates/a/tests/a/main.rs".to_owned()],
            "[package]\nname = \"a\"\n",
        );
        let subjects: Vec<&str> = found.iter().map(|v| v.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "crates/a/tests/plain.rs",
                "crates/a/tests/empty_reason.rs",
                "crates/a/tests/second_line.rs",
            ]
        );
    }

    #[test]
    fn a_separate_binary_needs_a_reason() {
        assert!(declares_separate(
            "//! Separate binary: needs the hyper feature."
        ));
        assert!(!declares_separate("//! Separate binary:   "));
        assert!(!declares_separate("//! hyper tests."));
        assert!(!declares_separate(""));
    }

    #[test]
    fn a_crate_has_one_main_test_binary() {
        let mains = ["crates/a/tests/a/main.rs".to_owned()];
        assert!(check_layout("crates/a", &[], &mains, "").is_empty());
        let mains = [
            "crates/a/tests/a/main.rs".to_owned(),
            "crates/a/tests/b/main.rs".to_owned(),
        ];
        let found = check_layout("crates/a", &[], &mains, "");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].to_string().starts_with(
                "crates/a: 2 test binaries (crates/a/tests/a/main.rs, crates/a/tests/b/main.rs)"
            ),
            "{}",
            found[0]
        );
    }

    #[test]
    fn test_targets_live_in_the_layout() {
        let manifest = "\
[package]
name = \"a\"
path = \"not/a/test.rs\"

[[test]]
name = \"ctrl_c\"
harness = false

[[test]]
name = \"elsewhere\"
path = \"src/bin/tests.rs\" # not under tests/

[[ test ]]
name = \"nested\"
path = \"tests/a/main.rs\"

[dependencies]
path = \"x\"
";
        assert_eq!(
            test_targets(manifest),
            [
                ("ctrl_c".to_owned(), None),
                ("elsewhere".to_owned(), Some("src/bin/tests.rs".to_owned())),
                ("nested".to_owned(), Some("tests/a/main.rs".to_owned())),
            ]
        );
        let found = check_layout("crates/a", &[], &[], manifest);
        let found: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with("crates/a/Cargo.toml: [[test]] `elsewhere` at `src/bin/tests.rs`"),
            "{found:#?}"
        );
    }
}
