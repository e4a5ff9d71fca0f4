//! AWS Signature Version 4: the pure parts, with no I/O and no clock.
//!
//! Everything here is a function of its arguments so that it can be checked byte for byte
//! against AWS's published examples and test suite. The verifier in
//! [`Authenticator`](super::Authenticator) and the signer [`sign_headers`] share these
//! functions, so a request signed here is canonicalised exactly as it is verified.
//!
//! The rules are those of SigV4 for services other than S3: the URI path is normalised
//! (dot segments and repeated slashes removed) and each segment is percent-encoded again, so a
//! `%` already in the path becomes `%25`.

use std::borrow::Cow;
use std::fmt;

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};
use ring::{digest, hmac};
use zeroize::Zeroizing;

use super::AuthError;
use crate::clock::EpochMillis;

/// The only signing algorithm this server accepts.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The fixed last element of every SigV4 credential scope.
pub const SCOPE_TERMINATOR: &str = "aws4_request";

/// The payload hash a client may sign instead of hashing the body.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// `hex(sha256(""))`, the payload hash of a request without a body.
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Headers [`sign_headers`] never signs: hop-by-hop headers, and headers that proxies or
/// tracing middleware may add or rewrite after signing. The list is botocore's.
const UNSIGNED_HEADERS: &[&str] = &[
    "authorization",
    "user-agent",
    "expect",
    "x-amzn-trace-id",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "traceparent",
    "tracestate",
    "baggage",
];

/// RFC 3986 unreserved characters stay as they are; every other byte is percent-encoded with
/// upper-case hex, as SigV4 requires.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A derived SigV4 signing key (`kSigning`). Zeroized on drop because it stands in for the
/// secret access key for a whole day.
pub type SigningKey = Zeroizing<[u8; 32]>;

/// The `<date>/<region>/<service>/<terminator>` part of a SigV4 credential, borrowed from the
/// header it was parsed from (or from the signer's parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialScope<'a> {
    /// `YYYYMMDD`, which must equal the date of the request's timestamp.
    pub date: &'a str,
    /// The region the client signed for, e.g. `us-east-1`.
    pub region: &'a str,
    /// The signing name of the service, e.g. `secretsmanager`.
    pub service: &'a str,
    /// Should be [`SCOPE_TERMINATOR`]; kept as sent so the verifier can report a wrong one.
    pub terminator: &'a str,
}

impl<'a> CredentialScope<'a> {
    /// A well-formed scope ending in [`SCOPE_TERMINATOR`].
    pub fn new(date: &'a str, region: &'a str, service: &'a str) -> Self {
        Self {
            date,
            region,
            service,
            terminator: SCOPE_TERMINATOR,
        }
    }

    /// `date/region/service/terminator`, built without the formatting machinery (`join`
    /// sizes it once): the verifier needs it on every request.
    pub fn text(&self) -> String {
        [self.date, self.region, self.service, self.terminator].join("/")
    }
}

impl fmt::Display for CredentialScope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header, borrowed from it.
///
/// None of this is secret: the signature is a MAC that the client sent in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization<'a> {
    /// The access key id from `Credential=`.
    pub access_key_id: &'a str,
    /// The credential scope from `Credential=`.
    pub scope: CredentialScope<'a>,
    /// The names from `SignedHeaders=`, lower-cased, sorted and without duplicates or empty
    /// entries, i.e. in the form they take in the canonical request. Names sent in lower case
    /// (what every SDK sends) are borrowed.
    pub signed_headers: Vec<Cow<'a, str>>,
    /// The `Signature=` value exactly as sent; it is not validated here, so that a malformed
    /// signature still goes through the constant-time comparison and fails there.
    pub signature: &'a str,
}

impl ParsedAuthorization<'_> {
    /// Whether `name` (lower case) is among the signed headers.
    pub fn signs(&self, name: &str) -> bool {
        self.signed_headers.iter().any(|h| h == name)
    }
}

/// Parses an `Authorization` header of the form
/// `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=a;b, Signature=hex`.
///
/// This function does not know whether the request carries a date header;
/// [`Authenticator`](super::Authenticator) adds that sentence when it applies.
///
/// # Errors
///
/// [`AuthError::IncompleteSignature`] with AWS's wording when a token is not `key=value`, the
/// algorithm is not `AWS4-HMAC-SHA256`, `Credential`, `SignedHeaders` or `Signature` is
/// missing, or the credential does not have exactly five `/`-separated elements.
pub fn parse_authorization(header: &str) -> Result<ParsedAuthorization<'_>, AuthError> {
    parse_authorization_with_date(header, true)
}

/// [`parse_authorization`], reporting a missing `X-Amz-Date`/`Date` header in the same message
/// as the missing parameters, the way AWS lists every problem it found at once.
pub(crate) fn parse_authorization_with_date(
    header: &str,
    has_date_header: bool,
) -> Result<ParsedAuthorization<'_>, AuthError> {
    // AWS splits on commas and on whitespace alike: `Credential= AKID/...` is reported as
    // `'AKID/...' not a valid key=value pair`, so a stray space is a separate token. The set
    // is a comma plus `u8::is_ascii_whitespace`, as a char set (faster than a closure).
    let mut tokens = header
        .split([',', ' ', '\t', '\n', '\r', '\x0c'])
        .filter(|t| !t.is_empty());
    let algorithm = tokens.next().unwrap_or("");

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for token in tokens {
        let Some((key, value)) = token.split_once('=') else {
            return Err(AuthError::IncompleteSignature(format!(
                "'{token}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )));
        };
        // The first occurrence wins, so a later duplicate cannot override what was parsed.
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }

    if !algorithm.is_empty() && algorithm != ALGORITHM {
        // AWS's wording for this case is not documented; this follows the style of its other
        // Authorization-header messages.
        return Err(AuthError::IncompleteSignature(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'. Authorization={header}"
        )));
    }

    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Authorization header requires 'Credential' parameter.");
    }
    if signature.is_none() {
        missing.push("Authorization header requires 'Signature' parameter.");
    }
    if signed_headers.is_none() {
        missing.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    if !has_date_header {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), true) =
        (credential, signed_headers, signature, missing.is_empty())
    else {
        return Err(AuthError::IncompleteSignature(format!(
            "{} Authorization={header}",
            missing.join(" ")
        )));
    };

    let (access_key_id, scope) = parse_credential(credential)?;
    Ok(ParsedAuthorization {
        access_key_id,
        scope,
        signed_headers: normalize_signed_headers(signed_headers.split(';')),
        signature,
    })
}

