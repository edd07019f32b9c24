//! Separate binary: its tests send signals to this process, which every test thread of a
//! shared binary would receive.
//!
//! corio::signal inside one process: signals this test sends to itself arrive on `Signals`, on
//! `add_signal_handler` callbacks and on `ctrl_c`, and bad signal numbers are refused.
//! (Ctrl-C in `run`, and default actions coming back, need whole processes: tests/ctrl_c.rs.)
//!
//! Every test uses its own signal, so tests running in parallel threads do not see each other's
//! signals; each subscribes before sending, so a signal never meets its default action.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::signal::{Signals, SIGALRM, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH};

/// Sends `signal` to this process, as `kill -<signal> <pid>` would.
fn send(signal: i32) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(std::process::id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_signal_sent_to_this_process_arrives_on_signals() {
    corio::run(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        send(SIGUSR1);
        let got = corio::timeout(Duration::from_secs(5), signals.recv()).await;
        assert_eq!(got, Ok(Some(SIGUSR1)));
        // Nothing else is pending.
        let more = corio::timeout(Duration::from_millis(50), signals.recv()).await;
        assert!(more.is_err(), "a second delivery appeared: {more:?}");
    });
}

#[test]
fn a_set_reports_which_signal_came_and_coalesces_repeats() {
    corio::run(async {
        let mut signals = Signals::new([SIGHUP, SIGWINCH, SIGHUP]).unwrap();
        assert_eq!(signals.signals().collect::<Vec<_>>(), [SIGHUP, SIGWINCH]);
        send(SIGWINCH);
        assert_eq!(signals.recv().await, Some(SIGWINCH));
        send(SIGHUP);
        send(SIGHUP);
        send(SIGHUP);
        // The `kill`s have completed, so all three are pending or delivered; give delivery a
        // moment, and they coalesce into one.
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(signals.recv().await, Some(SIGHUP));
        let more = corio::timeout(Duration::from_millis(50), signals.recv()).await;
        assert!(more.is_err(), "repeats were not coalesced: {more:?}");
        send(SIGHUP);
        assert_eq!(signals.recv().await, Some(SIGHUP));
    });
}

#[test]
fn signals_is_a_stream() {
    use futures_core::Stream;
    corio::run(async {
        let mut signals = Signals::new([SIGALRM]).unwrap();
        send(SIGALRM);
        let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut signals).poll_next(cx)).await;
        assert_eq!(next, Some(SIGALRM));
        let mut empty = Signals::new([]).unwrap();
        assert_eq!(empty.recv().await, None);
    });
}

#[test]
fn signals_that_cannot_be_handled_are_refused_with_a_clear_error() {
    corio::run(async {
        for signal in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV] {
            let error = Signals::new([signal]).unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
            assert!(error.to_string().contains("cannot be handled"), "{error}");
        }
        let error = Signals::new([12345]).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("12345"), "{error}");
        let handle = corio::get_running_loop();
        let error = handle.add_signal_handler(libc::SIGKILL, || {}).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    });
}

#[test]
#[should_panic(expected = "needs a running event loop")]
fn signals_outside_a_loop_panics_naming_the_fix() {
    let _ = Signals::new([SIGUSR1]);
}

#[test]
fn signal_handlers_run_on_the_loop_thread_and_can_be_replaced_and_removed() {
    corio::run(async {
        let handle = corio::get_running_loop();
        let loop_thread = std::thread::current().id();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let first = calls.clone();
        handle
            .add_signal_handler(SIGUSR2, move || {
                assert_eq!(std::thread::current().id(), loop_thread);
                first.lock().unwrap().push("first");
            })
            .unwrap();
        send(SIGUSR2);
        wait_for(|| calls.lock().unwrap().len() == 1).await;

        // Replacing: only the new callback runs.
        let second = calls.clone();
        handle
            .add_signal_handler(SIGUSR2, move || second.lock().unwrap().push("second"))
            .unwrap();
        send(SIGUSR2);
        wait_for(|| calls.lock().unwrap().len() == 2).await;
        assert_eq!(*calls.lock().unwrap(), ["first", "second"]);

        // Removing: true once, and the callback never runs again. A Signals keeps SIGUSR2 from
        // its default action (terminating the test process) meanwhile.
        let mut keep = Signals::new([SIGUSR2]).unwrap();
        assert!(handle.remove_signal_handler(SIGUSR2));
        assert!(!handle.remove_signal_handler(SIGUSR2));
        send(SIGUSR2);
        assert_eq!(keep.recv().await, Some(SIGUSR2));
        corio::sleep(Duration::from_millis(20)).await;
        assert_eq!(calls.lock().unwrap().len(), 2);
    });
}

#[test]
fn a_panicking_signal_handler_is_logged_and_stays_installed() {
    // SIGPIPE: Rust ignores it at startup; corio's listeners work regardless.
    let signal = libc::SIGPIPE;
    corio::run(async move {
        let handle = corio::get_running_loop();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        handle
            .add_signal_handler(signal, move || {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                if n == 0 {
                    panic!("handler failed once");
                }
            })
            .unwrap();
        send(signal);
        wait_for(|| calls.load(Ordering::SeqCst) == 1).await;
        send(signal);
        wait_for(|| calls.load(Ordering::SeqCst) == 2).await;
        assert!(handle.remove_signal_handler(signal));
    });
}

#[test]
fn adding_a_handler_to_a_closed_loop_fails() {
    let mut runner = corio::Runner::new();
    let handle = runner.handle();
    runner.run(async {});
    runner.close();
    let error = handle.add_signal_handler(SIGUSR1, || {}).unwrap_err();
    assert!(error.to_string().contains("closed"), "{error}");
}

/// Polls `done` every millisecond, for at most 5 s.
async fn wait_for(done: impl Fn() -> bool) {
    corio::timeout(Duration::from_secs(5), async {
        while !done() {
            corio::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("timed out waiting for the signal handler");
}
