//! `#[corio::main]` on a function that is not `async`.

#[corio::main]
fn main() {}
