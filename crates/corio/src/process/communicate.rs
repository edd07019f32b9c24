//! The engine of [`Child::communicate`](super::Child::communicate): feed stdin and
//! drain stdout and stderr in one future, polling all three each time it wakes, so a
//! child that fills one pipe before it reads another never deadlocks with us.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::stdio::{ChildStderr, ChildStdin, ChildStdout};

/// Bytes asked for per read (a Linux pipe holds 64 KiB).
const CHUNK: usize = 64 * 1024;
/// Reads or writes per pipe per poll before yielding to the loop, so a child that
/// writes without end cannot hold the loop's thread.
const BUDGET: usize = 32;

/// Reads `reader` into `buf` until EOF (`Ready(Ok(()))`), an error, or `Pending`.
pub(super) fn poll_read_to_end<R: AsyncRead + Unpin>(
    reader: &mut R,
    cx: &mut Context<'_>,
    buf: &mut Vec<u8>,
) -> Poll<io::Result<()>> {
    for _ in 0..BUDGET {
        let len = buf.len();
        buf.resize(len + CHUNK, 0);
        let result = Pin::new(&mut *reader).poll_read(cx, &mut buf[len..]);
        let n = match &result {
            Poll::Ready(Ok(n)) => *n,
            _ => 0,
        };
        buf.truncate(len + n);
        match result {
            Poll::Ready(Ok(0)) => return Poll::Ready(Ok(())),
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// Writes `input[*written..]` to `writer` until all is written, an error, or
/// `Pending`.
fn poll_write_all(
    writer: &mut ChildStdin,
    cx: &mut Context<'_>,
    input: &[u8],
    written: &mut usize,
) -> Poll<io::Result<()>> {
    for _ in 0..BUDGET {
        if *written == input.len() {
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut *writer).poll_write(cx, &input[*written..]) {
            Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Poll::Ready(Ok(n)) => *written += n,
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// Feeds `input` to `stdin` (then closes it) while reading `stdout` and `stderr` to
/// EOF, all at once; returns what was read from each.
///
/// A child that stops reading its stdin (it closed it, or exited) is not an error:
/// like asyncio, the rest of the input is dropped.
pub(super) async fn communicate(
    mut stdin: Option<ChildStdin>,
    input: &[u8],
    mut stdout: Option<ChildStdout>,
    mut stderr: Option<ChildStderr>,
) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut written = 0;
    poll_fn(|cx| {
        if let Some(pipe) = &mut stdin {
            match poll_write_all(pipe, cx, input, &mut written) {
                Poll::Ready(Ok(())) => stdin = None,
                Poll::Ready(Err(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    stdin = None;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        }
        if let Some(pipe) = &mut stdout {
            match poll_read_to_end(pipe, cx, &mut out) {
                Poll::Ready(Ok(())) => stdout = None,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        }
        if let Some(pipe) = &mut stderr {
            match poll_read_to_end(pipe, cx, &mut err) {
                Poll::Ready(Ok(())) => stderr = None,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        }
        if stdin.is_none() && stdout.is_none() && stderr.is_none() {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await?;
    Ok((out, err))
}
