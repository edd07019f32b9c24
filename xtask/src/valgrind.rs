//! `cargo xtask valgrind`: the test binaries of the crates with unsafe code
//! (by default `corio-executor` and the `corio` facade, which drives it),
//! each run under valgrind's memcheck, which must find no invalid access and
//! no definite leak.
//!
//! `cargo test --no-run --message-format=json` builds the test binaries and
//! names them; each then runs under
//! `valgrind --tool=memcheck --error-exitcode=1 --leak-check=full
//! --errors-for-leak-kinds=definite`, one test at a time
//! (`--test-threads=1`: valgrind serialises threads anyway, and a slowed-down
//! parallel run only makes timing tests flakier), in its package's directory
//! as `cargo test` would. Nothing is suppressed. The tests that cannot run
//! under valgrind are skipped by `valgrind/skips.rs`, each with its reason. Tests that
//! fail while memcheck finds nothing are run once more, alone (valgrind slows
//! everything 20-50 times, which breaks tests that race timers a few
//! milliseconds apart); the summary lists those that then pass, and any
//! memcheck error in either run fails the binary.
//!
//! Each binary's valgrind log and test output go to
//! `<target>/valgrind/<package>_<binary>.{valgrind,test}.log`; the summary prints one
//! line per binary (tests passed and failed, memcheck errors, bytes
//! definitely lost) and the first errors of any that failed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value;

use crate::{project, Args, Result};

mod logs;
mod skips;

use logs::{failed_tests, parse_test_counts, parse_valgrind_log, Outcome};
use skips::SKIPS;

/// The crates checked when no `--package` is given.
const DEFAULT_PACKAGES: [&str; 2] = ["corio-executor", "corio"];

/// valgrind's options: memcheck, exit status 1 on any error, definite leaks
/// are errors (possible and reachable ones are not: thread-locals and
/// process-wide statics legitimately live until exit).
const VALGRIND_ARGS: [&str; 4] = [
    "--tool=memcheck",
    "--error-exitcode=1",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite",
];

/// One test binary cargo built.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TestBinary {
    /// The crate's name for unit tests, the test target's name otherwise.
    name: String,
    /// Whether it is an integration test (`--test NAME`) rather than unit tests.
    integration: bool,
    /// The executable.
    path: PathBuf,
    /// The directory of its package's `Cargo.toml` (where `cargo test` runs it).
    package_dir: PathBuf,
}

