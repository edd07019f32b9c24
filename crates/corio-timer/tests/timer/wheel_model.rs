//! Model test: random operation sequences run against `TimerQueue` and
//! against a `BTreeMap<(deadline, seq), id>`, which is trivially right. After
//! every operation the two must agree on what fired (and in what order),
//! on cancel/reschedule results, on `len`, and `next_deadline` must be a
//! lower bound of the model's earliest deadline.

use std::collections::{BTreeMap, HashMap};

use crate::common::{wake_all, Log};
use corio_timer::{Instant, TimerKey, TimerQueue};
use proptest::prelude::*;
use proptest::sample::Index;

const MS: u64 = 1_000_000;
const HOUR: u64 = 3_600_000 * MS;
/// The queue's origin; far enough from 0 that deadlines before it exist.
const ORIGIN: u64 = 1_000 * HOUR;
/// Deadlines many inserts share, to exercise FIFO among equals, picked at
/// slot boundaries of several levels.
const SHARED: [u64; 6] = [0, 1, 63 * MS, 64 * MS, 4096 * MS + 5, HOUR];

/// Where a deadline is measured from.
#[derive(Clone, Debug)]
enum Deadline {
    /// `origin + ns`.
    FromOrigin(u64),
    /// `now + ns`, the queue's current time.
    FromNow(u64),
    /// `now - ns`: already due.
    Past(u64),
    /// One of `SHARED`, from the origin.
    Shared(usize),
    /// Far past the wheel's ~2.2-year range.
    Huge(u64),
    Max,
}

#[derive(Clone, Debug)]
enum Step {
    Forward(u64),
    Backward(u64),
    /// Exactly to `next_deadline()`: drives the coarse-slot cascades.
    ToNextDeadline,
    /// To a live entry's deadline, or 1 ns before it.
    ToEntry(Index, bool),
}

#[derive(Clone, Debug)]
enum Op {
    Insert(Deadline),
    Cancel(Index),
    Reschedule(Index, Deadline),
    Fire(Step),
}

fn deadline() -> impl Strategy<Value = Deadline> {
    prop_oneof![
        4 => (0..4 * HOUR).prop_map(Deadline::FromOrigin),
        4 => (0..200 * MS).prop_map(Deadline::FromNow),
        1 => (0..5_000 * MS).prop_map(Deadline::Past),
        3 => (0..SHARED.len()).prop_map(Deadline::Shared),
        1 => ((1u64 << 36) * MS..(1u64 << 44) * MS).prop_map(Deadline::Huge),
        1 => Just(Deadline::Max),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..3 * MS).prop_map(Step::Forward),
        3 => (0..300 * MS).prop_map(Step::Forward),
        2 => (0..10_000 * MS).prop_map(Step::Forward),
        1 => (0..4 * HOUR).prop_map(Step::Forward),
        1 => ((1u64 << 36) * MS..(1u64 << 44) * MS).prop_map(Step::Forward),
        1 => (0..100 * MS).prop_map(Step::Backward),
        3 => Just(Step::ToNextDeadline),
        3 => (any::<Index>(), any::<bool>()).prop_map(|(i, b)| Step::ToEntry(i, b)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => deadline().prop_map(Op::Insert),
        2 => any::<Index>().prop_map(Op::Cancel),
        1 => (any::<Index>(), deadline()).prop_map(|(i, d)| Op::Reschedule(i, d)),
        3 => step().prop_map(Op::Fire),
    ]
}

