//! A worker pool that stops everything on the first error: asyncio's
//! "workers in a TaskGroup consuming a queue" pattern.
//!
//! Four workers take jobs from a shared list; job 13 fails. The failure
//! cancels the other workers at their current await (their `Drop` runs), and
//! the group's error names the failing worker.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::task::TaskGroup;

fn main() {
    let jobs: Arc<Mutex<Vec<u32>>> = Arc::new(Mutex::new((1..=40).rev().collect()));
    corio::run(async move {
        let result = TaskGroup::<String>::scope(|group| async move {
            for worker in 0..4 {
                let jobs = jobs.clone();
                group.create_task(async move {
                    let mut done = 0;
                    loop {
                        let Some(job) = jobs.lock().unwrap().pop() else {
                            return Ok(done);
                        };
                        corio::sleep(Duration::from_millis(u64::from(job % 5) + 1)).await;
                        if job == 13 {
                            return Err(format!("worker {worker}: job {job} failed"));
                        }
                        done += 1;
                        println!("worker {worker}: job {job} done");
                    }
                });
            }
            Ok(())
        })
        .await;
        match result {
            Ok(()) => println!("all jobs done"),
            Err(error) => println!("stopped early:\n{error}"),
        }
    });
}
