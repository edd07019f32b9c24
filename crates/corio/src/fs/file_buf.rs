//! The buffer behind [`File`](super::File) and the one job that carries it
//! to the blocking pool and back.
//!
//! A [`Buf`] is in one of two modes. *Reading*: `data[pos..]` are bytes read
//! ahead from the OS and not yet handed out, so the OS cursor is that many
//! bytes past the file's logical position. *Writing*: `data` are bytes
//! accepted by `poll_write` and not yet written, so the logical position is
//! that many bytes past the OS cursor. Switching from reading to writing
//! discards the read-ahead and remembers, in `rewind`, how far to seek back
//! before anything else touches the file.
//!
//! Every trip to the pool is [`run`], which settles the buffer before its
//! action, always in the same order: seek back over discarded read-ahead,
//! write out the pending bytes, then do the action (read, seek, sync, ...).
//! So an action sees exactly the file a synchronous program would: a seek
//! after writes lands where the writes left off, a read after a write sees
//! the written bytes.

use std::fs::{File as StdFile, Metadata, Permissions};
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Writes are gathered up to this many bytes before a trip to the pool;
/// a read fetches at least this many.
pub(super) const CAPACITY: usize = 64 * 1024;

/// A read fetches, and a large write into an empty buffer takes, at most
/// this many bytes in one trip (tokio's limit).
const MAX_TRIP: usize = 2 * 1024 * 1024;

/// The file's buffer; see the module docs.
#[derive(Debug, Default)]
pub(super) struct Buf {
    data: Vec<u8>,
    /// Reading: where the unread bytes start. Writing: 0.
    pos: usize,
    writing: bool,
    /// Read-ahead bytes discarded: the OS cursor is this far past the logical position.
    rewind: usize,
}

impl Buf {
    /// Read-ahead bytes not yet handed out.
    pub(super) fn unread(&self) -> &[u8] {
        if self.writing {
            &[]
        } else {
            &self.data[self.pos..]
        }
    }

    /// Marks `n` unread bytes as handed out.
    pub(super) fn consume(&mut self, n: usize) {
        debug_assert!(!self.writing && n <= self.data.len() - self.pos);
        self.pos += n;
    }

    /// Copies unread bytes into `dst`; returns how many.
    pub(super) fn read_into(&mut self, dst: &mut [u8]) -> usize {
        let unread = self.unread();
        let n = unread.len().min(dst.len());
        dst[..n].copy_from_slice(&unread[..n]);
        self.consume(n);
        n
    }

    /// Whether written bytes wait to be written.
    pub(super) fn has_pending_writes(&self) -> bool {
        self.writing && !self.data.is_empty()
    }

    /// Whether the next job must touch the file before its action.
    pub(super) fn is_dirty(&self) -> bool {
        self.has_pending_writes() || self.rewind > 0
    }

    /// Accepts up to the free room of `src` for writing (dropping any
    /// read-ahead first); returns how many bytes, 0 when the buffer is full.
    /// An empty buffer takes a large write whole (up to 2 MiB), for one trip.
    pub(super) fn write_from(&mut self, src: &[u8]) -> usize {
        if !self.writing {
            self.rewind += self.data.len() - self.pos;
            self.data.clear();
            self.pos = 0;
            self.writing = true;
        }
        let room = if self.data.is_empty() {
            src.len().clamp(CAPACITY, MAX_TRIP)
        } else {
            CAPACITY.saturating_sub(self.data.len())
        };
        let n = src.len().min(room);
        self.data.extend_from_slice(&src[..n]);
        n
    }

    /// The discarded read-ahead for a seek: `Current(k)` is relative to the
    /// logical position, which is `unread` bytes before the OS cursor.
    pub(super) fn discard_unread(&mut self) {
        if !self.writing {
            self.rewind += self.data.len() - self.pos;
            self.data.clear();
            self.pos = 0;
        }
    }
}

/// What a trip to the pool does once the buffer is settled.
#[derive(Debug)]
pub(super) enum Action {
    /// Nothing more (a flush).
    Flush,
    /// Reads up to this many bytes into the buffer (at least [`CAPACITY`]).
    Read(usize),
    Seek(SeekFrom),
    SyncAll,
    SyncData,
    SetLen(u64),
    Metadata,
    SetPermissions(Permissions),
}

impl Action {
    /// A read for a destination of `wanted` bytes: batched up to [`CAPACITY`], at most [`MAX_TRIP`].
    pub(super) fn read(wanted: usize) -> Action {
        Action::Read(wanted.clamp(CAPACITY, MAX_TRIP))
    }
}

/// How a trip ended.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Settling the buffer failed (seeking back, or writing the pending
    /// bytes, which are dropped): the action did not run. Whoever collects
    /// this reports it, whatever it was waiting for.
    Settle(io::Error),
    Flushed,
    /// Bytes read into the buffer (0 at end of file).
    Read(io::Result<usize>),
    Seek(io::Result<u64>),
    /// A sync, set_len or set_permissions.
    Done(io::Result<()>),
    Metadata(io::Result<Metadata>),
}

/// One trip: settle `buf` (seek back, write pending bytes), then do `action`.
pub(super) fn run(file: &StdFile, mut buf: Buf, action: Action) -> (Buf, Outcome) {
    let mut file = file;
    if buf.rewind > 0 {
        let back = i64::try_from(buf.rewind).unwrap_or(i64::MAX);
        buf.rewind = 0;
        if let Err(e) = file.seek(SeekFrom::Current(-back)) {
            buf.data.clear();
            buf.writing = false;
            return (buf, Outcome::Settle(e));
        }
    }
    if buf.writing {
        let written = file.write_all(&buf.data);
        buf.data.clear();
        buf.writing = false;
        if let Err(e) = written {
            return (buf, Outcome::Settle(e));
        }
    }
    let outcome = match action {
        Action::Flush => Outcome::Flushed,
        Action::Read(n) => {
            // The buffer is empty here: reads start only once the read-ahead is used up.
            buf.data.clear();
            buf.pos = 0;
            buf.data.resize(n, 0);
            let read = loop {
                match file.read(&mut buf.data) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    other => break other,
                }
            };
            buf.data.truncate(*read.as_ref().unwrap_or(&0));
            Outcome::Read(read)
        }
        Action::Seek(to) => Outcome::Seek(file.seek(to)),
        Action::SyncAll => Outcome::Done(file.sync_all()),
        Action::SyncData => Outcome::Done(file.sync_data()),
        Action::SetLen(len) => Outcome::Done(file.set_len(len)),
        Action::Metadata => Outcome::Metadata(file.metadata()),
        Action::SetPermissions(permissions) => Outcome::Done(file.set_permissions(permissions)),
    };
    (buf, outcome)
}
