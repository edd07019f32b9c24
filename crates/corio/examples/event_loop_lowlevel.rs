//! The low-level event loop API (asyncio's "Event Loop" page) on corio's
//! [`EventLoop`]: the page's "Hello World with call_soon()" and "Display the
//! current date with call_later()" examples, then `run_until_complete`.
//! Most programs never touch this layer: [`corio::run`] and
//! [`corio::Runner`] create, run and close the loop for them.
//!
//! ```python
//! import asyncio
//! import datetime
//!
//! # Hello World with call_soon()
//! def hello_world(loop):
//!     """A callback to print 'Hello World' and stop the event loop"""
//!     print('Hello World')
//!     loop.stop()
//!
//! loop = asyncio.new_event_loop()
//!
//! # Schedule a call to hello_world()
//! loop.call_soon(hello_world, loop)
//!
//! # Blocking call interrupted by loop.stop()
//! try:
//!     loop.run_forever()
//! finally:
//!     loop.close()
//!
//! # Display the current date with call_later()
//! def display_date(end_time, loop):
//!     print(datetime.datetime.now())
//!     if (loop.time() + 1.0) < end_time:
//!         loop.call_later(1, display_date, end_time, loop)
//!     else:
//!         loop.stop()
//!
//! loop = asyncio.new_event_loop()
//!
//! # Schedule the first call to display_date()
//! end_time = loop.time() + 5.0
//! loop.call_soon(display_date, end_time, loop)
//!
//! # Blocking call interrupted by loop.stop()
//! try:
//!     loop.run_forever()
//! finally:
//!     loop.close()
//!
//! # run_until_complete: run one coroutine, get its result
//! async def add(loop, x, y):
//!     print(f'running: {loop.is_running()}')
//!     await asyncio.sleep(1)
//!     return x + y
//!
//! loop = asyncio.new_event_loop()
//! print(f'1 + 2 = {loop.run_until_complete(add(loop, 1, 2))}')
//! print(f'running: {loop.is_running()}, closed: {loop.is_closed()}')
//! loop.close()
//! print(f'closed: {loop.is_closed()}')
//! ```
//!
//! The clock ticks every 20 ms for 100 ms here instead of every second for
//! 5 s, and the dates are UTC (this example has no time-zone database). The
//! output (Python spells the booleans `True` and `False`):
//!
//! ```text
//! Hello World
//! 2026-12-07 16:45:01.112046
//! 2026-12-07 16:45:01.132201
//! 2026-12-07 16:45:01.152350
//! 2026-12-07 16:45:01.172493
//! 2026-12-07 16:45:01.192642
//! running: true
//! 1 + 2 = 3
//! running: false, closed: false
//! closed: true
//! ```
//!
//! Callbacks are Rust closures. They must be `Send + 'static` (a
//! [`LoopHandle`] may schedule them from any thread), so a callback that
//! needs the loop captures a clone of the handle, where asyncio passes `loop`
//! as an argument.
//!
//! Run it with `cargo run -p corio --example event_loop_lowlevel`.

use std::time::{Duration, SystemTime};

use corio::time::Instant;
use corio::{EventLoop, LoopHandle};

/// The clock's period (1 s in the original).
const TICK: Duration = Duration::from_millis(20);

/// A callback to print "Hello World" and stop the event loop.
fn hello_world(event_loop: &LoopHandle) {
    println!("Hello World");
    event_loop.stop();
}

fn display_date(end_time: Instant, event_loop: LoopHandle) {
    println!("{}", now_utc());
    if event_loop.time() + TICK < end_time {
        let handle = event_loop.clone();
        event_loop.call_later(TICK, move || display_date(end_time, handle));
    } else {
        event_loop.stop();
    }
}

async fn add(event_loop: LoopHandle, x: i32, y: i32) -> i32 {
    println!("running: {}", event_loop.is_running());
    corio::sleep(TICK).await;
    x + y
}

fn main() -> std::io::Result<()> {
    // Hello World with call_soon().
    let mut event_loop = EventLoop::new()?;
    let handle = event_loop.handle();
    // Schedule a call to hello_world().
    event_loop.handle().call_soon(move || hello_world(&handle));
    // Blocking call interrupted by stop(). (No `try/finally`: a panic
    // unwinds through `EventLoop`'s `Drop`, which closes the loop.)
    event_loop.run_forever();
    event_loop.close();

    // Display the current date with call_later().
    let mut event_loop = EventLoop::new()?;
    let handle = event_loop.handle();
    // Schedule the first call to display_date().
    let end_time = handle.time() + 5 * TICK;
    event_loop
        .handle()
        .call_soon(move || display_date(end_time, handle));
    event_loop.run_forever();
    event_loop.close();

    // run_until_complete: run one future, get its output.
    let mut event_loop = EventLoop::new()?;
    let sum = event_loop.run_until_complete(add(event_loop.handle(), 1, 2));
    println!("1 + 2 = {sum}");
    println!(
        "running: {}, closed: {}",
        event_loop.is_running(),
        event_loop.is_closed()
    );
    event_loop.close();
    println!("closed: {}", event_loop.is_closed());
    Ok(())
}

/// The wall-clock time in UTC, formatted as Python's `datetime.now()` prints.
fn now_utc() -> String {
    let since_epoch = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("the clock is past 1970");
    let seconds = since_epoch.as_secs();
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let (hour, minute, second) = (seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
    let micros = since_epoch.subsec_micros();
    format!("{year}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}.{micros:06}")
}

/// The (year, month, day) of a count of days since 1970-01-01, in the
/// proleptic Gregorian calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01, so leap days end each 400-year era.
    let days = days + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}
