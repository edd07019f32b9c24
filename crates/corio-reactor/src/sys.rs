//! Every `unsafe` of the reactor, behind safe functions: the three poller calls that
//! name a descriptor by its number (add, modify, delete), and on Linux the two calls
//! of the TCP receive-queue hint ([`enable_tcp_inq`], [`recv_with_inq`], used by
//! `inq.rs`). (The epoll backend's calls,
//! in `epoll.rs`, are safe: rustix takes a `BorrowedFd`, which [`Registration`]
//! rebuilds here the same way for them.)
//!
//! `polling` makes `add` unsafe because the poller keeps an interest in the descriptor
//! after the call returns: the descriptor must be deleted from the poller before it is
//! closed. Modify and delete take a `BorrowedFd`, which the reactor can only rebuild
//! from the number it registered. [`Registration`] ties the three together: it is only
//! made by [`Registration::add`] from a live `BorrowedFd`, and is the only way to name
//! that number to the poller again.
//!
//! What the kernel does when the contract is broken, and why nothing here depends on
//! it for memory safety: an epoll (kqueue, event port) registration belongs to the
//! *open file description*, not to the fd number. Closing one fd of a `dup`'d pair
//! leaves the registration alive and reporting events under the old key; closing the
//! last one removes it. So the reactor always deletes before the fd is closed
//! ([`Async`](crate::Async) does so structurally), never trusts a key without its
//! generation (see `table.rs`), and on the Unix backends `polling` keeps no per-fd
//! state in user space that a stale registration could reach.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use polling::{Event, PollMode, Poller};

/// A descriptor number added to a poller, as the reactor registered it.
#[derive(Debug)]
pub(crate) struct Registration {
    fd: RawFd,
}

impl Registration {
    /// Adds `fd` to `poller` with `interest` (its `key` is what events will carry).
    ///
    /// The caller promises to [`delete`](Registration::delete) it before the
    /// descriptor is closed: that is `Reactor::register`'s documented contract.
    pub(crate) fn add(
        poller: &Poller,
        fd: BorrowedFd<'_>,
        interest: Event,
        mode: PollMode,
    ) -> io::Result<Registration> {
        let raw = fd.as_raw_fd();
        // SAFETY: `Poller::add_with_mode` requires the descriptor to be deleted from
        // the poller before it is closed. `Reactor::register` passes that requirement
        // on to its caller, and `Async` meets it structurally (it deregisters in `Drop`
        // and `into_inner` while it still owns the I/O object). A caller who breaks it
        // causes no memory unsafety on the Unix backends this crate builds for: the
        // kernel keeps or drops the registration with the open file description, and
        // `polling` keeps no per-fd state that could dangle; what remains is a stale
        // registration whose events carry an old key, which the reactor's generation-
        // tagged keys keep away from any other source.
        unsafe { poller.add_with_mode(raw, interest, mode) }?;
        Ok(Registration { fd: raw })
    }

    /// Records `fd` as registered by a backend whose `add` is safe (epoll through
    /// rustix); the same contract applies: delete before the descriptor is closed.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn added(fd: BorrowedFd<'_>) -> Registration {
        Registration { fd: fd.as_raw_fd() }
    }

    /// Runs `f` with the registered descriptor, for one call on the reactor's own
    /// poller (see `borrow` for why the borrow is sound).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn with_fd<R>(&self, f: impl FnOnce(BorrowedFd<'_>) -> R) -> R {
        f(self.borrow())
    }

    /// The registered descriptor number.
    pub(crate) fn raw(&self) -> RawFd {
        self.fd
    }

    /// Changes the interest (oneshot re-arm).
    pub(crate) fn modify(
        &self,
        poller: &Poller,
        interest: Event,
        mode: PollMode,
    ) -> io::Result<()> {
        poller.modify_with_mode(self.borrow(), interest, mode)
    }

    /// Removes the registration from the poller.
    pub(crate) fn delete(&self, poller: &Poller) -> io::Result<()> {
        poller.delete(self.borrow())
    }

    /// The registered number as a `BorrowedFd`, for one `epoll_ctl`-style call.
    fn borrow(&self) -> BorrowedFd<'_> {
        // SAFETY: the number came from a live `BorrowedFd` in `add` (so it is not -1),
        // and the registration contract says the descriptor stays open until it is
        // deleted; the reactor calls `delete` only for the source it just removed from
        // its table (under the table lock), and `modify` only for a source not marked
        // deregistered (under the source's lock). The borrow is used for nothing but
        // one call on this reactor's own poller. Should a caller have closed the fd
        // anyway, that call cannot touch anyone else's resource: it names the pair
        // (number, description) in this poller's interest list, which holds no entry
        // for a description the number now names unless it was registered through
        // `Reactor::register` (which evicts this source first), so the kernel answers
        // EBADF or ENOENT.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }
}

