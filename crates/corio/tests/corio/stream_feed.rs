//! A `StreamReader` fed by hand (asyncio's `StreamReader()` with
//! `feed_data`, `feed_eof`, `set_exception`): every read method works on
//! it, a waiting read is woken by the feeder, an error fails every read at
//! once (asyncio's rule, even with bytes buffered), feeding after the end
//! panics; and `readuntil_any` with several separators follows Python
//! 3.13's rules (the earliest end wins; at a tie the shorter separator
//! counts for the limit).

use std::future::poll_fn;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::{StreamError, StreamReader};
use futures_io::{AsyncBufRead, AsyncRead};

#[test]
fn every_read_method_works_on_fed_bytes() {
    corio::run(async {
        let (mut reader, feeder) = StreamReader::new_fed();
        assert!(!reader.at_eof());
        feeder.feed_data(b"line one\nGET /x\r\n\r\n\x00\x00\x00\x03abcREST");
        assert_eq!(reader.readline().await.unwrap(), b"line one\n");
        assert_eq!(
            reader.readuntil(b"\r\n\r\n").await.unwrap(),
            b"GET /x\r\n\r\n"
        );
        let len = reader.readexactly(4).await.unwrap();
        assert_eq!(reader.readexactly(len[3].into()).await.unwrap(), b"abc");
        assert_eq!(reader.read(2).await.unwrap(), b"RE");
        // futures-io: AsyncRead and AsyncBufRead read the same bytes.
        let mut byte = [0u8; 1];
        let n = poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut byte))
            .await
            .unwrap();
        assert_eq!((n, byte[0]), (1, b'S'));
        let peek = poll_fn(|cx| {
            Pin::new(&mut reader)
                .poll_fill_buf(cx)
                .map_ok(|buf| buf.to_vec())
        })
        .await
        .unwrap();
        assert_eq!(peek, b"T");
        feeder.feed_data(b" and more");
        feeder.feed_eof();
        assert!(!reader.at_eof(), "bytes are left");
        assert_eq!(reader.read_to_end().await.unwrap(), b"T and more");
        assert!(reader.at_eof());
        assert_eq!(reader.read(10).await.unwrap(), b"");
        assert_eq!(reader.readline().await.unwrap(), b"");
    });
}

#[test]
fn at_eof_is_true_as_soon_as_the_end_is_fed_and_everything_read() {
    corio::run(async {
        let (mut reader, feeder) = StreamReader::new_fed();
        feeder.feed_data(b"x");
        feeder.feed_eof();
        assert!(feeder.is_eof());
        assert!(!reader.at_eof());
        assert_eq!(reader.read(5).await.unwrap(), b"x");
        // asyncio: at_eof() is `_eof and not _buffer`, with no read needed.
        assert!(reader.at_eof());
        let (reader, feeder) = StreamReader::new_fed();
        feeder.feed_eof();
        assert!(reader.at_eof());
    });
}

#[test]
fn a_waiting_read_is_woken_by_each_feed_in_order() {
    let log = Arc::new(Mutex::new(Vec::new()));
    corio::run({
        let log = Arc::clone(&log);
        async move {
            let (mut reader, feeder) = StreamReader::new_fed();
            let writer = corio::create_task({
                let log = Arc::clone(&log);
                async move {
                    for piece in [&b"hel"[..], b"lo\nwor", b"ld", b"\n"] {
                        log.lock().unwrap().push(format!("feed {piece:?}"));
                        feeder.feed_data(piece);
                        corio::yield_now().await;
                    }
                    feeder.feed_eof();
                }
            });
            loop {
                let line = reader.readline().await.unwrap();
                log.lock().unwrap().push(format!("line {line:?}"));
                if line.is_empty() {
                    break;
                }
            }
            writer.await.unwrap();
        }
    });
    let hello = format!("line {:?}", b"hello\n".to_vec());
    let world = format!("line {:?}", b"world\n".to_vec());
    let log = log.lock().unwrap().clone();
    let pos = |entry: &str| log.iter().position(|e| e == entry).unwrap();
    assert!(pos(&hello) > pos(&format!("feed {:?}", &b"lo\nwor"[..])));
    assert!(pos(&world) > pos(&format!("feed {:?}", &b"\n"[..])));
    assert_eq!(log.last().unwrap(), "line []");
}

