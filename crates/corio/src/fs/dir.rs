//! [`read_dir`], [`ReadDir`] and [`DirEntry`]: a directory listing fetched
//! from the blocking pool in batches.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{FileType, Metadata};
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_core::Stream;

use super::hop::{current_pool, path_error, with_path, Hop};
use crate::blocking::BlockingPool;

/// Entries fetched per trip to the pool (tokio's number).
const BATCH: usize = 32;

/// One batch: the open directory (to continue from), its next entries, and
/// whether the listing ended (or failed) within this batch.
type Batch = (std::fs::ReadDir, VecDeque<io::Result<DirEntry>>, bool);

/// The job that fetches a batch.
type FetchJob = Box<dyn FnOnce() -> Batch + Send>;

/// Opens a directory for listing (`std::fs::read_dir`); the same trip to the
/// pool fetches its first 32 entries, so a small directory costs one trip.
///
/// The entries come in the order the OS gives them (not sorted), without `.`
/// and `..`. An error opening the directory names it:
/// `corio::fs::read_dir(/x): No such file or directory (os error 2)`.
///
/// ```
/// corio::run(async {
///     let dir = std::env::temp_dir().join(format!("corio-read-dir-doc-{}", std::process::id()));
///     corio::fs::create_dir_all(dir.join("sub")).await?;
///     corio::fs::write(dir.join("file"), b"x").await?;
///
///     let mut entries = corio::fs::read_dir(&dir).await?;
///     let mut found = Vec::new();
///     while let Some(entry) = entries.next_entry().await? {
///         found.push((entry.file_name(), entry.file_type().await?.is_dir()));
///     }
///     found.sort();
///     assert_eq!(found, [("file".into(), false), ("sub".into(), true)]);
///     corio::fs::remove_dir_all(&dir).await
/// })
/// .unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path: Arc<Path> = Arc::from(path.as_ref());
    let for_errors = path.clone();
    let (inner, entries, done) = with_path("read_dir", &path, move |p| {
        let inner = std::fs::read_dir(p)?;
        Ok(fetch(inner, &for_errors))
    })
    .await?;
    Ok(ReadDir {
        path,
        entries,
        state: if done {
            State::Done
        } else {
            State::Idle(inner)
        },
    })
}

/// Reads up to [`BATCH`] entries; an entry's error ends the listing.
fn fetch(mut inner: std::fs::ReadDir, path: &Arc<Path>) -> Batch {
    let mut entries = VecDeque::with_capacity(BATCH);
    let mut done = false;
    while entries.len() < BATCH {
        match inner.next() {
            Some(Ok(std)) => entries.push_back(Ok(DirEntry::new(std))),
            Some(Err(e)) => {
                entries.push_back(Err(path_error("read_dir", &path.display(), e)));
                done = true;
                break;
            }
            None => {
                done = true;
                break;
            }
        }
    }
    (inner, entries, done)
}

/// A directory listing from [`read_dir`]: [`next_entry`](Self::next_entry),
/// or use it as a [`Stream`] of `io::Result<DirEntry>`.
///
/// Entries arrive in batches of 32 per trip to the blocking pool. Dropping
/// the future of `next_entry` loses nothing: a batch being fetched is kept in
/// the `ReadDir` and the next call picks it up.
pub struct ReadDir {
    path: Arc<Path>,
    /// Entries fetched and not yet handed out.
    entries: VecDeque<io::Result<DirEntry>>,
    state: State,
}

enum State {
    /// More entries may follow; none are being fetched.
    Idle(std::fs::ReadDir),
    /// A batch is being fetched.
    Fetching(Hop<Batch, FetchJob>),
    /// The listing ended (or failed): `entries` holds the last of it.
    Done,
}

impl ReadDir {
    /// The next entry, `Ok(None)` at the end. After an error, the listing ends.
    ///
    /// # Panics
    ///
    /// When it must fetch a batch outside a running loop.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        std::future::poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// The poll form of [`next_entry`](Self::next_entry).
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            if let Some(entry) = self.entries.pop_front() {
                return Poll::Ready(entry.map(Some));
            }
            match &mut self.state {
                State::Done => return Poll::Ready(Ok(None)),
                State::Fetching(hop) => {
                    let (inner, entries, done) = ready!(Pin::new(hop).poll(cx));
                    self.entries = entries;
                    self.state = if done {
                        State::Done
                    } else {
                        State::Idle(inner)
                    };
                }
                State::Idle(_) => {
                    let State::Idle(inner) = std::mem::replace(&mut self.state, State::Done) else {
                        unreachable!()
                    };
                    let pool = pool_for("corio::fs::ReadDir::next_entry()");
                    let path = self.path.clone();
                    let job: FetchJob = Box::new(move || fetch(inner, &path));
                    self.state = State::Fetching(Hop::spawn(&pool, job));
                }
            }
        }
    }
}

/// The running loop's pool.
///
/// # Panics
///
/// Outside a running loop, naming `what`.
fn pool_for(what: &str) -> BlockingPool {
    current_pool().unwrap_or_else(|| {
        panic!("{what} needs a running event loop to fetch entries: call it inside corio::run(...)")
    })
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_entry(cx).map(Result::transpose)
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir")
            .field("path", &self.path)
            .field("buffered", &self.entries.len())
            .field("done", &matches!(self.state, State::Done))
            .finish()
    }
}

/// One entry of a [`ReadDir`]: its name and path at once, its type (fetched
/// with the batch where the OS gives it for free) and metadata on demand.
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    file_type: Option<FileType>,
}

impl DirEntry {
    fn new(std: std::fs::DirEntry) -> DirEntry {
        // On Linux and most file systems this is the `d_type` readdir
        // returned, so it costs no syscall here.
        let file_type = std.file_type().ok();
        DirEntry {
            std: Arc::new(std),
            file_type,
        }
    }

    /// The full path: the listed directory joined with [`file_name`](Self::file_name).
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name, without the directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's type (file, directory, symlink: a symlink is not followed).
    /// Usually known from the listing already; otherwise one trip to the pool.
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = self.std.clone();
        with_path("DirEntry::file_type", &self.std.path(), move |_| {
            std.file_type()
        })
        .await
    }

    /// The entry's metadata, not following a symlink (`DirEntry::metadata`):
    /// one trip to the pool.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        with_path("DirEntry::metadata", &self.std.path(), move |_| {
            std.metadata()
        })
        .await
    }

    /// The entry's inode number (`DirEntryExt::ino`), known from the listing.
    #[cfg(unix)]
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }
}

impl fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DirEntry").field(&self.path()).finish()
    }
}
