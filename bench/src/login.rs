//! Login under attack: what a login flood costs the server's memory, and whether the answer's
//! timing tells which emails have accounts.
//!
//! 1. Timing: `--rounds` logins alternating between a known email with a wrong password and
//!    unknown emails, one at a time; reports both medians and their ratio (1.0 is ideal; the
//!    check fails above `--max-ratio`).
//! 2. Flood: `--flood` logins at once from many loopback addresses; reports the server's RSS
//!    before, at the peak and after, and how many were answered `rate_limited`.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use serde_json::json;

use crate::setup::{self, Server, ADMIN_TOKEN};
use crate::stats::mib;
use crate::Target;

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Logins of each kind (known email, unknown email) for the timing comparison.
    #[arg(long, default_value_t = 60)]
    rounds: usize,
    /// Fail when the slower median exceeds the faster by more than this factor.
    #[arg(long, default_value_t = 1.25)]
    max_ratio: f64,
    /// Concurrent logins in the flood.
    #[arg(long, default_value_t = 400)]
    flood: usize,
}

pub async fn run(target: &Target, args: LoginArgs) -> anyhow::Result<()> {
    let server = Server::start(target, &["--login-rate-per-minute", "0"]).await?;
    let http = reqwest::Client::new();
    let user = json!({"users": [{
        "id": "bl-1", "email": "known@bench.test", "name": "Known", "role": "student",
        "password": "the-right-password"
    }]});
    let resp = http
        .post(format!("{}/api/admin/import", server.base))
        .bearer_auth(ADMIN_TOKEN)
        .json(&user)
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!(
            "provisioning failed: {}",
            resp.text().await.unwrap_or_default()
        );
    }

    let mut known = Vec::with_capacity(args.rounds);
    let mut unknown = Vec::with_capacity(args.rounds);
    for i in 0..args.rounds {
        known.push(login_time(&http, &server.base, "known@bench.test").await?);
        let email = format!("nobody-{i}@bench.test");
        unknown.push(login_time(&http, &server.base, &email).await?);
    }
    let (k, u) = (median(&mut known), median(&mut unknown));
    let ratio = k.max(u).as_secs_f64() / k.min(u).as_secs_f64().max(1e-9);
    println!(
        "login timing: known email, wrong password median {:.1} ms · unknown email median {:.1} ms · ratio {ratio:.2}",
        k.as_secs_f64() * 1e3,
        u.as_secs_f64() * 1e3
    );

    let before = setup::rss_bytes(server.pid).unwrap_or(0);
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
    let watcher = {
        let (peak, pid) = (peak.clone(), server.pid);
        tokio::spawn(async move {
            loop {
                if let Some(rss) = setup::rss_bytes(pid) {
                    peak.fetch_max(rss, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..args.flood {
        let base = server.base.clone();
        // Spread over 16 loopback addresses, as many attackers would.
        let source = std::net::IpAddr::from([127, 0, 1, (i % 16) as u8 + 1]);
        tasks.spawn(async move {
            let http = reqwest::Client::builder().local_address(source).build()?;
            let resp = http
                .post(format!("{base}/api/auth/login"))
                .json(&json!({"email": format!("flood-{i}@bench.test"), "password": "x"}))
                .send()
                .await?;
            anyhow::Ok(resp.status().as_u16())
        });
    }
    let (mut refused, mut answered) = (0, 0);
    while let Some(status) = tasks.join_next().await {
        match status?? {
            429 => refused += 1,
            _ => answered += 1,
        }
    }
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    watcher.abort();
    let after = setup::rss_bytes(server.pid).unwrap_or(0);
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "login flood: {} logins at once in {:.1} s ({answered} checked, {refused} refused rate_limited) · server RSS before {} · peak {} · after {}",
        args.flood,
        took.as_secs_f64(),
        mib(before),
        mib(peak),
        mib(after)
    );
    if ratio > args.max_ratio {
        bail!(
            "login timing differs by {ratio:.2}× (more than {})",
            args.max_ratio
        );
    }
    Ok(())
}

async fn login_time(http: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let resp = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": email, "password": "wrong-password"}))
        .send()
        .await
        .context("login")?;
    let status = resp.status().as_u16();
    resp.bytes().await?;
    if status != 401 {
        bail!("expected 401 for a wrong password, got {status}");
    }
    Ok(started.elapsed())
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}
