//! Separate binary: `run` watches Ctrl-C only on the main thread, so this test has no libtest
//! harness (`harness = false`), and it runs itself as child processes that it sends signals.
//!
//! Ctrl-C and signal behaviour that only a whole process can show: this test runs itself as a
//! child process in several modes (the `ctrl_c` and `graceful_shutdown` examples among them),
//! sends it signals, and checks what it printed and how it ended. (libtest would run the tests
//! on threads other than the main one: hence `harness = false` in Cargo.toml.)

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use corio::signal::{Signals, SIGTERM};

#[path = "../examples/ctrl_c.rs"]
mod ctrl_c_example;
#[path = "../examples/graceful_shutdown.rs"]
mod graceful_shutdown_example;

const MODE: &str = "CORIO_CTRL_C_TEST_MODE";
const PATIENCE: Duration = Duration::from_secs(10);

fn main() {
    match std::env::var(MODE).as_deref() {
        Ok("ctrl_c") => ctrl_c_example::main(),
        Ok("graceful") => graceful_shutdown_example::main(),
        Ok("own_handler") => own_handler(),
        Ok("restore_default") => restore_default(),
        Ok("dump") => dump_on_signal(),
        Ok(other) => panic!("unknown child mode {other}"),
        Err(_) => parent(),
    }
}

/// A program that listens for Ctrl-C itself keeps it: `run` does not cancel main.
fn own_handler() {
    corio::run(async {
        let ctrl_c = corio::signal::ctrl_c();
        println!("ready");
        ctrl_c.await.unwrap();
        println!("got ctrl-c, finishing normally");
    });
}

/// SIGTERM's default action comes back when the last listener is dropped.
fn restore_default() {
    corio::run(async {
        let mut signals = Signals::new([SIGTERM]).unwrap();
        println!("ready");
        assert_eq!(signals.recv().await, Some(SIGTERM));
        drop(signals);
        println!("dropped the listener");
        corio::sleep(Duration::from_secs(3600)).await;
    });
}

/// `install_dump_on_signal`: SIGUSR1 prints the task tree to stderr.
fn dump_on_signal() {
    corio::run(async {
        corio::debug::install_dump_on_signal(corio::signal::SIGUSR1).unwrap();
        let stuck = std::sync::Arc::new(corio::sync::Event::new());
        let waiter = stuck.clone();
        let _task = corio::task::Builder::new()
            .name("stuck-on-event")
            .create(async move { waiter.wait().await });
        corio::yield_now().await;
        println!("ready");
        // Stays up until the parent has seen the dump, then ends normally.
        corio::sleep(Duration::from_millis(500)).await;
        stuck.set();
    });
}

fn parent() {
    let started = Instant::now();
    first_ctrl_c_cancels_main_and_cleans_up();
    second_ctrl_c_during_cleanup_terminates();
    a_program_listening_for_ctrl_c_keeps_it();
    an_ignored_sigint_stays_ignored();
    dropping_the_last_listener_restores_the_default_action();
    graceful_shutdown_example_stops_on_sigterm();
    sigusr1_dumps_the_task_tree();
    println!("ctrl_c: 7 scenarios passed in {:?}", started.elapsed());
}

fn first_ctrl_c_cancels_main_and_cleans_up() {
    let mut child = Spawned::new("ctrl_c", &[], false);
    child.expect_line("ready");
    child.signal("INT");
    child.expect_line("main dropped");
    child.expect_line("worker dropped");
    let status = child.wait();
    assert_eq!(status.code(), Some(101), "run panics after the clean-up");
    let stderr = child.stderr();
    assert!(
        stderr.contains(
            "corio::run() was interrupted by Ctrl-C (SIGINT): the main future was cancelled"
        ),
        "{stderr}"
    );
}

fn second_ctrl_c_during_cleanup_terminates() {
    let mut child = Spawned::new("ctrl_c", &["--slow-cleanup"], false);
    child.expect_line("ready");
    child.signal("INT");
    child.expect_line("worker dropped"); // now sleeping 10 s in its Drop
    let sent = Instant::now();
    child.signal("INT");
    let status = child.wait();
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "the second Ctrl-C did not end it at once"
    );
    assert!(!child.stdout_rest().contains("clean-up finished"));
}

