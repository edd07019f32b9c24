//! Stress of the work-stealing `Executor`: 8 workers (on however few cores),
//! 100k tasks a round spawned from the owner thread, from tasks on the
//! workers and from two foreign threads; they yield, sleep on a timer
//! thread, wait for wakes from two foreign threads, cancel each other from
//! whichever worker they run on, await local tasks pinned to their worker,
//! or are detached. Every round every count balances (each task's handle
//! says completed or cancelled, or it was detached; every future and every
//! output is dropped exactly once) and the round ends within a bound (a
//! watchdog aborts with the counts on a hang: a lost wake-up). 20 rounds.

use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corio_executor::{AbortHandle, Builder, Executor, Spawner, Task};

use crate::common::{yield_now, Counter, Token, WakerSlot};
use crate::multi_stress_kit::{Rng, Timer, Watchdog};

const WORKERS: usize = 8;

/// How big a round is: (rounds, tasks the owner's roots spawn in all,
/// tasks each foreign spawner spawns). memcheck runs about 30 times slower.
fn sizes() -> (usize, usize, usize) {
    if std::env::var_os("CORIO_UNDER_VALGRIND").is_some() {
        (2, 2_000, 500)
    } else {
        (20, 90_000, 5_000)
    }
}

const ROOTS: usize = 64;
const FOREIGN_SPAWNERS: usize = 2;
const FOREIGN_WAKERS: usize = 2;
/// Slots of recently spawned tasks' abort handles, for random cancels.
const RING: usize = 1024;
/// Hops of the relay that ends each round (see [`relay`]).
const RELAY_HOPS: usize = 2_000;

/// What every task and helper thread of a round shares.
struct Ctx {
    spawner: Spawner,
    timer: Timer,
    /// Tasks waiting for a wake from a foreign thread.
    board: Mutex<Vec<WakerSlot>>,
    foreign_wakes: AtomicUsize,
    /// Recent tasks' abort handles, taken and cancelled by canceller tasks.
    ring: Vec<Mutex<Option<AbortHandle>>>,
    cancels: AtomicUsize,
    /// Every handle not detached, for the owner to await.
    handles: Mutex<Vec<Task<Token>>>,
    spawned: AtomicUsize,
    detached: AtomicUsize,
    locals: AtomicUsize,
    /// Dropped once per future.
    futures: Counter,
    /// Dropped once per output (a body that reached its end).
    outputs: Counter,
    /// Futures dropped after their body reached its end / before.
    ended_done: AtomicUsize,
    ended_early: AtomicUsize,
    /// The foreign spawners and the roots have spawned everything.
    sources_done: AtomicUsize,
    /// How many tasks each worker polled to their end.
    ran_on: Vec<AtomicUsize>,
    /// Hops of the relay done.
    relayed: AtomicUsize,
    stop_helpers: AtomicBool,
}

/// Counts the end of a task's future: after its body's last line, or
/// before (cancelled, or dropped at close).
struct Ending {
    ctx: Arc<Ctx>,
    done: bool,
    _token: Token,
}

impl Drop for Ending {
    fn drop(&mut self) {
        let count = if self.done {
            &self.ctx.ended_done
        } else {
            &self.ctx.ended_early
        };
        count.fetch_add(1, Ordering::SeqCst);
    }
}

impl Ctx {
    /// Spawns one task of a random kind; its handle goes to the owner, to
    /// the ring (also), or is dropped (detached).
    fn spawn(self: &Arc<Ctx>, seed: u64) {
        self.spawned.fetch_add(1, Ordering::SeqCst);
        let task = self.spawner.spawn(body(self.clone(), seed));
        self.keep(task, seed);
    }

    fn keep(&self, task: Task<Token>, seed: u64) {
        if seed % 4 == 0 {
            *self.ring[(seed / 4) as usize % RING].lock().unwrap() = Some(task.abort_handle());
        }
        if seed % 10 == 7 {
            self.detached.fetch_add(1, Ordering::SeqCst);
            drop(task);
        } else {
            self.handles.lock().unwrap().push(task);
        }
    }
}

