//! The io_uring variants: batched single-shot receives, multishot receives
//! into a provided-buffer ring, sends as SQEs or as `send(2)`.

use std::alloc::Layout;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::{cqueue, opcode, squeue, types, IoUring};

use crate::driver::*;

/// Memory the kernel reads or writes through SQEs: allocated once and
/// never moved, reached only through raw pointers (no Rust reference to
/// it is held while the kernel may write it), and freed only once
/// `quiet` says no SQE refers to it any more; otherwise leaked.
pub(crate) struct KernelMem {
    ptr: NonNull<u8>,
    layout: Layout,
    quiet: bool,
}

impl KernelMem {
    fn new(len: usize, align: usize) -> KernelMem {
        let layout = Layout::from_size_align(len, align).expect("layout");
        // SAFETY: `layout` has a non-zero size (every caller asks for > 0).
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(ptr).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        KernelMem {
            ptr,
            layout,
            quiet: false,
        }
    }

    /// The address `offset` bytes in, for `len` bytes.
    fn at(&self, offset: usize, len: usize) -> *mut u8 {
        assert!(offset + len <= self.layout.size(), "out of bounds");
        // SAFETY: in bounds of the allocation, checked above.
        unsafe { self.ptr.as_ptr().add(offset) }
    }
}

impl Drop for KernelMem {
    fn drop(&mut self) {
        if self.quiet {
            // SAFETY: allocated in `new` with this layout, and no SQE
            // refers to it any more (`quiet`).
            unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) };
        }
    }
}

/// A socket as an SQE names it.
#[derive(Clone, Copy)]
pub(crate) enum Target {
    Fd(RawFd),
    Fixed(u32),
}

macro_rules! on_target {
    ($target:expr, |$fd:ident| $make:expr) => {
        match $target {
            Target::Fd(raw) => {
                let $fd = types::Fd(raw);
                $make
            }
            Target::Fixed(index) => {
                let $fd = types::Fixed(index);
                $make
            }
        }
    };
}

/// One entry of a provided-buffer ring (`struct io_uring_buf`); the
/// ring's tail is entry 0's `resv`.
#[repr(C)]
pub(crate) struct PBufEntry {
    addr: u64,
    len: u32,
    bid: u16,
    resv: u16,
}

/// One socket's state: index `k` = 2 × connection + (1 on the server side).
#[derive(Default)]
pub(crate) struct Side {
    recv_armed: bool,
    send_len: Option<usize>,
    got: usize,
    round: usize,
}

