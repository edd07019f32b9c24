//! `corio-benches`: runs one benchmark workload on one async runtime, once.
//!
//! ```text
//! corio-benches --workload NAME --runtime NAME [--size N] [--workers N] [--json]
//! corio-benches --list [--json]
//! corio-benches --serve hyper --runtime corio|tokio-ct|corio-mt|tokio-mt [--workers N] [--port P]
//! ```
//!
//! The `-mt` runtimes run with `--workers N` threads (default 2).
//!
//! The workload first runs at a tenth of its size as a warm-up, then once at
//! full size, timed with `Instant` inside the runtime (runtime construction
//! excluded). The result is one line; with `--json` it is a JSON object such
//! as `{"workload":"spawn","runtime":"corio","workers":null,"size":1000000,
//! "ops":1000000,"elapsed_ns":123400000,"clock":"wall","ns_per_op":123.4,
//! "peak_rss_kib":123456}`, where `workers` is the thread count of an `-mt`
//! runtime (`null` for the single-threaded ones) and `peak_rss_kib` is the
//! process's `VmHWM`, read after the run (`null` where `/proc` is
//! unavailable). `cargo xtask bench` runs this binary once per sample, so
//! that each sample has a fresh process and its own peak RSS.
//!
//! A runtime that cannot be built exits after one line on stderr, not a
//! panic: with status 3 and `corio-benches: RUNTIME is unavailable: WHY`
//! where the runtime says it is not supported here
//! (`io::ErrorKind::Unsupported`, as corio-mt did before corio had a
//! multi-threaded scheduler), which `cargo xtask bench` reports as
//! unavailable rather than failed; with status 1 for any other error (too
//! many `--workers`, say).
//!
//! `--serve hyper` runs an HTTP/1 hello-world server instead (see
//! [`serve`]) until the process is killed, printing `listening on
//! 127.0.0.1:PORT` once it accepts connections; `cargo xtask bench` loads it
//! with `wrk`.

mod measure;
mod runtime;
mod serve;
mod workloads;

use std::fmt::Write as _;
use std::process::ExitCode;

use measure::Measurement;
use runtime::Runtime;
use workloads::Workload;

/// The `--workers` of the multi-threaded runtimes unless the command line
/// says otherwise.
const DEFAULT_WORKERS: usize = 2;

/// The exit status of a run on a runtime that cannot be built here.
const UNAVAILABLE: u8 = 3;

/// The usage text printed by `--help` and after argument errors.
const USAGE: &str = "\
usage: corio-benches --workload NAME --runtime NAME [--size N] [--workers N] [--json]
       corio-benches --list [--json]
       corio-benches --serve hyper --runtime corio|tokio-ct|corio-mt|tokio-mt [--workers N] [--port P]

Runs one workload on one runtime in this process: a warm-up at size/10, then
one timed run at the full size. Prints one result line (JSON with --json).

With --serve, runs an HTTP/1 hello-world server (hyper, keep-alive) on the
runtime until killed, on 127.0.0.1:P (default 0: a free port), and prints
`listening on 127.0.0.1:PORT` once it accepts connections.

options:
  --workload NAME  the workload to run (see --list)
  --runtime NAME   the runtime to run it on (see --list)
  --size N         the workload's size (default: the workload's own)
  --workers N      worker threads of the -mt runtimes (default 2; only
                   with corio-mt, tokio-mt, smol-mt)
  --json           print machine-readable JSON
  --list           list the workloads and runtimes
  --serve NAME     run a server instead (hyper)
  --port P         the server's port (default 0: any free port)
  -h, --help       print this help";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    /// Print the usage text.
    Help,
    /// List the workloads and runtimes.
    List {
        /// Print JSON rather than text.
        json: bool,
    },
    /// Run one workload on one runtime.
    Run {
        /// The workload's name.
        workload: String,
        /// The runtime's name.
        runtime: String,
        /// The size, if not the workload's default.
        size: Option<usize>,
        /// `--workers`, if given.
        workers: Option<usize>,
        /// Print JSON rather than text.
        json: bool,
    },
    /// Run a server until killed.
    Serve {
        /// The server's name (`hyper`).
        server: String,
        /// The runtime's name.
        runtime: String,
        /// `--workers`, if given.
        workers: Option<usize>,
        /// The port to listen on (0: any free one).
        port: u16,
    },
}

