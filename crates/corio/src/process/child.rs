//! [`Child`]: a spawned process, its pipes, and its exit; and what happens to a
//! child dropped before it was reaped (handed to the orphan reaper).

use std::fmt;
use std::io;
use std::process::{ExitStatus, Output};
use std::sync::Arc;

use corio_reactor::Reactor;

use super::communicate::communicate;
use super::exit::ExitWatch;
use super::orphans;
use super::stdio::{ChildStderr, ChildStdin, ChildStdout};

/// A child process (asyncio's `Process`), from [`Command::spawn`](super::Command::spawn),
/// [`create_subprocess_exec`](super::create_subprocess_exec) or
/// [`create_subprocess_shell`](super::create_subprocess_shell).
///
/// Its piped standard streams are the public fields; take them out (`take()`) to use
/// them in other tasks. [`wait`](Child::wait) reaps the child; a `Child` dropped before
/// that is reaped in the background (killed first under
/// [`kill_on_drop`](super::Command::kill_on_drop)), so no zombie is left either way.
///
/// ```
/// use corio::process::{Command, Stdio};
///
/// corio::run(async {
///     let mut child = Command::new("cat")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()
///         .unwrap();
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"ping").await.unwrap();
///     drop(stdin); // EOF for cat
///     let mut out = Vec::new();
///     child.stdout.as_mut().unwrap().read_to_end(&mut out).await.unwrap();
///     assert_eq!(out, b"ping");
///     assert!(child.wait().await.unwrap().success());
///     assert_eq!(child.id(), None); // reaped
/// });
/// ```
pub struct Child {
    /// The child's stdin, if it was [piped](super::Stdio::piped).
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if it was [piped](super::Stdio::piped).
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if it was [piped](super::Stdio::piped).
    pub stderr: Option<ChildStderr>,
    state: State,
    kill_on_drop: bool,
}

enum State {
    Running(ExitWatch),
    Exited(ExitStatus),
    /// Only while being dropped.
    Gone,
}

impl Child {
    /// Wraps a freshly spawned std child: registers its pipes and its exit with
    /// `reactor`. On error the half-built `Child` is dropped, which reaps the child.
    pub(super) fn new(
        mut child: std::process::Child,
        reactor: &Arc<Reactor>,
        kill_on_drop: bool,
    ) -> io::Result<Child> {
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let mut this = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            state: State::Running(ExitWatch::new(child, reactor)),
            kill_on_drop,
        };
        this.stdin = stdin.map(|p| ChildStdin::new(reactor, p)).transpose()?;
        this.stdout = stdout.map(|p| ChildStdout::new(reactor, p)).transpose()?;
        this.stderr = stderr.map(|p| ChildStderr::new(reactor, p)).transpose()?;
        Ok(this)
    }

    /// The child's process id, or `None` once it has been reaped (its pid may then
    /// belong to another process).
    pub fn id(&self) -> Option<u32> {
        match &self.state {
            State::Running(watch) => Some(watch.child.id()),
            State::Exited(_) | State::Gone => None,
        }
    }

    /// Waits for the child to exit, reaps it, and returns its status (asyncio's
    /// `await proc.wait()`).
    ///
    /// Closes the child's stdin first (as tokio does), so a child reading it sees EOF
    /// instead of waiting for input that cannot come. Output left in the stdout and
    /// stderr pipes stays readable; a child blocked writing to a full pipe nobody reads
    /// never exits, so read them (or use [`communicate`](Child::communicate)).
    ///
    /// Cancel-safe: dropping the future leaves the child running and this `Child` as it
    /// was. Once the child was reaped, returns the same status at once.
    ///
    /// # Errors
    ///
    /// If `waitpid` fails (it does not for a child that nothing else reaps).
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.stdin = None;
        match &mut self.state {
            State::Running(watch) => {
                let status = watch.wait().await?;
                self.state = State::Exited(status);
                Ok(status)
            }
            State::Exited(status) => Ok(*status),
            State::Gone => unreachable!("State::Gone only exists inside Child::drop"),
        }
    }

    /// The child's status if it has exited (reaping it), or `None` if it still runs
    /// (asyncio's `proc.returncode`). Never waits and leaves stdin alone.
    ///
    /// # Errors
    ///
    /// If `waitpid` fails.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match &mut self.state {
            State::Running(watch) => {
                let status = watch.try_wait()?;
                if let Some(status) = status {
                    self.state = State::Exited(status);
                }
                Ok(status)
            }
            State::Exited(status) => Ok(Some(*status)),
            State::Gone => unreachable!("State::Gone only exists inside Child::drop"),
        }
    }

    /// Sends `SIGKILL` to the child, without waiting for it to die: follow with
    /// [`wait`](Child::wait) (asyncio's `proc.kill()`).
    ///
    /// Does nothing once the child was reaped.
    ///
    /// # Errors
    ///
    /// If the signal cannot be sent.
    pub fn kill(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Running(watch) => watch.child.kill(),
            State::Exited(_) | State::Gone => Ok(()),
        }
    }

    /// Sends `SIGTERM` to the child, without waiting (asyncio's `proc.terminate()`).
    ///
    /// Does nothing once the child was reaped.
    ///
    /// # Errors
    ///
    /// If the signal cannot be sent.
    pub fn terminate(&mut self) -> io::Result<()> {
        use rustix::process::{kill_process, Pid, Signal};
        match &self.state {
            State::Running(watch) => {
                // The child is ours and unreaped, so its pid is still its own.
                kill_process(Pid::from_child(&watch.child), Signal::TERM).map_err(Into::into)
            }
            State::Exited(_) | State::Gone => Ok(()),
        }
    }

    /// Writes `input` to the child's stdin while reading its stdout and stderr, then
    /// closes stdin and waits for the child (asyncio's `await proc.communicate(input)`).
    ///
    /// All three pipes are served at once, so a child that writes a lot before it
    /// reads its input does not deadlock. The pipes are taken out of the `Child`;
    /// what was not piped comes back empty. If the child stops reading its stdin, the
    /// rest of `input` is dropped (as in asyncio). `None` and an empty input both
    /// just close stdin.
    ///
    /// ```
    /// corio::run(async {
    ///     let mut child = corio::process::create_subprocess_exec("wc", ["-c"]).await.unwrap();
    ///     let input = vec![b'x'; 100_000];
    ///     let out = child.communicate(Some(&input)).await.unwrap();
    ///     assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "100000");
    /// });
    /// ```
    ///
    /// Dropping the future closes the pipes and drops what was read so far; the child
    /// itself stays in this `Child`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `input` is not empty and stdin was not piped; an IO error on
    /// a pipe; or as [`wait`](Child::wait).
    pub async fn communicate(&mut self, input: Option<&[u8]>) -> io::Result<Output> {
        let input = input.unwrap_or_default();
        if !input.is_empty() && self.stdin.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "communicate: input given, but the child's stdin is not piped",
            ));
        }
        let (stdout, stderr) = communicate(
            self.stdin.take(),
            input,
            self.stdout.take(),
            self.stderr.take(),
        )
        .await?;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let State::Running(mut watch) = std::mem::replace(&mut self.state, State::Gone) else {
            return;
        };
        if self.kill_on_drop {
            let _ = watch.child.kill();
        }
        if let Ok(None) = watch.try_wait() {
            let (child, pidfd) = watch.into_parts();
            orphans::adopt(child, pidfd);
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match &self.state {
            State::Exited(status) => Some(status),
            _ => None,
        };
        f.debug_struct("Child")
            .field("id", &self.id())
            .field("status", &status)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish_non_exhaustive()
    }
}
