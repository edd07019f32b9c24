//! Which task a log line names, on the `LocalExecutor` and the
//! multi-threaded `Executor`, through nested spawns, `#[instrument]` and
//! `.in_current_span()`; and the opt-in per-task spans themselves (one span
//! per task, entered per poll, none for hidden tasks, closed with the task).
//!
//! A capturing `Layer` records, for every event, the scope a `fmt`
//! subscriber would print (the innermost span's lineage, root first; a task
//! span as `task{ID}`) and the task polling at that moment (the writer).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use corio_executor::{
    current_task_id, Builder, Executor, LocalExecutor, Spawner, ThreadPark, TASK_SPAN_TARGET,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Instrument, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// One event: its message, the scope a formatter prints, and the task that
/// was being polled when it was written.
#[derive(Clone, Debug)]
struct Line {
    message: String,
    scope: Vec<String>,
    writer: Option<u64>,
}

/// A span's label: `task{ID}` for task spans, else its name.
struct Label(String);

#[derive(Default)]
struct Captured {
    lines: Vec<Line>,
    /// Per span label: how many were opened, entered, closed.
    opened: HashMap<String, usize>,
    entered: HashMap<String, usize>,
    closed: HashMap<String, usize>,
    /// Task spans that had a parent.
    parented: Vec<String>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Captured>>);

struct Fields {
    id: Option<u64>,
    message: String,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "id" {
            self.id = Some(value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let span = ctx.span(id).expect("a new span is registered");
        let mut fields = Fields {
            id: None,
            message: String::new(),
        };
        attrs.record(&mut fields);
        let label = match (span.name(), fields.id) {
            ("task", Some(id)) => format!("task{{{id}}}"),
            (name, _) => name.to_owned(),
        };
        let mut captured = self.0.lock().unwrap();
        *captured.opened.entry(label.clone()).or_default() += 1;
        if span.name() == "task" && span.parent().is_some() {
            captured.parented.push(label.clone());
        }
        span.extensions_mut().insert(Label(label));
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let label = ctx
            .span(id)
            .unwrap()
            .extensions()
            .get::<Label>()
            .unwrap()
            .0
            .clone();
        *self.0.lock().unwrap().entered.entry(label).or_default() += 1;
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let label = ctx
            .span(&id)
            .unwrap()
            .extensions()
            .get::<Label>()
            .unwrap()
            .0
            .clone();
        *self.0.lock().unwrap().closed.entry(label).or_default() += 1;
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields {
            id: None,
            message: String::new(),
        };
        event.record(&mut fields);
        let scope = ctx.event_scope(event).map_or_else(Vec::new, |scope| {
            scope
                .from_root()
                .map(|span| span.extensions().get::<Label>().unwrap().0.clone())
                .collect()
        });
        self.0.lock().unwrap().lines.push(Line {
            message: fields.message,
            scope,
            writer: current_task_id().map(|id| id.as_u64()),
        });
    }
}

impl Capture {
    /// The one line with `message`.
    fn line(&self, message: &str) -> Line {
        let captured = self.0.lock().unwrap();
        let found: Vec<&Line> = captured
            .lines
            .iter()
            .filter(|l| l.message == message)
            .collect();
        assert_eq!(found.len(), 1, "{message:?} in {:?}", captured.lines);
        found[0].clone()
    }
}

/// `#[instrument]` on an `async fn` creates its span when the future is
/// first polled (tracing-attributes 0.1), so inside the task that runs it.
#[tracing::instrument]
async fn process_order(order: u64) -> Option<u64> {
    tracing::info!("processing");
    current_task_id().map(|id| id.as_u64())
}

/// The ids of the tasks of [`scenario`].
#[derive(Debug)]
struct Ids {
    parent: u64,
    child: u64,
    grandchild: u64,
    instrumented: u64,
    in_current: u64,
}

/// A request handler (the parent task) that spawns: a plain child that
/// spawns a grandchild, an `#[instrument]`ed call, and an
/// `.in_current_span()` future.
async fn scenario(spawner: Spawner) -> Ids {
    let request = tracing::info_span!("request", path = "/orders");
    async move {
        tracing::info!("parent");
        let parent = current_task_id().unwrap().as_u64();
        let inner = spawner.clone();
        let child = spawner.spawn(async move {
            tracing::info!("child");
            let grandchild = inner.spawn(async {
                tracing::info!("grandchild");
                current_task_id().unwrap().as_u64()
            });
            (
                current_task_id().unwrap().as_u64(),
                grandchild.await.unwrap(),
            )
        });
        let instrumented = spawner.spawn(process_order(7));
        let in_current = spawner.spawn(
            async {
                tracing::info!("in current span");
                current_task_id().unwrap().as_u64()
            }
            .in_current_span(),
        );
        let (child, grandchild) = child.await.unwrap();
        Ids {
            parent,
            child,
            grandchild,
            instrumented: instrumented.await.unwrap().unwrap(),
            in_current: in_current.await.unwrap(),
        }
    }
    .instrument(request)
    .await
}

/// The capture, blind to the `console` feature's `runtime.spawn` spans
/// (tokio-console's schema; `corio/tests/console.rs` checks those).
fn without_console<S>(capture: &Capture) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let filter = tracing_subscriber::filter::filter_fn(|meta| meta.name() != "runtime.spawn");
    capture.clone().with_filter(filter)
}

