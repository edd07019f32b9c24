#![doc = include_str!("../README.md")]

mod r#async;
pub mod futures;
mod reactor;
mod source;
mod table;

pub use r#async::Async;
pub use reactor::{Reactor, TriggerMode};
pub use source::{Source, Tick};
