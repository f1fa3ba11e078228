//! The properties the fuzz targets check, kept out of the `fuzz_targets/` binaries so that the
//! seed corpus and any crash input can be replayed on stable Rust without libFuzzer
//! (`cargo test` in this directory; see docs/fuzzing.md).
//!
//! Each `check_*` takes the raw fuzz input and panics when a property fails:
//! - [`frames`]: a WebSocket frame decoded the way its receiver decodes it (the client engine
//!   for [`ServerFrame`](tutorchat_shared::ws::ServerFrame), the server's connection task for
//!   [`ClientFrame`](tutorchat_shared::ws::ClientFrame)) survives a serialize/decode round trip.
//! - [`validation`]: every rule in `tutorchat_shared::validation` answers what it documents.
//! - [`bodies`]: each REST request body (and query) decodes as the server's extractors decode
//!   it, round-trips, and then goes through the validation the server applies to it.
//!
//! This crate must not depend on the server or the client: it fuzzes the shared contract.

pub mod bodies;
pub mod frames;
pub mod validation;

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

/// Decodes `bytes` as JSON into `T`; when it decodes, encoding the value and decoding that
/// again must give the same value (what one side sends, the other reads back unchanged).
pub fn json_round_trip<T>(bytes: &[u8]) -> Option<T>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let value: T = serde_json::from_slice(bytes).ok()?;
    let encoded = serde_json::to_string(&value).expect("a decoded value encodes");
    let again: T = serde_json::from_str(&encoded)
        .unwrap_or_else(|e| panic!("re-encoded value does not decode: {e}\n{encoded}"));
    assert_eq!(value, again, "round trip changed the value: {encoded}");
    Some(value)
}