/// (c, d) io_uring echo: `per_conn` round trips on every pair.
pub(crate) fn uring_echo(pairs: &[Pair], per_conn: usize, cfg: Cfg) -> io::Result<()> {
    if per_conn == 0 {
        return Ok(());
    }
    let mut builder = IoUring::builder();
    if cfg.defer {
        builder.setup_single_issuer().setup_defer_taskrun();
    }
    let mut ring: IoUring = builder
        .setup_cqsize(4096)
        .build(1024)
        .map_err(ctx("io_uring_setup"))?;
    let fds: Vec<RawFd> = pairs
        .iter()
        .flat_map(|p| [p.client.as_raw_fd(), p.server.as_raw_fd()])
        .collect();
    let sides = fds.len();
    // Per side: a receive buffer then a send buffer, MESSAGE bytes each.
    let mut own = KernelMem::new(sides * 2 * MESSAGE, 64);
    let recv_at = |k: usize| (2 * k) * MESSAGE;
    let send_at = |k: usize| (2 * k + 1) * MESSAGE;
    // The provided-buffer ring (page-aligned) and its buffers.
    let mut pring = KernelMem::new(usize::from(PBUF_ENTRIES) * 16, 4096);
    let mut pbufs = KernelMem::new(usize::from(PBUF_ENTRIES) * PBUF_SIZE, 64);
    let (mut submitter, mut sq, mut cq) = ring.split();
    if cfg.fixed {
        submitter
            .register_files(&fds)
            .map_err(ctx("register_files"))?;
        submitter
            .register_ring_fd()
            .map_err(ctx("register_ring_fd"))?;
    }
    let target = |k: usize| {
        if cfg.fixed {
            Target::Fixed(k as u32)
        } else {
            Target::Fd(fds[k])
        }
    };
    let entries = pring
        .at(0, usize::from(PBUF_ENTRIES) * size_of::<PBufEntry>())
        .cast::<PBufEntry>();
    // SAFETY: entry 0 lies inside `pring`; no reference is made.
    let tail_ptr = unsafe { std::ptr::addr_of_mut!((*entries).resv) };
    let mut tail: u16 = 0;
    let give_back = |bid: u16, tail: &mut u16| {
        // SAFETY: the slot at `tail` is outside the kernel's window
        // [head, tail): at most PBUF_ENTRIES buffers are ever in the
        // ring, and `bid` was just handed to us, so the window has room.
        // Only this thread writes the ring, and only through raw
        // pointers (no reference overlaps the atomic tail in entry 0).
        unsafe {
            let entry = entries.add(usize::from(*tail & (PBUF_ENTRIES - 1)));
            let addr = pbufs.at(usize::from(bid) * PBUF_SIZE, PBUF_SIZE) as u64;
            std::ptr::addr_of_mut!((*entry).addr).write(addr);
            std::ptr::addr_of_mut!((*entry).len).write(PBUF_SIZE as u32);
            std::ptr::addr_of_mut!((*entry).bid).write(bid);
        }
        *tail = tail.wrapping_add(1);
    };
    let publish = |tail: u16| {
        // SAFETY: `tail_ptr` is aligned, inside `pring` (alive until the
        // end of this function), and only ever accessed atomically: by
        // us here and by the kernel's acquire loads.
        unsafe { AtomicU16::from_ptr(tail_ptr) }.store(tail, Ordering::Release);
    };
    if cfg.multishot {
        for bid in 0..PBUF_ENTRIES {
            give_back(bid, &mut tail);
        }
        publish(tail);
        // SAFETY: `pring` is page-aligned, PBUF_ENTRIES entries long, and
        // lives (unmoved) until after `unregister_buf_ring` below, or is
        // leaked.
        unsafe {
            submitter
                .register_buf_ring_with_flags(entries as u64, PBUF_ENTRIES, BGID, 0)
                .map_err(ctx("register_buf_ring"))?
        };
    }

    let mut state: Vec<Side> = (0..sides).map(|_| Side::default()).collect();
    let mut inflight = 0usize;
    let mut pending: Vec<squeue::Entry> = Vec::with_capacity(4 * sides);
    let recv_sqe = |k: usize, got: usize| -> squeue::Entry {
        let entry = if cfg.multishot {
            on_target!(target(k), |fd| opcode::RecvMulti::new(fd, BGID).build())
        } else {
            let buf = own.at(recv_at(k) + got, MESSAGE - got);
            let ioprio = if cfg.poll_first {
                RECVSEND_POLL_FIRST
            } else {
                0
            };
            on_target!(target(k), |fd| opcode::Recv::new(
                fd,
                buf,
                (MESSAGE - got) as u32
            )
            .ioprio(ioprio)
            .build())
        };
        entry.user_data((k as u64) << 1)
    };
    let send_sqe = |k: usize, len: usize| -> squeue::Entry {
        let buf = own.at(send_at(k), len);
        on_target!(target(k), |fd| opcode::Send::new(fd, buf, len as u32)
            .build())
        .user_data(((k as u64) << 1) | 1)
    };
    let write_message = |k: usize, byte: u8| {
        // SAFETY: no SEND SQE on side `k` is in flight (checked by the
        // callers through `send_len`), so nothing else touches it.
        unsafe { own.at(send_at(k), MESSAGE).write_bytes(byte, MESSAGE) };
    };
    let send_now = |k: usize, len: usize| {
        let buf = own.at(send_at(k), len);
        // SAFETY: `buf` is valid for `len` bytes (in `own`) and no SQE
        // refers to it; a blocking send on our own connected socket.
        let sent = unsafe { libc::send(fds[k], buf.cast(), len, libc::MSG_NOSIGNAL) };
        assert_eq!(sent, len as isize, "side {k}: send");
    };
    // Sends `len` bytes of side `k`'s send buffer: an SQE, or (for
    // `-sendsyscall`) a plain `send` right now.
    macro_rules! send {
        ($side:expr, $k:expr, $len:expr) => {
            if cfg.direct_send {
                send_now($k, $len);
            } else {
                pending.push(send_sqe($k, $len));
                $side.send_len = Some($len);
                inflight += 1;
            }
        };
    }
    for (k, side) in state.iter_mut().enumerate() {
        pending.push(recv_sqe(k, 0));
        side.recv_armed = true;
        inflight += 1;
        if k % 2 == 0 {
            write_message(k, message_byte(k / 2, 0));
            send!(side, k, MESSAGE);
        }
    }
    let mut done = 0;
    let mut cancelling = false;
    loop {
        if done == pairs.len() && !cancelling {
            cancelling = true;
            pending.push(
                opcode::AsyncCancel2::new(types::CancelBuilder::any())
                    .build()
                    .user_data(CANCEL),
            );
            inflight += 1;
        }
        if cancelling && inflight == 0 {
            break;
        }
        for entry in pending.drain(..) {
            // SAFETY: every buffer an SQE names lies in `own` or `pbufs`,
            // which stay allocated and unmoved until `inflight` is back
            // to 0 (or are leaked), and are not otherwise touched while
            // the SQE is in flight.
            while unsafe { sq.push(&entry) }.is_err() {
                sq.sync();
                submitter.submit().map_err(ctx("submit (SQ full)"))?;
            }
        }
        sq.sync();
        match submitter.submit_and_wait(1) {
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
            // The CQ overflowed (the kernel holds the extra CQEs): reap,
            // then submit again (the SQEs are still queued). Said, so
            // that a run where it happens is known.
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                cq.sync();
                eprintln!("EBUSY from io_uring_enter with {} CQEs ready", cq.len());
            }
            r => {
                r.map_err(ctx("submit_and_wait"))?;
            }
        }
        cq.sync();
        for cqe in &mut cq {
            let (data, res, flags) = (cqe.user_data(), cqe.result(), cqe.flags());
            if data == CANCEL {
                inflight -= 1;
                continue;
            }
            let (k, is_send) = ((data >> 1) as usize, data & 1 == 1);
            let side = &mut state[k];
            if is_send {
                inflight -= 1;
                let len = side
                    .send_len
                    .take()
                    .expect("send completion without a send");
                let cancelled = cancelling && res == -libc::ECANCELED;
                assert!(cancelled || res == len as i32, "side {k}: send gave {res}");
                continue;
            }
            if !cfg.multishot || !cqueue::more(flags) {
                inflight -= 1;
                side.recv_armed = false;
            }
            if res == -libc::ECANCELED && cancelling {
                continue;
            }
            if res == -libc::ENOBUFS && cfg.multishot {
                eprintln!("side {k}: ENOBUFS");
            } else {
                assert!(res > 0, "side {k}: recv gave {res}");
                let n = res as usize;
                let (src, bid) = if cfg.multishot {
                    let bid = cqueue::buffer_select(flags).expect("no buffer id");
                    (pbufs.at(usize::from(bid) * PBUF_SIZE, n), Some(bid))
                } else {
                    (own.at(recv_at(k) + side.got, n), None)
                };
                if k % 2 == 1 {
                    assert!(
                        side.send_len.is_none() && n <= MESSAGE,
                        "server {k}: echo overlap"
                    );
                    // SAFETY: the kernel wrote `n` bytes at `src` and is
                    // done with them (the CQE); no send is in flight on
                    // `k`'s send buffer, so the ranges are ours.
                    unsafe { std::ptr::copy_nonoverlapping(src, own.at(send_at(k), n), n) };
                    send!(side, k, n);
                } else {
                    let want = message_byte(k / 2, side.round);
                    // SAFETY: as above, the kernel wrote these `n` bytes
                    // and no SQE refers to them any more.
                    let echo = unsafe { std::slice::from_raw_parts(src, n) };
                    assert!(
                        side.got + n <= MESSAGE && echo.iter().all(|&b| b == want),
                        "client {k}: wrong echo"
                    );
                    side.got += n;
                    if side.got == MESSAGE {
                        side.got = 0;
                        side.round += 1;
                        if side.round < per_conn {
                            assert!(side.send_len.is_none(), "client {k}: send overlap");
                            write_message(k, message_byte(k / 2, side.round));
                            send!(side, k, MESSAGE);
                        } else {
                            done += 1;
                        }
                    }
                }
                if let Some(bid) = bid {
                    give_back(bid, &mut tail);
                }
            }
            let client_done = k % 2 == 0 && side.round >= per_conn;
            if !side.recv_armed && !cancelling && !client_done {
                pending.push(recv_sqe(k, side.got));
                side.recv_armed = true;
                inflight += 1;
            }
        }
        if cfg.multishot {
            publish(tail);
        }
    }
    if cfg.multishot {
        submitter
            .unregister_buf_ring(BGID)
            .map_err(ctx("unregister_buf_ring"))?;
    }
    if cfg.fixed {
        // A registered ring fd lives in the thread's own table (16
        // slots) and holds the ring open until it is unregistered:
        // closing the ring does not free the slot.
        submitter
            .unregister_ring_fd()
            .map_err(ctx("unregister_ring_fd"))?;
    }
    // Nothing in flight, the buffer ring unregistered: the memory is ours.
    own.quiet = true;
    pring.quiet = true;
    pbufs.quiet = true;
    Ok(())
}
