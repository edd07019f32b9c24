//! [`Command`]: [`std::process::Command`]'s builder, whose `spawn` registers the
//! child's pipes and exit with the running loop, and whose `output`/`status` await.

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use super::child::Child;
use crate::runtime::context;

/// A process builder, as [`std::process::Command`] (it wraps one), with async
/// [`output`](Command::output) and [`status`](Command::status) and a [`Child`] whose
/// pipes and exit are awaited on the running loop.
///
/// Defaults are std's: [`spawn`](Command::spawn) and [`status`](Command::status)
/// inherit the three standard streams, [`output`](Command::output) pipes stdout and
/// stderr and gives the child a null stdin. Set [`Stdio::piped`] to talk to the child.
///
/// ```
/// use corio::process::Command;
///
/// corio::run(async {
///     let out = Command::new("sh")
///         .args(["-c", "echo $GREETING; echo oops >&2"])
///         .env("GREETING", "hello")
///         .output()
///         .await
///         .unwrap();
///     assert!(out.status.success());
///     assert_eq!(out.stdout, b"hello\n");
///     assert_eq!(out.stderr, b"oops\n");
/// });
/// ```
pub struct Command {
    std: std::process::Command,
    /// Which standard streams the caller chose, so `output` knows where std's
    /// defaults apply (std's `Command` does not say).
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
    kill_on_drop: bool,
}

impl Command {
    /// A command to run `program`, looked up in `PATH` if it has no `/`.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets several environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds later).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's stdin: [`Stdio::piped`] makes [`Child::stdin`] a [`ChildStdin`](super::ChildStdin).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// The child's stdout: [`Stdio::piped`] makes [`Child::stdout`] a [`ChildStdout`](super::ChildStdout).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// The child's stderr: [`Stdio::piped`] makes [`Child::stderr`] a [`ChildStderr`](super::ChildStderr).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// Whether dropping the [`Child`] before it was reaped kills it (`SIGKILL`).
    ///
    /// Off by default, as in asyncio and std: a dropped child runs on, and is reaped
    /// in the background when it exits. Either way no zombie is left.
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The wrapped std command, for settings this type does not forward
    /// (`std::os::unix::process::CommandExt`: `uid`, `process_group`, `arg0`...).
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The wrapped std command, mutably; see [`as_std`](Command::as_std).
    ///
    /// Standard streams set through it count as unset for [`output`](Command::output),
    /// which then pipes stdout and stderr and nulls stdin as usual.
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child.
    ///
    /// Its piped standard streams and its exit are registered with the running loop.
    /// The [`Child`] need not be awaited: dropped unreaped, it is reaped in the
    /// background (see the [module docs](super)).
    ///
    /// # Errors
    ///
    /// If the program cannot be started, with the OS error's kind (`NotFound` for a
    /// missing program) and a message naming the program.
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn spawn(&mut self) -> io::Result<Child> {
        let reactor = context::reactor("corio::process::Command::spawn()");
        let child = self.std.spawn().map_err(|e| {
            let program = Path::new(self.std.get_program()).display();
            io::Error::new(e.kind(), format!("failed to spawn `{program}`: {e}"))
        })?;
        Child::new(child, &reactor, self.kill_on_drop)
    }

    /// Runs the child to completion and collects its stdout and stderr.
    ///
    /// Unless set otherwise, stdout and stderr are piped and stdin is null (std's
    /// defaults for `output`). Dropping the future drops the child (see
    /// [`kill_on_drop`](Command::kill_on_drop)).
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn), or an IO error on the pipes.
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub async fn output(&mut self) -> io::Result<Output> {
        // std's `output` defaults, for this spawn only: put back "inherit" (the
        // default of `spawn` and `status`) where the caller set nothing.
        let (stdin, stdout, stderr) = (self.stdin_set, self.stdout_set, self.stderr_set);
        if !stdin {
            self.std.stdin(Stdio::null());
        }
        if !stdout {
            self.std.stdout(Stdio::piped());
        }
        if !stderr {
            self.std.stderr(Stdio::piped());
        }
        let child = self.spawn();
        if !stdin {
            self.std.stdin(Stdio::inherit());
        }
        if !stdout {
            self.std.stdout(Stdio::inherit());
        }
        if !stderr {
            self.std.stderr(Stdio::inherit());
        }
        child?.communicate(None).await
    }

    /// Runs the child to completion and returns its exit status.
    ///
    /// The standard streams are inherited unless set otherwise; a piped stdin is
    /// closed at once, piped stdout and stderr are left unread.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }
}

impl From<std::process::Command> for Command {
    /// Wraps a std command; its standard streams count as unset for
    /// [`output`](Command::output).
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
            kill_on_drop: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish_non_exhaustive()
    }
}
