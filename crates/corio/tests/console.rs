//! Separate binary: built only with the `console` feature; as a module of tests/corio/ it would
//! make CI compile that whole binary once more for the feature (measured: +10 s on 2 cores).
//!
//! (Feature `console`.) The tokio-console schema: a hand-written `Layer`
//! records what console-subscriber 0.5 would look at (spans named
//! `runtime.spawn` and their fields, enters, exits and closes, and events
//! with target `runtime::waker`), and the tests check it field by field, with
//! the value types console-subscriber's visitors expect (`loc.line` as u64,
//! `loc.file` and `op` as str, the waker's `task.id` as u64).
//!
//! Run with `cargo test -p corio --features console --test console`.

#![cfg(feature = "console")]

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use corio::sync::Event;
use tracing::field::{Field, Visit};
use tracing::span;
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// A field value, tagged with the `Visit` method that recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    U64(u64),
    Str(String),
    /// `record_debug` (how `%value` fields arrive), formatted.
    Debug(String),
    Other(String),
}

#[derive(Default)]
struct Fields(HashMap<&'static str, Value>);

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name(), Value::U64(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), Value::Str(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name(), Value::Other(value.to_string()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name(), Value::Other(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name(), Value::Debug(format!("{value:?}")));
    }
}

/// One `runtime.spawn` span.
#[derive(Clone, Debug)]
struct SpanRecord {
    /// The span's tracing id (the registry reuses ids once a span closes).
    id: u64,
    target: &'static str,
    root: bool,
    fields: HashMap<&'static str, Value>,
    enters: usize,
    exits: usize,
    closed: bool,
}

impl SpanRecord {
    fn name(&self) -> &Value {
        &self.fields["task.name"]
    }
}

/// One `runtime::waker` event.
#[derive(Clone, Debug)]
struct WakerEvent {
    op: Value,
    task_id: Value,
}

#[derive(Default)]
struct Recorded {
    spans: Vec<SpanRecord>,
    wakers: Vec<WakerEvent>,
}

impl Recorded {
    /// The live (not yet closed) span with tracing id `id`.
    fn live(&mut self, id: &span::Id) -> Option<&mut SpanRecord> {
        let id = id.into_u64();
        self.spans
            .iter_mut()
            .rev()
            .find(|span| span.id == id && !span.closed)
    }

    fn task(&self, name: &str) -> SpanRecord {
        let name = Value::Debug(name.to_owned());
        let found: Vec<_> = self.spans.iter().filter(|s| *s.name() == name).collect();
        assert_eq!(found.len(), 1, "one span for task {name:?}: {found:?}");
        found[0].clone()
    }

    fn wakes_of(&self, span: &SpanRecord) -> Vec<String> {
        self.wakers
            .iter()
            .filter(|event| event.task_id == Value::U64(span.id))
            .map(|event| match &event.op {
                Value::Str(op) => op.clone(),
                other => panic!("op is recorded as a str, not {other:?}"),
            })
            .collect()
    }
}

/// Records what console-subscriber reads.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Recorded>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, _: Context<'_, S>) {
        let meta = attrs.metadata();
        if meta.name() != "runtime.spawn" {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        self.0.lock().unwrap().spans.push(SpanRecord {
            id: id.into_u64(),
            target: meta.target(),
            root: attrs.is_root(),
            fields: fields.0,
            enters: 0,
            exits: 0,
            closed: false,
        });
    }

    fn on_enter(&self, id: &span::Id, _: Context<'_, S>) {
        if let Some(span) = self.0.lock().unwrap().live(id) {
            span.enters += 1;
        }
    }

    fn on_exit(&self, id: &span::Id, _: Context<'_, S>) {
        if let Some(span) = self.0.lock().unwrap().live(id) {
            span.exits += 1;
        }
    }

    fn on_close(&self, id: span::Id, _: Context<'_, S>) {
        if let Some(span) = self.0.lock().unwrap().live(&id) {
            span.closed = true;
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "runtime::waker" {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut take = |name| {
            fields
                .0
                .remove(name)
                .unwrap_or(Value::Other("missing".into()))
        };
        let op = take("op");
        let task_id = take("task.id");
        self.0
            .lock()
            .unwrap()
            .wakers
            .push(WakerEvent { op, task_id });
    }
}

fn str_value(s: &str) -> Value {
    Value::Str(s.to_owned())
}

fn debug_value(s: &str) -> Value {
    Value::Debug(s.to_owned())
}

/// Without a subscriber (the spans are disabled), tasks run as usual.
fn without_a_subscriber() {
    let total = corio::run(async {
        let a = corio::create_task(async { 1 });
        let b = corio::create_local_task(async {
            corio::task::yield_now().await;
            2
        });
        a.await.unwrap() + b.await.unwrap()
    });
    assert_eq!(total, 3);
}

// One test, so that nothing runs beside it: `tracing` caches each callsite's
// interest globally, and a test running tasks with no subscriber on another
// thread can race with the rebuild of that cache when this one installs its
// subscriber, leaving a callsite off.
#[test]
fn tasks_emit_the_console_schema() {
    without_a_subscriber();

    let recorder = Recorder::default();
    let subscriber = tracing_subscriber::registry().with(recorder.clone());
    let recorded = &recorder.0;

    let (waiter_line, waiter_id, forever_id) =
        tracing::subscriber::with_default(subscriber, || {
            corio::run(async {
                let event = Arc::new(Event::new());
                let wait_for = event.clone();
                let builder = corio::task::Builder::new().name("waiter");
                let waiter_line = line!() + 1;
                let waiter = builder.create(async move {
                    wait_for.wait().await;
                    7
                });
                let forever = corio::task::Builder::new()
                    .name("forever")
                    .create_local(std::future::pending::<()>());
                // Both run once and wait.
                corio::task::yield_now().await;
                {
                    let recorded = recorded.lock().unwrap();
                    let waiter = recorded.task("waiter");
                    assert!(!waiter.closed, "the span lives while the task does");
                    assert_eq!((waiter.enters, waiter.exits), (1, 1));
                    // `Event::wait` keeps a clone of the waker.
                    assert_eq!(recorded.wakes_of(&waiter), ["waker.clone"]);
                }
                // Another task wakes the waiter.
                let setter = corio::task::Builder::new()
                    .name("setter")
                    .create(async move { event.set() });
                setter.await.unwrap();
                let waiter_id = waiter.id();
                assert_eq!(waiter.await.unwrap(), 7);

                // A cancelled task's span closes when its future is dropped.
                forever.cancel();
                corio::task::yield_now().await;
                assert!(recorded.lock().unwrap().task("forever").closed);
                (waiter_line, waiter_id, forever.id())
            })
        });

    let recorded = recorded.lock().unwrap();
    let waiter = recorded.task("waiter");
    assert_eq!(waiter.target, corio_executor::CONSOLE_SPAN_TARGET);
    assert!(waiter.root, "a task span has no parent");
    assert_eq!(waiter.fields["kind"], debug_value("task"));
    assert_eq!(waiter.fields["task.id"], Value::U64(waiter_id.as_u64()));
    assert_eq!(waiter.fields["loc.file"], str_value(file!()));
    assert_eq!(
        waiter.fields["loc.line"],
        Value::U64(u64::from(waiter_line))
    );
    assert!(matches!(waiter.fields["loc.col"], Value::U64(col) if col > 0));
    // Polled twice (wait, then woken), each poll entered and exited, and
    // closed once the task finished.
    assert_eq!((waiter.enters, waiter.exits), (2, 2));
    assert!(waiter.closed);
    // The set woke the waker the event held: by value (a wake) or by
    // reference and then a drop; either way, keyed by the span's id.
    let ops = recorded.wakes_of(&waiter);
    assert_eq!(ops[0], "waker.clone");
    assert!(
        ops[1..] == ["waker.wake"] || ops[1..] == ["waker.wake_by_ref", "waker.drop"],
        "{ops:?}"
    );

    let forever = recorded.task("forever");
    assert_eq!(forever.fields["kind"], debug_value("local"));
    assert_eq!(forever.fields["task.id"], Value::U64(forever_id.as_u64()));
    assert!(forever.closed);

    // `run`'s main future is a task too; every span is closed.
    let main: Vec<_> = recorded
        .spans
        .iter()
        .filter(|s| s.fields["kind"] == debug_value("block_on"))
        .collect();
    assert_eq!(main.len(), 1, "{:?}", recorded.spans);
    assert!(recorded
        .spans
        .iter()
        .all(|s| s.closed && s.enters == s.exits));
}
