//! [`File`]: an open file whose reads, writes and seeks run on the blocking
//! pool, buffered so that many small calls share one trip.
//!
//! # State
//!
//! A `File` is `Idle` (it holds its [`Buf`]) or `Busy` (one trip to the pool
//! is in flight and the buffer travels with it). Only the `File` itself
//! starts trips, one at a time, and every poll function first waits for the
//! trip in flight and takes its buffer back; so the buffer is never in two
//! places, and operations reach the file in the order they were called.
//! A trip whose caller went away (its future dropped) still finishes and
//! still returns the buffer: the next operation collects it. Its outcome is
//! then dropped, except a failed write (of bytes `poll_write` had accepted),
//! which is reported by whatever operation collects it.

use std::fmt;
use std::fs::{File as StdFile, Metadata, Permissions};
use std::future::{poll_fn, Future};
use std::io::{self, SeekFrom};
use std::mem;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};

use super::file_buf::{self, Action, Buf, Outcome};
use super::hop::{current_pool, path_error, Hop};
use super::OpenOptions;
use crate::blocking::BlockingPool;

/// One trip's work: settle the buffer, then the action.
type Trip = Box<dyn FnOnce() -> (Buf, Outcome) + Send>;

/// An open file (tokio's `fs::File`), implementing the futures-io
/// [`AsyncRead`], [`AsyncBufRead`], [`AsyncWrite`] and [`AsyncSeek`]; use it
/// with [`corio::io`](crate::io)'s extension traits.
///
/// ```
/// use corio::fs::File;
/// use corio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
///
/// corio::run(async {
///     let path = std::env::temp_dir().join(format!("corio-file-doc-{}", std::process::id()));
///     let mut file = corio::fs::OpenOptions::new()
///         .read(true).write(true).create(true).truncate(true)
///         .open(&path).await?;
///     file.write_all(b"hello world").await?;
///     file.seek(SeekFrom::Start(6)).await?; // writes the buffer first
///     let mut word = String::new();
///     file.read_to_string(&mut word).await?;
///     assert_eq!(word, "world");
///     file.sync_all().await?; // on disk, and any write error reported
///     corio::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
///
/// # Buffering
///
/// Writes are gathered in a 64 KiB buffer, so a `write_all` of many small
/// chunks costs one trip to the pool per 64 KiB, not one per chunk (a
/// write of 64 KiB or more into an empty buffer goes out whole, up to
/// 2 MiB). A read fetches at least 64 KiB ahead (up to the reader's buffer,
/// at most 2 MiB) and serves the next reads from it. The buffering is
/// invisible to the file's contents: a read after a write, a seek after a
/// write, [`set_len`](Self::set_len), [`metadata`](Self::metadata) and the
/// syncs all first write out what is buffered; a write after a read-ahead
/// first seeks back to where the reader is. Other processes (and other
/// handles to the same file) see buffered bytes only once written out:
/// call [`flush`](crate::io::AsyncWriteExt::flush).
///
/// # Errors
///
/// Because `write` returns once the bytes are buffered, the error of writing
/// them out comes later: from `flush()`, [`sync_all`](Self::sync_all), or
/// whatever operation is next; those bytes are then dropped. Call `flush()`
/// (or `sync_all()` for durability) before you are done with a file, to see
/// that error. Errors name the file's path, like the free functions':
/// `corio::fs::File::write(/x): No space left on device (os error 28)`.
///
/// # Drop and cancellation
///
/// Dropping a `File` with buffered bytes writes them out in the background
/// on the pool, as tokio's `File` does: the drop does not wait for it, and an
/// error writing them is lost. A future of this file's operations that is
/// dropped part way (a `write_all` or `read` under a
/// [`timeout`](crate::timeout()) that fired) loses nothing: bytes it had
/// handed over are written, bytes it had read ahead stay buffered for the
/// next read; only the answer to the dropped call (how far a seek went) is
/// gone.
///
/// All of a `File`'s methods take `&mut self`, so no two operations on one
/// `File` run at once; the ones that read the file's state (`metadata`)
/// need it too, to write out buffered bytes first.
pub struct File {
    std: Arc<StdFile>,
    /// The path it was opened with, for error messages.
    path: Option<Arc<Path>>,
    /// The pool of the loop it was opened in: runs its trips when no loop
    /// runs on the thread (a `File` dropped after its loop ended).
    home: Option<BlockingPool>,
    state: State,
    /// The target of the seek in flight, so that polling `poll_seek` again
    /// finishes it rather than seeking twice.
    seeking: Option<SeekFrom>,
    /// Trips started, for the tests of batching.
    #[cfg(test)]
    pub(super) trips: usize,
}

enum State {
    Idle(Buf),
    Busy(Hop<(Buf, Outcome), Trip>),
}

