//! proptest: random sequences of queue operations, including futures polled
//! by hand and dropped at random points, checked step by step against a plain
//! sequential model (a `VecDeque` and counters) for all three queue kinds.
//!
//! Checked after every step: each operation's outcome, `qsize`, and the wake
//! count of every live future (exactly what the model says: no waiter woken
//! twice, none woken for nothing, none forgotten). Checked over the run: no
//! item lost or duplicated (every item put is got, handed back, dropped with
//! its future or thrown away by an immediate shutdown, exactly once), FIFO
//! order kept by `Queue`, and the unfinished count (via `task_done` and
//! `join`) as the model keeps it.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use corio_sync::{
    LifoQueue, PriorityQueue, Queue, QueueShutDown, TaskDoneError, TryGetError, TryPutError,
};
use proptest::prelude::*;

use crate::queue_support::Recorder;

type Item = u32;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Fifo,
    Lifo,
    Priority,
}

/// The operations a test run draws from.
#[derive(Clone, Debug)]
enum Op {
    PutNowait(u16),
    GetNowait,
    StartPut(u16),
    StartGet,
    StartJoin,
    Poll(usize),
    Drop(usize),
    TaskDone,
    Shutdown(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u16>().prop_map(Op::PutNowait),
        4 => Just(Op::GetNowait),
        4 => any::<u16>().prop_map(Op::StartPut),
        4 => Just(Op::StartGet),
        1 => Just(Op::StartJoin),
        6 => any::<usize>().prop_map(Op::Poll),
        3 => any::<usize>().prop_map(Op::Drop),
        3 => Just(Op::TaskDone),
        1 => any::<bool>().prop_map(Op::Shutdown),
    ]
}

/// What a hand-polled future completes with.
#[derive(Debug, PartialEq)]
enum Out {
    Put(Result<(), QueueShutDown<Item>>),
    Get(Result<Item, QueueShutDown>),
    Join,
}

type Fut<'a> = Pin<Box<dyn Future<Output = Out> + 'a>>;

/// The three queue types behind one interface.
trait AnyQueue {
    fn put_nowait(&self, item: Item) -> Result<(), TryPutError<Item>>;
    fn get_nowait(&self) -> Result<Item, TryGetError>;
    fn put(&self, item: Item) -> Fut<'_>;
    fn get(&self) -> Fut<'_>;
    fn join(&self) -> Fut<'_>;
    fn task_done(&self) -> Result<(), TaskDoneError>;
    fn shutdown(&self, immediate: bool);
    fn qsize(&self) -> usize;
}

macro_rules! any_queue {
    ($($ty:ident),*) => {$(
        impl AnyQueue for $ty<Item> {
            fn put_nowait(&self, item: Item) -> Result<(), TryPutError<Item>> {
                $ty::put_nowait(self, item)
            }
            fn get_nowait(&self) -> Result<Item, TryGetError> {
                $ty::get_nowait(self)
            }
            fn put(&self, item: Item) -> Fut<'_> {
                Box::pin(async move { Out::Put($ty::put(self, item).await) })
            }
            fn get(&self) -> Fut<'_> {
                Box::pin(async move { Out::Get($ty::get(self).await) })
            }
            fn join(&self) -> Fut<'_> {
                Box::pin(async move {
                    $ty::join(self).await;
                    Out::Join
                })
            }
            fn task_done(&self) -> Result<(), TaskDoneError> {
                $ty::task_done(self)
            }
            fn shutdown(&self, immediate: bool) {
                $ty::shutdown(self, immediate)
            }
            fn qsize(&self) -> usize {
                $ty::qsize(self)
            }
        }
    )*};
}

any_queue!(Queue, LifoQueue, PriorityQueue);

/// What the model says a pending future will do when polled.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    GetWaiting,
    /// Woken with an item reserved for it.
    GetTicket,
    GetShutDown,
    PutWaiting(Item),
    PutDone,
    PutFailed(Item),
    JoinWaiting,
    JoinDone,
}

/// The sequential model: asyncio's queue with FIFO waiters.
struct Model {
    kind: Kind,
    capacity: usize,
    items: VecDeque<Item>,
    /// Items promised to woken getters.
    reserved: usize,
    unfinished: usize,
    shut_down: bool,
    getters: VecDeque<usize>,
    putters: VecDeque<usize>,
    joiners: Vec<usize>,
    futures: HashMap<usize, Expect>,
    wakes: HashMap<usize, usize>,
}

