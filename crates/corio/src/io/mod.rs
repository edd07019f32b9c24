//! `corio::io`: the futures-io traits and the extension traits and helpers
//! every program reaches for (`read_exact`, `write_all`, `copy`, `BufReader`,
//! `lines`), re-exported from `futures-util`, plus [`split`] and the
//! [`select!`](crate::select!) macro's documentation home.
//!
//! corio's IO types ([`TcpStream`](crate::net::TcpStream),
//! [`UnixStream`](crate::net::UnixStream), [`fs::File`](crate::fs::File), the
//! pipes of [`process`](crate::process)) implement the `futures-io` traits
//! [`AsyncRead`], [`AsyncWrite`], [`AsyncBufRead`] and [`AsyncSeek`]; the
//! `*Ext` traits here add the `async fn`-style methods on top of them. These
//! are futures-util's own items, not copies: a program (or library) that
//! also uses `futures::io` sees the very same traits, so importing both never
//! makes a method call ambiguous.
//!
//! | tokio | asyncio | corio |
//! |---|---|---|
//! | `tokio::io::AsyncReadExt::read_exact` | `await reader.readexactly(n)` | [`AsyncReadExt::read_exact`] |
//! | `AsyncWriteExt::write_all` + `flush` | `writer.write(b); await writer.drain()` | [`AsyncWriteExt::write_all`], [`AsyncWriteExt::flush`] |
//! | `tokio::io::copy` | (a read/write loop) | [`copy`], [`copy_buf`] |
//! | `tokio::io::BufReader::lines` | `async for line in reader` | [`BufReader`], [`AsyncBufReadExt::lines`] |
//! | `tokio::io::split` | (the reader/writer pair) | [`split`] (or the socket's own `into_split`) |
//! | `tokio::select!` | `asyncio.wait(..., FIRST_COMPLETED)` | [`select!`](crate::select!) |
//!
//! # An echo server with [`copy`]
//!
//! ```
//! use corio::io::{self, AsyncReadExt, AsyncWriteExt};
//! use corio::net::{TcpListener, TcpStream};
//!
//! corio::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let server = corio::create_task(async move {
//!         let (stream, _) = listener.accept().await?;
//!         // A socket reads and writes through `&TcpStream`: copy from it to itself.
//!         io::copy(&stream, &mut &stream).await
//!     });
//!
//!     let mut client = TcpStream::connect(addr).await?;
//!     client.write_all(b"hello, echo").await?;
//!     client.shutdown(std::net::Shutdown::Write)?;
//!     let mut echoed = String::new();
//!     client.read_to_string(&mut echoed).await?;
//!     assert_eq!(echoed, "hello, echo");
//!     assert_eq!(server.await.unwrap()?, 11); // bytes copied
//!     Ok::<_, io::Error>(())
//! })
//! .unwrap();
//! ```
//!
//! # Reading lines from a socket with [`BufReader`]
//!
//! ```
//! use corio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use corio::net::{TcpListener, TcpStream};
//! use futures_util::StreamExt; // `lines()` is a `Stream`: `next()` comes from StreamExt
//!
//! corio::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     corio::create_task(async move {
//!         let (mut stream, _) = listener.accept().await?;
//!         stream.write_all(b"first\nsecond\r\nthird").await
//!     });
//!
//!     let stream = TcpStream::connect(addr).await?;
//!     let mut lines = BufReader::new(stream).lines();
//!     let mut seen = Vec::new();
//!     while let Some(line) = lines.next().await {
//!         seen.push(line?);
//!     }
//!     assert_eq!(seen, ["first", "second", "third"]);
//!     Ok::<_, std::io::Error>(())
//! })
//! .unwrap();
//! ```
//!
//! `read_line` does the same without a `Stream`:
//! `let n = reader.read_line(&mut line).await?` (0 at end of file).
//!
//! # Why futures-util
//!
//! futures-util (features `io`, `std`, no defaults) and futures-lite were
//! compared for this module: each adds three crates to corio's tree
//! (futures-util: `futures-util`, `futures-task`, `memchr`; futures-lite:
//! `futures-lite`, `fastrand`, `parking`), and a clean debug build of a tiny
//! program using each took 2.0 s against 0.8 s. futures-util was chosen for
//! what it has and the other lacks or does differently: `copy_buf`,
//! `LineWriter`, `ReadHalf::reunite`, `AsyncSeek` on `BufReader`/`BufWriter`;
//! and, above all, for being `futures::io` itself, the extension traits most
//! futures-io libraries document: re-exporting futures-lite's same-named
//! traits would make `use futures::AsyncReadExt` beside
//! `use corio::io::AsyncReadExt` an "ambiguous method" error.
//!
//! # Choosing between futures: [`select!`](crate::select!)
//!
//! corio's cancellation model is Rust's: a future that loses is dropped, and
//! its cleanup runs in `Drop`. [`select!`](crate::select!) is a small macro of
//! corio's own rather than a re-export, because:
//!
//! * futures-util's `select!`/`select_biased!` need its `async-await-macro`
//!   feature (a proc-macro crate and `syn`, the compile cost corio trims
//!   elsewhere), want every future `FusedFuture + Unpin` (`.fuse()`,
//!   `pin_mut!`), and keep the losers alive until the enclosing scope ends;
//! * futures-lite's `or` takes two futures of one output type, and its `race`
//!   picks at random.
//!
//! corio's `select!` takes futures by value (anything `IntoFuture`, pinned in
//! place, no allocation), polls the enabled branches in the order written
//! (deterministic, like corio's scheduling), and drops every other branch's
//! future *before* the winning handler runs, so the losers' `Drop` cleanup
//! (closing a socket, releasing a lock) has happened when the handler starts.
//! The syntax is tokio's: `pattern = future, if condition => handler`, and an
//! `else` branch for when every branch is disabled.
//!
//! The other answers still work on corio where they fit:
//! [`timeout`](crate::timeout()) for "this or a deadline",
//! [`wait`](crate::wait()) with [`ReturnWhen::FirstCompleted`](crate::ReturnWhen)
//! over tasks (which keeps the losers running, as asyncio's `wait` does).

