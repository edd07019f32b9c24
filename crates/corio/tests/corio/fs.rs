//! `corio::fs`: round trips, errors that name their path and keep their kind,
//! directory listings, `File`'s buffered reads, writes and seeks, drop and
//! cancellation, concurrency, and the same under two workers.

use std::future::Future;
use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use corio::fs::{self, File, OpenOptions};
use corio::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use futures_util::StreamExt;

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("corio-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits (on the loop) until `path` holds `expected`, for at most 5 s.
async fn eventually_contains(path: &Path, expected: &[u8]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if std::fs::read(path)
            .map(|data| data == expected)
            .unwrap_or(false)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} never got the expected bytes",
            path.display()
        );
        corio::sleep(Duration::from_millis(2)).await;
    }
}

/// Polls `future` once, then drops it; its output if that one poll finished it.
async fn poll_once_then_drop<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        std::task::Poll::Ready(output) => std::task::Poll::Ready(Some(output)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn write_read_and_read_to_string_round_trip() {
    let dir = TempDir::new("round-trip");
    corio::run(async {
        let binary = pattern(300_000);
        fs::write(dir.join("bin"), &binary).await.unwrap();
        assert_eq!(fs::read(dir.join("bin")).await.unwrap(), binary);
        fs::write(dir.join("text"), "héllo").await.unwrap();
        assert_eq!(fs::read_to_string(dir.join("text")).await.unwrap(), "héllo");
        // write replaces the whole file.
        fs::write(dir.join("text"), "h").await.unwrap();
        assert_eq!(fs::read_to_string(dir.join("text")).await.unwrap(), "h");
        let invalid = fs::read_to_string(dir.join("bin")).await.unwrap_err();
        assert_eq!(invalid.kind(), ErrorKind::InvalidData);
    });
}

#[test]
fn errors_name_the_operation_and_path_and_keep_kind_and_os_error() {
    let dir = TempDir::new("errors");
    corio::run(async {
        let missing = dir.join("missing");
        let error = fs::read(&missing).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("corio::fs::read({}): ", missing.display())),
            "{message}"
        );
        let source = std::error::Error::source(&error)
            .and_then(|source| source.downcast_ref::<std::io::Error>())
            .expect("the original error is the source");
        assert_eq!(source.raw_os_error(), Some(2)); // ENOENT

        let error = fs::rename(&missing, dir.join("b")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        let expected = format!(
            "corio::fs::rename({} -> {}): ",
            missing.display(),
            dir.join("b").display()
        );
        assert!(error.to_string().starts_with(&expected), "{error}");

        fs::create_dir(dir.join("d")).await.unwrap();
        let error = fs::create_dir(dir.join("d")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AlreadyExists);
        assert!(
            error.to_string().contains("corio::fs::create_dir("),
            "{error}"
        );

        fs::write(dir.join("d/f"), "x").await.unwrap();
        let error = fs::remove_dir(dir.join("d")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::DirectoryNotEmpty);

        let error = File::open(&missing).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert!(error.to_string().starts_with("corio::fs::open("), "{error}");
        let error = File::create_new(dir.join("d/f")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AlreadyExists);
    });
}

