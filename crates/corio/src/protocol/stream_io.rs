//! What a stream transport can sit on: [`StreamIo`], implemented by TCP and
//! Unix stream sockets and by the two ends of a pipe. The transport is
//! generic over it, so the connection's task reads and writes with static
//! dispatch; only [`Transport`](super::Transport)'s methods go through a
//! vtable.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

/// A non-blocking byte stream a transport drives.
pub(crate) trait StreamIo: AsFd + Send + Sync + 'static {
    /// The transport reads from it (a write pipe does not).
    const READS: bool = true;
    /// The transport writes to it (a read pipe does not).
    const WRITES: bool = true;
    /// `write_eof` closes the whole transport (a pipe has no half-close).
    const EOF_CLOSES: bool = false;

    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;

    fn write(&self, buf: &[u8]) -> io::Result<usize>;

    /// Shuts the write direction down (the peer reads EOF).
    fn shutdown_write(&self) -> io::Result<()>;

    fn peer_addr(&self) -> Option<SocketAddr> {
        None
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        None
    }
}

impl StreamIo for std::net::TcpStream {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(&mut &*self, buf)
    }

    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        Write::write(&mut &*self, buf)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        std::net::TcpStream::peer_addr(self).ok()
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        std::net::TcpStream::local_addr(self).ok()
    }
}

impl StreamIo for UnixStream {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(&mut &*self, buf)
    }

    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        Write::write(&mut &*self, buf)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// The read end of a pipe (asyncio's `connect_read_pipe`).
pub(crate) struct ReadPipe(pub(crate) File);

/// The write end of a pipe (asyncio's `connect_write_pipe`).
pub(crate) struct WritePipe(pub(crate) File);

impl ReadPipe {
    pub(crate) fn new(fd: OwnedFd) -> ReadPipe {
        ReadPipe(File::from(fd))
    }
}

impl WritePipe {
    pub(crate) fn new(fd: OwnedFd) -> WritePipe {
        WritePipe(File::from(fd))
    }
}

impl AsFd for ReadPipe {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl AsFd for WritePipe {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl StreamIo for ReadPipe {
    const WRITES: bool = false;

    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(&mut &self.0, buf)
    }

    fn write(&self, _buf: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::Unsupported.into())
    }

    fn shutdown_write(&self) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

impl StreamIo for WritePipe {
    const READS: bool = false;
    const EOF_CLOSES: bool = true;

    fn read(&self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::Unsupported.into())
    }

    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        Write::write(&mut &self.0, buf)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        Ok(())
    }
}
