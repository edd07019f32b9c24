//! `cargo xtask tidy`: structural rules of the workspace, checked mechanically.
//!
//! * **Dependency direction** (`tidy/deps.rs`): the low-level crates
//!   ([`deps::LOW_LEVEL`]) depend on no other corio crate, through normal,
//!   dev or build dependencies: `corio` sits on top of them. `tokio` and
//!   `smol` are only ever dev-dependencies, except in the crates that exist
//!   to compare against them.
//! * **Crate files** (`tidy/crate_files.rs`): every crate under `crates/` has
//!   a `README.md` and `[lints] workspace = true`, and every `.rs` file under
//!   `crates/` starts with its module doc: its first non-empty line is a `//!`
//!   line or a `#![doc = ...]` attribute (as in
//!   `#![doc = include_str!("../README.md")]`).
//! * **Where unsafe lives** (`tidy/unsafe_code.rs`): the `unsafe` keyword, as
//!   a token of code (not in a comment, a string or a doc; `unsafe_code` in
//!   `#![forbid(unsafe_code)]` is another token), appears in no `.rs` file
//!   under `crates/`, `xtask/` or `benches/` outside
//!   `crates/corio-executor/src/raw/` and the reactor's syscall module
//!   (`crates/corio-reactor/src/sys.rs`), except in the files of a short
//!   allow-list, each with its reason.
//! * **File length** (`tidy/file_length.rs`): no `.rs` file under `crates/`,
//!   `xtask/` or `benches/` is longer than
//!   [`file_length::MAX_LINES`] lines, unless an allow-list names it with the
//!   reason.
//! * **One test binary per crate** (`tidy/test_binaries.rs`): a crate's
//!   integration tests are one binary, `tests/<name>/main.rs` with a module
//!   per behaviour; any other top-level `tests/*.rs` file (its own binary)
//!   begins with the line `//! Separate binary: <why>`, and no `[[test]]`
//!   target lives anywhere else.
//!
//! An allow-list entry whose file is gone, or no longer needs it, is a
//! violation too, so the lists stay short and true.
//!
//! The same check runs as a unit test, so `cargo test --workspace` enforces it.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::{project, Result};

mod crate_files;
mod deps;
mod file_length;
mod test_binaries;
mod unsafe_code;

/// The directories, relative to the workspace root, whose `.rs` files the
/// unsafe and file-length rules read.
const SOURCE_DIRS: [&str; 3] = ["crates", "xtask", "benches"];

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// The crate or file at fault.
    pub(crate) subject: String,
    /// What is wrong with it.
    pub(crate) message: String,
}

impl Violation {
    /// A violation by `subject`.
    fn new(subject: impl Into<String>, message: impl Into<String>) -> Violation {
        Violation {
            subject: subject.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.message)
    }
}

/// A Rust source file of the workspace.
struct Source {
    /// Its path relative to the workspace root, `/`-separated.
    path: String,
    /// Its text.
    text: String,
}

/// Runs every check, printing the violations; fails if there are any.
pub(crate) fn run() -> Result<()> {
    let violations = check()?;
    if violations.is_empty() {
        eprintln!("tidy: ok");
        return Ok(());
    }
    for v in &violations {
        println!("{v}");
    }
    Err(format!("{} violation(s)", violations.len()).into())
}

/// Runs every check on the workspace and returns what it found.
pub(crate) fn check() -> Result<Vec<Violation>> {
    let root = project::root();
    let metadata = project::metadata()?;
    let mut violations = deps::check(&metadata);
    let crates_dir = root.join("crates");
    for dir in crate_dirs(&crates_dir)? {
        violations.extend(crate_files::check_crate_dir(&root, &dir)?);
    }
    let sources = read_sources(&root)?;
    violations.extend(crate_files::check_module_docs(&sources));
    violations.extend(unsafe_code::check(
        &sources,
        &unsafe_code::HOMES,
        &unsafe_code::ALLOWED,
    ));
    violations.extend(file_length::check(
        &sources,
        file_length::MAX_LINES,
        &file_length::ALLOWED,
    ));
    for (_, dir) in project::packages(&metadata) {
        violations.extend(test_binaries::check_package(&root, &dir)?);
    }
    Ok(violations)
}

/// Every `.rs` file under [`SOURCE_DIRS`], sorted by path.
fn read_sources(root: &Path) -> Result<Vec<Source>> {
    let mut files = Vec::new();
    for dir in SOURCE_DIRS {
        let dir = root.join(dir);
        if dir.is_dir() {
            rust_files(&dir, &mut files)?;
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let text = fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            Ok(Source {
                path: relative(root, &file),
                text,
            })
        })
        .collect()
}

/// The directories directly under `crates_dir` that hold a `Cargo.toml`.
fn crate_dirs(crates_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    let entries = fs::read_dir(crates_dir).map_err(|e| format!("{}: {e}", crates_dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.join("Cargo.toml").is_file() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Collects the `.rs` files under `dir`, skipping `target` and hidden directories.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type()?.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out)?;
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// `path` relative to `root`, `/`-separated, for messages and allow-lists.
fn relative(root: &Path, path: &Path) -> String {
    let path = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The workspace itself passes tidy.
    #[test]
    fn workspace_is_tidy() {
        let violations = check().expect("tidy could not run");
        let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
        assert!(
            list.is_empty(),
            "cargo xtask tidy found:\n{}",
            list.join("\n")
        );
    }

    #[test]
    fn paths_are_relative_and_slash_separated() {
        let root = Path::new("/w");
        assert_eq!(
            relative(root, &root.join("crates").join("a").join("lib.rs")),
            "crates/a/lib.rs"
        );
    }
}
