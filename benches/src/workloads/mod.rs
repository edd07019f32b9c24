//! The benchmark workloads: one module per workload (or per family of
//! workloads), one function per runtime.
//!
//! To add a workload, write a module with a `corio`, a `tokio` and a
//! `smol` function (each takes the [`Threads`] flavour and the size and
//! returns a [`Measurement`]) and a `WORKLOAD` constant naming them, then
//! list it in [`ALL`]. `cargo xtask bench` picks it up from `corio-benches
//! --list`. Each function writes its body once and runs it through
//! `runtime::corio`, `runtime::tokio` or `smol_run!`, so that the same body
//! runs on the single-threaded runtime and on the multi-threaded one (its
//! tasks are `Send`: `Arc`, not `Rc`). A family of variants (`queue`'s
//! producer counts and bounds) makes its functions generic over const
//! parameters and has one constant per variant.
//!
//! Every workload runs on every runtime; [`Workload::multi_threaded`] marks
//! the ones the report's multi-threaded table shows (the list).
//!
//! The sync workloads (`lock-*`, `semaphore`, `queue-*`) run corio's
//! `corio::sync` beside `tokio::sync` on tokio and the smol ecosystem's
//! `async-lock` and `async-channel` on smol, each with its own runtime's
//! spawn and yield.

use crate::measure::Measurement;
use crate::runtime::{Family, Runtime, Threads};

mod foreign_spawn;
mod gather;
mod idle_conns;
mod lock_contended;
mod lock_uncontended;
mod ping_pong;
mod process;
mod protocol_echo;
mod queue;
mod semaphore;
mod spawn;
mod spawn_chain;
mod spawn_eager;
mod spawn_from_one;
mod syscall_floor;
mod task_group;
mod tcp_echo;
mod tcp_stream;
mod timers;
mod udp_echo;
mod unix_echo;
mod yielding;

/// Every workload, in the order reports list them.
pub(crate) static ALL: &[Workload] = &[
    spawn::WORKLOAD,
    spawn_eager::WORKLOAD,
    yielding::WORKLOAD,
    ping_pong::WORKLOAD,
    spawn_chain::WORKLOAD,
    spawn_from_one::WORKLOAD,
    foreign_spawn::WORKLOAD,
    timers::SLEEP_CANCEL,
    timers::TIMEOUT_UNUSED,
    task_group::WORKLOAD,
    gather::WORKLOAD,
    lock_uncontended::WORKLOAD,
    lock_contended::WORKLOAD,
    semaphore::WORKLOAD,
    queue::BOUNDED_1,
    queue::BOUNDED_4,
    queue::BOUNDED_64,
    queue::UNBOUNDED_1,
    queue::UNBOUNDED_4,
    queue::UNBOUNDED_64,
    tcp_echo::WORKLOAD,
    protocol_echo::WORKLOAD,
    tcp_stream::WORKLOAD,
    udp_echo::WORKLOAD,
    unix_echo::WORKLOAD,
    idle_conns::WORKLOAD,
    process::WORKLOAD,
];

/// Runs a workload at a given size on one runtime family, in one flavour,
/// and measures it.
type RunFn = fn(Threads, usize) -> Measurement;

/// A benchmark workload and its implementation on each runtime.
pub(crate) struct Workload {
    /// The name used on the command line and in results.
    pub(crate) name: &'static str,
    /// A one-line description for `--list`, in terms of the size `N`.
    pub(crate) description: &'static str,
    /// The size a full (not `--quick`) run uses.
    pub(crate) default_size: usize,
    /// Whether the report's multi-threaded table (corio-mt, tokio-mt,
    /// smol-mt) shows this workload. It runs on those runtimes either way.
    pub(crate) multi_threaded: bool,
    /// The workload on corio (`corio` and `corio-mt`).
    corio: RunFn,
    /// The workload on tokio (`tokio-ct` and `tokio-mt`).
    tokio: RunFn,
    /// The workload on smol (`smol-local` and `smol-mt`).
    smol: RunFn,
}

impl Workload {
    /// Runs the workload at `size` on `runtime`, building a fresh runtime;
    /// `workers` is the thread count of the multi-threaded runtimes.
    pub(crate) fn run(&self, runtime: Runtime, workers: usize, size: usize) -> Measurement {
        let run = match runtime.family() {
            Family::Corio => self.corio,
            Family::Tokio => self.tokio,
            Family::Smol => self.smol,
        };
        let measured = run(runtime.threads(workers), size.max(1));
        match self.name {
            "tcp-echo" => syscall_floor::report_tcp_echo_once(),
            "tcp-stream" => syscall_floor::report_tcp_stream_once(),
            _ => {}
        }
        measured
    }
}

/// Splits a size of `n` ops over at most `max` tasks: (tasks, ops per task).
/// Small sizes get fewer tasks rather than zero ops per task.
fn split(n: usize, max: usize) -> (usize, usize) {
    let tasks = max.min(n).max(1);
    (tasks, n / tasks)
}

/// Looks a workload up by name.
pub(crate) fn find(name: &str) -> Option<&'static Workload> {
    ALL.iter().find(|w| w.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every workload runs on every runtime at a small size and reports a
    /// positive operation count (the multi-threaded ones with 2 workers).
    #[test]
    fn every_workload_runs_on_every_runtime() {
        for runtime in Runtime::ALL {
            for workload in ALL {
                let m = workload.run(runtime, 2, 2_000);
                assert!(m.ops > 0, "{} on {runtime} reported no ops", workload.name);
            }
        }
    }

    #[test]
    fn split_gives_at_most_max_tasks() {
        assert_eq!(split(1_000_000, 1_000), (1_000, 1_000));
        assert_eq!(split(1_000_000, 64), (64, 15_625));
        assert_eq!(split(10, 1_000), (10, 1));
        assert_eq!(split(0, 4), (1, 0));
    }

    #[test]
    fn names_are_unique() {
        for (i, w) in ALL.iter().enumerate() {
            assert!(ALL[..i].iter().all(|v| v.name != w.name), "{}", w.name);
            assert!(std::ptr::eq(find(w.name).unwrap(), w));
        }
    }
}
