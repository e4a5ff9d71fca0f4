//! The root key and the per-account, per-region KMS keys it wraps.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use zeroize::Zeroizing;

use super::aead::{AeadKey, KEY_LEN};
use super::{CryptoError, SecretBytes, random_bytes};
use crate::clock::EpochMillis;
use crate::store::{KmsKeyRecord, Store};

/// Alias of the AWS managed key that encrypts secrets by default.
pub const DEFAULT_KEY_ALIAS: &str = "aws/secretsmanager";

const ROOT_WRAP_PURPOSE: &[u8] = b"strongbox/root-wrap\0";

/// The root key: held in a file outside the database (mode 0600), or given in the environment
/// or derived from a passphrase; never stored in the database.
#[derive(Debug)]
pub struct RootKey(AeadKey);

impl RootKey {
    /// A fresh random root key and its hex text, which is how it is stored.
    pub fn generate() -> Result<(Self, Zeroizing<String>), CryptoError> {
        let raw = random_bytes(KEY_LEN)?;
        let text = Zeroizing::new(hex::encode(&raw));
        Ok((Self(AeadKey::new(SecretBytes::new(raw))?), text))
    }

    /// Parses a root key given as 64 hex characters (e.g. from `STRONGBOX_ROOT_KEY`).
    pub fn from_hex(text: &str) -> std::io::Result<Self> {
        // Wiped even when it is refused: a mistyped key is still most of the key.
        let raw = Zeroizing::new(hex::decode(text).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "root key is not hex")
        })?);
        if raw.len() != KEY_LEN {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "root key must be 32 bytes (64 hex characters)",
            ));
        }
        AeadKey::new(SecretBytes::new(raw.to_vec()))
            .map(Self)
            .map_err(std::io::Error::other)
    }

    /// A root key from 32 bytes already in hand (a passphrase's derivation).
    pub(super) fn from_secret_bytes(raw: SecretBytes) -> Result<Self, CryptoError> {
        if raw.len() != KEY_LEN {
            return Err(CryptoError::Malformed);
        }
        AeadKey::new(raw).map(Self)
    }

    /// Seals `plaintext` under the root key, bound to `label` (e.g. a key ARN).
    pub fn wrap(&self, label: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.0.seal(plaintext, &root_aad(label))
    }

    /// Opens the output of [`wrap`](Self::wrap) with the same `label`.
    pub fn unwrap(&self, label: &str, sealed: &[u8]) -> Result<SecretBytes, CryptoError> {
        self.0.open(sealed, &root_aad(label))
    }
}

fn root_aad(label: &str) -> Vec<u8> {
    let mut aad = ROOT_WRAP_PURPOSE.to_vec();
    aad.extend_from_slice(label.as_bytes());
    aad
}

/// An unwrapped KMS key, cached in memory.
#[derive(Debug)]
pub struct KmsKey {
    /// The key id (a UUID).
    pub key_id: String,
    /// The key ARN, `arn:aws:kms:<region>:<account>:key/<id>`.
    pub arn: String,
    /// Which generation of key material this is; rotation adds generations.
    pub material_version: u32,
    pub(crate) key: AeadKey,
}

impl KmsKey {
    #[cfg(test)]
    pub(crate) fn new_for_test(key_id: &str) -> Self {
        Self {
            key_id: key_id.into(),
            arn: format!("arn:aws:kms:us-east-1:123456789012:key/{key_id}"),
            material_version: 1,
            key: AeadKey::generate().unwrap(),
        }
    }
}

/// Finds, creates and caches KMS keys. The store only ever sees key material wrapped by the
/// root key.
pub struct Keyring {
    root: RootKey,
    store: Arc<dyn Store>,
    by_scope: RwLock<HashMap<(String, String), Arc<KmsKey>>>,
    by_id: RwLock<HashMap<String, Arc<KmsKey>>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring")
    }
}

impl Keyring {
    /// A keyring over `store`, unwrapping with `root`.
    pub fn new(root: RootKey, store: Arc<dyn Store>) -> Self {
        Self {
            root,
            store,
            by_scope: RwLock::default(),
            by_id: RwLock::default(),
        }
    }

    /// The root key, for wrapping other long-lived secrets (access keys).
    pub fn root(&self) -> &RootKey {
        &self.root
    }

    /// The `aws/secretsmanager` key of `account` in `region`, created on first use as AWS does.
    pub async fn default_key(
        &self,
        account: &str,
        region: &str,
        now: EpochMillis,
    ) -> Result<Arc<KmsKey>, CryptoError> {
        let scope = (account.to_string(), region.to_string());
        if let Some(k) = self
            .by_scope
            .read()
            .ok()
            .and_then(|m| m.get(&scope).cloned())
        {
            return Ok(k);
        }
        let record = match self
            .store
            .kms_key_by_alias(account, region, DEFAULT_KEY_ALIAS)
            .await
            .map_err(|_| CryptoError::Storage)?
        {
            Some(r) => r,
            None => {
                let key_id = uuid::Uuid::new_v4().to_string();
                let arn = format!("arn:aws:kms:{region}:{account}:key/{key_id}");
                let material = random_bytes(KEY_LEN)?;
                let sealed = self.root.wrap(&format!("{arn}#1"), &material)?;
                let candidate = KmsKeyRecord {
                    key_id,
                    arn,
                    account_id: account.into(),
                    region: region.into(),
                    alias: Some(DEFAULT_KEY_ALIAS.into()),
                    material_version: 1,
                    sealed_material: sealed,
                    created_ms: now,
                };
                // Two nodes may race to create the key; the store keeps the first and returns it.
                self.store
                    .insert_kms_key(candidate)
                    .await
                    .map_err(|_| CryptoError::Storage)?
            }
        };
        let key = Arc::new(self.unwrap_record(&record)?);
        if let Ok(mut m) = self.by_scope.write() {
            m.insert(scope, key.clone());
        }
        if let Ok(mut m) = self.by_id.write() {
            m.insert(key.key_id.clone(), key.clone());
        }
        Ok(key)
    }

    /// The key with id `key_id`, as named inside a sealed blob.
    pub async fn key_by_id(&self, key_id: &str) -> Result<Arc<KmsKey>, CryptoError> {
        if let Some(k) = self.by_id.read().ok().and_then(|m| m.get(key_id).cloned()) {
            return Ok(k);
        }
        let record = self
            .store
            .kms_key_by_id(key_id)
            .await
            .map_err(|_| CryptoError::Storage)?
            .ok_or(CryptoError::UnknownKey)?;
        let key = Arc::new(self.unwrap_record(&record)?);
        if let Ok(mut m) = self.by_id.write() {
            m.insert(key.key_id.clone(), key.clone());
        }
        Ok(key)
    }

    fn unwrap_record(&self, record: &KmsKeyRecord) -> Result<KmsKey, CryptoError> {
        let label = format!("{}#{}", record.arn, record.material_version);
        let material = self.root.unwrap(&label, &record.sealed_material)?;
        Ok(KmsKey {
            key_id: record.key_id.clone(),
            arn: record.arn.clone(),
            material_version: record.material_version,
            key: AeadKey::new(material)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_key_hex_round_trip() {
        let (k1, text) = RootKey::generate().unwrap();
        let k2 = RootKey::from_hex(&text).unwrap();
        let sealed = k1.wrap("label", b"material").unwrap();
        assert_eq!(k2.unwrap("label", &sealed).unwrap().expose(), b"material");
        assert!(k2.unwrap("other", &sealed).is_err());
        assert!(RootKey::from_hex("abcd").is_err());
    }
}
