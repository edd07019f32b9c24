//! proptest model tests of `Semaphore` and `Lock`: random sequences of
//! try-acquires, acquire futures started (polled once), re-polled, dropped
//! while pending, releases and permit drops/forgets, checked step by step
//! against a plain sequential FIFO model: no lost or duplicated permit, no
//! waiter woken twice (or woken without being granted), strict FIFO grant
//! order, and a dropped waiter never keeps its permits. The model follows
//! asyncio's rule: a waiter granted its permits but not yet polled (in
//! asyncio, woken but not yet run) still counts as a waiter, so
//! `is_locked()` holds, `try_acquire` fails and a new acquire queues behind
//! it; when it takes its grant, permits freed meanwhile go to the queue.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use crate::lock_support::Probe;
use corio_sync::{Lock, OwnedLockGuard, OwnedPermit, Semaphore};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    TryAcquire(usize),
    StartAcquire(usize),
    PollWaiter(usize),
    DropWaiter(usize),
    Release,
    DropPermit(usize),
    ForgetPermit(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1..=3usize).prop_map(Op::TryAcquire),
        4 => (0..=3usize).prop_map(Op::StartAcquire),
        3 => any::<usize>().prop_map(Op::PollWaiter),
        2 => any::<usize>().prop_map(Op::DropWaiter),
        2 => Just(Op::Release),
        3 => any::<usize>().prop_map(Op::DropPermit),
        1 => any::<usize>().prop_map(Op::ForgetPermit),
    ]
}

/// The sequential model: FIFO queue of requests, the count, who was granted.
#[derive(Debug, Default)]
struct Model {
    available: usize,
    /// Ids of queued (not yet granted) waiters with their requests, FIFO.
    queue: VecDeque<(usize, usize)>,
    /// Ids granted (and woken) but not yet polled, with their permits.
    granted: Vec<(usize, usize)>,
}

impl Model {
    /// asyncio's `locked()` rule, for `k` permits: nobody waits (queued or
    /// granted-but-not-run) and `k` are free.
    fn free_for(&self, k: usize) -> bool {
        self.queue.is_empty() && self.granted.is_empty() && self.available >= k
    }
}

impl Model {
    /// Hands permits to the queue's head while its request fits.
    fn grant(&mut self) {
        while let Some(&(id, k)) = self.queue.front() {
            if k > self.available {
                break;
            }
            self.available -= k;
            self.queue.pop_front();
            self.granted.push((id, k));
        }
    }
}

struct Waiter<F> {
    id: usize,
    k: usize,
    probe: Probe<F>,
}

fn start(sem: &Arc<Semaphore>, k: usize) -> Probe<impl Future<Output = OwnedPermit>> {
    Probe::new(sem.clone().acquire_many_owned(k))
}

