//! Slow and hostile clients: a bound on open connections (`application.max_connections`)
//! and a deadline on each request's header (`application.header_read_timeout`), applied
//! around the listener's connections (the body's deadline is the body reader's, in
//! `api::payload`).
//!
//! The header deadline watches the decrypted bytes of an HTTP/1 connection: it starts when
//! the connection is accepted (so the TLS handshake counts) and, on a kept-alive
//! connection, with the first byte of each next request; it ends at the blank line that
//! closes the header. A client still sending its header then (one byte a second, or
//! nothing at all) gets its connection closed. HTTP/2 connections (their preface) are left
//! to HTTP/2's own flow control.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

/// How often at most each of the WARN lines below is written.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// The first bytes of an HTTP/2 connection (its preface's request line).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

/// The end of a request header.
const HEADER_END: &[u8] = b"\r\n\r\n";

/// Its searcher, built once (building one per search was a third of the scan's cost).
static HEADER_END_FINDER: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(HEADER_END));

/// A WARN line written at most once per [`WARN_EVERY`], saying how often its cause
/// happened in between.
pub(crate) struct RateLimitedWarn {
    started: Instant,
    /// When the next line may be written, in ms since `started`.
    next_ms: AtomicU64,
    /// Occurrences since the last line written.
    unlogged: AtomicU64,
}

impl RateLimitedWarn {
    pub(crate) fn new() -> Self {
        Self {
            started: Instant::now(),
            next_ms: AtomicU64::new(0),
            unlogged: AtomicU64::new(0),
        }
    }

    /// Counts one occurrence; calls `log` with the count since the last line when a line
    /// is due.
    pub(crate) fn hit(&self, log: impl FnOnce(u64)) {
        self.unlogged.fetch_add(1, Ordering::Relaxed);
        let now = self.started.elapsed().as_millis() as u64;
        let next = self.next_ms.load(Ordering::Relaxed);
        if now < next {
            return;
        }
        let after = now + WARN_EVERY.as_millis() as u64;
        if self
            .next_ms
            .compare_exchange(next, after, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            log(self.unlogged.swap(0, Ordering::Relaxed).max(1));
        }
    }
}

/// The limits of [`Limited`], from `application.*`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// `application.max_connections`.
    pub(crate) max_connections: usize,
    /// `application.header_read_timeout`.
    pub(crate) header_read_timeout: Duration,
}

/// An acceptor that keeps at most `max_connections` connections open (past it, new
/// connections wait in the listen backlog until one closes) and puts a deadline on every
/// request header.
pub(crate) struct Limited<A> {
    inner: A,
    limits: ConnectionLimits,
    permits: Arc<Semaphore>,
    full: RateLimitedWarn,
    slow: Arc<RateLimitedWarn>,
}

impl<A> Limited<A> {
    pub(crate) fn new(inner: A, limits: ConnectionLimits) -> Self {
        Self {
            inner,
            limits,
            permits: Arc::new(Semaphore::new(limits.max_connections)),
            full: RateLimitedWarn::new(),
            slow: Arc::new(RateLimitedWarn::new()),
        }
    }
}

impl<A: Acceptor> Acceptor for Limited<A> {
    type Io = Connection<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let max = self.limits.max_connections;
                self.full.hit(|times| {
                    tracing::warn!(
                        max_connections = max,
                        times,
                        "connection limit reached: {max} connections open (`application.max_connections`); new connections wait in the listen backlog until one closes"
                    );
                });
                self.permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| io::Error::other("the connection limit was closed"))?
            }
        };
        let (io, local, remote, scheme) = self.inner.accept().await?;
        let header_deadline = deadline_after(self.limits.header_read_timeout);
        let connection = Connection {
            io,
            phase: Phase::Header(HeaderScan::FIRST),
            timeout: self.limits.header_read_timeout,
            header_deadline,
            timer: Box::pin(tokio::time::sleep_until(header_deadline)),
            slow: self.slow.clone(),
            remote: remote.to_string(),
            _permit: permit,
        };
        Ok((connection, local, remote, scheme))
    }
}

/// How much of `\r\n\r\n` is matched after `byte`, `matched` bytes of it before.
fn next_matched(matched: u8, byte: u8) -> u8 {
    if byte == HEADER_END[matched as usize] {
        matched + 1
    } else if byte == b'\r' {
        1
    } else {
        0
    }
}

