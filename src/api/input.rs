//! JSON in and out: request parsing (SerializationException on malformed JSON or wrong types),
//! sensitive member types that zeroize, and AWS's timestamp format.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::Zeroizing;

use super::ApiError;
use crate::clock::EpochMillis;
use crate::crypto::{SecretBytes, SecretValue};

/// Parses a request body. An empty body counts as `{}`; unknown members are ignored, as AWS
/// does; malformed JSON or a wrong type is a `SerializationException` whose message never
/// echoes the input (it may hold a secret).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let body = match first {
        None => b"{}".as_slice(),
        // serde would read a JSON array as a struct by position; AWS wants an object.
        Some(b'{') => body,
        Some(_) => return Err(ApiError::Serialization),
    };
    // JSON text is UTF-8 (RFC 8259). serde_json only checks the strings it keeps, so invalid
    // UTF-8 inside an ignored (unknown) member would otherwise be accepted; AWS rejects the
    // whole body.
    if std::str::from_utf8(body).is_err() {
        return Err(ApiError::Serialization);
    }
    serde_json::from_slice(body).map_err(|_| ApiError::Serialization)
}

/// The response buffer's first allocation.
const RESPONSE_CAPACITY: usize = 1024;

/// Serialises a response body.
pub fn respond<T: Serialize>(output: &T) -> Result<Vec<u8>, ApiError> {
    // Sized for a typical answer (a GetSecretValue is ~450 bytes): grown from empty, the
    // buffer was reallocated and copied six times per response.
    let mut body = Vec::with_capacity(RESPONSE_CAPACITY);
    serde_json::to_writer(&mut body, output)
        .map(|()| body)
        .map_err(|e| {
            tracing::error!(error = %e, "response serialisation failed");
            ApiError::Internal
        })
}

/// AWS's awsJson timestamp: epoch seconds with fractional milliseconds, as a JSON number.
pub fn timestamp(ms: EpochMillis) -> f64 {
    ms as f64 / 1000.0
}

/// A `SecretString` from the wire: zeroized on drop, redacted in `Debug`.
#[derive(Clone)]
pub struct SensitiveString(pub Zeroizing<String>);

impl fmt::Debug for SensitiveString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl<'de> Deserialize<'de> for SensitiveString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Self(Zeroizing::new(s)))
    }
}

/// A base64 blob from the wire (`SecretBinary`), decoded to raw bytes that zeroize.
#[derive(Clone)]
pub struct SensitiveBlob(pub SecretBytes);

impl fmt::Debug for SensitiveBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// Standard alphabet, padding optional: botocore pads, hand-written clients sometimes do not.
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl<'de> Deserialize<'de> for SensitiveBlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        LENIENT_B64
            .decode(text.as_bytes())
            .map(|b| Self(SecretBytes::new(b)))
            .map_err(|_| serde::de::Error::custom("invalid base64"))
    }
}

/// Base64-encodes bytes for a response (`SecretBinary`).
pub fn encode_blob(bytes: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(general_purpose::STANDARD.encode(bytes))
}

/// The value given by `SecretString`/`SecretBinary`, if any; both at once is AWS's error.
pub fn secret_value(
    string: Option<&SensitiveString>,
    binary: Option<&SensitiveBlob>,
) -> Result<Option<SecretValue>, ApiError> {
    match (string, binary) {
        (Some(_), Some(_)) => Err(ApiError::InvalidParameter(
            "You can't specify both a binary secret value and a string secret value in the same \
             secret."
                .into(),
        )),
        (Some(s), None) => Ok(Some(SecretValue::String(s.0.clone()))),
        (None, Some(b)) => Ok(Some(SecretValue::Binary(b.0.clone()))),
        (None, None) => Ok(None),
    }
}

/// Opaque pagination tokens: URL-safe base64 of a small JSON document.
pub fn encode_token<T: Serialize>(token: &T) -> Result<String, ApiError> {
    let json = serde_json::to_vec(token).map_err(|_| ApiError::Internal)?;
    Ok(general_purpose::URL_SAFE_NO_PAD.encode(json))
}

/// Decodes a token from [`encode_token`]; anything else is `InvalidNextTokenException`.
pub fn decode_token<T: DeserializeOwned>(token: &str) -> Result<T, ApiError> {
    general_purpose::URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::InvalidNextToken("The NextToken value is invalid.".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Probe {
        secret_id: Option<String>,
        flag: Option<bool>,
        secret_binary: Option<SensitiveBlob>,
    }

    #[test]
    fn parsing_rules() {
        let p: Probe = parse(br#"{"SecretId":"a","Unknown":1}"#).unwrap();
        assert_eq!(p.secret_id.as_deref(), Some("a"));
        let p: Probe = parse(b"").unwrap();
        assert!(p.secret_id.is_none());
        assert!(parse::<Probe>(br#"{"Flag":"true"}"#).is_err());
        assert!(parse::<Probe>(b"{").is_err());
        assert!(parse::<Probe>(b"[]").is_err());
        assert!(parse::<Probe>(br#"["a"]"#).is_err());
        assert!(parse::<Probe>(b"1").is_err());
        assert!(parse::<Probe>(br#"{"SecretBinary":"!!"}"#).is_err());
        // Invalid UTF-8, even in a member that would be ignored.
        assert!(parse::<Probe>(b"{\"Unknown\":\"\xff\"}").is_err());
        let p: Probe = parse(br#"{"SecretBinary":"AAE"}"#).unwrap();
        assert_eq!(p.secret_binary.unwrap().0.expose(), &[0, 1]);
        assert!(p.flag.is_none());
    }

    #[test]
    fn tokens_round_trip() {
        let t = encode_token(&("a", 5)).unwrap();
        let back: (String, i32) = decode_token(&t).unwrap();
        assert_eq!(back, ("a".to_string(), 5));
        assert!(decode_token::<(String, i32)>("%%%").is_err());
    }

    #[test]
    fn timestamps_are_seconds() {
        assert_eq!(timestamp(1_523_477_145_713), 1_523_477_145.713);
    }
}
