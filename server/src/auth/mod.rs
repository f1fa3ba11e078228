//! Identity: password hashing, access and refresh tokens, and the extractors that turn a
//! request's credentials into a caller.
//!
//! - [`password`]: argon2 hashing, always off the async threads.
//! - [`tokens`]: HS256 access JWTs (`sub`, `role`, `exp`) that the course platform can also
//!   mint, and opaque refresh tokens stored only as hashes.
//! - [`extract`]: `CurrentUser` (any signed-in user), `AdminCaller` (service token or admin)
//!   and `ClientIp`.

pub mod extract;
pub mod password;
pub mod tokens;

pub use extract::{AdminCaller, ClientIp, CurrentUser};
