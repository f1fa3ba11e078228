//! Attachments: resumable, idempotent uploads; type by content; images re-encoded without
//! metadata, within a pixel limit; size limit and quota; who may download; ranges and the
//! headers that keep a browser from running anything; sending an upload exactly once.

use std::io::Cursor;

use reqwest::Method;
use serde_json::{json, Value};
use tutorchat_shared::api::UploadStatus;

use crate::testing::*;

/// A real PNG of `w`×`h` pixels.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 128]));
    let mut out = Cursor::new(Vec::new());
    picture
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// A real JPEG carrying an EXIF block (orientation, and a "GPS" marker string after it).
fn jpeg_with_exif(marker: &str) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut plain = Cursor::new(Vec::new());
    picture
        .write_to(&mut plain, image::ImageFormat::Jpeg)
        .expect("encode jpeg");
    let plain = plain.into_inner();
    // APP1: "Exif\0\0", a little-endian TIFF header, one IFD entry (orientation = 1), then
    // the marker standing in for GPS coordinates.
    let mut exif =
        b"Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x01\0\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(marker.as_bytes());
    let len = u16::try_from(exif.len() + 2).expect("small segment");
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    out
}

pub const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

impl TestServer {
    pub async fn start_upload(
        &self,
        token: &str,
        upload_id: &str,
        name: &str,
        size: usize,
    ) -> Reply {
        self.post(
            token,
            "/api/uploads",
            json!({"upload_id": upload_id, "name": name, "size": size}),
        )
        .await
    }

    pub async fn append(&self, token: &str, upload_id: &str, offset: usize, bytes: &[u8]) -> Reply {
        let resp = self
            .http
            .patch(self.url(&format!("/api/uploads/{upload_id}")))
            .bearer_auth(token)
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .expect("request reaches the server");
        Reply::from_response(resp).await
    }

    /// Uploads `bytes` in one request; the finished status.
    pub async fn upload(&self, token: &str, upload_id: &str, name: &str, bytes: &[u8]) -> Reply {
        self.start_upload(token, upload_id, name, bytes.len())
            .await
            .assert_ok();
        self.append(token, upload_id, 0, bytes).await
    }