/// The reference implementation plus the bookkeeping to compare against it.
struct Harness {
    queue: TimerQueue,
    log: Log,
    /// `(deadline, seq) -> id`, the pending timers in firing order.
    model: BTreeMap<(u64, u64), usize>,
    /// id -> its current model key, for the pending ones.
    live: HashMap<usize, (u64, u64)>,
    /// Every key ever issued, live or stale; index = id.
    keys: Vec<TimerKey>,
    now: u64,
    seq: u64,
    peak_len: usize,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            queue: TimerQueue::new(Instant::from_nanos(ORIGIN)),
            log: Log::new(),
            model: BTreeMap::new(),
            live: HashMap::new(),
            keys: Vec::new(),
            now: ORIGIN,
            seq: 0,
            peak_len: 0,
        }
    }

    fn resolve(&self, d: &Deadline) -> u64 {
        match *d {
            Deadline::FromOrigin(ns) => ORIGIN + ns,
            Deadline::FromNow(ns) => self.now.saturating_add(ns),
            Deadline::Past(ns) => self.now.saturating_sub(ns),
            Deadline::Shared(i) => ORIGIN + SHARED[i],
            Deadline::Huge(ns) => self.now.saturating_add(ns),
            Deadline::Max => u64::MAX,
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Insert(d) => {
                let deadline = self.resolve(d);
                let id = self.keys.len();
                let key = self
                    .queue
                    .insert(Instant::from_nanos(deadline), self.log.waker(id));
                self.keys.push(key);
                let seq = self.next_seq();
                self.model.insert((deadline, seq), id);
                self.live.insert(id, (deadline, seq));
            }
            Op::Cancel(i) => {
                if self.keys.is_empty() {
                    return Ok(());
                }
                let id = i.index(self.keys.len());
                let expected = self.live.remove(&id).map(|k| self.model.remove(&k));
                prop_assert_eq!(self.queue.cancel(self.keys[id]), expected.is_some());
                prop_assert!(!self.queue.is_pending(self.keys[id]));
            }
            Op::Reschedule(i, d) => {
                if self.keys.is_empty() {
                    return Ok(());
                }
                let id = i.index(self.keys.len());
                let deadline = self.resolve(d);
                let was_live = self.live.contains_key(&id);
                prop_assert_eq!(
                    self.queue
                        .reschedule(self.keys[id], Instant::from_nanos(deadline)),
                    was_live
                );
                if let Some(old) = self.live.remove(&id) {
                    self.model.remove(&old);
                    let seq = self.next_seq();
                    self.model.insert((deadline, seq), id);
                    self.live.insert(id, (deadline, seq));
                }
            }
            Op::Fire(step) => {
                let at = match step {
                    Step::Forward(ns) => self.now.saturating_add(*ns),
                    Step::Backward(ns) => self.now.saturating_sub(*ns),
                    Step::ToNextDeadline => match self.queue.next_deadline() {
                        Some(t) => t.as_nanos(),
                        None => self.now,
                    },
                    Step::ToEntry(i, minus_one) => {
                        if self.model.is_empty() {
                            self.now
                        } else {
                            let n = i.index(self.model.len());
                            let (&(d, _), _) = self.model.iter().nth(n).expect("in range");
                            if *minus_one {
                                d.saturating_sub(1)
                            } else {
                                d
                            }
                        }
                    }
                };
                self.fire(at)?;
            }
        }
        self.check()
    }

    fn fire(&mut self, at: u64) -> Result<(), TestCaseError> {
        // Time never goes backwards: an earlier `at` means "the current time".
        self.now = self.now.max(at);
        let mut expected = Vec::new();
        while let Some((&(d, seq), &id)) = self.model.first_key_value() {
            if d > self.now {
                break;
            }
            self.model.remove(&(d, seq));
            self.live.remove(&id);
            expected.push(id);
        }
        let mut out = Vec::new();
        let n = self.queue.fire(Instant::from_nanos(at), &mut out);
        prop_assert_eq!(n, out.len());
        wake_all(&mut out);
        prop_assert_eq!(self.log.take(), expected, "fired at {}", at);
        prop_assert_eq!(self.queue.now().as_nanos(), self.now);
        Ok(())
    }

    fn check(&mut self) -> Result<(), TestCaseError> {
        self.peak_len = self.peak_len.max(self.model.len());
        prop_assert_eq!(self.queue.len(), self.model.len());
        prop_assert_eq!(self.queue.is_empty(), self.model.is_empty());
        // Freed cells are reused before the slab grows.
        prop_assert_eq!(self.queue.capacity(), self.peak_len);
        match (self.queue.next_deadline(), self.model.keys().next()) {
            (None, None) => {}
            (Some(next), Some(&(min, _))) => {
                prop_assert!(
                    next.as_nanos() <= min,
                    "next_deadline {:?} > earliest {}",
                    next,
                    min
                )
            }
            (got, want) => prop_assert!(false, "next_deadline {:?} vs model {:?}", got, want),
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn wheel_matches_model(ops in prop::collection::vec(op(), 1..200)) {
        let mut h = Harness::new();
        for op in &ops {
            h.apply(op)?;
        }
        // Drain: repeatedly jumping to next_deadline must fire everything
        // finite in a bounded number of steps (coarse slots refine quickly).
        let mut steps = 0;
        while let Some(next) = h.queue.next_deadline() {
            if next == Instant::MAX {
                break;
            }
            h.fire(next.as_nanos())?;
            h.check()?;
            steps += 1;
            prop_assert!(steps < 10 * (ops.len() + 10), "drain did not converge");
        }
        prop_assert!(h.model.keys().all(|&(d, _)| d == u64::MAX));
        let pending: Vec<usize> = h.live.keys().copied().collect();
        for id in pending {
            prop_assert!(h.queue.is_pending(h.keys[id]));
        }
    }
}
