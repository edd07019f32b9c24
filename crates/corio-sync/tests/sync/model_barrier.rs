//! proptest model tests of `Barrier` and `BoundedSemaphore`: random sequences
//! of operations, with waiter futures polled by hand (counting wakers) and
//! dropped at random points, checked step by step against a plain sequential
//! model. For `Barrier`: `n_waiting`, round release with the arrival-order
//! indices, abort/reset breaking the waiters, dropped waiters leaving the
//! round, one wake per completed waiter and none otherwise. For
//! `BoundedSemaphore`: `release` overflows exactly when no forgotten permit is
//! missing, no permit lost or duplicated, FIFO grants, one wake per grant,
//! and asyncio's rule that a granted waiter not yet polled still counts as
//! a waiter (`is_locked()`, no `try_acquire` or new acquire before it).

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::task::{Poll, Waker};

use crate::lock_support::Probe;
use crate::signal_support::{poll_with, recorder, Recorder};
use corio_sync::{Barrier, BarrierWait, BoundedSemaphore, BrokenBarrier, Permit};
use proptest::prelude::*;
use proptest::sample::Index;

// ---------------------------------------------------------------- Barrier

#[derive(Debug, Clone)]
enum BarrierOp {
    /// Start a `wait()` and poll it once.
    Start,
    /// Poll a live waiter; with `true`, with a fresh waker.
    Poll(Index, bool),
    /// Drop a live waiter.
    Drop(Index),
    Abort,
    Reset,
}

fn barrier_op() -> impl Strategy<Value = BarrierOp> {
    prop_oneof![
        5 => Just(BarrierOp::Start),
        3 => (any::<Index>(), any::<bool>()).prop_map(|(i, fresh)| BarrierOp::Poll(i, fresh)),
        2 => any::<Index>().prop_map(BarrierOp::Drop),
        1 => Just(BarrierOp::Abort),
        1 => Just(BarrierOp::Reset),
    ]
}

/// A `wait()` future that returned `Pending` on its first poll, with the
/// waker it was last polled with and what the model expects of it.
struct BarrierWaiter<'a> {
    id: usize,
    fut: BarrierWait<'a>,
    waker: Waker,
    rec: Arc<Recorder>,
    /// `None` while queued in the round being filled; `Some(outcome)` once
    /// the model says it completed (and must have been woken).
    done: Option<Result<usize, BrokenBarrier>>,
}

impl BarrierWaiter<'_> {
    /// Woken exactly once if the model says it completed, never otherwise.
    #[track_caller]
    fn check_wakes(&self) {
        assert_eq!(
            self.rec.wakes(),
            usize::from(self.done.is_some()),
            "barrier waiter {} woken {} times, model says {:?}",
            self.id,
            self.rec.wakes(),
            self.done
        );
    }
}

/// The sequential model of the barrier.
#[derive(Debug, Default)]
struct BarrierModel {
    broken: bool,
    /// Ids of the waiters of the round being filled, in arrival order.
    round: Vec<usize>,
}