/// Splits a credential, `AKID/20150830/us-east-1/iam/aws4_request`, into the access key id
/// and the scope. The scope's parts are not checked here, only their number.
///
/// # Errors
///
/// [`AuthError::IncompleteSignature`] unless there are exactly five `/`-separated elements.
pub fn parse_credential(credential: &str) -> Result<(&str, CredentialScope<'_>), AuthError> {
    let mut parts = credential.split('/');
    let (Some(access_key_id), Some(date), Some(region), Some(service), Some(terminator), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(AuthError::IncompleteSignature(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    };
    Ok((
        access_key_id,
        CredentialScope {
            date,
            region,
            service,
            terminator,
        },
    ))
}

/// The query parameters of a presigned (query-string) SigV4 request.
pub mod query_param {
    /// The algorithm, `AWS4-HMAC-SHA256`; its presence makes a request presigned.
    pub const ALGORITHM: &str = "X-Amz-Algorithm";
    /// `AKID/date/region/service/aws4_request`.
    pub const CREDENTIAL: &str = "X-Amz-Credential";
    /// The signing time, `YYYYMMDDTHHMMSSZ`.
    pub const DATE: &str = "X-Amz-Date";
    /// How many seconds after the signing time the request stays valid.
    pub const EXPIRES: &str = "X-Amz-Expires";
    /// The signed header names, `;`-separated.
    pub const SIGNED_HEADERS: &str = "X-Amz-SignedHeaders";
    /// The signature: the one parameter left out of the canonical query string.
    pub const SIGNATURE: &str = "X-Amz-Signature";
    /// The session token of temporary credentials.
    pub const SECURITY_TOKEN: &str = "X-Amz-Security-Token";
}

/// The longest a presigned request may stay valid: seven days, the life of a signing key.
pub const MAX_PRESIGNED_EXPIRES_SECS: i64 = 7 * 24 * 60 * 60;

/// The `name=value` pairs of a raw query string, split but not decoded. A pair without `=`
/// has an empty value.
fn raw_query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// Percent-decodes one query component as text (`+` stays `+`, as SigV4 clients encode spaces
/// as `%20`); bytes that are not UTF-8 become U+FFFD.
fn decode_component(component: &str) -> Cow<'_, str> {
    percent_decode_str(component).decode_utf8_lossy()
}

/// Whether the raw query has a parameter whose decoded name is `name`.
pub fn has_query_param(query: &str, name: &str) -> bool {
    !query.is_empty() && raw_query_pairs(query).any(|(n, _)| decode_component(n) == name)
}

/// The raw query without its `X-Amz-Signature` parameters: what a presigned request's
/// canonical query string is built from.
pub fn query_without_signature(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let name = part.split_once('=').map_or(part, |(n, _)| n);
        if decode_component(name) == query_param::SIGNATURE {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(part);
    }
    out
}

/// `query` with the value of every `X-Amz-Security-Token` parameter replaced by
/// `[REDACTED]`, for logs and error messages; borrowed when there is none.
pub fn redact_query_token(query: &str) -> Cow<'_, str> {
    if !raw_query_pairs(query).any(|(n, _)| decode_component(n) == query_param::SECURITY_TOKEN) {
        return Cow::Borrowed(query);
    }
    let parts: Vec<Cow<'_, str>> = query
        .split('&')
        .map(|part| {
            let name = part.split_once('=').map_or(part, |(n, _)| n);
            if decode_component(name) == query_param::SECURITY_TOKEN {
                Cow::Owned(format!("{name}=[REDACTED]"))
            } else {
                Cow::Borrowed(part)
            }
        })
        .collect();
    Cow::Owned(parts.join("&"))
}

/// The authentication parameters of a presigned request, percent-decoded.
///
/// Only the session token is secret; it is kept in a zeroizing buffer and never shown by
/// `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedParams {
    /// `X-Amz-Credential`.
    pub credential: String,
    /// `X-Amz-Date`, as sent.
    pub amz_date: String,
    /// `X-Amz-Expires` in seconds (1 to [`MAX_PRESIGNED_EXPIRES_SECS`]), if sent.
    pub expires: Option<i64>,
    /// `X-Amz-SignedHeaders`.
    pub signed_headers: String,
    /// `X-Amz-Signature`, as sent: not validated here, so that a malformed one still goes
    /// through the constant-time comparison.
    pub signature: String,
    /// `X-Amz-Security-Token`, if sent.
    pub security_token: Option<Zeroizing<String>>,
}

impl fmt::Debug for PresignedParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresignedParams")
            .field("credential", &self.credential)
            .field("amz_date", &self.amz_date)
            .field("expires", &self.expires)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &self.signature)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

impl PresignedParams {
    /// The parameters as the verifier uses them, borrowed from `self`: access key id, scope,
    /// normalised signed header names and signature.
    ///
    /// # Errors
    ///
    /// [`AuthError::IncompleteSignature`] when the credential does not have five elements.
    pub fn authorization(&self) -> Result<ParsedAuthorization<'_>, AuthError> {
        let (access_key_id, scope) = parse_credential(&self.credential)?;
        Ok(ParsedAuthorization {
            access_key_id,
            scope,
            signed_headers: normalize_signed_headers(self.signed_headers.split(';')),
            signature: &self.signature,
        })
    }
}

/// Reads the authentication parameters of a presigned request from its raw query string.
/// `Ok(None)` when there is no `X-Amz-Algorithm` parameter: the request is not presigned.
///
/// # Errors
///
/// [`AuthError::IncompleteSignature`] with AWS's wording when `X-Amz-Credential`,
/// `X-Amz-Signature`, `X-Amz-SignedHeaders` or `X-Amz-Date` is missing or empty (every one
/// missing is listed); when an authentication parameter appears twice; when the algorithm is
/// not `AWS4-HMAC-SHA256`; or when `X-Amz-Expires` is not a whole number of seconds from 1 to
/// 604800.
pub fn parse_presigned(query: &str) -> Result<Option<PresignedParams>, AuthError> {
    let mut algorithm = None;
    let mut credential = None;
    let mut amz_date = None;
    let mut expires = None;
    let mut signed_headers = None;
    let mut signature = None;
    let mut security_token: Option<Zeroizing<String>> = None;
    for (raw_name, raw_value) in raw_query_pairs(query) {
        let name = decode_component(raw_name);
        if name == query_param::SECURITY_TOKEN {
            if security_token.is_some() {
                return Err(duplicate_parameter(&name));
            }
            security_token = Some(Zeroizing::new(decode_component(raw_value).into_owned()));
            continue;
        }
        let slot = match name.as_ref() {
            query_param::ALGORITHM => &mut algorithm,
            query_param::CREDENTIAL => &mut credential,
            query_param::DATE => &mut amz_date,
            query_param::EXPIRES => &mut expires,
            query_param::SIGNED_HEADERS => &mut signed_headers,
            query_param::SIGNATURE => &mut signature,
            _ => continue,
        };
        if slot.is_some() {
            return Err(duplicate_parameter(&name));
        }
        *slot = Some(decode_component(raw_value).into_owned());
    }
    let Some(algorithm) = algorithm else {
        return Ok(None);
    };

    // AWS lists every missing (or empty) parameter at once, in this order.
    let mut missing = String::new();
    for (name, value) in [
        (query_param::ALGORITHM, Some(algorithm.as_str())),
        (query_param::CREDENTIAL, credential.as_deref()),
        (query_param::SIGNATURE, signature.as_deref()),
        (query_param::SIGNED_HEADERS, signed_headers.as_deref()),
        (query_param::DATE, amz_date.as_deref()),
    ] {
        if value.is_none_or(str::is_empty) {
            missing.push_str("AWS query-string parameters must include '");
            missing.push_str(name);
            missing.push_str("'. ");
        }
    }
    let (Some(credential), Some(signature), Some(signed_headers), Some(amz_date), true) = (
        credential,
        signature,
        signed_headers,
        amz_date,
        missing.is_empty(),
    ) else {
        return Err(AuthError::IncompleteSignature(format!(
            "{missing}Re-examine the query-string parameters."
        )));
    };
    if algorithm != ALGORITHM {
        return Err(AuthError::IncompleteSignature(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'. Re-examine the query-string parameters."
        )));
    }
    let expires = match expires {
        None => None,
        Some(text) => Some(parse_expires(&text)?),
    };
    Ok(Some(PresignedParams {
        credential,
        amz_date,
        expires,
        signed_headers,
        signature,
        security_token,
    }))
}