fn on_local(task_spans: bool) -> (Capture, Ids) {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(without_console(&capture));
    let ids = crate::common::with_scoped_subscriber(subscriber, || {
        let ex = LocalExecutor::new();
        ex.set_task_spans(task_spans);
        let main = ex.spawn(scenario(ex.spawner()));
        ex.block_on(main, &mut ThreadPark).unwrap()
    });
    (capture, ids)
}

fn on_workers(task_spans: bool) -> (Capture, Ids) {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(without_console(&capture));
    let ids = crate::common::with_scoped_subscriber(subscriber, || {
        // Worker threads log into the same capture.
        let dispatch = tracing::dispatcher::get_default(|d| d.clone());
        let ex = Executor::builder()
            .workers(2)
            .task_spans(task_spans)
            .wrap_worker(move |_, run| tracing::dispatcher::with_default(&dispatch, run))
            .build()
            .unwrap();
        let main = ex.spawn(scenario(ex.spawner()));
        let ids = ex.block_on(main).unwrap();
        ex.close();
        ids
    });
    (capture, ids)
}

/// By default no line carries a task span: each carries exactly the spans
/// its future is in, and the writer is the task polling at that moment.
fn check_default(capture: &Capture, ids: &Ids) {
    let expect = |message: &str, scope: &[&str], writer: u64| {
        let line = capture.line(message);
        assert_eq!(line.scope, scope, "{message}: {line:?}");
        assert_eq!(line.writer, Some(writer), "{message}: {line:?} {ids:?}");
    };
    expect("parent", &["request"], ids.parent);
    expect("child", &[], ids.child);
    expect("grandchild", &[], ids.grandchild);
    expect("processing", &["process_order"], ids.instrumented);
    expect("in current span", &["request"], ids.in_current);
    assert!(capture
        .0
        .lock()
        .unwrap()
        .opened
        .keys()
        .all(|l| !l.starts_with("task")));
}

/// With task spans on: a task's own lines carry its span and no other (the
/// spans have no parent, so a child's span is no child of its spawner's),
/// `#[instrument]`'s span included (made at the first poll, in the task
/// that runs it); but a future `.in_current_span()`ed inside the parent
/// keeps its lineage, the parent's task span, wherever it runs: there the
/// writer is the current task, not that span.
fn check_task_spans(capture: &Capture, ids: &Ids) {
    let task = |id: u64| format!("task{{{id}}}");
    let expect = |message: &str, scope: &[String], writer: u64| {
        let line = capture.line(message);
        assert_eq!(line.scope, scope, "{message}: {line:?}");
        assert_eq!(line.writer, Some(writer), "{message}: {line:?} {ids:?}");
    };
    let parent = task(ids.parent);
    let request = "request".to_owned();
    expect("parent", &[parent.clone(), request.clone()], ids.parent);
    expect("child", &[task(ids.child)], ids.child);
    expect("grandchild", &[task(ids.grandchild)], ids.grandchild);
    let instrumented = [task(ids.instrumented), "process_order".to_owned()];
    expect("processing", &instrumented, ids.instrumented);
    expect("in current span", &[parent, request], ids.in_current);
    let captured = capture.0.lock().unwrap();
    assert!(captured.parented.is_empty(), "{:?}", captured.parented);
    // One span per task, closed once the task is done.
    for id in [ids.parent, ids.child, ids.grandchild, ids.instrumented] {
        assert_eq!(captured.opened.get(&task(id)), Some(&1), "{id}");
        assert_eq!(captured.closed.get(&task(id)), Some(&1), "{id}");
    }
}

