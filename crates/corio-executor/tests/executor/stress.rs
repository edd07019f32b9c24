//! Stress: four threads hammer the wakers of one executor's tasks (wake,
//! wake-by-ref, clone and drop) while tasks complete, get cancelled from both
//! sides and are spawned from two remote threads; every task ends exactly
//! once (completed or cancelled), the counts add up, nothing leaks.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crate::common::Counter;
use corio_executor::{LocalExecutor, Task};

const BOARD: usize = 64;
const HAMMERS: usize = 4;
/// Each hammer wakes at least this many times, and goes on until the churn ends.
const WAKES_PER_HAMMER: usize = 150_000;
const REMOTE_SPAWNERS: usize = 2;
const REMOTE_TASKS: usize = 1_000;
const LOCAL_ROUNDS: usize = 3_000;

/// Wakers the tasks leave behind for the hammer threads to find.
struct Board {
    slots: Vec<Mutex<Option<Waker>>>,
}

impl Board {
    fn new() -> Arc<Board> {
        Arc::new(Board {
            slots: (0..BOARD).map(|_| Mutex::new(None)).collect(),
        })
    }
}

/// Everything that must balance at the end.
#[derive(Clone, Default)]
struct Tally {
    futures: Counter,
    outputs: Counter,
    spawned: Arc<AtomicUsize>,
    polls: Arc<AtomicUsize>,
}

/// A task that needs `target` polls to finish (`usize::MAX`: never), and
/// leaves its waker on the board after each.
fn body(
    tally: &Tally,
    board: &Arc<Board>,
    seed: usize,
    target: usize,
) -> impl Future<Output = crate::common::Token> + Send + 'static {
    tally.spawned.fetch_add(1, Ordering::SeqCst);
    let (future_token, output) = (tally.futures.token(), tally.outputs.token());
    let board = board.clone();
    let polls_total = tally.polls.clone();
    async move {
        let _future_token = future_token;
        let mut polls = 0;
        std::future::poll_fn(|cx| {
            polls += 1;
            polls_total.fetch_add(1, Ordering::Relaxed);
            if polls >= target {
                return Poll::Ready(());
            }
            let slot = (seed + polls) % BOARD;
            *board.slots[slot].lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        output
    }
}

fn target_for(seed: usize) -> usize {
    if seed % 5 == 0 {
        usize::MAX // only a cancel ends it
    } else {
        1 + seed % 13
    }
}

#[test]
fn wakes_cancels_and_remote_spawns_from_many_threads_balance_out() {
    let started = Instant::now();
    let ex = LocalExecutor::new();
    let board = Board::new();
    let tally = Tally::default();
    let stop = Arc::new(AtomicBool::new(false));

    let hammers: Vec<_> = (0..HAMMERS)
        .map(|h| {
            let (board, stop) = (board.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut kept: Vec<Waker> = Vec::new();
                let mut i = 0;
                while i < WAKES_PER_HAMMER || !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let slot = (i * 7 + h * 13) % BOARD;
                    let Some(waker) = board.slots[slot].lock().unwrap().clone() else {
                        continue;
                    };
                    match i % 4 {
                        0 => waker.wake(),
                        1 => waker.wake_by_ref(),
                        2 => kept.push(waker),
                        _ => drop(waker),
                    }
                    if kept.len() > 16 {
                        // Dropped here, possibly after their tasks ended: the
                        // last reference may free a task on this thread.
                        kept.drain(..8).for_each(Waker::wake);
                    }
                }
            })
        })
        .collect();

    let remote: Vec<_> = (0..REMOTE_SPAWNERS)
        .map(|r| {
            let (spawner, board, tally) = (ex.spawner(), board.clone(), tally.clone());
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                for i in 0..REMOTE_TASKS {
                    let seed = 1_000_000 * (r + 1) + i;
                    let task = spawner.spawn(body(&tally, &board, seed, target_for(seed)));
                    match i % 4 {
                        0 => {
                            task.cancel();
                            kept.push(task);
                        }
                        1 => drop(task), // detached from a remote thread
                        _ => kept.push(task),
                    }
                    if i % 16 == 0 {
                        std::thread::yield_now();
                    }
                }
                kept
            })
        })
        .collect();

    // The executor's thread: spawn, cancel, run.
    let mut local: Vec<Task<crate::common::Token>> = Vec::new();
    let mut round = 0;
    loop {
        if round < LOCAL_ROUNDS {
            let seed = round;
            let task = ex.spawn(body(&tally, &board, seed, target_for(seed)));
            if round % 3 == 0 {
                drop(task);
            } else {
                local.push(task);
            }
            if round % 7 == 0 && local.len() > 4 {
                let victim = local.len() - 4;
                local[victim].cancel();
            }
            round += 1;
        }
        let ran = ex.run_once();
        if round >= LOCAL_ROUNDS && remote.iter().all(|r| r.is_finished()) {
            stop.store(true, Ordering::SeqCst);
            if hammers.iter().all(|h| h.is_finished()) {
                break;
            }
        }
        if ran == 0 && ex.is_idle() {
            std::thread::park_timeout(Duration::from_millis(1));
        }
    }
    for h in hammers {
        h.join().unwrap();
    }
    let mut handles = local;
    for r in remote {
        handles.extend(r.join().unwrap());
    }

    // Cancel what is left (the never-finishing ones and the unlucky), drain.
    for task in &handles {
        task.cancel();
    }
    while ex.run_once() > 0 || !ex.is_idle() {}
    assert!(
        ex.task_count() > 0,
        "detached never-finishing tasks remain until close"
    );
    ex.close();
    assert_eq!(ex.task_count(), 0);

    let (mut completed, mut cancelled) = (0, 0);
    for mut task in handles {
        assert!(task.is_done());
        match task.try_result().unwrap() {
            Ok(output) => {
                assert!(!task.is_cancelled());
                drop(output);
                completed += 1;
            }
            Err(e) => {
                assert!(e.is_cancelled(), "{e}");
                assert!(task.is_cancelled());
                cancelled += 1;
            }
        }
    }
    // Wakers still on the board belong to ended tasks: harmless, and freeing.
    for slot in &board.slots {
        if let Some(waker) = slot.lock().unwrap().take() {
            waker.wake();
        }
    }
    drop(ex);

    let spawned = tally.spawned.load(Ordering::SeqCst);
    assert_eq!(spawned, LOCAL_ROUNDS + REMOTE_SPAWNERS * REMOTE_TASKS);
    assert!(
        completed > 0 && cancelled > 0,
        "completed {completed}, cancelled {cancelled}"
    );
    assert_eq!(
        tally.futures.get(),
        spawned,
        "every future dropped exactly once"
    );
    assert_eq!(
        tally.outputs.get(),
        spawned,
        "every output dropped exactly once"
    );
    // A task cancelled before its first poll is never polled; one that
    // completed was polled at least once.
    assert!(tally.polls.load(Ordering::Relaxed) >= completed);
    eprintln!(
        "stress: {spawned} tasks, {completed} completed + {cancelled} cancelled awaited, {} polls, {:?}",
        tally.polls.load(Ordering::Relaxed),
        started.elapsed()
    );
    // A bound that catches a hang, not a speed target; `cargo xtask
    // valgrind` runs this about 20x slower and says so.
    let budget = if std::env::var_os("CORIO_UNDER_VALGRIND").is_some() {
        Duration::from_secs(600)
    } else {
        Duration::from_secs(30)
    };
    assert!(started.elapsed() < budget, "took {:?}", started.elapsed());
}
