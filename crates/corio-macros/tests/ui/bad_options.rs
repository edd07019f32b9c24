//! Unknown, repeated and ill-typed options.

#[corio::test(start_paused = true)]
async fn unknown_option() {}

#[corio::test(debug, manual_clock, debug)]
async fn repeated_option() {}

#[corio::test(workers = 0)]
async fn no_workers() {}

#[corio::test(workers = "many")]
async fn workers_not_a_number() {}

#[corio::test(debug = "yes")]
async fn debug_not_a_bool() {}

#[corio::test(crate = "not a path")]
async fn crate_not_a_path() {}

#[corio::test(runtime::workers = 2)]
async fn option_with_a_path() {}

fn main() {}
