//! The TaskGroup success path: the `say_after` example of the asyncio
//! documentation ("Coroutines and Tasks", section "Task Groups"), with the
//! results read after the group, as the TaskGroup section does.
//!
//! ```python
//! async def say_after(delay, what):
//!     await asyncio.sleep(delay)
//!     print(what)
//!     return what
//!
//! async def main():
//!     async with asyncio.TaskGroup() as tg:
//!         task1 = tg.create_task(say_after(1, 'hello'))
//!         task2 = tg.create_task(say_after(2, 'world'))
//!         print(f"started at {time.strftime('%X')}")
//!     # The await is implicit when the context manager exits.
//!     print(f"Both tasks have completed now: {task1.result()}, {task2.result()}")
//!     print(f"finished at {time.strftime('%X')}")
//!
//! asyncio.run(main())
//! ```
//!
//! The sleeps are 10 and 20 ms here instead of 1 and 2 s; the story is the
//! same: both children sleep at the same time, the group's scope returns only
//! when both are done, so the program takes 20 ms, not 30.
//!
//! ```text
//! started at 0.000 s
//! hello
//! world
//! Both tasks have completed now: hello, world
//! finished at 0.020 s
//! ```
//!
//! `async with` becomes [`TaskGroup::scope`]: its body gets the group, creates
//! the children, and returns; the scope's future resolves once every child is
//! done (asyncio's implicit await at the end of the block). A child returns
//! `Result<T, E>`: an `Err` (or a panic) would cancel its siblings, as an
//! exception does in asyncio (see `taskgroup_fetch.rs` for that path). Here
//! nothing fails, so `E` is [`Infallible`].
//!
//! Run it with `cargo run -p corio --example taskgroup_hello`.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use corio::task::TaskGroup;

async fn say_after(delay: Duration, what: &'static str) -> Result<&'static str, Infallible> {
    corio::sleep(delay).await;
    println!("{what}");
    Ok(what)
}

fn main() {
    corio::run(async {
        let start = Instant::now();
        let (mut task1, mut task2) = TaskGroup::<Infallible>::scope(|tg| async move {
            let task1 = tg.create_task(say_after(Duration::from_millis(10), "hello"));
            let task2 = tg.create_task(say_after(Duration::from_millis(20), "world"));
            println!("started at {:.3} s", start.elapsed().as_secs_f64());
            Ok((task1, task2))
        })
        .await
        .expect("no child fails");
        // The group waited for both: their results are there without
        // awaiting (asyncio's `task.result()`).
        let result1 = task1.try_result().expect("done").expect("not cancelled");
        let result2 = task2.try_result().expect("done").expect("not cancelled");
        println!("Both tasks have completed now: {result1}, {result2}");
        println!("finished at {:.3} s", start.elapsed().as_secs_f64());
    });
}
