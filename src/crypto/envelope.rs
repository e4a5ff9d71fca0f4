//! The sealed format of a secret version.
//!
//! ```text
//! byte 0       format version (1)
//! byte 1       length N of the KMS key id
//! N bytes      KMS key id (UTF-8)
//! 4 bytes      KMS key material version, big endian
//! 2 bytes      length M of the wrapped data key, big endian
//! M bytes      data key sealed under the KMS key   (nonce || ct || tag)
//! rest         value sealed under the data key     (nonce || ct || tag)
//! ```
//!
//! The format version and key id come first so keys can rotate without a flag day: a reader
//! finds the key that sealed a blob from the blob itself. Both seals take as AAD the header
//! bytes plus the encryption context (secret ARN and VersionId), so a blob copied to another
//! secret or version, or with an edited header, fails to open.

use super::aead::{AeadKey, KEY_LEN, OVERHEAD};
use super::{CryptoError, KmsKey, SecretBytes, SecretValue};

/// The only sealed format written today.
pub const SEALED_FORMAT_V1: u8 = 1;

/// What a ciphertext is bound to, as AWS's encryption context `{SecretARN, SecretVersionId}`.
#[derive(Debug, Clone, Copy)]
pub struct EncryptionContext<'a> {
    /// The secret's full ARN.
    pub secret_arn: &'a str,
    /// The version's id.
    pub version_id: &'a str,
}

impl EncryptionContext<'_> {
    fn aad(&self, purpose: &[u8], header: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(
            purpose.len() + header.len() + self.secret_arn.len() + self.version_id.len() + 2,
        );
        aad.extend_from_slice(purpose);
        aad.extend_from_slice(header);
        aad.extend_from_slice(self.secret_arn.as_bytes());
        aad.push(0);
        aad.extend_from_slice(self.version_id.as_bytes());
        aad
    }
}

const DATA_KEY_PURPOSE: &[u8] = b"strongbox/data-key\0";
const VALUE_PURPOSE: &[u8] = b"strongbox/value\0";

/// Seals `value` under a fresh data key wrapped by `kms_key`.
pub fn seal_value(
    kms_key: &KmsKey,
    context: EncryptionContext<'_>,
    value: &SecretValue,
) -> Result<Vec<u8>, CryptoError> {
    let key_id = kms_key.key_id.as_bytes();
    let key_id_len = u8::try_from(key_id.len()).map_err(|_| CryptoError::Malformed)?;
    let mut header = Vec::with_capacity(6 + key_id.len());
    header.push(SEALED_FORMAT_V1);
    header.push(key_id_len);
    header.extend_from_slice(key_id);
    header.extend_from_slice(&kms_key.material_version.to_be_bytes());

    let data_key = AeadKey::generate()?;
    let wrapped = kms_key.key.seal(
        data_key.raw().expose(),
        &context.aad(DATA_KEY_PURPOSE, &header),
    )?;
    let wrapped_len = u16::try_from(wrapped.len()).map_err(|_| CryptoError::Malformed)?;
    let plaintext = value.encode();
    let sealed_value = data_key.seal(plaintext.expose(), &context.aad(VALUE_PURPOSE, &header))?;

    let mut out = header;
    out.extend_from_slice(&wrapped_len.to_be_bytes());
    out.extend_from_slice(&wrapped);
    out.extend_from_slice(&sealed_value);
    Ok(out)
}

/// The parts of a sealed blob, before any key is used.
struct Parsed<'a> {
    header: &'a [u8],
    key_id: &'a str,
    material_version: u32,
    wrapped: &'a [u8],
    value: &'a [u8],
}

