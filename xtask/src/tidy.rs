//! `cargo xtask tidy`: structural rules of the workspace, checked mechanically.
//!
//! * The low-level crates ([`LOW_LEVEL`]) depend on no other corio crate,
//!   through normal, dev or build dependencies: `corio` sits on top of them.
//! * `tokio` and `smol` are only ever dev-dependencies, except in the crates
//!   that exist to compare against them ([`COMPARISON_CRATES`]).
//! * Every crate under `crates/` has a `README.md` and `[lints] workspace = true`.
//! * Every `.rs` file under `crates/` starts with its module doc: its first
//!   non-empty line is a `//!` line or a `#![doc = ...]` attribute (as in
//!   `#![doc = include_str!("../README.md")]`).
//!
//! The same check runs as a unit test, so `cargo test --workspace` enforces it.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{project, Result};

/// The crates at the bottom of the stack, which must not depend on any
/// other corio crate.
const LOW_LEVEL: [&str; 4] = [
    "corio-reactor",
    "corio-timer",
    "corio-executor",
    "corio-sync",
];

/// The runtimes corio is compared against, allowed only as dev-dependencies.
const COMPETITORS: [&str; 2] = ["tokio", "smol"];

/// The crates that may depend on [`COMPETITORS`] normally.
const COMPARISON_CRATES: [&str; 2] = ["corio-benches", "xtask"];

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
    let mut violations = check_dependencies(&metadata);
    let crates_dir = root.join("crates");
    for dir in crate_dirs(&crates_dir)? {
        violations.extend(check_crate_dir(&root, &dir)?);
    }
    let mut files = Vec::new();
    rust_files(&crates_dir, &mut files)?;
    files.sort();
    for file in files {
        let text = fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        if !starts_with_module_doc(&text) {
            violations.push(Violation::new(
                relative(&root, &file),
                "the first non-empty line is not a `//!` module doc (or `#![doc = ...]`)",
            ));
        }
    }
    Ok(violations)
}

/// The dependency-direction rules, over `cargo metadata` output.
fn check_dependencies(metadata: &Value) -> Vec<Violation> {
    let mut violations = Vec::new();
    let empty = Vec::new();
    let packages = metadata["packages"].as_array().unwrap_or(&empty);
    for name in LOW_LEVEL {
        if !packages.iter().any(|p| p["name"] == name) {
            violations.push(Violation::new(
                name,
                "expected as a workspace member, not found",
            ));
        }
    }
    for package in packages {
        let name = package["name"].as_str().unwrap_or("?");
        for dep in package["dependencies"].as_array().unwrap_or(&empty) {
            let dep_name = dep["name"].as_str().unwrap_or("?");
            let kind = dep["kind"].as_str().unwrap_or("normal");
            let is_corio = dep_name == "corio" || dep_name.starts_with("corio-");
            if LOW_LEVEL.contains(&name) && is_corio {
                violations.push(Violation::new(
                    name,
                    format!("low-level crate depends on `{dep_name}` ({kind} dependency); it may use no other corio crate"),
                ));
            }
            if COMPETITORS.contains(&dep_name)
                && kind != "dev"
                && !COMPARISON_CRATES.contains(&name)
            {
                violations.push(Violation::new(
                    name,
                    format!("depends on `{dep_name}` as a {kind} dependency; it is allowed only in [dev-dependencies]"),
                ));
            }
        }
    }
    violations
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

/// The per-crate file rules: a README and workspace lints.
fn check_crate_dir(root: &Path, dir: &Path) -> Result<Vec<Violation>> {
    let mut violations = Vec::new();
    let subject = relative(root, dir);
    if !dir.join("README.md").is_file() {
        violations.push(Violation::new(&subject, "has no README.md"));
    }
    let manifest = dir.join("Cargo.toml");
    let text = fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    if !uses_workspace_lints(&text) {
        violations.push(Violation::new(
            &subject,
            "Cargo.toml lacks `[lints] workspace = true`",
        ));
    }
    Ok(violations)
}

/// Whether a `Cargo.toml` text opts into the workspace's lints, as
/// `[lints] workspace = true`, `lints.workspace = true` or
/// `lints = { workspace = true }`.
fn uses_workspace_lints(manifest: &str) -> bool {
    let mut section = String::new();
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or("");
        let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.starts_with('[') {
            section = compact.trim_matches(|c| c == '[' || c == ']').to_owned();
            continue;
        }
        let at_top = section.is_empty() || section == "package";
        if (section == "lints" && compact == "workspace=true")
            || (at_top
                && (compact == "lints.workspace=true" || compact == "lints={workspace=true}"))
        {
            return true;
        }
    }
    false
}

