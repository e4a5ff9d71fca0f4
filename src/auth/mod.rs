//! Request authentication: AWS Signature Version 4.
//!
//! [`sigv4`] holds the pure signing functions (canonical request, string to sign, signing key,
//! the presigned-query parser), tested byte for byte against AWS's published examples.
//! [`Authenticator`] is the effectful shell: it reads the signature from the `Authorization`
//! header or a presigned query string, looks up the access key, checks the clock skew (or the
//! presigned request's expiry) and the credential scope, and compares signatures in constant
//! time.

pub mod sigv4;

mod authenticator;
mod credentials;

pub use authenticator::{Authenticated, Authenticator, SignedRequest};
pub use credentials::{
    Caller, CredentialStore, Grants, MemoryCredentialStore, PrincipalKind, SecretAccessKey,
    StoredCredential, generate_key_pair,
};

/// Why a request failed authentication. Each variant maps to one AWS error in `wire`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header (and no presigned query parameters) at all.
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    /// The `Authorization` header is present but lacks parts or cannot be parsed. The message
    /// is AWS's full text, e.g. `Authorization header requires 'Credential' parameter. ...`.
    #[error("{0}")]
    IncompleteSignature(String),
    /// The request is signed too long ago or too far in the future, or the signature does not
    /// match, or the scope names a bad region or service. The message is AWS's full text.
    #[error("{0}")]
    InvalidSignature(String),
    /// The access key id is unknown, or the session token does not belong to it.
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    /// The temporary credential's session has expired.
    #[error("The security token included in the request is expired")]
    ExpiredToken,
}
