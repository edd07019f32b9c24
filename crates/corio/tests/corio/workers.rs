//! `Builder::workers(n > 1)`: the guarantees docs/multithread.md lists, each
//! checked on a two-worker runner (the rest of this binary runs again under
//! `CORIO_WORKERS=2` in CI, minus the single-thread-only tests named in
//! `tests/single_thread_only.txt`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corio::net::{TcpListener, TcpStream};
use corio::Runner;

fn two_workers() -> Runner {
    Runner::builder().workers(2).build().unwrap()
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}

#[test]
fn tasks_run_on_the_workers_and_the_main_future_on_the_calling_thread() {
    let caller = std::thread::current().id();
    let names = two_workers().run(async move {
        assert_eq!(std::thread::current().id(), caller, "the main future");
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                corio::create_task(async {
                    corio::yield_now().await;
                    thread_name()
                })
            })
            .collect();
        let mut names = Vec::new();
        for task in tasks {
            names.push(task.await.unwrap());
        }
        names
    });
    assert!(
        names.iter().all(|name| name.starts_with("corio-worker-")),
        "{names:?}"
    );
}

#[test]
fn a_local_task_stays_on_the_worker_that_created_it() {
    two_workers().run(async {
        let outer = corio::create_task(async {
            let home = std::thread::current().id();
            let local = corio::create_local_task(async move {
                let not_send = std::rc::Rc::new(());
                for _ in 0..100 {
                    corio::yield_now().await;
                    assert_eq!(std::thread::current().id(), home);
                }
                drop(not_send);
                thread_name()
            });
            local.await.unwrap()
        });
        assert!(outer.await.unwrap().starts_with("corio-worker-"));
        // From the main future: pinned to the calling thread.
        let caller = std::thread::current().id();
        let local = corio::create_local_task(async move { std::thread::current().id() });
        assert_eq!(local.await.unwrap(), caller);
    });
}

#[test]
fn create_local_task_off_the_loop_panics_naming_the_fix() {
    let error = std::panic::catch_unwind(|| {
        corio::create_local_task(async {});
    })
    .unwrap_err();
    let message = error
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| error.downcast_ref::<&str>().copied())
        .unwrap_or("");
    assert!(message.contains("corio::run"), "{message}");
}

#[test]
fn a_blocked_worker_does_not_stall_timers_io_or_its_queued_tasks() {
    two_workers().run(async {
        let blocking = Arc::new(AtomicBool::new(true));
        let release = blocking.clone();
        // One worker is stuck in a synchronous poll until released.
        let stuck = corio::create_task(async move {
            while release.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        // Give it time to be picked up by a worker.
        corio::sleep(Duration::from_millis(20)).await;
        let started = Instant::now();
        // Timers still fire, and tasks still run, on the other worker.
        let ticks: Vec<_> = (0..20)
            .map(|i| {
                corio::create_task(async move {
                    corio::sleep(Duration::from_millis(5)).await;
                    i
                })
            })
            .collect();
        for (i, tick) in ticks.into_iter().enumerate() {
            assert_eq!(tick.await.unwrap(), i);
        }
        // IO too: a TCP round trip.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = corio::create_task(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4];
            let n = stream.read(&mut buf).await.unwrap();
            stream.write_all(&buf[..n]).await.unwrap();
        });
        let client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            got += client.read(&mut buf[got..]).await.unwrap();
        }
        assert_eq!(&buf, b"ping");
        server.await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        blocking.store(false, Ordering::SeqCst);
        stuck.await.unwrap();
    });
}

#[test]
fn a_socket_moves_between_workers_with_its_task() {
    two_workers().run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(std::collections::HashSet::new()));
        let echo = corio::create_task(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 64];
            loop {
                let n = stream.read(&mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                stream.write_all(&buf[..n]).await.unwrap();
            }
        });
        let seen_by_client = seen.clone();
        let client = corio::create_task(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            for round in 0..500u32 {
                seen_by_client.lock().unwrap().insert(thread_name());
                stream.write_all(&round.to_le_bytes()).await.unwrap();
                let mut buf = [0u8; 4];
                let mut got = 0;
                while got < 4 {
                    got += stream.read(&mut buf[got..]).await.unwrap();
                }
                assert_eq!(u32::from_le_bytes(buf), round);
                // Busy work elsewhere, so the task may resume on either worker.
                corio::yield_now().await;
            }
        });
        client.await.unwrap();
        echo.await.unwrap();
        assert!(!seen.lock().unwrap().is_empty());
    });
}

