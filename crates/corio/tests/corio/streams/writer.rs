//! `StreamWriter`: buffered writes and `drain` with back-pressure from a
//! slow reader, cancelled drains, water marks, `write_eof`, and errors after
//! close or a failed send.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::{StreamReader, StreamWriter};

use super::{pipe, run_bounded};

#[test]
fn write_buffers_and_drain_sends() {
    run_bounded(async {
        let (read, write) = pipe(1 << 16);
        let mut reader = StreamReader::new(read);
        let mut writer = StreamWriter::new(write);
        writer.write(b"one ");
        writer.writelines([b"two ".as_slice(), b"three\n"]);
        assert_eq!(writer.write_buffer_size(), 14);
        writer.drain().await.unwrap();
        assert_eq!(writer.write_buffer_size(), 0);
        assert_eq!(reader.readline().await.unwrap(), b"one two three\n");
    });
}

#[test]
fn a_slow_reader_makes_drain_wait() {
    run_bounded(async {
        let (read, write) = pipe(1024); // the "socket" holds 1 KiB
        let mut writer = StreamWriter::new(write);
        writer.set_write_buffer_limits(4096, 1024);
        assert_eq!(writer.write_buffer_limits(), (4096, 1024));
        let payload: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        writer.write(&payload);
        assert!(writer.is_above_high_water());

        let read_so_far = Arc::new(AtomicUsize::new(0));
        let consumer = corio::create_task({
            let read_so_far = read_so_far.clone();
            async move {
                let mut reader = StreamReader::new(read);
                let mut got = Vec::new();
                loop {
                    corio::sleep(Duration::from_millis(1)).await; // a slow reader
                    let chunk = reader.read(4096).await.unwrap();
                    if chunk.is_empty() {
                        return got;
                    }
                    got.extend_from_slice(&chunk);
                    read_so_far.store(got.len(), Ordering::SeqCst);
                }
            }
        });
        // drain cannot finish before the reader took all but the pipe's worth.
        writer.drain().await.unwrap();
        assert!(
            read_so_far.load(Ordering::SeqCst) >= payload.len() - 1024 - 4096,
            "drain returned before the reader caught up"
        );
        assert_eq!(writer.write_buffer_size(), 0);
        assert!(!writer.is_above_high_water());
        writer.close();
        writer.wait_closed().await.unwrap();
        assert_eq!(consumer.await.unwrap(), payload);
    });
}

#[test]
fn a_cancelled_drain_loses_no_bytes() {
    run_bounded(async {
        let (read, write) = pipe(100);
        let mut writer = StreamWriter::new(write);
        let payload: Vec<u8> = (0..250u8).collect();
        writer.write(&payload);
        // Nobody reads: the drain stalls after 100 bytes and is dropped.
        assert!(corio::timeout(Duration::from_millis(20), writer.drain())
            .await
            .is_err());
        assert_eq!(writer.write_buffer_size(), 150);
        let consumer =
            corio::create_task(async move { StreamReader::new(read).read_to_end().await.unwrap() });
        writer.wait_closed().await.unwrap();
        assert_eq!(consumer.await.unwrap(), payload);
    });
}

#[test]
#[should_panic(expected = "must not exceed high")]
fn water_marks_reject_low_above_high() {
    let (_read, write) = pipe(16);
    StreamWriter::new(write).set_write_buffer_limits(10, 20);
}

#[test]
fn write_eof_sends_the_buffer_then_the_end_of_the_stream() {
    run_bounded(async {
        let (read, write) = pipe(1024);
        let mut reader = StreamReader::new(read);
        let mut writer = StreamWriter::new(write);
        writer.write(b"last words");
        writer.write_eof().await.unwrap();
        assert!(!writer.is_open());
        assert!(!writer.is_closing(), "write_eof is not close");
        assert_eq!(reader.read_to_end().await.unwrap(), b"last words");
        assert!(reader.at_eof());
    });
}

#[test]
fn writing_after_close_is_reported_by_drain() {
    run_bounded(async {
        let (_read, write) = pipe(1024);
        let mut writer = StreamWriter::new(write);
        writer.close();
        assert!(writer.is_closing());
        writer.write(b"too late");
        let err = writer.drain().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        writer.wait_closed().await.unwrap();
        writer.wait_closed().await.unwrap(); // idempotent
    });
}

#[test]
fn a_failed_send_fails_every_later_drain() {
    run_bounded(async {
        let (read, write) = pipe(1024);
        drop(read); // the peer is gone
        let mut writer = StreamWriter::new(write);
        writer.write(b"into the void");
        let err = writer.drain().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(writer.write_buffer_size(), 0, "the buffer is dropped");
        writer.write(b"again");
        let err = writer.drain().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert!(writer.wait_closed().await.is_err());
    });
}
