//! Uploads: throughput of many files uploaded at once (in the client core's chunk size) and
//! the server's resident memory while they stream — it must stay near its idle size whatever
//! the files' sizes, since nothing is buffered whole — then images through the decode /
//! re-encode / thumbnail pipeline: time per image and the memory its one worker takes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use serde_json::{json, Value};

use crate::setup::{self, Server};
use crate::stats::{mib, Latency};
use crate::Target;

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Files uploaded in all.
    #[arg(long, default_value_t = 24)]
    files: usize,
    /// Size of each file, in MiB.
    #[arg(long, default_value_t = 20)]
    size_mib: usize,
    /// Uploads at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Bytes per PATCH request, in KiB (the client core sends 512).
    #[arg(long, default_value_t = 512)]
    chunk_kib: usize,
    /// Photos put through the image pipeline afterwards (one at a time).
    #[arg(long, default_value_t = 4)]
    images: usize,
    /// Their size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "4000x3000")]
    image_px: String,
}

pub async fn run(target: &Target, args: UploadArgs) -> anyhow::Result<()> {
    let server = Server::start(target, &["--upload-quota-bytes", "1000000000000"]).await?;
    let chats = setup::provision(&server.base, 1, 0).await?;
    let student = chats.first().context("a bench chat")?.student.clone();
    let token = setup::token(&student, "student");
    let http = reqwest::Client::new();

    // Resident memory, sampled every 20 ms while uploads run.
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = {
        let (peak, pid) = (peak.clone(), server.pid);
        tokio::spawn(async move {
            loop {
                if let Some(rss) = setup::rss_bytes(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let size = args.size_mib * 1024 * 1024;
    let before = setup::rss_bytes(server.pid).unwrap_or(0);
    peak.store(before, Ordering::Relaxed);
    let gate = Arc::new(tokio::sync::Semaphore::new(args.concurrency.max(1)));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..args.files {
        let (http, base, token, gate) = (
            http.clone(),
            server.base.clone(),
            token.clone(),
            gate.clone(),
        );
        let chunk = args.chunk_kib * 1024;
        tasks.spawn(async move {
            let _permit = gate.acquire().await?;
            // Each file different, so content addressing stores every one.
            let bytes = pdf_like(size, i as u64);
            let began = Instant::now();
            upload(
                &http,
                &base,
                &token,
                &format!("bench-{i}"),
                "bench.pdf",
                &bytes,
                chunk,
            )
            .await?;
            anyhow::Ok(began.elapsed())
        });
    }
    let mut each = Latency::default();
    while let Some(took) = tasks.join_next().await {
        each.record(u64::try_from(took??.as_micros()).unwrap_or(u64::MAX));
    }
    let elapsed = started.elapsed();
    let streamed_peak = peak.load(Ordering::Relaxed);
    let total = (args.files * size) as f64;
    println!(
        "uploads: {} files of {} MiB, {} at once, {} KiB requests: {:.0} MiB/s ({:.1} s) · per file {} · server RSS before {} · peak {}",
        args.files,
        args.size_mib,
        args.concurrency,
        args.chunk_kib,
        total / (1024.0 * 1024.0) / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        each.summary(),
        mib(before),
        mib(streamed_peak),
    );

    if args.images > 0 {
        let (w, h) = args
            .image_px
            .split_once('x')
            .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
            .context("--image-px is WIDTHxHEIGHT")?;
        let photo = photo(w, h)?;
        let before = setup::rss_bytes(server.pid).unwrap_or(0);
        peak.store(before, Ordering::Relaxed);
        let mut times = Latency::default();
        for i in 0..args.images {
            // A different first pixel row per image: no two the same.
            let mut bytes = photo.clone();
            bytes.extend_from_slice(format!("{i}").as_bytes());
            let began = Instant::now();
            let done = upload(
                &http,
                &server.base,
                &token,
                &format!("photo-{i}"),
                "photo.jpg",
                &bytes,
                args.chunk_kib * 1024,
            )
            .await?;
            times.record(u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX));
            if done["attachment"]["thumbnail"] != true {
                bail!("no thumbnail for the photo: {done}");
            }
        }
        println!(
            "images: {} JPEGs of {w}×{h} ({}) uploaded, decoded, re-encoded and thumbnailed one at a time: per image {} · server RSS before {} · peak {}",
            args.images,
            mib(photo.len() as u64),
            times.summary(),
            mib(before),
            mib(peak.load(Ordering::Relaxed)),
        );
    }
    sampling.abort();
    Ok(())
}

/// Uploads `bytes` in `chunk`-sized requests; the finished status.
async fn upload(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    upload_id: &str,
    name: &str,
    bytes: &[u8],
    chunk: usize,
) -> anyhow::Result<Value> {
    let started = http
        .post(format!("{base}/api/uploads"))
        .bearer_auth(token)
        .json(&json!({"upload_id": upload_id, "name": name, "size": bytes.len()}))
        .send()
        .await?;
    if !started.status().is_success() {
        bail!(
            "starting an upload: {}",
            started.text().await.unwrap_or_default()
        );
    }
    let mut offset = 0;
    let mut last = Value::Null;
    while offset < bytes.len() {
        let end = (offset + chunk.max(1)).min(bytes.len());
        let resp = http
            .patch(format!("{base}/api/uploads/{upload_id}"))
            .bearer_auth(token)
            .header("Upload-Offset", offset.to_string())
            .body(bytes[offset..end].to_vec())
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("appending: {}", resp.text().await.unwrap_or_default());
        }
        last = resp.json().await?;
        offset = end;
    }
    Ok(last)
}

/// `len` bytes that sniff as a PDF, different for each `seed`.
fn pdf_like(len: usize, seed: u64) -> Vec<u8> {
    let mut bytes = format!("%PDF-1.4\n% bench file {seed}\n").into_bytes();
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while bytes.len() < len {
        // xorshift: cheap bytes that do not compress to nothing.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// A photo-like JPEG: gradients and noise, so it is as costly to code as a real one.
fn photo(w: u32, h: u32) -> anyhow::Result<Vec<u8>> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let picture = image::RgbImage::from_fn(w, h, |px, py| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let noise = (x & 0x1f) as u8;
        image::Rgb([
            ((px * 255 / w.max(1)) as u8).saturating_add(noise),
            ((py * 255 / h.max(1)) as u8).saturating_add(noise),
            (((px + py) % 256) as u8).saturating_add(noise),
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Jpeg)?;
    Ok(out.into_inner())
}
