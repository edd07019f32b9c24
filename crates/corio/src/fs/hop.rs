//! One "hop" of `corio::fs` work to the loop's blocking pool and back, and
//! the IO errors that name their path.
//!
//! [`Hop`] is a lighter `to_thread`: the closure runs on the pool and the
//! future resolves with its value, with no task spawned in between (the
//! caller's own task awaits it). Its one extra duty is that no work is lost
//! when the pool refuses the job (it refuses only while its loop closes, or
//! when no worker thread can be started): the closure is then run right
//! here, on the calling thread. That is why it travels in a shared slot: the
//! pool drops a refused closure, and the slot lets the caller take it back.

use std::fmt;
use std::future::Future;
use std::io;
use std::panic;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{ready, Context, Poll};
use std::thread;

use crate::blocking::BlockingPool;
use crate::runtime::context;

/// Where a closure waits until a worker takes it (or the caller takes it back).
type Slot<F> = Arc<Mutex<Option<F>>>;

/// The pool's join future. Boxed because `crate::blocking` does not export
/// its type; one allocation per hop, small beside the thread hand-off.
type Join<R> = Pin<Box<dyn Future<Output = thread::Result<R>> + Send + Sync>>;

/// The future of one closure run on the blocking pool; see the module docs.
pub(crate) enum Hop<R, F> {
    /// Queued or running on a pool thread.
    Running { join: Join<R>, slot: Slot<F> },
    /// Run on the caller's thread (the pool refused it); taken once.
    Done(Option<R>),
}

// The fields are never pinned: `Hop` moves its value out only by value.
impl<R, F> Unpin for Hop<R, F> {}

impl<R, F> Hop<R, F>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    /// Queues `f` on `pool`, or runs it now if the pool refuses it.
    pub(crate) fn spawn(pool: &BlockingPool, f: F) -> Hop<R, F> {
        let slot: Slot<F> = Arc::new(Mutex::new(Some(f)));
        let parcel = slot.clone();
        let job = move || {
            let f = take(&parcel).expect("corio::fs: a pool job ran twice");
            f()
        };
        match pool.spawn(job) {
            Ok(join) => Hop::Running {
                join: Box::pin(join),
                slot,
            },
            Err(_) => Hop::Done(take(&slot).map(|f| f())),
        }
    }

    /// Queues `f` on the running loop's pool.
    ///
    /// # Panics
    ///
    /// Outside a running loop, naming `corio::fs::{op}()`.
    #[track_caller]
    pub(crate) fn on_loop(op: &str, f: F) -> Hop<R, F> {
        match current_pool() {
            Some(pool) => Hop::spawn(&pool, f),
            None => panic!(
                "corio::fs::{op}() needs a running event loop, and none is running on this \
                 thread: call it from inside corio::run(...) (or a task it runs)"
            ),
        }
    }
}

impl<R, F: FnOnce() -> R> Future for Hop<R, F> {
    type Output = R;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        let this = self.get_mut();
        match this {
            Hop::Running { join, slot } => match ready!(join.as_mut().poll(cx)) {
                Ok(value) => Poll::Ready(value),
                // The pool dropped the job unrun (no thread could start): run it here.
                Err(payload) => match take(slot) {
                    Some(f) => Poll::Ready(f()),
                    None => panic::resume_unwind(payload),
                },
            },
            Hop::Done(value) => Poll::Ready(
                value
                    .take()
                    .expect("corio::fs: Hop polled after completion"),
            ),
        }
    }
}

/// The running loop's pool, if a loop runs on this thread.
pub(crate) fn current_pool() -> Option<BlockingPool> {
    context::try_with(|handle| handle.map(|handle| handle.shared.blocking.clone()))
}

fn take<F>(slot: &Mutex<Option<F>>) -> Option<F> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).take()
}

/// Runs `f(path)` on the running loop's pool; an error names `corio::fs::{op}` and the path.
///
/// # Panics
///
/// Outside a running loop.
pub(crate) async fn with_path<R, F>(op: &'static str, path: &Path, f: F) -> io::Result<R>
where
    F: FnOnce(&Path) -> io::Result<R> + Send + 'static,
    R: Send + 'static,
{
    let owned = path.to_path_buf();
    let result = Hop::on_loop(op, move || f(&owned)).await;
    result.map_err(|e| path_error(op, &path.display(), e))
}

/// Like [`with_path`] for the operations on two paths (`rename`, `copy`, `hard_link`).
pub(crate) async fn with_paths<R, F>(
    op: &'static str,
    from: &Path,
    to: &Path,
    f: F,
) -> io::Result<R>
where
    F: FnOnce(&Path, &Path) -> io::Result<R> + Send + 'static,
    R: Send + 'static,
{
    let (from_owned, to_owned) = (from.to_path_buf(), to.to_path_buf());
    let result = Hop::on_loop(op, move || f(&from_owned, &to_owned)).await;
    result.map_err(|e| {
        let paths = format!("{} -> {}", from.display(), to.display());
        path_error(op, &paths, e)
    })
}

/// `error`, its message prefixed with `corio::fs::{op}({path}): `, its kind kept.
pub(crate) fn path_error(op: &str, path: &dyn fmt::Display, error: io::Error) -> io::Error {
    io::Error::new(
        error.kind(),
        PathError {
            context: format!("corio::fs::{op}({path})"),
            source: error,
        },
    )
}

/// An IO error with the operation and path it happened to; `source()` is the
/// original error (with its `raw_os_error`).
#[derive(Debug)]
struct PathError {
    context: String,
    source: io::Error,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.context, self.source)
    }
}

impl std::error::Error for PathError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}