#[test]
fn all_tasks_lists_every_workers_tasks() {
    two_workers().run(async {
        let parked: Vec<_> = (0..10)
            .map(|i| {
                corio::task::Builder::new()
                    .name(format!("parked-{i}"))
                    .create(std::future::pending::<()>())
            })
            .collect();
        corio::sleep(Duration::from_millis(10)).await;
        let names: Vec<String> = corio::all_tasks()
            .into_iter()
            .filter_map(|task| task.name().map(str::to_owned))
            .collect();
        for i in 0..10 {
            assert!(names.contains(&format!("parked-{i}")), "{names:?}");
        }
        for task in parked {
            task.cancel();
        }
    });
}

#[test]
fn closing_joins_the_workers_and_drops_every_pending_future_once() {
    let dropped = Arc::new(AtomicUsize::new(0));
    struct Count(Arc<AtomicUsize>);
    impl Drop for Count {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let mut runner = two_workers();
    let counted = dropped.clone();
    runner.run(async move {
        for _ in 0..100 {
            let count = Count(counted.clone());
            corio::create_task(async move {
                let _count = count;
                corio::sleep(Duration::from_secs(3600)).await;
            });
        }
        let count = Count(counted.clone());
        corio::create_local_task(async move {
            let _count = count;
            std::future::pending::<()>().await
        });
        corio::sleep(Duration::from_millis(5)).await;
    });
    runner.close();
    assert_eq!(dropped.load(Ordering::SeqCst), 101);
}

#[test]
fn debug_mode_names_the_worker_of_a_slow_poll() {
    let (warnings, _guard) = capture_warnings();
    let mut runner = Runner::builder()
        .workers(2)
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(20))
        .build()
        .unwrap();
    runner.run(async {
        corio::task::Builder::new()
            .name("sleepy")
            .create(async { std::thread::sleep(Duration::from_millis(40)) })
            .await
            .unwrap();
    });
    runner.close();
    let text = warnings.lock().unwrap().join("\n");
    assert!(text.contains("'sleepy'"), "{text}");
    assert!(text.contains("blocked worker "), "{text}");
}

/// Warnings logged on any thread (the workers' included) while the guard lives.
fn capture_warnings() -> (Arc<Mutex<Vec<String>>>, tracing::dispatcher::DefaultGuard) {
    #[derive(Clone)]
    struct Sink(Arc<Mutex<Vec<String>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(buf).into_owned());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    crate::common::keep_a_second_dispatcher();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Sink(lines.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    // A runner built while this is the thread's default hands it to its
    // workers, where the slow poll is reported.
    (lines, tracing::subscriber::set_default(subscriber))
}

#[test]
fn virtual_time_moves_only_when_every_worker_is_idle() {
    let mut runner = Runner::builder().workers(2).manual_clock().build().unwrap();
    let started = Instant::now();
    let woke_at = runner.run(async {
        let origin = corio::time::now();
        let sleepers: Vec<_> = (1..=50u64)
            .map(|i| {
                corio::create_task(async move {
                    corio::sleep(Duration::from_secs(60 * i)).await;
                    // CPU work on a worker: the clock must not move meanwhile.
                    let before = corio::time::now();
                    let mut x = i;
                    for _ in 0..20_000 {
                        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                    }
                    assert_eq!(corio::time::now(), before, "time moved while a task ran");
                    (i, before - origin)
                })
            })
            .collect();
        let mut woke_at = Vec::new();
        for sleeper in sleepers {
            woke_at.push(sleeper.await.unwrap());
        }
        woke_at
    });
    runner.close();
    for (i, at) in woke_at {
        assert_eq!(
            at,
            Duration::from_secs(60 * i),
            "sleeper {i} woke at its deadline"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "50 hours took real time"
    );
}

#[test]
fn call_soon_after_close_drops_the_callback_at_once() {
    let dropped = Arc::new(AtomicUsize::new(0));
    struct Count(Arc<AtomicUsize>);
    impl Drop for Count {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let mut runner = two_workers();
    let handle = runner.handle();
    runner.run(async {});
    runner.close();
    // Nothing will run it: it is dropped now, with the handle it holds (kept
    // in the loop's callback queue, it would keep the loop alive forever).
    let count = Count(dropped.clone());
    let keep = handle.clone();
    handle.call_soon(move || {
        let _ = (&count, &keep);
    });
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}