#[test]
fn local_lines_carry_only_their_own_spans_by_default() {
    let (capture, ids) = on_local(false);
    check_default(&capture, &ids);
}

#[test]
fn local_task_spans_have_no_parent() {
    let (capture, ids) = on_local(true);
    check_task_spans(&capture, &ids);
}

#[test]
fn workers_lines_carry_only_their_own_spans_by_default() {
    let (capture, ids) = on_workers(false);
    check_default(&capture, &ids);
}

#[test]
fn workers_task_spans_have_no_parent() {
    let (capture, ids) = on_workers(true);
    check_task_spans(&capture, &ids);
}

/// Returns `Pending` `n` times, waking itself.
async fn yield_times(n: usize) {
    for _ in 0..n {
        let mut yielded = false;
        std::future::poll_fn(|cx| {
            if std::mem::replace(&mut yielded, true) {
                return std::task::Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        })
        .await;
    }
}

#[test]
fn one_span_per_task_entered_per_poll_none_when_hidden_or_filtered() {
    let run = |filtered: bool| {
        let capture = Capture::default();
        let filter = tracing_subscriber::filter::filter_fn(move |meta| {
            meta.name() != "runtime.spawn" && !(filtered && meta.target() == TASK_SPAN_TARGET)
        });
        let subscriber = tracing_subscriber::registry().with(capture.clone().with_filter(filter));
        let ids = crate::common::with_scoped_subscriber(subscriber, || {
            let ex = LocalExecutor::new();
            ex.set_task_spans(true);
            let named = ex.spawn_local_with(Builder::new().name("worker"), yield_times(2));
            let hidden = ex.spawn_local_with(Builder::new().hidden(true), yield_times(2));
            let ids = [named.id(), hidden.id()].map(|id| id.as_u64());
            ex.block_on(
                async {
                    named.await.unwrap();
                    hidden.await.unwrap();
                },
                &mut ThreadPark,
            );
            ids
        });
        (capture, ids)
    };
    let (capture, [named, hidden]) = run(false);
    let captured = capture.0.lock().unwrap();
    let key = |id: u64| format!("task{{{id}}}");
    assert_eq!(captured.opened.get(&key(named)), Some(&1), "created once");
    assert_eq!(
        captured.entered.get(&key(named)),
        Some(&3),
        "entered per poll"
    );
    assert_eq!(captured.closed.get(&key(named)), Some(&1));
    assert_eq!(captured.opened.get(&key(hidden)), None, "hidden: no span");
    drop(captured);

    let (capture, _) = run(true);
    let captured = capture.0.lock().unwrap();
    assert!(
        captured.opened.keys().all(|l| !l.starts_with("task")),
        "{:?}",
        captured.opened
    );
}

#[test]
fn turning_task_spans_off_closes_them() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(without_console(&capture));
    crate::common::with_scoped_subscriber(subscriber, || {
        let ex = LocalExecutor::new();
        ex.set_task_spans(true);
        let waiting = ex.spawn(std::future::pending::<()>());
        ex.run_once();
        let key = format!("task{{{}}}", waiting.id().as_u64());
        assert_eq!(capture.0.lock().unwrap().opened.get(&key), Some(&1));
        ex.set_task_spans(false);
        assert_eq!(capture.0.lock().unwrap().closed.get(&key), Some(&1));
        ex.close();
    });
}