mod select;

pub use futures_util::io::{
    copy, copy_buf, empty, repeat, sink, AllowStdIo, AsyncBufRead, AsyncBufReadExt, AsyncRead,
    AsyncReadExt, AsyncSeek, AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter, Chain,
    Cursor, Empty, Error, ErrorKind, IoSlice, IoSliceMut, LineWriter, Lines, ReadHalf, Repeat,
    Result, ReuniteError, SeekFrom, Sink, Take, WriteHalf,
};

/// Splits a stream that reads and writes into a read half and a write half,
/// each usable from its own task (tokio's `io::split`). The halves share the
/// stream through a lock; [`ReadHalf::reunite`] puts them back together.
///
/// corio's sockets also offer `into_split`, which needs no lock: prefer it
/// for them. This one serves any [`AsyncRead`] + [`AsyncWrite`] (a TLS
/// stream, a [`Cursor`]).
///
/// ```
/// use corio::io::{self, AsyncReadExt, AsyncWriteExt, Cursor};
///
/// corio::run(async {
///     let (mut reader, mut writer) = io::split(Cursor::new(b"abc".to_vec()));
///     let mut first = [0; 1];
///     reader.read_exact(&mut first).await.unwrap();
///     writer.write_all(b"X").await.unwrap(); // at the shared position: overwrites 'b'
///     let cursor = reader.reunite(writer).unwrap();
///     assert_eq!(cursor.into_inner(), b"aXc");
/// });
/// ```
pub fn split<T: AsyncRead + AsyncWrite>(stream: T) -> (ReadHalf<T>, WriteHalf<T>) {
    stream.split()
}
