//! The thread-local "running loop": what `get_running_loop()` answers, and
//! the door every free function (`create_task`, `sleep`, `to_thread`) goes
//! through.

use std::cell::RefCell;

use super::handle::LoopHandle;

thread_local! {
    static RUNNING: RefCell<Option<LoopHandle>> = const { RefCell::new(None) };
}

/// Makes `handle` the running loop of this thread until the guard drops.
///
/// # Panics
///
/// If a loop is already running on this thread, with `message`.
pub(crate) fn enter(handle: &LoopHandle, message: &str) -> EnterGuard {
    RUNNING.with(|running| {
        let mut running = running.borrow_mut();
        if running.is_some() {
            drop(running);
            panic!("{message}");
        }
        *running = Some(handle.clone());
    });
    EnterGuard(None)
}

/// Makes `handle` the running loop of this thread until the guard drops,
/// even if another loop is running here: that one is set aside and restored
/// by the guard. For `EventLoop::close`, which may be called (also from a
/// `Drop` while unwinding) inside another loop's task and must not panic.
pub(crate) fn enter_replacing(handle: &LoopHandle) -> EnterGuard {
    EnterGuard(RUNNING.with(|running| running.borrow_mut().replace(handle.clone())))
}

/// Restores the previous running loop (usually none) when dropped, also
/// while unwinding.
pub(crate) struct EnterGuard(Option<LoopHandle>);

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let ours =
            RUNNING.with(|running| std::mem::replace(&mut *running.borrow_mut(), self.0.take()));
        drop(ours);
    }
}

/// Whether a loop is running on this thread.
pub(crate) fn is_running() -> bool {
    RUNNING.with(|running| running.borrow().is_some())
}

/// Calls `f` with the running loop, or `None`.
#[inline]
pub(crate) fn try_with<R>(f: impl FnOnce(Option<&LoopHandle>) -> R) -> R {
    RUNNING.with(|running| f(running.borrow().as_ref()))
}

/// Calls `f` with the running loop.
///
/// # Panics
///
/// With a message naming `what` and the fix, when no loop is running here.
#[inline]
#[track_caller]
pub(crate) fn with<R>(what: &str, f: impl FnOnce(&LoopHandle) -> R) -> R {
    try_with(|handle| match handle {
        Some(handle) => f(handle),
        None => no_running_loop(what),
    })
}

#[cold]
#[track_caller]
fn no_running_loop(what: &str) -> ! {
    panic!(
        "{what} needs a running event loop, and none is running on this thread: \
         call it from inside corio::run(...) (or a task it runs), or use a LoopHandle \
         from another thread"
    )
}

/// The running loop of this thread (asyncio's `get_running_loop`).
///
/// # Panics
///
/// If no loop is running on this thread: "no running event loop".
#[track_caller]
pub fn get_running_loop() -> LoopHandle {
    try_with(|handle| handle.cloned()).unwrap_or_else(|| {
        panic!(
            "no running event loop: corio::get_running_loop() must be called from inside \
             corio::run(...) or a task it runs; use try_get_running_loop() to check"
        )
    })
}

/// The running loop of this thread, or `None` if none runs here.
pub fn try_get_running_loop() -> Option<LoopHandle> {
    try_with(|handle| handle.cloned())
}

/// The running loop's reactor, for IO types that register with it.
///
/// # Panics
///
/// With a message naming `what` and the fix, when no loop is running here.
#[track_caller]
pub(crate) fn reactor(what: &str) -> std::sync::Arc<corio_reactor::Reactor> {
    with(what, |handle| handle.shared.reactor.clone())
}
