//! Runs a shell pipeline and streams its output line by line as it arrives
//! (asyncio's `create_subprocess_shell` + `proc.stdout.readline()`), then
//! prints its exit status.
//!
//! ```text
//! cargo run -p corio --example pipeline                                  # ls -la / | sort -k5 -n | tail
//! cargo run -p corio --example pipeline -- 'for i in 1 2 3; do echo $i; sleep 0.2; done'
//! ```

use corio::process::create_subprocess_shell;
use corio::StreamReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cmd = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ls -la / | sort -k5 -n | tail".to_owned());
    corio::run(async move {
        let mut child = create_subprocess_shell(&cmd).await?;
        // Not used: dropping it now gives the pipeline an empty stdin.
        drop(child.stdin.take());
        let stdout = child.stdout.take().ok_or("stdout is piped")?;
        let mut lines = StreamReader::new(stdout);
        let mut n = 0;
        loop {
            let line = lines.readline().await?;
            if line.is_empty() {
                break; // EOF: the pipeline closed its stdout
            }
            n += 1;
            print!("{n:3} | {}", String::from_utf8_lossy(&line));
        }
        let out = child.communicate(None).await?; // the rest: stderr, and the status
        if !out.stderr.is_empty() {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
        }
        println!("`{cmd}` exited with {}", out.status);
        Ok(())
    })
}