fn run_barrier(parties: usize, ops: Vec<BarrierOp>) {
    let barrier = Barrier::new(parties);
    let mut model = BarrierModel::default();
    let mut live: Vec<BarrierWaiter<'_>> = Vec::new();
    let mut next_id = 0;
    // Everything queued in the model goes to `outcome` on abort/reset.
    let break_round = |model: &mut BarrierModel, live: &mut [BarrierWaiter<'_>]| {
        for id in model.round.drain(..) {
            let w = live.iter_mut().find(|w| w.id == id).unwrap();
            assert!(w.done.is_none());
            w.done = Some(Err(BrokenBarrier));
        }
    };
    for op in ops {
        match op {
            BarrierOp::Start => {
                let id = next_id;
                next_id += 1;
                let (waker, rec) = recorder();
                let mut fut = barrier.wait();
                let poll = poll_with(&mut fut, &waker);
                assert_eq!(rec.wakes(), 0, "a waiter woke itself on its first poll");
                if model.broken {
                    assert_eq!(
                        poll,
                        Poll::Ready(Err(BrokenBarrier)),
                        "wait on a broken barrier"
                    );
                } else if model.round.len() + 1 < parties {
                    assert_eq!(poll, Poll::Pending, "wait ready before the round filled");
                    model.round.push(id);
                    live.push(BarrierWaiter {
                        id,
                        fut,
                        waker,
                        rec,
                        done: None,
                    });
                } else {
                    // The last party: it takes `parties - 1` and releases the
                    // round with indices in arrival order; the next round
                    // starts empty at once.
                    assert_eq!(poll, Poll::Ready(Ok(parties - 1)), "last party's index");
                    for (index, id) in model.round.drain(..).enumerate() {
                        let w = live.iter_mut().find(|w| w.id == id).unwrap();
                        assert!(w.done.is_none());
                        w.done = Some(Ok(index));
                    }
                }
            }
            BarrierOp::Poll(i, fresh) if !live.is_empty() => {
                let i = i.index(live.len());
                // No lost wakeup: a waiter the model says is done was woken
                // (exactly once) before this poll.
                live[i].check_wakes();
                if fresh {
                    let (waker, rec) = recorder();
                    live[i].waker = waker;
                    live[i].rec = rec;
                }
                let w = &mut live[i];
                let poll = poll_with(&mut w.fut, &w.waker);
                match w.done {
                    Some(outcome) => {
                        assert_eq!(poll, Poll::Ready(outcome), "waiter {}", w.id);
                        live.remove(i);
                    }
                    None => assert_eq!(poll, Poll::Pending, "waiter {} ready early", w.id),
                }
            }
            BarrierOp::Drop(i) if !live.is_empty() => {
                let w = live.remove(i.index(live.len()));
                w.check_wakes();
                if w.done.is_none() {
                    // A queued waiter leaves the round.
                    model.round.retain(|&id| id != w.id);
                }
                drop(w);
            }
            BarrierOp::Abort => {
                barrier.abort();
                model.broken = true;
                break_round(&mut model, &mut live);
            }
            BarrierOp::Reset => {
                barrier.reset();
                model.broken = false;
                break_round(&mut model, &mut live);
            }
            BarrierOp::Poll(..) | BarrierOp::Drop(_) => {}
        }
        assert_eq!(barrier.n_waiting(), model.round.len(), "n_waiting");
        assert!(model.round.len() < parties);
        assert_eq!(barrier.is_broken(), model.broken, "is_broken");
        assert!(!model.broken || model.round.is_empty());
        for w in &live {
            w.check_wakes();
        }
    }
    // Dropping every waiter empties the round.
    drop(live);
    assert_eq!(barrier.n_waiting(), 0);
}

// ------------------------------------------------------- BoundedSemaphore

#[derive(Debug, Clone)]
enum SemOp {
    TryAcquire(usize),
    /// Start an `acquire_many(k)` and poll it once.
    StartAcquire(usize),
    PollWaiter(Index),
    DropWaiter(Index),
    DropPermit(Index),
    ForgetPermit(Index),
    Release,
}

fn sem_op() -> impl Strategy<Value = SemOp> {
    prop_oneof![
        2 => (1..=2usize).prop_map(SemOp::TryAcquire),
        4 => (0..=2usize).prop_map(SemOp::StartAcquire),
        3 => any::<Index>().prop_map(SemOp::PollWaiter),
        2 => any::<Index>().prop_map(SemOp::DropWaiter),
        3 => any::<Index>().prop_map(SemOp::DropPermit),
        2 => any::<Index>().prop_map(SemOp::ForgetPermit),
        3 => Just(SemOp::Release),
    ]
}

/// The sequential model: the count, the FIFO queue, who was granted, and
/// how many permits were forgotten (what `release` may still add back).
#[derive(Debug, Default)]
struct SemModel {
    available: usize,
    /// Queued (not yet granted) waiters' ids and requests, FIFO.
    queue: VecDeque<(usize, usize)>,
    /// Granted (and woken) but not yet polled: ids and permits.
    granted: Vec<(usize, usize)>,
    forgotten: usize,
}

impl SemModel {
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

    /// asyncio's `locked()` rule, for `k` permits: nobody waits (queued or
    /// granted-but-not-run) and `k` are free.
    fn free_for(&self, k: usize) -> bool {
        self.queue.is_empty() && self.granted.is_empty() && self.available >= k
    }
}

struct SemWaiter<F> {
    id: usize,
    k: usize,
    probe: Probe<F>,
}

fn start<'a>(sem: &'a BoundedSemaphore, k: usize) -> Probe<impl Future<Output = Permit<'a>>> {
    Probe::new(sem.acquire_many(k))
}

