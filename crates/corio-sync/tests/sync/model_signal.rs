//! proptest model tests of Event, Promise and Condition: random sequences
//! of operations, including dropping waiters at random points, run against
//! a plain sequential model. Checked after every step: no waiter woken
//! twice, no lost wakeup, the waiter count, for Promise that its
//! done-callbacks ran exactly once each, in the order added, with the
//! outcome, and for Condition that `notify(n)` wakes exactly
//! `min(n, waiting)` waiters, oldest first.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use crate::signal_support::{poll_with, recorder, Recorder};
use corio_sync::{
    Cancelled, Condition, Event, EventWait, Lock, LockGuard, Promise, PromiseError, PromiseWait,
};
use proptest::prelude::*;
use proptest::sample::Index;

/// A waiter future under test, with its waker's wake counter.
struct Live<F> {
    fut: F,
    waker: std::task::Waker,
    rec: Arc<Recorder>,
    /// What the model expects of it.
    state: Expect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Queued, not woken.
    Waiting,
    /// Woken once; its next poll completes.
    Woken,
}

impl<F: Future + Unpin> Live<F> {
    fn start(fut: F) -> (Live<F>, Poll<F::Output>) {
        let (waker, rec) = recorder();
        let mut live = Live {
            fut,
            waker,
            rec,
            state: Expect::Waiting,
        };
        let poll = poll_with(&mut live.fut, &live.waker);
        (live, poll)
    }

    fn poll(&mut self) -> Poll<F::Output> {
        poll_with(&mut self.fut, &self.waker)
    }

    /// The waker was woken exactly once if the model says so, else never.
    fn check_wakes(&self) {
        let expected = usize::from(self.state == Expect::Woken);
        assert_eq!(
            self.rec.wakes(),
            expected,
            "woken {} times, model says {:?}",
            self.rec.wakes(),
            self.state
        );
    }
}

/// Marks the first `n` waiting waiters woken, as `notify(n)` should; returns how many.
fn notify_front<F>(live: &mut [Live<F>], n: usize) -> usize {
    let mut woken = 0;
    for l in live
        .iter_mut()
        .filter(|l| l.state == Expect::Waiting)
        .take(n)
    {
        l.state = Expect::Woken;
        woken += 1;
    }
    woken
}

type CondWait<'a> = Pin<Box<dyn Future<Output = LockGuard<'a, u32>> + 'a>>;

fn count_waiting<F>(live: &[Live<F>]) -> usize {
    live.iter().filter(|l| l.state == Expect::Waiting).count()
}

#[derive(Debug, Clone)]
enum EventOp {
    Set,
    Clear,
    Start,
    Poll(Index),
    Drop(Index),
}

fn event_op() -> impl Strategy<Value = EventOp> {
    prop_oneof![
        1 => Just(EventOp::Set),
        1 => Just(EventOp::Clear),
        3 => Just(EventOp::Start),
        2 => any::<Index>().prop_map(EventOp::Poll),
        2 => any::<Index>().prop_map(EventOp::Drop),
    ]
}

/// What the model's done-callbacks record: (callback id, outcome seen).
type CallbackLog = Arc<Mutex<Vec<(usize, Result<u8, PromiseError>)>>>;

#[derive(Debug, Clone)]
enum PromiseOp {
    Set(u8),
    Fail,
    Cancel,
    AddCallback,
    Start,
    Poll(Index),
    Drop(Index),
    TryResult,
}

fn promise_op() -> impl Strategy<Value = PromiseOp> {
    prop_oneof![
        1 => any::<u8>().prop_map(PromiseOp::Set),
        1 => Just(PromiseOp::Fail),
        1 => Just(PromiseOp::Cancel),
        2 => Just(PromiseOp::AddCallback),
        4 => Just(PromiseOp::Start),
        2 => any::<Index>().prop_map(PromiseOp::Poll),
        2 => any::<Index>().prop_map(PromiseOp::Drop),
        1 => Just(PromiseOp::TryResult),
    ]
}

#[derive(Debug, Clone)]
enum ConditionOp {
    Start,
    Notify(usize),
    NotifyAll,
    Poll(Index),
    Drop(Index),
}