/// One task: what it does is chosen by its seed.
fn body(ctx: Arc<Ctx>, seed: u64) -> impl Future<Output = Token> + Send + 'static {
    let mut ending = Ending {
        _token: ctx.futures.token(),
        ctx: ctx.clone(),
        done: false,
    };
    async move {
        let mut rng = Rng::new(seed);
        match rng.below(100) {
            0..=39 => {
                for _ in 0..rng.below(4) {
                    yield_now().await;
                }
            }
            40..=49 => {
                let micros = rng.below(2_000);
                ctx.timer.sleep(Duration::from_micros(micros)).await;
            }
            50..=59 => {
                let slot = WakerSlot::new();
                ctx.board.lock().unwrap().push(slot.clone());
                slot.wait().await;
            }
            60..=64 => {
                // A local task, pinned to this worker: it must run here.
                let worker = ctx.spawner.current_worker();
                assert!(worker.is_some(), "a task ran off the workers");
                ctx.spawned.fetch_add(1, Ordering::SeqCst);
                ctx.locals.fetch_add(1, Ordering::SeqCst);
                let local = local_body(ctx.clone(), rng.below(3));
                let task = ctx.spawner.spawn_local_with(Builder::new(), local);
                let worker_of_local = task.await.unwrap();
                assert_eq!(worker_of_local, worker, "a local task left its worker");
            }
            65..=71 => {
                // Cancel some task, wherever it is (running, queued on
                // another worker, asleep, done).
                let victim = ctx.ring[rng.below(RING as u64) as usize]
                    .lock()
                    .unwrap()
                    .take();
                if let Some(victim) = victim {
                    victim.cancel();
                    ctx.cancels.fetch_add(1, Ordering::Relaxed);
                }
                yield_now().await;
            }
            72..=74 => {
                // A task that only a cancel ends, and the task that cancels
                // it (maybe on another worker).
                ctx.spawned.fetch_add(2, Ordering::SeqCst);
                let forever = ctx.spawner.spawn(forever(ctx.clone()));
                let handle = forever.abort_handle();
                let canceller = ctx.spawner.spawn(canceller(ctx.clone(), handle));
                ctx.keep(forever, 1);
                ctx.keep(canceller, 1);
            }
            _ => {}
        }
        let worker = ctx
            .spawner
            .current_worker()
            .expect("a task ran off the workers");
        ctx.ran_on[worker].fetch_add(1, Ordering::Relaxed);
        ending.done = true;
        let output = ctx.outputs.token();
        drop(ending);
        output
    }
}

/// A local (`!Send`) task: holds an `Rc` across yields, returns its worker.
async fn local_body(ctx: Arc<Ctx>, yields: u64) -> Option<usize> {
    let mut ending = Ending {
        _token: ctx.futures.token(),
        ctx: ctx.clone(),
        done: false,
    };
    let here = Rc::new(ctx.spawner.current_worker());
    for _ in 0..yields {
        yield_now().await;
        assert_eq!(ctx.spawner.current_worker(), *here);
    }
    ending.done = true;
    drop(ctx.outputs.token());
    *here
}

/// Pending until cancelled.
fn forever(ctx: Arc<Ctx>) -> impl Future<Output = Token> + Send + 'static {
    let ending = Ending {
        _token: ctx.futures.token(),
        ctx: ctx.clone(),
        done: false,
    };
    async move {
        let _ending = ending;
        std::future::pending::<()>().await;
        unreachable!("only a cancel ends it")
    }
}

fn canceller(ctx: Arc<Ctx>, victim: AbortHandle) -> impl Future<Output = Token> + Send + 'static {
    let mut ending = Ending {
        _token: ctx.futures.token(),
        ctx: ctx.clone(),
        done: false,
    };
    async move {
        yield_now().await;
        victim.cancel();
        ctx.cancels.fetch_add(1, Ordering::Relaxed);
        ending.done = true;
        let output = ctx.outputs.token();
        drop(ending);
        output
    }
}

/// The relay that ends each round, once the executor is idle: one task
/// waits `hops` times for a foreign thread that wakes it at once, so each
/// wake lands while the worker that polled it is on its way to sleep (and
/// every other worker sleeps). A wake lost there stalls the relay for good,
/// and the watchdog reports it.
async fn relay(ctx: Arc<Ctx>, hops: usize) -> usize {
    let (requests, serve) = std::sync::mpsc::channel::<WakerSlot>();
    let server = std::thread::spawn(move || {
        for slot in serve {
            slot.release();
        }
    });
    for _ in 0..hops {
        let slot = WakerSlot::new();
        let wait = slot.wait();
        requests.send(slot).unwrap();
        wait.await;
        ctx.relayed.fetch_add(1, Ordering::SeqCst);
    }
    drop(requests);
    server.join().unwrap();
    hops
}

