//! corio::protocol's pipes: a read and a write pipe through `cat`, and a
//! write pipe whose reader goes away.

use std::sync::Arc;

use super::{fold, run_bounded, Log, Recorder};

#[test]
fn a_pipe_pair_through_cat() {
    let log: Log = Arc::default();
    let write_log: Log = Arc::default();
    let (l, w) = (log.clone(), write_log.clone());
    run_bounded(async move {
        let mut child = std::process::Command::new("cat")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let handle = corio::get_running_loop();
        let (reader, read_done) = handle
            .connect_read_pipe(move || Recorder::new(&l), stdout)
            .unwrap();
        assert!(!reader.can_write_eof());
        let (writer, write_done) =
            corio::protocol::connect_write_pipe(move || Recorder::new(&w), stdin).unwrap();
        writer.write(b"through ");
        writer.write(b"the pipes");
        writer.write_eof();
        write_done.await.unwrap();
        read_done.await.unwrap();
        assert!(child.wait().unwrap().success());
    });
    assert_eq!(
        fold(&log),
        (
            vec![
                "made".into(),
                "data".into(),
                "eof".into(),
                "lost:none".into()
            ],
            "through the pipes".into()
        )
    );
    assert_eq!(fold(&write_log).0, ["made", "lost:none"]);
}

#[test]
fn a_write_pipe_whose_reader_goes_away_is_lost() {
    let log: Log = Arc::default();
    let l = log.clone();
    run_bounded(async move {
        let mut child = std::process::Command::new("head")
            .args(["-c", "1"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let (writer, done) =
            corio::protocol::connect_write_pipe(move || Recorder::new(&l), stdin).unwrap();
        // `head -c 1` exits after one byte: the pipe's reader is gone.
        writer.write(b"x");
        assert!(child.wait().unwrap().success());
        done.await.unwrap();
    });
    assert_eq!(fold(&log).0, ["made", "lost:none"]);
}