#[test]
fn feeding_from_another_thread_wakes_the_reader() {
    corio::run(async {
        let (mut reader, feeder) = StreamReader::new_fed();
        let thread = std::thread::spawn(move || {
            for i in 0..100u8 {
                feeder.feed_data(&[i]);
                if i % 10 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            // Dropping the only feeder ends the stream.
        });
        let all = reader.read_to_end().await.unwrap();
        assert_eq!(all, (0..100u8).collect::<Vec<_>>());
        assert!(reader.at_eof());
        thread.join().unwrap();
    });
}

#[test]
fn the_last_feeder_dropped_ends_the_stream_but_a_clone_keeps_it_open() {
    corio::run(async {
        let (mut reader, feeder) = StreamReader::new_fed();
        let clone = feeder.clone();
        feeder.feed_data(b"tail");
        drop(feeder);
        assert!(!clone.is_eof());
        let reading = corio::create_task(async move {
            let line = reader.readline().await.unwrap();
            (line, reader.at_eof())
        });
        corio::yield_now().await;
        assert!(!reading.is_done(), "the clone keeps the stream open");
        drop(clone);
        assert_eq!(reading.await.unwrap(), (b"tail".to_vec(), true));
    });
}

#[test]
fn set_exception_fails_every_read_at_once_even_with_bytes_buffered() {
    corio::run(async {
        let (mut reader, feeder) = StreamReader::new_fed();
        feeder.feed_data(b"first\nsecond\n");
        assert_eq!(reader.readline().await.unwrap(), b"first\n");
        assert!(reader.exception().is_none());
        feeder.set_exception(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
        // asyncio: every read method checks `_exception` first.
        let err = reader.readline().await.unwrap_err();
        assert!(matches!(&err, StreamError::Io(e) if e.kind() == io::ErrorKind::ConnectionReset));
        assert_eq!(err.to_string(), "reset");
        assert_eq!(reader.buffer(), b"second\n", "the bytes stay buffered");
        assert!(reader.read(0).await.is_err(), "read(0) too, as asyncio");
        assert!(reader.readexactly(1).await.is_err());
        assert!(reader.readuntil(b"\n").await.is_err());
        assert!(reader.readuntil_any(&[b"\n"]).await.is_err());
        assert!(reader.read_to_end().await.is_err());
        let mut byte = [0u8; 1];
        assert!(poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut byte))
            .await
            .is_err());
        let exc = reader.exception().unwrap();
        assert_eq!(exc.kind(), io::ErrorKind::ConnectionReset);
        let source = std::error::Error::source(&exc).unwrap();
        assert_eq!(source.to_string(), "reset");
        // A later error replaces it.
        feeder.set_exception(io::Error::new(io::ErrorKind::BrokenPipe, "pipe"));
        assert_eq!(
            reader.read(1).await.unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
    });
}

#[test]
fn set_exception_wakes_a_waiting_read_with_the_error() {
    corio::run(async {
        let (mut reader, feeder) = StreamReader::new_fed();
        feeder.feed_data(b"partial");
        let reading = corio::create_task(async move {
            let err = reader.readexactly(100).await.unwrap_err();
            (err.to_string(), reader.buffer().to_vec())
        });
        corio::yield_now().await;
        assert!(!reading.is_done());
        feeder.set_exception(io::Error::other("parser gave up"));
        let (message, buffered) = reading.await.unwrap();
        assert_eq!(message, "parser gave up");
        assert_eq!(buffered, b"partial", "asyncio keeps the buffer too");
    });
}

#[test]
fn feed_data_after_feed_eof_panics_like_asyncio_asserts() {
    let (_reader, feeder) = StreamReader::new_fed();
    feeder.feed_data(b"");
    feeder.feed_eof();
    feeder.feed_eof(); // A second end is harmless.
    for data in [&b"more"[..], b""] {
        let panic = panic::catch_unwind(AssertUnwindSafe(|| feeder.feed_data(data))).unwrap_err();
        assert_eq!(
            panic.downcast_ref::<&str>(),
            Some(&"feed_data after feed_eof")
        );
    }
    assert!(format!("{feeder:?}").contains("eof: true"));
}

#[test]
fn readline_on_a_fed_reader_respects_the_limit() {
    corio::run(async {
        let (mut reader, feeder) = StreamReader::new_fed_with_limit(4);
        feeder.feed_data(b"toolong\nok\n");
        let err = reader.readline().await.unwrap_err();
        assert!(matches!(err, StreamError::LimitOverrun { consumed: 8 }));
        assert_eq!(reader.readline().await.unwrap(), b"ok\n");
    });
}

const CRLF_LF: &[&[u8]] = &[b"\r\n", b"\n"];

#[test]
fn readuntil_any_returns_the_chunk_that_ends_first() {
    corio::run(async {
        let (mut reader, feeder) = StreamReader::new_fed();
        feeder.feed_data(b"a\nb\r\nc;d");
        feeder.feed_eof();
        assert_eq!(reader.readuntil_any(CRLF_LF).await.unwrap(), b"a\n");
        assert_eq!(reader.readuntil_any(CRLF_LF).await.unwrap(), b"b\r\n");
        // The order of the separators does not matter, only where they end.
        let seps: &[&[u8]] = &[b"d", b";"];
        assert_eq!(reader.readuntil_any(seps).await.unwrap(), b"c;");
        let err = reader.readuntil_any(CRLF_LF).await.unwrap_err();
        assert!(
            matches!(err, StreamError::IncompleteRead { ref partial, expected: None } if partial == b"d")
        );
    });
}

#[test]
fn readuntil_any_waits_for_a_separator_split_across_feeds() {
    corio::run(async {
        let (mut reader, feeder) = StreamReader::new_fed();
        feeder.feed_data(b"x\r");
        let reading = corio::create_task(async move {
            let seps: &[&[u8]] = &[b"\r\n", b"\n"];
            reader.readuntil_any(seps).await.unwrap()
        });
        corio::yield_now().await;
        assert!(!reading.is_done(), "`\\r` alone ends nothing");
        feeder.feed_data(b"\ny");
        assert_eq!(reading.await.unwrap(), b"x\r\n");

        // But with `\r` a separator itself, the chunk ends there at once.
        let (mut reader, feeder) = StreamReader::new_fed();
        feeder.feed_data(b"x\r");
        // (A literal list works as is: the parameter's type coerces it.)
        let line = reader.readuntil_any(&[b"\r\n", b"\r"]).await.unwrap();
        assert_eq!(line, b"x\r");
    });
}

#[test]
fn readuntil_any_measures_the_limit_to_the_shorter_separator_at_a_tie() {
    corio::run(async {
        // limit 3, "abc\r\n": `\r\n` starts at 3 (within the limit) but
        // `\n`, which ends at the same place, starts at 4. asyncio counts
        // the shorter one: LimitOverrunError.
        let (mut reader, feeder) = StreamReader::new_fed_with_limit(3);
        feeder.feed_data(b"abc\r\nabc\r\n");
        let err = reader.readuntil_any(CRLF_LF).await.unwrap_err();
        assert!(matches!(err, StreamError::LimitOverrun { consumed: 5 }));
        // With `\r\n` alone it fits.
        assert_eq!(reader.readuntil(b"\r\n").await.unwrap(), b"abc\r\n");
    });
}

#[test]
fn readuntil_any_discards_a_chunk_with_no_separator_within_the_limit() {
    corio::run(async {
        let (mut reader, feeder) = StreamReader::new_fed_with_limit(4);
        feeder.feed_data(b"0123456");
        feeder.feed_data(b"789\r\nnext\n");
        let err = reader.readuntil_any(CRLF_LF).await.unwrap_err();
        assert!(matches!(err, StreamError::LimitOverrun { consumed: 12 }));
        assert_eq!(reader.readuntil_any(CRLF_LF).await.unwrap(), b"next\n");
    });
}

#[test]
fn readuntil_any_rejects_no_separator_or_an_empty_one() {
    corio::run(async {
        let (mut reader, feeder) = StreamReader::new_fed();
        feeder.feed_data(b"data\n");
        for seps in [&[][..], &[&b"\n"[..], b""][..]] {
            let err = reader.readuntil_any(seps).await.unwrap_err();
            assert!(
                matches!(err, StreamError::Io(ref e) if e.kind() == io::ErrorKind::InvalidInput)
            );
        }
        assert_eq!(reader.buffer(), b"", "nothing was read");
        assert_eq!(reader.readline().await.unwrap(), b"data\n");
    });
}
