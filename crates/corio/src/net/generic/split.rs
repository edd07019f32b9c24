//! [`OwnedReadHalf<S>`] and [`OwnedWriteHalf<S>`]: the two directions of a
//! [`Stream`], for two tasks that each own one (from [`Stream::into_split`]); named
//! `corio::net::tcp::OwnedReadHalf`, `corio::net::unix::OwnedReadHalf`, ...
//!
//! Both halves hold the stream in an `Arc`, so the socket stays open (and registered)
//! as long as either half lives; a task waiting on one half can therefore never be
//! left waiting on a closed descriptor. To wake a reader blocked on the read half
//! from the writing side, shut the stream down: `write_half.as_ref().shutdown(Shutdown::Both)`
//! makes the pending read return `Ok(0)`.

use std::error::Error;
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::{Stream, StreamSocket};

/// The read half of a [`Stream`], from [`Stream::into_split`].
///
/// Implements [`futures_io::AsyncRead`]; `AsRef<Stream>` reaches every `&self`
/// method of the stream (addresses, options, `shutdown`).
pub struct OwnedReadHalf<S: StreamSocket> {
    inner: Arc<Stream<S>>,
}

/// The write half of a [`Stream`], from [`Stream::into_split`].
///
/// Implements [`futures_io::AsyncWrite`] (`poll_close` shuts the write direction
/// down). Dropping it also shuts the write direction down, so the peer reads EOF;
/// the read half keeps working.
pub struct OwnedWriteHalf<S: StreamSocket> {
    inner: Arc<Stream<S>>,
    shutdown_on_drop: bool,
}

impl<S: StreamSocket> OwnedReadHalf<S> {
    pub(crate) fn new(inner: Arc<Stream<S>>) -> OwnedReadHalf<S> {
        OwnedReadHalf { inner }
    }

    /// Reads into `buf`; see [`Stream::read`].
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).await
    }

    /// Reads without waiting; see [`Stream::try_read`].
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_read(buf)
    }

    /// Waits for read readiness; see [`Stream::readable`].
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.inner.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.inner.local_addr()
    }

    /// Joins this half with its write half into the original stream; fails (handing
    /// both back) if they come from different streams.
    pub fn reunite(self, mut other: OwnedWriteHalf<S>) -> Result<Stream<S>, ReuniteError<S>> {
        if !Arc::ptr_eq(&self.inner, &other.inner) {
            return Err(ReuniteError(self, other));
        }
        other.shutdown_on_drop = false;
        drop(other);
        match Arc::try_unwrap(self.inner) {
            Ok(stream) => Ok(stream),
            Err(_) => unreachable!("only the two halves hold the stream"),
        }
    }
}

impl<S: StreamSocket> OwnedWriteHalf<S> {
    pub(crate) fn new(inner: Arc<Stream<S>>) -> OwnedWriteHalf<S> {
        OwnedWriteHalf {
            inner,
            shutdown_on_drop: true,
        }
    }

    /// Writes some of `buf`; see [`Stream::write`].
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).await
    }

    /// Writes all of `buf`.
    pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf).await
    }

    /// Writes without waiting; see [`Stream::try_write`].
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.try_write(buf)
    }

    /// Waits for write readiness; see [`Stream::writable`].
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }

    /// Shuts the write direction down now (the peer reads EOF).
    pub fn shutdown(&self) -> io::Result<()> {
        self.inner.shutdown(Shutdown::Write)
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.inner.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.inner.local_addr()
    }

    /// Joins this half with its read half; see [`OwnedReadHalf::reunite`].
    pub fn reunite(self, other: OwnedReadHalf<S>) -> Result<Stream<S>, ReuniteError<S>> {
        other.reunite(self)
    }
}

impl<S: StreamSocket> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may already be gone; nothing to report from a drop.
            let _ = self.inner.shutdown(Shutdown::Write);
        }
    }
}

impl<S: StreamSocket> AsRef<Stream<S>> for OwnedReadHalf<S> {
    fn as_ref(&self) -> &Stream<S> {
        &self.inner
    }
}

impl<S: StreamSocket> AsRef<Stream<S>> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &Stream<S> {
        &self.inner
    }
}

impl<S: StreamSocket> fmt::Debug for OwnedReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf").field(&*self.inner).finish()
    }
}

impl<S: StreamSocket> fmt::Debug for OwnedWriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&*self.inner).finish()
    }
}

impl<S: StreamSocket> AsyncRead for OwnedReadHalf<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_read_priv(cx, buf)
    }
}

impl<S: StreamSocket> AsyncWrite for OwnedWriteHalf<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_flush_priv(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_shutdown_write(cx)
    }
}

/// The halves given to [`OwnedReadHalf::reunite`] came from different streams; both
/// are handed back (`.0` and `.1`).
pub struct ReuniteError<S: StreamSocket>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S: StreamSocket> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReuniteError")
            .field(&self.0)
            .field(&self.1)
            .finish()
    }
}

impl<S: StreamSocket> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl<S: StreamSocket> Error for ReuniteError<S> {}