#[test]
fn directories_links_and_metadata() {
    let dir = TempDir::new("dirs");
    corio::run(async {
        fs::create_dir_all(dir.join("a/b/c")).await.unwrap();
        assert!(fs::metadata(dir.join("a/b/c")).await.unwrap().is_dir());
        fs::write(dir.join("a/file"), b"12345").await.unwrap();
        assert_eq!(fs::metadata(dir.join("a/file")).await.unwrap().len(), 5);
        assert_eq!(
            fs::copy(dir.join("a/file"), dir.join("copy"))
                .await
                .unwrap(),
            5
        );
        fs::rename(dir.join("copy"), dir.join("moved"))
            .await
            .unwrap();
        assert!(!fs::try_exists(dir.join("copy")).await.unwrap());
        assert!(fs::try_exists(dir.join("moved")).await.unwrap());

        fs::hard_link(dir.join("moved"), dir.join("hard"))
            .await
            .unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(fs::metadata(dir.join("moved")).await.unwrap().nlink(), 2);

        fs::symlink(dir.join("a/file"), dir.join("link"))
            .await
            .unwrap();
        assert_eq!(
            fs::read_link(dir.join("link")).await.unwrap(),
            dir.join("a/file")
        );
        assert!(fs::symlink_metadata(dir.join("link"))
            .await
            .unwrap()
            .is_symlink());
        assert!(fs::metadata(dir.join("link")).await.unwrap().is_file());
        let canonical = fs::canonicalize(dir.join("a/b/../file")).await.unwrap();
        assert_eq!(
            canonical,
            std::fs::canonicalize(dir.join("a/file")).unwrap()
        );

        let mut readonly = fs::metadata(dir.join("moved")).await.unwrap().permissions();
        readonly.set_readonly(true);
        fs::set_permissions(dir.join("moved"), readonly)
            .await
            .unwrap();
        assert!(fs::metadata(dir.join("moved"))
            .await
            .unwrap()
            .permissions()
            .readonly());

        fs::remove_file(dir.join("link")).await.unwrap();
        fs::remove_dir(dir.join("a/b/c")).await.unwrap();
        fs::remove_dir_all(dir.join("a")).await.unwrap();
        assert!(!fs::try_exists(dir.join("a")).await.unwrap());
    });
}

#[test]
fn read_dir_lists_every_entry_once_across_batches() {
    let dir = TempDir::new("read-dir");
    corio::run(async {
        for i in 0..100 {
            fs::write(dir.join(&format!("f{i:03}")), [i as u8])
                .await
                .unwrap();
        }
        fs::create_dir(dir.join("sub")).await.unwrap();

        let mut names = Vec::new();
        let mut entries = fs::read_dir(&dir.0).await.unwrap();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            let name = entry.file_name().into_string().unwrap();
            assert_eq!(entry.path(), dir.join(&name));
            let is_dir = entry.file_type().await.unwrap().is_dir();
            assert_eq!(is_dir, name == "sub", "{name}");
            if !is_dir {
                assert_eq!(entry.metadata().await.unwrap().len(), 1);
            }
            names.push(name);
        }
        // The end stays the end.
        assert!(entries.next_entry().await.unwrap().is_none());
        names.sort();
        let mut expected: Vec<String> = (0..100).map(|i| format!("f{i:03}")).collect();
        expected.push("sub".into());
        assert_eq!(names, expected);

        // The same listing as a Stream.
        let streamed = fs::read_dir(&dir.0).await.unwrap().count().await;
        assert_eq!(streamed, 101);

        let error = fs::read_dir(dir.join("nope")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert!(
            error.to_string().starts_with("corio::fs::read_dir("),
            "{error}"
        );
    });
}

#[test]
fn a_dropped_next_entry_loses_no_entry() {
    let dir = TempDir::new("read-dir-cancel");
    corio::run(async {
        for i in 0..70 {
            fs::write(dir.join(&format!("{i}")), b"").await.unwrap();
        }
        let mut entries = fs::read_dir(&dir.0).await.unwrap();
        let mut seen = 0;
        loop {
            // A zero timeout drops the call while a batch is being fetched, at times.
            match corio::timeout(Duration::ZERO, entries.next_entry()).await {
                Ok(Ok(Some(_))) => seen += 1,
                Ok(Ok(None)) => break,
                Ok(Err(e)) => panic!("{e}"),
                Err(_elapsed) => corio::yield_now().await,
            }
        }
        assert_eq!(seen, 70);
    });
}