/// A root task: spawns `count` tasks from its worker (its local queue, which
/// the idle workers steal from), yielding now and then.
fn root(ctx: Arc<Ctx>, first: u64, count: usize) -> impl Future<Output = Token> + Send + 'static {
    let mut ending = Ending {
        _token: ctx.futures.token(),
        ctx: ctx.clone(),
        done: false,
    };
    async move {
        for i in 0..count as u64 {
            ctx.spawn(first + i);
            if i % 64 == 63 {
                yield_now().await;
            }
        }
        ctx.sources_done.fetch_add(1, Ordering::SeqCst);
        ending.done = true;
        let output = ctx.outputs.token();
        drop(ending);
        output
    }
}

/// The counts of one round.
struct Outcome {
    spawned: usize,
    completed: usize,
    cancelled: usize,
    /// Tasks finished per worker.
    ran_on: Vec<usize>,
    elapsed: Duration,
}

fn round(number: usize, tasks: usize, foreign_tasks: usize) -> Outcome {
    let started = Instant::now();
    let ex = Executor::new(WORKERS);
    ex.start().unwrap();
    let ctx = Arc::new(Ctx {
        spawner: ex.spawner(),
        timer: Timer::default(),
        board: Mutex::new(Vec::new()),
        foreign_wakes: AtomicUsize::new(0),
        ring: (0..RING).map(|_| Mutex::new(None)).collect(),
        cancels: AtomicUsize::new(0),
        handles: Mutex::new(Vec::new()),
        spawned: AtomicUsize::new(0),
        detached: AtomicUsize::new(0),
        locals: AtomicUsize::new(0),
        futures: Counter::new(),
        outputs: Counter::new(),
        ended_done: AtomicUsize::new(0),
        ended_early: AtomicUsize::new(0),
        sources_done: AtomicUsize::new(0),
        ran_on: (0..WORKERS).map(|_| AtomicUsize::new(0)).collect(),
        relayed: AtomicUsize::new(0),
        stop_helpers: AtomicBool::new(false),
    });
    let watchdog = {
        let ctx = ctx.clone();
        Watchdog::start(move || {
            format!(
                "round {number}: spawned {}, ended {}, sources done {}, handles waiting {}, \
                 relay hops {} of {RELAY_HOPS}",
                ctx.spawned.load(Ordering::SeqCst),
                ended(&ctx),
                ctx.sources_done.load(Ordering::SeqCst),
                ctx.handles.lock().map_or(0, |h| h.len()),
                ctx.relayed.load(Ordering::SeqCst),
            )
        })
    };

    let timer = {
        let ctx = ctx.clone();
        std::thread::spawn(move || ctx.timer.run())
    };
    let wakers: Vec<_> = (0..FOREIGN_WAKERS)
        .map(|_| {
            let ctx = ctx.clone();
            std::thread::spawn(move || loop {
                let ready = std::mem::take(&mut *ctx.board.lock().unwrap());
                if ready.is_empty() {
                    if ctx.stop_helpers.load(Ordering::SeqCst) {
                        return;
                    }
                    std::thread::sleep(Duration::from_micros(100));
                    continue;
                }
                ctx.foreign_wakes.fetch_add(ready.len(), Ordering::Relaxed);
                ready.iter().for_each(WakerSlot::release);
            })
        })
        .collect();
    let spawners: Vec<_> = (0..FOREIGN_SPAWNERS as u64)
        .map(|s| {
            let ctx = ctx.clone();
            std::thread::spawn(move || {
                for i in 0..foreign_tasks as u64 {
                    ctx.spawn(((s + 1) << 40) | i);
                    if i % 256 == 0 {
                        std::thread::yield_now();
                    }
                }
                ctx.sources_done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();

    // The owner thread: starts the roots, then awaits every handle as they
    // come, until every source is done and every handle is in.
    let per_root = tasks / ROOTS;
    let (mut completed, mut cancelled) = (0, 0);
    ex.block_on(async {
        for r in 0..ROOTS {
            ctx.spawned.fetch_add(1, Ordering::SeqCst);
            let first = ((number as u64) << 48) | (r * per_root) as u64;
            let task = ex.spawn(root(ctx.clone(), first, per_root));
            ctx.keep(task, 3);
        }
        loop {
            let batch = std::mem::take(&mut *ctx.handles.lock().unwrap());
            if batch.is_empty() {
                if ctx.sources_done.load(Ordering::SeqCst) == ROOTS + FOREIGN_SPAWNERS
                    && ctx.handles.lock().unwrap().is_empty()
                    && ended(&ctx) == ctx.spawned.load(Ordering::SeqCst)
                {
                    break;
                }
                // Detached tasks are still running: wait a little.
                ctx.timer.sleep(Duration::from_micros(200)).await;
                continue;
            }
            for task in batch {
                match task.await {
                    Ok(output) => {
                        drop(output);
                        completed += 1;
                    }
                    Err(error) => {
                        assert!(error.is_cancelled(), "{error}");
                        cancelled += 1;
                    }
                }
            }
        }
    });
    for spawner in spawners {
        spawner.join().unwrap();
    }
    // Every task has ended and the workers go idle: the relay.
    let relay = ex.spawn(relay(ctx.clone(), RELAY_HOPS));
    assert_eq!(ex.block_on(relay).unwrap(), RELAY_HOPS);
    // Every task has ended; a few more, pending, for close to drop.
    for _ in 0..8 {
        ctx.spawned.fetch_add(1, Ordering::SeqCst);
        let task = ex.spawn(forever(ctx.clone()));
        ctx.keep(task, 7); // detached
    }
    ex.close();
    assert_eq!(ex.task_count(), 0, "a task outlived close");
    drop(ex);
    ctx.stop_helpers.store(true, Ordering::SeqCst);
    ctx.timer.stop.store(true, Ordering::SeqCst);
    ctx.timer.changed.notify_one();
    timer.join().unwrap();
    for waker in wakers {
        waker.join().unwrap();
    }
    watchdog.stop();

    let spawned = ctx.spawned.load(Ordering::SeqCst);
    let detached = ctx.detached.load(Ordering::SeqCst);
    let locals = ctx.locals.load(Ordering::SeqCst);
    // Local tasks' handles are awaited by their parents (always completed).
    assert_eq!(
        completed + cancelled + detached + locals,
        spawned,
        "round {number}: every handle completed or cancelled, or detached"
    );
    assert_eq!(
        ctx.futures.get(),
        spawned,
        "round {number}: every future dropped exactly once"
    );
    assert_eq!(
        ended(&ctx),
        spawned,
        "round {number}: every future ended once"
    );
    assert_eq!(
        ctx.outputs.get(),
        ctx.ended_done.load(Ordering::SeqCst),
        "round {number}: every output dropped exactly once"
    );
    assert!(
        completed > 0
            && cancelled > 0
            && ctx.timer.fired.load(Ordering::Relaxed) > 0
            && ctx.foreign_wakes.load(Ordering::Relaxed) > 0
            && ctx.cancels.load(Ordering::Relaxed) > 0
            && locals > 0,
        "round {number}: every kind of task ran"
    );
    let ran_on: Vec<usize> = ctx
        .ran_on
        .iter()
        .map(|n| n.load(Ordering::Relaxed))
        .collect();
    assert!(
        ran_on.iter().filter(|&&n| n > 0).count() >= 2,
        "round {number}: one worker ran everything: {ran_on:?}"
    );
    Outcome {
        spawned,
        completed,
        cancelled,
        ran_on,
        elapsed: started.elapsed(),
    }
}

fn ended(ctx: &Ctx) -> usize {
    ctx.ended_done.load(Ordering::SeqCst) + ctx.ended_early.load(Ordering::SeqCst)
}

#[test]
fn eight_workers_balance_every_count_over_twenty_rounds() {
    let (rounds, tasks, foreign_tasks) = sizes();
    let started = Instant::now();
    let mut total = 0;
    for number in 0..rounds {
        let outcome = round(number, tasks, foreign_tasks);
        total += outcome.spawned;
        eprintln!(
            "multi_stress round {number}: {} tasks, {} completed, {} cancelled, per worker {:?}, {:?}",
            outcome.spawned, outcome.completed, outcome.cancelled, outcome.ran_on, outcome.elapsed
        );
    }
    eprintln!(
        "multi_stress: {rounds} rounds, {total} tasks, {:?}",
        started.elapsed()
    );
}
