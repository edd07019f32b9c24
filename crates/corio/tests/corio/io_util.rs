//! `corio::io`: the re-exported extension traits and helpers over corio's
//! sockets (copy, BufReader::lines, split), and `corio::select!`: the first
//! ready branch wins, branches are polled in order, every future is dropped
//! before the handler runs, disabled branches and `else`.

use std::cell::Cell;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::io::{self, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use corio::net::{TcpListener, TcpStream};
use futures_util::StreamExt;

use crate::common::{flag, SetOnDrop};

/// A connected pair of sockets.
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap());
    let (client, accepted) = corio::gather!(client, listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

#[test]
fn copy_echoes_every_byte_and_counts_them() {
    corio::run(async {
        let (client, server) = pair().await;
        let echo = corio::create_task(async move { io::copy(&server, &mut &server).await });
        let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (mut read_half, write_half) = client.into_split();
        let sent = payload.clone();
        let writer = corio::create_task(async move {
            write_half.write_all(&sent).await.unwrap();
            write_half.shutdown().unwrap();
        });
        let mut echoed = Vec::new();
        read_half.read_to_end(&mut echoed).await.unwrap();
        writer.await.unwrap();
        assert_eq!(echoed, payload);
        assert_eq!(echo.await.unwrap().unwrap(), 200_000);
    });
}

#[test]
fn buf_reader_lines_splits_on_lf_and_crlf_and_keeps_a_last_unterminated_line() {
    corio::run(async {
        let (client, server) = pair().await;
        corio::create_task(async move {
            // In pieces, so that lines straddle reads.
            for piece in ["al", "pha\nbe", "ta\r\n\ngam", "ma"] {
                client.write_all(piece.as_bytes()).await.unwrap();
                corio::sleep(Duration::from_millis(2)).await;
            }
        });
        let lines: Vec<String> = BufReader::new(server)
            .lines()
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(lines, ["alpha", "beta", "", "gamma"]);
    });
}

#[test]
fn split_halves_work_from_two_tasks_and_reunite() {
    corio::run(async {
        let (client, mut server) = pair().await;
        let (mut reader, mut writer) = io::split(client);
        let writing = corio::create_task(async move {
            writer.write_all(b"ping").await.unwrap();
            writer
        });
        let mut got = [0; 4];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
        server.write_all(b"pong").await.unwrap();
        reader.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"pong");
        let writer = writing.await.unwrap();
        assert!(reader.reunite(writer).is_ok());
    });
}

/// A future that is ready at once with `value`, and sets `dropped` when dropped.
async fn ready_then(value: u32, dropped: Arc<AtomicBool>) -> u32 {
    let _guard = SetOnDrop(dropped);
    value
}

#[test]
fn select_first_ready_branch_wins_and_the_others_are_dropped_before_its_handler() {
    corio::run(async {
        let (slow, fast) = (flag(), flag());
        let (slow_seen, fast_seen) = (slow.clone(), fast.clone());
        let winner = corio::select! {
            () = async move {
                let _guard = SetOnDrop(slow);
                corio::sleep(Duration::from_secs(3600)).await;
            } => "slow",
            n = async move {
                let _guard = SetOnDrop(fast);
                corio::sleep(Duration::from_millis(5)).await;
                7
            } => {
                assert_eq!(n, 7);
                // Both futures are gone by the time the handler runs.
                assert!(slow_seen.load(Ordering::SeqCst), "the loser was not dropped yet");
                assert!(fast_seen.load(Ordering::SeqCst), "the winner was not dropped yet");
                "fast"
            }
        };
        assert_eq!(winner, "fast");
    });
}