/// Where a connection is in its current request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Reading a request header, under the deadline.
    Header(HeaderScan),
    /// The header is in; the body (if any) is the handler's to time.
    Body,
    /// The response was written; waiting for the next request on a kept-alive connection.
    Idle,
    /// HTTP/2: not watched.
    Off,
    /// The header's deadline passed: every read fails.
    TimedOut,
}

/// What the bytes of a request header seen so far say.
#[derive(Debug, Clone, Copy, PartialEq)]
struct HeaderScan {
    /// How many bytes of the HTTP/2 preface the connection started with (first request
    /// only; `H2_PREFACE.len()` once ruled out).
    preface: u8,
    /// How much of `\r\n\r\n` ends the bytes seen.
    matched: u8,
    /// A byte other than CR/LF came (empty lines before a request line are not its
    /// header's end).
    started: bool,
}

/// What [`HeaderScan::feed`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scanned {
    /// Still in the header.
    Header,
    /// The header ended within these bytes.
    End,
    /// The connection is HTTP/2.
    Http2,
}

impl HeaderScan {
    /// The first request of a connection (it may be HTTP/2).
    const FIRST: Self = Self {
        preface: 0,
        matched: 0,
        started: false,
    };
    /// A later request on a kept-alive HTTP/1 connection.
    const NEXT: Self = Self {
        preface: H2_PREFACE.len() as u8,
        matched: 0,
        started: false,
    };

    /// Follows the header through the next bytes read. A substring search rather than a
    /// state machine a byte at a time: this runs on every request (the byte loop was 6 %
    /// of the CPU of a find; docs/BENCHMARKS.md).
    fn feed(&mut self, bytes: &[u8]) -> Scanned {
        // The HTTP/2 preface can only be the connection's first bytes.
        if (self.preface as usize) < H2_PREFACE.len() {
            let want = &H2_PREFACE[self.preface as usize..];
            let n = want.len().min(bytes.len());
            if bytes[..n] == want[..n] {
                self.preface += n as u8;
                if self.preface as usize == H2_PREFACE.len() {
                    return Scanned::Http2;
                }
            } else {
                self.preface = H2_PREFACE.len() as u8;
            }
        }
        let mut rest = bytes;
        if !self.started {
            let Some(at) = rest.iter().position(|&b| b != b'\r' && b != b'\n') else {
                return Scanned::Header;
            };
            self.started = true;
            rest = &rest[at + 1..];
        }
        // A header end split across reads: the bytes that may complete it, one by one.
        while self.matched > 0 && !rest.is_empty() {
            self.matched = next_matched(self.matched, rest[0]);
            rest = &rest[1..];
            if self.matched as usize == HEADER_END.len() {
                return Scanned::End;
            }
        }
        if self.matched == 0 {
            if HEADER_END_FINDER.find(rest).is_some() {
                return Scanned::End;
            }
            // How much of a header end the bytes end with (no whole one is among them).
            self.matched = (1..HEADER_END.len())
                .rev()
                .find(|&n| rest.ends_with(&HEADER_END[..n]))
                .unwrap_or(0) as u8;
        }
        Scanned::Header
    }
}

/// One accepted connection: holds its place under `application.max_connections` until it
/// is dropped, and closes itself when a request header takes longer than its deadline.
pub(crate) struct Connection<Io> {
    io: Io,
    phase: Phase,
    timeout: Duration,
    /// When the current request's header must be in.
    header_deadline: tokio::time::Instant,
    /// Wakes the connection at or before `header_deadline`: set again only when it fires
    /// early (a kept-alive connection's later request moved the deadline), not for every
    /// request (resetting a timer per request showed in the request path's CPU).
    timer: Pin<Box<Sleep>>,
    slow: Arc<RateLimitedWarn>,
    remote: String,
    _permit: OwnedSemaphorePermit,
}

impl<Io> Connection<Io> {
    /// Follows the request through the bytes just read.
    fn observe(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.phase == Phase::Idle {
            self.phase = Phase::Header(HeaderScan::NEXT);
            self.header_deadline = deadline_after(self.timeout);
        }
        let Phase::Header(scan) = &mut self.phase else {
            return;
        };
        match scan.feed(bytes) {
            Scanned::Header => {}
            // The rest of these bytes is the body (or a pipelined request: untimed).
            Scanned::End => self.phase = Phase::Body,
            Scanned::Http2 => self.phase = Phase::Off,
        }
    }

