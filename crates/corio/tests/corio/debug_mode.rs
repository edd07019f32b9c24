//! Debug mode (`Builder::debug(true)` / `CORIO_DEBUG=1`): what it reports
//! through `tracing`, captured with a test subscriber.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Runs `f` with a subscriber that captures every event as text.
fn capture(f: impl FnOnce()) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    crate::common::with_scoped_subscriber(subscriber, f);
    captured.text()
}

#[test]
fn tasks_still_pending_at_close_are_reported_with_name_and_location() {
    let output = capture(|| {
        let mut runner = corio::Runner::builder().debug(true).build().unwrap();
        runner.run(async {
            corio::task::Builder::new()
                .name("forgotten")
                .create(corio::sleep(Duration::from_secs(3600)));
            corio::yield_now().await;
        });
        runner.close();
    });
    assert!(output.contains("task destroyed while pending"), "{output}");
    assert!(output.contains("'forgotten'"), "{output}");
    assert!(
        output.contains("debug_mode.rs"),
        "the spawn location is named: {output}"
    );
}

#[test]
fn nothing_is_reported_when_debug_mode_is_off_or_nothing_is_pending() {
    let output = capture(|| {
        corio::Runner::builder()
            .debug(false)
            .build()
            .unwrap()
            .run(async {
                corio::create_task(corio::sleep(Duration::from_secs(3600)));
            });
        let mut runner = corio::Runner::builder().debug(true).build().unwrap();
        runner.run(async { corio::create_task(async {}).await.unwrap() });
        runner.close();
    });
    assert!(!output.contains("task destroyed while pending"), "{output}");
}

#[test]
fn a_slow_callback_is_reported_in_debug_mode() {
    let output = capture(|| {
        let mut runner = corio::Runner::builder()
            .debug(true)
            .slow_poll_threshold(Duration::from_millis(20))
            .build()
            .unwrap();
        runner.run(async {
            corio::get_running_loop().call_soon(|| std::thread::sleep(Duration::from_millis(40)));
            corio::sleep(Duration::from_millis(5)).await;
        });
    });
    assert!(output.contains("blocked the event loop"), "{output}");
}

#[test]
fn a_task_that_blocks_the_loop_is_reported_with_its_name_and_location() {
    let output = capture(|| {
        let mut runner = corio::Runner::builder().debug(true).build().unwrap();
        runner.run(async {
            let blocker = corio::task::Builder::new().name("blocker").create(async {
                std::thread::sleep(Duration::from_millis(150)); // the mistake
            });
            let quick = corio::task::Builder::new().name("quick").create(async {});
            blocker.await.unwrap();
            quick.await.unwrap();
        });
    });
    assert!(output.contains("slow task poll"), "{output}");
    assert!(output.contains("'blocker'"), "{output}");
    assert!(
        output.contains("debug_mode.rs"),
        "the spawn location is named: {output}"
    );
    assert!(
        !output.contains("'quick'"),
        "fast tasks are not reported: {output}"
    );
}

#[test]
fn polls_are_not_reported_when_debug_mode_is_off() {
    let output = capture(|| {
        corio::Runner::builder()
            .debug(false)
            .build()
            .unwrap()
            .run(async {
                corio::create_task(async { std::thread::sleep(Duration::from_millis(120)) })
                    .await
                    .unwrap();
            });
    });
    assert!(!output.contains("slow task poll"), "{output}");
}

#[test]
fn a_panic_nobody_retrieved_is_reported_and_a_retrieved_one_is_not() {
    let output = capture(|| {
        let mut runner = corio::Runner::builder().debug(true).build().unwrap();
        runner.run(async {
            // Detached: nobody can ever see this panic.
            corio::task::Builder::new()
                .name("ignored")
                .create(async { panic!("lost cause") });
            // Retrieved: awaited, so it is not "never retrieved".
            let seen = corio::task::Builder::new()
                .name("awaited")
                .create(async { panic!("seen") });
            assert!(seen.await.unwrap_err().is_panic());
            corio::yield_now().await;
        });
    });
    assert!(output.contains("task panic never retrieved"), "{output}");
    assert!(
        output.contains("'ignored'") && output.contains("lost cause"),
        "{output}"
    );
    assert!(!output.contains("'awaited'"), "{output}");
}
