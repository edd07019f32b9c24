//! [`Ring`]: a reactor's io_uring submission and completion queues, and the
//! table of operations in flight on them.
//!
//! **Ownership.** Every operation in flight owns what the kernel reads or
//! writes for it (its buffer) and an `Arc` of the stream it belongs to, in a
//! slot of the ring's table. A slot is freed only when the operation's
//! completion has been reaped, so memory the kernel may still touch is never
//! freed, moved or reused: a `Vec`'s heap block stays put while the `Vec`
//! value moves with its slot. The stream's `Arc` keeps its socket open (a
//! dropped stream hands its fd to the shared state) until the last of its
//! operations completes, so an SQE built from an fd number, even one built
//! for a resubmission after the stream was dropped, always names that socket.
//!
//! **Names.** `user_data` is the slot's index and the slot's generation, so a
//! cancel names exactly one operation, never a later one in the same slot.
//!
//! **Locks.** A stream's state, then the ring, never the other way round: the
//! ring's lock is released before reaped completions are handed to their
//! streams (which may submit again).
//!
//! **Teardown.** Dropping the ring cancels everything still in flight and
//! waits for every completion before freeing a buffer; if the kernel does not
//! answer, the buffers are leaked rather than freed under it.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use io_uring::{opcode, squeue, types, IoUring};
use parking_lot::Mutex;

use super::shared::StreamShared;

/// Submission queue entries (the completion queue gets twice as many).
const ENTRIES: u32 = 1024;

/// How long a dropped ring waits for the kernel to complete what it cancelled.
const TEARDOWN_WAIT: Duration = Duration::from_secs(2);

/// How long a dropped ring lets queued sends go out before cancelling them.
const FLUSH_WAIT: Duration = Duration::from_millis(500);

/// One wait of the teardown loop (100 ms).
const WAIT_SLICE: types::Timespec = types::Timespec::new().nsec(50_000_000);

/// What an operation in flight is, with the memory the kernel uses for it.
pub(crate) enum OpKind {
    /// A `recv` into `buf`'s spare capacity (`buf` is empty when submitted).
    Recv { buf: Vec<u8> },
    /// A `send` of `buf[sent..]`.
    Send { buf: Vec<u8>, sent: usize },
    /// An `ASYNC_CANCEL` of another operation; owns nothing.
    Cancel,
}

/// An operation in flight: what it is, and the stream it completes into.
pub(crate) struct Op {
    pub(crate) stream: Arc<StreamShared>,
    pub(crate) kind: OpKind,
}

/// One slot of the table.
struct Slot {
    generation: u32,
    op: Option<Op>,
}

/// What the ring's lock guards.
struct RingInner {
    uring: IoUring,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Operations in flight (occupied slots).
    live: usize,
    /// Entries that did not fit into the submission queue yet, in order.
    backlog: VecDeque<squeue::Entry>,
}

/// A reactor's io_uring: the queues, and the operations in flight.
pub(crate) struct Ring {
    inner: Mutex<RingInner>,
    /// Set by the reactor's poller while it is (about to be) blocked in the OS
    /// wait: a thread that queues an operation then must wake it, since
    /// nothing is submitted until the next poll.
    parked: AtomicBool,
}

impl Ring {
    /// Sets up a ring; fails where the kernel has no io_uring (or forbids it).
    pub(crate) fn new() -> io::Result<Ring> {
        let uring = IoUring::builder()
            .setup_cqsize(ENTRIES * 2)
            .build(ENTRIES)?;
        Ok(Ring {
            inner: Mutex::new(RingInner {
                uring,
                slots: Vec::new(),
                free: Vec::new(),
                live: 0,
                backlog: VecDeque::new(),
            }),
            parked: AtomicBool::new(false),
        })
    }

