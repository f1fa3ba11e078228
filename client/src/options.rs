//! Where the server is and how to reach it safely: `https`/`wss` with the system's root
//! certificates (plus, optionally, a self-hosted server's own CA); plain `http`/`ws` only for
//! the local machine (development and tests).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::credentials::CredentialStore;
use crate::error::{ClientError, Result};

/// How long opening waits for the data directory by default: enough for a previous process
/// to finish, short enough that a second instance says so promptly.
pub const DEFAULT_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// How to open a [`crate::Client`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The server's base URL, e.g. `https://chat.school.example` or `http://127.0.0.1:8080`.
    pub server: String,
    /// Where the caches and the session pointer live (one database per account).
    pub data_dir: PathBuf,
    /// A PEM file with an extra CA to trust (a self-hosted server's own).
    pub extra_ca: Option<PathBuf>,
    pub credentials: CredentialStore,
    /// How long [`crate::Client::open`] waits for another process to let go of `data_dir`.
    pub lock_wait: std::time::Duration,
    /// Bytes of downloaded attachments kept per account (least recently used evicted first;
    /// thumbnails are kept regardless).
    pub file_cache_bytes: u64,
}

/// Downloaded attachments kept per account unless set otherwise.
pub const DEFAULT_FILE_CACHE_BYTES: u64 = 512 * 1024 * 1024;

impl ClientOptions {
    pub fn new(server: impl Into<String>, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            server: server.into(),
            data_dir: data_dir.into(),
            extra_ca: None,
            credentials: CredentialStore::Auto,
            lock_wait: DEFAULT_LOCK_WAIT,
            file_cache_bytes: DEFAULT_FILE_CACHE_BYTES,
        }
    }

    /// The OS's data directory for Tutorchat (e.g. `~/.local/share/tutorchat`).
    pub fn default_data_dir() -> PathBuf {
        directories::ProjectDirs::from("app", "Tutorchat", "tutorchat")
            .map(|dirs| dirs.data_dir().to_path_buf())
            .unwrap_or_else(|| PathBuf::from(".tutorchat"))
    }
}

/// The server's REST base and WebSocket URL, checked.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    pub http: String,
    pub ws: String,
    /// `http` as a URL, for building request URLs (segments and queries properly encoded).
    base: reqwest::Url,
}

impl Endpoints {
    pub fn parse(server: &str) -> Result<Endpoints> {
        let server = server.trim().trim_end_matches('/');
        let (scheme, rest) = server
            .split_once("://")
            .ok_or_else(|| ClientError::InvalidServerUrl(format!("{server:?} is not a URL")))?;
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        let host = if rest.starts_with('[') {
            rest.split(']')
                .next()
                .map(|h| h.trim_start_matches('['))
                .unwrap_or_default()
        } else {
            host
        };
        let local = matches!(host, "localhost" | "127.0.0.1" | "::1") || host.starts_with("127.");
        let ws_scheme = match scheme {
            "https" => "wss",
            "http" if local => "ws",
            "http" => {
                return Err(ClientError::InvalidServerUrl(format!(
                    "refusing plain http to {host}: use https (plain http is only for this machine)"
                )))
            }
            other => {
                return Err(ClientError::InvalidServerUrl(format!(
                    "unsupported scheme {other:?}"
                )))
            }
        };
        let base = reqwest::Url::parse(server)
            .ok()
            .filter(|url| !url.cannot_be_a_base())
            .ok_or_else(|| ClientError::InvalidServerUrl(format!("{server:?} is not a URL")))?;
        Ok(Endpoints {
            http: server.to_owned(),
            ws: format!("{ws_scheme}://{rest}/ws"),
            base,
        })
    }

    /// The URL of a REST resource: each of `segments` becomes one path segment (escaped),
    /// after the server's own path. Add a query with `query_pairs_mut`.
    pub fn url(&self, segments: &[&str]) -> reqwest::Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }
}

/// The HTTP client: rustls with the system's roots (and the extra CA).
pub(crate) fn http_client(extra_ca: Option<&Path>) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(30));
    if let Some(path) = extra_ca {
        let pem = std::fs::read(path)?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| ClientError::Tls(format!("reading CA {}: {e}", path.display())))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| ClientError::Tls(format!("HTTP client: {e}")))
}

/// The WebSocket TLS setup: the system's roots plus the extra CA; `None` for plain `ws`.
pub(crate) fn ws_connector(
    extra_ca: Option<&Path>,
) -> Result<Option<tokio_tungstenite::Connector>> {
    let Some(path) = extra_ca else {
        // tokio-tungstenite then uses rustls with the system's roots.
        return Ok(None);
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let pem = std::fs::read(path)?;
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert =
            cert.map_err(|e| ClientError::Tls(format!("reading CA {}: {e}", path.display())))?;
        roots
            .add(cert)
            .map_err(|e| ClientError::Tls(format!("CA {}: {e}", path.display())))?;
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(tokio_tungstenite::Connector::Rustls(Arc::new(config))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_maps_to_wss_and_local_http_to_ws() {
        let e = Endpoints::parse("https://chat.school.example/").expect("https");
        assert_eq!(e.ws, "wss://chat.school.example/ws");
        let e = Endpoints::parse("http://127.0.0.1:8080").expect("local http");
        assert_eq!(
            (e.http.as_str(), e.ws.as_str()),
            ("http://127.0.0.1:8080", "ws://127.0.0.1:8080/ws")
        );
    }

    #[test]
    fn plain_http_to_another_host_is_refused() {
        let err = Endpoints::parse("http://chat.school.example").expect_err("insecure");
        assert!(err.to_string().contains("https"), "{err}");
        assert!(Endpoints::parse("ftp://x").is_err());
        assert!(Endpoints::parse("nonsense").is_err());
    }

    #[test]
    fn request_urls_escape_each_segment_and_query_value() {
        let e = Endpoints::parse("http://127.0.0.1:8080").expect("local http");
        assert_eq!(
            e.url(&["api", "users", "a b/c?d", "block"]).as_str(),
            "http://127.0.0.1:8080/api/users/a%20b%2Fc%3Fd/block"
        );
        let mut url = Endpoints::parse("https://school.example/chat/")
            .expect("https")
            .url(&["api", "tutors", "students"]);
        url.query_pairs_mut().append_pair("course_id", "ml&ai 101");
        assert_eq!(
            url.as_str(),
            "https://school.example/chat/api/tutors/students?course_id=ml%26ai+101"
        );
    }
}