#[test]
fn many_small_writes_read_back_exactly() {
    let dir = TempDir::new("small-writes");
    corio::run(async {
        let mut file = File::create(dir.join("f")).await.unwrap();
        let mut expected = Vec::new();
        for i in 0..10_000u32 {
            let chunk = i.to_le_bytes();
            file.write_all(&chunk).await.unwrap();
            expected.extend_from_slice(&chunk);
        }
        file.flush().await.unwrap();
        assert_eq!(fs::read(dir.join("f")).await.unwrap(), expected);

        // And back through a File, a few bytes at a time.
        let mut file = File::open(dir.join("f")).await.unwrap();
        let mut back = Vec::new();
        let mut word = [0; 4];
        for _ in 0..10_000 {
            file.read_exact(&mut word).await.unwrap();
            back.extend_from_slice(&word);
        }
        assert_eq!(file.read(&mut word).await.unwrap(), 0, "end of file");
        assert_eq!(back, expected);
    });
}

#[test]
fn file_seek_read_and_write_see_one_consistent_position() {
    let dir = TempDir::new("seek");
    corio::run(async {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.join("f"))
            .await
            .unwrap();
        file.write_all(b"abcdef").await.unwrap();
        // A seek after buffered writes lands after them; Current counts from there.
        assert_eq!(file.stream_position().await.unwrap(), 6);
        assert_eq!(file.seek(SeekFrom::Start(1)).await.unwrap(), 1);
        // A read after a write sees it.
        let mut two = [0; 2];
        file.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"bc");
        // The read fetched ahead, yet the position is the reader's.
        assert_eq!(file.stream_position().await.unwrap(), 3);
        file.read_exact(&mut two[..1]).await.unwrap();
        assert_eq!(file.seek(SeekFrom::Current(1)).await.unwrap(), 5);
        // A write after a read-ahead goes where the reader is.
        file.seek(SeekFrom::Start(2)).await.unwrap();
        file.read_exact(&mut two[..1]).await.unwrap();
        assert_eq!(&two[..1], b"c");
        file.write_all(b"XY").await.unwrap();
        assert_eq!(file.seek(SeekFrom::End(0)).await.unwrap(), 6);
        file.write_all(b"gh").await.unwrap();
        // metadata counts buffered bytes; set_len cuts, keeping the position.
        assert_eq!(file.metadata().await.unwrap().len(), 8);
        file.set_len(4).await.unwrap();
        file.seek(SeekFrom::Start(0)).await.unwrap();
        let mut all = String::new();
        file.read_to_string(&mut all).await.unwrap();
        assert_eq!(all, "abcX");
        file.sync_all().await.unwrap();
        assert_eq!(fs::read(dir.join("f")).await.unwrap(), b"abcX");
    });
}

#[test]
fn file_lines_through_its_own_buffer_and_append_mode() {
    let dir = TempDir::new("lines");
    corio::run(async {
        let path = dir.join("log");
        for line in ["one", "two", "three"] {
            let mut file = OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .await
                .unwrap();
            file.write_all(format!("{line}\n").as_bytes())
                .await
                .unwrap();
            file.flush().await.unwrap();
        }
        // File is an AsyncBufRead itself.
        let lines: Vec<String> = File::open(&path)
            .await
            .unwrap()
            .lines()
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(lines, ["one", "two", "three"]);
    });
}

#[cfg(target_os = "linux")]
#[test]
fn flush_and_sync_all_report_the_error_of_buffered_writes() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    corio::run(async {
        let mut file = OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .await
            .unwrap();
        // Accepted into the buffer: the error comes with the flush.
        file.write_all(b"lost").await.unwrap();
        let error = file.flush().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::StorageFull);
        assert!(
            error
                .to_string()
                .starts_with("corio::fs::File::write(/dev/full): "),
            "{error}"
        );
        // Reported once: those bytes are dropped, the file is usable.
        file.flush().await.unwrap();
        file.write_all(b"again").await.unwrap();
        let error = file.sync_all().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::StorageFull);
    });
}

