//! The corio::process behaviour cases, shared by `tests/process.rs` (pidfd path) and
//! `tests/process_fallback.rs` (the timer fallback, `CORIO_PROCESS_NO_PIDFD=1`).
//! Every wait is bounded by `corio::timeout`.

#![allow(dead_code)]

use std::future::Future;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use corio::process::{create_subprocess_exec, create_subprocess_shell, Command, Stdio};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};

/// Runs `fut` on a fresh loop, failing the test if it takes longer than 20 s.
pub(crate) fn run_bounded<F: Future>(fut: F) -> F::Output {
    corio::run(async {
        corio::timeout(Duration::from_secs(20), fut)
            .await
            .expect("the test timed out (a hang)")
    })
}

/// 1 MiB that is not all one byte, so a reordering or a lost chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// `/proc/<pid>/stat` of `pid` if it is a child of this process: its state letter.
/// `None` if there is no such process, or it is not our child (the pid was reused).
fn child_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ppid ...": comm may hold spaces and ')', so parse after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid: u32 = fields.next()?.parse().ok()?;
    (ppid == std::process::id()).then_some(state)
}

/// Waits up to 5 s until none of `pids` is a zombie child of ours; panics naming the
/// ones left.
pub(crate) fn assert_no_zombies(pids: &[u32]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let zombies: Vec<u32> = pids
            .iter()
            .copied()
            .filter(|&pid| child_state(pid) == Some('Z'))
            .collect();
        if zombies.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} zombie children left after 5 s: {zombies:?}",
            zombies.len()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits up to 5 s until `pid` is no longer a (live or zombie) child of ours.
fn assert_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while child_state(pid).is_some() {
        assert!(
            Instant::now() < deadline,
            "child {pid} still there after 5 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits up to 5 s until no `corio-reaper` thread runs in this process (the orphan
/// reaper exits once it has nothing left to reap).
pub(crate) fn assert_reaper_thread_exits() {
    let reapers = || {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|comm| comm.trim() == "corio-reaper")
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while reapers() > 0 {
        assert!(
            Instant::now() < deadline,
            "the orphan reaper thread still runs after 5 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// How many pidfds this process holds now.
pub(crate) fn open_pidfds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().contains("pidfd"))
        .count()
}

/// How many pidfds this process holds while a child of ours is alive.
pub(crate) fn pidfds_while_a_child_runs() -> usize {
    run_bounded(async {
        let mut child = Command::new("sleep").arg("10").spawn().unwrap();
        let n = open_pidfds();
        child.kill().unwrap();
        child.wait().await.unwrap();
        n
    })
}

pub(crate) fn echo_output_is_captured() {
    run_bounded(async {
        let mut child = create_subprocess_exec("echo", ["hello", "world"])
            .await
            .unwrap();
        assert!(child.id().is_some());
        let out = child.communicate(None).await.unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, b"hello world\n");
        assert_eq!(out.stderr, b"");
        assert_eq!(child.id(), None, "reaped after communicate");
    });
}

pub(crate) fn one_mib_round_trips_through_cat() {
    run_bounded(async {
        let input = pattern(1 << 20);
        let mut child = create_subprocess_exec("cat", [] as [&str; 0])
            .await
            .unwrap();
        let out = child.communicate(Some(&input)).await.unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout.len(), input.len());
        assert!(out.stdout == input, "cat's output differs from its input");
    });
}

pub(crate) fn child_writing_before_reading_does_not_deadlock() {
    run_bounded(async {
        // 1 MiB out before it reads a byte: with stdin written first (or stdout read
        // only after stdin), both sides block on full pipes.
        let mut child = create_subprocess_shell("head -c 1048576 /dev/zero; cat >/dev/null")
            .await
            .unwrap();
        let out = child.communicate(Some(&pattern(1 << 20))).await.unwrap();
        assert!(out.status.success(), "{:?}", out.status);
        assert_eq!(out.stdout.len(), 1 << 20);
        assert!(out.stdout.iter().all(|&b| b == 0));
    });
}

pub(crate) fn exit_codes_come_back() {
    run_bounded(async {
        let status = Command::new("sh")
            .args(["-c", "exit 3"])
            .status()
            .await
            .unwrap();
        assert_eq!(status.code(), Some(3));
        assert!(!status.success());
        assert!(Command::new("true").status().await.unwrap().success());
        assert_eq!(
            Command::new("false").status().await.unwrap().code(),
            Some(1)
        );
    });
}

pub(crate) fn kill_ends_a_sleeping_child_with_sigkill() {
    run_bounded(async {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        assert_eq!(child.try_wait().unwrap(), None, "sleep 30 still runs");
        let start = Instant::now();
        child.kill().unwrap();
        let status = child.wait().await.unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "took {:?}",
            start.elapsed()
        );
        assert_eq!(status.signal(), Some(9), "{status:?}");
        assert_eq!(status.code(), None);
        assert_eq!(child.id(), None);
        // Once reaped: kill is a no-op and wait/try_wait repeat the status.
        child.kill().unwrap();
        assert_eq!(child.wait().await.unwrap(), status);
        assert_eq!(child.try_wait().unwrap(), Some(status));
    });
}

pub(crate) fn terminate_sends_sigterm() {
    run_bounded(async {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        child.terminate().unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(15));
    });
}

