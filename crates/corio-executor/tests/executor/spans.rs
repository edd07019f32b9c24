//! Every poll of a visible task runs in a `tracing` span `task{id, name}`
//! (INFO, target `corio::task`); hidden tasks get none; a subscriber that
//! filters the target out gets none either, and the tasks run the same.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use corio_executor::{Builder, LocalExecutor, ThreadPark, TASK_SPAN_TARGET};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// What a span was opened with.
#[derive(Debug, Default, Clone, PartialEq)]
struct Opened {
    target: String,
    name: &'static str,
    level: Option<Level>,
    id: Option<u64>,
    task_name: Option<String>,
}

impl Visit for Opened {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "id" {
            self.id = Some(value);
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "name" {
            self.task_name = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

/// Records every span opened; lets the `corio::task` target through or not.
struct Recorder {
    spans: Arc<Mutex<Vec<Opened>>>,
    enters: Arc<AtomicU64>,
    allow_task_spans: bool,
    next: AtomicU64,
}

impl Subscriber for Recorder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // Not the tokio-console spans of the `console` feature (their enters
        // would be counted): this test is about the per-poll `task` spans.
        metadata.name() != "runtime.spawn"
            && (self.allow_task_spans || metadata.target() != TASK_SPAN_TARGET)
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut opened = Opened {
            target: span.metadata().target().to_owned(),
            name: span.metadata().name(),
            level: Some(*span.metadata().level()),
            ..Opened::default()
        };
        span.record(&mut opened);
        self.spans.lock().unwrap().push(opened);
        Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {
        self.enters.fetch_add(1, Ordering::Relaxed);
    }
    fn exit(&self, _: &Id) {}
}

/// Runs a named task (polled twice), an unnamed one and a hidden one under
/// a recorder; returns the spans opened, the enters, and the three ids.
fn record(allow_task_spans: bool) -> (Vec<Opened>, u64, [u64; 3]) {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let enters = Arc::new(AtomicU64::new(0));
    let recorder = Recorder {
        spans: spans.clone(),
        enters: enters.clone(),
        allow_task_spans,
        next: AtomicU64::new(0),
    };
    let ids = crate::common::with_scoped_subscriber(recorder, || {
        let ex = LocalExecutor::new();
        let named = ex.spawn_local_with(Builder::new().name("worker"), async {
            let mut yielded = false;
            std::future::poll_fn(|cx| {
                if yielded {
                    return std::task::Poll::Ready(());
                }
                yielded = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            })
            .await
        });
        let unnamed = ex.spawn(async {});
        let hidden = ex.spawn_local_with(Builder::new().hidden(true), async {});
        let ids = [named.id(), unnamed.id(), hidden.id()].map(|id| id.as_u64());
        ex.block_on(
            async {
                named.await.unwrap();
                unnamed.await.unwrap();
                hidden.await.unwrap();
            },
            &mut ThreadPark,
        );
        ids
    });
    let spans = spans.lock().unwrap().clone();
    (spans, enters.load(Ordering::Relaxed), ids)
}

#[test]
fn polls_run_in_task_spans_unless_hidden_or_filtered_out() {
    let (spans, enters, [named, unnamed, hidden]) = record(true);
    let task_spans: Vec<&Opened> = spans.iter().filter(|s| s.name == "task").collect();
    assert!(task_spans.iter().all(|s| s.target == TASK_SPAN_TARGET));
    assert!(task_spans.iter().all(|s| s.level == Some(Level::INFO)));
    let of = |id| {
        task_spans
            .iter()
            .filter(|s| s.id == Some(id))
            .collect::<Vec<_>>()
    };
    // One span per poll: the named task was polled twice.
    assert_eq!(of(named).len(), 2, "{spans:?}");
    assert!(of(named)
        .iter()
        .all(|s| s.task_name.as_deref() == Some("worker")));
    assert_eq!(of(unnamed).len(), 1);
    assert_eq!(of(unnamed)[0].task_name, None, "no name, no field");
    // The block_on task has spans too; the hidden task has none.
    let ids: Vec<u64> = task_spans.iter().filter_map(|s| s.id).collect();
    assert!(of(hidden).is_empty(), "{spans:?}");
    let others = ids.iter().filter(|&&id| id != named && id != unnamed);
    assert!(others.count() >= 1, "the block_on task's polls");
    assert_eq!(enters, task_spans.len() as u64, "each span entered once");

    // Filtering the target out: no task spans, and the tasks run the same.
    let (spans, enters, _) = record(false);
    assert!(spans.iter().all(|s| s.name != "task"), "{spans:?}");
    assert_eq!(enters, 0);
}
