//! proptest: random sequences of operations on a channel's halves (senders
//! cloned and dropped, sends and receives tried, started, polled and
//! dropped at random points, the receiver closed or dropped), checked step
//! by step against a sequential model: asyncio's queue plus the ownership
//! rules (the last sender gone shuts the queue down gracefully, the
//! receiver dropped shuts it down immediately, `close` gracefully).
//!
//! Checked after every step: each operation's outcome, `len`,
//! `sender_count`, `is_closed`, and the wake count of every live future
//! (exactly what the model says). Checked over the run: every item is
//! dropped exactly once, wherever it ended up (received, handed back,
//! dropped with its send future, or with the receiver).

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use corio_sync::{
    channel, unbounded_channel, Receiver, SendError, Sender, TryRecvError, TrySendError,
};
use proptest::prelude::*;

use crate::queue_support::Recorder;

type Log = Rc<RefCell<Vec<u32>>>;

/// An item that logs its id when dropped.
struct Tracked(u32, Log);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.1.borrow_mut().push(self.0);
    }
}

#[derive(Clone, Debug)]
enum Op {
    TrySend(usize),
    StartSend(usize),
    CloneSender(usize),
    DropSender(usize),
    TryRecv,
    StartRecv,
    Poll(usize),
    Drop(usize),
    Close,
    DropReceiver,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => any::<usize>().prop_map(Op::TrySend),
        8 => any::<usize>().prop_map(Op::StartSend),
        3 => any::<usize>().prop_map(Op::CloneSender),
        3 => any::<usize>().prop_map(Op::DropSender),
        8 => Just(Op::TryRecv),
        6 => Just(Op::StartRecv),
        12 => any::<usize>().prop_map(Op::Poll),
        4 => any::<usize>().prop_map(Op::Drop),
        1 => Just(Op::Close),
        1 => Just(Op::DropReceiver),
    ]
}

/// What a hand-polled future completes with (items as their ids).
#[derive(Debug, PartialEq)]
enum Out {
    Send(Result<(), u32>),
    Recv(Option<u32>),
}

/// What the model says a pending future will do when polled.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    SendWaiting(u32),
    SendDone,
    SendFailed(u32),
    RecvWaiting,
    /// Woken with an item promised to it.
    RecvTicket,
    RecvEnd,
}

struct Model {
    capacity: usize,
    items: VecDeque<u32>,
    /// Items promised to a woken receive.
    reserved: usize,
    /// The queue is shut down (last sender gone, receiver closed or dropped).
    shut: bool,
    /// The receiver was closed or dropped (`Sender::is_closed`).
    receiver_closed: bool,
    /// Live senders: handles plus the clone each live send future owns.
    senders: usize,
    getter: Option<usize>,
    putters: VecDeque<usize>,
    futures: HashMap<usize, Expect>,
    wakes: HashMap<usize, usize>,
}

impl Model {
    fn wake(&mut self, id: usize, to: Expect) {
        self.futures.insert(id, to);
        *self.wakes.entry(id).or_default() += 1;
    }

    fn insert(&mut self, item: u32) {
        self.items.push_back(item);
        if let Some(getter) = self.getter.take() {
            self.reserved += 1;
            self.wake(getter, Expect::RecvTicket);
        }
    }

    fn take(&mut self) -> Option<u32> {
        let item = self.items.pop_front()?;
        if let Some(putter) = self.putters.pop_front() {
            let Expect::SendWaiting(moved) = self.futures[&putter] else {
                unreachable!()
            };
            self.wake(putter, Expect::SendDone);
            self.insert(moved);
        }
        Some(item)
    }

    fn shutdown(&mut self, immediate: bool) {
        self.shut = true;
        if immediate {
            self.items.clear();
            self.reserved = 0;
        }
        if let Some(getter) = self.getter.take() {
            self.wake(getter, Expect::RecvEnd);
        }
        for putter in std::mem::take(&mut self.putters) {
            let Expect::SendWaiting(item) = self.futures[&putter] else {
                unreachable!()
            };
            self.wake(putter, Expect::SendFailed(item));
        }
    }

    fn sender_gone(&mut self) {
        self.senders -= 1;
        if self.senders == 0 {
            self.shutdown(false);
        }
    }

    fn try_send(&mut self, item: u32) -> Result<(), TrySendError<u32>> {
        if self.shut {
            Err(TrySendError::Closed(item))
        } else if self.items.len() >= self.capacity {
            Err(TrySendError::Full(item))
        } else {
            self.insert(item);
            Ok(())
        }
    }

