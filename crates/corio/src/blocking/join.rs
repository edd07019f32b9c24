//! The one-shot result slot between a blocking job and the future awaiting
//! it: the worker side ([`Completer`]) fills it once, with the job's result,
//! its panic payload, or (if the job is dropped unrun) an error payload; the
//! async side ([`BlockingJoin`]) takes it. Dropping the join discards the
//! result when it arrives.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;

use super::lock;

/// A new one-shot: the half the job completes, and the future that awaits it.
pub(super) fn pair<R>() -> (Completer<R>, BlockingJoin<R>) {
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        waker: None,
        taken: false,
    }));
    (
        Completer {
            slot: Some(slot.clone()),
        },
        BlockingJoin { slot },
    )
}

struct Slot<R> {
    result: Option<thread::Result<R>>,
    waker: Option<Waker>,
    /// The result was handed out by `poll`.
    taken: bool,
}

/// Worker-side half of the one-shot. If dropped without completing (the job
/// never ran), it resolves the join with an error payload.
pub(super) struct Completer<R> {
    slot: Option<Arc<Mutex<Slot<R>>>>,
}

impl<R> Completer<R> {
    pub(super) fn complete(mut self, result: thread::Result<R>) {
        if let Some(slot) = self.slot.take() {
            fill(&slot, result);
        }
    }
}

impl<R> Drop for Completer<R> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            fill(
                &slot,
                Err(Box::new("corio: blocking job was dropped before it ran")),
            );
        }
    }
}

fn fill<R>(slot: &Mutex<Slot<R>>, result: thread::Result<R>) {
    let waker = {
        let mut s = lock(slot);
        s.result = Some(result);
        s.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Future resolving to the job's result once it finished: `Ok(value)`, or
/// `Err(payload)` if the job panicked.
///
/// Dropping it does not stop the job (threads cannot be cancelled, as in
/// asyncio); the result is then discarded.
pub(crate) struct BlockingJoin<R> {
    slot: Arc<Mutex<Slot<R>>>,
}

impl<R> Future for BlockingJoin<R> {
    type Output = thread::Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = lock(&self.slot);
        if let Some(result) = s.result.take() {
            s.taken = true;
            return Poll::Ready(result);
        }
        assert!(!s.taken, "BlockingJoin polled after completion");
        match &mut s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            w => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<R> fmt::Debug for BlockingJoin<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = lock(&self.slot);
        f.debug_struct("BlockingJoin")
            .field("finished", &(s.result.is_some() || s.taken))
            .finish()
    }
}