/// AWS does not document its wording for a repeated authentication parameter; this follows
/// the style of its other query-string messages.
fn duplicate_parameter(name: &str) -> AuthError {
    AuthError::IncompleteSignature(format!(
        "AWS query-string parameters must include '{name}' only once. Re-examine the query-string parameters."
    ))
}

/// `X-Amz-Expires`: 1 to [`MAX_PRESIGNED_EXPIRES_SECS`] seconds, digits only. The messages
/// are S3's, the one service that documents them.
fn parse_expires(text: &str) -> Result<i64, AuthError> {
    let number = (!text.is_empty() && text.len() <= 18 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse::<i64>().ok())
        .flatten();
    match number {
        None => Err(AuthError::IncompleteSignature(format!(
            "X-Amz-Expires should be a number, not '{text}'. Re-examine the query-string parameters."
        ))),
        Some(0) => Err(AuthError::IncompleteSignature(
            "X-Amz-Expires must be at least 1 second. Re-examine the query-string parameters."
                .to_string(),
        )),
        Some(n) if n > MAX_PRESIGNED_EXPIRES_SECS => Err(AuthError::IncompleteSignature(format!(
            "X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGNED_EXPIRES_SECS}. Re-examine the query-string parameters."
        ))),
        Some(n) => Ok(n),
    }
}

/// Lower-cases, sorts and de-duplicates header names, dropping empty ones: the form the
/// `SignedHeaders` line of a canonical request takes.
fn normalize_signed_headers<'a>(names: impl Iterator<Item = &'a str>) -> Vec<Cow<'a, str>> {
    let mut names: Vec<Cow<'a, str>> = names
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            if n.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(n.to_ascii_lowercase())
            } else {
                Cow::Borrowed(n)
            }
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The canonical URI of a raw request path (as sent on the wire, already percent-encoded).
///
/// Dot segments and empty segments are removed, then every segment is percent-encoded again,
/// so `%3A` becomes `%253A`: that is what botocore and the other SDKs sign for every service
/// but S3. An empty path is `/`.
pub fn canonical_uri(path: &str) -> String {
    let normalized = normalize_path(path);
    let mut out = String::with_capacity(normalized.len());
    for (i, segment) in normalized.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.extend(percent_encode(segment.as_bytes(), UNRESERVED));
    }
    out
}

/// RFC 3986 dot-segment removal, plus the removal of empty segments that AWS also does. A
/// leading and a trailing slash are kept.
fn normalize_path(path: &str) -> Cow<'_, str> {
    if path.is_empty() {
        return Cow::Borrowed("/");
    }
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            s => kept.push(s),
        }
    }
    let leading = if path.starts_with('/') { "/" } else { "" };
    let trailing = if path.ends_with('/') && !kept.is_empty() {
        "/"
    } else {
        ""
    };
    Cow::Owned(format!("{leading}{}{trailing}", kept.join("/")))
}

/// The canonical query string of a raw query (without the `?`).
///
/// Each name and value is percent-decoded and encoded again with RFC 3986 rules, so any
/// spelling a client chose on the wire canonicalises the same way; then the pairs are sorted
/// by name and, for repeated names, by value. A parameter without `=` gets an empty value.
pub fn canonical_query_string(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            (reencode(name), reencode(value))
        })
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(query.len());
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Percent-decodes then RFC 3986-encodes one query component. `+` is taken literally, not as
/// a space: SigV4 clients encode spaces as `%20`.
fn reencode(component: &str) -> String {
    let decoded: Cow<'_, [u8]> = percent_decode_str(component).into();
    percent_encode(&decoded, UNRESERVED).to_string()
}

/// The canonical value of header `name`: every value it has, in order, each trimmed with inner
/// runs of whitespace collapsed to one space, joined by `,`. An absent header gives `""`.
pub fn canonical_header_value(headers: &HeaderMap, name: &str) -> String {
    let mut out = String::new();
    push_header_value(&mut out, headers, name);
    out
}

/// Appends the canonical value of header `name` (see [`canonical_header_value`]) to `out`.
fn push_header_value(out: &mut String, headers: &HeaderMap, name: &str) {
    for (i, value) in headers.get_all(name).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_trimmed(out, value.as_bytes());
    }
}

/// Appends `value` with leading and trailing whitespace removed and inner runs collapsed.
fn push_trimmed(out: &mut String, value: &[u8]) {
    // Header values are bytes; a non-UTF-8 one cannot have been signed by any SDK, so a lossy
    // conversion only changes requests that fail verification anyway.
    let text = String::from_utf8_lossy(value);
    for (i, word) in text.split_ascii_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// The SigV4 canonical request.
///
/// `path` and `query` are raw (as on the wire, `query` without `?`). `signed_headers` may be
/// in any case and order; they are lower-cased, sorted and de-duplicated here, so the
/// canonical headers and the `SignedHeaders` line always agree. `payload_hash` is
/// `hex(sha256(body))` or the signed `x-amz-content-sha256` value.
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    signed_headers: &[&str],
    payload_hash: &str,
) -> String {
    // The verifier passes names it already normalised; only others are copied.
    let normalized;
    let names: &[&str] = if is_normalized(signed_headers) {
        signed_headers
    } else {
        normalized = normalize_signed_headers(signed_headers.iter().copied());
        &normalized.iter().map(|n| n.as_ref()).collect::<Vec<_>>()
    };
    let mut out = String::with_capacity(512);
    out.push_str(method);
    out.push('\n');
    if path == "/" {
        out.push('/');
    } else {
        out.push_str(&canonical_uri(path));
    }
    out.push('\n');
    if !query.is_empty() {
        out.push_str(&canonical_query_string(query));
    }
    out.push('\n');
    for name in names {
        out.push_str(name);
        out.push(':');
        push_header_value(&mut out, headers, name);
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// True when `names` are already lower case, sorted, unique, non-empty and trimmed: the form
/// [`normalize_signed_headers`] produces.
fn is_normalized(names: &[&str]) -> bool {
    names.iter().all(|n| {
        !n.is_empty()
            && !n
                .bytes()
                .any(|b| b.is_ascii_uppercase() || b.is_ascii_whitespace())
    }) && names.windows(2).all(|w| w[0] < w[1])
}

/// The SigV4 string to sign: algorithm, timestamp (`YYYYMMDDTHHMMSSZ`), scope
/// (`date/region/service/aws4_request`) and the hex SHA-256 of the canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    let hash = hash_hex(canonical_request.as_bytes());
    [ALGORITHM, amz_date, scope, hex_str(&hash)].join("\n")
}

/// Derives the signing key `kSigning` from a secret access key and a credential scope.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> SigningKey {
    // "AWS4" + secret is as sensitive as the secret itself.
    let mut seed = Zeroizing::new(Vec::with_capacity(4 + secret.len()));
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.as_bytes());
    let k_date = Zeroizing::new(hmac_sha256(&seed, date.as_bytes()));
    let k_region = Zeroizing::new(hmac_sha256(k_date.as_ref(), region.as_bytes()));
    let k_service = Zeroizing::new(hmac_sha256(k_region.as_ref(), service.as_bytes()));
    Zeroizing::new(hmac_sha256(k_service.as_ref(), SCOPE_TERMINATOR.as_bytes()))
}