impl File {
    /// Opens a file for reading (`std::fs::File::open`).
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens a file for writing, creating it or truncating it
    /// (`std::fs::File::create`).
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Creates a new file for reading and writing; an `AlreadyExists` error if
    /// the path exists (`std::fs::File::create_new`).
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// A blank [`OpenOptions`].
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps a `std::fs::File` (its errors then name no path).
    pub fn from_std(std: StdFile) -> File {
        File::new(std, None)
    }

    pub(super) fn new(std: StdFile, path: Option<Arc<Path>>) -> File {
        File {
            std: Arc::new(std),
            path,
            home: current_pool(),
            state: State::Idle(Buf::default()),
            seeking: None,
            #[cfg(test)]
            trips: 0,
        }
    }

    /// Writes out buffered bytes, then returns the `std::fs::File` (its OS
    /// cursor at this `File`'s position: read-ahead is given back).
    pub async fn into_std(mut self) -> io::Result<StdFile> {
        self.idle().await?;
        self.buf().discard_unread();
        self.settle().await?;
        let std = self.std.clone();
        drop(self);
        // No trip is in flight, so this is the only other reference.
        Arc::try_unwrap(std).or_else(|shared| shared.try_clone())
    }

    /// Flushes buffered bytes and makes the file's data and metadata durable
    /// (`fsync`); reports any error of writing out earlier writes.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        let outcome = self.act("sync_all", Action::SyncAll).await?;
        self.done("sync_all", outcome)
    }

    /// Like [`sync_all`](Self::sync_all), without the metadata that reading
    /// the data back does not need (`fdatasync`).
    pub async fn sync_data(&mut self) -> io::Result<()> {
        let outcome = self.act("sync_data", Action::SyncData).await?;
        self.done("sync_data", outcome)
    }

    /// Truncates or extends the file to `size` bytes, after writing out
    /// buffered bytes; the position does not move (`std::fs::File::set_len`).
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        self.idle().await?;
        // The read-ahead may be beyond the new end.
        self.buf().discard_unread();
        let outcome = self.act("set_len", Action::SetLen(size)).await?;
        self.done("set_len", outcome)
    }

    /// The file's metadata, after writing out buffered bytes (so `len()`
    /// counts them).
    pub async fn metadata(&mut self) -> io::Result<Metadata> {
        match self.act("metadata", Action::Metadata).await? {
            Outcome::Metadata(result) => result.map_err(|e| self.error("metadata", e)),
            other => unreachable!("corio::fs::File: a metadata trip ended in {other:?}"),
        }
    }

    /// Changes the file's permissions (`std::fs::File::set_permissions`).
    pub async fn set_permissions(&mut self, permissions: Permissions) -> io::Result<()> {
        let outcome = self
            .act("set_permissions", Action::SetPermissions(permissions))
            .await?;
        self.done("set_permissions", outcome)
    }

    /// Waits for the trip in flight, then writes out buffered bytes.
    async fn settle(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_settle(cx)).await
    }

    /// Waits for the trip in flight (reporting its failed write).
    async fn idle(&mut self) -> io::Result<()> {
        poll_fn(|cx| match ready!(self.poll_trip(cx)) {
            Some(Outcome::Settle(e)) => Poll::Ready(Err(self.error("write", e))),
            _ => Poll::Ready(Ok(())),
        })
        .await
    }

    /// Runs `action` in one trip (after whatever is in flight) and returns its outcome.
    async fn act(&mut self, op: &'static str, action: Action) -> io::Result<Outcome> {
        let mut action = Some(action);
        poll_fn(|cx| loop {
            match ready!(self.poll_trip(cx)) {
                Some(Outcome::Settle(e)) => return Poll::Ready(Err(self.error("write", e))),
                Some(outcome) if action.is_none() => return Poll::Ready(Ok(outcome)),
                // Another call's trip, whose caller went away.
                _ => {}
            }
            match action.take() {
                Some(action) => self.start(action),
                None => unreachable!("corio::fs::File::{op}: idle with its trip not collected"),
            }
        })
        .await
    }

    fn done(&self, op: &str, outcome: Outcome) -> io::Result<()> {
        match outcome {
            Outcome::Done(result) => result.map_err(|e| self.error(op, e)),
            other => unreachable!("corio::fs::File::{op}: the trip ended in {other:?}"),
        }
    }

    /// Starts a trip for `action`: on the running loop's pool, else the home pool, else here.
    fn start(&mut self, action: Action) {
        let State::Idle(buf) = &mut self.state else {
            unreachable!("corio::fs::File: a trip started while one is in flight")
        };
        let buf = mem::take(buf);
        let std = self.std.clone();
        let trip: Trip = Box::new(move || file_buf::run(&std, buf, action));
        let hop = match current_pool().or_else(|| self.home.clone()) {
            Some(pool) => Hop::spawn(&pool, trip),
            None => Hop::Done(Some(trip())),
        };
        self.state = State::Busy(hop);
        #[cfg(test)]
        {
            self.trips += 1;
        }
    }

    /// Waits for the trip in flight, if any, and returns its outcome.
    fn poll_trip(&mut self, cx: &mut Context<'_>) -> Poll<Option<Outcome>> {
        let State::Busy(hop) = &mut self.state else {
            return Poll::Ready(None);
        };
        let (buf, outcome) = ready!(Pin::new(hop).poll(cx));
        self.state = State::Idle(buf);
        Poll::Ready(Some(outcome))
    }

    /// The idle buffer (call only once `poll_trip` returned `Ready`).
    fn buf(&mut self) -> &mut Buf {
        match &mut self.state {
            State::Idle(buf) => buf,
            State::Busy(_) => unreachable!("corio::fs::File: the buffer is on a trip"),
        }
    }

    /// Waits for the trip in flight and writes out buffered bytes (`poll_flush`).
    fn poll_settle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if let Some(Outcome::Settle(e)) = ready!(self.poll_trip(cx)) {
                return Poll::Ready(Err(self.error("write", e)));
            }
            if !self.buf().is_dirty() {
                return Poll::Ready(Ok(()));
            }
            self.start(Action::Flush);
        }
    }

    /// Waits until read-ahead bytes are buffered, or the end of file (`poll_fill_buf`).
    fn poll_fill(&mut self, cx: &mut Context<'_>, wanted: usize) -> Poll<io::Result<()>> {
        loop {
            match ready!(self.poll_trip(cx)) {
                Some(Outcome::Settle(e)) => return Poll::Ready(Err(self.error("write", e))),
                Some(Outcome::Read(Err(e))) => return Poll::Ready(Err(self.error("read", e))),
                Some(Outcome::Read(Ok(0))) => return Poll::Ready(Ok(())),
                _ => {}
            }
            if !self.buf().unread().is_empty() {
                return Poll::Ready(Ok(()));
            }
            self.start(Action::read(wanted));
        }
    }

    /// `error`, naming `File::{op}` and the path (when the file has one).
    fn error(&self, op: &str, error: io::Error) -> io::Error {
        match &self.path {
            Some(path) => path_error(&format!("File::{op}"), &path.display(), error),
            None => error,
        }
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(this.poll_fill(cx, dst.len()))?;
        Poll::Ready(Ok(this.buf().read_into(dst)))
    }
}

