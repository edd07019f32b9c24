//! Which task a log line names, through `corio::run`: a line carries only
//! the spans its future is in (no per-poll `task` span by default, so none
//! can name the wrong task), and a formatter that prints
//! `corio::current_task()` names the task that wrote it, through nested
//! spawns, a span made in the task that runs it (what `#[instrument]` on an
//! `async fn` does: `corio-executor/tests/executor/spans.rs` uses the real
//! macro) and `.in_current_span()`.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use corio::TaskId;
use tracing::{Instrument, Subscriber};
use tracing_subscriber::fmt::format::{DefaultFields, Format, Full, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Prefixes each line with the task polling when it was written (the
/// `corio::debug` module docs show the same formatter).
struct TaskPrefix(Format<Full, ()>);

impl<S, N> FormatEvent<S, N> for TaskPrefix
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        if let Some(task) = corio::current_task() {
            write!(writer, "[task {}", task.id().as_u64())?;
            if let Some(name) = task.name() {
                write!(writer, " {name:?}")?;
            }
            write!(writer, "] ")?;
        }
        self.0.format_event(ctx, writer, event)
    }
}

/// A `tracing` writer that appends to a shared buffer.
#[derive(Clone, Default)]
struct Output(Arc<Mutex<String>>);

impl std::io::Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap()
            .write_str(&String::from_utf8_lossy(buf))
            .unwrap();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Output {
    /// The one line whose message is `text`.
    fn line(&self, text: &str) -> String {
        let all = self.0.lock().unwrap();
        let suffix = format!(": {text}");
        let found: Vec<&str> = all.lines().filter(|l| l.ends_with(&suffix)).collect();
        assert_eq!(found.len(), 1, "{text:?} in:\n{all}");
        found[0].to_owned()
    }
}

struct Ids {
    parent: TaskId,
    child: TaskId,
    grandchild: TaskId,
    instrumented: TaskId,
    in_current: TaskId,
}

fn id() -> TaskId {
    corio::current_task().unwrap().id()
}

/// A request handler (the main task) that spawns a plain child (which spawns
/// a grandchild), a future that makes its own span when first polled, and an
/// `.in_current_span()` future.
async fn handler() -> Ids {
    let request = tracing::info_span!("request", path = "/orders");
    async {
        tracing::info!("parent line");
        let child = corio::task::Builder::new().name("child").create(async {
            tracing::info!("child line");
            let grandchild = corio::create_task(async {
                tracing::info!("grandchild line");
                id()
            });
            (id(), grandchild.await.unwrap())
        });
        let instrumented = corio::create_task(async {
            let span = tracing::info_span!("process_order", order = 7);
            async {
                tracing::info!("processing line");
                id()
            }
            .instrument(span)
            .await
        });
        let in_current = corio::create_task(
            async {
                tracing::info!("in current span line");
                id()
            }
            .in_current_span(),
        );
        let (child, grandchild) = child.await.unwrap();
        Ids {
            parent: id(),
            child,
            grandchild,
            instrumented: instrumented.await.unwrap(),
            in_current: in_current.await.unwrap(),
        }
    }
    .instrument(request)
    .await
}

#[test]
fn every_line_names_the_task_that_wrote_it() {
    let output = Output::default();
    let writer = output.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .event_format(TaskPrefix(Format::default().without_time()))
        .fmt_fields(DefaultFields::new())
        .finish();
    let ids = crate::common::with_scoped_subscriber(subscriber, || corio::run(handler()));

    let expect = |text: &str, task: TaskId, name: Option<&str>, spans: &str| {
        let line = output.line(text);
        let prefix = match name {
            Some(name) => format!("[task {} {name:?}] ", task.as_u64()),
            None => format!("[task {}] ", task.as_u64()),
        };
        assert!(line.starts_with(&prefix), "{line}: expected {prefix}");
        assert!(
            line.contains(&format!(" INFO {spans}")),
            "{line}: expected {spans}"
        );
        assert!(!line.contains("task{"), "no task span: {line}");
    };
    expect(
        "parent line",
        ids.parent,
        None,
        "request{path=\"/orders\"}: ",
    );
    expect("child line", ids.child, Some("child"), "");
    expect("grandchild line", ids.grandchild, None, "");
    expect(
        "processing line",
        ids.instrumented,
        None,
        "process_order{order=7}: ",
    );
    // The future belongs to the request (its span says so); the prefix says
    // which task ran it.
    expect(
        "in current span line",
        ids.in_current,
        None,
        "request{path=\"/orders\"}: ",
    );
    let distinct: std::collections::HashSet<_> = [
        ids.parent,
        ids.child,
        ids.grandchild,
        ids.instrumented,
        ids.in_current,
    ]
    .into();
    assert_eq!(distinct.len(), 5);
}

#[test]
fn lines_outside_tasks_have_no_prefix() {
    let output = Output::default();
    let writer = output.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .event_format(TaskPrefix(Format::default().without_time()))
        .finish();
    crate::common::with_scoped_subscriber(subscriber, || {
        tracing::info!("before the loop");
        corio::run(async {});
        tracing::info!("after the loop");
    });
    assert!(!output.line("before the loop").starts_with('['));
    assert!(!output.line("after the loop").starts_with('['));
}

/// `Runner::builder().task_spans(true)`: a task's lines carry its one
/// `task{id=..}` span, with no parent (so never the creator's); off (the
/// default), no task span at all.
#[test]
fn runner_task_spans_put_each_task_in_its_own_span_only_when_asked() {
    for on in [false, true] {
        let output = Output::default();
        let writer = output.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .finish();
        let (parent, child) = crate::common::with_scoped_subscriber(subscriber, || {
            let mut runner = corio::Runner::builder().task_spans(on).build().unwrap();
            let ids = runner.run(async {
                let child = corio::create_task(async {
                    tracing::info!("child line");
                    id()
                });
                (id(), child.await.unwrap())
            });
            runner.close();
            ids
        });
        let line = output.line("child line");
        let child_span = format!("task{{id={}", child.as_u64());
        let parent_span = format!("task{{id={}", parent.as_u64());
        assert_eq!(line.contains(&child_span), on, "{line}");
        assert!(!line.contains(&parent_span), "{line}");
    }
}
