//! asyncio's high-level streams: [`open_connection`], [`start_server`],
//! [`Server`], [`StreamReader`] (and [`StreamFeeder`], which feeds one by
//! hand), [`StreamWriter`], and their Unix-socket twins
//! [`open_unix_connection`] and [`start_unix_server`].
//!
//! | asyncio | corio |
//! |---|---|
//! | `await asyncio.open_connection(host, port)` | [`open_connection`]`((host, port)).await` |
//! | `await asyncio.start_server(cb, host, port)` | [`start_server`]`(cb, (host, port)).await` |
//! | `await asyncio.open_unix_connection(path)` | [`open_unix_connection`]`(path).await` |
//! | `await asyncio.start_unix_server(cb, path)` | [`start_unix_server`]`(cb, path).await` |
//! | `IncompleteReadError`, `LimitOverrunError` | [`StreamError`] |
//! | `StreamReader()` + `feed_data`/`feed_eof`/`set_exception` | [`StreamReader::new_fed`] → ([`StreamReader`], [`StreamFeeder`]) |
//!
//! The one difference to keep in mind: corio has no background transport,
//! so a [`StreamWriter`]'s bytes leave in [`drain`](StreamWriter::drain) (and
//! `write_eof`, `wait_closed`). Write, then drain — the asyncio idiom.
//!
//! ```
//! use corio::{StreamReader, StreamWriter};
//!
//! corio::run(async {
//!     // An echo server, as in asyncio's docs.
//!     async fn echo(mut reader: StreamReader, mut writer: StreamWriter) {
//!         while let Ok(line) = reader.readline().await {
//!             if line.is_empty() {
//!                 break; // EOF
//!             }
//!             writer.write(&line);
//!             if writer.drain().await.is_err() {
//!                 break;
//!             }
//!         }
//!         let _ = writer.wait_closed().await;
//!     }
//!     let server = corio::start_server(echo, "127.0.0.1:0").await.unwrap();
//!     let addr = server.local_addr().unwrap();
//!
//!     let (mut reader, mut writer) = corio::open_connection(addr).await.unwrap();
//!     writer.write(b"hello\n");
//!     writer.drain().await.unwrap();
//!     assert_eq!(reader.readline().await.unwrap(), b"hello\n");
//!
//!     writer.close();
//!     writer.wait_closed().await.unwrap();
//!     server.close();
//!     server.wait_closed().await;
//! });
//! ```

mod catch_unwind;
mod connect;
mod error;
mod reader;
mod reader_feed;
mod server;
mod writer;

pub use connect::{open_connection, open_unix_connection};
pub use error::StreamError;
pub use reader::StreamReader;
pub use reader_feed::StreamFeeder;
pub use server::{start_server, start_unix_server, Server};
pub use writer::StreamWriter;