fn parse(sealed: &[u8]) -> Result<Parsed<'_>, CryptoError> {
    let (&format, rest) = sealed.split_first().ok_or(CryptoError::Malformed)?;
    if format != SEALED_FORMAT_V1 {
        return Err(CryptoError::Malformed);
    }
    let (&id_len, rest) = rest.split_first().ok_or(CryptoError::Malformed)?;
    let id_len = usize::from(id_len);
    if rest.len() < id_len + 4 + 2 {
        return Err(CryptoError::Malformed);
    }
    let (key_id, rest) = rest.split_at(id_len);
    let key_id = std::str::from_utf8(key_id).map_err(|_| CryptoError::Malformed)?;
    let (version, rest) = rest.split_at(4);
    let material_version = u32::from_be_bytes([version[0], version[1], version[2], version[3]]);
    let header = &sealed[..2 + id_len + 4];
    let (wrapped_len, rest) = rest.split_at(2);
    let wrapped_len = usize::from(u16::from_be_bytes([wrapped_len[0], wrapped_len[1]]));
    if wrapped_len != KEY_LEN + OVERHEAD || rest.len() < wrapped_len + OVERHEAD {
        return Err(CryptoError::Malformed);
    }
    let (wrapped, value) = rest.split_at(wrapped_len);
    Ok(Parsed {
        header,
        key_id,
        material_version,
        wrapped,
        value,
    })
}

/// The KMS key id and material version a sealed blob names.
pub fn sealed_key_id(sealed: &[u8]) -> Result<(&str, u32), CryptoError> {
    let p = parse(sealed)?;
    Ok((p.key_id, p.material_version))
}

/// Opens a blob written by [`seal_value`], with `kms_key` the key the blob names.
pub fn open_value(
    kms_key: &KmsKey,
    context: EncryptionContext<'_>,
    sealed: &[u8],
) -> Result<SecretValue, CryptoError> {
    let p = parse(sealed)?;
    if p.key_id != kms_key.key_id || p.material_version != kms_key.material_version {
        return Err(CryptoError::UnknownKey);
    }
    let data_key_raw = kms_key
        .key
        .open(p.wrapped, &context.aad(DATA_KEY_PURPOSE, p.header))?;
    let data_key = AeadKey::new(SecretBytes::new(data_key_raw.expose().to_vec()))?;
    let plaintext = data_key.open(p.value, &context.aad(VALUE_PURPOSE, p.header))?;
    SecretValue::decode(plaintext.expose()).ok_or(CryptoError::Malformed)
}

#[cfg(test)]
mod tests {
    use zeroize::Zeroizing;

    use super::*;

    fn key() -> KmsKey {
        KmsKey::new_for_test("0f3c6a1e-1111-2222-3333-444455556666")
    }

    const CTX: EncryptionContext<'static> = EncryptionContext {
        secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
        version_id: "11111111-2222-3333-4444-555555555555",
    };

    #[test]
    fn round_trips_string_and_binary() {
        let k = key();
        for v in [
            SecretValue::String(Zeroizing::new("{\"password\":\"p\"}".into())),
            SecretValue::Binary(SecretBytes::new(vec![0, 1, 2, 255])),
        ] {
            let sealed = seal_value(&k, CTX, &v).unwrap();
            assert_eq!(sealed[0], SEALED_FORMAT_V1);
            assert_eq!(sealed_key_id(&sealed).unwrap(), (k.key_id.as_str(), 1));
            assert!(open_value(&k, CTX, &sealed).unwrap().ct_eq(&v));
        }
    }

    #[test]
    fn bound_to_arn_and_version() {
        let k = key();
        let v = SecretValue::String(Zeroizing::new("s3cret".into()));
        let sealed = seal_value(&k, CTX, &v).unwrap();
        let other_version = EncryptionContext {
            version_id: "99999999-2222-3333-4444-555555555555",
            ..CTX
        };
        let other_arn = EncryptionContext {
            secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-XyZxYz",
            ..CTX
        };
        assert_eq!(
            open_value(&k, other_version, &sealed).unwrap_err(),
            CryptoError::Unauthentic
        );
        assert_eq!(
            open_value(&k, other_arn, &sealed).unwrap_err(),
            CryptoError::Unauthentic
        );
        assert!(!sealed.windows(6).any(|w| w == b"s3cret"));
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        let k = key();
        for len in 0..120 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
            assert!(open_value(&k, CTX, &junk).is_err());
        }
        let mut sealed =
            seal_value(&k, CTX, &SecretValue::Binary(SecretBytes::new(vec![1]))).unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 0x80;
        assert!(open_value(&k, CTX, &sealed).is_err());
    }
}
