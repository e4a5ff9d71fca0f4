//! Credentials known to the server and the identity they stand for.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use zeroize::Zeroizing;

use crate::clock::EpochMillis;
use crate::policy::{PolicyDocument, Principal};

/// What kind of principal signed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root user (the bootstrap admin is the root of the first account).
    Root,
    /// An IAM user.
    User,
    /// A role session obtained through STS AssumeRole.
    AssumedRole,
}

/// What a principal's policies grant, resolved when credentials are loaded so that a request
/// evaluates already-parsed documents.
#[derive(Debug, Clone)]
pub struct Grants {
    /// The principal as the policy engine sees it (ARN, ids, tags).
    pub principal: Principal,
    /// Identity-based policies: a user's or a role's inline and attached managed policies.
    pub identity: Vec<Arc<PolicyDocument>>,
    /// The permissions boundary, if one is set.
    pub boundary: Option<Arc<PolicyDocument>>,
    /// A role session's session policies, which intersect with the role's.
    pub session: Option<Vec<Arc<PolicyDocument>>>,
}

impl Grants {
    /// Grants of an account's root user: no policies (root is allowed in its own account).
    pub fn root(account_id: &str) -> Self {
        Self {
            principal: Principal::root(account_id),
            identity: Vec::new(),
            boundary: None,
            session: None,
        }
    }
}

/// The authenticated identity behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The 12-digit account that owns the principal.
    pub account_id: String,
    /// The principal's ARN, e.g. `arn:aws:iam::123456789012:root`.
    pub arn: String,
    /// The principal's unique id (`AIDA...` for users, the account id for root).
    pub principal_id: String,
    /// The kind of principal.
    pub kind: PrincipalKind,
    /// The access key id the request was signed with.
    pub access_key_id: String,
    /// What the principal's policies grant.
    pub grants: Arc<Grants>,
    /// True when the request was signed with temporary credentials from STS: a role session,
    /// or a GetSessionToken session of a user or root (which keeps `kind` `User` or `Root`).
    pub temporary: bool,
}

impl PartialEq for Caller {
    // Two callers are the same principal signing with the same key; grants are derived state.
    fn eq(&self, other: &Self) -> bool {
        self.account_id == other.account_id
            && self.arn == other.arn
            && self.principal_id == other.principal_id
            && self.kind == other.kind
            && self.access_key_id == other.access_key_id
            && self.temporary == other.temporary
    }
}

impl Eq for Caller {}

impl Caller {
    /// The root principal of `account_id`, signing with `access_key_id`.
    pub fn root(account_id: &str, access_key_id: &str) -> Self {
        Self {
            account_id: account_id.to_string(),
            arn: format!("arn:aws:iam::{account_id}:root"),
            principal_id: account_id.to_string(),
            kind: PrincipalKind::Root,
            access_key_id: access_key_id.to_string(),
            grants: Arc::new(Grants::root(account_id)),
            temporary: false,
        }
    }
}

/// A secret access key: zeroized on drop, redacted in `Debug`, read only through [`expose`].
///
/// [`expose`]: SecretAccessKey::expose
#[derive(Clone)]
pub struct SecretAccessKey(Zeroizing<String>);

impl SecretAccessKey {
    /// Wraps a secret access key.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Zeroizing::new(secret.into()))
    }

    /// The key's text, for HMAC derivation only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretAccessKey([REDACTED])")
    }
}

/// A new access key pair shaped like AWS's: `prefix` (`AKIA` long-term, `ASIA` temporary) plus
/// 16 characters, and a 40-character secret, from the OS CSPRNG.
pub fn generate_key_pair(
    prefix: &str,
) -> Result<(String, SecretAccessKey), crate::crypto::CryptoError> {
    let id = crate::crypto::random_string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)?;
    let secret = crate::crypto::random_string(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        40,
    )?;
    Ok((format!("{prefix}{id}"), SecretAccessKey::new(secret)))
}

/// A credential as the server keeps it.
#[derive(Debug, Clone)]
pub struct StoredCredential {
    /// The secret half of the access key.
    pub secret: SecretAccessKey,
    /// The identity the key stands for.
    pub caller: Caller,
    /// For temporary credentials, the session token that must accompany the key.
    pub session_token: Option<SecretAccessKey>,
    /// For temporary credentials, when they stop working.
    pub expires_at: Option<EpochMillis>,
    /// False once the key is deactivated.
    pub active: bool,
}

/// Looks up credentials by access key id. Implementations must be cheap: this runs on every
/// request.
pub trait CredentialStore: Send + Sync {
    /// The credential for `access_key_id`, if one exists (shared: no copy per request).
    fn lookup(&self, access_key_id: &str) -> Option<Arc<StoredCredential>>;
}

/// An in-memory credential table, loaded from the database at start and updated on change.
#[derive(Debug, Default)]
pub struct MemoryCredentialStore {
    keys: RwLock<HashMap<String, Arc<StoredCredential>>>,
}

impl MemoryCredentialStore {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a credential.
    pub fn insert(&self, access_key_id: &str, credential: StoredCredential) {
        if let Ok(mut keys) = self.keys.write() {
            keys.insert(access_key_id.to_string(), Arc::new(credential));
        }
    }

    /// Removes a credential.
    pub fn remove(&self, access_key_id: &str) {
        if let Ok(mut keys) = self.keys.write() {
            keys.remove(access_key_id);
        }
    }

    /// Replaces every credential at once, so no request sees a half-built table.
    pub fn replace_all(&self, credentials: HashMap<String, StoredCredential>) {
        let credentials = credentials
            .into_iter()
            .map(|(id, credential)| (id, Arc::new(credential)))
            .collect();
        if let Ok(mut keys) = self.keys.write() {
            *keys = credentials;
        }
    }
}

impl CredentialStore for MemoryCredentialStore {
    fn lookup(&self, access_key_id: &str) -> Option<Arc<StoredCredential>> {
        self.keys.read().ok()?.get(access_key_id).cloned()
    }
}
