//! Where a queue keeps its items: the one thing that differs between
//! [`Queue`](crate::Queue) (FIFO, a `VecDeque`), [`LifoQueue`](crate::LifoQueue)
//! (a `Vec` used as a stack) and [`PriorityQueue`](crate::PriorityQueue)
//! (a min-heap, `BinaryHeap<Reverse<T>>`). asyncio's `_put`/`_get` hooks.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// The storage hooks the shared queue core ([`super::Core`]) is generic over.
pub(crate) trait Storage: Default {
    /// The queued item type.
    type Item;
    /// Adds an item.
    fn push(&mut self, item: Self::Item);
    /// Takes the item this kind of queue hands out next.
    fn pop(&mut self) -> Option<Self::Item>;
    /// How many items are stored.
    fn len(&self) -> usize;
}

/// First in, first out.
#[derive(Debug)]
pub(crate) struct Fifo<T>(VecDeque<T>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}

impl<T> Storage for Fifo<T> {
    type Item = T;
    #[inline]
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Last in, first out.
#[derive(Debug)]
pub(crate) struct Lifo<T>(Vec<T>);

impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}

impl<T> Storage for Lifo<T> {
    type Item = T;
    #[inline]
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Smallest first (a min-heap; equal items leave in no particular order).
#[derive(Debug)]
pub(crate) struct Priority<T>(BinaryHeap<Reverse<T>>);

impl<T: Ord> Default for Priority<T> {
    fn default() -> Self {
        Priority(BinaryHeap::new())
    }
}

impl<T: Ord> Storage for Priority<T> {
    type Item = T;
    #[inline]
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}
