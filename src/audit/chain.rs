//! The hash chain and signed digests, as pure functions.
//!
//! Each event's hash is `SHA-256(previous event's hash || record JSON)`; the first event's
//! previous hash is 32 zero bytes. A digest is a small JSON document naming a range of events
//! and the hash of its last event, signed with Ed25519; each digest also names the previous
//! digest's signature, so digests form a chain of their own.

use ring::digest::{Context, SHA256};
use ring::signature::{ED25519, Ed25519KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

use crate::clock::EpochMillis;

/// Length of an event hash.
pub const HASH_LEN: usize = 32;
/// The previous hash of the first event ever written.
pub const GENESIS: [u8; HASH_LEN] = [0; HASH_LEN];

/// The chain hash of an event whose record is `json`, following `prev`.
pub fn event_hash(prev: &[u8], json: &[u8]) -> [u8; HASH_LEN] {
    let mut ctx = Context::new(&SHA256);
    ctx.update(prev);
    ctx.update(json);
    let mut out = [0u8; HASH_LEN];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// What a digest signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DigestPayload {
    /// Format version (1).
    pub version: u32,
    /// First event sequence number covered.
    pub first_seq: i64,
    /// Last event sequence number covered.
    pub last_seq: i64,
    /// Hex SHA-256 chain hash of the last covered event.
    pub last_hash: String,
    /// When the digest was made.
    pub time_ms: EpochMillis,
    /// Hex signature of the previous digest; `None` for the first.
    pub previous_signature: Option<String>,
}

impl DigestPayload {
    /// The canonical bytes that are signed and stored.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Signs a digest payload.
pub fn sign(key: &Ed25519KeyPair, payload: &[u8]) -> Vec<u8> {
    key.sign(payload).as_ref().to_vec()
}

/// Checks a digest signature against a raw 32-byte Ed25519 public key.
pub fn signature_valid(public_key: &[u8], payload: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(payload, signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use ring::rand::SystemRandom;
    use ring::signature::KeyPair;

    use super::*;

    #[test]
    fn hashes_chain() {
        let h1 = event_hash(&GENESIS, b"{\"a\":1}");
        let h2 = event_hash(&h1, b"{\"a\":2}");
        assert_ne!(h1, h2);
        assert_eq!(h1, event_hash(&GENESIS, b"{\"a\":1}"));
        assert_ne!(h2, event_hash(&GENESIS, b"{\"a\":2}"));
        // Known answer: SHA-256 of 32 zero bytes followed by "x".
        let mut input = vec![0u8; 32];
        input.push(b'x');
        assert_eq!(
            event_hash(&GENESIS, b"x").as_slice(),
            ring::digest::digest(&SHA256, &input).as_ref()
        );
    }

    #[test]
    fn digests_sign_and_verify() {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let payload = DigestPayload {
            version: 1,
            first_seq: 1,
            last_seq: 10,
            last_hash: hex::encode([7u8; 32]),
            time_ms: 5,
            previous_signature: None,
        };
        let bytes = payload.to_bytes();
        let sig = sign(&key, &bytes);
        let public = key.public_key().as_ref();
        assert!(signature_valid(public, &bytes, &sig));
        let mut tampered = payload.clone();
        tampered.last_seq = 11;
        assert!(!signature_valid(public, &tampered.to_bytes(), &sig));
        assert_eq!(
            serde_json::from_slice::<DigestPayload>(&bytes).unwrap(),
            payload
        );
    }
}