/// The raw signature: `HMAC-SHA256(signing_key, string_to_sign)`. Hex-encode it for the wire.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> [u8; 32] {
    hmac_sha256(signing_key, string_to_sign.as_bytes())
}

/// HMAC-SHA256 with a 32-byte output.
fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&key, data);
    let mut out = [0u8; 32];
    // HMAC-SHA256 tags are always 32 bytes, so the lengths match.
    out.copy_from_slice(tag.as_ref());
    out
}

/// Lower-case hex SHA-256, the form SigV4 uses for payload and canonical-request hashes.
pub fn sha256_hex(data: &[u8]) -> String {
    hex_str(&hash_hex(data)).to_string()
}

/// [`sha256_hex`] into a stack buffer: the verifier hashes twice per request.
fn hash_hex(data: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    // 32 digest bytes always fill exactly 64 hex digits, so this cannot fail.
    let _ = hex::encode_to_slice(digest::digest(&digest::SHA256, data), &mut out);
    out
}

/// The text of hex digits made by [`hash_hex`] (always ASCII).
fn hex_str(digits: &[u8; 64]) -> &str {
    std::str::from_utf8(digits).unwrap_or_default()
}

/// Formats a timestamp as SigV4's `YYYYMMDDTHHMMSSZ` (UTC, truncated to the second).
///
/// Timestamps outside the range `time` can represent (far beyond year 9999) are clamped to the
/// epoch: they only ever appear in error messages.
pub fn format_amz_date(at: EpochMillis) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(at.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses SigV4's `YYYYMMDDTHHMMSSZ`; anything else (other lengths, separators, a zone other
/// than `Z`, impossible dates) is `None`.
pub fn parse_amz_date(value: &str) -> Option<EpochMillis> {
    let b = value.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let s = value.get(range)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(digits(4..6)?).ok()?).ok()?;
    let day = u8::try_from(digits(6..8)?).ok()?;
    let hour = u8::try_from(digits(9..11)?).ok()?;
    let minute = u8::try_from(digits(11..13)?).ok()?;
    let second = u8::try_from(digits(13..15)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let clock = time::Time::from_hms(hour, minute, second).ok()?;
    let at = time::PrimitiveDateTime::new(date, clock).assume_utc();
    Some(at.unix_timestamp() * 1000)
}

/// Parses an HTTP `Date` header (RFC 1123, or the obsolete RFC 850 and asctime forms);
/// `None` if it is malformed or before the epoch.
pub fn parse_http_date(value: &str) -> Option<EpochMillis> {
    let at = httpdate::parse_http_date(value).ok()?;
    let since = at.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(since.as_millis()).ok()
}

/// What [`sign_headers`] needs to sign a request.
#[derive(Clone)]
pub struct SigningParams<'a> {
    /// The access key id.
    pub access_key_id: &'a str,
    /// The secret access key.
    pub secret_access_key: &'a str,
    /// The session token of temporary credentials, sent and signed as `X-Amz-Security-Token`.
    pub session_token: Option<&'a str>,
    /// The region to scope the signature to, e.g. `us-east-1`.
    pub region: &'a str,
    /// The signing name of the service, e.g. `secretsmanager`.
    pub service: &'a str,
    /// The signing time; it becomes `X-Amz-Date`.
    pub time: EpochMillis,
}

impl fmt::Debug for SigningParams<'_> {
    // The secret and the session token must never reach a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningParams")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[REDACTED]")
            .field("session_token", &self.session_token.map(|_| "[REDACTED]"))
            .field("region", &self.region)
            .field("service", &self.service)
            .field("time", &self.time)
            .finish()
    }
}

/// Why [`sign_headers`] could not sign a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// A value that must go into a header (host, session token, access key id) contains
    /// characters HTTP headers cannot carry.
    #[error("the value for header `{0}` is not a valid HTTP header value")]
    InvalidHeaderValue(&'static str),
}

/// The hex signature of `string_to_sign` with `params`' key for `date` (`YYYYMMDD`).
fn sign_with(params: &SigningParams<'_>, date: &str, string_to_sign: &str) -> String {
    let key = signing_key(
        params.secret_access_key,
        date,
        params.region,
        params.service,
    );
    hex::encode(signature(&key, string_to_sign))
}

/// Signs a request in place, the way botocore does for JSON services.
///
/// Sets `host` (unless already present), `x-amz-date` and, with a session token,
/// `x-amz-security-token`; then signs every header present except the hop-by-hop and tracing
/// headers botocore leaves out (`user-agent`, `expect`, `connection`, `traceparent`, ...), and
/// sets `authorization`. For a Secrets Manager call with `content-type` and `x-amz-target`
/// that gives `SignedHeaders=content-type;host;x-amz-date;x-amz-target`. Any previous
/// `authorization` header is replaced. `path` and `query` are raw, as they will be sent.
///
/// # Errors
///
/// [`SignError::InvalidHeaderValue`] when the host or the session token cannot be a header
/// value (control characters, for example).
pub fn sign_headers(
    params: &SigningParams<'_>,
    method: &str,
    host: &str,
    path: &str,
    query: &str,
    headers: &mut HeaderMap,
    body: &[u8],
) -> Result<(), SignError> {
    let amz_date = format_amz_date(params.time);
    if !headers.contains_key(http::header::HOST) {
        let value =
            HeaderValue::from_str(host).map_err(|_| SignError::InvalidHeaderValue("host"))?;
        headers.insert(http::header::HOST, value);
    }
    let date_value = HeaderValue::from_str(&amz_date)
        .map_err(|_| SignError::InvalidHeaderValue("x-amz-date"))?;
    headers.insert(HeaderName::from_static("x-amz-date"), date_value);
    if let Some(token) = params.session_token {
        let mut value = HeaderValue::from_str(token)
            .map_err(|_| SignError::InvalidHeaderValue("x-amz-security-token"))?;
        value.set_sensitive(true);
        headers.insert(HeaderName::from_static("x-amz-security-token"), value);
    }
    headers.remove(http::header::AUTHORIZATION);

    let names = headers_to_sign(headers);
    let name_refs: Vec<&str> = names.iter().map(|n| n.as_ref()).collect();

    let date = amz_date.get(..8).unwrap_or("");
    let scope = CredentialScope::new(date, params.region, params.service).text();
    let creq = canonical_request(method, path, query, headers, &name_refs, &sha256_hex(body));
    let sig = sign_with(params, date, &string_to_sign(&amz_date, &scope, &creq));

    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
        params.access_key_id,
        names.join(";")
    );
    let value = HeaderValue::from_str(&authorization)
        .map_err(|_| SignError::InvalidHeaderValue("authorization"))?;
    headers.insert(http::header::AUTHORIZATION, value);
    Ok(())
}