/// Runs the command: `[--package NAME]... [--test SUBSTR] [-- TEST_ARGS]`.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let (ours, test_args) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let mut args = Args::new(ours);
    let mut packages = Vec::new();
    while let Some(name) = args.value("--package")? {
        packages.push(name);
    }
    while let Some(name) = args.value("-p")? {
        packages.push(name);
    }
    let only = args.value("--test")?;
    args.finish()?;
    if packages.is_empty() {
        packages = DEFAULT_PACKAGES.iter().map(|p| (*p).to_owned()).collect();
    }
    which_valgrind()?;

    let log_dir = project::target_dir().join("valgrind");
    fs::create_dir_all(&log_dir).map_err(|e| format!("{}: {e}", log_dir.display()))?;
    let mut binaries = Vec::new();
    for package in &packages {
        binaries.extend(build(package)?);
    }
    binaries.retain(|b| only.as_deref().is_none_or(|o| b.name.contains(o)));
    if binaries.is_empty() {
        return Err("no test binary to run".into());
    }

    let mut failures = Vec::new();
    let mut flaky = Vec::new();
    let mut lines = Vec::new();
    for binary in &binaries {
        let started = Instant::now();
        let args = libtest_args(&package_name(binary), test_args);
        let (mut status, mut outcome) = run_one(binary, &args, &log_dir, "")?;
        if !status.success() && outcome.errors == 0 && !outcome.failed_tests.is_empty() {
            // Tests failed but memcheck found nothing: valgrind's slowdown
            // breaks tests that race timers. Run just those once more, alone;
            // any memcheck error of either run still fails the binary.
            let mut retry_args = vec!["--test-threads=1".to_owned(), "--exact".to_owned()];
            retry_args.extend(outcome.failed_tests.iter().cloned());
            let (retry_status, retry) = run_one(binary, &retry_args, &log_dir, ".retry")?;
            status = retry_status;
            if status.success() {
                flaky.push(format!(
                    "{}: {}",
                    label(binary),
                    outcome.failed_tests.join(", ")
                ));
            }
            outcome = Outcome {
                passed: outcome.passed + retry.passed,
                failed: retry.failed,
                failed_tests: retry.failed_tests,
                errors: retry.errors,
                definitely_lost: retry.definitely_lost,
                first_errors: retry.first_errors,
            };
        }
        let verdict = if status.success() { "ok" } else { "FAILED" };
        let line = format!(
            "{:<36} {verdict:<6} {:>4} passed {:>3} failed  {:>3} memcheck errors  {:>6} B definitely lost  {:>6.1} s  ({status})",
            label(binary),
            outcome.passed,
            outcome.failed,
            outcome.errors,
            outcome.definitely_lost,
            started.elapsed().as_secs_f64(),
        );
        eprintln!("valgrind: {line}");
        lines.push(line);
        if !status.success() {
            failures.push((binary, outcome));
        }
    }

    println!("\nvalgrind summary (logs in {}):", log_dir.display());
    for line in &lines {
        println!("  {line}");
    }
    if !flaky.is_empty() {
        println!("\nfailed, then passed when run again alone (timing under valgrind):");
        for line in &flaky {
            println!("  {line}");
        }
    }
    for (binary, outcome) in &failures {
        println!("\n{} failed; first errors:", label(binary));
        if outcome.first_errors.is_empty() {
            println!("  (no memcheck error; see the test log)");
        }
        for error in &outcome.first_errors {
            for l in error.lines() {
                println!("  {l}");
            }
            println!();
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} test binaries failed",
            failures.len(),
            binaries.len()
        )
        .into())
    }
}

/// Fails with an install hint unless `valgrind` runs.
fn which_valgrind() -> Result<()> {
    match Command::new("valgrind").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err("valgrind not found on PATH (Debian/Ubuntu: apt-get install valgrind)".into()),
    }
}

/// Builds `package`'s test binaries and returns them.
fn build(package: &str) -> Result<Vec<TestBinary>> {
    let mut cmd = project::cargo();
    cmd.args([
        "test",
        "-p",
        package,
        "--no-run",
        "--message-format=json-render-diagnostics",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    eprintln!("valgrind: building: $ {}", project::show(&cmd));
    let output = cmd
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("building {package}'s tests failed ({})", output.status).into());
    }
    Ok(test_binaries(&String::from_utf8_lossy(&output.stdout)))
}

/// The test executables in cargo's JSON build messages, in build order.
fn test_binaries(messages: &str) -> Vec<TestBinary> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == true)
        .filter_map(|m| {
            let path = PathBuf::from(m["executable"].as_str()?);
            let package_dir = Path::new(m["manifest_path"].as_str()?).parent()?.to_owned();
            let kinds = m["target"]["kind"].as_array()?;
            let integration = kinds.iter().any(|k| k == "test");
            Some(TestBinary {
                name: m["target"]["name"].as_str()?.to_owned(),
                integration,
                path,
                package_dir,
            })
        })
        .collect()
}