impl AsyncBufRead for File {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        ready!(this.poll_fill(cx, 0))?;
        Poll::Ready(Ok(this.buf().unread()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        if let State::Idle(buf) = &mut self.get_mut().state {
            let n = amt.min(buf.unread().len());
            buf.consume(n);
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            if let Some(Outcome::Settle(e)) = ready!(this.poll_trip(cx)) {
                return Poll::Ready(Err(this.error("write", e)));
            }
            let n = this.buf().write_from(src);
            if n > 0 || src.is_empty() {
                return Poll::Ready(Ok(n));
            }
            // Full: write it out, then take more.
            this.start(Action::Flush);
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_settle(cx)
    }

    /// Flushes; the file itself closes when the `File` is dropped.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_settle(cx)
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        to: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            match ready!(this.poll_trip(cx)) {
                Some(Outcome::Settle(e)) => {
                    this.seeking = None;
                    return Poll::Ready(Err(this.error("write", e)));
                }
                Some(Outcome::Seek(result)) if this.seeking == Some(to) => {
                    this.seeking = None;
                    return Poll::Ready(result.map_err(|e| this.error("seek", e)));
                }
                _ => {}
            }
            // `Current` counts from the reader's position, behind the read-ahead.
            this.buf().discard_unread();
            this.seeking = Some(to);
            this.start(Action::Seek(to));
        }
    }
}

impl Drop for File {
    /// Writes buffered bytes out in the background (a trip in flight already
    /// carries them).
    fn drop(&mut self) {
        let State::Idle(buf) = &mut self.state else {
            return;
        };
        if !buf.has_pending_writes() {
            return;
        }
        let buf = mem::take(buf);
        let std = self.std.clone();
        let trip: Trip = Box::new(move || file_buf::run(&std, buf, Action::Flush));
        match current_pool().or_else(|| self.home.clone()) {
            // Not awaited: the pool runs it (or, refusing, it ran right here).
            Some(pool) => drop(Hop::spawn(&pool, trip)),
            None => drop(trip()),
        }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("std", &self.std)
            .field("path", &self.path)
            .field("busy", &matches!(self.state, State::Busy(_)))
            .finish()
    }
}