fn run_bounded(bound: usize, ops: Vec<SemOp>) {
    let sem = BoundedSemaphore::new(bound);
    let mut model = SemModel {
        available: bound,
        ..SemModel::default()
    };
    let mut held: Vec<Permit<'_>> = Vec::new();
    let mut waiters = Vec::new();
    let mut next_id = 0;
    for op in ops {
        match op {
            SemOp::TryAcquire(k) => {
                let expect = model.free_for(k);
                match sem.try_acquire_many(k) {
                    Some(p) => {
                        assert!(expect, "try_acquire overtook a waiter or over-granted");
                        assert_eq!(p.num_permits(), k);
                        model.available -= k;
                        held.push(p);
                    }
                    None => assert!(!expect, "try_acquire failed with permits free"),
                }
            }
            SemOp::StartAcquire(k) => {
                let id = next_id;
                next_id += 1;
                let mut probe = start(&sem, k);
                let immediate = k == 0 || model.free_for(k);
                match probe.poll() {
                    Poll::Ready(p) => {
                        assert!(immediate, "acquire of {k} ready out of turn");
                        assert_eq!(p.num_permits(), k);
                        model.available -= k;
                        held.push(p);
                    }
                    Poll::Pending => {
                        assert!(!immediate, "acquire of {k} pending with permits free");
                        model.queue.push_back((id, k));
                        waiters.push(SemWaiter { id, k, probe });
                    }
                }
            }
            SemOp::PollWaiter(i) if !waiters.is_empty() => {
                let i = i.index(waiters.len());
                let id = waiters[i].id;
                let granted = model.granted.iter().position(|&(g, _)| g == id);
                match waiters[i].probe.poll() {
                    Poll::Ready(p) => {
                        let at = granted.expect("ready without being granted");
                        assert_eq!(waiters[i].probe.wakes(), 1, "granted without a wake");
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
            SemOp::DropWaiter(i) if !waiters.is_empty() => {
                let w = waiters.remove(i.index(waiters.len()));
                if let Some(at) = model.granted.iter().position(|&(g, _)| g == w.id) {
                    // Granted but never taken: the permits pass on.
                    let (_, k) = model.granted.remove(at);
                    model.available += k;
                } else {
                    let at = model.queue.iter().position(|&(q, _)| q == w.id).unwrap();
                    model.queue.remove(at);
                }
                model.grant();
                drop(w);
            }
            SemOp::DropPermit(i) if !held.is_empty() => {
                let p = held.remove(i.index(held.len()));
                let k = p.num_permits();
                model.available += k;
                drop(p);
                // Giving back no permit (an `acquire_many(0)` guard) touches
                // nothing: a waiter queued behind a granted one waits for it.
                if k > 0 {
                    model.grant();
                }
            }
            SemOp::ForgetPermit(i) if !held.is_empty() => {
                let p = held.remove(i.index(held.len()));
                model.forgotten += p.num_permits();
                p.forget();
            }
            SemOp::Release => {
                let res = sem.release();
                if model.forgotten == 0 {
                    assert!(res.is_err(), "release past the bound succeeded");
                } else {
                    assert!(res.is_ok(), "release of a forgotten permit failed");
                    model.forgotten -= 1;
                    model.available += 1;
                    model.grant();
                }
            }
            SemOp::PollWaiter(_)
            | SemOp::DropWaiter(_)
            | SemOp::DropPermit(_)
            | SemOp::ForgetPermit(_) => {}
        }
        // The real semaphore agrees with the model.
        assert_eq!(sem.available(), model.available, "available");
        assert_eq!(
            sem.is_locked(),
            model.available == 0 || !model.free_for(0),
            "is_locked"
        );
        // Each waiter woken once if granted, never otherwise.
        for w in &waiters {
            let granted = model.granted.iter().any(|&(g, _)| g == w.id);
            assert_eq!(
                w.probe.wakes(),
                usize::from(granted),
                "waiter {} wake count",
                w.id
            );
        }
        // No permit lost or duplicated, and never more than the bound.
        let held_n: usize = held.iter().map(Permit::num_permits).sum();
        let granted_n: usize = model.granted.iter().map(|&(_, k)| k).sum();
        assert_eq!(
            sem.available() + held_n + granted_n + model.forgotten,
            bound,
            "permits in circulation"
        );
    }
    // Dropping everything and releasing every forgotten permit restores the
    // bound, and one more release overflows.
    drop(waiters);
    drop(held);
    for _ in 0..model.forgotten {
        sem.release().unwrap();
    }
    assert_eq!(sem.available(), bound);
    assert!(sem.release().is_err());
    assert_eq!(sem.available(), bound);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn barrier_matches_its_model(
        parties in 2..=4usize,
        ops in prop::collection::vec(barrier_op(), 1..80),
    ) {
        run_barrier(parties, ops);
    }

    #[test]
    fn bounded_semaphore_matches_its_model(
        bound in 0..=4usize,
        ops in prop::collection::vec(sem_op(), 1..80),
    ) {
        run_bounded(bound, ops);
    }
}