pub(crate) fn try_wait_sees_the_exit_without_waiting() {
    run_bounded(async {
        let mut child = Command::new("sh").args(["-c", "exit 7"]).spawn().unwrap();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            corio::sleep(Duration::from_millis(2)).await;
        };
        assert_eq!(status.code(), Some(7));
        assert_eq!(child.id(), None);
    });
}

/// 200 children at once, half awaited and half dropped unawaited: after the loop
/// has closed, none is left a zombie.
pub(crate) fn many_children_are_all_reaped() {
    let pids = run_bounded(async {
        let mut pids = Vec::new();
        let mut waits = Vec::new();
        for i in 0..200 {
            let script = if i % 4 < 2 { "sleep 0.05" } else { "exit 0" };
            let mut child = Command::new("sh")
                .args(["-c", script])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            pids.push(child.id().unwrap());
            if i % 2 == 0 {
                waits.push(corio::create_task(async move { child.wait().await }));
            } else {
                drop(child);
            }
        }
        for wait in waits {
            assert!(wait.await.unwrap().unwrap().success());
        }
        pids
    });
    assert_eq!(pids.len(), 200);
    assert_no_zombies(&pids);
}

pub(crate) fn missing_program_is_not_found_and_named() {
    run_bounded(async {
        let err = Command::new("corio-no-such-program").spawn().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let message = err.to_string();
        assert!(
            message.contains("failed to spawn `corio-no-such-program`"),
            "{message}"
        );
        let err = create_subprocess_exec("corio-no-such-program", ["x"])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    });
}

pub(crate) fn kill_on_drop_kills_and_plain_drop_does_not() {
    let (killed, kept) = run_bounded(async {
        let killed = Command::new("sleep")
            .arg("30")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let kept = Command::new("sleep").arg("0.5").spawn().unwrap();
        let pids = (killed.id().unwrap(), kept.id().unwrap());
        drop(killed);
        drop(kept);
        pids
    });
    // The other one still runs (it sleeps 0.5 s)...
    assert!(
        matches!(child_state(kept), Some(s) if s != 'Z'),
        "a dropped child without kill_on_drop keeps running"
    );
    // ...while the killed one is reaped by the orphan reaper well before its 30 s.
    assert_gone(killed);
    // Then the other one exits and is reaped too.
    assert_gone(kept);
}

pub(crate) fn output_and_status_use_std_defaults() {
    run_bounded(async {
        let out = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 2"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status.code(), Some(2));
        // output() gives the child a null stdin: cat ends at once.
        let out = Command::new("cat").output().await.unwrap();
        assert!(out.status.success());
        assert!(out.stdout.is_empty());
        // status() with a piped stdout it never reads, and env/current_dir forwarded.
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "test \"$(pwd)\" = / && test \"$X\" = y && test -z \"$HOME\"",
        ])
        .current_dir("/")
        .env("X", "y")
        .env_remove("HOME");
        assert!(cmd.status().await.unwrap().success());
        // The same Command again: still std's spawn defaults (output() put them back).
        let out = cmd.output().await.unwrap();
        assert!(out.status.success());
    });
}

pub(crate) fn wait_closes_stdin_first() {
    run_bounded(async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(b"abc")
            .await
            .unwrap();
        // stdin is still open here: wait() must close it or cat never exits.
        let status = child.wait().await.unwrap();
        assert!(status.success());
        assert!(child.stdin.is_none());
        let mut out = Vec::new();
        AsyncReadExt::read_to_end(child.stdout.as_mut().unwrap(), &mut out)
            .await
            .unwrap();
        assert_eq!(out, b"abc");
    });
}

pub(crate) fn pipes_work_with_futures_io_from_other_tasks() {
    run_bounded(async {
        let mut child = create_subprocess_exec("tr", ["a-z", "A-Z"]).await.unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let writer = corio::create_task(async move {
            // The futures-io traits, not the inherent methods.
            for _ in 0..1000 {
                AsyncWriteExt::write_all(&mut stdin, b"hello ").await?;
            }
            AsyncWriteExt::close(&mut stdin).await
        });
        let mut out = String::new();
        stdout.read_to_string(&mut out).await.unwrap();
        writer.await.unwrap().unwrap();
        assert_eq!(out, "HELLO ".repeat(1000));
        assert!(child.wait().await.unwrap().success());
    });
}

pub(crate) fn shell_pipeline_runs() {
    run_bounded(async {
        let mut child = create_subprocess_shell("printf '3\\n1\\n2\\n' | sort -n | tr '\\n' ,")
            .await
            .unwrap();
        let out = child.communicate(None).await.unwrap();
        assert_eq!(out.stdout, b"1,2,3,");
        assert!(out.status.success());
    });
}

pub(crate) fn communicate_input_without_stdin_pipe_is_invalid() {
    run_bounded(async {
        let mut child = Command::new("true").stdout(Stdio::piped()).spawn().unwrap();
        let err = child.communicate(Some(b"x")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(child.wait().await.unwrap().success());
    });
}

pub(crate) fn child_ignoring_its_stdin_is_not_an_error() {
    run_bounded(async {
        // The child exits without reading: the rest of the input is dropped.
        let mut child = create_subprocess_shell("exec 0<&-; echo done")
            .await
            .unwrap();
        let out = child.communicate(Some(&pattern(1 << 20))).await.unwrap();
        assert_eq!(out.stdout, b"done\n");
        assert!(out.status.success());
    });
}
