//! `corio::fs`: files and directories without blocking the loop. Each
//! operation runs `std::fs` on the loop's blocking pool (the pool behind
//! [`to_thread`](crate::to_thread())), the way asyncio code reaches for
//! `await asyncio.to_thread(path.read_text)` and tokio code for `tokio::fs`.
//!
//! ```
//! use corio::fs;
//! use corio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! corio::run(async {
//!     let dir = std::env::temp_dir().join(format!("corio-fs-doc-{}", std::process::id()));
//!     fs::create_dir_all(dir.join("logs")).await?;
//!     fs::write(dir.join("logs/a.txt"), "first\n").await?;
//!
//!     let mut file = fs::OpenOptions::new().append(true).open(dir.join("logs/a.txt")).await?;
//!     for i in 0..1000 {
//!         // Buffered: these 1000 small writes cost one trip to the pool, not 1000.
//!         file.write_all(format!("line {i}\n").as_bytes()).await?;
//!     }
//!     file.flush().await?; // writes the buffer; its error, if any, comes out here
//!
//!     let text = fs::read_to_string(dir.join("logs/a.txt")).await?;
//!     assert!(text.starts_with("first\nline 0\n") && text.ends_with("line 999\n"));
//!
//!     let mut names = Vec::new();
//!     let mut entries = fs::read_dir(&dir).await?;
//!     while let Some(entry) = entries.next_entry().await? {
//!         names.push(entry.file_name());
//!     }
//!     assert_eq!(names, ["logs"]);
//!
//!     let missing = fs::read(dir.join("nope")).await.unwrap_err();
//!     assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
//!     assert!(missing.to_string().starts_with("corio::fs::read("), "{missing}");
//!
//!     fs::remove_dir_all(&dir).await
//! })
//! .unwrap();
//! ```
//!
//! | tokio | asyncio | corio |
//! |---|---|---|
//! | `tokio::fs::read(p)` | `await asyncio.to_thread(Path(p).read_bytes)` | [`read`] |
//! | `tokio::fs::read_to_string(p)` | `await asyncio.to_thread(Path(p).read_text)` | [`read_to_string`] |
//! | `tokio::fs::write(p, b)` | `await asyncio.to_thread(Path(p).write_bytes, b)` | [`write`](fn@write) |
//! | `tokio::fs::read_dir(p)` + `next_entry()` | `await asyncio.to_thread(os.listdir, p)` | [`read_dir`] + [`ReadDir::next_entry`] (also a `Stream`) |
//! | `tokio::fs::File`, `OpenOptions` | `await asyncio.to_thread(open, p)` | [`File`], [`OpenOptions`] |
//! | `create_dir_all`, `remove_file`, `rename`, `copy`, `metadata`, ... | `os.*` in `to_thread` | the same names here |
//!
//! # Errors name their path
//!
//! An error returned here keeps the [`ErrorKind`](std::io::ErrorKind) of the
//! `std::fs` error and prefixes its message with the operation and the path:
//! `corio::fs::read(/x/y): No such file or directory (os error 2)`
//! (`rename(/a -> /b)` for two paths). The original error is its
//! [`source()`](std::error::Error::source), for `raw_os_error()`.
//!
//! # What a cancelled call did
//!
//! A thread cannot be interrupted: dropping the future of a free function
//! here (by a [`timeout`](crate::timeout()), [`select!`](crate::select!) or a
//! cancelled task) only stops the waiting. The operation itself runs to its
//! end on the pool: a `write` whose future was dropped still writes the whole
//! file; a `remove_file` still removes it. [`File`] keeps its in-flight work
//! inside the `File`, so a dropped `write_all` or `read` loses no data: the
//! next call on the file waits for it first (see [`File`]).
//!
//! # Cost
//!
//! Each call is one trip to a pool thread and back (a few microseconds):
//! for many small files, batch them in one [`to_thread`](crate::to_thread())
//! closure instead. [`File`] buffers (64 KiB), [`read_dir`] fetches entries 32
//! at a time, and opening a directory fetches its first batch in the same trip.
//!
//! All of it works the same with [`Builder::workers`](crate::Builder::workers):
//! the pool is the loop's, shared by its workers.

mod dir;
mod file;
mod file_buf;
pub(crate) mod hop;
mod open_options;
#[cfg(test)]
mod tests;

