//! The one error every command answers with: the shared `ApiError` body (stable `code`,
//! human `message`, `course_id` on `not_enrolled`), so the UI handles REST, WebSocket and
//! shell failures alike.

use serde::Serialize;
use tutorchat_client::ClientError;
use tutorchat_shared::{ApiError, ErrorCode};

#[derive(Debug)]
pub struct CommandError(pub ApiError);

pub type CommandResult<T> = Result<T, CommandError>;

impl From<ClientError> for CommandError {
    fn from(e: ClientError) -> Self {
        match e.api() {
            Some(api) => CommandError(api.clone()),
            None => {
                let message = match &e {
                    ClientError::Network(_) => "the server cannot be reached; try again".to_owned(),
                    ClientError::NotSignedIn => "sign in first".to_owned(),
                    other => other.to_string(),
                };
                CommandError(ApiError::new(e.code(), message))
            }
        }
    }
}

impl CommandError {
    pub fn not_signed_in() -> Self {
        CommandError(ApiError::new(ErrorCode::Unauthorized, "sign in first"))
    }
}

impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}
