//! Unit tests of `corio::fs::File`'s batching: how many trips to the pool a
//! pattern of calls costs, read from the test-only `File::trips` counter
//! (the behaviour tests are in tests/corio/fs.rs).

use std::io::SeekFrom;
use std::path::PathBuf;

use futures_util::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::File;

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("corio-fs-unit-{name}-{}", std::process::id()))
}

#[test]
fn ten_thousand_one_byte_writes_cost_one_trip() {
    let path = temp_path("one-byte");
    crate::run(async {
        let mut file = File::create(&path).await.unwrap();
        for i in 0..10_000u32 {
            file.write_all(&[i as u8]).await.unwrap();
        }
        assert_eq!(file.trips, 0, "all buffered");
        file.flush().await.unwrap();
        assert_eq!(file.trips, 1);
        file.flush().await.unwrap();
        assert_eq!(file.trips, 1, "nothing left to write");
    });
    let data = std::fs::read(&path).unwrap();
    assert_eq!(data.len(), 10_000);
    assert!(data.iter().enumerate().all(|(i, b)| *b == i as u8));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn sixteen_byte_chunks_cost_one_trip_per_64_kib() {
    let path = temp_path("sixteen");
    crate::run(async {
        let mut file = File::create(&path).await.unwrap();
        for i in 0..10_000u128 {
            file.write_all(&i.to_le_bytes()).await.unwrap();
        }
        file.flush().await.unwrap();
        // 160,000 bytes: two full buffers, then the rest at the flush.
        assert_eq!(file.trips, 3);
    });
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 160_000);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn small_reads_share_one_trip_per_64_kib() {
    let path = temp_path("reads");
    std::fs::write(&path, vec![7u8; 100_000]).unwrap();
    crate::run(async {
        let mut file = File::open(&path).await.unwrap();
        let mut byte = [0; 1];
        for _ in 0..100_000 {
            file.read_exact(&mut byte).await.unwrap();
        }
        assert_eq!(file.trips, 2, "65,536 then 34,464 bytes");
        assert_eq!(file.read(&mut byte).await.unwrap(), 0);
        assert_eq!(file.trips, 3, "the end of file is one more read");
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_read_or_seek_after_writes_writes_them_in_the_same_trip() {
    let path = temp_path("settle");
    crate::run(async {
        let mut file = super::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        file.write_all(b"0123456789").await.unwrap();
        assert_eq!(file.seek(SeekFrom::Start(2)).await.unwrap(), 2);
        assert_eq!(file.trips, 1, "write and seek in one trip");
        file.write_all(b"ab").await.unwrap();
        let mut rest = Vec::new();
        file.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"456789");
        // write + read (6 bytes), then the read that finds the end.
        assert_eq!(file.trips, 3);
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn file_and_read_dir_can_move_between_workers_and_be_shared() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<File>();
    send_sync::<super::ReadDir>();
    send_sync::<super::DirEntry>();
    send_sync::<super::OpenOptions>();
}