/// `setsockopt(fd, IPPROTO_TCP, TCP_INQ, 1)`: from now on, a `recvmsg` with room for a
/// control message on this TCP socket reports how many bytes it left queued.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn enable_tcp_inq(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let value: libc::c_int = on.into();
    // SAFETY: `setsockopt` reads `optlen` bytes from `optval`, which points to a live
    // `c_int` of exactly that size; it writes no memory of ours. `fd` is borrowed, so
    // it is open for the whole call (a descriptor that is not a TCP socket gets an
    // error back, nothing else).
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INQ,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One `recvmsg` into `buf`: the bytes read and, when the socket has `TCP_INQ` on
/// (see [`enable_tcp_inq`]), the kernel's count of bytes still queued after it
/// (`TCP_CM_INQ`; the kernel counts a received FIN with nothing left as 1).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn recv_with_inq(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
) -> io::Result<(usize, Option<usize>)> {
    // Room for one `int` control message (CMSG_SPACE(4) is 16 to 24 bytes), aligned
    // for `cmsghdr`.
    let mut control = [0u64; 4];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: `msghdr` is a plain C struct of pointers and integers (plus private
    // padding on some targets), for which all-zero bytes are a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: the kernel writes at most `iov_len` bytes to `iov_base`, which is `buf`
    // (exclusively borrowed, `buf.len()` bytes), at most `msg_controllen` bytes to
    // `control` (owned here, that size), and updates `msg`'s lengths; `iov` and
    // `control` outlive the call. `fd` is borrowed, so it is open for the call.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut inq = None;
    // SAFETY: `msg` is the header the kernel just filled in: `msg_control` points to
    // `control`, still alive, and `msg_controllen` says how much of it the kernel
    // wrote, so `CMSG_FIRSTHDR`/`CMSG_NXTHDR` return either null or a pointer to a
    // whole `cmsghdr` inside `control` (they check its length against the buffer).
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    while !cmsg.is_null() {
        // SAFETY: non-null, so it points to a `cmsghdr` the kernel wrote within
        // `control` (see above), aligned because `control` is `u64`-aligned and
        // control messages are padded to that alignment.
        let header = unsafe { &*cmsg };
        if header.cmsg_level == libc::SOL_TCP && header.cmsg_type == libc::TCP_CM_INQ {
            // SAFETY: a `TCP_CM_INQ` message carries one `c_int` after its header
            // (the kernel's `put_cmsg` of an int), inside `control`;
            // `read_unaligned` needs no alignment.
            let queued =
                unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>()) };
            inq = usize::try_from(queued).ok();
        }
        // SAFETY: as for `CMSG_FIRSTHDR`: `msg` describes `control`, `cmsg` points into it.
        cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
    }
    Ok((n as usize, inq))
}

/// `shutdown(2)` on a socket named by its number: the io_uring stream state
/// (`uring/stream.rs`) keeps its socket open for as long as it may call this.
#[cfg(all(target_os = "linux", feature = "io-uring"))]
pub(crate) fn shutdown(fd: RawFd, how: std::net::Shutdown) -> io::Result<()> {
    let how = match how {
        std::net::Shutdown::Read => libc::SHUT_RD,
        std::net::Shutdown::Write => libc::SHUT_WR,
        std::net::Shutdown::Both => libc::SHUT_RDWR,
    };
    // SAFETY: `shutdown` takes two integers and reads or writes no memory of ours; a
    // number that names no socket gets an error back.
    if unsafe { libc::shutdown(fd, how) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