fn run_semaphore(initial: usize, ops: Vec<Op>) {
    let sem = Arc::new(Semaphore::new(initial));
    let mut model = Model {
        available: initial,
        ..Model::default()
    };
    let mut total = initial; // permits ever created
    let mut forgotten = 0;
    let mut held: Vec<OwnedPermit> = Vec::new();
    let mut borrowed_held = 0usize; // permits of try_acquire guards, kept in `held` too
    let mut waiters = Vec::new();
    let mut next_id = 0;
    for op in ops {
        match op {
            Op::TryAcquire(k) => {
                let expect = model.free_for(k);
                match sem.try_acquire_many(k) {
                    Some(p) => {
                        assert!(expect, "try_acquire overtook a waiter or over-granted");
                        model.available -= k;
                        p.forget(); // stand-in for a held guard: re-add on "drop"
                        borrowed_held += k;
                    }
                    None => assert!(!expect, "try_acquire failed with permits free"),
                }
            }
            Op::StartAcquire(k) => {
                let id = next_id;
                next_id += 1;
                let mut probe = start(&sem, k);
                let immediate = k == 0 || model.free_for(k);
                match probe.poll() {
                    Poll::Ready(p) => {
                        assert!(immediate, "acquire of {k} ready out of turn");
                        model.available -= k;
                        held.push(p);
                    }
                    Poll::Pending => {
                        assert!(!immediate, "acquire of {k} pending with permits free");
                        model.queue.push_back((id, k));
                        waiters.push(Waiter { id, k, probe });
                    }
                }
            }
            Op::PollWaiter(i) if !waiters.is_empty() => {
                let i = i % waiters.len();
                let id = waiters[i].id;
                let granted = model.granted.iter().position(|&(g, _)| g == id);
                match waiters[i].probe.poll() {
                    Poll::Ready(p) => {
                        let at = granted.expect("ready without being granted");
                        assert_eq!(p.num_permits(), waiters[i].k);
                        model.granted.remove(at);
                        // It ran: permits freed since go to the queue.
                        model.grant();
                        held.push(p);
                        waiters.remove(i);
                    }
                    Poll::Pending => assert!(granted.is_none(), "granted but pending"),
                }
            }
            Op::DropWaiter(i) if !waiters.is_empty() => {
                let w = waiters.remove(i % waiters.len());
                if let Some(at) = model.granted.iter().position(|&(g, _)| g == w.id) {
                    let (_, k) = model.granted.remove(at);
                    model.available += k;
                } else {
                    let at = model.queue.iter().position(|&(q, _)| q == w.id).unwrap();
                    model.queue.remove(at);
                }
                model.grant();
                drop(w);
            }
            Op::Release => {
                sem.release();
                total += 1;
                model.available += 1;
                model.grant();
            }
            Op::DropPermit(i) => {
                if borrowed_held > 0 && (held.is_empty() || i % 2 == 0) {
                    // Give back one of the try_acquire'd permits.
                    sem.release();
                    borrowed_held -= 1;
                    model.available += 1;
                    model.grant();
                } else if !held.is_empty() {
                    let p = held.remove(i % held.len());
                    let k = p.num_permits();
                    model.available += k;
                    drop(p);
                    // Giving back no permit (an `acquire_many(0)` guard) touches
                    // nothing: a waiter queued behind a granted one waits for it.
                    if k > 0 {
                        model.grant();
                    }
                }
            }
            Op::ForgetPermit(i) if !held.is_empty() => {
                let p = held.remove(i % held.len());
                forgotten += p.num_permits();
                p.forget();
            }
            _ => {}
        }
        // The real semaphore agrees with the model.
        assert_eq!(sem.available(), model.available);
        assert_eq!(sem.is_locked(), model.available == 0 || !model.free_for(0));
        // Each waiter was woken once if granted, never otherwise.
        for w in &waiters {
            let granted = model.granted.iter().any(|&(g, _)| g == w.id);
            assert_eq!(
                w.probe.wakes(),
                usize::from(granted),
                "waiter {} wake count",
                w.id
            );
        }
        // No permit lost or duplicated.
        let held_n: usize = held.iter().map(OwnedPermit::num_permits).sum();
        let granted_n: usize = model.granted.iter().map(|&(_, k)| k).sum();
        assert_eq!(
            sem.available() + held_n + borrowed_held + granted_n + forgotten,
            total
        );
    }
    // Dropping everything returns every permit that was not forgotten.
    drop(waiters);
    drop(held);
    for _ in 0..borrowed_held {
        sem.release();
    }
    assert_eq!(sem.available(), total - forgotten);
    assert!(!sem.is_locked() || total == forgotten);
}

#[derive(Debug, Clone)]
enum LockOp {
    TryLock,
    StartLock,
    PollWaiter(usize),
    DropWaiter(usize),
    Unlock,
}

