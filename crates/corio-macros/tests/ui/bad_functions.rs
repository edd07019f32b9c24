//! Functions the attributes cannot run: with arguments, generic, `unsafe`,
//! with a `#[test]` of their own.

#[corio::test]
async fn takes_an_argument(_n: u32) {}

#[corio::test]
async fn generic<T>() {}

#[corio::test]
async unsafe fn not_safe() {}

#[corio::test]
#[test]
async fn tested_twice() {}

#[corio::main]
struct NotAFunction;

fn main() {}