/// Whether the first non-empty line of a Rust source file is a `//!` line
/// or an inner `#![doc = ...]` attribute.
fn starts_with_module_doc(source: &str) -> bool {
    source
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .is_some_and(|l| {
            let attr: String = l.chars().filter(|c| !c.is_whitespace()).collect();
            l.starts_with("//!") || attr.starts_with("#![doc=")
        })
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

/// `path` relative to `root`, for messages.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
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

    fn metadata(packages: &str) -> Value {
        let lows: Vec<String> = LOW_LEVEL
            .iter()
            .map(|n| format!(r#"{{"name":"{n}","dependencies":[]}}"#))
            .collect();
        serde_json::from_str(&format!(
            r#"{{"packages":[{},{packages}]}}"#,
            lows.join(",")
        ))
        .unwrap()
    }

    #[test]
    fn low_level_crates_may_not_use_other_corio_crates() {
        let m: Value = serde_json::from_str(
            r#"{"packages":[
                {"name":"corio-reactor","dependencies":[{"name":"polling","kind":null}]},
                {"name":"corio-timer","dependencies":[{"name":"corio-reactor","kind":"dev"}]},
                {"name":"corio-executor","dependencies":[{"name":"corio","kind":"build"}]},
                {"name":"corio-sync","dependencies":[]},
                {"name":"corio","dependencies":[{"name":"corio-timer","kind":null}]}
            ]}"#,
        )
        .unwrap();
        let subjects: Vec<String> = check_dependencies(&m)
            .into_iter()
            .map(|v| v.subject)
            .collect();
        assert_eq!(subjects, ["corio-timer", "corio-executor"]);
    }

    #[test]
    fn missing_low_level_crate_is_reported() {
        let m: Value = serde_json::from_str(r#"{"packages":[]}"#).unwrap();
        assert_eq!(check_dependencies(&m).len(), LOW_LEVEL.len());
    }

    #[test]
    fn competitors_only_as_dev_dependencies() {
        let m = metadata(
            r#"{"name":"corio","dependencies":[{"name":"tokio","kind":"dev"},{"name":"smol","kind":null}]},
               {"name":"corio-sync2","dependencies":[{"name":"tokio","kind":"build"}]},
               {"name":"corio-benches","dependencies":[{"name":"tokio","kind":null},{"name":"smol","kind":null}]}"#,
        );
        let found: Vec<String> = check_dependencies(&m)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("corio: depends on `smol` as a normal"));
        assert!(found[1].starts_with("corio-sync2: depends on `tokio` as a build"));
    }

    #[test]
    fn recognises_workspace_lints() {
        assert!(uses_workspace_lints(
            "[package]\nname = \"a\"\n\n[lints]\nworkspace = true\n"
        ));
        assert!(uses_workspace_lints("[lints]\nworkspace=true # inherit\n"));
        assert!(uses_workspace_lints(
            "[package]\nname = \"a\"\nlints.workspace = true\n"
        ));
        assert!(uses_workspace_lints(
            "lints = { workspace = true }\n[package]\n"
        ));
        assert!(!uses_workspace_lints(
            "[package]\nname = \"a\"\n[dependencies]\nworkspace = true\n"
        ));
        assert!(!uses_workspace_lints("[lints]\n# workspace = true\n"));
        assert!(!uses_workspace_lints("[lints.rust]\nworkspace = true\n"));
    }

    #[test]
    fn recognises_module_docs() {
        assert!(starts_with_module_doc("//! Docs.\nfn f() {}\n"));
        assert!(starts_with_module_doc("\n\n  //! Indented.\n"));
        assert!(!starts_with_module_doc("// Plain comment.\n//! Docs.\n"));
        assert!(starts_with_module_doc(
            "#![doc = include_str!(\"../README.md\")]\n"
        ));
        assert!(!starts_with_module_doc("#![no_std]\n//! Docs.\n"));
        assert!(!starts_with_module_doc("#![doc(hidden)]\n"));
        assert!(!starts_with_module_doc(""));
    }
}
