//! The runtimes a workload can run on, and how each one is built.
//!
//! Three families (corio, tokio, smol), each single-threaded (`corio`,
//! `tokio-ct`, `smol-local`) or multi-threaded with `--workers N` threads
//! (`corio-mt`, `tokio-mt`, `smol-mt`). A workload writes its body once per
//! family and runs it on either flavour through the entry points here:
//! [`corio`], [`tokio`] and [`smol_run!`](crate::smol_run). Every workload
//! runs on every runtime; the workload list says which ones the
//! multi-threaded report table shows.

use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

/// An async runtime that workloads are measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Runtime {
    /// corio's single-threaded event loop (`Runner::builder().workers(1)`,
    /// what `corio::run` runs unless `CORIO_WORKERS` says otherwise).
    Corio,
    /// tokio's current-thread runtime (`Builder::new_current_thread`).
    TokioCt,
    /// smol's `LocalExecutor`, driven by `smol::block_on(ex.run(fut))`.
    SmolLocal,
    /// corio's multi-threaded runtime: `Runner::builder().workers(n)`.
    CorioMt,
    /// tokio's multi-thread runtime with `n` worker threads.
    TokioMt,
    /// smol's `Executor` run on `n` threads (`n - 1` spawned, plus the caller).
    SmolMt,
}

/// How many threads a workload's runtime runs tasks on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Threads {
    /// The single-threaded flavour: everything on the calling thread.
    Local,
    /// The multi-threaded flavour with this many worker threads (the main
    /// future runs on the calling thread, tasks on any worker).
    Workers(usize),
}

/// The runtime libraries, each of which has both flavours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// corio.
    Corio,
    /// tokio.
    Tokio,
    /// smol (async-executor with async-io).
    Smol,
}

impl Runtime {
    /// Every runtime, in the order reports list them: the single-threaded
    /// ones, then the multi-threaded ones; corio first in each (it is the
    /// subject, the others are the baselines its ratios are taken against).
    pub(crate) const ALL: [Runtime; 6] = [
        Runtime::Corio,
        Runtime::TokioCt,
        Runtime::SmolLocal,
        Runtime::CorioMt,
        Runtime::TokioMt,
        Runtime::SmolMt,
    ];

