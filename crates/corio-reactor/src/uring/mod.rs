//! Stream IO through io_uring (Linux, the opt-in `io-uring` feature).
//!
//! A reactor made by [`Reactor::with_io_uring`](crate::Reactor::with_io_uring)
//! owns a [`Ring`](ring::Ring) beside its epoll instance. Streams put on it
//! ([`RingStream`]) read and write through the ring: each read or write queues
//! an operation, and [`Reactor::poll`](crate::Reactor::poll) submits everything
//! queued since the last poll in one `io_uring_enter` and reaps completions
//! (from shared memory, no syscall) before and after its wait. The ring's fd
//! is registered with epoll, so a wait for readiness also ends when a
//! completion arrives. A busy loop that moves many small messages thus makes
//! one `io_uring_enter` and one `epoll_wait` per iteration instead of a
//! `recv` and a `send` per message.
//!
//! What differs from the readiness path, for a user:
//!
//! * Reads are read ahead by at most what the reader asked for: once a read
//!   is in flight, the bytes it receives are corio's until read, so
//!   `into_std` refuses a stream that has bytes buffered or a read in flight
//!   (see [`RingStream::is_idle`]).
//! * Writes are copied and sent in the background (at most
//!   [`SEND_QUEUE`](stream::SEND_QUEUE) bytes per stream); a send error shows
//!   on the next write, flush or shutdown. `poll_flush` waits until the
//!   kernel has taken every byte.
//! * Everything else of a socket (accept, connect, datagrams, readiness of
//!   other fds) stays on epoll.
//!
//! Memory safety rests on one rule, stated in `ring.rs`: an operation owns the
//! memory its SQE points into, in a slot that is freed only after its
//! completion was reaped; the `unsafe` is all in `ring.rs` and `sys.rs`.

mod ring;
mod shared;
mod stream;

pub(crate) use ring::{Op, Ring};
pub use stream::{RingStream, RECV_MAX, SEND_QUEUE};
