//! The child's pipes: [`ChildStdin`], [`ChildStdout`], [`ChildStderr`], each the std
//! pipe end made non-blocking and registered with the running loop's reactor.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use corio_reactor::{Async, Reactor};
use futures_io::{AsyncRead, AsyncWrite};

/// The writing end of a child's stdin ([`Child::stdin`](super::Child::stdin)).
///
/// Implements [`AsyncWrite`]; closing it ([`close`](ChildStdin::close),
/// `AsyncWriteExt::close`, or dropping it) closes the pipe, so the child reads EOF.
///
/// ```
/// use corio::process::{Command, Stdio};
///
/// corio::run(async {
///     let mut child = Command::new("sort")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()
///         .unwrap();
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"b\na\n").await.unwrap();
///     stdin.close(); // `sort` sees EOF and prints
///     let mut sorted = Vec::new();
///     child.stdout.take().unwrap().read_to_end(&mut sorted).await.unwrap();
///     assert_eq!(sorted, b"a\nb\n");
///     assert!(child.wait().await.unwrap().success());
/// });
/// ```
pub struct ChildStdin {
    /// `None` once closed.
    io: Option<Async<std::process::ChildStdin>>,
}

/// The reading end of a child's stdout ([`Child::stdout`](super::Child::stdout)); implements
/// [`AsyncRead`]. See [`ChildStdin`] for an example.
pub struct ChildStdout {
    io: Async<std::process::ChildStdout>,
}

/// The reading end of a child's stderr ([`Child::stderr`](super::Child::stderr)); implements [`AsyncRead`].
pub struct ChildStderr {
    io: Async<std::process::ChildStderr>,
}

fn closed_error() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the child's stdin was closed")
}

impl ChildStdin {
    pub(super) fn new(
        reactor: &Arc<Reactor>,
        pipe: std::process::ChildStdin,
    ) -> io::Result<ChildStdin> {
        Ok(ChildStdin {
            io: Some(Async::new(reactor, pipe)?),
        })
    }

    /// Writes some of `buf`, waiting until the pipe takes at least one byte.
    ///
    /// # Errors
    ///
    /// `BrokenPipe` once the child closed its stdin (or exited), or once this end was
    /// closed.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| Pin::new(&mut *self).poll_write(cx, buf)).await
    }

    /// Writes all of `buf`; see [`write`](ChildStdin::write).
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Closes the pipe: the child reads EOF. Later writes fail with `BrokenPipe`.
    pub fn close(&mut self) {
        self.io = None;
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let Some(io) = &self.io else {
            return Poll::Ready(Err(closed_error()));
        };
        let pipe = io.get_ref();
        io.source().poll_write_stream_with(cx, buf.len(), || {
            let mut pipe = pipe;
            pipe.write(buf)
        })
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let Some(io) = &self.io else {
            return Poll::Ready(Err(closed_error()));
        };
        let pipe = io.get_ref();
        let len = bufs.iter().map(|b| b.len()).sum();
        io.source().poll_write_stream_with(cx, len, || {
            let mut pipe = pipe;
            pipe.write_vectored(bufs)
        })
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes the pipe (see [`ChildStdin::close`]).
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().close();
        Poll::Ready(Ok(()))
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdin")
            .field("open", &self.io.is_some())
            .finish()
    }
}

/// Inherent reads and `AsyncRead`/`AsFd`/`Debug` for the two reading ends.
macro_rules! reader_impls {
    ($ty:ident, $std:ty) => {
        impl $ty {
            pub(super) fn new(reactor: &Arc<Reactor>, pipe: $std) -> io::Result<$ty> {
                Ok($ty {
                    io: Async::new(reactor, pipe)?,
                })
            }

            /// Reads into `buf`, waiting until at least one byte is there; `Ok(0)` at
            /// EOF (the child closed its end, usually by exiting).
            pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                poll_fn(|cx| Pin::new(&mut *self).poll_read(cx, buf)).await
            }

            /// Reads until EOF, appending to `buf`; returns how many bytes were read.
            pub async fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
                let start = buf.len();
                poll_fn(|cx| super::communicate::poll_read_to_end(&mut *self, cx, buf)).await?;
                Ok(buf.len() - start)
            }
        }

        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
            }
        }

        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.io.as_fd()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("fd", &self.io.as_fd())
                    .finish()
            }
        }
    };
}

reader_impls!(ChildStdout, std::process::ChildStdout);
reader_impls!(ChildStderr, std::process::ChildStderr);
