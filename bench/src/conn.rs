//! Opening many authenticated WebSockets: small client buffers, source addresses spread over
//! 127.0.0.x once one address's ephemeral ports would run out, bounded handshake concurrency.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use futures_util::StreamExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub type Socket = WebSocketStream<TcpStream>;

/// Sockets per source address (the ephemeral range holds about 28,000, and sockets of an
/// earlier run may still sit in TIME_WAIT).
const PER_SOURCE: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Connector {
    server: SocketAddr,
    url: String,
    sources: u8,
    /// Second octet of the source addresses: different for every run, so sockets an earlier
    /// run left in TIME_WAIT never collide with this one's.
    subnet: u8,
    gate: Arc<Semaphore>,
}

impl Connector {
    pub fn new(
        base: &str,
        sockets: usize,
        sources: u8,
        concurrency: usize,
    ) -> anyhow::Result<Self> {
        let hostport = base.trim_start_matches("http://");
        let server: SocketAddr = hostport.parse().context("server address")?;
        let needed = u8::try_from(sockets / PER_SOURCE + 1).unwrap_or(u8::MAX);
        let sources = if sources == 0 { needed } else { sources }.max(1);
        Ok(Self {
            server,
            url: format!("ws://{hostport}/ws"),
            sources,
            subnet: run_subnet(),
            gate: Arc::new(Semaphore::new(concurrency.max(1))),
        })
    }

    /// Connects socket number `n` as the holder of `token` and waits for `ready`.
    pub async fn connect(&self, n: usize, token: &str) -> anyhow::Result<Socket> {
        let _permit = self.gate.acquire().await?;
        let source = 1 + (n % usize::from(self.sources));
        let local = Ipv4Addr::new(127, self.subnet, 0, u8::try_from(source).unwrap_or(1));
        let tcp = TcpSocket::new_v4()?;
        tcp.bind(SocketAddr::new(IpAddr::V4(local), 0))?;
        let stream = tcp.connect(self.server).await.context("tcp connect")?;
        stream.set_nodelay(true)?;
        let mut request = self.url.as_str().into_client_request()?;
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0);
        let (mut socket, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
        match socket.next().await {
            Some(Ok(Message::Text(text))) if text.contains("\"ready\"") => Ok(socket),
            other => anyhow::bail!("expected ready, got {other:?}"),
        }
    }
}

/// A second octet in 1..=254 that differs from run to run (loopback is all of 127.0.0.0/8).
fn run_subnet() -> u8 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    u8::try_from(nanos % 254).unwrap_or(0) + 1
}
