//! [`Chunks`]: [`StreamWriter`](super::StreamWriter)'s buffer, a queue of byte
//! chunks that `drain` hands to the stream as one vectored write.
//!
//! A single `Vec` buffer moved every byte again each time it grew (doubling
//! copies) and compacted itself after partial sends (`drain(..written)`).
//! Here a write is copied once, into the tail chunk (16 KiB, filled before a
//! new one starts) or, for a write of 16 KiB or more, into a chunk of its
//! own; nothing is moved after that. A partial send advances an offset into
//! the head chunk; sent chunks are freed, keeping one standard chunk for reuse.

use std::collections::VecDeque;
use std::io::IoSlice;

/// Capacity of a standard chunk; writes at least this large get their own.
const CHUNK: usize = 16 * 1024;

/// The most slices one vectored write is given (Linux's `IOV_MAX` is 1,024;
/// 64 chunks are 1 MiB of small writes, more than a socket takes at once).
const MAX_SLICES: usize = 64;

/// Bytes waiting to be sent, in order.
#[derive(Default)]
pub(super) struct Chunks {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes of `chunks[0]` already sent.
    head: usize,
    /// Bytes not yet sent, over all chunks.
    len: usize,
    /// An emptied standard chunk, kept for the next write.
    spare: Option<Vec<u8>>,
}

impl Chunks {
    /// Bytes not yet sent.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Whether everything was sent.
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a copy of `data`.
    pub(super) fn push(&mut self, mut data: &[u8]) {
        self.len += data.len();
        if let Some(tail) = self.chunks.back_mut() {
            if tail.capacity() == CHUNK {
                let room = CHUNK - tail.len();
                let (now, rest) = data.split_at(room.min(data.len()));
                tail.extend_from_slice(now);
                data = rest;
            }
        }
        if data.is_empty() {
            return;
        }
        if data.len() >= CHUNK {
            self.chunks.push_back(data.to_vec());
            return;
        }
        let mut chunk = self
            .spare
            .take()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK));
        chunk.extend_from_slice(data);
        self.chunks.push_back(chunk);
    }

    /// Calls `f` with the unsent bytes as slices, in order (the first
    /// [`MAX_SLICES`] chunks of them).
    pub(super) fn with_slices<R>(&self, f: impl FnOnce(&[IoSlice<'_>]) -> R) -> R {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let mut count = 0;
        for (slot, (i, chunk)) in slices.iter_mut().zip(self.chunks.iter().enumerate()) {
            let start = if i == 0 { self.head } else { 0 };
            *slot = IoSlice::new(&chunk[start..]);
            count += 1;
        }
        f(&slices[..count])
    }

    /// Records that the first `n` unsent bytes were sent (a stream claiming
    /// more than it was given counts as having sent everything).
    pub(super) fn consume(&mut self, n: usize) {
        let mut n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(front) = self.chunks.front() else {
                break;
            };
            let left = front.len() - self.head;
            if n < left {
                self.head += n;
                return;
            }
            n -= left;
            self.head = 0;
            if let Some(mut done) = self.chunks.pop_front() {
                if done.capacity() == CHUNK && self.spare.is_none() {
                    done.clear();
                    self.spare = Some(done);
                }
            }
        }
        if self.len == 0 {
            // Empty chunks (none are pushed, but a clamped `n` may leave a
            // partly sent one behind) go too.
            self.chunks.clear();
            self.head = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything still to send, flattened.
    fn pending(chunks: &Chunks) -> Vec<u8> {
        chunks.with_slices(|slices| slices.iter().flat_map(|s| s.iter().copied()).collect())
    }

    #[test]
    fn small_writes_share_a_chunk_and_large_ones_get_their_own() {
        let mut chunks = Chunks::default();
        chunks.push(b"abc");
        chunks.push(b"def");
        assert_eq!(chunks.chunks.len(), 1);
        chunks.push(&vec![1u8; CHUNK]);
        // The tail chunk was filled first; the rest went into a chunk of its own.
        assert_eq!(chunks.chunks[0].len(), CHUNK);
        assert_eq!(chunks.chunks.len(), 2);
        assert_eq!(chunks.len(), 6 + CHUNK);
        let mut expected = b"abcdef".to_vec();
        expected.extend(std::iter::repeat_n(1u8, CHUNK));
        assert_eq!(pending(&chunks), expected);
    }

    #[test]
    fn partial_sends_keep_the_order_across_chunk_boundaries() {
        let mut chunks = Chunks::default();
        let mut expected = Vec::new();
        for i in 0..200u32 {
            let piece: Vec<u8> = (0..(i * 37 % 700)).map(|b| (b + i) as u8).collect();
            chunks.push(&piece);
            expected.extend_from_slice(&piece);
        }
        let mut sent = Vec::new();
        let mut step = 1;
        while !chunks.is_empty() {
            // Send an odd amount each time, cutting chunks anywhere.
            let all = pending(&chunks);
            let n = step.min(all.len());
            sent.extend_from_slice(&all[..n]);
            chunks.consume(n);
            assert_eq!(chunks.len(), expected.len() - sent.len());
            step = step * 3 % 5_003 + 1;
        }
        assert_eq!(sent, expected);
        assert!(chunks.chunks.is_empty());
    }

    #[test]
    fn one_vectored_write_sees_at_most_max_slices() {
        let mut chunks = Chunks::default();
        for _ in 0..(MAX_SLICES + 10) {
            chunks.push(&vec![0u8; CHUNK]);
        }
        let seen = chunks.with_slices(|slices| slices.len());
        assert_eq!(seen, MAX_SLICES);
        chunks.consume(usize::MAX);
        assert!(chunks.is_empty());
        assert_eq!(chunks.with_slices(|slices| slices.len()), 0);
    }
}
