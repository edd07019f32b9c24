#![doc = include_str!("../README.md")]

mod r#async;
pub mod futures;
mod reactor;
mod source;
mod sys;
mod table;
mod waiters;

pub use r#async::Async;
pub use reactor::{Reactor, TriggerMode};
pub use source::{Source, Tick};