    /// Runs `f` with the ring's fd, which is readable (for `epoll`) while
    /// completions are waiting.
    pub(crate) fn with_fd<R>(&self, f: impl FnOnce(BorrowedFd<'_>) -> R) -> R {
        f(self.inner.lock().uring.as_fd())
    }

    /// Queues a `recv` on `fd` into `buf`'s spare capacity (at most `u32::MAX`
    /// bytes); returns its `user_data`.
    pub(crate) fn recv(&self, stream: Arc<StreamShared>, fd: RawFd, mut buf: Vec<u8>) -> u64 {
        buf.clear();
        let len = u32::try_from(buf.capacity()).unwrap_or(u32::MAX);
        let ptr = buf.as_mut_ptr();
        let op = Op {
            stream,
            kind: OpKind::Recv { buf },
        };
        // SAFETY: `ptr` is the heap block of the `Vec` moved into `op`, `len`
        // bytes of it are allocated, and `queue` keeps `op` in its slot until
        // this entry's completion is reaped: the block is neither freed nor
        // touched by us while the kernel may write it. `fd` stays open as long
        // as the stream's shared state lives (module doc), which `op` holds.
        unsafe { self.queue(op, opcode::Recv::new(types::Fd(fd), ptr, len).build()) }
    }

    /// Queues a `send` on `fd` of `buf[sent..]`; returns its `user_data`.
    pub(crate) fn send(
        &self,
        stream: Arc<StreamShared>,
        fd: RawFd,
        buf: Vec<u8>,
        sent: usize,
    ) -> u64 {
        debug_assert!(sent < buf.len());
        let rest = &buf[sent..];
        let (ptr, len) = (rest.as_ptr(), u32::try_from(rest.len()).unwrap_or(u32::MAX));
        let op = Op {
            stream,
            kind: OpKind::Send { buf, sent },
        };
        // SAFETY: as in `recv`: the bytes are in the heap block of the `Vec`
        // owned by `op`, which stays in its slot, unmodified, until this
        // entry's completion is reaped; `fd` stays open meanwhile.
        unsafe {
            self.queue(
                op,
                opcode::Send::new(types::Fd(fd), ptr, len)
                    .flags(libc::MSG_NOSIGNAL)
                    .build(),
            )
        }
    }

    /// Queues a cancel of the operation `target` (a `user_data` this ring
    /// handed out); a completed or unknown target makes it a no-op.
    pub(crate) fn cancel(&self, stream: Arc<StreamShared>, target: u64) {
        let op = Op {
            stream,
            kind: OpKind::Cancel,
        };
        // SAFETY: an `ASYNC_CANCEL` names its target by `user_data` and points
        // at no memory.
        unsafe {
            self.queue(op, opcode::AsyncCancel::new(target).build());
        }
    }

    /// Puts `op` into a free slot and queues `entry` for it (with the slot's
    /// `user_data`).
    ///
    /// # Safety
    ///
    /// Every pointer in `entry` must stay valid for the kernel until the
    /// entry's completion is reaped: point only into memory owned by `op`
    /// (which lives in its slot until then) or into nothing.
    unsafe fn queue(&self, op: Op, entry: squeue::Entry) -> u64 {
        let mut inner = self.inner.lock();
        let index = match inner.free.pop() {
            Some(index) => index,
            None => {
                let index = u32::try_from(inner.slots.len())
                    .expect("corio-reactor: 2^32 ring operations in flight");
                inner.slots.push(Slot {
                    generation: 0,
                    op: None,
                });
                index
            }
        };
        let slot = &mut inner.slots[index as usize];
        slot.generation = slot.generation.wrapping_add(1);
        let user_data = (u64::from(slot.generation) << 32) | u64::from(index);
        let entry = entry.user_data(user_data);
        slot.op = Some(op);
        inner.live += 1;
        inner.backlog.push_back(entry);
        inner.fill_queue();
        user_data
    }

    /// Submits everything queued (one `io_uring_enter`, none if nothing is).
    pub(crate) fn submit(&self) -> io::Result<()> {
        let mut inner = self.inner.lock();
        loop {
            inner.fill_queue();
            let queued = {
                let mut sq = inner.uring.submission();
                sq.sync();
                sq.len()
            };
            if queued == 0 {
                return Ok(());
            }
            match inner.uring.submit() {
                Ok(_) => {}
                // The kernel is short of resources or the completion queue is
                // full: what stays queued goes with the next submit, after the
                // caller has reaped.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EBUSY)) => {
                    return Ok(())
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            if inner.backlog.is_empty() {
                return Ok(());
            }
        }
    }

    /// Takes every waiting completion, with its operation, into `out`.
    pub(crate) fn reap(&self, out: &mut Vec<(Op, i32)>) {
        let mut inner = self.inner.lock();
        let RingInner {
            uring,
            slots,
            free,
            live,
            ..
        } = &mut *inner;
        let mut cq = uring.completion();
        cq.sync();
        for cqe in &mut cq {
            let user_data = cqe.user_data();
            let index = (user_data & u64::from(u32::MAX)) as usize;
            let generation = (user_data >> 32) as u32;
            let Some(slot) = slots.get_mut(index) else {
                continue;
            };
            if slot.generation != generation {
                continue;
            }
            if let Some(mut op) = slot.op.take() {
                free.push(index as u32);
                *live -= 1;
                let result = cqe.result();
                if let OpKind::Recv { buf } = &mut op.kind {
                    let filled = usize::try_from(result).unwrap_or(0).min(buf.capacity());
                    // SAFETY: a `recv` completion's positive result is the
                    // number of bytes the kernel wrote at the start of the
                    // block, at most the length we gave it (the capacity).
                    unsafe { buf.set_len(filled) };
                }
                out.push((op, result));
            }
        }
    }

    /// Whether completions are waiting to be reaped.
    pub(crate) fn has_completions(&self) -> bool {
        let mut inner = self.inner.lock();
        let mut cq = inner.uring.completion();
        cq.sync();
        !cq.is_empty()
    }

    /// Marks the poller as blocked (or not); see [`Ring::needs_kick`].
    pub(crate) fn set_parked(&self, parked: bool) {
        self.parked.store(parked, Ordering::SeqCst);
    }

    /// Whether a thread that just queued an operation must wake the poller.
    ///
    /// The poller sets `parked`, then submits once more, then blocks; a thread
    /// queues, then reads `parked` (both `SeqCst`): either the poller's last
    /// submit sees the entry, or the thread sees `parked` and wakes it.
    pub(crate) fn needs_kick(&self) -> bool {
        self.parked.load(Ordering::SeqCst)
    }

    /// Teardown: entries still in the backlog never reached the kernel, so
    /// their slots can go at once.
    fn forget_backlog(&mut self) {
        let inner = self.inner.get_mut();
        while let Some(entry) = inner.backlog.pop_front() {
            let index = (entry.get_user_data() & u64::from(u32::MAX)) as usize;
            if let Some(op) = inner.slots.get_mut(index).and_then(|slot| slot.op.take()) {
                inner.live -= 1;
                drop(op);
            }
        }
    }

    /// Teardown: queues a cancel of every `recv` in flight.
    fn cancel_receives(&mut self) {
        let inner = self.inner.get_mut();
        let receives: Vec<u64> = inner
            .slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| {
                matches!(
                    slot.op,
                    Some(Op {
                        kind: OpKind::Recv { .. },
                        ..
                    })
                )
            })
            .map(|(index, slot)| (u64::from(slot.generation) << 32) | index as u64)
            .collect();
        for target in receives {
            let cancel = opcode::AsyncCancel::new(target).build().user_data(u64::MAX);
            // SAFETY: a cancel points at no memory.
            let _ = unsafe { inner.uring.submission().push(&cancel) };
        }
    }

    /// Teardown: submits what is queued and waits up to [`WAIT_SLICE`] for a
    /// completion; `false` if the kernel fails the wait for another reason.
    fn wait_a_slice(&mut self) -> bool {
        let inner = self.inner.get_mut();
        inner.fill_queue();
        let waited = inner
            .uring
            .submitter()
            .submit_with_args(1, &types::SubmitArgs::new().timespec(&WAIT_SLICE));
        let benign = [libc::EINTR, libc::ETIME, libc::EAGAIN, libc::EBUSY];
        waited.is_ok()
            || waited.is_err_and(|e| {
                e.raw_os_error()
                    .is_some_and(|errno| benign.contains(&errno))
            })
    }
}

impl RingInner {
    /// Moves backlog entries into the submission queue while it has room.
    fn fill_queue(&mut self) {
        let RingInner { uring, backlog, .. } = self;
        let mut sq = uring.submission();
        while let Some(entry) = backlog.front() {
            // SAFETY: every entry in the backlog was made by `Ring::queue`,
            // whose callers guarantee its pointers stay valid until its
            // completion; moving it into the queue changes nothing of that.
            if unsafe { sq.push(entry) }.is_err() {
                break;
            }
            backlog.pop_front();
        }
        sq.sync();
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        if self.inner.get_mut().live == 0 {
            return;
        }
        self.forget_backlog();
        // Receives are cancelled at once; sends get until `FLUSH_WAIT` to go
        // out (a loop closed right after a write must not lose it), their
        // completions applied as in a poll (a short send resubmits the rest),
        // then everything left is cancelled and only reaped.
        self.cancel_receives();
        let flush_until = Instant::now() + FLUSH_WAIT;
        let deadline = Instant::now() + TEARDOWN_WAIT;
        let mut cancelled_all = false;
        let mut reaped = Vec::new();
        let mut wakers = Vec::new();
        while self.inner.get_mut().live > 0 && Instant::now() < deadline {
            if !self.wait_a_slice() {
                break;
            }
            self.reap(&mut reaped);
            for (op, result) in reaped.drain(..) {
                if !cancelled_all {
                    let Op { stream, kind } = op;
                    stream.complete(self, kind, result, &mut wakers);
                }
            }
            if !cancelled_all && Instant::now() >= flush_until {
                let cancel = opcode::AsyncCancel2::new(types::CancelBuilder::any())
                    .build()
                    .user_data(u64::MAX);
                // SAFETY: a cancel points at no memory.
                cancelled_all =
                    unsafe { self.inner.get_mut().uring.submission().push(&cancel) }.is_ok();
            }
        }
        // Nobody can wait on these any more (every stream is gone).
        drop(wakers);
        let inner = self.inner.get_mut();
        if inner.live > 0 {
            // The kernel may still write into these buffers: never free them.
            tracing::error!(
                live = inner.live,
                "corio-reactor: io_uring operations did not complete at teardown; leaking their buffers"
            );
            std::mem::forget(std::mem::take(&mut inner.slots));
        }
    }
}
