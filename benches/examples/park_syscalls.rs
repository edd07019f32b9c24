//! `park_syscalls`: tiny programs whose syscalls `strace -c -f` counts, to
//! see what one park of corio's loop costs the kernel.
//!
//! ```text
//! cargo build --release -p corio-benches --example park_syscalls
//! strace -c -f target/release/examples/park_syscalls sleep   # 2,000 x sleep(1 ms)
//! strace -c -f target/release/examples/park_syscalls yield   # same, while a task yields
//! ```
//!
//! `sleep`: one `corio::run` that sleeps 1 ms 2,000 times, so the loop parks
//! in the reactor about 2,000 times with a timer deadline. `yield`: the same
//! sleeps while another task calls `yield_now` until they are done, so the
//! loop never blocks and polls the reactor with a zero timeout every few
//! dozen polls.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

/// Sleeps per run.
const SLEEPS: usize = 2_000;

fn main() {
    let mode = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sleep".to_owned());
    let yields = corio::run(async move {
        let done = Rc::new(Cell::new(false));
        let yields = Rc::new(Cell::new(0u64));
        let yielder = (mode == "yield").then(|| {
            let (done, yields) = (Rc::clone(&done), Rc::clone(&yields));
            corio::create_local_task(async move {
                while !done.get() {
                    yields.set(yields.get() + 1);
                    corio::yield_now().await;
                }
            })
        });
        for _ in 0..SLEEPS {
            corio::sleep(Duration::from_millis(1)).await;
        }
        done.set(true);
        if let Some(yielder) = yielder {
            yielder.await.expect("yielder");
        }
        yields.get()
    });
    println!("{SLEEPS} sleeps of 1 ms, {yields} yields");
}
