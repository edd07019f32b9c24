//! Helpers shared by the facade's behaviour tests.

#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Sets its flag when dropped: shows that a task's future was dropped.
pub(crate) struct SetOnDrop(pub(crate) Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A fresh, unset flag.
pub(crate) fn flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

/// Runs `f` with `subscriber` as this thread's default, robustly against the
/// other tests of the binary running on other threads.
///
/// `tracing` caches each callsite's interest process-wide. While only one
/// dispatcher is registered, a callsite first hit on another thread (one
/// with no subscriber) caches "never" for everyone, so an event this test
/// waits for may silently never reach `subscriber`. A second, idle
/// dispatcher kept alive for the whole process makes every cached interest
/// the combination of all registered dispatchers ("sometimes"), and each
/// thread's own dispatcher then decides per call.
pub(crate) fn with_scoped_subscriber<S, R>(subscriber: S, f: impl FnOnce() -> R) -> R
where
    S: tracing::Subscriber + Send + Sync + 'static,
{
    keep_a_second_dispatcher();
    tracing::subscriber::with_default(subscriber, f)
}

/// See [`with_scoped_subscriber`]: call before installing a scoped subscriber.
pub(crate) fn keep_a_second_dispatcher() {
    static IDLE: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    IDLE.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
}
