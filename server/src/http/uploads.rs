//! Uploads and attachment downloads.
//!
//! An upload is resumable in the manner of tus: `POST /api/uploads` names it with the
//! device's own `upload_id` (the same id again answers the same upload), `PATCH
//! /api/uploads/{upload_id}` with `Upload-Offset` appends bytes at the offset the server
//! holds, `GET` says how far it got. Downloads answer members of the chat the attachment was
//! sent in (and its uploader) with headers that keep a browser from running anything.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tutorchat_shared::api::{NewUpload, UploadStatus};
use tutorchat_shared::{ApiError, AttachmentId, ErrorCode, UploadId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath};
use crate::attachments::IMAGE_TYPES;
use crate::auth::{ClientIp, CurrentUser};
use crate::error::{Error, Result};
use crate::service::uploads;
use crate::state::AppState;
use crate::store::UploadRecord;

/// The header naming where appended bytes start.
pub const UPLOAD_OFFSET: &str = "upload-offset";
const UPLOADS_PREFIX: &str = "/api/uploads/";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(status, append))
        .routes(routes!(download))
        .routes(routes!(thumbnail))
}

/// Whether a request appends to an upload (its body may be as large as an upload).
pub fn is_append(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::PATCH && path.starts_with(UPLOADS_PREFIX)
}

/// Start an upload (201), or learn where the caller's upload of this `upload_id` stands (200).
#[utoipa::path(post, path = "/api/uploads", tag = "attachments", security(("bearer" = [])),
    request_body = NewUpload,
    responses((status = 201, body = UploadStatus), (status = 200, description = "already started", body = UploadStatus),
        (status = 413, description = "over the size limit or the quota", body = ApiError)))]
async fn start(
    State(state): State<AppState>,
    me: CurrentUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<NewUpload>,
) -> Result<(StatusCode, Json<UploadStatus>)> {
    let (status, created) = uploads::start(&state, &me, req, ip).await?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(status)))
}

/// How many bytes of the upload the server holds.
#[utoipa::path(get, path = "/api/uploads/{upload_id}", tag = "attachments", security(("bearer" = [])),
    params(("upload_id" = String, Path)),
    responses((status = 200, body = UploadStatus), (status = 404, body = ApiError)))]
async fn status(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiPath(upload_id): ApiPath<UploadId>,
) -> Result<Json<UploadStatus>> {
    Ok(Json(uploads::get(&state, &me, &upload_id).await?))
}

/// Append the body at `Upload-Offset` (the bytes the server holds). Once the file is
/// complete its content is checked: the answer then carries the attachment to send.
#[utoipa::path(patch, path = "/api/uploads/{upload_id}", tag = "attachments", security(("bearer" = [])),
    params(("upload_id" = String, Path), ("Upload-Offset" = u64, Header)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "the next bytes (tus clients' `application/offset+octet-stream` is taken too)"),
    responses((status = 200, body = UploadStatus),
        (status = 404, description = "no such upload of the caller's", body = ApiError),
        (status = 409, description = "not the offset the server holds (`upload_offset` says which)", body = ApiError),
        (status = 422, description = "no `Upload-Offset` byte count", body = ApiError),
        (status = 413, description = "more bytes than announced, or an image over the pixel limit", body = ApiError),
        (status = 415, description = "a type the server does not take", body = ApiError)))]
async fn append(
    State(state): State<AppState>,
    me: CurrentUser,
    ClientIp(ip): ClientIp,
    ApiPath(upload_id): ApiPath<UploadId>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UploadStatus>> {
    let offset = headers
        .get(UPLOAD_OFFSET)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            Error::validation(
                "Upload-Offset",
                "the Upload-Offset header must be a byte count",
            )
        })?;
    Ok(Json(
        uploads::append(&state, &me, &upload_id, offset, body, ip).await?,
    ))
}

/// The attachment's content, for members of the chat it was sent in (and its uploader).
/// Takes a single `Range`.
#[utoipa::path(get, path = "/api/attachments/{id}", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "the content", content_type = "application/octet-stream"),
        (status = 206, description = "the requested range"),
        (status = 404, description = "no such attachment, or not yours to see", body = ApiError),
        (status = 416, description = "a range outside the content", body = ApiError)))]
async fn download(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiPath(id): ApiPath<AttachmentId>,
    headers: HeaderMap,
) -> Result<Response> {
    serve(&state, &me, &id, false, &headers).await
}

/// An image attachment's thumbnail (JPEG, at most 320 px a side).
#[utoipa::path(get, path = "/api/attachments/{id}/thumbnail", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "the thumbnail", content_type = "image/jpeg"),
        (status = 404, body = ApiError)))]
