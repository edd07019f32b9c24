//! `epoll-et`: the least an edge-triggered epoll echo does for `tcp-echo`'s
//! work, with no runtime.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;

use crate::driver::*;

/// (b) Edge-triggered epoll echo: `per_conn` round trips on every pair.
pub(crate) fn epoll_echo(pairs: &[Pair], per_conn: usize) -> io::Result<()> {
    if per_conn == 0 {
        return Ok(());
    }
    // SAFETY: plain syscall, no pointers.
    let ep = check(
        unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) },
        "epoll_create1",
    );
    for (token, fd) in pairs
        .iter()
        .flat_map(|p| [p.client.as_raw_fd(), p.server.as_raw_fd()])
        .enumerate()
    {
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLET) as u32,
            u64: token as u64,
        };
        // SAFETY: `ev` is a valid epoll_event for the call's duration.
        check(
            unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) },
            "epoll_ctl",
        );
    }
    let mut rounds = vec![0usize; pairs.len()];
    let mut got = vec![0usize; pairs.len()];
    for (i, p) in pairs.iter().enumerate() {
        (&p.client).write_all(&[message_byte(i, 0); MESSAGE])?;
    }
    let mut done = 0;
    let mut buf = [0u8; 2048];
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    while done < pairs.len() {
        // SAFETY: `events` is a writable array of the length passed.
        let n = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), events.len() as i32, -1) };
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        for ev in &events[..check(n, "epoll_wait") as usize] {
            let (i, server) = ((ev.u64 / 2) as usize, ev.u64 % 2 == 1);
            let p = &pairs[i];
            if server {
                // Echo until a short read says the queue is empty.
                loop {
                    let n = match (&p.server).read(&mut buf) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        r => r?,
                    };
                    assert!(n > 0, "server {i}: unexpected EOF");
                    (&p.server).write_all(&buf[..n])?;
                    if n < buf.len() {
                        break;
                    }
                }
            } else {
                let n = match (&p.client).read(&mut buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    r => r?,
                };
                assert!(n > 0 && got[i] + n <= MESSAGE, "client {i}: read {n}");
                let want = message_byte(i, rounds[i]);
                assert!(
                    buf[..n].iter().all(|&b| b == want),
                    "client {i}: wrong echo"
                );
                got[i] += n;
                if got[i] == MESSAGE {
                    got[i] = 0;
                    rounds[i] += 1;
                    if rounds[i] < per_conn {
                        (&p.client).write_all(&[message_byte(i, rounds[i]); MESSAGE])?;
                    } else {
                        done += 1;
                    }
                }
            }
        }
    }
    // SAFETY: `ep` is our epoll fd, closed once.
    unsafe { libc::close(ep) };
    Ok(())
}
