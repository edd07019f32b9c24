//! `spawn-chain`: a task spawns a task which spawns a task ..., 1,000 deep,
//! and the last one signals the main task; repeated N/1,000 times.
//!
//! Each task in the chain spawns the next one and returns without awaiting
//! it (tokio's own `chained_spawn` benchmark), so at most two tasks of a
//! chain are alive at once and the run queue never holds more than one:
//! this measures spawn, first poll and completion of a task whose handle is
//! dropped, one after another, with a cold queue. With the default
//! N = 100,000 that is 100 chains of depth 1,000. An op is one spawn.
//!
//! The end of a chain is signalled once per chain, with each runtime's
//! one-shot notification: a `corio::sync::Event`, a `tokio::sync::oneshot`
//! channel, an async-channel `bounded(1)` on smol. smol's tasks spawn the
//! next one through the handle to the executor they carry (smol has no
//! ambient spawn: an `Rc<LocalExecutor>` on smol-local, an `Arc<Executor>`
//! on smol-mt); corio and tokio spawn onto the running runtime.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `spawn-chain` workload. One op is one task spawned (and run).
pub(super) const WORKLOAD: Workload = Workload {
    name: "spawn-chain",
    description: "each task spawns the next, 1,000 deep; N/1,000 chains, one after another",
    default_size: 100_000,
    multi_threaded: true,
    corio,
    tokio,
    smol,
};

/// The most tasks in one chain.
const DEPTH: usize = 1_000;

/// Splits a size of `n` spawns into (depth, chains).
fn shape(n: usize) -> (usize, usize) {
    let depth = DEPTH.min(n).max(1);
    (depth, n / depth)
}

/// `spawn-chain` on corio.
fn corio(threads: Threads, n: usize) -> Measurement {
    /// Spawns the rest of the chain: `left` more tasks, then `done` is set.
    fn link(done: Arc<corio::sync::Event>, left: usize) {
        if left == 0 {
            done.set();
        } else {
            drop(corio::create_task(async move { link(done, left - 1) }));
        }
    }
    let (depth, chains) = shape(n);
    runtime::corio(threads, async move {
        let start = Instant::now();
        for _ in 0..chains {
            let done = Arc::new(corio::sync::Event::new());
            link(Arc::clone(&done), depth);
            done.wait().await;
        }
        Measurement::new(depth * chains, start.elapsed())
    })
}

/// `spawn-chain` on tokio.
fn tokio(threads: Threads, n: usize) -> Measurement {
    /// Spawns the rest of the chain: `left` more tasks, then `done` is sent.
    fn link(done: tokio::sync::oneshot::Sender<()>, left: usize) {
        if left == 0 {
            done.send(()).unwrap();
        } else {
            drop(tokio::spawn(async move { link(done, left - 1) }));
        }
    }
    let (depth, chains) = shape(n);
    runtime::tokio(threads).block_on(async move {
        let start = Instant::now();
        for _ in 0..chains {
            let (tx, rx) = tokio::sync::oneshot::channel();
            link(tx, depth);
            rx.await.unwrap();
        }
        Measurement::new(depth * chains, start.elapsed())
    })
}

/// A handle to a smol executor that a link of the chain spawns the next
/// one with.
trait Link: Clone + 'static {
    /// Spawns the rest of the chain on `self`: `left` more tasks, then
    /// `done` is sent.
    fn link(self, done: async_channel::Sender<()>, left: usize);
}

/// [`Link`] for smol's two executors: one body, which spawns a future
/// holding an `Rc` on one and an `Arc` on the other (only the latter is
/// `Send`, as `Executor::spawn` requires).
macro_rules! impl_link {
    ($($executor:ty),*) => {$(
        impl Link for $executor {
            fn link(self, done: async_channel::Sender<()>, left: usize) {
                if left == 0 {
                    done.try_send(()).unwrap();
                } else {
                    let next = self.clone();
                    self.spawn(async move { next.link(done, left - 1) }).detach();
                }
            }
        }
    )*};
}

impl_link!(
    Rc<smol::LocalExecutor<'static>>,
    Arc<smol::Executor<'static>>
);

/// `spawn-chain` on smol.
fn smol(threads: Threads, n: usize) -> Measurement {
    let (depth, chains) = shape(n);
    crate::smol_run!(threads, |ex| async move {
        let start = Instant::now();
        for _ in 0..chains {
            let (tx, rx) = async_channel::bounded(1);
            ex.clone().link(tx, depth);
            rx.recv().await.unwrap();
        }
        Measurement::new(depth * chains, start.elapsed())
    })
}

#[cfg(test)]
mod tests {
    use super::shape;

    #[test]
    fn shape_is_chains_of_at_most_a_thousand() {
        assert_eq!(shape(100_000), (1_000, 100));
        assert_eq!(shape(10_000), (1_000, 10));
        assert_eq!(shape(10), (10, 1));
        assert_eq!(shape(0), (1, 0));
    }
}
