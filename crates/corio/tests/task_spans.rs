//! Separate binary: it installs a global `tracing` subscriber, which would capture every other
//! test's events and spans in a shared binary (and a scoped one races in `tracing-core`, below).
//!
//! The `task{id=.. name=..}` span every task poll runs in: events logged inside a task carry it,
//! events outside tasks and in loop callbacks do not.

use std::io::Write;
use std::sync::{Arc, Mutex};

use corio::task::Builder;

/// A `tracing` writer that appends to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything the fmt subscriber of this test binary wrote.
///
/// The subscriber is global (installed once), not scoped with `with_default`:
/// the task-span callsite is hit by every test's threads at once, and a
/// scoped dispatcher registering while another thread registers that
/// callsite can leave the callsite's cached interest stale (a race inside
/// `tracing-core`); with one global dispatcher there is nothing to race.
/// Tests find their own lines by unique messages.
fn captured() -> &'static Captured {
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        captured
    })
}

/// Runs `f` with the default fmt subscriber (INFO) installed; returns the
/// captured output so far.
fn capture(f: impl FnOnce()) -> String {
    let captured = captured();
    f();
    let text = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    text
}

/// The one captured line that contains `text`.
fn line_with(output: &str, text: &str) -> String {
    output
        .lines()
        .find(|line| line.contains(text))
        .unwrap_or_else(|| panic!("{text:?} logged: {output}"))
        .to_owned()
}

#[test]
fn an_event_logged_inside_a_task_carries_the_task_span() {
    let ids = Arc::new(Mutex::new(Vec::new()));
    let seen = ids.clone();
    let output = capture(move || {
        corio::run(async move {
            let worker = Builder::new().name("worker").create(async {
                tracing::info!(target: "corio_test", "hello from the worker");
            });
            let unnamed = corio::create_task(async {
                tracing::info!(target: "corio_test", "hello from nobody");
            });
            seen.lock().unwrap().extend([worker.id(), unnamed.id()]);
            worker.await.unwrap();
            unnamed.await.unwrap();
            corio::get_running_loop().call_soon(|| {
                tracing::info!(target: "corio_test", "hello from a callback");
            });
            corio::yield_now().await;
        });
    });
    let ids = ids.lock().unwrap();
    let line = |text: &str| line_with(&output, text);
    let worker = line("hello from the worker");
    assert!(
        worker.contains(&format!(
            "INFO task{{id={} name=\"worker\"}}: corio_test:",
            ids[0].as_u64()
        )),
        "{worker}"
    );
    let unnamed = line("hello from nobody");
    assert!(
        unnamed.contains(&format!("INFO task{{id={}}}: corio_test:", ids[1].as_u64())),
        "{unnamed}"
    );
    // Callbacks are not tasks to the user: no span.
    let callback = line("hello from a callback");
    assert!(!callback.contains("task{"), "{callback}");
}

#[test]
fn events_outside_tasks_carry_no_task_span() {
    let output = capture(|| {
        tracing::info!(target: "corio_test", "before the loop");
        corio::run(async {});
        tracing::info!(target: "corio_test", "after the loop");
    });
    assert!(!line_with(&output, "before the loop").contains("task{"));
    assert!(!line_with(&output, "after the loop").contains("task{"));
}
