//! Encryption at rest.
//!
//! Three layers of keys: the **root key** (a file outside the database, or derived from a
//! passphrase with Argon2id) wraps each account and region's **KMS key** material; the KMS key
//! wraps a fresh **data key** per secret version; the data key seals the value with AES-256-GCM.
//! Every ciphertext is bound by its AAD to the secret ARN and VersionId, so a row copied onto
//! another secret or version fails to open.

mod aead;
mod envelope;
mod keyring;
mod os_random;
mod passphrase;
mod random;
mod secret;

pub use aead::{AeadKey, random_bytes};
pub use envelope::{EncryptionContext, SEALED_FORMAT_V1, open_value, seal_value, sealed_key_id};
pub use keyring::{DEFAULT_KEY_ALIAS, Keyring, KmsKey, RootKey};
pub use os_random::{uuid_v4, uuid_v7};
pub use passphrase::{MIN_PASSPHRASE_CHARS, Passphrase, PassphraseKdf, PassphraseRefused};
pub use random::{RandomIndex, random_string};
pub use secret::{SecretBytes, SecretValue};

/// A cryptographic failure. Deliberately carries no detail: details could leak key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Authentication of a ciphertext failed: wrong key, wrong AAD, or tampering.
    #[error("ciphertext failed authentication")]
    Unauthentic,
    /// The sealed blob is truncated or has an unknown format version.
    #[error("malformed sealed value")]
    Malformed,
    /// The operating system's random number generator failed.
    #[error("random number generator failure")]
    Rng,
    /// The KMS key the blob names is not known to this server.
    #[error("unknown KMS key")]
    UnknownKey,
    /// The store failed while the keyring loaded or created a key.
    #[error("key storage failure")]
    Storage,
    /// A root key could not be derived from a passphrase (parameters out of bounds, or its
    /// working memory could not be allocated).
    #[error("passphrase key derivation failed")]
    KeyDerivation,
}
