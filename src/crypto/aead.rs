//! AES-256-GCM through `ring`, with a fresh random 96-bit nonce per seal.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use zeroize::Zeroizing;

use super::{CryptoError, SecretBytes};

/// Length of an AES-256 key.
pub const KEY_LEN: usize = 32;
/// Bytes added by a seal: nonce plus tag.
pub const OVERHEAD: usize = NONCE_LEN + 16;

/// Fills a new buffer with `n` bytes from the OS CSPRNG.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, CryptoError> {
    let mut buf = vec![0u8; n];
    super::os_random::fill(&mut buf)?;
    Ok(buf)
}

/// A 256-bit AES-GCM key. The raw bytes live in a [`SecretBytes`] and zeroize on drop.
pub struct AeadKey {
    raw: SecretBytes,
    key: LessSafeKey,
}

impl std::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AeadKey([REDACTED])")
    }
}

impl AeadKey {
    /// Wraps 32 bytes of key material.
    pub fn new(raw: SecretBytes) -> Result<Self, CryptoError> {
        let unbound =
            UnboundKey::new(&AES_256_GCM, raw.expose()).map_err(|_| CryptoError::Malformed)?;
        Ok(Self {
            raw,
            key: LessSafeKey::new(unbound),
        })
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        Self::new(SecretBytes::new(random_bytes(KEY_LEN)?))
    }

    /// The raw key bytes, for wrapping under another key.
    pub fn raw(&self) -> &SecretBytes {
        &self.raw
    }

    /// Seals `plaintext` and returns `nonce || ciphertext || tag`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes = random_bytes(NONCE_LEN)?;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&nonce_bytes);
        let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let mut body = out.split_off(NONCE_LEN);
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .map_err(|_| CryptoError::Unauthentic)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Opens the output of [`seal`](Self::seal).
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<SecretBytes, CryptoError> {
        if sealed.len() < OVERHEAD {
            return Err(CryptoError::Malformed);
        }
        let (nonce_bytes, body) = sealed.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce_bytes).map_err(|_| CryptoError::Malformed)?;
        // Zeroizing<Vec> wipes its whole capacity on drop, so the tag bytes that `truncate`
        // leaves behind are wiped too.
        let mut work = Zeroizing::new(body.to_vec());
        let plain_len = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut work)
            .map_err(|_| CryptoError::Unauthentic)?
            .len();
        work.truncate(plain_len);
        Ok(SecretBytes::from_zeroizing(work))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_aad_binding() {
        let key = AeadKey::generate().unwrap();
        let sealed = key.seal(b"value", b"aad-1").unwrap();
        assert_eq!(sealed.len(), 5 + OVERHEAD);
        assert_eq!(key.open(&sealed, b"aad-1").unwrap().expose(), b"value");
        assert_eq!(
            key.open(&sealed, b"aad-2").unwrap_err(),
            CryptoError::Unauthentic
        );
        let mut tampered = sealed.clone();
        tampered[NONCE_LEN] ^= 1;
        assert!(key.open(&tampered, b"aad-1").is_err());
        assert_eq!(
            key.open(&sealed[..10], b"aad-1").unwrap_err(),
            CryptoError::Malformed
        );
    }

    #[test]
    fn nonces_are_fresh() {
        let key = AeadKey::generate().unwrap();
        assert_ne!(key.seal(b"v", b"").unwrap(), key.seal(b"v", b"").unwrap());
    }
}
