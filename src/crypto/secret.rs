//! Types that hold secret plaintext: zeroized on drop, redacted in `Debug`, no `PartialEq`.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Secret bytes (a data key, a decrypted value, key material).
#[derive(Clone)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `bytes`; they are zeroized when this value drops.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Takes ownership of an already zeroizing buffer.
    pub fn from_zeroizing(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }

    /// The bytes, for the one place that must use them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {}])", self.0.len())
    }
}

/// A secret version's value: text (`SecretString`) or raw bytes (`SecretBinary`).
#[derive(Clone)]
pub enum SecretValue {
    /// A `SecretString`.
    String(Zeroizing<String>),
    /// A `SecretBinary`, stored as raw bytes (base64 exists only on the wire).
    Binary(SecretBytes),
}

impl SecretValue {
    const KIND_STRING: u8 = 1;
    const KIND_BINARY: u8 = 2;

    /// Size in bytes, the unit of AWS's 65,536-byte quota.
    pub fn byte_len(&self) -> usize {
        match self {
            Self::String(s) => s.len(),
            Self::Binary(b) => b.len(),
        }
    }

    /// Constant-time equality of kind and content, for ClientRequestToken idempotency checks.
    pub fn ct_eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::String(a), Self::String(b)) => bool::from(a.as_bytes().ct_eq(b.as_bytes())),
            (Self::Binary(a), Self::Binary(b)) => bool::from(a.expose().ct_eq(b.expose())),
            _ => false,
        }
    }

    /// Encodes as `kind byte || content` for sealing.
    pub(crate) fn encode(&self) -> SecretBytes {
        let (kind, content) = match self {
            Self::String(s) => (Self::KIND_STRING, s.as_bytes()),
            Self::Binary(b) => (Self::KIND_BINARY, b.expose()),
        };
        let mut out = Vec::with_capacity(content.len() + 1);
        out.push(kind);
        out.extend_from_slice(content);
        SecretBytes::new(out)
    }

    /// Decodes the output of [`encode`](Self::encode).
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let (&kind, content) = bytes.split_first()?;
        match kind {
            Self::KIND_STRING => std::str::from_utf8(content)
                .ok()
                .map(|s| Self::String(Zeroizing::new(s.to_string()))),
            Self::KIND_BINARY => Some(Self::Binary(SecretBytes::new(content.to_vec()))),
            _ => None,
        }
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(_) => f.write_str("SecretValue::String([REDACTED])"),
            Self::Binary(_) => f.write_str("SecretValue::Binary([REDACTED])"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let v = SecretValue::String(Zeroizing::new("hunter2".into()));
        assert!(!format!("{v:?}").contains("hunter2"));
        let b = SecretBytes::new(b"hunter2".to_vec());
        assert!(!format!("{b:?}").contains("hunter2"));
    }

    #[test]
    fn encode_round_trips_and_compares() {
        let s = SecretValue::String(Zeroizing::new("x".into()));
        let b = SecretValue::Binary(SecretBytes::new(b"x".to_vec()));
        assert!(!s.ct_eq(&b));
        let s2 = SecretValue::decode(s.encode().expose()).unwrap();
        assert!(s.ct_eq(&s2));
        let b2 = SecretValue::decode(b.encode().expose()).unwrap();
        assert!(b.ct_eq(&b2));
        assert!(SecretValue::decode(&[9, 1]).is_none());
    }
}