/// The package a binary belongs to, by its directory's name (the
/// workspace names each crate's directory after it).
fn package_name(binary: &TestBinary) -> String {
    binary
        .package_dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// How a binary is named in the summary: `PACKAGE (unit)` or
/// `PACKAGE --test NAME`.
fn label(binary: &TestBinary) -> String {
    let package = package_name(binary);
    if binary.integration {
        format!("{package} --test {}", binary.name)
    } else {
        format!("{package} (unit)")
    }
}

/// Runs one binary under valgrind with `args`, its logs under `log_dir`
/// (`suffix` tells a retry's logs apart).
fn run_one(
    binary: &TestBinary,
    args: &[String],
    log_dir: &Path,
    suffix: &str,
) -> Result<(std::process::ExitStatus, Outcome)> {
    let stem: String = label(binary)
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let valgrind_log = log_dir.join(format!("{stem}{suffix}.valgrind.log"));
    let test_log = log_dir.join(format!("{stem}{suffix}.test.log"));
    let out = fs::File::create(&test_log).map_err(|e| format!("{}: {e}", test_log.display()))?;
    let err = out.try_clone()?;
    let mut cmd = Command::new("valgrind");
    cmd.args(VALGRIND_ARGS)
        .arg(format!("--log-file={}", valgrind_log.display()))
        .arg(&binary.path)
        .args(args)
        .current_dir(&binary.package_dir)
        .env("CARGO_MANIFEST_DIR", &binary.package_dir)
        // Tests that bound their own running time to catch hangs read this
        // and allow for memcheck's slowdown (about 20x).
        .env("CORIO_UNDER_VALGRIND", "1")
        .stdout(out)
        .stderr(err);
    eprintln!("valgrind: $ {}", project::show(&cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("could not run valgrind: {e}"))?;
    let mut outcome = parse_valgrind_log(&fs::read_to_string(&valgrind_log).unwrap_or_default());
    let output = fs::read_to_string(&test_log).unwrap_or_default();
    (outcome.passed, outcome.failed) = parse_test_counts(&output);
    outcome.failed_tests = failed_tests(&output);
    Ok((status, outcome))
}

/// The arguments for a libtest binary of `package`: one test at a time,
/// the [`SKIPS`] of the package, then the user's.
fn libtest_args(package: &str, user: &[String]) -> Vec<String> {
    let mut args = vec!["--test-threads=1".to_owned()];
    for (skip_package, filter, _reason) in SKIPS {
        if skip_package == package {
            args.push("--skip".to_owned());
            args.push(filter.to_owned());
        }
    }
    args.extend(user.iter().cloned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_test_binaries_in_build_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"corio","kind":["lib"]},"profile":{"test":false},"manifest_path":"/w/crates/corio/Cargo.toml","executable":null}
{"reason":"compiler-artifact","target":{"name":"corio","kind":["lib"]},"profile":{"test":true},"manifest_path":"/w/crates/corio/Cargo.toml","executable":"/t/debug/deps/corio-1"}
{"reason":"compiler-artifact","target":{"name":"tasks","kind":["test"]},"profile":{"test":true},"manifest_path":"/w/crates/corio/Cargo.toml","executable":"/t/debug/deps/tasks-2"}
{"reason":"compiler-artifact","target":{"name":"echo","kind":["example"]},"profile":{"test":false},"manifest_path":"/w/crates/corio/Cargo.toml","executable":"/t/debug/examples/echo"}
{"reason":"build-finished","success":true}
not json"#;
        let found = test_binaries(messages);
        assert_eq!(
            found,
            [
                TestBinary {
                    name: "corio".into(),
                    integration: false,
                    path: "/t/debug/deps/corio-1".into(),
                    package_dir: "/w/crates/corio".into(),
                },
                TestBinary {
                    name: "tasks".into(),
                    integration: true,
                    path: "/t/debug/deps/tasks-2".into(),
                    package_dir: "/w/crates/corio".into(),
                },
            ]
        );
        assert_eq!(label(&found[0]), "corio (unit)");
        assert_eq!(label(&found[1]), "corio --test tasks");
    }

    #[test]
    fn libtest_args_run_one_test_at_a_time_skip_then_the_users() {
        assert_eq!(
            libtest_args("anything", &["close".to_owned()]),
            ["--test-threads=1", "close"]
        );
        let (package, filter, _) = SKIPS[0];
        let args = libtest_args(package, &[]);
        let at = args.iter().position(|a| a == "--skip").unwrap();
        assert_eq!(args[at + 1], filter);
    }
}
