//! The client core's one error type, classified for callers: transient errors are worth
//! retrying as they are; permanent ones need the user (or the outbox marks the message failed).
//! Every variant has a stable [`ErrorCode`] ([`ClientError::code`]), so a shell can tell the
//! user what happened rather than "internal".

use tutorchat_shared::validation::ValidationError;
use tutorchat_shared::{ApiError, ChatId, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server refused, with a stable code.
    #[error("{0}")]
    Server(Box<ApiError>),
    /// The server could not be reached, or the connection broke.
    #[error("network: {0}")]
    Network(String),
    /// Input refused before it left the device. Transparent: the rule's text is the whole
    /// message (a chain printer such as `{:#}` shows it once, not twice).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("not signed in")]
    NotSignedIn,
    /// The chat is not in this account's cache: not one of the user's chats.
    #[error("chat {0} is not one of yours")]
    NotYourChat(ChatId),
    /// The server answered a new chat that then could not be found in the cache.
    #[error("the new chat {0} vanished")]
    ChatVanished(ChatId),
    /// Signing out would lose messages still waiting in the outbox.
    #[error("{0} message(s) are still in the outbox; send, discard or force")]
    OutboxNotEmpty(usize),
    /// The server address is not a URL, uses another scheme, or is plain http to another
    /// machine.
    #[error("server address: {0}")]
    InvalidServerUrl(String),
    /// TLS could not be set up: an unreadable or invalid extra CA, or the HTTP client.
    #[error("TLS setup: {0}")]
    Tls(String),
    /// An access token that cannot go into a header (the server sent something odd).
    #[error("the access token is not a valid header value")]
    BadToken,
    #[error("local cache: {0}")]
    Cache(#[from] rusqlite::Error),
    #[error("credential storage: {0}")]
    Credentials(String),
    /// Something could not be written as JSON (a frame, the session pointer).
    #[error("encoding: {0}")]
    Encode(#[from] serde_json::Error),
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
            ClientError::NotYourChat(_) => ErrorCode::NotParticipant,
            ClientError::ChatVanished(_) => ErrorCode::NotFound,
            ClientError::OutboxNotEmpty(_) => ErrorCode::OutboxNotEmpty,
            ClientError::InvalidServerUrl(_) => ErrorCode::InvalidServerUrl,
            ClientError::BadToken => ErrorCode::InvalidToken,
            ClientError::DataDirBusy(_) => ErrorCode::DataDirBusy,
            ClientError::Tls(_)
            | ClientError::Cache(_)
            | ClientError::Credentials(_)
            | ClientError::Encode(_)
            | ClientError::Io(_)
            | ClientError::Join(_) => ErrorCode::Internal,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_refusals_have_codes_a_shell_can_act_on() {
        assert_eq!(
            ClientError::NotYourChat(ChatId(9)).code(),
            ErrorCode::NotParticipant
        );
        assert_eq!(
            ClientError::OutboxNotEmpty(2).code(),
            ErrorCode::OutboxNotEmpty
        );
        assert_eq!(
            ClientError::InvalidServerUrl("x".into()).code(),
            ErrorCode::InvalidServerUrl
        );
        assert_eq!(
            ClientError::DataDirBusy("/d".into()).code(),
            ErrorCode::DataDirBusy
        );
        assert!(!ClientError::OutboxNotEmpty(1).is_transient());
        assert!(ClientError::Network("down".into()).is_transient());
    }
}
