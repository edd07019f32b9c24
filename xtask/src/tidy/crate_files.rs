//! The rules on each crate's files: a `README.md` and `[lints] workspace =
//! true` in every crate under `crates/`, and a module doc at the top of every
//! `.rs` file there.

use std::fs;
use std::path::Path;

use super::{relative, Source, Violation};
use crate::Result;

/// The per-crate file rules: a README and workspace lints.
pub(super) fn check_crate_dir(root: &Path, dir: &Path) -> Result<Vec<Violation>> {
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

/// Every `.rs` file under `crates/` whose first non-empty line is not a
/// module doc.
pub(super) fn check_module_docs(sources: &[Source]) -> Vec<Violation> {
    sources
        .iter()
        .filter(|s| s.path.starts_with("crates/") && !starts_with_module_doc(&s.text))
        .map(|s| {
            Violation::new(
                &s.path,
                "the first non-empty line is not a `//!` module doc (or `#![doc = ...]`)",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_docs_are_required_under_crates_only() {
        let source = |path: &str, text: &str| Source {
            path: path.to_owned(),
            text: text.to_owned(),
        };
        let found = check_module_docs(&[
            source("crates/a/src/lib.rs", "//! Docs.\n"),
            source("crates/a/src/b.rs", "fn b() {}\n"),
            source("xtask/src/main.rs", "fn main() {}\n"),
        ]);
        let subjects: Vec<&str> = found.iter().map(|v| v.subject.as_str()).collect();
        assert_eq!(subjects, ["crates/a/src/b.rs"]);
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
