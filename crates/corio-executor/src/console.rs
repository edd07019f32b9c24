//! (Feature `console`.) tokio-console instrumentation: every visible task
//! gets the `runtime.spawn` span and the waker events console-subscriber
//! reads, so `console_subscriber::init()` shows corio's tasks in
//! tokio-console.
//!
//! The schema (console-subscriber 0.5, `register_callsite`, `on_new_span`,
//! `on_event`, `on_enter`/`on_exit`/`on_close` and `visitors.rs`), mirroring
//! what tokio emits:
//!
//! - a task is a span named `runtime.spawn` (matched by name, whatever the
//!   target; ours is [`CONSOLE_SPAN_TARGET`]), level TRACE, no parent, with
//!   fields `kind` (`task`, `local` or `block_on`), `task.name` (empty when
//!   unnamed), `task.id` (corio's [`TaskId`](crate::TaskId)), `loc.file`,
//!   `loc.line`, `loc.col` (the spawn location);
//! - the span lives as long as the task's future: [`Instrumented`] owns it,
//!   so it closes when the future is dropped (finished or cancelled);
//! - every poll enters and exits it (console's poll count and busy time);
//! - wakers report `waker.clone`, `waker.drop`, `waker.wake` and
//!   `waker.wake_by_ref` as events with target `runtime::waker` and
//!   `task.id` = the span's tracing id (see `raw/console_waker.rs`).
//!
//! Why a wrapper future, set up in `Builder`'s one allocation path (every
//! spawn, local spawn and `block_on` goes through it): the span and the
//! cached waker then live in the task's own allocation, the raw task and its
//! 56-byte header stay exactly as they are, and the whole cost (the span,
//! one `Option<Arc>`, a branch per poll) exists only when the feature is on.
//! When no subscriber wants the span (it has no id), a poll goes straight to
//! the inner future: no enter, no wrapped waker. The wrapped waker is
//! allocated on the first poll with a subscriber and reused while the task's
//! waker `will_wake` the same task (always, on corio's executor), so polls do
//! not allocate. Hidden tasks (loop callbacks) are left out, as in task
//! listings and the per-poll `task` span: one span per `call_soon` would
//! flood the console.

// console-subscriber asserts, when its layer is built, that the build had
// `--cfg tokio_unstable` or `--cfg console_without_tokio_unstable`, and its
// panic blames tokio. corio needs neither, but RUSTFLAGS reach every crate
// of a build alike, so this crate sees the same cfgs: fail the build here,
// first, with a message that names the flag corio needs. Not under rustdoc
// (`doc`, `doctest`: RUSTDOCFLAGS are not RUSTFLAGS; the doctests link the
// library rustc built, checked).
#[allow(unexpected_cfgs)]
mod requires_cfg {
    #[cfg(not(any(tokio_unstable, console_without_tokio_unstable, doc, doctest)))]
    compile_error!(
        "corio's `console` feature needs RUSTFLAGS=\"--cfg console_without_tokio_unstable\" \
         for the whole build (console-subscriber refuses to start without it, or without \
         `--cfg tokio_unstable`, which corio does not need). For example: \
         RUSTFLAGS=\"--cfg console_without_tokio_unstable\" cargo run --features corio/console, \
         or set it once in .cargo/config.toml: [build] rustflags = [\"--cfg\", \"console_without_tokio_unstable\"]"
    );
}

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::raw::console_waker::{waker_ref, ConsoleWaker};
use crate::raw::header::{FLAG_BLOCK_ON, FLAG_HIDDEN, FLAG_LOCAL};
use crate::TaskId;

/// The `tracing` target of the `runtime.spawn` span each task lives in when
/// the `console` feature is on (level TRACE). console-subscriber matches the
/// span by its name, so the target is free; tokio uses `tokio::task`.
pub const CONSOLE_SPAN_TARGET: &str = "corio::console";

pin_project! {
    /// A task's future inside its `runtime.spawn` span.
    pub(crate) struct Instrumented<F> {
        #[pin]
        future: F,
        span: tracing::Span,
        // The task's waker wrapped to report to the console, built on the
        // first instrumented poll and kept while it wakes the same task.
        waker: Option<Arc<ConsoleWaker>>,
    }
}

impl<F> Instrumented<F> {
    /// Wraps a task's future; creates its span (none for hidden tasks).
    pub(crate) fn new(
        future: F,
        id: TaskId,
        name: Option<&str>,
        location: &'static Location<'static>,
        flags: u32,
    ) -> Instrumented<F> {
        Instrumented {
            future,
            span: spawn_span(id, name, location, flags),
            waker: None,
        }
    }
}

/// The task's `runtime.spawn` span; `Span::none()` for hidden tasks.
fn spawn_span(
    id: TaskId,
    name: Option<&str>,
    location: &'static Location<'static>,
    flags: u32,
) -> tracing::Span {
    if flags & FLAG_HIDDEN != 0 {
        return tracing::Span::none();
    }
    let kind = if flags & FLAG_BLOCK_ON != 0 {
        "block_on"
    } else if flags & FLAG_LOCAL != 0 {
        "local"
    } else {
        "task"
    };
    tracing::trace_span!(
        target: CONSOLE_SPAN_TARGET,
        parent: None,
        "runtime.spawn",
        kind = %kind,
        task.name = %name.unwrap_or_default(),
        task.id = id.as_u64(),
        loc.file = location.file(),
        loc.line = location.line(),
        loc.col = location.column(),
    )
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(span_id) = this.span.id() else {
            // No subscriber wanted the span: nothing to report.
            return this.future.poll(cx);
        };
        let _entered = this.span.enter();
        let shared = match this.waker.take() {
            Some(shared) if shared.will_wake(cx.waker()) => shared,
            _ => ConsoleWaker::new(cx.waker().clone(), span_id.into_u64()),
        };
        let waker = waker_ref(this.waker.insert(shared));
        let mut cx = Context::from_waker(&waker);
        this.future.poll(&mut cx)
    }
}