fn condition_op() -> impl Strategy<Value = ConditionOp> {
    prop_oneof![
        4 => Just(ConditionOp::Start),
        3 => (0usize..4).prop_map(ConditionOp::Notify),
        1 => Just(ConditionOp::NotifyAll),
        2 => any::<Index>().prop_map(ConditionOp::Poll),
        2 => any::<Index>().prop_map(ConditionOp::Drop),
    ]
}

proptest! {
    #[test]
    fn event_matches_its_model(ops in proptest::collection::vec(event_op(), 1..60)) {
        let event = Event::new();
        let mut flag = false;
        let mut live: Vec<Live<EventWait<'_>>> = Vec::new();
        for op in ops {
            match op {
                EventOp::Set => {
                    event.set();
                    flag = true;
                    for l in &mut live {
                        l.state = Expect::Woken;
                    }
                }
                EventOp::Clear => {
                    event.clear();
                    flag = false;
                }
                EventOp::Start => {
                    let (l, poll) = Live::start(event.wait());
                    prop_assert_eq!(poll.is_ready(), flag);
                    if poll.is_pending() {
                        live.push(l);
                    }
                }
                EventOp::Poll(i) if !live.is_empty() => {
                    let i = i.index(live.len());
                    let woken = live[i].state == Expect::Woken;
                    live[i].check_wakes();
                    prop_assert_eq!(live[i].poll().is_ready(), woken);
                    if woken {
                        live.remove(i);
                    }
                }
                EventOp::Drop(i) if !live.is_empty() => {
                    let l = live.remove(i.index(live.len()));
                    l.check_wakes();
                }
                EventOp::Poll(_) | EventOp::Drop(_) => {}
            }
            prop_assert_eq!(event.is_set(), flag);
            for l in &live {
                l.check_wakes();
            }
            let debug = format!("{event:?}");
            let expected = format!("waiting: {}", count_waiting(&live));
            prop_assert!(debug.contains(&expected), "{} vs {}", debug, expected);
        }
    }

    #[test]
    fn promise_matches_its_model(ops in proptest::collection::vec(promise_op(), 1..60)) {
        let promise = Promise::new();
        let mut outcome: Option<Result<u8, PromiseError>> = None;
        let mut live: Vec<Live<PromiseWait<'_, u8>>> = Vec::new();
        // Done-callbacks: the log they write (id, outcome seen), the ids
        // added while pending (to run at completion, in order), the next id.
        let log: CallbackLog = Arc::default();
        let mut expected_log = Vec::new();
        let mut queued = Vec::new();
        let mut next_id = 0;
        // One error value, so that the `Failed` outcome compares equal.
        let failure = PromiseError::from("model failure");
        for op in ops {
            let complete = match op {
                PromiseOp::Set(v) => {
                    let res = promise.set_result(v);
                    if outcome.is_none() {
                        prop_assert_eq!(res, Ok(()));
                        Some(Ok(v))
                    } else {
                        prop_assert_eq!(res, Err(v));
                        None
                    }
                }
                PromiseOp::Fail => {
                    let res = promise.set_exception(failure.clone());
                    prop_assert_eq!(res.is_ok(), outcome.is_none());
                    outcome.is_none().then(|| Err(failure.clone()))
                }
                PromiseOp::Cancel => {
                    prop_assert_eq!(promise.cancel(), outcome.is_none());
                    outcome.is_none().then(|| Err(PromiseError::from(Cancelled)))
                }
                PromiseOp::AddCallback => {
                    let (id, log2) = (next_id, Arc::clone(&log));
                    next_id += 1;
                    promise.add_done_callback(move |o| log2.lock().unwrap().push((id, o.clone())));
                    match &outcome {
                        Some(o) => expected_log.push((id, o.clone())),
                        None => queued.push(id),
                    }
                    None
                }
                PromiseOp::Start => {
                    let (l, poll) = Live::start(promise.wait());
                    match &outcome {
                        Some(expected) => prop_assert_eq!(poll, Poll::Ready(expected.clone())),
                        None => {
                            prop_assert!(poll.is_pending());
                            live.push(l);
                        }
                    }
                    None
                }
                PromiseOp::Poll(i) if !live.is_empty() => {
                    let i = i.index(live.len());
                    live[i].check_wakes();
                    let poll = live[i].poll();
                    match &outcome {
                        Some(expected) => {
                            prop_assert_eq!(poll, Poll::Ready(expected.clone()));
                            live.remove(i);
                        }
                        None => prop_assert!(poll.is_pending()),
                    }
                    None
                }
                PromiseOp::Drop(i) if !live.is_empty() => {
                    let l = live.remove(i.index(live.len()));
                    l.check_wakes();
                    None
                }
                PromiseOp::TryResult => {
                    prop_assert_eq!(promise.try_result(), outcome.clone());
                    None
                }
                PromiseOp::Poll(_) | PromiseOp::Drop(_) => None,
            };
            if let Some(done) = complete {
                for l in &mut live {
                    l.state = Expect::Woken;
                }
                expected_log.extend(queued.drain(..).map(|id| (id, done.clone())));
                outcome = Some(done);
            }
            prop_assert_eq!(&*log.lock().unwrap(), &expected_log);
            prop_assert_eq!(promise.is_done(), outcome.is_some());
            prop_assert_eq!(
                promise.is_cancelled(),
                matches!(outcome, Some(Err(ref e)) if e.is_cancelled())
            );
            for l in &live {
                l.check_wakes();
            }
            let debug = format!("{promise:?}");
            let expected = format!("waiting: {}", count_waiting(&live));
            prop_assert!(debug.contains(&expected), "{} vs {}", debug, expected);
        }
    }

    #[test]
    fn condition_notify_matches_its_model(ops in proptest::collection::vec(condition_op(), 1..60)) {
        let lock = Lock::new(0u32);
        let condition = Condition::new();
        // In start order, so the FIFO is the order of the `Waiting` ones.
        let mut live: Vec<Live<CondWait<'_>>> = Vec::new();
        for op in ops {
            match op {
                ConditionOp::Start => {
                    let guard = lock.try_lock().expect("no guard is ever kept");
                    let fut: CondWait<'_> = Box::pin(condition.wait(guard));
                    let (l, poll) = Live::start(fut);
                    prop_assert!(poll.is_pending());
                    prop_assert!(!lock.is_locked());
                    live.push(l);
                }
                ConditionOp::Notify(n) => {
                    let before: Vec<_> = live.iter().map(|l| l.rec.wakes()).collect();
                    let waiting = count_waiting(&live);
                    condition.notify(n);
                    let woken = notify_front(&mut live, n);
                    prop_assert_eq!(woken, n.min(waiting));
                    let actually_woken = live.iter().zip(&before).filter(|(l, b)| l.rec.wakes() > **b).count();
                    prop_assert_eq!(actually_woken, n.min(waiting));
                }
                ConditionOp::NotifyAll => {
                    condition.notify_all();
                    notify_front(&mut live, usize::MAX);
                }
                ConditionOp::Poll(i) if !live.is_empty() => {
                    let i = i.index(live.len());
                    live[i].check_wakes();
                    let woken = live[i].state == Expect::Woken;
                    match live[i].poll() {
                        Poll::Ready(mut guard) => {
                            prop_assert!(woken, "completed without a notification");
                            *guard += 1;
                            drop(guard);
                            live.remove(i);
                        }
                        Poll::Pending => prop_assert!(!woken, "notified but not completed"),
                    }
                }
                ConditionOp::Drop(i) if !live.is_empty() => {
                    let l = live.remove(i.index(live.len()));
                    l.check_wakes();
                    let passed_on = l.state == Expect::Woken;
                    drop(l);
                    if passed_on {
                        notify_front(&mut live, 1);
                    }
                }
                ConditionOp::Poll(_) | ConditionOp::Drop(_) => {}
            }
            prop_assert!(!lock.is_locked(), "the lock is never left held");
            for l in &live {
                l.check_wakes();
            }
            prop_assert_eq!(format!("{condition:?}"), format!("Condition {{ waiting: {} }}", count_waiting(&live)));
        }
    }
}
