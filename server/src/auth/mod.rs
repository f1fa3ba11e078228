//! Identity: password hashing, access and refresh tokens, and the extractors that turn a
//! request's credentials into a caller.
//!
//! - [`password`]: argon2 hashing on a small fixed pool of threads with a bounded queue.
//! - [`tokens`]: HS256 access JWTs (`sub`, `role`, `exp`) that the course platform can also
//!   mint, and opaque refresh tokens stored only as hashes.
//! - [`sessions`]: signed-out sessions whose access tokens are refused before they expire.
//! - [`extract`]: `CurrentUser` (any signed-in user), `AdminCaller` (service token or admin)
//!   and `ClientIp`.

pub mod extract;
pub mod password;
pub mod sessions;
pub mod tokens;

pub use extract::{AdminCaller, ClientIp, CurrentUser};
