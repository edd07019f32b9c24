//! A supervisor: keeps a crashing child running, restarting it with
//! exponential backoff (50 ms, 100 ms, 200 ms, ...) up to a fixed number of
//! restarts, and prints each exit status. Finishes in a couple of seconds.
//!
//! ```text
//! cargo run -p corio --example supervisor                        # sh -c 'sleep 0.2; exit 1'
//! cargo run -p corio --example supervisor -- 'sleep 0.1; kill -9 $$'
//! ```

use std::time::{Duration, Instant};

use corio::process::{Command, Stdio};

/// Restarts after the first run, so the child runs at most `MAX_RESTARTS + 1` times.
const MAX_RESTARTS: u32 = 4;

fn main() -> std::io::Result<()> {
    let script = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sleep 0.2; exit 1".to_owned());
    corio::run(async move {
        let start = Instant::now();
        let mut backoff = Duration::from_millis(50);
        for run in 0..=MAX_RESTARTS {
            let mut child = Command::new("sh")
                .args(["-c", &script])
                .stdin(Stdio::null())
                // If the supervisor itself is cancelled, do not leave the child behind.
                .kill_on_drop(true)
                .spawn()?;
            let pid = child.id().unwrap_or_default();
            let status = child.wait().await?;
            println!(
                "[{:>6.3}s] run {run}: pid {pid} exited with {status}",
                start.elapsed().as_secs_f64()
            );
            if status.success() {
                println!("child succeeded; supervisor done");
                return Ok(());
            }
            if run == MAX_RESTARTS {
                break;
            }
            println!("restarting in {backoff:?}");
            corio::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
        println!("giving up after {MAX_RESTARTS} restarts");
        Ok(())
    })
}
