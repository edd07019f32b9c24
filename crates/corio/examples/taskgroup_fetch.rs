//! The classic asyncio TaskGroup example: fetch three URLs concurrently; one
//! fails, so the others are cancelled and the failure is reported.
//!
//! ```python
//! async with asyncio.TaskGroup() as tg:
//!     for url in urls:
//!         tg.create_task(fetch(url))
//! ```
//!
//! The "network" is a local stand-in: each URL takes a while, and one of them
//! answers with an error. Prints which fetches started, which were cancelled
//! (their `Drop` runs), and the group's error.

use std::time::Duration;

use corio::task::TaskGroup;

/// Prints when dropped before it finished: how cancellation shows up in Rust.
struct InFlight(&'static str, bool);

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.1 {
            println!("  {}: cancelled, connection closed", self.0);
        }
    }
}

async fn fetch(url: &'static str, latency_ms: u64, fails: bool) -> Result<usize, String> {
    println!("  {url}: fetching");
    let mut in_flight = InFlight(url, false);
    corio::sleep(Duration::from_millis(latency_ms)).await;
    in_flight.1 = true;
    if fails {
        return Err(format!("{url}: 503 Service Unavailable"));
    }
    println!("  {url}: done");
    Ok(url.len() * 100)
}

fn main() {
    corio::run(async {
        let result = TaskGroup::<String>::scope(|group| async move {
            let pages = vec![
                group.create_task(fetch("https://example.com/a", 30, false)),
                group.create_task(fetch("https://example.com/b", 10, true)),
                group.create_task(fetch("https://example.com/c", 50, false)),
            ];
            Ok(pages)
        })
        .await;
        match result {
            Ok(_) => println!("all pages fetched"),
            Err(error) => println!("the group failed:\n{error}"),
        }
    });
}
