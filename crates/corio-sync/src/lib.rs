#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod loom;
mod waiters;
