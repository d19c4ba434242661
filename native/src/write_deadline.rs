//! A connection whose client stops taking bytes is dropped: [`WriteDeadline`] wraps a socket
//! and fails a write that has made no progress for its timeout.
//!
//! Why this and not a deadline per response: a browser fetching a 2 MB wasm module on a slow
//! link needs as long as it needs, and an event stream lasts as long as its run. What marks a
//! dead or hostile reader is a write that stays blocked (its socket buffers full, nothing
//! acknowledged) for many seconds. hyper has a deadline for request heads only, so a client
//! that sent a request and then never read held its connection slot for ever. The error this
//! returns ends hyper's connection future, which closes the socket and frees the slot.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// `io` whose writes fail with [`io::ErrorKind::TimedOut`] after `timeout` without progress.
pub struct WriteDeadline<T> {
    io: T,
    timeout: Duration,
    /// Armed when a write (or flush) first finds the socket full; cleared by any progress.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> WriteDeadline<T> {
    /// Wraps `io`.
    pub fn new(io: T, timeout: Duration) -> Self {
        Self {
            io,
            timeout,
            stalled: None,
        }
    }

    /// What a pending write does: wait, unless the socket has been stuck for `timeout`.
    fn pending<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let timeout = self.timeout;
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(sleep.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the client took no bytes for {} s",
                timeout.as_secs_f64().round()
            ),
        )))
    }

    /// What a finished write does: progress, so the stall clock starts again from zero.
    fn progressed<R>(&mut self, r: io::Result<R>) -> Poll<io::Result<R>> {
        self.stalled = None;
        Poll::Ready(r)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteDeadline<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // Reads have their own deadline (hyper's, for request heads) or none (a client may
        // keep an event stream open without sending anything).
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(r) => this.progressed(r),
            Poll::Pending => this.pending(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => this.progressed(r),
            Poll::Pending => this.pending(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_flush(cx) {
            Poll::Ready(r) => this.progressed(r),
            Poll::Pending => this.pending(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_shutdown(cx) {
            Poll::Ready(r) => this.progressed(r),
            Poll::Pending => this.pending(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(flavor = "current_thread")]
    async fn a_write_that_never_progresses_fails_after_the_timeout() {
        // A pipe of 64 bytes whose other end is never read.
        let (a, _b) = tokio::io::duplex(64);
        let mut w = WriteDeadline::new(a, Duration::from_millis(200));
        let t0 = std::time::Instant::now();
        let err = w.write_all(&[0u8; 4096]).await.expect_err("must time out");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(t0.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_slow_reader_that_keeps_reading_is_not_cut() {
        let (a, mut b) = tokio::io::duplex(64);
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 64];
            let mut got = 0;
            while got < 1024 {
                // Reads 100 ms apart: each gap under the timeout, 1.6 s in all.
                tokio::time::sleep(Duration::from_millis(100)).await;
                got += b.read(&mut buf).await.expect("read");
            }
        });
        let mut w = WriteDeadline::new(a, Duration::from_millis(500));
        w.write_all(&[0u8; 1024])
            .await
            .expect("a slow reader is served");
        reader.await.expect("reader");
    }
}