use std::io;
use std::path::{Path, PathBuf};

pub use dir::{read_dir, DirEntry, ReadDir};
pub use file::File;
pub use open_options::OpenOptions;
pub use std::fs::{FileType, Metadata, Permissions};

use hop::{with_path, with_paths};

/// Reads the whole file (`std::fs::read`).
///
/// # Panics
///
/// Outside a running loop (as every free function here).
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    with_path("read", path.as_ref(), |p| std::fs::read(p)).await
}

/// Reads the whole file as UTF-8 (`std::fs::read_to_string`); invalid UTF-8
/// is an `InvalidData` error.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    with_path("read_to_string", path.as_ref(), |p| {
        std::fs::read_to_string(p)
    })
    .await
}

/// Creates or truncates the file and writes `contents` to it
/// (`std::fs::write`). The bytes are copied first, for the pool thread.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_vec();
    with_path("write", path.as_ref(), move |p| std::fs::write(p, contents)).await
}

/// Creates a directory; its parent must exist (`std::fs::create_dir`).
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    with_path("create_dir", path.as_ref(), |p| std::fs::create_dir(p)).await
}

/// Creates a directory and every missing parent (`std::fs::create_dir_all`).
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    with_path("create_dir_all", path.as_ref(), |p| {
        std::fs::create_dir_all(p)
    })
    .await
}

/// Removes a file or symlink (`std::fs::remove_file`).
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    with_path("remove_file", path.as_ref(), |p| std::fs::remove_file(p)).await
}

/// Removes an empty directory (`std::fs::remove_dir`).
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    with_path("remove_dir", path.as_ref(), |p| std::fs::remove_dir(p)).await
}

/// Removes a directory and everything in it (`std::fs::remove_dir_all`), in
/// one trip to the pool.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    with_path("remove_dir_all", path.as_ref(), |p| {
        std::fs::remove_dir_all(p)
    })
    .await
}

/// Renames a file or directory, replacing `to` if it exists (`std::fs::rename`).
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    with_paths("rename", from.as_ref(), to.as_ref(), |a, b| {
        std::fs::rename(a, b)
    })
    .await
}

/// Copies a file's contents and permissions; returns the bytes copied
/// (`std::fs::copy`).
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    with_paths("copy", from.as_ref(), to.as_ref(), |a, b| {
        std::fs::copy(a, b)
    })
    .await
}

/// Creates a hard link `link` to `original` (`std::fs::hard_link`).
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    with_paths("hard_link", original.as_ref(), link.as_ref(), |a, b| {
        std::fs::hard_link(a, b)
    })
    .await
}

/// Creates a symbolic link `link` pointing at `original` (`std::os::unix::fs::symlink`).
#[cfg(unix)]
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    with_paths("symlink", original.as_ref(), link.as_ref(), |a, b| {
        std::os::unix::fs::symlink(a, b)
    })
    .await
}

/// The metadata of the file a path names, following symlinks (`std::fs::metadata`).
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    with_path("metadata", path.as_ref(), |p| std::fs::metadata(p)).await
}

/// The metadata of the path itself, not following a symlink (`std::fs::symlink_metadata`).
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    with_path("symlink_metadata", path.as_ref(), |p| {
        std::fs::symlink_metadata(p)
    })
    .await
}

/// Changes the permissions of a file or directory (`std::fs::set_permissions`).
pub async fn set_permissions(path: impl AsRef<Path>, permissions: Permissions) -> io::Result<()> {
    with_path("set_permissions", path.as_ref(), move |p| {
        std::fs::set_permissions(p, permissions)
    })
    .await
}

/// The absolute path with every symlink, `.` and `..` resolved (`std::fs::canonicalize`).
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    with_path("canonicalize", path.as_ref(), |p| std::fs::canonicalize(p)).await
}

/// Where a symbolic link points (`std::fs::read_link`).
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    with_path("read_link", path.as_ref(), |p| std::fs::read_link(p)).await
}

/// Whether the path exists: `Ok(false)` when it does not, an error when that
/// cannot be told (a permission error on a parent), unlike `Path::exists`
/// (`std::fs::exists`). A broken symlink does not exist.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    with_path("try_exists", path.as_ref(), |p| p.try_exists()).await
}