/// The names of the headers a signer signs: every header present except the hop-by-hop and
/// tracing headers botocore leaves out, in canonical form.
fn headers_to_sign(headers: &HeaderMap) -> Vec<Cow<'_, str>> {
    normalize_signed_headers(
        headers
            .keys()
            .map(HeaderName::as_str)
            .filter(|n| !UNSIGNED_HEADERS.contains(n) && !n.starts_with("proxy-")),
    )
}

/// Presigns a request: returns the query string to send, `query` followed by the
/// `X-Amz-*` parameters and `X-Amz-Signature`, the way botocore's `generate_presigned_url`
/// does for services other than S3.
///
/// Sets `host` (unless already present); every header in `headers` is signed except those
/// [`sign_headers`] leaves out, so they must all be sent as they are. The session token goes
/// in the query. The payload hash is the body's SHA-256, which the verifier also uses.
/// `expires_secs` becomes `X-Amz-Expires` as given (the verifier accepts 1 to 604800).
///
/// # Errors
///
/// [`SignError::InvalidHeaderValue`] when the host cannot be a header value.
#[allow(clippy::too_many_arguments)]
pub fn presign(
    params: &SigningParams<'_>,
    method: &str,
    host: &str,
    path: &str,
    query: &str,
    headers: &mut HeaderMap,
    body: &[u8],
    expires_secs: i64,
) -> Result<String, SignError> {
    if !headers.contains_key(http::header::HOST) {
        let value =
            HeaderValue::from_str(host).map_err(|_| SignError::InvalidHeaderValue("host"))?;
        headers.insert(http::header::HOST, value);
    }
    let amz_date = format_amz_date(params.time);
    let date = amz_date.get(..8).unwrap_or("");
    let scope = CredentialScope::new(date, params.region, params.service).text();
    let names = headers_to_sign(headers);
    let name_refs: Vec<&str> = names.iter().map(|n| n.as_ref()).collect();

    let encode = |value: &str| percent_encode(value.as_bytes(), UNRESERVED).to_string();
    let mut signed_query = String::from(query);
    let mut push = |name: &str, value: &str| {
        if !signed_query.is_empty() {
            signed_query.push('&');
        }
        signed_query.push_str(name);
        signed_query.push('=');
        signed_query.push_str(&encode(value));
    };
    push(query_param::ALGORITHM, ALGORITHM);
    push(
        query_param::CREDENTIAL,
        &format!("{}/{scope}", params.access_key_id),
    );
    push(query_param::DATE, &amz_date);
    push(query_param::EXPIRES, &expires_secs.to_string());
    if let Some(token) = params.session_token {
        push(query_param::SECURITY_TOKEN, token);
    }
    push(query_param::SIGNED_HEADERS, &names.join(";"));

    let creq = canonical_request(
        method,
        path,
        &signed_query,
        headers,
        &name_refs,
        &sha256_hex(body),
    );
    let sig = sign_with(params, date, &string_to_sign(&amz_date, &scope, &creq));
    signed_query.push('&');
    signed_query.push_str(query_param::SIGNATURE);
    signed_query.push('=');
    signed_query.push_str(&sig);
    Ok(signed_query)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SUITE_DATE: &str = "20150830T123600Z";
    const SUITE_SCOPE: &str = "20150830/us-east-1/service/aws4_request";

    fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    /// One case of AWS's SigV4 test suite (the `v4` collection of the CRT suite, header
    /// signing): the request, the expected canonical request and the expected signature.
    struct SuiteCase {
        name: &'static str,
        method: &'static str,
        path: &'static str,
        query: &'static str,
        headers: &'static [(&'static str, &'static str)],
        signed: &'static [&'static str],
        payload_hash: &'static str,
        creq: &'static str,
        signature: &'static str,
    }

    fn check(case: &SuiteCase) {
        let mut pairs = case.headers.to_vec();
        pairs.push(("X-Amz-Date", SUITE_DATE));
        let headers = header_map(&pairs);
        let creq = canonical_request(
            case.method,
            case.path,
            case.query,
            &headers,
            case.signed,
            case.payload_hash,
        );
        assert_eq!(creq, case.creq, "canonical request of {}", case.name);
        let sts = string_to_sign(SUITE_DATE, SUITE_SCOPE, &creq);
        let key = signing_key(SECRET, "20150830", "us-east-1", "service");
        assert_eq!(
            hex::encode(signature(&key, &sts)),
            case.signature,
            "signature of {}",
            case.name
        );
    }

    const HOST: (&str, &str) = ("Host", "example.amazonaws.com");
    const HOST_DATE: &[&str] = &["host", "x-amz-date"];

    /// The canonical request of a GET or POST with only `host` and `x-amz-date` signed.
    macro_rules! vanilla_creq {
        ($method:literal, $uri:literal, $query:literal) => {
            concat!(
                $method,
                "\n",
                $uri,
                "\n",
                $query,
                "\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            )
        };
    }

    #[test]
    fn signing_key_matches_the_aws_documentation_example() {
        let key = signing_key(SECRET, "20150830", "us-east-1", "iam");
        assert_eq!(
            hex::encode(key.as_ref()),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
    }

    #[test]
    fn iam_list_users_example_from_the_aws_documentation() {
        let headers = header_map(&[
            (
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("Host", "iam.amazonaws.com"),
            ("X-Amz-Date", SUITE_DATE),
        ]);
        let creq = canonical_request(
            "GET",
            "/",
            "Action=ListUsers&Version=2010-05-08",
            &headers,
            &["content-type", "host", "x-amz-date"],
            EMPTY_PAYLOAD_SHA256,
        );
        assert_eq!(
            sha256_hex(creq.as_bytes()),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        let sts = string_to_sign(SUITE_DATE, "20150830/us-east-1/iam/aws4_request", &creq);
        let key = signing_key(SECRET, "20150830", "us-east-1", "iam");
        assert_eq!(
            hex::encode(signature(&key, &sts)),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn suite_vanilla_requests() {
        for case in [
            SuiteCase {
                name: "get-vanilla",
                method: "GET",
                path: "/",
                query: "",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!("GET", "/", ""),
                signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            },
            SuiteCase {
                name: "post-vanilla",
                method: "POST",
                path: "/",
                query: "",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!("POST", "/", ""),
                signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            },
            SuiteCase {
                name: "post-vanilla-query",
                method: "POST",
                path: "/",
                query: "Param1=value1",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!("POST", "/", "Param1=value1"),
                signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
            },
            SuiteCase {
                name: "post-header-key-case (header names in upper case)",
                method: "POST",
                path: "/",
                query: "",
                headers: &[HOST],
                signed: &["Host", "X-Amz-Date"],
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!("POST", "/", ""),
                signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            },
        ] {
            check(&case);
        }
    }

    #[test]
    fn suite_query_strings() {
        for case in [
            SuiteCase {
                name: "get-vanilla-query-order-key-case",
                method: "GET",
                path: "/",
                query: "Param2=value2&Param1=value1",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!("GET", "/", "Param1=value1&Param2=value2"),
                signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            },
            SuiteCase {
                name: "get-vanilla-query-order-encoded",
                method: "GET",
                path: "/",
                query: "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!("GET", "/", "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"),
                signature: "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
            },
            SuiteCase {
                name: "get-vanilla-query-unreserved",
                method: "GET",
                path: "/",
                query: "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!(
                    "GET",
                    "/",
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                ),
                signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
            },
            SuiteCase {
                // The suite's request line carries the raw UTF-8 name; it is encoded once.
                name: "get-vanilla-utf8-query",
                method: "GET",
                path: "/",
                query: "\u{1234}=bar",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!("GET", "/", "%E1%88%B4=bar"),
                signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
            },
            SuiteCase {
                name: "get-vanilla-empty-query-key",
                method: "GET",
                path: "/",
                query: "Param1=value1",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!("GET", "/", "Param1=value1"),
                signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
            },
        ] {
            check(&case);
        }
    }

    #[test]
    fn suite_normalized_paths() {
        let vanilla = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        for (name, path) in [
            ("get-relative-normalized", "/example/.."),
            (
                "get-relative-relative-normalized",
                "/example1/example2/../..",
            ),
            ("get-slash-dot-slash-normalized", "/./"),
            ("get-slash-normalized", "//"),
        ] {
            check(&SuiteCase {
                name,
                method: "GET",
                path,
                query: "",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!("GET", "/", ""),
                signature: vanilla,
            });
        }
        for case in [
            SuiteCase {
                name: "get-slash-pointless-dot-normalized",
                method: "GET",
                path: "/./example",
                query: "",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!("GET", "/example", ""),
                signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
            },
            SuiteCase {
                name: "get-slashes-normalized",
                method: "GET",
                path: "//example//",
                query: "",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!("GET", "/example/", ""),
                signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
            },
            SuiteCase {
                name: "get-unreserved",
                method: "GET",
                path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                query: "",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!(
                    "GET",
                    "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                    ""
                ),
                signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
            },
            SuiteCase {
                // The suite gives the path unencoded (`/example space/`); encoding it once
                // yields `%20`. A path already sent as `%20` would become `%2520`.
                name: "get-space-unnormalized",
                method: "GET",
                path: "/example space/",
                query: "",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!("GET", "/example%20space/", ""),
                signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
            },
            SuiteCase {
                name: "get-utf8 (raw UTF-8 path)",
                method: "GET",
                path: "/\u{1234}",
                query: "",
                headers: &[HOST],
                signed: HOST_DATE,
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: vanilla_creq!("GET", "/%E1%88%B4", ""),
                signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
            },
        ] {
            check(&case);
        }
    }

    #[test]
    fn suite_double_encoded_paths() {
        // From the suite's `double-url-encode` and `double-encode-path` cases: a `%` already in
        // the path is encoded again for non-S3 services.
        let headers = header_map(&[
            ("Host", "lambda.us-east-2.amazonaws.com"),
            ("X-Amz-Date", "20210511T154045Z"),
        ]);
        let creq = canonical_request(
            "POST",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-west-2%3A892717189312%3Afunction%3Amy-rusty-fun/invocations",
            "",
            &headers,
            HOST_DATE,
            EMPTY_PAYLOAD_SHA256,
        );
        assert_eq!(
            creq,
            "POST\n/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-west-2%253A892717189312%253Afunction%253Amy-rusty-fun/invocations\n\nhost:lambda.us-east-2.amazonaws.com\nx-amz-date:20210511T154045Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let sts = string_to_sign(
            "20210511T154045Z",
            "20210511/us-east-2/lambda/aws4_request",
            &creq,
        );
        assert_eq!(
            sts,
            "AWS4-HMAC-SHA256\n20210511T154045Z\n20210511/us-east-2/lambda/aws4_request\n684dbb3c92a8b6b1e452e23e523c1ea941c713a4c13500bb9f3bdad1e19afaf7"
        );
        let key = signing_key(SECRET, "20210511", "us-east-2", "lambda");
        assert_eq!(
            hex::encode(signature(&key, &sts)),
            "4b93abbcc68be32bd64c18e2c71150660ab4c29bbd6c32a383a7517a88fc1804"
        );

        assert_eq!(
            canonical_uri("/test/@connections/JBDvjfGEIAMCERw%3D"),
            "/test/%40connections/JBDvjfGEIAMCERw%253D"
        );
    }

    #[test]
    fn suite_headers() {
        for case in [
            SuiteCase {
                name: "get-header-key-duplicate",
                method: "GET",
                path: "/",
                query: "",
                headers: &[
                    HOST,
                    ("My-Header1", "value2"),
                    ("My-Header1", "value2"),
                    ("My-Header1", "value1"),
                ],
                signed: &["host", "my-header1", "x-amz-date"],
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
            },
            SuiteCase {
                name: "get-header-value-order",
                method: "GET",
                path: "/",
                query: "",
                headers: &[
                    HOST,
                    ("My-Header1", "value4"),
                    ("My-Header1", "value1"),
                    ("My-Header1", "value3"),
                    ("My-Header1", "value2"),
                ],
                signed: &["host", "my-header1", "x-amz-date"],
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
            },
            SuiteCase {
                name: "get-header-value-trim",
                method: "GET",
                path: "/",
                query: "",
                headers: &[
                    HOST,
                    ("My-Header1", " value1"),
                    ("My-Header2", " \"a   b   c\""),
                ],
                signed: &["host", "my-header1", "my-header2", "x-amz-date"],
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
            },
            SuiteCase {
                // Signed headers given out of order must still be sorted.
                name: "post-header-key-sort",
                method: "POST",
                path: "/",
                query: "",
                headers: &[HOST, ("My-Header1", "value1")],
                signed: &["x-amz-date", "my-header1", "host"],
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
            },
            SuiteCase {
                name: "post-header-value-case",
                method: "POST",
                path: "/",
                query: "",
                headers: &[HOST, ("My-Header1", "VALUE1")],
                signed: &["host", "my-header1", "x-amz-date"],
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:VALUE1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
            },
            SuiteCase {
                name: "get-vanilla-with-session-token",
                method: "GET",
                path: "/",
                query: "",
                headers: &[
                    HOST,
                    (
                        "X-Amz-Security-Token",
                        "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
                    ),
                ],
                signed: &["host", "x-amz-date", "x-amz-security-token"],
                payload_hash: EMPTY_PAYLOAD_SHA256,
                creq: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n\nhost;x-amz-date;x-amz-security-token\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                signature: "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
            },
        ] {
            check(&case);
        }
    }

    #[test]
    fn suite_signed_payloads() {
        const BODY_HASH: &str = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";
        assert_eq!(sha256_hex(b"Param1=value1"), BODY_HASH);
        for (name, content_type, expected_signature) in [
            (
                "post-x-www-form-urlencoded",
                "application/x-www-form-urlencoded",
                "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
            ),
            (
                "post-x-www-form-urlencoded-parameters",
                "application/x-www-form-urlencoded; charset=utf-8",
                "328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422",
            ),
        ] {
            let pairs = [
                ("Content-Type", content_type),
                HOST,
                ("Content-Length", "13"),
                ("x-amz-content-sha256", BODY_HASH),
                ("X-Amz-Date", SUITE_DATE),
            ];
            let headers = header_map(&pairs);
            let signed = [
                "content-length",
                "content-type",
                "host",
                "x-amz-content-sha256",
                "x-amz-date",
            ];
            let creq = canonical_request("POST", "/", "", &headers, &signed, BODY_HASH);
            let expected = format!(
                "POST\n/\n\ncontent-length:13\ncontent-type:{content_type}\nhost:example.amazonaws.com\nx-amz-content-sha256:{BODY_HASH}\nx-amz-date:20150830T123600Z\n\ncontent-length;content-type;host;x-amz-content-sha256;x-amz-date\n{BODY_HASH}"
            );
            assert_eq!(creq, expected, "canonical request of {name}");
            let sts = string_to_sign(SUITE_DATE, SUITE_SCOPE, &creq);
            let key = signing_key(SECRET, "20150830", "us-east-1", "service");
            assert_eq!(
                hex::encode(signature(&key, &sts)),
                expected_signature,
                "{name}"
            );
        }
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        // get-header-value-multiline: obs-fold continuation lines become single spaces. HTTP
        // header maps reject raw newlines, so the helper is checked directly.
        let mut out = String::new();
        push_trimmed(&mut out, b"value1\n  value2\n     value3");
        assert_eq!(out, "value1 value2 value3");
        let mut out = String::new();
        push_trimmed(&mut out, b" \t a \t\t b  ");
        assert_eq!(out, "a b");
    }

    #[test]
    fn missing_signed_header_canonicalises_as_empty() {
        let headers = header_map(&[HOST]);
        assert_eq!(canonical_header_value(&headers, "x-absent"), "");
    }

    #[test]
    fn canonical_uri_edge_cases() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/../.."), "/");
        assert_eq!(canonical_uri("/a/./b/../c/"), "/a/c/");
        assert_eq!(canonical_uri("/a%20b"), "/a%2520b");
        assert_eq!(canonical_uri("/a b+c*"), "/a%20b%2Bc%2A");
    }

    #[test]
    fn canonical_query_edge_cases() {
        assert_eq!(canonical_query_string(""), "");
        assert_eq!(canonical_query_string("b&a"), "a=&b=");
        assert_eq!(canonical_query_string("a=2&a=1&&"), "a=1&a=2");
        assert_eq!(canonical_query_string("k=a%2fb"), "k=a%2Fb");
        assert_eq!(canonical_query_string("k=a b*"), "k=a%20b%2A");
        assert_eq!(canonical_query_string("k=a+b"), "k=a%2Bb");
    }

    #[test]
    fn parses_a_botocore_authorization_header() {
        let header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
        let parsed = parse_authorization(header).unwrap();
        assert_eq!(parsed.access_key_id, "AKIDEXAMPLE");
        assert_eq!(
            parsed.scope,
            CredentialScope::new("20150830", "us-east-1", "iam")
        );
        assert_eq!(
            parsed.scope.to_string(),
            "20150830/us-east-1/iam/aws4_request"
        );
        assert_eq!(
            parsed.signed_headers,
            ["content-type", "host", "x-amz-date"]
        );
        assert_eq!(
            parsed.signature,
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
        assert!(parsed.signs("host"));
        assert!(!parsed.signs("x-amz-target"));
    }

    #[test]
    fn parse_tolerates_missing_or_extra_whitespace() {
        for header in [
            "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/iam/aws4_request,SignedHeaders=host,Signature=ab",
            "AWS4-HMAC-SHA256   Credential=A/20150830/us-east-1/iam/aws4_request ,  SignedHeaders=host,\tSignature=ab ",
            "AWS4-HMAC-SHA256 Signature=ab, SignedHeaders=host, Credential=A/20150830/us-east-1/iam/aws4_request",
        ] {
            let parsed = parse_authorization(header).unwrap();
            assert_eq!(parsed.access_key_id, "A");
            assert_eq!(parsed.signed_headers, ["host"]);
            assert_eq!(parsed.signature, "ab");
        }
    }

    fn incomplete(header: &str) -> String {
        match parse_authorization(header) {
            Err(AuthError::IncompleteSignature(message)) => message,
            other => panic!("expected IncompleteSignature, got {other:?}"),
        }
    }

    #[test]
    fn parse_reports_each_missing_part() {
        let header = "AWS4-HMAC-SHA256 SignedHeaders=host";
        assert_eq!(
            incomplete(header),
            format!(
                "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization={header}"
            )
        );
        let header =
            "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/iam/aws4_request, Signature=ab";
        assert_eq!(
            incomplete(header),
            format!(
                "Authorization header requires 'SignedHeaders' parameter. Authorization={header}"
            )
        );
        assert_eq!(
            incomplete("AWS4-HMAC-SHA256"),
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256"
        );
        let header = "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=ab";
        match parse_authorization_with_date(header, false) {
            Err(AuthError::IncompleteSignature(message)) => assert_eq!(
                message,
                format!(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={header}"
                )
            ),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn parse_rejects_tokens_without_equal_sign() {
        let header = "AWS4-HMAC-SHA256 Credential= AKID/20181128/eu-central-1/cloud9/aws4_request, SignedHeaders=host, Signature=ab";
        assert_eq!(
            incomplete(header),
            format!(
                "'AKID/20181128/eu-central-1/cloud9/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )
        );
        assert_eq!(
            incomplete("Bearer SomeKey"),
            "'SomeKey' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer SomeKey'."
        );
    }

    #[test]
    fn parse_rejects_other_algorithms() {
        let header = "AWS4-HMAC-SHA512 Credential=A/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=ab";
        assert_eq!(
            incomplete(header),
            format!("Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'. Authorization={header}")
        );
    }

    #[test]
    fn parse_rejects_malformed_credentials() {
        for credential in [
            "AKID/20150830/us-east-1/iam",
            "t10Zbaf/S/20190814/us-west-2/es/aws4_request",
            "",
        ] {
            let header = format!(
                "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=ab"
            );
            assert_eq!(
                incomplete(&header),
                format!(
                    "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
                )
            );
        }
    }

    #[test]
    fn amz_dates_round_trip_and_reject_garbage() {
        let at = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(at, 1_440_938_160_000);
        assert_eq!(format_amz_date(at), "20150830T123600Z");
        assert_eq!(format_amz_date(at + 999), "20150830T123600Z");
        for bad in [
            "",
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "20151330T123600Z",
            "20150230T123600Z",
            "20150830T246000Z",
            "2015083OT123600Z",
            "+0150830T123600Z",
            "20150830t123600z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
        assert_eq!(
            parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"),
            Some(1_440_938_160_000)
        );
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn signer_produces_botocore_shaped_headers() {
        let params = SigningParams {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: SECRET,
            session_token: Some("token/with+chars=="),
            region: "us-east-1",
            service: "secretsmanager",
            time: 1_440_938_160_000,
        };
        let mut headers = header_map(&[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "secretsmanager.GetSecretValue"),
            ("User-Agent", "test/1.0"),
            ("Authorization", "stale"),
        ]);
        let body = br#"{"SecretId":"x"}"#;
        sign_headers(
            &params,
            "POST",
            "localhost:8443",
            "/",
            "",
            &mut headers,
            body,
        )
        .unwrap();
        assert_eq!(headers["host"], "localhost:8443");
        assert_eq!(headers["x-amz-date"], "20150830T123600Z");
        assert_eq!(headers["x-amz-security-token"], "token/with+chars==");
        let authorization = headers["authorization"].to_str().unwrap();
        let parsed = parse_authorization(authorization).unwrap();
        assert_eq!(
            parsed.signed_headers,
            [
                "content-type",
                "host",
                "x-amz-date",
                "x-amz-security-token",
                "x-amz-target"
            ]
        );
        assert_eq!(
            parsed.scope.to_string(),
            "20150830/us-east-1/secretsmanager/aws4_request"
        );

        // Recompute independently from the parts.
        let names: Vec<&str> = parsed.signed_headers.iter().map(|n| n.as_ref()).collect();
        let creq = canonical_request("POST", "/", "", &headers, &names, &sha256_hex(body));
        let sts = string_to_sign("20150830T123600Z", &parsed.scope.to_string(), &creq);
        let key = signing_key(SECRET, "20150830", "us-east-1", "secretsmanager");
        assert_eq!(parsed.signature, hex::encode(signature(&key, &sts)));
    }

    #[test]
    fn signer_rejects_unencodable_values() {
        let params = SigningParams {
            access_key_id: "AKID",
            secret_access_key: SECRET,
            session_token: Some("bad\ntoken"),
            region: "us-east-1",
            service: "secretsmanager",
            time: 0,
        };
        let mut headers = HeaderMap::new();
        assert_eq!(
            sign_headers(&params, "POST", "h", "/", "", &mut headers, b""),
            Err(SignError::InvalidHeaderValue("x-amz-security-token"))
        );
    }

    #[test]
    fn signing_params_debug_redacts_secrets() {
        let params = SigningParams {
            access_key_id: "AKID",
            secret_access_key: SECRET,
            session_token: Some("SESSIONTOKEN"),
            region: "us-east-1",
            service: "kms",
            time: 0,
        };
        let text = format!("{params:?}");
        assert!(!text.contains(SECRET));
        assert!(!text.contains("SESSIONTOKEN"));
        assert!(text.contains("AKID"));
    }

    #[test]
    fn query_parameter_helpers() {
        let q = "Action=GetCallerIdentity&X%2DAmz%2DAlgorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab&flag&X-Amz-Security-Token=tok%2Ben";
        assert!(has_query_param(q, "X-Amz-Algorithm"));
        assert!(has_query_param(q, "flag"));
        assert!(!has_query_param(q, "X-Amz-Credential"));
        assert!(!has_query_param("", "X-Amz-Algorithm"));
        // Names are case-sensitive, as AWS's are.
        assert!(!has_query_param(
            "x-amz-algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Algorithm"
        ));

        assert_eq!(
            query_without_signature(q),
            "Action=GetCallerIdentity&X%2DAmz%2DAlgorithm=AWS4-HMAC-SHA256&flag&X-Amz-Security-Token=tok%2Ben"
        );
        assert_eq!(
            query_without_signature("X-Amz-Signature=1&&X%2DAmz-Signature=2"),
            ""
        );
        assert_eq!(
            redact_query_token(q),
            "Action=GetCallerIdentity&X%2DAmz%2DAlgorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab&flag&X-Amz-Security-Token=[REDACTED]"
        );
        assert!(matches!(
            redact_query_token("a=b&c"),
            Cow::Borrowed("a=b&c")
        ));
    }

    #[test]
    fn parses_presigned_parameters() {
        assert_eq!(parse_presigned(""), Ok(None));
        assert_eq!(
            parse_presigned("Action=GetCallerIdentity&X-Amz-Credential=A%2Fb"),
            Ok(None)
        );
        let q = "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256\
                 &X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fsts%2Faws4_request\
                 &X-Amz-Date=20150830T123600Z&X-Amz-Expires=60\
                 &X-Amz-SignedHeaders=x-k8s-aws-id%3BHost&X-Amz-Signature=ABCD\
                 &X-Amz-Security-Token=t%2Bk%3D";
        let p = parse_presigned(q).unwrap().unwrap();
        assert_eq!(p.credential, "AKID/20150830/us-east-1/sts/aws4_request");
        assert_eq!(p.amz_date, "20150830T123600Z");
        assert_eq!(p.expires, Some(60));
        assert_eq!(p.signature, "ABCD");
        assert_eq!(
            p.security_token.as_deref().map(String::as_str),
            Some("t+k=")
        );
        let a = p.authorization().unwrap();
        assert_eq!(a.access_key_id, "AKID");
        assert_eq!(
            a.scope,
            CredentialScope::new("20150830", "us-east-1", "sts")
        );
        assert_eq!(a.signed_headers, ["host", "x-k8s-aws-id"]);
        assert_eq!(a.signature, "ABCD");

        // X-Amz-Expires is optional; the token too.
        let p = parse_presigned(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a&X-Amz-Date=d&X-Amz-SignedHeaders=host&X-Amz-Signature=s",
        )
        .unwrap()
        .unwrap();
        assert_eq!((p.expires, p.security_token.is_none()), (None, true));
        // The credential is checked when the verifier asks for it.
        assert!(matches!(
            p.authorization(),
            Err(AuthError::IncompleteSignature(m)) if m.starts_with("Credential must have exactly 5")
        ));

        // Duplicates of any authentication parameter, the token included, are refused.
        for dup in [
            "X-Amz-Security-Token=a&X-Amz-Security-Token=b",
            "X-Amz-Algorithm=x",
        ] {
            let q = format!("X-Amz-Algorithm=AWS4-HMAC-SHA256&{dup}");
            assert!(
                matches!(parse_presigned(&q), Err(AuthError::IncompleteSignature(m)) if m.contains("only once")),
                "{dup}"
            );
        }
        // Expires bounds.
        assert_eq!(parse_expires("1"), Ok(1));
        assert_eq!(parse_expires("604800"), Ok(604_800));
        for bad in ["", "0", "604801", "+5", " 5", "5.0", "9223372036854775808"] {
            assert!(parse_expires(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn presign_shapes_the_query_like_botocore() {
        let params = SigningParams {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: SECRET,
            session_token: Some("to+ken"),
            region: "us-east-1",
            service: "sts",
            time: 1_440_938_160_000,
        };
        let mut headers = HeaderMap::new();
        headers.insert("user-agent", HeaderValue::from_static("botocore"));
        let query = presign(
            &params,
            "GET",
            "sts.amazonaws.com",
            "/",
            "Action=GetCallerIdentity&Version=2011-06-15",
            &mut headers,
            b"",
            60,
        )
        .unwrap();
        let (signed, signature) = query.rsplit_once("&X-Amz-Signature=").unwrap();
        assert_eq!(
            signed,
            "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsts%2Faws4_request\
             &X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-Security-Token=to%2Bken\
             &X-Amz-SignedHeaders=host"
        );
        assert_eq!(headers["host"], "sts.amazonaws.com");
        // The signature is over the canonical request with every parameter but itself.
        let creq = canonical_request(
            "GET",
            "/",
            signed,
            &headers,
            &["host"],
            EMPTY_PAYLOAD_SHA256,
        );
        let sts = string_to_sign(
            "20150830T123600Z",
            "20150830/us-east-1/sts/aws4_request",
            &creq,
        );
        let key = signing_key(SECRET, "20150830", "us-east-1", "sts");
        assert_eq!(signature, hex::encode(super::signature(&key, &sts)));
    }
}
