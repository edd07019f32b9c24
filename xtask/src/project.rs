//! Where the workspace is, and running cargo and other programs in it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::Result;

/// The workspace root: the parent of this crate's directory.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// A `cargo` command (the cargo that runs xtask, if any) in the workspace root.
pub(crate) fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(program);
    cmd.current_dir(root());
    cmd
}

/// The output of `cargo metadata --format-version 1 --no-deps`: the
/// workspace's own packages and their declared dependencies.
pub(crate) fn metadata() -> Result<Value> {
    let mut cmd = cargo();
    cmd.args(["metadata", "--format-version", "1", "--no-deps"]);
    let output = cmd
        .output()
        .map_err(|e| format!("could not run `{}`: {e}", show(&cmd)))?;
    if !output.status.success() {
        return Err(format!(
            "`{}` failed ({}):\n{}",
            show(&cmd),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// The workspace's target directory: from `cargo metadata` if it can be
/// had, else `$CARGO_TARGET_DIR`, else `./target`.
pub(crate) fn target_dir() -> PathBuf {
    metadata()
        .ok()
        .and_then(|m| m["target_directory"].as_str().map(PathBuf::from))
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(|d| root().join(d)))
        .unwrap_or_else(|| root().join("target"))
}

/// The workspace's packages in `metadata`, as (name, manifest directory).
pub(crate) fn packages(metadata: &Value) -> Vec<(String, PathBuf)> {
    metadata["packages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| {
            let name = p["name"].as_str()?;
            let dir = Path::new(p["manifest_path"].as_str()?).parent()?;
            Some((name.to_owned(), dir.to_path_buf()))
        })
        .collect()
}

/// `cmd` as a shell-like line, with the environment it sets, for logs.
pub(crate) fn show(cmd: &Command) -> String {
    let quote = |s: &OsStr| {
        let s = s.to_string_lossy();
        if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@".contains(c))
        {
            s.into_owned()
        } else {
            format!("'{}'", s.replace('\'', r"'\''"))
        }
    };
    let mut parts: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), quote(v?))))
        .collect();
    let program = Path::new(cmd.get_program());
    let program =
        if program.components().count() > 1 && program.file_name() == Some(OsStr::new("cargo")) {
            // `$CARGO` is an absolute path; `cargo` reads better.
            OsStr::new("cargo")
        } else {
            cmd.get_program()
        };
    parts.push(quote(program));
    parts.extend(cmd.get_args().map(quote));
    parts.join(" ")
}

/// Prints `cmd` to stderr, runs it with inherited stdio, and fails unless it
/// exits successfully.
pub(crate) fn run_checked(cmd: &mut Command) -> Result<()> {
    let line = show(cmd);
    eprintln!("$ {line}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not run `{line}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{line}` failed ({status})").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]"));
    }

    #[test]
    fn shows_commands_shell_like() {
        let mut cmd = Command::new("cargo");
        cmd.env("RUSTFLAGS", "--cfg loom")
            .args(["test", "-p", "x", "it's"]);
        assert_eq!(
            show(&cmd),
            "RUSTFLAGS='--cfg loom' cargo test -p x 'it'\\''s'"
        );
    }

    #[test]
    fn lists_packages_from_metadata() {
        let m: Value = serde_json::from_str(
            r#"{"packages":[{"name":"a","manifest_path":"/w/crates/a/Cargo.toml"}]}"#,
        )
        .unwrap();
        assert_eq!(
            packages(&m),
            vec![("a".to_owned(), PathBuf::from("/w/crates/a"))]
        );
    }
}