    fn start_send(&mut self, id: usize, item: u32) -> Option<Out> {
        self.senders += 1; // the future's own clone
        let out = if self.shut {
            Out::Send(Err(item))
        } else if self.items.len() < self.capacity {
            self.insert(item);
            Out::Send(Ok(()))
        } else {
            self.putters.push_back(id);
            self.futures.insert(id, Expect::SendWaiting(item));
            return None;
        };
        self.sender_gone();
        Some(out)
    }

    fn try_recv(&mut self) -> Result<u32, TryRecvError> {
        if self.items.len() > self.reserved {
            Ok(self.take().unwrap())
        } else if self.shut {
            Err(TryRecvError::Disconnected)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    fn start_recv(&mut self, id: usize) -> Option<Out> {
        if self.items.len() > self.reserved {
            Some(Out::Recv(self.take()))
        } else if self.shut {
            Some(Out::Recv(None))
        } else {
            self.getter = Some(id);
            self.futures.insert(id, Expect::RecvWaiting);
            None
        }
    }

    fn poll(&mut self, id: usize) -> Option<Out> {
        let out = match self.futures[&id] {
            Expect::SendWaiting(_) | Expect::RecvWaiting => return None,
            Expect::SendDone => Out::Send(Ok(())),
            Expect::SendFailed(item) => Out::Send(Err(item)),
            Expect::RecvTicket => {
                let item = self.take();
                if item.is_some() {
                    self.reserved -= 1;
                }
                Out::Recv(item)
            }
            Expect::RecvEnd => Out::Recv(None),
        };
        self.futures.remove(&id);
        self.wakes.remove(&id);
        if let Out::Send(_) = out {
            self.sender_gone();
        }
        Some(out)
    }

    fn drop_future(&mut self, id: usize) {
        match self.futures.remove(&id).unwrap() {
            Expect::SendWaiting(_) => {
                self.putters.retain(|&p| p != id);
                self.sender_gone();
            }
            Expect::SendDone | Expect::SendFailed(_) => self.sender_gone(),
            Expect::RecvWaiting => self.getter = None,
            Expect::RecvTicket => self.reserved = self.reserved.saturating_sub(1),
            Expect::RecvEnd => {}
        }
        self.wakes.remove(&id);
    }
}

type Fut<'a> = Pin<Box<dyn Future<Output = Out> + 'a>>;

struct Live<'a> {
    id: usize,
    future: Fut<'a>,
    recorder: Arc<Recorder>,
    is_recv: bool,
}

fn poll(live: &mut Live<'_>) -> Poll<Out> {
    let waker = Waker::from(live.recorder.clone());
    live.future.as_mut().poll(&mut Context::from_waker(&waker))
}

fn run(capacity: usize, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let log: Log = Rc::default();
    let (tx, rx) = if capacity == 0 {
        unbounded_channel::<Tracked>()
    } else {
        channel::<Tracked>(capacity)
    };
    let rx_cell: RefCell<Option<Receiver<Tracked>>> = RefCell::new(Some(rx));
    let mut handles: Vec<Sender<Tracked>> = vec![tx];
    let mut model = Model {
        capacity: if capacity == 0 { usize::MAX } else { capacity },
        items: VecDeque::new(),
        reserved: 0,
        shut: false,
        receiver_closed: false,
        senders: 1,
        getter: None,
        putters: VecDeque::new(),
        futures: HashMap::new(),
        wakes: HashMap::new(),
    };
    let mut live: Vec<Live<'_>> = Vec::new();
    let mut next_id = 0usize;
    let mut next_item = 0u32;
    let mut made = Vec::new();
    // Whether the receiver is alive (the cell is borrowed while a recv future lives).
    let mut rx_alive = true;

    for op in ops {
        let recv_live = live.iter().any(|l| l.is_recv);
        let rx_usable = rx_alive && !recv_live;
        match op {
            Op::TrySend(i) if !handles.is_empty() => {
                next_item += 1;
                made.push(next_item);
                let tx = &handles[i % handles.len()];
                let result =
                    tx.try_send(Tracked(next_item, log.clone()))
                        .map_err(|err| match err {
                            TrySendError::Full(t) => TrySendError::Full(t.0),
                            TrySendError::Closed(t) => TrySendError::Closed(t.0),
                        });
                prop_assert_eq!(result, model.try_send(next_item));
            }
            Op::StartSend(i) if !handles.is_empty() => {
                next_item += 1;
                made.push(next_item);
                let id = next_id;
                next_id += 1;
                let tx = handles[i % handles.len()].clone();
                let item = Tracked(next_item, log.clone());
                let future: Fut<'_> =
                    Box::pin(
                        async move { Out::Send(tx.send(item).await.map_err(|SendError(t)| t.0)) },
                    );
                let mut entry = Live {
                    id,
                    future,
                    recorder: Arc::default(),
                    is_recv: false,
                };
                let expected = model.start_send(id, next_item);
                match poll(&mut entry) {
                    Poll::Ready(out) => prop_assert_eq!(Some(out), expected),
                    Poll::Pending => {
                        prop_assert_eq!(None, expected);
                        live.push(entry);
                    }
                }
            }
            Op::CloneSender(i) if !handles.is_empty() => {
                let clone = handles[i % handles.len()].clone();
                handles.push(clone);
                model.senders += 1;
            }
            Op::DropSender(i) if !handles.is_empty() => {
                drop(handles.remove(i % handles.len()));
                model.sender_gone();
            }
            Op::TryRecv if rx_usable => {
                let result = rx_cell.borrow_mut().as_mut().unwrap().try_recv();
                prop_assert_eq!(result.map(|t| t.0), model.try_recv());
            }
            Op::StartRecv if rx_usable => {
                let id = next_id;
                next_id += 1;
                let cell = &rx_cell;
                // Holding the borrow across the await is the point: it is the
                // receive's `&mut Receiver`, and the run never touches the
                // receiver while a receive is live (checked by `rx_usable`).
                #[allow(clippy::await_holding_refcell_ref)]
                let future: Fut<'_> = Box::pin(async move {
                    let mut rx = cell.borrow_mut();
                    Out::Recv(rx.as_mut().unwrap().recv().await.map(|t| t.0))
                });
                let mut entry = Live {
                    id,
                    future,
                    recorder: Arc::default(),
                    is_recv: true,
                };
                let expected = model.start_recv(id);
                match poll(&mut entry) {
                    Poll::Ready(out) => prop_assert_eq!(Some(out), expected),
                    Poll::Pending => {
                        prop_assert_eq!(None, expected);
                        live.push(entry);
                    }
                }
            }
            Op::Poll(i) if !live.is_empty() => {
                let index = i % live.len();
                let polled = poll(&mut live[index]);
                let expected = model.poll(live[index].id);
                match polled {
                    Poll::Ready(out) => {
                        prop_assert_eq!(Some(out), expected);
                        live.remove(index);
                    }
                    Poll::Pending => prop_assert_eq!(None, expected),
                }
            }
            Op::Drop(i) if !live.is_empty() => {
                let entry = live.remove(i % live.len());
                let id = entry.id;
                drop(entry);
                model.drop_future(id);
            }
            Op::Close if rx_usable => {
                rx_cell.borrow_mut().as_mut().unwrap().close();
                model.shutdown(false);
                model.receiver_closed = true;
            }
            Op::DropReceiver if rx_alive => {
                if let Some(index) = live.iter().position(|l| l.is_recv) {
                    let entry = live.remove(index);
                    let id = entry.id;
                    drop(entry);
                    model.drop_future(id);
                }
                let left: Vec<u32> = model.items.iter().copied().collect();
                drop(rx_cell.borrow_mut().take());
                rx_alive = false;
                model.shutdown(true);
                // The items left were dropped with the receiver, not later.
                for item in left {
                    prop_assert!(log.borrow().contains(&item), "item {} not dropped", item);
                }
                model.receiver_closed = true;
            }
            _ => {}
        }