#[test]
fn dropping_a_file_writes_its_buffer_in_the_background() {
    let dir = TempDir::new("drop");
    let path = dir.join("f");
    corio::run(async {
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"not flushed").await.unwrap();
        drop(file);
        eventually_contains(&path, b"not flushed").await;
    });
    // Dropped after its loop closed: written on the spot, nothing lost.
    let file = corio::run(async {
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"after the loop").await.unwrap();
        file
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"", "still buffered");
    drop(file);
    assert_eq!(std::fs::read(&path).unwrap(), b"after the loop");
}

#[test]
fn a_dropped_write_all_or_read_loses_no_data() {
    let dir = TempDir::new("cancel");
    corio::run(async {
        let payload = pattern(8 << 20);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.join("f"))
            .await
            .unwrap();
        // Polled once, then dropped mid-way (8 MiB take several trips):
        // whatever it handed over is written, in order.
        poll_once_then_drop(file.write_all(&payload)).await;
        file.flush().await.unwrap();
        let written = fs::read(dir.join("f")).await.unwrap();
        assert!(written.len() >= 2 << 20, "handed over: {}", written.len());
        assert_eq!(written, payload[..written.len()]);

        // A read dropped mid-way: the next reads start where it would have.
        file.seek(SeekFrom::Start(0)).await.unwrap();
        let mut first = vec![0; 1 << 20];
        // (One poll may find the trip done already, on a busy machine.)
        let taken = match poll_once_then_drop(file.read(&mut first)).await {
            Some(read) => read.unwrap(),
            None => 0,
        };
        let mut rest = Vec::new();
        file.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, written[taken..]);

        // A dropped fs::write still writes the whole file.
        let _ = corio::timeout(Duration::ZERO, fs::write(dir.join("g"), &payload)).await;
        eventually_contains(&dir.join("g"), &payload).await;
    });
}

#[test]
fn concurrent_reads_of_different_files() {
    let dir = TempDir::new("concurrent");
    corio::run(async {
        for i in 0..8u8 {
            fs::write(dir.join(&i.to_string()), vec![i; 100_000 + usize::from(i)])
                .await
                .unwrap();
        }
        let tasks: Vec<_> = (0..8u8)
            .map(|i| {
                let path = dir.join(&i.to_string());
                corio::create_task(async move {
                    let mut file = File::open(&path).await.unwrap();
                    let mut data = Vec::new();
                    file.read_to_end(&mut data).await.unwrap();
                    (i, data)
                })
            })
            .collect();
        for task in tasks {
            let (i, data) = task.await.unwrap();
            assert_eq!(data, vec![i; 100_000 + usize::from(i)]);
        }
    });
}

#[test]
fn files_work_from_tasks_on_two_workers() {
    let dir = TempDir::new("workers");
    let mut runner = corio::Runner::builder().workers(2).build().unwrap();
    runner.run(async {
        let tasks: Vec<_> = (0..16u32)
            .map(|i| {
                let path = dir.join(&i.to_string());
                corio::create_task(async move {
                    let mut file = File::create(&path).await.unwrap();
                    for _ in 0..1000 {
                        file.write_all(&i.to_le_bytes()).await.unwrap();
                        corio::yield_now().await; // may move to the other worker
                    }
                    file.sync_all().await.unwrap();
                    drop(file);
                    fs::read(&path).await.unwrap()
                })
            })
            .collect();
        for (i, task) in (0..16u32).zip(tasks) {
            assert_eq!(task.await.unwrap(), i.to_le_bytes().repeat(1000));
        }
    });
}

#[test]
fn a_free_function_polled_outside_a_loop_panics_naming_itself() {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
    let panic = std::panic::catch_unwind(|| {
        let mut read = std::pin::pin!(fs::read("/nowhere"));
        let _ = read
            .as_mut()
            .poll(&mut std::task::Context::from_waker(&waker));
    })
    .unwrap_err();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.starts_with("corio::fs::read() needs a running event loop"),
        "{message:?}"
    );
}