fn a_program_listening_for_ctrl_c_keeps_it() {
    let mut child = Spawned::new("own_handler", &[], false);
    child.expect_line("ready");
    child.signal("INT");
    child.expect_line("got ctrl-c, finishing normally");
    assert!(child.wait().success());
}

fn an_ignored_sigint_stays_ignored() {
    let mut child = Spawned::new("ctrl_c", &[], true);
    child.expect_line("ready");
    child.signal("INT");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.child.try_wait().unwrap().is_none(),
        "an ignored SIGINT ended the program"
    );
    child.signal("TERM");
    assert_eq!(child.wait().signal(), Some(libc::SIGTERM));
    assert!(!child.stdout_rest().contains("main dropped"));
}

fn dropping_the_last_listener_restores_the_default_action() {
    let mut child = Spawned::new("restore_default", &[], false);
    child.expect_line("ready");
    child.signal("TERM");
    child.expect_line("dropped the listener");
    child.signal("TERM");
    assert_eq!(child.wait().signal(), Some(libc::SIGTERM));
}

fn graceful_shutdown_example_stops_on_sigterm() {
    let mut child = Spawned::new("graceful", &["127.0.0.1:0"], false);
    let line = child.expect_line("listening on");
    let addr = line.split_whitespace().nth(2).unwrap().to_owned();
    // One request answered before the signal, one connection still open during it.
    let mut client = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(&mut client, b"hello\n").unwrap();
    let mut reply = String::new();
    BufReader::new(&client).read_line(&mut reply).unwrap();
    assert_eq!(reply, "HELLO\n");
    child.signal("TERM");
    child.expect_line("got signal Some(15)");
    drop(client); // the open connection finishes: the server stops within its grace period
    child.expect_line("all connections finished; stopped");
    assert!(child.wait().success());
}

fn sigusr1_dumps_the_task_tree() {
    let mut child = Spawned::new("dump", &[], false);
    child.expect_line("ready");
    child.signal("USR1");
    assert!(child.wait().success());
    let stderr = child.stderr();
    assert!(stderr.contains("corio task tree (2 tasks"), "{stderr}");
    assert!(stderr.contains("(main) waiting"), "{stderr}");
    assert!(stderr.contains("\"stuck-on-event\" waiting"), "{stderr}");
    assert!(stderr.contains("tests/ctrl_c.rs:"), "{stderr}");
}

/// This test binary, running in a child mode, with its stdout read line by line.
struct Spawned {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Spawned {
    fn new(mode: &str, args: &[&str], sigint_ignored: bool) -> Spawned {
        let exe = std::env::current_exe().unwrap();
        // Children must start with SIGINT at its default action (a background job of a
        // non-interactive shell starts with it ignored): `env --default-signal` resets it,
        // and `trap '' INT` in sh ignores it for the "ignored" scenario.
        let mut command = if sigint_ignored {
            let mut command = Command::new("sh");
            command
                .args(["-c", "trap '' INT; exec \"$0\" \"$@\""])
                .arg(&exe);
            command
        } else {
            let mut command = Command::new("env");
            command.arg("--default-signal=INT").arg(&exe);
            command
        };
        command
            .args(args)
            .env(MODE, mode)
            .env("RUST_BACKTRACE", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {exe:?} in mode {mode}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Spawned {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line starting with `prefix` and returns it.
    fn expect_line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("no line starting with {prefix:?}; saw {:?}", self.seen);
                }
            }
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the child did not exit; saw {:?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The rest of stdout (after the child exited).
    fn stdout_rest(&mut self) -> String {
        let mut all = self.seen.join("\n");
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(1)) {
            all.push('\n');
            all.push_str(&line);
        }
        all
    }

    fn stderr(&mut self) -> String {
        let mut stderr = String::new();
        std::io::Read::read_to_string(self.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        stderr
    }
}