    /// Whether the header's deadline has passed (then the connection is closed).
    fn timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        if !matches!(self.phase, Phase::Header(_)) {
            return false;
        }
        if self.timer.as_mut().poll(cx).is_pending() {
            return false;
        }
        if tokio::time::Instant::now() < self.header_deadline {
            // The timer was set for an earlier request's header: set it for this one's.
            self.timer.as_mut().reset(self.header_deadline);
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
        }
        self.phase = Phase::TimedOut;
        let (timeout, remote) = (self.timeout, &self.remote);
        tracing::debug!(%remote, ?timeout, "connection closed: its request header did not arrive within `application.header_read_timeout`");
        self.slow.hit(|times| {
            tracing::warn!(
                times,
                "closed {times} connection(s) whose request header did not arrive within {timeout:?} (`application.header_read_timeout`), the last from {remote}"
            );
        });
        true
    }
}

/// `timeout` from now; a timeout too long to add is as good as none (`sleep` saturates
/// the same way).
fn deadline_after(timeout: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(86400 * 365 * 30))
}

fn timed_out_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "request header not received within `application.header_read_timeout`",
    )
}

impl<Io: AsyncRead + Unpin> AsyncRead for Connection<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.phase == Phase::TimedOut {
            return Poll::Ready(Err(timed_out_error()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if matches!(this.phase, Phase::Header(_) | Phase::Idle) {
                    this.observe(&buf.filled()[before..]);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.timed_out(cx) => Poll::Ready(Err(timed_out_error())),
            other => other,
        }
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Connection<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.wrote(buf);
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
            this.wrote(first);
        }
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

impl<Io> Connection<Io> {
    /// A response is being written: the request is over (an interim `100 Continue` aside),
    /// and the next byte read starts the next one.
    fn wrote(&mut self, buf: &[u8]) {
        if self.phase == Phase::Body && !buf.starts_with(b"HTTP/1.1 100 ") {
            self.phase = Phase::Idle;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-at-a-time reading the scan replaced: the reference it is checked against.
    fn reference(scan: &mut HeaderScan, bytes: &[u8]) -> Scanned {
        for &byte in bytes {
            if (scan.preface as usize) < H2_PREFACE.len() {
                if byte == H2_PREFACE[scan.preface as usize] {
                    scan.preface += 1;
                    if scan.preface as usize == H2_PREFACE.len() {
                        return Scanned::Http2;
                    }
                } else {
                    scan.preface = H2_PREFACE.len() as u8;
                }
            }
            if !scan.started {
                scan.started = byte != b'\r' && byte != b'\n';
                continue;
            }
            scan.matched = next_matched(scan.matched, byte);
            if scan.matched as usize == HEADER_END.len() {
                return Scanned::End;
            }
        }
        Scanned::Header
    }

    #[test]
    fn the_scan_reads_every_split_of_a_header_as_the_byte_loop_does() {
        let inputs: &[&[u8]] = &[
            b"POST /api/infrastructure/find HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
            b"\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: b\r\r\n\r\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: \r\n\rb\r\n\n\r\n\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            b"PRI * HTTP/1.1\r\n\r\n",
            b"\r\n",
            b"x\r\n\r",
        ];
        for input in inputs {
            for first in [HeaderScan::FIRST, HeaderScan::NEXT] {
                // Every way of cutting the input in up to three reads.
                for a in 0..=input.len() {
                    for b in a..=input.len() {
                        let (mut fast, mut slow) = (first, first);
                        for part in [&input[..a], &input[a..b], &input[b..]] {
                            let (f, s) = (fast.feed(part), reference(&mut slow, part));
                            assert_eq!(
                                f,
                                s,
                                "{:?} cut at {a}, {b}",
                                String::from_utf8_lossy(input)
                            );
                            if f != Scanned::Header {
                                break;
                            }
                            assert_eq!(
                                fast,
                                slow,
                                "{:?} cut at {a}, {b}",
                                String::from_utf8_lossy(input)
                            );
                        }
                    }
                }
            }
        }
    }
}