        if !live.iter().any(|l| l.is_recv) {
            if let Some(rx) = rx_cell.borrow().as_ref() {
                prop_assert_eq!(rx.len(), model.items.len());
                prop_assert_eq!(rx.sender_count(), model.senders);
                prop_assert_eq!(rx.is_closed(), model.shut);
            }
        }
        for tx in &handles {
            prop_assert_eq!(tx.is_closed(), model.receiver_closed);
        }
        for l in &live {
            prop_assert_eq!(
                l.recorder.wakes(),
                model.wakes.get(&l.id).copied().unwrap_or(0),
                "wakes of future {}",
                l.id
            );
        }
    }

    // Settle: drop the live futures and the senders, then drain.
    for entry in live.drain(..) {
        let id = entry.id;
        drop(entry);
        model.drop_future(id);
    }
    for tx in handles.drain(..) {
        drop(tx);
        model.sender_gone();
    }
    if let Some(mut rx) = rx_cell.borrow_mut().take() {
        loop {
            let result = rx.try_recv().map(|t| t.0);
            prop_assert_eq!(result, model.try_recv());
            if result.is_err() {
                prop_assert_eq!(result, Err(TryRecvError::Disconnected));
                break;
            }
        }
    }
    // Every item made was dropped exactly once, wherever it went.
    let mut dropped = log.borrow().clone();
    dropped.sort_unstable();
    prop_assert_eq!(dropped, made);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn channel_matches_the_model(capacity in 0usize..4, ops in prop::collection::vec(op(), 1..120)) {
        run(capacity, ops)?;
    }
}