/// Parses the arguments (without the program name) into a [`Command`].
fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut workload = None;
    let mut runtime = None;
    let mut size = None;
    let mut workers = None;
    let mut json = false;
    let mut list = false;
    let mut serve = None;
    let mut port = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--workload" => workload = Some(value("--workload")?),
            "--runtime" => runtime = Some(value("--runtime")?),
            "--size" => {
                let text = value("--size")?;
                let n: usize = text
                    .replace('_', "")
                    .parse()
                    .map_err(|_| format!("--size: `{text}` is not a whole number"))?;
                if n == 0 {
                    return Err("--size must be at least 1".to_owned());
                }
                size = Some(n);
            }
            "--workers" => {
                let text = value("--workers")?;
                match text.parse::<usize>() {
                    Ok(n) if n >= 1 => workers = Some(n),
                    _ => {
                        return Err(format!(
                            "--workers: `{text}` is not a positive whole number"
                        ))
                    }
                }
            }
            "--json" => json = true,
            "--list" => list = true,
            "--serve" => serve = Some(value("--serve")?),
            "--port" => {
                let text = value("--port")?;
                port = Some(
                    text.parse::<u16>()
                        .map_err(|_| format!("--port: `{text}` is not a port number"))?,
                );
            }
            "-h" | "--help" => return Ok(Command::Help),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if list {
        return Ok(Command::List { json });
    }
    if let Some(server) = serve {
        if workload.is_some() || size.is_some() || json {
            return Err("--serve takes only --runtime and --port".to_owned());
        }
        let runtime = runtime.ok_or("--runtime is required")?;
        return Ok(Command::Serve {
            server,
            runtime,
            workers,
            port: port.unwrap_or(0),
        });
    }
    if port.is_some() {
        return Err("--port needs --serve".to_owned());
    }
    match (workload, runtime) {
        (Some(workload), Some(runtime)) => Ok(Command::Run {
            workload,
            runtime,
            size,
            workers,
            json,
        }),
        (None, _) => Err("--workload is required".to_owned()),
        (_, None) => Err("--runtime is required".to_owned()),
    }
}

/// Quotes `s` as a JSON string.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `--list` output.
fn list(json: bool) -> String {
    if json {
        let workloads: Vec<String> = workloads::ALL
            .iter()
            .map(|w| {
                format!(
                    "{{\"name\":{},\"default_size\":{},\"multi_threaded\":{},\"description\":{}}}",
                    json_str(w.name),
                    w.default_size,
                    w.multi_threaded,
                    json_str(w.description)
                )
            })
            .collect();
        let runtimes: Vec<String> = Runtime::ALL
            .iter()
            .map(|rt| {
                format!(
                    "{{\"name\":{},\"multi_threaded\":{},\"description\":{}}}",
                    json_str(rt.name()),
                    rt.is_multi_threaded(),
                    json_str(rt.description())
                )
            })
            .collect();
        format!(
            "{{\"workloads\":[{}],\"runtimes\":[{}]}}",
            workloads.join(","),
            runtimes.join(",")
        )
    } else {
        let mut out = String::from("workloads (default size N; * in the multi-threaded table):\n");
        for w in workloads::ALL {
            let _ = writeln!(
                out,
                "  {:<19}{} N={:<10} {}",
                w.name,
                if w.multi_threaded { '*' } else { ' ' },
                w.default_size,
                w.description
            );
        }
        out.push_str("runtimes:\n");
        for rt in Runtime::ALL {
            let _ = writeln!(out, "  {:<12} {}", rt.name(), rt.description());
        }
        out.pop();
        out
    }
}

/// The result line of one run.
fn result_line(
    workload: &Workload,
    runtime: Runtime,
    workers: usize,
    size: usize,
    m: &Measurement,
    peak_rss_kib: Option<u64>,
    json: bool,
) -> String {
    if json {
        let rss = peak_rss_kib.map_or_else(|| "null".to_owned(), |kib| kib.to_string());
        let workers = if runtime.is_multi_threaded() {
            workers.to_string()
        } else {
            "null".to_owned()
        };
        format!(
            "{{\"workload\":{},\"runtime\":{},\"workers\":{},\"size\":{},\"ops\":{},\"elapsed_ns\":{},\"clock\":{},\"ns_per_op\":{:.3},\"peak_rss_kib\":{}}}",
            json_str(workload.name),
            json_str(runtime.name()),
            workers,
            size,
            m.ops,
            m.elapsed.as_nanos(),
            json_str(m.clock()),
            m.ns_per_op(),
            rss
        )
    } else {
        let rss = peak_rss_kib.map_or_else(
            || "n/a".to_owned(),
            |kib| format!("{:.1} MiB", kib as f64 / 1024.0),
        );
        let workers = if runtime.is_multi_threaded() {
            format!(" ({workers} workers)")
        } else {
            String::new()
        };
        format!(
            "{} on {}{}: {} ops in {:.3} ms{}, {:.1} ns/op, peak RSS {}",
            workload.name,
            runtime,
            workers,
            m.ops,
            m.elapsed.as_secs_f64() * 1e3,
            if m.cpu { " of CPU time" } else { "" },
            m.ns_per_op(),
            rss
        )
    }
}