    /// The attachment id of a finished upload.
    pub async fn attachment(
        &self,
        token: &str,
        upload_id: &str,
        name: &str,
        bytes: &[u8],
    ) -> String {
        let reply = self.upload(token, upload_id, name, bytes).await;
        reply.assert_ok();
        reply.body["attachment"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no attachment in {}", reply.body))
            .to_owned()
    }

    pub async fn send_attachment(
        &self,
        token: &str,
        chat: i64,
        client_id: &str,
        kind: &str,
        attachment: &str,
    ) -> Reply {
        self.post(
            token,
            &format!("/api/chats/{chat}/messages"),
            json!({"client_id": client_id, "kind": kind, "attachment_id": attachment,
                   "content": "see attached"}),
        )
        .await
    }

    pub async fn download(
        &self,
        token: Option<&str>,
        path: &str,
        range: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let mut req = self.http.get(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(range) = range {
            req = req.header("Range", range);
        }
        let resp = req.send().await.expect("request reaches the server");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.bytes().await.expect("body").to_vec())
    }

    fn blob_files(&self) -> usize {
        walk(&self.dir.path().join("blobs"))
    }
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .map_while(Result::ok)
            .map(|e| {
                if e.path().is_dir() {
                    walk(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

#[tokio::test]
async fn an_image_upload_resumes_from_the_servers_offset_and_is_sent_with_its_metadata() {
    let server = TestServer::start().await;
    let (sam, ada) = (server.token(SAM).await, server.token(ADA).await);
    let bytes = png(640, 480);
    let half = bytes.len() / 2;
    let started = server
        .start_upload(&sam, "up-1", "graph.png", bytes.len())
        .await;
    started.assert_status(201);
    assert_eq!(started.json::<UploadStatus>().offset, 0);
    server
        .append(&sam, "up-1", 0, &bytes[..half])
        .await
        .assert_ok();
    // Resuming from the wrong place is refused with where to resume.
    let wrong = server.append(&sam, "up-1", 0, &bytes[half..]).await;
    wrong.assert_error(409, "upload_offset_mismatch");
    assert_eq!(wrong.body["upload_offset"], json!(half));
    // Asking again answers the same upload, where it stands.
    let again = server
        .start_upload(&sam, "up-1", "graph.png", bytes.len())
        .await;
    again.assert_status(200);
    assert_eq!(again.json::<UploadStatus>().offset, half as u64);
    let done = server.append(&sam, "up-1", half, &bytes[half..]).await;
    done.assert_ok();
    let status: UploadStatus = done.json();
    let attachment = status.attachment.expect("finished");
    assert_eq!(
        (
            attachment.mime.as_str(),
            attachment.width,
            attachment.height,
            attachment.thumbnail
        ),
        ("image/png", Some(640), Some(480), true)
    );
    // The whole file again stores nothing new.
    let blobs = server.blob_files();
    let repeat = server.append(&sam, "up-1", 0, &bytes).await;
    assert_eq!(
        repeat.json::<UploadStatus>().attachment.as_ref(),
        Some(&attachment)
    );
    assert_eq!(server.blob_files(), blobs);

    let sent = server
        .send_attachment(&sam, SAM_ADA_CHAT, "m-img", "image", attachment.id.as_str())
        .await;
    sent.assert_ok();
    assert_eq!(sent.body["message"]["kind"], "image");
    assert_eq!(
        sent.body["message"]["attachment"]["id"],
        attachment.id.as_str()
    );
    let page = server.page(&ada, SAM_ADA_CHAT, "limit=1").await;
    let newest = &page.body["messages"][0];
    assert_eq!(newest["attachment"]["width"], 640);
    assert_eq!(newest["content"], "see attached");
    let list = server.get(&ada, "/api/chats").await;
    assert_eq!(
        list.body["chats"][0]["last_message"]["attachment"]["name"], "graph.png",
        "{}",
        list.body
    );
    let (code, headers, thumb) = server
        .download(
            Some(&ada),
            &format!("/api/attachments/{}/thumbnail", attachment.id),
            None,
        )
        .await;
    assert_eq!(
        (code, &headers["content-type"]),
        (200, &"image/jpeg".parse().expect("hv"))
    );
    let thumb = image::load_from_memory(&thumb).expect("a thumbnail is a JPEG");
    assert_eq!((thumb.width(), thumb.height()), (320, 240));
}

#[tokio::test]
async fn exif_and_gps_are_gone_from_a_stored_jpeg() {
    let server = TestServer::start().await;
    let sam = server.token(SAM).await;
    let marker = "GPS 51.5007N 0.1246W secret";
    let original = jpeg_with_exif(marker);
    assert!(contains(&original, b"Exif") && contains(&original, marker.as_bytes()));
    let id = server
        .attachment(&sam, "exif", "photo.jpg", &original)
        .await;
    let (code, _, stored) = server
        .download(Some(&sam), &format!("/api/attachments/{id}"), None)
        .await;
    assert_eq!(code, 200);
    assert!(!contains(&stored, b"Exif"), "an EXIF block was kept");
    assert!(
        !contains(&stored, marker.as_bytes()),
        "the GPS marker was kept"
    );
    let back = image::load_from_memory(&stored).expect("still a JPEG");
    assert_eq!((back.width(), back.height()), (64, 48));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn content_decides_the_type_so_a_lying_name_or_markup_is_refused_and_audited() {
    let server = TestServer::start().await;
    let sam = server.token(SAM).await;
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
    elf.resize(4096, 0);
    let refused = server.upload(&sam, "evil", "cat.png", &elf).await;
    refused.assert_error(415, "unsupported_media_type");
    assert!(refused.body["message"]
        .as_str()
        .is_some_and(|m| m.contains("cat.png")));
    // Gone: its quota is back and it cannot be sent.
    server
        .get(&sam, "/api/uploads/evil")
        .await
        .assert_error(404, "not_found");
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    server
        .upload(&sam, "svg", "drawing.svg", svg)
        .await
        .assert_error(415, "unsupported_media_type");
    let audit = server.audit("upload_refused").await;
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(
        audit[0].actor_id.as_ref().map(|u| u.as_str()),
        Some("s-sam")
    );

    // A named .exe that is really a PDF is a PDF; plain text is text.
    let pdf = server.upload(&sam, "pdf", "setup.exe", PDF).await;
    assert_eq!(pdf.body["attachment"]["mime"], "application/pdf");
    let txt = server
        .upload(&sam, "txt", "notes", "week 3: ownership ✓\n".as_bytes())
        .await;
    assert_eq!(txt.body["attachment"]["mime"], "text/plain");
}

#[tokio::test]
async fn uploads_over_the_size_limit_or_the_quota_are_refused_before_a_byte_is_sent() {
    let server =
        TestServer::start_with(&["--max-upload-bytes", "1000", "--upload-quota-bytes", "1500"])
            .await;
    let sam = server.token(SAM).await;
    server
        .start_upload(&sam, "big", "big.pdf", 1001)
        .await
        .assert_error(413, "payload_too_large");
    let mut pdf = PDF.to_vec();
    pdf.resize(800, b' ');
    server.upload(&sam, "one", "a.pdf", &pdf).await.assert_ok();
    server
        .start_upload(&sam, "two", "b.pdf", 800)
        .await
        .assert_error(413, "quota_exceeded");
    // More bytes than announced: refused, and nothing of that request kept.
    server
        .start_upload(&sam, "liar", "c.pdf", 100)
        .await
        .assert_ok();
    server
        .append(&sam, "liar", 0, &pdf[..300])
        .await
        .assert_error(413, "payload_too_large");
    assert_eq!(
        server
            .get(&sam, "/api/uploads/liar")
            .await
            .json::<UploadStatus>()
            .offset,
        0
    );
    assert_eq!(server.audit("upload_refused").await.len(), 2);
    let config: Value = server
        .request(Method::GET, "/api/config", None, None)
        .await
        .body;
    assert_eq!(config["uploads"]["max_bytes"], 1000);
    assert_eq!(config["uploads"]["quota_bytes"], 1500);
    assert!(config["uploads"]["image_types"]
        .as_array()
        .is_some_and(|t| t.contains(&json!("image/png"))));
}

#[tokio::test]
async fn only_members_of_the_chat_it_was_sent_in_may_download_an_attachment() {
    let server = TestServer::start().await;
    let sam = server.token(SAM).await;
    let (ada, maya, alan) = (
        server.token(ADA).await,
        server.token(MAYA).await,
        server.token(ALAN).await,
    );
    let id = server.attachment(&sam, "doc", "homework.pdf", PDF).await;
    let path = format!("/api/attachments/{id}");
    // Before it is sent only its uploader sees it.
    assert_eq!(server.download(Some(&sam), &path, None).await.0, 200);
    assert_eq!(server.download(Some(&ada), &path, None).await.0, 404);
    server
        .send_attachment(&sam, SAM_ADA_CHAT, "m-doc", "file", &id)
        .await
        .assert_ok();
    assert_eq!(server.download(Some(&ada), &path, None).await.0, 200);
    // Maya shares Ada as a tutor, Alan teaches Sam's course: neither is in that chat.
    let unknown = server
        .download(
            Some(&maya),
            "/api/attachments/0123456789abcdef0123456789abcdef",
            None,
        )
        .await;
    for outsider in [&maya, &alan] {
        let (code, _, body) = server.download(Some(outsider), &path, None).await;
        assert_eq!(
            (code, &body),
            (404, &unknown.2),
            "the same answer as no such attachment"
        );
    }
    assert_eq!(server.download(None, &path, None).await.0, 401);
    assert_eq!(
        server
            .download(Some(&maya), &format!("{path}/thumbnail"), None)
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn downloads_take_ranges_and_carry_headers_that_run_nothing() {
    let server = TestServer::start().await;
    let sam = server.token(SAM).await;
    let id = server
        .attachment(&sam, "doc", "Übung 3 \"final\".pdf", PDF)
        .await;
    let path = format!("/api/attachments/{id}");
    let (code, headers, body) = server.download(Some(&sam), &path, None).await;
    assert_eq!((code, body.as_slice()), (200, PDF));
    let header = |name: &str| headers[name].to_str().expect("ascii").to_owned();
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("content-type"), "application/pdf");
    assert!(header("content-security-policy").contains("default-src 'none'"));
    assert!(header("content-security-policy").contains("sandbox"));
    let disposition = header("content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%C3%9Cbung%203%20%22final%22.pdf"),
        "{disposition}"
    );
    assert_eq!(header("accept-ranges"), "bytes");

    let (code, headers, body) = server.download(Some(&sam), &path, Some("bytes=0-3")).await;
    assert_eq!((code, body.as_slice()), (206, &b"%PDF"[..]));
    assert_eq!(
        headers["content-range"],
        format!("bytes 0-3/{}", PDF.len()).as_str()
    );
    let (code, _, body) = server.download(Some(&sam), &path, Some("bytes=-6")).await;
    assert_eq!((code, body.as_slice()), (206, &b"%%EOF\n"[..]));
    let (code, headers, _) = server
        .download(Some(&sam), &path, Some("bytes=9999-"))
        .await;
    assert_eq!(code, 416);
    assert_eq!(
        headers["content-range"],
        format!("bytes */{}", PDF.len()).as_str()
    );

    let image = server.attachment(&sam, "pic", "a.png", &png(8, 8)).await;
    let (_, headers, _) = server
        .download(Some(&sam), &format!("/api/attachments/{image}"), None)
        .await;
    assert!(headers["content-disposition"]
        .to_str()
        .expect("ascii")
        .starts_with("inline;"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn an_upload_is_sent_once_and_only_by_its_uploader() {
    let server = TestServer::start().await;
    let (sam, ada) = (server.token(SAM).await, server.token(ADA).await);
    let id = server.attachment(&sam, "doc", "a.pdf", PDF).await;
    server
        .send_attachment(&ada, SAM_ADA_CHAT, "m-steal", "file", &id)
        .await
        .assert_error(422, "attachment_unavailable");
    let first = server
        .send_attachment(&sam, SAM_ADA_CHAT, "m-1", "file", &id)
        .await;
    first.assert_ok();
    // The same send again is the same message; another message cannot carry it too.
    let retry = server
        .send_attachment(&sam, SAM_ADA_CHAT, "m-1", "file", &id)
        .await;
    assert_eq!(retry.body["message"], first.body["message"]);
    assert_eq!(retry.body["duplicate"], true);
    server
        .send_attachment(&sam, SAM_ADA_CHAT, "m-2", "file", &id)
        .await
        .assert_error(422, "attachment_unavailable");
    // Unfinished, or a PDF claimed to be an image.
    server
        .start_upload(&sam, "half", "b.pdf", 100)
        .await
        .assert_ok();
    let half = server.get(&sam, "/api/uploads/half").await;
    assert_eq!(half.body["attachment"], Value::Null);
    let pdf = server.attachment(&sam, "pdf2", "c.pdf", PDF).await;
    let as_image = server
        .send_attachment(&sam, SAM_ADA_CHAT, "m-3", "image", &pdf)
        .await;
    assert_eq!(
        as_image.body["message"]["kind"], "file",
        "a PDF is never shown as an image"
    );
    // No attachment on a text, none missing on a file.
    server
        .post(
            &sam,
            &format!("/api/chats/{SAM_ADA_CHAT}/messages"),
            json!({"client_id": "m-4", "kind": "file", "content": "x"}),
        )
        .await
        .assert_invalid("attachment_id");
}

#[tokio::test]
async fn uploads_never_sent_are_removed_and_sent_ones_kept() {
    let server = TestServer::start_with(&["--unsent-upload-ttl-secs", "1"]).await;
    let sam = server.token(SAM).await;
    let kept = server.attachment(&sam, "kept", "a.pdf", PDF).await;
    server
        .send_attachment(&sam, SAM_ADA_CHAT, "m-kept", "file", &kept)
        .await
        .assert_ok();
    let mut other = PDF.to_vec();
    other.extend_from_slice(b"% another\n");
    server.attachment(&sam, "dropped", "b.pdf", &other).await;
    assert_eq!(server.blob_files(), 2);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while server.get(&sam, "/api/uploads/dropped").await.status != 404 {
        assert!(
            std::time::Instant::now() < deadline,
            "the unsent upload was never removed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        server.blob_files(),
        1,
        "the dropped upload's content is gone, not the sent one's"
    );
    assert_eq!(
        server
            .download(Some(&sam), &format!("/api/attachments/{kept}"), None)
            .await
            .0,
        200
    );
}

/// The process's peak resident memory so far, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header announces `side`×`side` grey pixels (its data would inflate to that).
fn bomb_png(side: u32) -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = u32::try_from(data.len())
            .expect("small")
            .to_be_bytes()
            .to_vec();
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        c.extend_from_slice(&body);
        c.extend_from_slice(&crc32(&body).to_be_bytes());
        c
    };
    let mut ihdr = side.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    // zlib: one stored block of a zero filter byte and zeros (the rest never comes).
    let row = vec![0u8; 1024];
    let mut idat = vec![0x78, 0x01, 0x01];
    idat.extend_from_slice(&u16::try_from(row.len()).expect("small").to_le_bytes());
    idat.extend_from_slice(&(!u16::try_from(row.len()).expect("small")).to_le_bytes());
    idat.extend_from_slice(&row);
    idat.extend_from_slice(&1024u32.to_be_bytes()); // adler32 of 1024 zeros: a=1, b=1024
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &idat));
    png.extend(chunk(b"IEND", &[]));
    png
}

#[tokio::test]
async fn a_body_past_its_size_and_a_decompression_bomb_are_refused_with_flat_memory() {
    const MIB: usize = 1024 * 1024;
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().display().to_string();
    let process = ServerProcess::spawn(&[
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &data_dir,
        "--jwt-secret",
        "x",
        "--log",
        "warn",
    ]);
    let server = TestServer::attach(&process.base);
    let sam = process.login(SAM).await.access_token;
    let before = peak_rss_kib(process.pid());

    // Announced at the 25 MiB limit, then 100 MiB streamed (chunked: no length to refuse).
    server
        .start_upload(&sam, "flood", "big.pdf", 25 * MIB)
        .await
        .assert_ok();
    let chunks = (0..100).map(|i| {
        let mut chunk = vec![b' '; MIB];
        if i == 0 {
            chunk[..5].copy_from_slice(b"%PDF-");
        }
        Ok::<_, std::io::Error>(chunk)
    });
    let answer = server
        .http
        .patch(server.url("/api/uploads/flood"))
        .bearer_auth(&sam)
        .header("Upload-Offset", "0")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    if let Ok(resp) = answer {
        // The server may close before the client has sent everything; if it answers, it
        // refuses.
        assert_eq!(resp.status().as_u16(), 413);
    }
    let after_flood = peak_rss_kib(process.pid());
    let status = server
        .get(&sam, "/api/uploads/flood")
        .await
        .json::<UploadStatus>();
    assert_eq!(status.offset, 0, "a refused request keeps nothing");

    let bomb = bomb_png(60_000);
    let refused = server.upload(&sam, "bomb", "bomb.png", &bomb).await;
    refused.assert_error(413, "payload_too_large");
    assert!(refused.body["message"]
        .as_str()
        .is_some_and(|m| m.contains("60000×60000")));

    // Buffering what was refused would have taken at least the 25 MiB kept out (the 100 MiB
    // body, the 3.6 GB picture); the streaming path and a header read take a few MiB.
    let flood_mib = (after_flood - before) / 1024;
    let bomb_mib = (peak_rss_kib(process.pid()) - after_flood) / 1024;
    assert!(
        flood_mib < 25,
        "the server's peak memory grew by {flood_mib} MiB on the flood"
    );
    assert!(
        bomb_mib < 25,
        "the server's peak memory grew by {bomb_mib} MiB on the bomb"
    );
}