impl Model {
    fn new(kind: Kind, maxsize: usize) -> Self {
        Model {
            kind,
            capacity: if maxsize == 0 { usize::MAX } else { maxsize },
            items: VecDeque::new(),
            reserved: 0,
            unfinished: 0,
            shut_down: false,
            getters: VecDeque::new(),
            putters: VecDeque::new(),
            joiners: Vec::new(),
            futures: HashMap::new(),
            wakes: HashMap::new(),
        }
    }

    fn wake(&mut self, id: usize, to: Expect) {
        self.futures.insert(id, to);
        *self.wakes.entry(id).or_default() += 1;
    }

    fn insert(&mut self, item: Item) {
        self.items.push_back(item);
        self.unfinished += 1;
        if let Some(getter) = self.getters.pop_front() {
            self.reserved += 1;
            self.wake(getter, Expect::GetTicket);
        }
    }

    fn pop(&mut self) -> Option<Item> {
        let item = match self.kind {
            Kind::Fifo => self.items.pop_front(),
            Kind::Lifo => self.items.pop_back(),
            Kind::Priority => {
                let (index, _) = self
                    .items
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, item)| **item)?;
                self.items.remove(index)
            }
        }?;
        if let Some(putter) = self.putters.pop_front() {
            let Some(Expect::PutWaiting(moved)) = self.futures.get(&putter).copied() else {
                unreachable!()
            };
            self.wake(putter, Expect::PutDone);
            self.insert(moved);
        }
        Some(item)
    }

    fn put_nowait(&mut self, item: Item) -> Result<(), TryPutError<Item>> {
        if self.shut_down {
            Err(TryPutError::ShutDown(item))
        } else if self.items.len() >= self.capacity {
            Err(TryPutError::Full(item))
        } else {
            self.insert(item);
            Ok(())
        }
    }

    fn get_nowait(&mut self) -> Result<Item, TryGetError> {
        if self.items.len() > self.reserved {
            Ok(self.pop().unwrap())
        } else if self.shut_down {
            Err(TryGetError::ShutDown)
        } else {
            Err(TryGetError::Empty)
        }
    }

    /// The first poll of a new future.
    fn start(&mut self, id: usize, what: Op) -> Option<Out> {
        match what {
            Op::StartPut(_) | Op::PutNowait(_) => unreachable!(),
            Op::StartGet => {
                if self.items.len() > self.reserved {
                    return Some(Out::Get(Ok(self.pop().unwrap())));
                }
                if self.shut_down {
                    return Some(Out::Get(Err(QueueShutDown(()))));
                }
                self.getters.push_back(id);
                self.futures.insert(id, Expect::GetWaiting);
            }
            Op::StartJoin => {
                if self.unfinished == 0 {
                    return Some(Out::Join);
                }
                self.joiners.push(id);
                self.futures.insert(id, Expect::JoinWaiting);
            }
            _ => unreachable!(),
        }
        None
    }

    fn start_put(&mut self, id: usize, item: Item) -> Option<Out> {
        if self.shut_down {
            return Some(Out::Put(Err(QueueShutDown(item))));
        }
        if self.items.len() < self.capacity {
            self.insert(item);
            return Some(Out::Put(Ok(())));
        }
        self.putters.push_back(id);
        self.futures.insert(id, Expect::PutWaiting(item));
        None
    }

    fn poll(&mut self, id: usize) -> Option<Out> {
        let out = match self.futures[&id] {
            Expect::GetWaiting | Expect::PutWaiting(_) | Expect::JoinWaiting => return None,
            Expect::GetTicket => match self.pop() {
                Some(item) => {
                    self.reserved -= 1;
                    Out::Get(Ok(item))
                }
                None => Out::Get(Err(QueueShutDown(()))),
            },
            Expect::GetShutDown => Out::Get(Err(QueueShutDown(()))),
            Expect::PutDone => Out::Put(Ok(())),
            Expect::PutFailed(item) => Out::Put(Err(QueueShutDown(item))),
            Expect::JoinDone => Out::Join,
        };
        self.futures.remove(&id);
        Some(out)
    }

    /// A pending future dropped; returns the item dropped with it, if any.
    fn drop_future(&mut self, id: usize) -> Option<Item> {
        let dropped = match self.futures.remove(&id).unwrap() {
            Expect::GetWaiting => {
                self.getters.retain(|&g| g != id);
                None
            }
            Expect::GetTicket => {
                if self.reserved > 0 {
                    match self.getters.pop_front() {
                        Some(next) => self.wake(next, Expect::GetTicket),
                        None => self.reserved -= 1,
                    }
                }
                None
            }
            Expect::PutWaiting(item) => {
                self.putters.retain(|&p| p != id);
                Some(item)
            }
            Expect::PutFailed(item) => Some(item),
            Expect::JoinWaiting => {
                self.joiners.retain(|&j| j != id);
                None
            }
            Expect::GetShutDown | Expect::PutDone | Expect::JoinDone => None,
        };
        self.wakes.remove(&id);
        dropped
    }

    fn release_joiners(&mut self) {
        for joiner in std::mem::take(&mut self.joiners) {
            self.wake(joiner, Expect::JoinDone);
        }
    }

    fn task_done(&mut self) -> Result<(), TaskDoneError> {
        if self.unfinished == 0 {
            return Err(TaskDoneError);
        }
        self.unfinished -= 1;
        if self.unfinished == 0 {
            self.release_joiners();
        }
        Ok(())
    }

    /// Returns the items thrown away.
    fn shutdown(&mut self, immediate: bool) -> Vec<Item> {
        self.shut_down = true;
        let mut drained = Vec::new();
        if immediate {
            drained.extend(self.items.drain(..));
            self.unfinished = self.unfinished.saturating_sub(drained.len());
            self.reserved = 0;
            if self.unfinished == 0 {
                self.release_joiners();
            }
        }
        for getter in std::mem::take(&mut self.getters) {
            self.wake(getter, Expect::GetShutDown);
        }
        for putter in std::mem::take(&mut self.putters) {
            let Some(Expect::PutWaiting(item)) = self.futures.get(&putter).copied() else {
                unreachable!()
            };
            self.wake(putter, Expect::PutFailed(item));
        }
        drained
    }
}

