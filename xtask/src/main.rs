//! `cargo xtask`: the corio workspace's chores, as a plain Rust program.
//!
//! Run it as `cargo xtask <command>` (an alias in `.cargo/config.toml` for
//! `cargo run --quiet --package xtask --`). Each command lives in its own
//! module; `cargo xtask help` lists them.

mod bench;
mod ci;
mod loom;
mod project;
mod tidy;
mod valgrind;

use std::process::ExitCode;

/// The error type of every command: a message for the user.
type Error = Box<dyn std::error::Error>;

/// The result type of every command.
type Result<T, E = Error> = std::result::Result<T, E>;

/// The text `cargo xtask help` prints.
const HELP: &str = "\
usage: cargo xtask <command> [options]

commands:
  bench [--quick] [--filter SUBSTR] [--samples K] [--json [PATH]] [--install-tools]
        [--workers N] [--scaling]
        build corio-benches in release mode and run every workload on every
        runtime (corio, tokio-ct, smol-local) as separate processes, K times
        each (default 5; --quick: 3 samples at a tenth of the size), runtimes
        interleaved in each round; print a table of median ns/op, spread,
        corio's ratios to the others and peak RSS, and write it as markdown
        to <target>/bench/report.md, a bar chart of the ratios to
        <target>/bench/report.svg, and with --json every sample as JSON to
        PATH (default <target>/bench/report.json).
        Then the hyper load benchmark: a hyper hello-world server on corio
        and on tokio-ct, each loaded by `wrk -t1 -c64 -d5s` on loopback (K
        samples, default 3; --quick: -d2s), in a table of its own (median
        req/s, corio/tokio-ct, p99 latency). Skipped, saying how to install
        wrk, when wrk is not on PATH; --install-tools (as root) runs
        `apt-get install -y wrk` first.
        --filter runs only the workloads whose name contains SUBSTR (the
        load benchmark's name is `hyper`: --filter hyper runs only it).
        A second table compares the multi-threaded runtimes (corio-mt:
        Runner::builder().workers(N), tokio-mt, smol-mt on N threads; N from
        --workers, default 2) on the workloads that matter there, with its
        chart in <target>/bench/report-mt.svg. --scaling instead runs spawn
        and tcp-echo on the three at 1, 2, 4 and 8 workers and writes
        <target>/bench/scaling.md.
  bench --python [--quick] [--samples K] [--filter SUBSTR]
        the Python event-loop benchmarks instead: asyncio's loop, uvloop,
        rloop and corio-py's loop, interleaved, on echo (streams, protocol,
        sock_*), an HTTP server under wrk, call_soon and create_task rows
        (crates/corio-py/bench/run.sh: needs python3 3.11-3.13 and PyPI);
        the table also goes to <target>/bench/python.md.
  tidy  check the workspace's structure: dependency direction between the
        corio crates, tokio/smol only as dev-dependencies, a README.md and
        `[lints] workspace = true` in every crate under crates/, a module
        doc (`//!` or `#![doc = ...]`) as the first line of every .rs file
        under crates/, `unsafe` only in corio-executor/src/raw/ and
        corio-reactor/src/sys.rs (plus a short allow-list with reasons), no
        .rs file over 600 lines (allow-list with reasons), and one
        integration-test binary per crate (tests/<name>/main.rs; any other
        tests/*.rs begins with `//! Separate binary: <why>`). Also run by
        `cargo test`.
  loom [ARGS...]
        run `cargo test --release -p <crate> --test loom` with
        RUSTFLAGS=\"--cfg loom\" and LOOM_MAX_PREEMPTIONS=2 for every crate
        that has tests/loom.rs, in <target>/loom; ARGS go to the test binary.
  valgrind [--package NAME]... [--test SUBSTR] [-- TEST_ARGS...]
        build the test binaries of corio-executor and corio (or of each
        --package) and run each under `valgrind --tool=memcheck
        --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite`
        with --test-threads=1 (--test: only binaries whose name contains
        SUBSTR; TEST_ARGS go to each test binary); print a line per binary
        and the first errors of any that failed. Logs in <target>/valgrind.
  ci    run the CI script, `bash .ci/run`
  help  print this help";

/// A tiny command-line parser: flags and `--flag value` / `--flag=value`
/// options are taken out by name, and whatever is left over is an error.
pub(crate) struct Args {
    /// The arguments not yet taken.
    rest: Vec<String>,
}

impl Args {
    /// Wraps the arguments that follow the command's name.
    pub(crate) fn new(args: &[String]) -> Args {
        Args {
            rest: args.to_vec(),
        }
    }

    /// Takes the flag `name`, saying whether it was present.
    pub(crate) fn flag(&mut self, name: &str) -> bool {
        let before = self.rest.len();
        self.rest.retain(|a| a != name);
        self.rest.len() != before
    }

    /// Takes the option `name` and its value, if present.
    pub(crate) fn value(&mut self, name: &str) -> Result<Option<String>> {
        let prefix = format!("{name}=");
        if let Some(i) = self.rest.iter().position(|a| a.starts_with(&prefix)) {
            let arg = self.rest.remove(i);
            return Ok(Some(arg[prefix.len()..].to_owned()));
        }
        match self.rest.iter().position(|a| a == name) {
            None => Ok(None),
            Some(i) if i + 1 < self.rest.len() => {
                let value = self.rest.remove(i + 1);
                self.rest.remove(i);
                Ok(Some(value))
            }
            Some(_) => Err(format!("{name} needs a value").into()),
        }
    }

    /// Takes the option `name`, whose value may be left out: `None` if it is
    /// absent, `Some(None)` if it stands alone (last, or followed by another
    /// `--option`), `Some(Some(value))` for `name value` or `name=value`.
    pub(crate) fn optional_value(&mut self, name: &str) -> Option<Option<String>> {
        let prefix = format!("{name}=");
        if let Some(i) = self.rest.iter().position(|a| a.starts_with(&prefix)) {
            let arg = self.rest.remove(i);
            return Some(Some(arg[prefix.len()..].to_owned()));
        }
        let i = self.rest.iter().position(|a| a == name)?;
        self.rest.remove(i);
        if i < self.rest.len() && !self.rest[i].starts_with("--") {
            Some(Some(self.rest.remove(i)))
        } else {
            Some(None)
        }
    }

    /// Fails if any argument was not taken.
    pub(crate) fn finish(self) -> Result<()> {
        match self.rest.first() {
            None => Ok(()),
            Some(arg) => {
                Err(format!("unexpected argument `{arg}` (see `cargo xtask help`)").into())
            }
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match command {
        "help" | "-h" | "--help" => {
            println!("{HELP}");
            Ok(())
        }
        "bench" => bench::run(Args::new(rest)),
        "tidy" => Args::new(rest).finish().and_then(|()| tidy::run()),
        "loom" => loom::run(rest),
        "valgrind" => valgrind::run(rest),
        "ci" => Args::new(rest).finish().and_then(|()| ci::run()),
        other => Err(format!("unknown command `{other}`\n\n{HELP}").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask {command}: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Args;

    fn args(s: &str) -> Args {
        let v: Vec<String> = s.split_whitespace().map(str::to_owned).collect();
        Args::new(&v)
    }

    #[test]
    fn takes_flags_and_values() {
        let mut a = args("--quick --filter sp --samples=7 --json out.json");
        assert!(a.flag("--quick"));
        assert!(!a.flag("--quick"));
        assert_eq!(a.value("--filter").unwrap().as_deref(), Some("sp"));
        assert_eq!(a.value("--samples").unwrap().as_deref(), Some("7"));
        assert_eq!(a.value("--json").unwrap().as_deref(), Some("out.json"));
        assert_eq!(a.value("--json").unwrap(), None);
        a.finish().unwrap();
    }

    #[test]
    fn takes_optional_values() {
        let mut a = args("--json --quick");
        assert_eq!(a.optional_value("--json"), Some(None));
        assert!(a.flag("--quick"));
        let mut a = args("--json out.json --quick");
        assert_eq!(a.optional_value("--json"), Some(Some("out.json".into())));
        assert_eq!(
            args("--json=x").optional_value("--json"),
            Some(Some("x".into()))
        );
        assert_eq!(args("--quick").optional_value("--json"), None);
        assert_eq!(args("--json").optional_value("--json"), Some(None));
    }

    #[test]
    fn rejects_leftovers_and_missing_values() {
        assert!(args("--bogus").finish().is_err());
        assert!(args("--filter").value("--filter").is_err());
    }
}
