//! `StreamReader`: framed reads (`read`, `readline`, `readuntil`,
//! `readexactly`) over input that arrives in pieces, the line limit, end of
//! stream, cancellation, and the futures-io `AsyncBufRead` view.

use std::io;
use std::pin::Pin;
use std::time::Duration;

use corio::{StreamError, StreamReader};
use futures_io::AsyncWrite;

use super::{chunked, pieces, pipe, run_bounded};

#[test]
fn read_returns_what_has_arrived_and_empty_at_eof() {
    run_bounded(async {
        let mut reader = chunked(&[b"abc", b"defgh"], 1024);
        assert_eq!(reader.read(100).await.unwrap(), b"abc");
        assert_eq!(reader.read(2).await.unwrap(), b"de");
        assert_eq!(reader.read(100).await.unwrap(), b"fgh");
        assert!(
            !reader.at_eof(),
            "the end is not seen before a read returns it"
        );
        assert_eq!(reader.read(100).await.unwrap(), b"");
        assert!(reader.at_eof());
        assert_eq!(reader.read(0).await.unwrap(), b"");
    });
}

#[test]
fn readline_assembles_lines_from_one_byte_pieces() {
    run_bounded(async {
        let text = b"first line\nsecond\n\nlast without newline";
        let mut reader = chunked(&pieces(text, 1), 1024);
        assert_eq!(reader.readline().await.unwrap(), b"first line\n");
        assert_eq!(reader.readline().await.unwrap(), b"second\n");
        assert_eq!(reader.readline().await.unwrap(), b"\n");
        assert_eq!(reader.readline().await.unwrap(), b"last without newline");
        assert!(reader.at_eof());
        assert_eq!(reader.readline().await.unwrap(), b"");
    });
}

#[test]
fn readuntil_finds_a_separator_split_across_pieces() {
    run_bounded(async {
        let mut reader = chunked(&[b"HEAD\r", b"\n\r", b"\nbody--", b"--end"], 1024);
        assert_eq!(
            reader.readuntil(b"\r\n\r\n").await.unwrap(),
            b"HEAD\r\n\r\n"
        );
        assert_eq!(reader.readuntil(b"----").await.unwrap(), b"body----");
        assert_eq!(reader.read_to_end().await.unwrap(), b"end");
    });
}

#[test]
fn readuntil_at_eof_without_separator_gives_incomplete_read() {
    run_bounded(async {
        let mut reader = chunked(&[b"no ", b"separator"], 1024);
        match reader.readuntil(b";").await {
            Err(StreamError::IncompleteRead { partial, expected }) => {
                assert_eq!(partial, b"no separator");
                assert_eq!(expected, None);
            }
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
        assert!(reader.at_eof(), "the partial bytes were consumed");
    });
}

#[test]
fn readuntil_rejects_an_empty_separator() {
    run_bounded(async {
        let mut reader = chunked(&[b"x"], 1024);
        let err = reader.readuntil(b"").await.unwrap_err();
        assert!(matches!(err, StreamError::Io(ref e) if e.kind() == io::ErrorKind::InvalidInput));
    });
}

#[test]
fn readexactly_waits_for_every_byte_across_pieces() {
    run_bounded(async {
        let frame: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let mut input = vec![0x13, 0x88]; // 5000, big-endian
        input.extend_from_slice(&frame);
        let mut reader = chunked(&pieces(&input, 7), 1024);
        let header = reader.readexactly(2).await.unwrap();
        let len = usize::from(u16::from_be_bytes([header[0], header[1]]));
        assert_eq!(reader.readexactly(len).await.unwrap(), frame);
        assert_eq!(reader.readexactly(0).await.unwrap(), b"");
    });
}

#[test]
fn readexactly_at_eof_gives_incomplete_read_with_the_partial_bytes() {
    run_bounded(async {
        let mut reader = chunked(&[b"12", b"345"], 1024);
        match reader.readexactly(8).await {
            Err(StreamError::IncompleteRead { partial, expected }) => {
                assert_eq!(partial, b"12345");
                assert_eq!(expected, Some(8));
            }
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
        assert!(reader.at_eof());
        let err = reader.readexactly(1).await.unwrap_err();
        assert!(err.is_incomplete_read());
        let io_err: io::Error = err.into();
        assert_eq!(io_err.kind(), io::ErrorKind::UnexpectedEof);
    });
}

#[test]
fn a_line_longer_than_the_limit_overruns_and_the_next_line_still_reads() {
    run_bounded(async {
        let mut text = b"short\n".to_vec();
        text.extend_from_slice(&[b'x'; 1000]);
        text.extend_from_slice(b"\nnext line\n");
        // The long line arrives in small pieces: the reader must not buffer
        // it all, and must discard exactly through its newline.
        let mut reader = chunked(&pieces(&text, 13), 64);
        assert_eq!(reader.limit(), 64);
        assert_eq!(reader.readline().await.unwrap(), b"short\n");
        match reader.readline().await {
            Err(StreamError::LimitOverrun { consumed }) => assert_eq!(consumed, 1001),
            other => panic!("expected LimitOverrun, got {other:?}"),
        }
        assert!(
            reader.buffer().len() <= 64 + 13,
            "the overlong line was not buffered whole"
        );
        assert_eq!(reader.readline().await.unwrap(), b"next line\n");
        assert_eq!(reader.readline().await.unwrap(), b"");
    });
}

#[test]
fn a_line_of_exactly_the_limit_is_accepted() {
    run_bounded(async {
        let mut reader = chunked(&[b"12345678\n123456789\nok\n"], 8);
        assert_eq!(reader.readline().await.unwrap(), b"12345678\n");
        let err = reader.readline().await.unwrap_err();
        assert!(matches!(err, StreamError::LimitOverrun { consumed: 10 }));
        let io_err: io::Error = err.into();
        assert_eq!(io_err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(reader.readline().await.unwrap(), b"ok\n");
    });
}

#[test]
fn set_limit_changes_the_limit_between_reads() {
    run_bounded(async {
        let mut reader = chunked(&[b"0123456789\n0123456789\n"], 4);
        assert!(reader.readline().await.unwrap_err().is_limit_overrun());
        reader.set_limit(16);
        assert_eq!(reader.readline().await.unwrap(), b"0123456789\n");
    });
}

#[test]
fn a_cancelled_readline_loses_no_bytes() {
    run_bounded(async {
        let (read, mut write) = pipe(1024);
        let mut reader = StreamReader::new(read);
        std::future::poll_fn(|cx| Pin::new(&mut write).poll_write(cx, b"partial "))
            .await
            .unwrap();
        // The line is incomplete: the read times out and is dropped.
        let timed_out = corio::timeout(Duration::from_millis(20), reader.readline()).await;
        assert!(timed_out.is_err());
        std::future::poll_fn(|cx| Pin::new(&mut write).poll_write(cx, b"line\n"))
            .await
            .unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"partial line\n");
    });
}

#[test]
fn the_reader_works_as_a_futures_io_buf_reader() {
    use futures_util::io::{AsyncBufReadExt, AsyncReadExt};
    run_bounded(async {
        let mut reader = chunked(&[b"alpha\nbe", b"ta\n", b"gamma"], 1024);
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "alpha\n");
        assert_eq!(reader.readline().await.unwrap(), b"beta\n");
        let mut rest = Vec::new();
        AsyncReadExt::read_to_end(&mut reader, &mut rest)
            .await
            .unwrap();
        assert_eq!(rest, b"gamma");
    });
}