#[test]
fn select_takes_branches_in_order_when_several_are_ready() {
    corio::run(async {
        let first = corio::select! {
            a = ready_then(1, flag()) => a,
            b = ready_then(2, flag()) => b,
        };
        assert_eq!(first, 1);
        let second = corio::select! {
            biased;
            b = ready_then(2, flag()) => b,
            a = ready_then(1, flag()) => a,
        };
        assert_eq!(second, 2);
        // A ready later branch still waits its turn behind a pending earlier one:
        // the earlier branch is polled first at every wake-up.
        let polls = Rc::new(Cell::new(0));
        let counted = polls.clone();
        let third = corio::select! {
            () = std::future::poll_fn(|_| {
                counted.set(counted.get() + 1);
                std::task::Poll::<()>::Pending
            }) => 0,
            c = ready_then(3, flag()) => c,
        };
        assert_eq!((third, polls.get()), (3, 1));
    });
}

#[test]
fn select_skips_a_disabled_branch_without_evaluating_its_future() {
    corio::run(async {
        let evaluated = Cell::new(false);
        let make = || {
            evaluated.set(true);
            async { 1 }
        };
        let got = corio::select! {
            a = make(), if false => a,
            b = async { 2 } => b,
        };
        assert_eq!(got, 2);
        assert!(!evaluated.get(), "a disabled branch's future was created");
    });
}

#[test]
fn select_runs_else_when_every_branch_is_disabled_and_panics_without_one() {
    corio::run(async {
        let (a_on, b_on) = (false, false);
        let got = corio::select! {
            a = async { 1 }, if a_on => a,
            b = async { 2 }, if b_on => b,
            else => 0,
        };
        assert_eq!(got, 0);
        // A refused pattern disables its branch too: then `else`.
        let refused = corio::select! {
            Some(n) = async { None::<u32> } => n,
            else => 99,
        };
        assert_eq!(refused, 99);
    });
    let panic = std::panic::catch_unwind(|| {
        corio::run(async {
            let off = false;
            corio::select! {
                () = async {}, if off => {}
            }
        })
    })
    .unwrap_err();
    let message = panic.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(message.contains("every branch is disabled"), "{message:?}");
}

#[test]
fn select_disables_a_branch_whose_pattern_is_refused_and_keeps_waiting() {
    corio::run(async {
        let got = corio::select! {
            Ok(n) = async { Err::<u32, &str>("refused") } => n,
            Some(mut n) = async {
                corio::sleep(Duration::from_millis(5)).await;
                Some(40)
            } => {
                n += 2;
                n
            }
        };
        assert_eq!(got, 42);
    });
}

#[test]
fn select_in_a_loop_keeps_a_borrowed_future_across_iterations() {
    corio::run(async {
        let queue = Arc::new(corio::sync::Queue::<u32>::new(0));
        let producer = queue.clone();
        corio::create_task(async move {
            for i in 0..5 {
                producer.put(i).await.unwrap();
                corio::sleep(Duration::from_millis(1)).await;
            }
        });
        // One deadline for the whole loop, borrowed by each select!.
        let mut deadline = pin!(corio::sleep(Duration::from_secs(10)));
        let mut got = Vec::new();
        loop {
            corio::select! {
                item = queue.get() => {
                    got.push(item.unwrap());
                    if got.len() == 5 {
                        break;
                    }
                }
                () = &mut deadline => panic!("timed out with {got:?}"),
            }
        }
        assert_eq!(got, [0, 1, 2, 3, 4]);
    });
}

#[test]
fn cancelling_a_task_inside_select_drops_every_branch() {
    corio::run(async {
        let (a, b) = (flag(), flag());
        let (a_seen, b_seen) = (a.clone(), b.clone());
        let task = corio::create_task(async move {
            corio::select! {
                () = async move {
                    let _guard = SetOnDrop(a);
                    std::future::pending::<()>().await;
                } => {}
                () = async move {
                    let _guard = SetOnDrop(b);
                    std::future::pending::<()>().await;
                } => {}
            }
        });
        corio::sleep(Duration::from_millis(5)).await;
        task.cancel();
        assert!(task.await.is_err());
        assert!(a_seen.load(Ordering::SeqCst) && b_seen.load(Ordering::SeqCst));
    });
}
