//! Access tokens (HS256 JWTs) and refresh tokens (opaque, stored hashed).
//!
//! An access token's claims are exactly what the course platform needs to mint one for single
//! sign-on with the shared secret: `sub` (the platform's user id), `role`, `exp` (and `iat`).
//! The server still loads the user on every request, so a token for an unknown user or with a
//! role that disagrees with the stored one is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use hmac::{Hmac, Mac};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tutorchat_shared::{Role, UserId};

use crate::error::Result;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub role: Role,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    #[serde(default)]
    pub iat: i64,
    /// The sign-in session (refresh-token family) this token belongs to: signing out revokes
    /// it. Tokens the platform mints for single sign-on have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// Why a presented access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    Expired,
    Invalid,
}

/// Signing and checking keys with the token lifetimes; built once at start.
pub struct TokenKeys {
    encoding: EncodingKey,
    /// Derives a refresh token's successor (see [`TokenKeys::successor_of`]).
    successor_key: Vec<u8>,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: ChronoDuration,
    refresh_ttl: ChronoDuration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("access_ttl", &self.access_ttl)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    pub fn new(
        secret: &[u8],
        access_ttl: std::time::Duration,
        refresh_ttl: std::time::Duration,
    ) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let to_chrono = |d: std::time::Duration| {
            ChronoDuration::from_std(d).unwrap_or(ChronoDuration::days(365))
        };
        Self {
            encoding: EncodingKey::from_secret(secret),
            successor_key: Sha256::new()
                .chain_update(b"tutorchat refresh successor\0")
                .chain_update(secret)
                .finalize()
                .to_vec(),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl: to_chrono(access_ttl),
            refresh_ttl: to_chrono(refresh_ttl),
        }
    }

    /// Mints an access token for `user` in sign-in session `sid`, valid from `now` for the
    /// access lifetime.
    pub fn access_token(
        &self,
        user: &UserId,
        role: Role,
        sid: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>)> {
        let expires = now + self.access_ttl;
        let claims = Claims {
            sub: user.clone(),
            role,
            exp: expires.timestamp(),
            iat: now.timestamp(),
            sid: sid.map(str::to_owned),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, expires))
    }

    /// Checks signature, algorithm and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenRejection> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenRejection::Expired,
                _ => TokenRejection::Invalid,
            })
    }

    /// The refresh token that replaces `presented` when it is spent: derived (HMAC-SHA256
    /// under a key from the server's secret), not random, so a client that presents the same
    /// token again within the reuse grace — it crashed before saving the answer — gets the
    /// very same successor, while the store keeps only hashes.
    pub fn successor_of(&self, presented: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.successor_key)
            .expect("HMAC takes a key of any length");
        mac.update(presented.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// How long an access token lives.
    pub fn access_ttl(&self) -> ChronoDuration {
        self.access_ttl
    }

    /// When a refresh token issued at `now` expires.
    pub fn refresh_expiry(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + self.refresh_ttl
    }
}

/// A new random refresh token (256 bits, base64url).
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new random id for a refresh-token family.
pub fn new_family_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the store keeps instead of the token: SHA-256, hex.
pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn keys(secret: &[u8]) -> TokenKeys {
        TokenKeys::new(secret, Duration::from_secs(60), Duration::from_secs(3600))
    }

    #[test]
    fn a_minted_token_verifies_with_its_claims() {
        let keys = keys(b"secret");
        let (token, _) = keys
            .access_token(&UserId::new("u1"), Role::Tutor, Some("s1"), Utc::now())
            .expect("mint");
        let claims = keys.verify(&token).expect("valid");
        assert_eq!(claims.sub, UserId::new("u1"));
        assert_eq!(claims.role, Role::Tutor);
        assert_eq!(claims.sid.as_deref(), Some("s1"));
    }

    #[test]
    fn a_successor_is_the_same_for_the_same_token_and_secret_only() {
        let keys = keys(b"secret");
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_eq!(keys.successor_of(&a), keys.successor_of(&a));
        assert_ne!(keys.successor_of(&a), keys.successor_of(&b));
        assert_ne!(keys.successor_of(&a), self::keys(b"other").successor_of(&a));
        assert_eq!(keys.successor_of(&a).len(), 43);
    }

    #[test]
    fn expired_and_foreign_tokens_are_told_apart() {
        let keys = keys(b"secret");
        let long_ago = Utc::now() - ChronoDuration::hours(1);
        let (old, _) = keys
            .access_token(&UserId::new("u1"), Role::Student, None, long_ago)
            .expect("mint");
        assert_eq!(keys.verify(&old), Err(TokenRejection::Expired));
        let (forged, _) = self::keys(b"other")
            .access_token(&UserId::new("u1"), Role::Admin, None, Utc::now())
            .expect("mint");
        assert_eq!(keys.verify(&forged), Err(TokenRejection::Invalid));
        assert_eq!(keys.verify("not.a.jwt"), Err(TokenRejection::Invalid));
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_ne!(hash_refresh_token(&a), a);
    }
}