async fn thumbnail(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiPath(id): ApiPath<AttachmentId>,
    headers: HeaderMap,
) -> Result<Response> {
    serve(&state, &me, &id, true, &headers).await
}

async fn serve(
    state: &AppState,
    me: &CurrentUser,
    id: &AttachmentId,
    thumbnail: bool,
    headers: &HeaderMap,
) -> Result<Response> {
    let (record, mut reader, len) = uploads::open(state, me, id, thumbnail).await?;
    let mime = if thumbnail {
        "image/jpeg"
    } else {
        record
            .content
            .as_ref()
            .map_or("application/octet-stream", |c| c.mime.as_str())
    };
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(value) => match parse_range(value, len) {
            RangeAsked::One(start, end) => Some((start, end)),
            RangeAsked::Ignored => None,
            RangeAsked::Unsatisfiable => return Ok(unsatisfiable(len)),
        },
    };
    let (status, start, count) = match range {
        Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        None => (StatusCode::OK, 0, len),
    };
    if start > 0 {
        reader.seek(std::io::SeekFrom::Start(start)).await?;
    }
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(reader.take(count)));
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, header_value(mime));
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if status == StatusCode::PARTIAL_CONTENT {
        let content_range = format!("bytes {start}-{}/{len}", start + count - 1);
        out.insert(header::CONTENT_RANGE, header_value(&content_range));
    }
    out.insert(
        header::CONTENT_DISPOSITION,
        header_value(&disposition(
            &record,
            thumbnail || IMAGE_TYPES.contains(&mime),
        )),
    );
    safety_headers(out);
    Ok(response)
}

/// What keeps a browser (or a webview) from running or re-typing what it downloads: no
/// sniffing, nothing loaded or run from it, cached only by the one user, never changing.
fn safety_headers(out: &mut HeaderMap) {
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    out.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-site"),
    );
}

/// `inline` for the image types shown in place, `attachment` for everything else; the name
/// as an ASCII fallback and in full (RFC 6266, RFC 8187).
fn disposition(record: &UploadRecord, inline: bool) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    let fallback: String = record
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in record.name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

fn header_value(value: &str) -> HeaderValue {
    HeaderValue::from_str(value)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

#[derive(Debug, PartialEq, Eq)]
enum RangeAsked {
    /// Bytes `start..=end`.
    One(u64, u64),
    /// Not one range we serve (several, or another unit): the whole content is sent.
    Ignored,
    Unsatisfiable,
}

fn parse_range(value: &str, len: u64) -> RangeAsked {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeAsked::Ignored;
    };
    if spec.contains(',') {
        return RangeAsked::Ignored;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAsked::Ignored;
    };
    let (first, last) = (first.trim(), last.trim());
    let parsed = match (first.is_empty(), last.is_empty()) {
        // The last N bytes.
        (true, false) => last.parse::<u64>().ok().map(|n| {
            if n == 0 {
                None
            } else {
                Some((len.saturating_sub(n), len.saturating_sub(1)))
            }
        }),
        (false, true) => first
            .parse::<u64>()
            .ok()
            .map(|s| Some((s, len.saturating_sub(1)))),
        (false, false) => match (first.parse::<u64>(), last.parse::<u64>()) {
            (Ok(s), Ok(e)) if s <= e => Some(Some((s, e.min(len.saturating_sub(1))))),
            _ => None,
        },
        (true, true) => None,
    };
    match parsed {
        None => RangeAsked::Ignored,
        Some(Some((start, end))) if len > 0 && start < len && start <= end => {
            RangeAsked::One(start, end)
        }
        Some(_) => RangeAsked::Unsatisfiable,
    }
}

fn unsatisfiable(len: u64) -> Response {
    let error = ApiError::new(
        ErrorCode::Validation,
        format!("the range lies outside the content's {len} bytes"),
    )
    .with_field("Range");
    let mut response = (StatusCode::RANGE_NOT_SATISFIABLE, Json(error)).into_response();
    response.headers_mut().insert(
        header::CONTENT_RANGE,
        header_value(&format!("bytes */{len}")),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeAsked::One(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), RangeAsked::One(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), RangeAsked::One(90, 99));
        assert_eq!(parse_range("bytes=95-200", 100), RangeAsked::One(95, 99));
        assert_eq!(parse_range("bytes=100-", 100), RangeAsked::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), RangeAsked::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), RangeAsked::Ignored);
        assert_eq!(parse_range("items=0-1", 100), RangeAsked::Ignored);
        assert_eq!(parse_range("bytes=9-1", 100), RangeAsked::Ignored);
    }
}
