//! Child processes on the running loop: asyncio's `create_subprocess_exec` and
//! `create_subprocess_shell`, with [`std::process::Command`]'s builder.
//!
//! | asyncio | corio::process |
//! |---|---|
//! | `create_subprocess_exec(prog, *args, stdout=PIPE, ...)` | [`create_subprocess_exec`] (all three pipes), or [`Command`] |
//! | `create_subprocess_shell(cmd, ...)` | [`create_subprocess_shell`] (`sh -c cmd`) |
//! | `proc.stdin` / `proc.stdout` / `proc.stderr` | [`Child::stdin`] / [`Child::stdout`] / [`Child::stderr`] (futures-io) |
//! | `await proc.communicate(input)` | [`Child::communicate`]`(input).await` → [`Output`] |
//! | `await proc.wait()`, `proc.returncode` | [`Child::wait`], [`Child::try_wait`] |
//! | `proc.kill()`, `proc.terminate()`, `proc.pid` | [`Child::kill`], [`Child::terminate`], [`Child::id`] |
//!
//! The pipes implement `futures_io::AsyncRead` / `AsyncWrite` (so `futures-util`'s
//! `AsyncReadExt::read_to_end` and friends work on them) and have inherent
//! `read`/`read_to_end`/`write_all`/`close` for the basics. They are registered with
//! the loop that was running when the child was spawned and must be used on it.
//!
//! **Reaping.** Every child is reaped, awaited or not: on Linux 5.3+ a child's exit is
//! watched through a pidfd registered with the loop's reactor, so [`Child::wait`]
//! costs no thread and no signal handler; a [`Child`] dropped before it was reaped
//! (killed first under [`Command::kill_on_drop`]) goes to one process-wide background
//! thread that reaps orphans as they exit and stops when none is left, whether or not
//! a loop still runs. Without pidfds (older kernels, other Unixes, or
//! `CORIO_PROCESS_NO_PIDFD=1` in the environment, read once) waiting falls back to
//! SIGCHLD: each SIGCHLD makes a waiting child check whether it exited, with a timer
//! backing off from 1 ms to 100 ms as a safety net.
//!
//! Errors keep the OS error's [`std::io::ErrorKind`]; a failed spawn names the
//! program (``failed to spawn `nosuchprog`: No such file or directory``).
//!
//! ```
//! use corio::process::{create_subprocess_exec, create_subprocess_shell};
//!
//! corio::run(async {
//!     // Feed stdin and collect stdout/stderr at once, like asyncio's communicate().
//!     let mut child = create_subprocess_exec("tr", ["a-z", "A-Z"]).await.unwrap();
//!     let out = child.communicate(Some(b"hello".as_slice())).await.unwrap();
//!     assert!(out.status.success());
//!     assert_eq!(out.stdout, b"HELLO");
//!
//!     // A shell pipeline; exit codes come back in the status.
//!     let mut child = create_subprocess_shell("printf 'b\\na\\n' | sort; exit 3").await.unwrap();
//!     let out = child.communicate(None).await.unwrap();
//!     assert_eq!(out.stdout, b"a\nb\n");
//!     assert_eq!(out.status.code(), Some(3));
//! });
//! ```

mod child;
mod command;
mod communicate;
mod exit;
mod orphans;
mod stdio;

use std::ffi::OsStr;
use std::io;

pub use child::Child;
pub use command::Command;
pub use std::process::{ExitStatus, Output, Stdio};
pub use stdio::{ChildStderr, ChildStdin, ChildStdout};

/// Starts `program` with `args`, its stdin, stdout and stderr piped (asyncio's
/// `create_subprocess_exec(program, *args, stdin=PIPE, stdout=PIPE, stderr=PIPE)`).
///
/// The program is looked up in `PATH` as [`std::process::Command`] does. For other
/// settings (environment, working directory, other stdio) use [`Command`].
///
/// ```
/// use futures_util::AsyncReadExt;
///
/// corio::run(async {
///     let mut child = corio::process::create_subprocess_exec("echo", ["hi"]).await.unwrap();
///     let mut out = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
///     assert_eq!(out, "hi\n");
///     assert!(child.wait().await.unwrap().success());
/// });
/// ```
///
/// # Errors
///
/// If the program cannot be started: the OS error's kind, with the program's name in
/// the message.
///
/// # Panics
///
/// Outside a running loop.
pub async fn create_subprocess_exec<I, S>(program: impl AsRef<OsStr>, args: I) -> io::Result<Child>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// Runs `cmd` through the shell (`sh -c cmd`), its stdin, stdout and stderr piped
/// (asyncio's `create_subprocess_shell(cmd, stdin=PIPE, stdout=PIPE, stderr=PIPE)`).
///
/// The command line is interpreted by `/bin/sh`: quote anything that comes from
/// outside, or use [`create_subprocess_exec`].
///
/// ```
/// corio::run(async {
///     let mut child = corio::process::create_subprocess_shell("echo one two | wc -w")
///         .await
///         .unwrap();
///     let out = child.communicate(None).await.unwrap();
///     assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "2");
/// });
/// ```
///
/// # Errors
///
/// If `sh` cannot be started.
///
/// # Panics
///
/// Outside a running loop.
pub async fn create_subprocess_shell(cmd: impl AsRef<OsStr>) -> io::Result<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}
