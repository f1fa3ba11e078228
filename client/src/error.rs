//! The client core's one error type, classified for callers: transient errors are worth
//! retrying as they are; permanent ones need the user (or the outbox marks the message failed).

use tutorchat_shared::validation::ValidationError;
use tutorchat_shared::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server refused, with a stable code.
    #[error("{0}")]
    Server(Box<ApiError>),
    /// The server could not be reached, or the connection broke.
    #[error("network: {0}")]
    Network(String),
    /// Input refused before it left the device.
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    #[error("not signed in")]
    NotSignedIn,
    #[error("local cache: {0}")]
    Cache(#[from] rusqlite::Error),
    #[error("credential storage: {0}")]
    Credentials(String),
    /// A configuration problem: a bad server address, an unreadable CA file, an insecure URL.
    #[error("{0}")]
    Config(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("background task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// Another process (or another open [`crate::Client`]) is using this data directory.
    #[error("another tutorchat process is using {}", .0.display())]
    DataDirBusy(std::path::PathBuf),
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

impl ClientError {
    /// Worth trying again unchanged, later.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Network(_) => true,
            ClientError::Server(e) => e.code.is_transient(),
            _ => false,
        }
    }

    /// The stable code: the server's, or the local equivalent.
    pub fn code(&self) -> ErrorCode {
        match self {
            ClientError::Server(e) => e.code,
            ClientError::Network(_) => ErrorCode::Unavailable,
            ClientError::Invalid(_) => ErrorCode::Validation,
            ClientError::NotSignedIn => ErrorCode::Unauthorized,
            _ => ErrorCode::Internal,
        }
    }

    /// The server's error body, if it was the server that refused.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            ClientError::Server(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ApiError> for ClientError {
    fn from(e: ApiError) -> Self {
        ClientError::Server(Box::new(e))
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        ClientError::Network(e.to_string())
    }
}