    /// The name used on the command line and in results.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Runtime::Corio => "corio",
            Runtime::TokioCt => "tokio-ct",
            Runtime::SmolLocal => "smol-local",
            Runtime::CorioMt => "corio-mt",
            Runtime::TokioMt => "tokio-mt",
            Runtime::SmolMt => "smol-mt",
        }
    }

    /// A one-line description for `--list`.
    pub(crate) fn description(self) -> &'static str {
        match self {
            Runtime::Corio => "corio's single-threaded event loop (as corio::run; workers(1))",
            Runtime::TokioCt => "tokio current_thread runtime (Builder::new_current_thread)",
            Runtime::SmolLocal => "smol::LocalExecutor driven by smol::block_on(ex.run(fut))",
            Runtime::CorioMt => {
                "corio::Runner::builder().workers(N): corio's work-stealing runtime"
            }
            Runtime::TokioMt => "tokio multi_thread runtime (new_multi_thread().worker_threads(N))",
            Runtime::SmolMt => {
                "smol::Executor on N threads: N-1 spawned running ex.run(shutdown), \
                 the caller running smol::block_on(ex.run(main))"
            }
        }
    }

    /// Looks a runtime up by its [`name`](Runtime::name).
    pub(crate) fn from_name(name: &str) -> Option<Runtime> {
        Runtime::ALL.into_iter().find(|rt| rt.name() == name)
    }

    /// Whether this is a multi-threaded runtime (`--workers` applies).
    pub(crate) fn is_multi_threaded(self) -> bool {
        matches!(self, Runtime::CorioMt | Runtime::TokioMt | Runtime::SmolMt)
    }

    /// The library this runtime belongs to.
    pub(crate) fn family(self) -> Family {
        match self {
            Runtime::Corio | Runtime::CorioMt => Family::Corio,
            Runtime::TokioCt | Runtime::TokioMt => Family::Tokio,
            Runtime::SmolLocal | Runtime::SmolMt => Family::Smol,
        }
    }

    /// The flavour this runtime runs with, given `--workers`.
    pub(crate) fn threads(self, workers: usize) -> Threads {
        if self.is_multi_threaded() {
            Threads::Workers(workers)
        } else {
            Threads::Local
        }
    }

    /// Builds this runtime once (and drops it) to find out whether it can
    /// be built with `workers` threads: the error if not (corio-mt refuses
    /// more than its bound of workers, for one).
    pub(crate) fn check(self, workers: usize) -> std::io::Result<()> {
        match self {
            Runtime::CorioMt => corio_runner(workers).map(drop),
            Runtime::TokioMt => tokio_runtime(self.threads(workers)).map(drop),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A corio runner with `workers` worker threads.
fn corio_runner(workers: usize) -> std::io::Result<corio::Runner> {
    corio::Runner::builder().workers(workers).build()
}

/// Runs `main` on corio: on a runner built with `workers(1)` for
/// [`Threads::Local`] (the single-threaded loop `corio::run` uses, chosen
/// explicitly so that a `CORIO_WORKERS` in the environment cannot make it
/// multi-threaded) or `workers(n)` for [`Threads::Workers`]; the main
/// future runs on this thread. The runner is closed after `main`.
///
/// # Panics
///
/// If the runner cannot be built (`main.rs` calls [`Runtime::check`]
/// first, so a benchmark run reports that as an error line instead), or
/// with `main`'s panic.
pub(crate) fn corio<F: Future>(threads: Threads, main: F) -> F::Output {
    let n = match threads {
        Threads::Local => 1,
        Threads::Workers(n) => n,
    };
    let mut runner = corio_runner(n).unwrap_or_else(|e| panic!("corio with {n} workers: {e}"));
    let output = runner.run(main);
    runner.close();
    output
}

/// Builds a tokio runtime of the flavour `threads`.
fn tokio_runtime(threads: Threads) -> std::io::Result<tokio::runtime::Runtime> {
    match threads {
        Threads::Local => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Threads::Workers(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
    }
}

/// Builds the tokio runtime a tokio workload runs on: current-thread for
/// [`Threads::Local`], multi-thread with `n` workers for
/// [`Threads::Workers`]; `block_on` runs the main future on this thread.
///
/// The I/O and time drivers are enabled for every workload, including those
/// that use neither, so that tokio is measured in one configuration
/// throughout, the way an application would build it, and like corio, whose
/// event loop always carries its reactor and timers.
pub(crate) fn tokio(threads: Threads) -> tokio::runtime::Runtime {
    tokio_runtime(threads)
        .unwrap_or_else(|e| panic!("failed to build the tokio runtime ({threads:?}): {e}"))
}

/// Runs `main`, given the executor, on a smol `LocalExecutor` on this
/// thread: `smol::block_on(ex.run(main(ex)))`.
pub(crate) fn smol_local<F: Future>(
    main: impl FnOnce(Rc<smol::LocalExecutor<'static>>) -> F,
) -> F::Output {
    let ex = Rc::new(smol::LocalExecutor::new());
    smol::block_on(ex.run(main(Rc::clone(&ex))))
}

/// Runs `main`, given the executor, on a smol `Executor` run by `workers`
/// threads, as smol's documentation does it: `workers - 1` spawned threads
/// each run `block_on(ex.run(shutdown))`, and this thread runs
/// `block_on(ex.run(main(ex)))`. When `main` is done the shutdown signal is
/// sent and the threads are joined. `smol::block_on` is async-io's, so each
/// thread can drive the IO reactor while it waits.
///
/// # Panics
///
/// If a thread cannot be spawned, or with `main`'s panic.
pub(crate) fn smol_mt<F: Future>(
    workers: usize,
    main: impl FnOnce(Arc<smol::Executor<'static>>) -> F,
) -> F::Output {
    let ex = Arc::new(smol::Executor::new());
    // Closed (by dropping `stop`) when `main` is done: each thread's `recv`
    // then returns and its `run` with it.
    let (stop, shutdown) = async_channel::bounded::<()>(1);
    let threads: Vec<_> = (1..workers.max(1))
        .map(|i| {
            let ex = Arc::clone(&ex);
            let shutdown = shutdown.clone();
            std::thread::Builder::new()
                .name(format!("smol-mt-{i}"))
                .spawn(move || smol::block_on(ex.run(shutdown.recv())))
                .expect("spawn a smol-mt worker thread")
        })
        .collect();
    let output = smol::block_on(ex.run(main(Arc::clone(&ex))));
    drop(stop);
    for thread in threads {
        // `recv` only fails (the channel closed): the thread's result is
        // that error, which is the signal itself.
        let _ = thread.join().expect("a smol-mt worker thread panicked");
    }
    output
}

/// Runs a smol workload body on the flavour `$threads`:
/// `smol_run!(threads, |ex| async move { ... })`. The body is written once
/// and compiled twice, with `ex` an `Rc<LocalExecutor>` ([`smol_local`]) and
/// an `Arc<Executor>` ([`smol_mt`]); both deref to an executor with the same
/// `spawn`, and `ex.clone()` gives a task its own handle to spawn with.
#[macro_export]
macro_rules! smol_run {
    ($threads:expr, |$ex:ident| $body:expr) => {
        match $threads {
            $crate::runtime::Threads::Local => $crate::runtime::smol_local(|$ex| $body),
            $crate::runtime::Threads::Workers(n) => $crate::runtime::smol_mt(n, |$ex| $body),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for rt in Runtime::ALL {
            assert_eq!(Runtime::from_name(rt.name()), Some(rt));
        }
        assert_eq!(Runtime::from_name("tokio"), None);
    }

    #[test]
    fn mt_runtimes_take_workers() {
        for rt in Runtime::ALL {
            let mt = rt.name().ends_with("-mt");
            assert_eq!(rt.is_multi_threaded(), mt, "{rt}");
            let expected = if mt {
                Threads::Workers(3)
            } else {
                Threads::Local
            };
            assert_eq!(rt.threads(3), expected, "{rt}");
        }
        assert_eq!(Runtime::SmolMt.family(), Family::Smol);
        assert_eq!(Runtime::TokioCt.family(), Family::Tokio);
    }

    #[test]
    fn smol_mt_runs_tasks_on_its_worker_threads() {
        let names = smol_mt(3, |ex| async move {
            let tasks: Vec<_> = (0..64)
                .map(|_| {
                    ex.spawn(async {
                        // Long enough that the other threads pick tasks up.
                        std::thread::sleep(std::time::Duration::from_millis(1));
                        std::thread::current().name().map(str::to_owned)
                    })
                })
                .collect();
            let mut names = Vec::new();
            for task in tasks {
                names.push(task.await);
            }
            names
        });
        assert!(
            names
                .iter()
                .any(|n| n.as_deref().is_some_and(|n| n.starts_with("smol-mt-"))),
            "{names:?}"
        );
    }

    #[test]
    fn corio_local_runs_tasks_on_the_calling_thread() {
        let me = std::thread::current().id();
        let ran_on = corio(Threads::Local, async {
            corio::create_task(async { std::thread::current().id() })
                .await
                .unwrap()
        });
        assert_eq!(ran_on, me);
    }

    #[test]
    fn tokio_mt_is_multi_threaded() {
        let rt = tokio(Threads::Workers(2));
        assert_eq!(rt.metrics().num_workers(), 2);
        let rt = tokio(Threads::Local);
        assert_eq!(rt.metrics().num_workers(), 1);
    }
}
