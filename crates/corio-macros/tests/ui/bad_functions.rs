//! Functions the attributes cannot run: with arguments, generic, `const`,
//! `extern`, with a `#[test]` of their own, and a struct.

#[corio::test]
async fn takes_an_argument(_n: u32) {}

#[corio::test]
async fn generic<T>() {}

#[corio::test]
const fn constant() {}

#[corio::test]
async extern "C" fn foreign() {}

#[corio::test]
#[test]
async fn tested_twice() {}

#[corio::main]
struct NotAFunction;

fn main() {}
