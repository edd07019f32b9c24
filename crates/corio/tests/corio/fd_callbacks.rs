//! LoopHandle::add_reader/add_writer/remove_reader/remove_writer: a reader
//! fires on a socketpair, is level-triggered (called every iteration while
//! readable), can remove itself, is replaced by a second add, survives its
//! own panic (reported to the exception handler), and is removed when the
//! loop closes; a writer fires on a writable socket.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn pair() -> (Arc<UnixStream>, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    (Arc::new(a), b)
}

/// Lets the loop run `n` iterations.
async fn iterations(n: usize) {
    for _ in 0..n {
        corio::yield_now().await;
    }
}

async fn until(mut cond: impl FnMut() -> bool) {
    for _ in 0..5000 {
        if cond() {
            return;
        }
        corio::sleep(Duration::from_millis(1)).await;
    }
    panic!("condition never became true");
}

#[test]
fn a_reader_fires_when_data_arrives() {
    corio::run(async {
        let (a, mut b) = pair();
        let got = Arc::new(Mutex::new(Vec::new()));
        let handle = corio::get_running_loop();
        let (reader, sink) = (a.clone(), got.clone());
        handle
            .add_reader(&*a, move || {
                let mut buf = [0; 64];
                while let Ok(n) = (&*reader).read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sink.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            })
            .unwrap();
        iterations(5).await;
        assert!(got.lock().unwrap().is_empty(), "fired with nothing to read");
        b.write_all(b"one").unwrap();
        until(|| got.lock().unwrap().len() == 3).await;
        b.write_all(b"two").unwrap();
        until(|| got.lock().unwrap().len() == 6).await;
        assert_eq!(*got.lock().unwrap(), b"onetwo");
        assert!(handle.remove_reader(a.as_raw_fd()));
        assert!(!handle.remove_reader(a.as_raw_fd()), "removed twice");
        b.write_all(b"three").unwrap();
        iterations(10).await;
        corio::sleep(Duration::from_millis(10)).await;
        assert_eq!(*got.lock().unwrap(), b"onetwo", "fired after removal");
    });
}

