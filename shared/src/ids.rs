//! Identifier newtypes.
//!
//! Users and courses keep the course platform's own string ids, so a token the platform mints
//! names a user by the id it already knows. Chats and messages get server-assigned integers.
//! A [`ClientId`] is chosen by the sending device and makes a send idempotent.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }
    };
}

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

string_id!(
    /// A user's id: the course platform's own id for that person.
    UserId
);
string_id!(
    /// A course's id: the course platform's own id for that course.
    CourseId
);
string_id!(
    /// The sending device's idempotency key for one message (a UUID in practice).
    /// `(sender, client_id)` is unique forever: a repeated send returns the original message.
    ClientId
);
string_id!(
    /// An uploaded attachment's server-assigned id.
    AttachmentId
);
string_id!(
    /// The uploading device's name for one upload (a UUID in practice): creating the same
    /// upload again answers the one already under way (or done), so an upload is resumable
    /// and idempotent. Unique per user.
    UploadId
);
int_id!(
    /// A chat's server-assigned id.
    ChatId
);
int_id!(
    /// A message's server-assigned id, unique across all chats.
    MessageId
);
