//! Files without blocking the loop: `corio::fs` and `corio::io` together.
//!
//! Four tasks each write a log file line by line (thousands of small
//! `write_all`s, buffered by `corio::fs::File` into a few trips to the
//! blocking pool), then the program lists the directory with `read_dir`,
//! reads every log back line by line, and prints a summary; `select!` races
//! the whole job against Ctrl-C and a deadline.
//!
//! ```text
//! cargo run -p corio --example fs_logs            # in a temporary directory
//! cargo run -p corio --example fs_logs -- ./logs  # keeps the logs there
//! ```
//!
//! The asyncio counterpart would wrap each `open`/`write`/`os.listdir` in
//! `asyncio.to_thread`; the tokio one uses `tokio::fs`, whose `File` makes one
//! thread hop per `write_all` unless wrapped in a `BufWriter`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use corio::fs::{self, File};
use corio::io::{self, AsyncBufReadExt, AsyncWriteExt};
use futures_util::TryStreamExt;

const LINES: usize = 20_000;

/// Writes `LINES` lines to `path`, one `write_all` each.
async fn write_log(path: PathBuf, service: &'static str) -> io::Result<()> {
    let mut file = File::create(&path).await?;
    for i in 0..LINES {
        let level = if i % 97 == 0 { "ERROR" } else { "INFO" };
        let line = format!("{service} {level} request {i} served\n");
        file.write_all(line.as_bytes()).await?;
    }
    // Writes out the buffer: an error writing it shows here, not at drop.
    file.flush().await
}

/// Lines and error lines of one log, read back through the File's own buffer.
async fn summarize(path: &Path) -> io::Result<(usize, usize)> {
    let lines: Vec<String> = File::open(path).await?.lines().try_collect().await?;
    let errors = lines.iter().filter(|line| line.contains(" ERROR ")).count();
    Ok((lines.len(), errors))
}

async fn run(dir: PathBuf) -> io::Result<()> {
    fs::create_dir_all(&dir).await?;
    let started = Instant::now();
    let writers: Vec<_> = ["auth", "billing", "search", "web"]
        .into_iter()
        .map(|service| corio::create_task(write_log(dir.join(format!("{service}.log")), service)))
        .collect();
    for writer in writers {
        writer.await.expect("a writer panicked")?;
    }
    println!("wrote 4 x {LINES} lines in {:.1?}", started.elapsed());

    let mut entries = fs::read_dir(&dir).await?;
    let mut logs = Vec::new();
    while let Some(entry) = entries.next_entry().await? {
        if entry.file_type().await?.is_file() && entry.path().extension() == Some("log".as_ref()) {
            logs.push(entry.path());
        }
    }
    logs.sort();
    for path in &logs {
        let (lines, errors) = summarize(path).await?;
        let size = fs::metadata(path).await?.len();
        println!(
            "{:<40} {lines:>6} lines {errors:>4} errors {size:>8} bytes",
            path.display()
        );
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let (dir, temporary) = match std::env::args_os().nth(1) {
        Some(dir) => (PathBuf::from(dir), false),
        None => (
            std::env::temp_dir().join(format!("corio-fs-logs-{}", std::process::id())),
            true,
        ),
    };
    corio::run(async {
        let outcome = corio::select! {
            result = run(dir.clone()) => result,
            result = corio::signal::ctrl_c() => result.map(|()| println!("interrupted")),
            () = corio::sleep(Duration::from_secs(60)) => {
                Err(io::Error::new(io::ErrorKind::TimedOut, "took over a minute"))
            }
        };
        if temporary {
            fs::remove_dir_all(&dir).await?;
        }
        outcome
    })
}
