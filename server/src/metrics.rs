//! Prometheus metrics: what an operator watches to see the server is healthy and where time
//! goes. Served at `/metrics` — on `--metrics-listen` when set, else on the main address to
//! the admin token only (`Authorization: Bearer <admin token>`).
//!
//! Counters and histograms are updated where things happen; gauges that mirror live state
//! (connections, password work in flight) are read when scraped.

use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    Login,
    Refresh,
    Api,
    Messages,
    Frames,
    Passwords,
    ConnectionsPerUser,
    ConnectionsPerAddress,
    /// Sends refused because the store's writer was saturated.
    Saturated,
    /// Sends refused because work waited too long for the CPU (see `overload`).
    Overloaded,
}

impl Limit {
    fn as_str(self) -> &'static str {
        match self {
            Limit::Login => "login",
            Limit::Refresh => "refresh",
            Limit::Api => "api",
            Limit::Messages => "messages",
            Limit::Frames => "frames",
            Limit::Passwords => "passwords",
            Limit::ConnectionsPerUser => "connections_per_user",
            Limit::ConnectionsPerAddress => "connections_per_address",
            Limit::Saturated => "saturated",
            Limit::Overloaded => "overloaded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LimitLabel {
    kind: &'static str,
}

/// Every metric the server keeps. Cheap to update from any thread.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    websockets: Gauge,
    tcp_connections: Gauge,
    password_in_flight: Gauge,
    revoked_sessions: Gauge,
    messages_stored: Counter,
    commit_batch: Histogram,
    ack_seconds: Histogram,
    delivery_seconds: Histogram,
    slow_consumer_closes: Counter,
    refusals: Family<LimitLabel, Counter>,
    audit_suppressed: Counter,
}

/// What the scrape reads from live state.
#[derive(Debug, Clone, Copy, Default)]
pub struct Live {
    pub websockets: usize,
    pub password_in_flight: usize,
    pub revoked_sessions: usize,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tutorchat");
        let latency = || Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        let metrics = Metrics {
            registry: Registry::default(),
            websockets: Gauge::default(),
            tcp_connections: Gauge::default(),
            password_in_flight: Gauge::default(),
            revoked_sessions: Gauge::default(),
            messages_stored: Counter::default(),
            commit_batch: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            ack_seconds: latency(),
            delivery_seconds: latency(),
            slow_consumer_closes: Counter::default(),
            refusals: Family::default(),
            audit_suppressed: Counter::default(),
        };
        registry.register(
            "websockets_open",
            "Authenticated WebSocket connections open now",
            metrics.websockets.clone(),
        );
        registry.register(
            "tcp_connections_open",
            "TCP connections open now (HTTP and WebSocket)",
            metrics.tcp_connections.clone(),
        );
        registry.register(
            "password_verifications_in_flight",
            "Password hashes and verifications queued or running",
            metrics.password_in_flight.clone(),
        );
        registry.register(
            "revoked_sessions",
            "Signed-out sessions whose access tokens are refused until they expire",
            metrics.revoked_sessions.clone(),
        );
        registry.register(
            "messages_stored",
            "Messages durably stored",
            metrics.messages_stored.clone(),
        );
        registry.register(
            "commit_batch_jobs",
            "Writes folded into one durable commit",
            metrics.commit_batch.clone(),
        );
        registry.register(
            "ack_seconds",
            "From a send_message frame read to its message_ack written",
            metrics.ack_seconds.clone(),
        );
        registry.register(
            "delivery_seconds",
            "From a message's durable commit to its message_received written to a socket",
            metrics.delivery_seconds.clone(),
        );
        registry.register(
            "slow_consumer_closes",
            "Connections closed because their queue overflowed",
            metrics.slow_consumer_closes.clone(),
        );
        registry.register(
            "rate_limit_refusals",
            "Requests, frames and connections refused by a limit",
            metrics.refusals.clone(),
        );
        registry.register(
            "audit_denials_suppressed",
            "Access-denied audit rows not written because the caller was over its audit rate",
            metrics.audit_suppressed.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    pub fn message_stored(&self) {
        self.messages_stored.inc();
    }

    pub fn commit_batch(&self, jobs: usize) {
        self.commit_batch.observe(jobs as f64);
    }

    pub fn ack(&self, took: Duration) {
        self.ack_seconds.observe(took.as_secs_f64());
    }

    pub fn delivered(&self, took: Duration) {
        self.delivery_seconds.observe(took.as_secs_f64());
    }

    pub fn slow_consumer(&self) {
        self.slow_consumer_closes.inc();
    }

    pub fn refused(&self, limit: Limit) {
        self.refusals
            .get_or_create(&LimitLabel {
                kind: limit.as_str(),
            })
            .inc();
    }

    pub fn audit_suppressed(&self) {
        self.audit_suppressed.inc();
    }

    pub fn tcp_opened(&self) {
        self.tcp_connections.inc();
    }

    pub fn tcp_closed(&self) {
        self.tcp_connections.dec();
    }

    /// The text exposition format, with the live gauges read now.
    pub fn render(&self, live: Live) -> String {
        let gauge = |g: &Gauge, v: usize| g.set(i64::try_from(v).unwrap_or(i64::MAX));
        gauge(&self.websockets, live.websockets);
        gauge(&self.password_in_flight, live.password_in_flight);
        gauge(&self.revoked_sessions, live.revoked_sessions);
        let mut text = String::new();
        if let Err(e) = encode(&mut text, &self.registry) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        text
    }
}
