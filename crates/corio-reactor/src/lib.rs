#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod r#async;
mod backend;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll;
pub mod futures;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub mod inq;
mod reactor;
mod source;
mod stream_io;
mod sys;
mod table;
#[cfg(all(target_os = "linux", feature = "io-uring"))]
#[cfg_attr(docsrs, doc(cfg(all(target_os = "linux", feature = "io-uring"))))]
pub mod uring;
mod waiters;

pub use backend::Backend;
pub use r#async::Async;
pub use reactor::{Reactor, TriggerMode};
pub use source::{Source, Tick};
