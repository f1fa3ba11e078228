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
            None => CommandError(ApiError::new(e.code(), user_message(&e))),
        }
    }
}

/// What the user reads for a failure on this device. Only text written for people reaches
/// the screen: a fault's internal detail (an SQLite message, a path, an I/O error) is logged
/// here and replaced by a plain sentence.
fn user_message(e: &ClientError) -> String {
    match e {
        ClientError::Server(api) => api.message.clone(),
        ClientError::Network(_) => "The server cannot be reached. Try again.".to_owned(),
        ClientError::NotSignedIn => "Sign in first.".to_owned(),
        ClientError::Invalid(validation) => validation.to_string(),
        ClientError::NotYourChat(_) => "This conversation is not one of yours.".to_owned(),
        ClientError::OutboxNotEmpty(n) => {
            format!("{n} message(s) are still waiting to be sent. Send or discard them first.")
        }
        ClientError::InvalidServerUrl(why) => format!("That server address cannot be used: {why}."),
        ClientError::DataDirBusy(_) => "Tutorchat is already open for this account.".to_owned(),
        ClientError::BadToken => "The server's answer could not be used. Sign in again.".to_owned(),
        ClientError::Credentials(_) => {
            tracing::error!(error = %e, "credential storage failed");
            "The system keyring could not be used.".to_owned()
        }
        ClientError::ChatVanished(_)
        | ClientError::Tls(_)
        | ClientError::Cache(_)
        | ClientError::Encode(_)
        | ClientError::Io(_)
        | ClientError::Join(_) => {
            tracing::error!(error = %e, "a command failed on this device");
            "Something went wrong on this device. Try again.".to_owned()
        }
    }
}

impl CommandError {
    pub fn not_signed_in() -> Self {
        CommandError(ApiError::new(ErrorCode::Unauthorized, "Sign in first."))
    }
}

impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_on_this_device_never_shows_its_internal_text() {
        let CommandError(body) = rusqlite_no_rows().into();
        assert_eq!(body.code, ErrorCode::Internal);
        assert!(!body.message.contains("Query"), "{}", body.message);
        assert_eq!(
            body.message,
            "Something went wrong on this device. Try again."
        );
    }

    #[test]
    fn refusals_keep_their_code_and_a_sentence_for_people() {
        let CommandError(body) = ClientError::NotYourChat(tutorchat_shared::ChatId(9)).into();
        assert_eq!(body.code, ErrorCode::NotParticipant);
        assert_eq!(body.message, "This conversation is not one of yours.");
        let server = ApiError::new(ErrorCode::Blocked, "you blocked this person");
        let CommandError(body) = ClientError::from(server.clone()).into();
        assert_eq!(body, server, "the server's refusal passes as it came");
    }

    fn rusqlite_no_rows() -> ClientError {
        ClientError::Io(std::io::Error::other("Query returned no rows"))
    }
}