#[test]
fn a_reader_that_does_not_read_is_called_every_iteration() {
    corio::run(async {
        let (a, mut b) = pair();
        b.write_all(b"x").unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let handle = corio::get_running_loop();
        let c = calls.clone();
        handle
            .add_reader(&*a, move || {
                c.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        until(|| calls.load(Ordering::SeqCst) > 0).await;
        let before = calls.load(Ordering::SeqCst);
        iterations(10).await;
        let after = calls.load(Ordering::SeqCst);
        // Level-triggered: about one call per iteration, never more.
        assert!((5..=11).contains(&(after - before)), "{before} -> {after}");
        handle.remove_reader(a.as_raw_fd());
        iterations(5).await;
        assert_eq!(calls.load(Ordering::SeqCst), after, "called after removal");
    });
}

#[test]
fn a_reader_can_remove_itself() {
    corio::run(async {
        let (a, mut b) = pair();
        b.write_all(b"never read").unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let handle = corio::get_running_loop();
        let (c, h, fd) = (calls.clone(), handle.clone(), a.as_raw_fd());
        handle
            .add_reader(&*a, move || {
                c.fetch_add(1, Ordering::SeqCst);
                assert!(h.remove_reader(fd));
            })
            .unwrap();
        until(|| calls.load(Ordering::SeqCst) > 0).await;
        iterations(10).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn adding_again_replaces_the_callback() {
    corio::run(async {
        let (a, mut b) = pair();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handle = corio::get_running_loop();
        let (l1, l2) = (log.clone(), log.clone());
        let (r1, r2) = (a.clone(), a.clone());
        handle
            .add_reader(&*a, move || {
                let _ = (&*r1).read(&mut [0; 64]);
                l1.lock().unwrap().push("first");
            })
            .unwrap();
        handle
            .add_reader(&*a, move || {
                let _ = (&*r2).read(&mut [0; 64]);
                l2.lock().unwrap().push("second");
            })
            .unwrap();
        b.write_all(b"x").unwrap();
        until(|| !log.lock().unwrap().is_empty()).await;
        iterations(5).await;
        assert_eq!(*log.lock().unwrap(), ["second"]);
        assert!(handle.remove_reader(a.as_raw_fd()));
    });
}

#[test]
fn a_panicking_reader_is_reported_and_the_loop_goes_on() {
    corio::run(async {
        let (a, mut b) = pair();
        let reported = Arc::new(Mutex::new(Vec::new()));
        let handle = corio::get_running_loop();
        let r = reported.clone();
        handle.set_exception_handler(move |e| {
            r.lock()
                .unwrap()
                .push((e.kind(), e.panic_message().unwrap_or("").to_owned()));
        });
        let reader = a.clone();
        handle
            .add_reader(&*a, move || {
                let _ = (&*reader).read(&mut [0; 64]);
                panic!("reader blew up");
            })
            .unwrap();
        b.write_all(b"1").unwrap();
        until(|| reported.lock().unwrap().len() == 1).await;
        // Still registered: the next data fires it again.
        b.write_all(b"2").unwrap();
        until(|| reported.lock().unwrap().len() == 2).await;
        assert!(reported.lock().unwrap().iter().all(|(kind, msg)| *kind
            == corio::LoopErrorKind::CallbackPanicked
            && msg == "reader blew up"));
        assert!(handle.remove_reader(a.as_raw_fd()));
    });
}

#[test]
fn a_writer_fires_while_writable_and_reader_and_writer_share_an_fd() {
    corio::run(async {
        let (a, mut b) = pair();
        let handle = corio::get_running_loop();
        let (writes, reads) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (w, h, fd, sock) = (writes.clone(), handle.clone(), a.as_raw_fd(), a.clone());
        handle
            .add_writer(&*a, move || {
                (&*sock).write_all(b"hi").unwrap();
                w.fetch_add(1, Ordering::SeqCst);
                h.remove_writer(fd);
            })
            .unwrap();
        let (r, reader) = (reads.clone(), a.clone());
        handle
            .add_reader(&*a, move || {
                let _ = (&*reader).read(&mut [0; 64]);
                r.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        until(|| writes.load(Ordering::SeqCst) == 1).await;
        let mut buf = [0; 2];
        b.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hi");
        // The reader survived the writer's removal.
        b.write_all(b"back").unwrap();
        until(|| reads.load(Ordering::SeqCst) >= 1).await;
        assert_eq!(writes.load(Ordering::SeqCst), 1);
        assert!(!handle.remove_writer(fd));
        assert!(handle.remove_reader(fd));
    });
}

#[test]
fn closing_the_loop_removes_every_callback() {
    let (a, mut b) = pair();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let a2 = a.clone();
    let handle = corio::run(async move {
        let handle = corio::get_running_loop();
        handle
            .add_reader(&*a2, move || {
                c.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        handle
    });
    b.write_all(b"x").unwrap();
    assert!(
        !handle.remove_reader(a.as_raw_fd()),
        "the closed loop kept the reader"
    );
    assert!(
        handle.add_reader(&*a, || {}).is_err(),
        "add_reader on a closed loop"
    );
    // The callback (and the duplicate fd it watched) are gone.
    assert_eq!(Arc::strong_count(&a), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn a_reader_works_under_workers() {
    let mut runner = corio::Runner::builder().workers(2).build().unwrap();
    runner.run(async {
        let (a, mut b) = pair();
        let got = Arc::new(Mutex::new(Vec::new()));
        let handle = corio::get_running_loop();
        let (reader, sink) = (a.clone(), got.clone());
        handle
            .add_reader(&*a, move || {
                let mut buf = [0; 64];
                if let Ok(n) = (&*reader).read(&mut buf) {
                    sink.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            })
            .unwrap();
        for word in [&b"one"[..], b"two", b"three"] {
            let len = got.lock().unwrap().len();
            b.write_all(word).unwrap();
            until(|| got.lock().unwrap().len() == len + word.len()).await;
        }
        assert!(handle.remove_reader(a.as_raw_fd()));
        assert_eq!(*got.lock().unwrap(), b"onetwothree");
    });
}
