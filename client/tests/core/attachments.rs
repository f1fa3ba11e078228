//! Attachments from a device: written offline and sent exactly once after a restart, resumed
//! after the client is killed mid-upload, refused before upload by the server's published
//! limits, and never holding back a later text when the server refuses one.

use std::io::Cursor;
use std::time::Duration;

use tutorchat_shared::app::{AppEvent, DeliveryState};
use tutorchat_shared::{ErrorCode, MessageKind};

use crate::harness::{
    cli, cli_command, eventually, said, signed_in, wait_event, TestServer, ADA, PASSWORD, SAM,
    SAM_ADA,
};

fn png(w: u32, h: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 200]));
    let mut out = Cursor::new(Vec::new());
    picture
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// A PDF-shaped file of `len` bytes.
fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n".to_vec();
    bytes.resize(len, b' ');
    bytes
}

/// The messages after the demo history of Sam and Ada's chat, as the server has them.
async fn server_messages(server: &TestServer) -> Vec<serde_json::Value> {
    let ada = server.token(ADA).await;
    let page = server
        .rest(
            reqwest::Method::GET,
            &format!("/api/chats/{}/messages?after_seq=122&limit=200", SAM_ADA.0),
            &ada,
            None,
        )
        .await;
    page["messages"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_attached_offline_survives_a_restart_and_arrives_once_with_its_thumbnail() {
    let mut server = TestServer::started(&[]).await;
    let url = server.url();
    let files = tempfile::tempdir().expect("dir");
    let picture = files.path().join("graph.png");
    std::fs::write(&picture, png(640, 480)).expect("write");
    let sam_dir = tempfile::tempdir().expect("dir");
    let login = cli(
        &url,
        sam_dir.path(),
        &["login", "--email", SAM, "--password", PASSWORD],
    );
    assert!(login.status.success(), "{}", said(&login));
    let synced = cli(&url, sam_dir.path(), &["sync"]);
    assert!(synced.status.success(), "{}", said(&synced));
    server.stop().await;

    // Offline: queued at once, by a process that then exits.
    let queued = cli(
        &url,
        sam_dir.path(),
        &[
            "send-file",
            "1",
            &picture.display().to_string(),
            "--caption",
            "my graph",
            "--wait",
            "1",
        ],
    );
    assert!(queued.status.success(), "{}", said(&queued));
    assert!(
        String::from_utf8_lossy(&queued.stdout).contains("queued"),
        "{}",
        said(&queued)
    );
    // The original may go: the cache has its own copy.
    std::fs::remove_file(&picture).expect("remove the original");

    server.start().await;
    let delivered = cli(&url, sam_dir.path(), &["sync", "--timeout", "30"]);
    assert!(delivered.status.success(), "{}", said(&delivered));
    let sent = server_messages(&server).await;
    assert_eq!(sent.len(), 1, "exactly once: {sent:?}");
    assert_eq!(sent[0]["kind"], "image");
    assert_eq!(sent[0]["content"], "my graph");
    assert_eq!(sent[0]["attachment"]["name"], "graph.png");
    assert_eq!(sent[0]["attachment"]["width"], 640);
    // A second sync sends nothing more.
    let again = cli(&url, sam_dir.path(), &["sync"]);
    assert!(again.status.success(), "{}", said(&again));
    assert_eq!(server_messages(&server).await.len(), 1);

    // Ada's device gets the message and its thumbnail, which then shows offline.
    let ada_dir = tempfile::tempdir().expect("dir");
    let ada = signed_in(&url, ada_dir.path(), ADA).await;
    assert!(ada.wait_online(Duration::from_secs(10)).await);
    let page = ada.messages(SAM_ADA, None, 1).await.expect("page");
    let message = page.messages.last().expect("the image").clone();
    let attachment = message.attachment.clone().expect("an attachment");
    assert_eq!(
        (attachment.width, attachment.height),
        (Some(640), Some(480))
    );
    let id = attachment.id.clone().expect("uploaded");
    eventually("the thumbnail to be cached", || async {
        ada.thumbnail(Some(&id), &message.client_id)
            .await
            .ok()
            .flatten()
            .is_some()
    })
    .await;
    server.stop().await;
    let offline = ada
        .thumbnail(Some(&id), &message.client_id)
        .await
        .expect("from the cache")
        .expect("a thumbnail");
    let thumb = image::load_from_memory(&offline).expect("a JPEG");
    assert_eq!((thumb.width(), thumb.height()), (320, 240));
    ada.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_killed_mid_upload_resumes_and_the_file_arrives_once() {
    let server = TestServer::started(&[]).await;
    let url = server.url();
    let files = tempfile::tempdir().expect("dir");
    let big = files.path().join("exercises.pdf");
    let size = 24 * 1024 * 1024;
    std::fs::write(&big, pdf(size)).expect("write");
    let dir = tempfile::tempdir().expect("dir");
    let login = cli(
        &url,
        dir.path(),
        &["login", "--email", SAM, "--password", PASSWORD],
    );
    assert!(login.status.success(), "{}", said(&login));

    let mut child = cli_command(
        &url,
        dir.path(),
        &["send-file", "1", &big.display().to_string(), "--wait", "60"],
    )
    .stdout(std::process::Stdio::null())
    .spawn()
    .expect("the CLI starts");
    // Kill it once the server holds part of the file.
    let partials = server.dir.path().join("uploads");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let held = loop {
        let held: u64 = std::fs::read_dir(&partials)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        if held > 0 {
            break held;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the upload never started"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(held < size as u64, "killed before the upload finished");

    let resumed = cli(&url, dir.path(), &["sync", "--timeout", "60"]);
    assert!(resumed.status.success(), "{}", said(&resumed));
    let sent = server_messages(&server).await;
    assert_eq!(sent.len(), 1, "exactly once: {sent:?}");
    assert_eq!(sent[0]["kind"], "file");
    assert_eq!(sent[0]["attachment"]["size"], size);
    assert_eq!(sent[0]["attachment"]["mime"], "application/pdf");
    // The content is whole.
    let ada = server.token(ADA).await;
    let id = sent[0]["attachment"]["id"].as_str().expect("id");
    let body = reqwest::Client::new()
        .get(format!("{url}/api/attachments/{id}"))
        .bearer_auth(&ada)
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(body.len(), size);
    assert!(body.starts_with(b"%PDF-1.4"));

    // Ada's device downloads it into its cache, saying how far it got.
    let ada_dir = tempfile::tempdir().expect("dir");
    let ada_device = signed_in(&url, ada_dir.path(), ADA).await;
    assert!(ada_device.wait_online(Duration::from_secs(10)).await);
    let mut events = ada_device.events();
    let attachment = tutorchat_shared::AttachmentId::new(id);
    let cached = ada_device.download(&attachment).await.expect("download");
    assert_eq!(
        std::fs::metadata(&cached).expect("cached").len(),
        size as u64
    );
    wait_event(&mut events, "the download's last progress", |e| {
        matches!(e, AppEvent::DownloadProgress { received, total, .. } if *received == size as u64 && *total == size as u64)
    })
    .await;
    // A second time it is already here.
    assert_eq!(
        ada_device.download(&attachment).await.expect("cached"),
        cached
    );
    ada_device.close().await;

    // And Sam's CLI saves it from the cache it kept when sending.
    let out = files.path().join("copy.pdf");
    let message = sent[0]["id"].as_i64().expect("message id").to_string();
    let saved = cli(
        &url,
        dir.path(),
        &["download", &message, "--out", &out.display().to_string()],
    );
    assert!(saved.status.success(), "{}", said(&saved));
    assert_eq!(std::fs::metadata(&out).expect("saved").len(), size as u64);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_upload_fails_with_its_reason_and_does_not_hold_back_a_later_text() {
    let mut server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    let files = tempfile::tempdir().expect("dir");
    let picture = files.path().join("photo.png");
    std::fs::write(&picture, png(32, 32)).expect("write");
    // This device knows the server took images; it no longer does when it returns.
    server.stop().await;
    server.set_extra(&["--upload-types", "application/pdf"]);
    let mut events = sam.events();
    let image = sam
        .send_attachment(SAM_ADA, &picture, "")
        .await
        .expect("queued");
    assert_eq!(image.state, DeliveryState::Pending);
    assert_eq!(image.kind, MessageKind::Image);
    let text = sam
        .send(SAM_ADA, MessageKind::Text, "written after the photo")
        .await
        .expect("queued");
    server.start().await;
    sam.network_changed().await;
    wait_event(&mut events, "the text's ack", |e| {
        matches!(e, AppEvent::MessageUpserted { message } if message.client_id == text.client_id && message.state == DeliveryState::Sent)
    })
    .await;
    eventually("the photo to fail", || async {
        sam.outbox().await.expect("outbox").iter().any(|m| {
            m.client_id == image.client_id
                && m.failure
                    .as_ref()
                    .is_some_and(|f| f.code == ErrorCode::UnsupportedMediaType)
        })
    })
    .await;
    let contents: Vec<_> = server_messages(&server)
        .await
        .iter()
        .map(|m| m["content"].clone())
        .collect();
    assert_eq!(contents, ["written after the photo"]);
    assert!(sam.discard(&image.client_id).await.expect("discard"));
    assert!(sam.outbox().await.expect("outbox").is_empty());
    sam.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_over_the_published_limit_is_refused_before_anything_is_queued() {
    let server = TestServer::started(&["--max-upload-bytes", "1000"]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    let files = tempfile::tempdir().expect("dir");
    let big = files.path().join("big.pdf");
    std::fs::write(&big, pdf(2000)).expect("write");
    let refused = sam
        .send_attachment(SAM_ADA, &big, "")
        .await
        .expect_err("too large");
    assert_eq!(refused.code(), ErrorCode::PayloadTooLarge);
    assert!(refused.to_string().contains("1.0 KB"), "{refused}");
    let exe = files.path().join("notes.pdf");
    std::fs::write(&exe, b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0").expect("write");
    let wrong = sam
        .send_attachment(SAM_ADA, &exe, "")
        .await
        .expect_err("wrong type");
    assert_eq!(wrong.code(), ErrorCode::UnsupportedMediaType);
    assert!(sam.outbox().await.expect("outbox").is_empty());
    let outgoing = crate::harness::account_dir(dir.path()).join("outgoing");
    let copies = std::fs::read_dir(&outgoing).map(|d| d.count()).unwrap_or(0);
    assert_eq!(copies, 0, "no copy is left behind");
    sam.close().await;
}