/// Where each item put ended up; each must end up exactly once.
#[derive(Default)]
struct Ledger {
    put: Vec<Item>,
    accounted: Vec<Item>,
    got_in_order: Vec<Item>,
}

fn run(kind: Kind, maxsize: usize, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let queue: Box<dyn AnyQueue> = match kind {
        Kind::Fifo => Box::new(Queue::new(maxsize)),
        Kind::Lifo => Box::new(LifoQueue::new(maxsize)),
        Kind::Priority => Box::new(PriorityQueue::new(maxsize)),
    };
    let mut model = Model::new(kind, maxsize);
    let mut live: Vec<(usize, Fut<'_>, Arc<Recorder>)> = Vec::new();
    let mut ledger = Ledger::default();
    let mut next_id = 0;
    let mut seq: Item = 0;
    // Unique items; the low bits count up, so FIFO order is checkable.
    let mut item = |random: u16| {
        seq += 1;
        (Item::from(random) << 16) | seq
    };

    let record = |ledger: &mut Ledger, out: &Out| match out {
        Out::Get(Ok(item)) => {
            ledger.accounted.push(*item);
            ledger.got_in_order.push(*item);
        }
        Out::Put(Err(QueueShutDown(item))) => ledger.accounted.push(*item),
        _ => {}
    };

    for op in ops {
        match op {
            Op::PutNowait(random) => {
                let item = item(random);
                ledger.put.push(item);
                let result = queue.put_nowait(item);
                prop_assert_eq!(result, model.put_nowait(item));
                if let Err(err) = result {
                    ledger.accounted.push(err.into_inner());
                }
            }
            Op::GetNowait => {
                let result = queue.get_nowait();
                prop_assert_eq!(result, model.get_nowait());
                if let Ok(item) = result {
                    record(&mut ledger, &Out::Get(Ok(item)));
                }
            }
            Op::StartPut(_) | Op::StartGet | Op::StartJoin => {
                let id = next_id;
                next_id += 1;
                let (mut future, expected) = match op {
                    Op::StartPut(random) => {
                        let item = item(random);
                        ledger.put.push(item);
                        (queue.put(item), model.start_put(id, item))
                    }
                    Op::StartGet => (queue.get(), model.start(id, Op::StartGet)),
                    _ => (queue.join(), model.start(id, Op::StartJoin)),
                };
                let recorder = Arc::new(Recorder::default());
                let waker = Waker::from(recorder.clone());
                let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
                match polled {
                    Poll::Ready(out) => {
                        prop_assert_eq!(Some(&out), expected.as_ref());
                        record(&mut ledger, &out);
                    }
                    Poll::Pending => {
                        prop_assert_eq!(None, expected);
                        live.push((id, future, recorder));
                    }
                }
            }
            Op::Poll(index) if !live.is_empty() => {
                let index = index % live.len();
                let (id, future, recorder) = &mut live[index];
                let id = *id;
                let waker = Waker::from(recorder.clone());
                let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
                let expected = model.poll(id);
                match polled {
                    Poll::Ready(out) => {
                        prop_assert_eq!(Some(&out), expected.as_ref());
                        record(&mut ledger, &out);
                        drop(live.remove(index));
                        model.wakes.remove(&id);
                    }
                    Poll::Pending => prop_assert_eq!(None, expected),
                }
            }
            Op::Drop(index) if !live.is_empty() => {
                let (id, future, _) = live.remove(index % live.len());
                drop(future);
                ledger.accounted.extend(model.drop_future(id));
            }
            Op::Poll(_) | Op::Drop(_) => {}
            Op::TaskDone => prop_assert_eq!(queue.task_done(), model.task_done()),
            Op::Shutdown(immediate) => {
                queue.shutdown(immediate);
                ledger.accounted.extend(model.shutdown(immediate));
            }
        }

        prop_assert_eq!(queue.qsize(), model.items.len());
        for (id, _, recorder) in &live {
            let wakes = recorder.wakes();
            prop_assert!(wakes <= 1, "future {} woken {} times", id, wakes);
            prop_assert_eq!(
                wakes,
                model.wakes.get(id).copied().unwrap_or(0),
                "wakes of future {}",
                id
            );
        }
    }

    // The unfinished count: join is ready exactly when the model's is zero.
    {
        let mut join = queue.join();
        let waker = Waker::from(Arc::new(Recorder::default()));
        let ready = join
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready();
        prop_assert_eq!(ready, model.unfinished == 0);
    }
    for _ in 0..model.unfinished {
        prop_assert_eq!(queue.task_done(), Ok(()));
    }
    prop_assert_eq!(queue.task_done(), Err(TaskDoneError));

    // Settle the live futures: drop them (in the model too), then drain.
    for (id, future, _) in live.drain(..) {
        drop(future);
        ledger.accounted.extend(model.drop_future(id));
    }
    while let Ok(item) = queue.get_nowait() {
        prop_assert_eq!(Some(item), model.get_nowait().ok());
        ledger.accounted.push(item);
        ledger.got_in_order.push(item);
    }
    prop_assert!(model.items.is_empty());

    // No item lost, none duplicated.
    let mut put = ledger.put;
    let mut accounted = ledger.accounted;
    put.sort_unstable();
    accounted.sort_unstable();
    prop_assert_eq!(put, accounted);
    // FIFO: items leave in the order they went in (insertion order follows
    // the sequence numbers, as waiting putters are never overtaken).
    if kind == Kind::Fifo {
        let seqs: Vec<_> = ledger
            .got_in_order
            .iter()
            .map(|item| item & 0xffff)
            .collect();
        prop_assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "FIFO order broken: {:?}",
            seqs
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn fifo_matches_the_model(maxsize in 0usize..4, ops in prop::collection::vec(op(), 1..120)) {
        run(Kind::Fifo, maxsize, ops)?;
    }

    #[test]
    fn lifo_matches_the_model(maxsize in 0usize..4, ops in prop::collection::vec(op(), 1..120)) {
        run(Kind::Lifo, maxsize, ops)?;
    }

    #[test]
    fn priority_matches_the_model(maxsize in 0usize..4, ops in prop::collection::vec(op(), 1..120)) {
        run(Kind::Priority, maxsize, ops)?;
    }
}
