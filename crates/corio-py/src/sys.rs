//! The crate's one `unsafe`: Python names file descriptors by number
//! (`loop.add_reader(fd, ...)`), and the reactor registers a `BorrowedFd`.

use std::io;
use std::os::fd::{BorrowedFd, RawFd};

/// Calls `f` with `fd` borrowed for the duration of the call, after checking
/// that the number names an open descriptor (`fcntl(F_GETFD)`).
pub(crate) fn with_fd<R>(
    fd: RawFd,
    f: impl FnOnce(BorrowedFd<'_>) -> io::Result<R>,
) -> io::Result<R> {
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(
            rustix::io::Errno::BADF.raw_os_error(),
        ));
    }
    // SAFETY: `fd` is non-negative and the borrow lives only for this call,
    // during which the GIL is held by our caller, so no Python code (the only
    // owner of the number) can close it meanwhile; the `fcntl` below fails
    // with EBADF, before anything else touches it, if it was not open.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    rustix::io::fcntl_getfd(borrowed)?;
    f(borrowed)
}

/// Calls `f` with a `pollfd` for each registered source's fd and its flags.
pub(crate) fn with_fds<R>(
    sources: &[(
        std::sync::Arc<corio_reactor::Source>,
        rustix::event::PollFlags,
    )],
    f: impl FnOnce(&mut [rustix::event::PollFd<'_>]) -> io::Result<R>,
) -> io::Result<R> {
    let borrowed: Vec<BorrowedFd<'_>> = sources
        .iter()
        .map(|(source, _)| {
            // SAFETY: the number is registered with the loop's reactor, which
            // by asyncio's contract (remove the callbacks before closing)
            // means it is open; the GIL, held by our caller, keeps Python
            // code from closing it during this call. A number closed without
            // removal (the caller's bug) gives POLLNVAL for that entry, and
            // is never used for anything else.
            unsafe { BorrowedFd::borrow_raw(source.raw()) }
        })
        .collect();
    let mut pollfds: Vec<rustix::event::PollFd<'_>> = borrowed
        .iter()
        .zip(sources)
        .map(|(fd, (_, flags))| rustix::event::PollFd::new(fd, *flags))
        .collect();
    f(&mut pollfds)
}