fn lock_op() -> impl Strategy<Value = LockOp> {
    prop_oneof![
        1 => Just(LockOp::TryLock),
        3 => Just(LockOp::StartLock),
        3 => any::<usize>().prop_map(LockOp::PollWaiter),
        2 => any::<usize>().prop_map(LockOp::DropWaiter),
        2 => Just(LockOp::Unlock),
    ]
}

fn start_lock(lock: &Arc<Lock<u64>>) -> Probe<impl Future<Output = OwnedLockGuard<u64>>> {
    Probe::new(lock.clone().lock_owned())
}

fn run_lock(ops: Vec<LockOp>) {
    let lock = Arc::new(Lock::new(0u64));
    let mut holder: Option<OwnedLockGuard<u64>> = None;
    // Model: queued ids in FIFO order, the id granted-but-not-polled.
    let mut queue: VecDeque<usize> = VecDeque::new();
    let mut granted: Option<usize> = None;
    let mut waiters: Vec<(usize, Probe<_>)> = Vec::new();
    let mut next_id = 0;
    let mut entries = 0u64; // critical sections entered
    let hand_off = |queue: &mut VecDeque<usize>, granted: &mut Option<usize>| {
        debug_assert!(granted.is_none());
        *granted = queue.pop_front();
    };
    for op in ops {
        let free = holder.is_none() && granted.is_none();
        match op {
            LockOp::TryLock => match lock.clone().try_lock_owned() {
                Some(mut g) => {
                    assert!(free && queue.is_empty());
                    *g += 1;
                    entries += 1;
                    holder = Some(g);
                }
                None => assert!(!free || !queue.is_empty()),
            },
            LockOp::StartLock => {
                let id = next_id;
                next_id += 1;
                let mut probe = start_lock(&lock);
                match probe.poll() {
                    Poll::Ready(mut g) => {
                        assert!(free && queue.is_empty(), "lock ready out of turn");
                        *g += 1;
                        entries += 1;
                        holder = Some(g);
                    }
                    Poll::Pending => {
                        assert!(!free || !queue.is_empty());
                        queue.push_back(id);
                        waiters.push((id, probe));
                    }
                }
            }
            LockOp::PollWaiter(i) if !waiters.is_empty() => {
                let i = i % waiters.len();
                let id = waiters[i].0;
                match waiters[i].1.poll() {
                    Poll::Ready(mut g) => {
                        assert_eq!(granted, Some(id), "ready without being handed the lock");
                        assert!(holder.is_none());
                        granted = None;
                        assert_eq!(*g, entries, "data from the previous holder");
                        *g += 1;
                        entries += 1;
                        holder = Some(g);
                        waiters.remove(i);
                    }
                    Poll::Pending => assert_ne!(granted, Some(id)),
                }
            }
            LockOp::DropWaiter(i) if !waiters.is_empty() => {
                let (id, probe) = waiters.remove(i % waiters.len());
                if granted == Some(id) {
                    granted = None;
                    hand_off(&mut queue, &mut granted);
                } else {
                    queue.retain(|&q| q != id);
                }
                drop(probe);
            }
            LockOp::Unlock => {
                if let Some(g) = holder.take() {
                    drop(g);
                    hand_off(&mut queue, &mut granted);
                }
            }
            _ => {}
        }
        assert_eq!(lock.is_locked(), holder.is_some() || granted.is_some());
        for (id, probe) in &waiters {
            assert_eq!(
                probe.wakes(),
                usize::from(granted == Some(*id)),
                "waiter {id} wake count"
            );
        }
    }
    drop(holder);
    drop(waiters);
    assert!(!lock.is_locked());
    assert_eq!(*lock.clone().try_lock_owned().unwrap(), entries);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn semaphore_matches_fifo_model(initial in 0..4usize, ops in prop::collection::vec(op(), 1..80)) {
        run_semaphore(initial, ops);
    }

    #[test]
    fn lock_matches_fifo_model(ops in prop::collection::vec(lock_op(), 1..80)) {
        run_lock(ops);
    }
}