/// The runtime named `name` and its worker count, checked: the runtime
/// exists, `--workers` is only given to a multi-threaded one, and the
/// runtime can be built with that many workers. The error is the exit
/// status and the line to print.
fn runtime_for(name: &str, workers: Option<usize>) -> Result<(Runtime, usize), (u8, String)> {
    let runtime = Runtime::from_name(name)
        .ok_or_else(|| (2, format!("unknown runtime `{name}` (see --list)")))?;
    if workers.is_some() && !runtime.is_multi_threaded() {
        return Err((
            2,
            format!("--workers applies to the -mt runtimes only, not to {runtime}"),
        ));
    }
    let workers = workers.unwrap_or(DEFAULT_WORKERS);
    runtime
        .check(workers)
        .map_err(|e| build_error(runtime, workers, &e))?;
    Ok((runtime, workers))
}

/// The exit status and line for `runtime` failing to build with `workers`.
fn build_error(runtime: Runtime, workers: usize, error: &std::io::Error) -> (u8, String) {
    if error.kind() == std::io::ErrorKind::Unsupported {
        (UNAVAILABLE, format!("{runtime} is unavailable: {error}"))
    } else {
        (1, format!("{runtime} with {workers} workers: {error}"))
    }
}

fn main() -> ExitCode {
    let command = match parse_args(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("corio-benches: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help => println!("{USAGE}"),
        Command::List { json } => println!("{}", list(json)),
        Command::Run {
            workload,
            runtime,
            size,
            workers,
            json,
        } => {
            let Some(workload) = workloads::find(&workload) else {
                eprintln!("corio-benches: unknown workload `{workload}` (see --list)");
                return ExitCode::from(2);
            };
            let (runtime, workers) = match runtime_for(&runtime, workers) {
                Ok(found) => found,
                Err((status, message)) => {
                    eprintln!("corio-benches: {message}");
                    return ExitCode::from(status);
                }
            };
            let size = size.unwrap_or(workload.default_size);
            workload.run(runtime, workers, (size / 10).max(1));
            let m = workload.run(runtime, workers, size);
            let peak = measure::peak_rss_kib();
            println!(
                "{}",
                result_line(workload, runtime, workers, size, &m, peak, json)
            );
        }
        Command::Serve {
            server,
            runtime,
            workers,
            port,
        } => {
            if !serve::SERVERS.contains(&server.as_str()) {
                eprintln!(
                    "corio-benches: unknown server `{server}` (one of: {})",
                    serve::SERVERS.join(", ")
                );
                return ExitCode::from(2);
            }
            let (runtime, workers) = match runtime_for(&runtime, workers) {
                Ok(found) => found,
                Err((status, message)) => {
                    eprintln!("corio-benches: {message}");
                    return ExitCode::from(status);
                }
            };
            let served = serve::hyper(runtime, workers, port, None, |addr| {
                println!("listening on {addr}");
                // The reader waits for this line: don't leave it buffered.
                let _ = std::io::Write::flush(&mut std::io::stdout());
            });
            if let Err(error) = served {
                eprintln!("corio-benches: --serve {server} on {runtime}: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_a_run() {
        assert_eq!(
            parse_args(args("--workload spawn --runtime=corio --size 1_000 --json")),
            Ok(Command::Run {
                workload: "spawn".into(),
                runtime: "corio".into(),
                size: Some(1000),
                workers: None,
                json: true,
            })
        );
    }

    #[test]
    fn parses_workers() {
        assert_eq!(
            parse_args(args("--workload spawn --runtime tokio-mt --workers=8")),
            Ok(Command::Run {
                workload: "spawn".into(),
                runtime: "tokio-mt".into(),
                size: None,
                workers: Some(8),
                json: false,
            })
        );
        assert!(parse_args(args("--workload spawn --runtime tokio-mt --workers 0")).is_err());
        assert!(parse_args(args("--workload spawn --runtime tokio-mt --workers two")).is_err());
        assert!(parse_args(args("--workload spawn --runtime tokio-mt --workers")).is_err());
    }

    #[test]
    fn workers_go_to_mt_runtimes_only() {
        assert_eq!(
            runtime_for("smol-mt", None),
            Ok((Runtime::SmolMt, DEFAULT_WORKERS))
        );
        assert_eq!(runtime_for("tokio-mt", Some(3)), Ok((Runtime::TokioMt, 3)));
        assert_eq!(
            runtime_for("corio", None),
            Ok((Runtime::Corio, DEFAULT_WORKERS))
        );
        let (status, message) = runtime_for("corio", Some(2)).unwrap_err();
        assert_eq!(status, 2);
        assert!(message.contains("-mt runtimes only"), "{message}");
        assert_eq!(runtime_for("nope", None).unwrap_err().0, 2);
    }

    #[test]
    fn a_runtime_that_cannot_be_built_is_one_line_not_a_crash() {
        assert_eq!(runtime_for("corio-mt", Some(2)), Ok((Runtime::CorioMt, 2)));
        let (status, message) = runtime_for("corio-mt", Some(100_000)).unwrap_err();
        assert_eq!(status, 1, "{message}");
        assert!(
            message.starts_with("corio-mt with 100000 workers: "),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
        let unsupported = std::io::Error::new(std::io::ErrorKind::Unsupported, "not here");
        assert_eq!(
            build_error(Runtime::CorioMt, 2, &unsupported),
            (UNAVAILABLE, "corio-mt is unavailable: not here".to_owned())
        );
    }

    #[test]
    fn parses_list_and_help() {
        assert_eq!(
            parse_args(args("--list")),
            Ok(Command::List { json: false })
        );
        assert_eq!(
            parse_args(args("--json --list")),
            Ok(Command::List { json: true })
        );
        assert_eq!(parse_args(args("--workload x -h")), Ok(Command::Help));
    }

    #[test]
    fn parses_serve() {
        assert_eq!(
            parse_args(args("--serve hyper --runtime tokio-ct --port 8080")),
            Ok(Command::Serve {
                server: "hyper".into(),
                runtime: "tokio-ct".into(),
                workers: None,
                port: 8080,
            })
        );
        assert_eq!(
            parse_args(args("--serve=hyper --runtime corio")),
            Ok(Command::Serve {
                server: "hyper".into(),
                runtime: "corio".into(),
                workers: None,
                port: 0,
            })
        );
        assert!(parse_args(args("--serve hyper")).is_err());
        assert!(parse_args(args("--serve hyper --runtime corio --port 70000")).is_err());
        assert!(parse_args(args("--serve hyper --runtime corio --workload spawn")).is_err());
        assert!(parse_args(args("--workload spawn --runtime corio --port 1")).is_err());
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(parse_args(args("--runtime corio")).is_err());
        assert!(parse_args(args("--workload spawn")).is_err());
        assert!(parse_args(args("--workload spawn --runtime corio --size 0")).is_err());
        assert!(parse_args(args("--workload spawn --runtime corio --size ten")).is_err());
        assert!(parse_args(args("--workload")).is_err());
        assert!(parse_args(args("--bogus")).is_err());
    }

    #[test]
    fn quotes_json_strings() {
        assert_eq!(json_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }

    #[test]
    fn json_result_line_has_every_field() {
        let m = Measurement::new(10, std::time::Duration::from_nanos(1234));
        let line = result_line(
            &workloads::ALL[0],
            Runtime::TokioCt,
            2,
            10,
            &m,
            Some(42),
            true,
        );
        assert_eq!(
            line,
            format!(
                "{{\"workload\":\"{}\",\"runtime\":\"tokio-ct\",\"workers\":null,\"size\":10,\"ops\":10,\"elapsed_ns\":1234,\"clock\":\"wall\",\"ns_per_op\":123.400,\"peak_rss_kib\":42}}",
                workloads::ALL[0].name
            )
        );
        let line = result_line(&workloads::ALL[0], Runtime::SmolMt, 4, 10, &m, None, true);
        assert!(
            line.contains("\"runtime\":\"smol-mt\",\"workers\":4,"),
            "{line}"
        );
        assert!(line.ends_with("\"peak_rss_kib\":null}"), "{line}");
        let text = result_line(&workloads::ALL[0], Runtime::SmolMt, 4, 10, &m, None, false);
        assert!(text.contains(" on smol-mt (4 workers): 10 ops"), "{text}");
    }
}
