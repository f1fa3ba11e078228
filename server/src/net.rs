//! The listener's defences: what one peer may hold open, and how long it may take.
//!
//! Each accepted TCP connection is counted against its address while it lives (an upgraded
//! WebSocket included); an address over the cap has its new connection closed at once, before
//! any byte is read, so one peer cannot take the process's file descriptors. Header-read and
//! idle timeouts are hyper's (set in `Server::start`); the request timeout is a middleware.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::locks::lock;
use crate::metrics::{Limit, Metrics};

/// Open connections per address, shared by every accepted stream.
#[derive(Debug)]
pub struct ConnectionLimits {
    /// 0: no cap.
    per_address: usize,
    /// A std mutex: held for an increment or decrement.
    open: Mutex<HashMap<IpAddr, usize>>,
    metrics: Arc<Metrics>,
    /// Set when the server shuts down: a connection still waiting for its first byte is
    /// dropped then, instead of holding the graceful shutdown for the whole timeout.
    closing: watch::Sender<bool>,
}

impl ConnectionLimits {
    pub fn new(per_address: usize, metrics: Arc<Metrics>) -> Arc<ConnectionLimits> {
        Arc::new(ConnectionLimits {
            per_address,
            open: Mutex::new(HashMap::new()),
            metrics,
            closing: watch::Sender::new(false),
        })
    }

    /// The server is shutting down: connections that have not spoken yet are dropped.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Counts a new connection from `ip`, or refuses it when the address is at its cap.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admission> {
        let mut open = lock(&self.open);
        let count = open.entry(ip).or_insert(0);
        if self.per_address > 0 && *count >= self.per_address {
            drop(open);
            self.metrics.refused(Limit::ConnectionsPerAddress);
            return None;
        }
        *count += 1;
        self.metrics.tcp_opened();
        Some(Admission {
            limits: self.clone(),
            ip,
        })
    }
}

/// One counted connection; uncounted when dropped.
#[derive(Debug)]
struct Admission {
    limits: Arc<ConnectionLimits>,
    ip: IpAddr,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut open = lock(&self.limits.open);
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
        self.limits.metrics.tcp_closed();
    }
}

/// The acceptor that admits or refuses each connection (TLS, when on, wraps around it), and
/// drops one that sends nothing within `first_byte`: hyper's header timeout starts only once
/// it reads a request, and the protocol sniffing before it (HTTP/1 or HTTP/2) would wait for
/// a silent peer forever.
#[derive(Debug, Clone)]
pub struct LimitAcceptor {
    limits: Arc<ConnectionLimits>,
    first_byte: Duration,
}

impl LimitAcceptor {
    pub fn new(limits: Arc<ConnectionLimits>, first_byte: Duration) -> LimitAcceptor {
        LimitAcceptor { limits, first_byte }
    }
}

impl<S: Send + 'static> Accept<TcpStream, S> for LimitAcceptor {
    type Stream = CountedStream;
    type Service = S;
    type Future = Pin<Box<dyn Future<Output = io::Result<(CountedStream, S)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let admitted = stream
            .peer_addr()
            .ok()
            .and_then(|peer| self.limits.admit(peer.ip()));
        let first_byte = self.first_byte;
        let mut closing = self.limits.closing.subscribe();
        Box::pin(async move {
            // Dropping the stream closes the connection.
            let admission = admitted
                .ok_or_else(|| io::Error::other("too many connections from this address"))?;
            // Every frame is written whole when it is ready: without this, Nagle's algorithm
            // held a second small frame (an ack, then a delivery) until the client acknowledged
            // the first — up to its delayed-ACK time.
            stream.set_nodelay(true)?;
            let mut byte = [0u8; 1];
            let first = tokio::select! {
                first = tokio::time::timeout(first_byte, stream.peek(&mut byte)) => first,
                _ = closing.wait_for(|closing| *closing) => {
                    return Err(io::Error::other("shutting down"));
                }
            };
            match first {
                Ok(Ok(n)) if n > 0 => Ok((
                    CountedStream {
                        stream,
                        _admission: admission,
                    },
                    service,
                )),
                Ok(Ok(_)) => Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(io::Error::from(io::ErrorKind::TimedOut)),
            }
        })
    }
}

/// A TCP stream that holds its address's count while it is open.
#[derive(Debug)]
pub struct CountedStream {
    stream: TcpStream,
    _admission: Admission,
}

impl AsyncRead for CountedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
