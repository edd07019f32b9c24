//! [`HyperIo`]: hyper's `rt::Read`/`rt::Write` over a futures-io stream.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// The largest read [`HyperIo`] does at once, and so the most its bounce
/// buffer grows to.
const MAX_READ: usize = 64 * 1024;

/// Adapts a futures-io stream (`AsyncRead + AsyncWrite + Unpin`: corio's
/// TCP and Unix streams, their halves, or any other) to hyper's
/// [`rt::Read`](hyper::rt::Read) and [`rt::Write`](hyper::rt::Write).
///
/// Writes, flushes and shutdown go straight to the stream
/// (`poll_shutdown` is futures-io's `poll_close`).
///
/// Reads take one extra copy. hyper hands a read a possibly uninitialized
/// buffer, and filling it in place needs `unsafe` (`ReadBufCursor::as_mut`
/// and `advance`), which this crate forbids. So `HyperIo` reads into a
/// zero-initialized buffer of its own, reused across reads (allocated on
/// the first read and grown to at most 64 KiB, never zeroed again), then
/// copies what was read into hyper's buffer with the safe
/// `ReadBufCursor::put_slice`. On a loopback benchmark the copy is a small
/// fraction of the syscall it follows.
///
/// Vectored writes are forwarded to the stream's `poll_write_vectored`,
/// but hyper is told to use them only after
/// [`set_write_vectored(true)`](Self::set_write_vectored): futures-io has no
/// way to ask a stream whether it writes vectors natively, and for one that
/// does not, hyper's own flattening into one buffer is the better choice.
#[derive(Debug)]
pub struct HyperIo<T> {
    io: T,
    /// Bounce buffer for reads; its length only grows, and every byte in it
    /// is initialized.
    buf: Vec<u8>,
    vectored: bool,
}

impl<T> HyperIo<T> {
    /// Wraps `io`.
    pub fn new(io: T) -> HyperIo<T> {
        HyperIo {
            io,
            buf: Vec::new(),
            vectored: false,
        }
    }

    /// Whether hyper should send vectored writes (default `false`). Turn it
    /// on for a stream whose `poll_write_vectored` does a real `writev`.
    pub fn set_write_vectored(&mut self, vectored: bool) {
        self.vectored = vectored;
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The wrapped stream, mutably. Reading from it directly is fine
    /// between hyper's reads: `HyperIo` buffers nothing across calls.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.io
    }
}

impl<T> From<T> for HyperIo<T> {
    fn from(io: T) -> HyperIo<T> {
        HyperIo::new(io)
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut cursor: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let want = cursor.remaining().min(MAX_READ);
        if want == 0 {
            // Nothing fits: report success without touching the stream, as
            // tokio's `AsyncRead` does for an empty `ReadBuf`.
            return Poll::Ready(Ok(()));
        }
        if this.buf.len() < want {
            this.buf.resize(want, 0);
        }
        let n = ready!(Pin::new(&mut this.io).poll_read(cx, &mut this.buf[..want]))?;
        // A stream claiming more than it was given is broken; don't panic in
        // `put_slice` over it.
        let n = n.min(want);
        cursor.put_slice(&this.buf[..n]);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for HyperIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_close(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}
