//! The SigV4 verifier: scope, clock skew and credential checks around the pure functions in
//! [`sigv4`](super::sigv4).

use crate::model::is_valid_region;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use http::HeaderMap;
use subtle::{Choice, ConstantTimeEq};

use super::sigv4::{self, ParsedAuthorization, SigningKey};
use super::{AuthError, Caller, CredentialStore, SecretAccessKey, StoredCredential};
use crate::clock::EpochMillis;

/// How far a request's timestamp may be from the server's clock, either way (AWS: 15 min).
const MAX_SKEW_MILLIS: i64 = 15 * 60 * 1000;

/// Derived signing keys kept before the cache is emptied. Each entry is one access key for one
/// day, region and service, so this is far above any real working set; the bound only stops a
/// flood of distinct scopes from growing memory without limit.
const MAX_CACHED_KEYS: usize = 10_000;

/// AWS's text for a signature mismatch, before the canonical request and string to sign.
const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// A request as the authenticator sees it: its parsed parts only, never a client-supplied
/// canonical form.
pub struct SignedRequest<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The raw request path as received, e.g. `/`.
    pub path: &'a str,
    /// The raw query string as received, without the `?`.
    pub query: &'a str,
    /// All request headers.
    pub headers: &'a HeaderMap,
    /// The complete request body.
    pub body: &'a [u8],
}

impl fmt::Debug for SignedRequest<'_> {
    // Header values can hold the session token, and the body can hold secret values: show
    // only what is safe to log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.keys().map(http::HeaderName::as_str).collect();
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &sigv4::redact_query_token(self.query))
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The outcome of a successful verification.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// Who signed the request.
    pub caller: Caller,
    /// The region from the credential scope.
    pub region: String,
    /// The service from the credential scope.
    pub service: String,
}

/// A cached signing key and the secret it was derived from. The secret is kept so that a
/// credential re-created under the same access key id with a new secret never verifies with
/// the old key.
struct CachedKey {
    secret: SecretAccessKey,
    key: SigningKey,
}

/// Verifies SigV4-signed requests against a [`CredentialStore`].
pub struct Authenticator {
    credentials: Arc<dyn CredentialStore>,
    /// Signing keys by `<access key id>/<credential scope>`, so the four-HMAC derivation runs
    /// once per key, day, region and service rather than on every request.
    cache: RwLock<HashMap<String, CachedKey>>,
    /// Used in place of a real signing key when the access key is unknown or unusable, so that
    /// path does the same work (one HMAC and a constant-time compare) as a cached known key.
    dummy_key: SigningKey,
}

impl fmt::Debug for Authenticator {
    // The cache holds secrets and derived keys; only its size is worth showing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("Authenticator")
            .field("cached_signing_keys", &cached)
            .finish_non_exhaustive()
    }
}

/// Where the request's timestamp came from.
struct RequestTime<'a> {
    /// Milliseconds since the epoch.
    at: EpochMillis,
    /// `YYYYMMDDTHHMMSSZ`, as it goes into the string to sign.
    amz_date: Cow<'a, str>,
    /// The header that carried it, which must be signed; `None` for a presigned request's
    /// `X-Amz-Date` parameter, which the canonical query string covers.
    header: Option<&'static str>,
}

/// What a request claims, in either form (`Authorization` header or presigned query), once
/// the form-specific checks have passed: everything [`Authenticator::verify`] needs.
struct Claim<'a> {
    /// Access key id, scope, signed header names and signature.
    parsed: ParsedAuthorization<'a>,
    /// The signing time as it goes into the string to sign.
    amz_date: &'a str,
    /// The raw query the canonical query string is built from (for a presigned request,
    /// without `X-Amz-Signature`).
    query: &'a str,
    /// The payload hash the signature covers.
    payload_hash: String,
    /// Whether the literal `UNSIGNED-PAYLOAD` is accepted in its place (a presigned request
    /// without a body; see [`Authenticator::authenticate`]).
    unsigned_payload_too: bool,
    /// The session token the request presents, if any.
    session_token: Option<&'a [u8]>,
}

impl Authenticator {
    /// An authenticator that looks access keys up in `credentials`.
    pub fn new(credentials: Arc<dyn CredentialStore>) -> Self {
        Self {
            credentials,
            cache: RwLock::new(HashMap::new()),
            dummy_key: sigv4::signing_key(
                "strongbox-unknown-access-key",
                "19700101",
                "none",
                "none",
            ),
        }
    }

    /// Verifies `req`'s SigV4 signature at time `now`, given either in the `Authorization`
    /// header or, for a presigned request, in the query string (`X-Amz-Algorithm`,
    /// `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`,
    /// `X-Amz-Signature` and an optional `X-Amz-Security-Token`).
    ///
    /// `services`: the scope service names this endpoint accepts for the request's target
    /// (e.g. `&["secretsmanager"]`); the first is the one named in the error when the scope
    /// names another.
    ///
    /// A presigned request's canonical query string is every parameter but `X-Amz-Signature`.
    /// Its payload hash is the body's SHA-256, as in the header form and as botocore presigns
    /// for services other than S3 (`e3b0c442...` for GetCallerIdentity's empty body); the
    /// literal `UNSIGNED-PAYLOAD` (S3's rule) is also accepted for a request with no body,
    /// where it leaves nothing unsigned. A body
    /// is never accepted unsigned: a presigned URL could otherwise be replayed with any body.
    /// A signed `x-amz-content-sha256` header is honoured as in the header form. A presigned
    /// request is valid from its signing time (no more than 15 minutes ahead of the server's
    /// clock) until `X-Amz-Expires` seconds after it; without `X-Amz-Expires` the header
    /// form's 15 minutes either way apply.
    ///
    /// # Errors
    ///
    /// In the order they are checked: no `Authorization` header and no `X-Amz-Algorithm`
    /// parameter gives [`AuthError::MissingAuthenticationToken`], and both at once
    /// [`AuthError::InvalidSignature`]; a malformed header or query parameters (a missing
    /// part, another algorithm, a malformed credential or `X-Amz-Expires`) or a missing or
    /// malformed date gives [`AuthError::IncompleteSignature`]; a bad scope (date, region,
    /// service, terminator), an unsigned `host` or date header, a timestamp more than 15
    /// minutes off, or an expired presigned request gives [`AuthError::InvalidSignature`]; an
    /// unknown or inactive access key or a wrong, missing or unexpected session token gives
    /// [`AuthError::UnrecognizedClient`]; a wrong signature gives
    /// [`AuthError::InvalidSignature`] with the expected canonical request and string to
    /// sign; and an expired temporary credential with a good signature gives
    /// [`AuthError::ExpiredToken`].
    pub fn authenticate(
        &self,
        req: &SignedRequest<'_>,
        services: &[&str],
        now: EpochMillis,
    ) -> Result<Authenticated, AuthError> {
        let presigned = sigv4::has_query_param(req.query, sigv4::query_param::ALGORITHM);
        match req.headers.get(http::header::AUTHORIZATION) {
            Some(_) if presigned => Err(AuthError::InvalidSignature(
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
                    .to_string(),
            )),
            Some(authorization) => self.authenticate_header(req, authorization, services, now),
            None if presigned => self.authenticate_presigned(req, services, now),
            None => Err(AuthError::MissingAuthenticationToken),
        }
    }

    /// The `Authorization` header form.
    fn authenticate_header(
        &self,
        req: &SignedRequest<'_>,
        authorization: &http::HeaderValue,
        services: &[&str],
        now: EpochMillis,
    ) -> Result<Authenticated, AuthError> {
        let authorization = String::from_utf8_lossy(authorization.as_bytes());
        let amz_date = header_text(req.headers, "x-amz-date");
        let http_date = header_text(req.headers, "date").and_then(sigv4::parse_http_date);
        let parsed = sigv4::parse_authorization_with_date(
            &authorization,
            amz_date.is_some() || http_date.is_some(),
        )?;
        let time = request_time(amz_date, http_date)?;

        check_scope(&parsed, &time, services)?;
        check_signed_headers(&parsed, &time)?;
        check_skew(&time, now)?;

        let payload_hash = payload_hash(&parsed, req);
        self.verify(
            req,
            Claim {
                parsed,
                amz_date: &time.amz_date,
                query: req.query,
                payload_hash,
                unsigned_payload_too: false,
                session_token: req
                    .headers
                    .get("x-amz-security-token")
                    .map(http::HeaderValue::as_bytes),
            },
            now,
        )
    }

    /// The presigned (query-string) form.
    fn authenticate_presigned(
        &self,
        req: &SignedRequest<'_>,
        services: &[&str],
        now: EpochMillis,
    ) -> Result<Authenticated, AuthError> {
        let Some(params) = sigv4::parse_presigned(req.query)? else {
            return Err(AuthError::MissingAuthenticationToken);
        };
        let parsed = params.authorization()?;
        let Some(at) = sigv4::parse_amz_date(&params.amz_date) else {
            return Err(AuthError::IncompleteSignature(format!(
                "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
                params.amz_date
            )));
        };
        let time = RequestTime {
            at,
            amz_date: Cow::Borrowed(&params.amz_date),
            header: None,
        };

        check_scope(&parsed, &time, services)?;
        check_signed_headers(&parsed, &time)?;
        match params.expires {
            Some(seconds) => check_presigned_window(&time, seconds, now)?,
            None => check_skew(&time, now)?,
        }

        let payload_hash = payload_hash(&parsed, req);
        let unsigned_payload_too = req.body.is_empty() && !parsed.signs("x-amz-content-sha256");
        let query = sigv4::query_without_signature(req.query);
        // The token normally travels in the query, which the signature covers; one sent as a
        // header instead is accepted as in the header form.
        let session_token = params
            .security_token
            .as_ref()
            .map(|t| t.as_bytes())
            .or_else(|| {
                req.headers
                    .get("x-amz-security-token")
                    .map(http::HeaderValue::as_bytes)
            });
        self.verify(
            req,
            Claim {
                parsed,
                amz_date: &params.amz_date,
                query: &query,
                payload_hash,
                unsigned_payload_too,
                session_token,
            },
            now,
        )
    }

    /// The checks both forms share once their own have passed: the canonical request and
    /// string to sign, the credential, the signature (in constant time), the session token
    /// and the credential's expiry.
    fn verify(
        &self,
        req: &SignedRequest<'_>,
        claim: Claim<'_>,
        now: EpochMillis,
    ) -> Result<Authenticated, AuthError> {
        let parsed = &claim.parsed;
        let signed: Vec<&str> = parsed.signed_headers.iter().map(|n| n.as_ref()).collect();
        let creq = sigv4::canonical_request(
            req.method,
            req.path,
            claim.query,
            req.headers,
            &signed,
            &claim.payload_hash,
        );
        let scope = parsed.scope.text();
        let sts = sigv4::string_to_sign(claim.amz_date, &scope, &creq);

        // An unknown or inactive key is checked against a fixed, precomputed dummy key: one
        // HMAC and one constant-time comparison, the same work as a known key whose signing key
        // is cached (the usual case), so timing does not tell the two apart. The unknown path
        // never touches the cache, so made-up key ids cannot fill or flush it.
        let stored = self.credentials.lookup(parsed.access_key_id);
        let usable = stored.as_ref().filter(|c| c.active);
        let derived;
        let key = match usable {
            Some(credential) => {
                derived = self.signing_key(parsed.access_key_id, &scope, parsed, credential);
                &derived
            }
            None => &self.dummy_key,
        };
        let mut signature_ok = signature_matches(&sigv4::signature(key, &sts), parsed.signature);
        if claim.unsigned_payload_too {
            let creq = sigv4::canonical_request(
                req.method,
                req.path,
                claim.query,
                req.headers,
                &signed,
                sigv4::UNSIGNED_PAYLOAD,
            );
            let sts = sigv4::string_to_sign(claim.amz_date, &scope, &creq);
            // `|`, not `||`: both comparisons always run.
            signature_ok |= signature_matches(&sigv4::signature(key, &sts), parsed.signature);
        }

        let Some(credential) = usable else {
            return Err(AuthError::UnrecognizedClient);
        };
        if !session_token_matches(credential, claim.session_token) {
            return Err(AuthError::UnrecognizedClient);
        }
        if !signature_ok {
            let shown = redact_session_token(&creq, parsed, req.headers);
            return Err(AuthError::InvalidSignature(format!(
                "{MISMATCH}\n\nThe Canonical String for this request should have been\n'{shown}'\n\nThe String-to-Sign should have been\n'{sts}'\n"
            )));
        }
        if credential.expires_at.is_some_and(|end| end <= now) {
            return Err(AuthError::ExpiredToken);
        }
        Ok(Authenticated {
            caller: credential.caller.clone(),
            region: parsed.scope.region.to_string(),
            service: parsed.scope.service.to_string(),
        })
    }

    /// The signing key for a known, active credential: from the cache when it was derived
    /// from the same secret, otherwise derived now and cached.
    fn signing_key(
        &self,
        access_key_id: &str,
        scope: &str,
        parsed: &ParsedAuthorization<'_>,
        credential: &StoredCredential,
    ) -> SigningKey {
        let cache_key = [access_key_id, scope].join("/");
        // A poisoned lock only means another thread panicked while holding it; the map is
        // still a valid map, and every entry is checked against the current secret before use.
        // Reads take the shared lock so concurrent requests do not serialise on the cache.
        {
            let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = cache.get(&cache_key) {
                let same_secret: bool = entry
                    .secret
                    .expose()
                    .as_bytes()
                    .ct_eq(credential.secret.expose().as_bytes())
                    .into();
                if same_secret {
                    return entry.key.clone();
                }
            }
        }
        let key = sigv4::signing_key(
            credential.secret.expose(),
            parsed.scope.date,
            parsed.scope.region,
            parsed.scope.service,
        );
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED_KEYS {
            cache.clear();
        }
        cache.insert(
            cache_key,
            CachedKey {
                secret: credential.secret.clone(),
                key: key.clone(),
            },
        );
        key
    }
}

/// The first value of header `name` as text, if present and valid UTF-8.
fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The request's timestamp: `X-Amz-Date` when present (and then it must be well formed),
/// otherwise the already-parsed `Date` header.
fn request_time(
    amz_date: Option<&str>,
    http_date: Option<EpochMillis>,
) -> Result<RequestTime<'_>, AuthError> {
    if let Some(value) = amz_date {
        let Some(at) = sigv4::parse_amz_date(value) else {
            return Err(AuthError::IncompleteSignature(format!(
                "Date must be in ISO-8601 'basic format'. Got '{value}'. See http://en.wikipedia.org/wiki/ISO_8601"
            )));
        };
        return Ok(RequestTime {
            at,
            amz_date: Cow::Borrowed(value),
            header: Some("x-amz-date"),
        });
    }
    match http_date {
        Some(at) => Ok(RequestTime {
            at,
            amz_date: Cow::Owned(sigv4::format_amz_date(at)),
            header: Some("date"),
        }),
        // parse_authorization_with_date has already reported a request with neither header.
        None => Err(AuthError::IncompleteSignature(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .to_string(),
        )),
    }
}

/// The credential scope must name the request's date, a plausible region, a service this
/// endpoint serves, and end in `aws4_request`.
fn check_scope(
    parsed: &ParsedAuthorization<'_>,
    time: &RequestTime,
    services: &[&str],
) -> Result<(), AuthError> {
    let scope = &parsed.scope;
    let request_day = time.amz_date.get(..8).unwrap_or("");
    if scope.date != request_day {
        return Err(AuthError::InvalidSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{request_day}', from '{}'.",
            scope.date, time.amz_date
        )));
    }
    if !is_valid_region(scope.region) {
        return Err(AuthError::InvalidSignature(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            scope.region
        )));
    }
    if !services.contains(&scope.service) {
        return Err(AuthError::InvalidSignature(format!(
            "Credential should be scoped to correct service: '{}'. ",
            services.first().copied().unwrap_or("")
        )));
    }
    if scope.terminator != sigv4::SCOPE_TERMINATOR {
        return Err(AuthError::InvalidSignature(format!(
            "Credential should be scoped with a valid terminator: '{}', not '{}'. ",
            sigv4::SCOPE_TERMINATOR,
            scope.terminator
        )));
    }
    Ok(())
}

/// `host` must be signed, so a signature cannot be replayed against another endpoint, and so
/// must the header the timestamp came from (a presigned request's `X-Amz-Date` parameter is
/// covered by the canonical query string).
fn check_signed_headers(
    parsed: &ParsedAuthorization<'_>,
    time: &RequestTime,
) -> Result<(), AuthError> {
    if !parsed.signs("host") {
        return Err(AuthError::InvalidSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_string(),
        ));
    }
    let Some(header) = time.header else {
        return Ok(());
    };
    if !parsed.signs(header) {
        let shown = if header == "x-amz-date" {
            "X-Amz-Date"
        } else {
            "Date"
        };
        return Err(AuthError::InvalidSignature(format!(
            "'{shown}' must be a 'SignedHeader' in the AWS Authorization."
        )));
    }
    Ok(())
}

/// Rejects timestamps more than 15 minutes from `now` either way; exactly 15 minutes passes.
fn check_skew(time: &RequestTime, now: EpochMillis) -> Result<(), AuthError> {
    check_window(time, now, MAX_SKEW_MILLIS, "15 min.")
}

/// A presigned request is valid until `expires_secs` after its signing time (exactly then
/// still passes), and like any request may not be signed more than 15 minutes ahead.
fn check_presigned_window(
    time: &RequestTime,
    expires_secs: i64,
    now: EpochMillis,
) -> Result<(), AuthError> {
    check_window(
        time,
        now,
        expires_secs.saturating_mul(1000),
        &format!("{expires_secs} sec."),
    )
}

/// Rejects timestamps more than `max_age_ms` before `now` (`age` is that span as the message
/// shows it) or more than 15 minutes after it.
fn check_window(
    time: &RequestTime,
    now: EpochMillis,
    max_age_ms: i64,
    age: &str,
) -> Result<(), AuthError> {
    let earliest = now.saturating_sub(max_age_ms);
    let latest = now.saturating_add(MAX_SKEW_MILLIS);
    if time.at < earliest {
        return Err(AuthError::InvalidSignature(format!(
            "Signature expired: {} is now earlier than {} ({} - {age})",
            time.amz_date,
            sigv4::format_amz_date(earliest),
            sigv4::format_amz_date(now)
        )));
    }
    if time.at > latest {
        return Err(AuthError::InvalidSignature(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            time.amz_date,
            sigv4::format_amz_date(latest),
            sigv4::format_amz_date(now)
        )));
    }
    Ok(())
}

/// The payload hash for the canonical request: the body's SHA-256, unless the client signed an
/// `x-amz-content-sha256` header. That value is used when it is `UNSIGNED-PAYLOAD` or the
/// correct hash; a wrong hash is replaced by the real one, so the signature fails to match
/// rather than vouching for a body that was never sent.
fn payload_hash(parsed: &ParsedAuthorization<'_>, req: &SignedRequest<'_>) -> String {
    let body_hash = sigv4::sha256_hex(req.body);
    if !parsed.signs("x-amz-content-sha256") {
        return body_hash;
    }
    match header_text(req.headers, "x-amz-content-sha256") {
        Some(v) if v == sigv4::UNSIGNED_PAYLOAD || v.eq_ignore_ascii_case(&body_hash) => {
            v.to_string()
        }
        _ => body_hash,
    }
}

/// Compares the provided hex signature with the expected one in constant time. A value that is
/// not 64 hex digits is compared as zeros and then rejected, so malformed input takes the same
/// path as a wrong signature.
fn signature_matches(expected: &[u8; 32], provided: &str) -> bool {
    let mut decoded = [0u8; 32];
    let well_formed = hex::decode_to_slice(provided, &mut decoded).is_ok();
    let equal = expected.ct_eq(&decoded);
    bool::from(equal & Choice::from(u8::from(well_formed)))
}

/// The canonical request as shown in a mismatch error, with a session token's value replaced,
/// whether it is a signed header or (presigned) a query parameter: AWS echoes it, but this
/// server never puts a session token in an error, since error messages end up in logs. By
/// this point the token has been checked against the stored one, so it would be the real
/// token.
fn redact_session_token<'a>(
    creq: &'a str,
    parsed: &ParsedAuthorization<'_>,
    headers: &HeaderMap,
) -> Cow<'a, str> {
    let mut shown = Cow::Borrowed(creq);
    if parsed.signs("x-amz-security-token") {
        // Canonical header lines start after a newline, so the leading `\n` cannot match
        // inside another header's value.
        let line = format!(
            "\nx-amz-security-token:{}\n",
            sigv4::canonical_header_value(headers, "x-amz-security-token")
        );
        shown = Cow::Owned(shown.replace(&line, "\nx-amz-security-token:[REDACTED]\n"));
    }
    // The canonical query string is the third line.
    let mut lines = shown.splitn(4, '\n');
    let (Some(method), Some(uri), Some(query), rest) =
        (lines.next(), lines.next(), lines.next(), lines.next())
    else {
        return shown;
    };
    let redacted = sigv4::redact_query_token(query);
    if let Cow::Owned(query) = redacted {
        let mut out = [method, uri, &query].join("\n");
        if let Some(rest) = rest {
            out.push('\n');
            out.push_str(rest);
        }
        return Cow::Owned(out);
    }
    shown
}

/// A credential with a session token requires that exact token (`X-Amz-Security-Token`,
/// header or presigned query parameter); one without requires its absence, so a long-term
/// key cannot be presented with a stray token.
fn session_token_matches(credential: &StoredCredential, provided: Option<&[u8]>) -> bool {
    match (&credential.session_token, provided) {
        (Some(expected), Some(provided)) => expected.expose().as_bytes().ct_eq(provided).into(),
        (None, None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::sigv4::{SigningParams, sign_headers};
    use crate::auth::{MemoryCredentialStore, PrincipalKind};
    use http::header::{HeaderName, HeaderValue};

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const AKID: &str = "AKIDEXAMPLE";
    const ACCOUNT: &str = "123456789012";
    /// 2015-08-30T12:36:00Z, the AWS test suite's signing time.
    const T0: EpochMillis = 1_440_938_160_000;
    const SM: &[&str] = &["secretsmanager"];
    const BODY: &[u8] = br#"{"SecretId":"MyTestDatabaseSecret"}"#;

    fn credential(secret: &str) -> StoredCredential {
        StoredCredential {
            secret: SecretAccessKey::new(secret),
            caller: Caller::root(ACCOUNT, AKID),
            session_token: None,
            expires_at: None,
            active: true,
        }
    }

    fn store_with(entries: &[(&str, StoredCredential)]) -> Arc<MemoryCredentialStore> {
        let store = Arc::new(MemoryCredentialStore::new());
        for (akid, cred) in entries {
            store.insert(akid, cred.clone());
        }
        store
    }

    fn authenticator(entries: &[(&str, StoredCredential)]) -> Authenticator {
        Authenticator::new(store_with(entries))
    }

    fn base_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        headers.insert(
            "x-amz-target",
            HeaderValue::from_static("secretsmanager.GetSecretValue"),
        );
        headers.insert("user-agent", HeaderValue::from_static("test"));
        headers
    }

    fn params(time: EpochMillis) -> SigningParams<'static> {
        SigningParams {
            access_key_id: AKID,
            secret_access_key: SECRET,
            session_token: None,
            region: "us-east-1",
            service: "secretsmanager",
            time,
        }
    }

    fn signed(params: &SigningParams<'_>) -> HeaderMap {
        let mut headers = base_headers();
        sign_headers(
            params,
            "POST",
            "localhost:8443",
            "/",
            "",
            &mut headers,
            BODY,
        )
        .unwrap();
        headers
    }

    fn request(headers: &HeaderMap) -> SignedRequest<'_> {
        SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers,
            body: BODY,
        }
    }

    pub(super) fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).unwrap(),
        );
    }

    pub(super) fn err(result: Result<Authenticated, AuthError>) -> AuthError {
        match result {
            Ok(ok) => panic!("expected an error, got {ok:?}"),
            Err(e) => e,
        }
    }

    pub(super) fn invalid_signature(result: Result<Authenticated, AuthError>) -> String {
        match err(result) {
            AuthError::InvalidSignature(message) => message,
            other => panic!("expected InvalidSignature, got {other:?}"),
        }
    }

    pub(super) fn incomplete(result: Result<Authenticated, AuthError>) -> String {
        match err(result) {
            AuthError::IncompleteSignature(message) => message,
            other => panic!("expected IncompleteSignature, got {other:?}"),
        }
    }

    /// Replaces the `Authorization` header with `value`.
    fn with_authorization(headers: &HeaderMap, value: &str) -> HeaderMap {
        let mut headers = headers.clone();
        set(&mut headers, "authorization", value);
        headers
    }

    #[test]
    fn accepts_a_correctly_signed_request() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let headers = signed(&params(T0));
        let ok = auth.authenticate(&request(&headers), SM, T0).unwrap();
        assert_eq!(ok.caller, Caller::root(ACCOUNT, AKID));
        assert_eq!(ok.caller.kind, PrincipalKind::Root);
        assert_eq!(ok.region, "us-east-1");
        assert_eq!(ok.service, "secretsmanager");
        // Second time round the signing key comes from the cache.
        assert!(auth.authenticate(&request(&headers), SM, T0).is_ok());
        assert_eq!(auth.cache.read().unwrap().len(), 1);
    }

    #[test]
    fn accepts_any_of_the_allowed_services() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let mut p = params(T0);
        p.service = "kms";
        let headers = signed(&p);
        let ok = auth
            .authenticate(&request(&headers), &["secretsmanager", "kms"], T0)
            .unwrap();
        assert_eq!(ok.service, "kms");
    }

    #[test]
    fn missing_authorization_header() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let mut headers = signed(&params(T0));
        headers.remove("authorization");
        assert_eq!(
            err(auth.authenticate(&request(&headers), SM, T0)),
            AuthError::MissingAuthenticationToken
        );
    }

    #[test]
    fn incomplete_authorization_lists_every_missing_part() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let mut headers =
            with_authorization(&signed(&params(T0)), "AWS4-HMAC-SHA256 SignedHeaders=host");
        headers.remove("x-amz-date");
        assert_eq!(
            incomplete(auth.authenticate(&request(&headers), SM, T0)),
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 SignedHeaders=host"
        );
    }

    #[test]
    fn missing_date_headers() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let mut headers = signed(&params(T0));
        headers.remove("x-amz-date");
        let raw = headers["authorization"].to_str().unwrap().to_string();
        assert_eq!(
            incomplete(auth.authenticate(&request(&headers), SM, T0)),
            format!(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={raw}"
            )
        );
        // An unparseable Date header counts as no Date header.
        set(&mut headers, "date", "not a date");
        assert_eq!(
            incomplete(auth.authenticate(&request(&headers), SM, T0)),
            format!(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={raw}"
            )
        );
    }

    #[test]
    fn malformed_amz_date() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let mut headers = signed(&params(T0));
        set(&mut headers, "x-amz-date", "2015-08-30T12:36:00Z");
        assert_eq!(
            incomplete(auth.authenticate(&request(&headers), SM, T0)),
            "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"
        );
    }

    #[test]
    fn falls_back_to_a_signed_date_header() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        // Sign by hand with `date` instead of `x-amz-date`.
        let mut headers = base_headers();
        set(&mut headers, "host", "localhost:8443");
        set(&mut headers, "date", "Sun, 30 Aug 2015 12:36:00 GMT");
        let names = ["content-type", "date", "host", "x-amz-target"];
        let creq =
            sigv4::canonical_request("POST", "/", "", &headers, &names, &sigv4::sha256_hex(BODY));
        let scope = "20150830/us-east-1/secretsmanager/aws4_request";
        let sts = sigv4::string_to_sign("20150830T123600Z", scope, &creq);
        let key = sigv4::signing_key(SECRET, "20150830", "us-east-1", "secretsmanager");
        let sig = hex::encode(sigv4::signature(&key, &sts));
        let value = format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/{scope}, SignedHeaders={}, Signature={sig}",
            names.join(";")
        );
        let headers = with_authorization(&headers, &value);
        assert!(auth.authenticate(&request(&headers), SM, T0).is_ok());

        // The same request must sign the Date header it relies on.
        let value = value.replace("content-type;date;host", "content-type;host");
        let headers = with_authorization(&headers, &value);
        assert_eq!(
            invalid_signature(auth.authenticate(&request(&headers), SM, T0)),
            "'Date' must be a 'SignedHeader' in the AWS Authorization."
        );
    }

    #[test]
    fn scope_date_must_match_request_date() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let headers = signed(&params(T0));
        let raw = headers["authorization"].to_str().unwrap();
        let headers = with_authorization(&headers, &raw.replace("/20150830/", "/20150829/"));
        assert_eq!(
            invalid_signature(auth.authenticate(&request(&headers), SM, T0)),
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150829' != '20150830', from '20150830T123600Z'."
        );
    }

    #[test]
    fn region_must_look_like_a_region() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        for region in [
            "execute-api",
            "us-east-1a",
            "US-EAST-1",
            "-1",
            "1",
            "us--east-1",
            "",
        ] {
            let mut p = params(T0);
            p.region = region;
            let headers = signed(&p);
            assert_eq!(
                invalid_signature(auth.authenticate(&request(&headers), SM, T0)),
                format!("Credential should be scoped to a valid region, not '{region}'. "),
                "{region}"
            );
        }
        for region in ["us-east-1", "us-gov-west-1", "eu-central-2", "local-1"] {
            let mut p = params(T0);
            p.region = region;
            let headers = signed(&p);
            assert!(
                auth.authenticate(&request(&headers), SM, T0).is_ok(),
                "{region}"
            );
        }
    }

    #[test]
    fn service_must_be_one_this_endpoint_serves() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let mut p = params(T0);
        p.service = "kms";
        let headers = signed(&p);
        assert_eq!(
            invalid_signature(auth.authenticate(&request(&headers), SM, T0)),
            "Credential should be scoped to correct service: 'secretsmanager'. "
        );
    }

    #[test]
    fn scope_must_end_in_aws4_request() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let headers = signed(&params(T0));
        let raw = headers["authorization"].to_str().unwrap();
        let headers = with_authorization(&headers, &raw.replace("/aws4_request", "/aws4_reques"));
        assert_eq!(
            invalid_signature(auth.authenticate(&request(&headers), SM, T0)),
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reques'. "
        );
    }

    #[test]
    fn malformed_credential() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let headers = signed(&params(T0));
        let raw = headers["authorization"].to_str().unwrap();
        let headers = with_authorization(&headers, &raw.replace("/us-east-1/", "/"));
        assert_eq!(
            incomplete(auth.authenticate(&request(&headers), SM, T0)),
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/secretsmanager/aws4_request'"
        );
    }

    #[test]
    fn host_and_date_must_be_signed() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let headers = signed(&params(T0));
        let raw = headers["authorization"].to_str().unwrap();

        let no_host = with_authorization(&headers, &raw.replace("host;", ""));
        assert_eq!(
            invalid_signature(auth.authenticate(&request(&no_host), SM, T0)),
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        );
        let empty = raw.replace("content-type;host;x-amz-date;x-amz-target", "");
        assert!(empty.contains("SignedHeaders=,"));
        let empty = with_authorization(&headers, &empty);
        assert_eq!(
            invalid_signature(auth.authenticate(&request(&empty), SM, T0)),
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        );
        let no_date = with_authorization(&headers, &raw.replace("x-amz-date;", ""));
        assert_eq!(
            invalid_signature(auth.authenticate(&request(&no_date), SM, T0)),
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."
        );
    }

    #[test]
    fn clock_skew_boundaries() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let headers = signed(&params(T0));
        let req = request(&headers);
        // Exactly 15 minutes either way is accepted.
        assert!(auth.authenticate(&req, SM, T0 + MAX_SKEW_MILLIS).is_ok());
        assert!(auth.authenticate(&req, SM, T0 - MAX_SKEW_MILLIS).is_ok());

        // One millisecond more and the request is too old...
        assert_eq!(
            invalid_signature(auth.authenticate(&req, SM, T0 + MAX_SKEW_MILLIS + 1)),
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123600Z (20150830T125100Z - 15 min.)"
        );
        // ...the format of AWS's own example...
        let p = params(sigv4::parse_amz_date("20140325T143453Z").unwrap());
        let old = signed(&p);
        let now = sigv4::parse_amz_date("20140325T145251Z").unwrap();
        assert_eq!(
            invalid_signature(auth.authenticate(&request(&old), SM, now)),
            "Signature expired: 20140325T143453Z is now earlier than 20140325T143751Z (20140325T145251Z - 15 min.)"
        );
        // ...or too far in the future.
        assert_eq!(
            invalid_signature(auth.authenticate(&req, SM, T0 - MAX_SKEW_MILLIS - 1_000)),
            "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)"
        );
    }

    #[test]
    fn unknown_access_key_is_unrecognized_and_not_cached() {
        let auth = authenticator(&[("AKIDOTHER", credential(SECRET))]);
        let headers = signed(&params(T0));
        assert_eq!(
            err(auth.authenticate(&request(&headers), SM, T0)),
            AuthError::UnrecognizedClient
        );
        assert_eq!(auth.cache.read().unwrap().len(), 0);
    }

    #[test]
    fn unknown_key_beats_bad_signature() {
        let auth = authenticator(&[]);
        let headers = signed(&params(T0));
        let raw = headers["authorization"].to_str().unwrap();
        let (head, _) = raw.split_once("Signature=").unwrap();
        let headers = with_authorization(&headers, &format!("{head}Signature=zz"));
        assert_eq!(
            err(auth.authenticate(&request(&headers), SM, T0)),
            AuthError::UnrecognizedClient
        );
    }

    #[test]
    fn inactive_key_is_unrecognized() {
        let mut cred = credential(SECRET);
        cred.active = false;
        let auth = authenticator(&[(AKID, cred)]);
        let headers = signed(&params(T0));
        assert_eq!(
            err(auth.authenticate(&request(&headers), SM, T0)),
            AuthError::UnrecognizedClient
        );
        assert_eq!(auth.cache.read().unwrap().len(), 0);
    }

    #[test]
    fn wrong_secret_gives_aws_mismatch_message() {
        let auth = authenticator(&[(AKID, credential("a-different-secret"))]);
        let headers = signed(&params(T0));
        let body_hash = sigv4::sha256_hex(BODY);
        let creq = format!(
            "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:localhost:8443\nx-amz-date:20150830T123600Z\nx-amz-target:secretsmanager.GetSecretValue\n\ncontent-type;host;x-amz-date;x-amz-target\n{body_hash}"
        );
        let sts = format!(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/secretsmanager/aws4_request\n{}",
            sigv4::sha256_hex(creq.as_bytes())
        );
        let message = invalid_signature(auth.authenticate(&request(&headers), SM, T0));
        assert_eq!(
            message,
            format!(
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'{creq}'\n\nThe String-to-Sign should have been\n'{sts}'\n"
            )
        );
        assert!(!message.contains(SECRET));
    }

    #[test]
    fn mismatch_message_never_shows_the_session_token() {
        const TOKEN: &str = "FwoGZXIvYXdzSECRETSESSIONTOKEN";
        let mut cred = temporary(TOKEN, T0 + 3_600_000);
        cred.secret = SecretAccessKey::new("not-the-signing-secret");
        let auth = authenticator(&[("ASIAEXAMPLE", cred)]);
        let mut p = params(T0);
        p.access_key_id = "ASIAEXAMPLE";
        p.session_token = Some(TOKEN);
        let headers = signed(&p);
        let message = invalid_signature(auth.authenticate(&request(&headers), SM, T0));
        assert!(!message.contains(TOKEN), "{message}");
        assert!(message.contains("\nx-amz-security-token:[REDACTED]\nx-amz-target:"));
        assert!(message.contains("host;x-amz-date;x-amz-security-token;x-amz-target\n"));
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let headers = signed(&params(T0));

        let mut req = request(&headers);
        req.body = br#"{"SecretId":"SomethingElse"}"#;
        invalid_signature(auth.authenticate(&req, SM, T0));

        let mut req = request(&headers);
        req.path = "/other";
        invalid_signature(auth.authenticate(&req, SM, T0));

        let mut req = request(&headers);
        req.query = "a=b";
        invalid_signature(auth.authenticate(&req, SM, T0));

        let mut req = request(&headers);
        req.method = "PUT";
        invalid_signature(auth.authenticate(&req, SM, T0));

        let mut changed = headers.clone();
        set(&mut changed, "x-amz-target", "secretsmanager.DeleteSecret");
        invalid_signature(auth.authenticate(&request(&changed), SM, T0));

        // Unsigned headers may change freely.
        let mut changed = headers.clone();
        set(&mut changed, "user-agent", "something else");
        assert!(auth.authenticate(&request(&changed), SM, T0).is_ok());
    }

    #[test]
    fn malformed_signatures_fail_like_wrong_ones() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let headers = signed(&params(T0));
        let raw = headers["authorization"].to_str().unwrap();
        let (head, good) = raw.split_once("Signature=").unwrap();
        for bad in [
            String::new(),
            "zz".to_string(),
            good[..63].to_string(),
            format!("{good}00"),
            format!("{}g", &good[..63]),
            "0".repeat(64),
        ] {
            let headers = with_authorization(&headers, &format!("{head}Signature={bad}"));
            let message = invalid_signature(auth.authenticate(&request(&headers), SM, T0));
            assert!(message.starts_with(MISMATCH), "{bad}: {message}");
        }
        // Upper-case hex is the same signature.
        let headers = with_authorization(
            &headers,
            &format!("{head}Signature={}", good.to_uppercase()),
        );
        assert!(auth.authenticate(&request(&headers), SM, T0).is_ok());
    }

    fn temporary(token: &str, expires_at: EpochMillis) -> StoredCredential {
        StoredCredential {
            secret: SecretAccessKey::new(SECRET),
            caller: Caller {
                account_id: ACCOUNT.to_string(),
                arn: format!("arn:aws:sts::{ACCOUNT}:assumed-role/Admin/session"),
                principal_id: "AROAEXAMPLE:session".to_string(),
                kind: PrincipalKind::AssumedRole,
                access_key_id: "ASIAEXAMPLE".to_string(),
                grants: std::sync::Arc::new(crate::auth::Grants::root(ACCOUNT)),
                temporary: true,
            },
            session_token: Some(SecretAccessKey::new(token)),
            expires_at: Some(expires_at),
            active: true,
        }
    }

    #[test]
    fn session_tokens() {
        const TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKEN";
        let auth = authenticator(&[("ASIAEXAMPLE", temporary(TOKEN, T0 + 3_600_000))]);
        let mut p = params(T0);
        p.access_key_id = "ASIAEXAMPLE";
        p.session_token = Some(TOKEN);
        let headers = signed(&p);
        let ok = auth.authenticate(&request(&headers), SM, T0).unwrap();
        assert_eq!(ok.caller.kind, PrincipalKind::AssumedRole);

        // An unsigned token is accepted too.
        let raw = headers["authorization"].to_str().unwrap();
        let mut unsigned = base_headers();
        p.session_token = None;
        sign_headers(&p, "POST", "localhost:8443", "/", "", &mut unsigned, BODY).unwrap();
        set(&mut unsigned, "x-amz-security-token", TOKEN);
        assert!(auth.authenticate(&request(&unsigned), SM, T0).is_ok());

        // A wrong token, even with a valid signature over it.
        p.session_token = Some("FwoGZXIvYXdzEXAMPLETOKEM");
        let wrong = signed(&p);
        assert_eq!(
            err(auth.authenticate(&request(&wrong), SM, T0)),
            AuthError::UnrecognizedClient
        );
        // No token at all.
        let mut missing = headers.clone();
        missing.remove("x-amz-security-token");
        assert_eq!(
            err(auth.authenticate(&request(&missing), SM, T0)),
            AuthError::UnrecognizedClient
        );
        // The token is checked before the signature.
        let mut bad = with_authorization(&headers, &raw.replace("Signature=", "Signature=0"));
        set(&mut bad, "x-amz-security-token", "nope");
        assert_eq!(
            err(auth.authenticate(&request(&bad), SM, T0)),
            AuthError::UnrecognizedClient
        );
    }

    #[test]
    fn long_term_key_with_a_token_is_unrecognized() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let mut p = params(T0);
        p.session_token = Some("stray-token");
        let headers = signed(&p);
        assert_eq!(
            err(auth.authenticate(&request(&headers), SM, T0)),
            AuthError::UnrecognizedClient
        );
    }

    #[test]
    fn expired_session() {
        const TOKEN: &str = "token";
        let auth = authenticator(&[("ASIAEXAMPLE", temporary(TOKEN, T0))]);
        let mut p = params(T0);
        p.access_key_id = "ASIAEXAMPLE";
        p.session_token = Some(TOKEN);
        let headers = signed(&p);
        assert!(auth.authenticate(&request(&headers), SM, T0 - 1).is_ok());
        assert_eq!(
            err(auth.authenticate(&request(&headers), SM, T0)),
            AuthError::ExpiredToken
        );
        // Expiry is only reported once the signature is known to be good.
        let raw = headers["authorization"].to_str().unwrap();
        let bad = with_authorization(&headers, &raw.replace("Signature=", "Signature=0"));
        invalid_signature(auth.authenticate(&request(&bad), SM, T0));
    }

    #[test]
    fn recreated_key_with_a_new_secret_does_not_reuse_the_cached_key() {
        let store = store_with(&[(AKID, credential(SECRET))]);
        let auth = Authenticator::new(store.clone());
        let headers = signed(&params(T0));
        assert!(auth.authenticate(&request(&headers), SM, T0).is_ok());
        store.insert(AKID, credential("rotated-secret"));
        invalid_signature(auth.authenticate(&request(&headers), SM, T0));
        store.remove(AKID);
        assert_eq!(
            err(auth.authenticate(&request(&headers), SM, T0)),
            AuthError::UnrecognizedClient
        );
    }

    #[test]
    fn cache_is_bounded() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        {
            let mut cache = auth.cache.write().unwrap();
            for i in 0..MAX_CACHED_KEYS {
                cache.insert(
                    format!("filler{i}"),
                    CachedKey {
                        secret: SecretAccessKey::new("x"),
                        key: SigningKey::new([0; 32]),
                    },
                );
            }
        }
        let headers = signed(&params(T0));
        assert!(auth.authenticate(&request(&headers), SM, T0).is_ok());
        assert_eq!(auth.cache.read().unwrap().len(), 1);
    }

    #[test]
    fn payload_hash_header() {
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        // A signed x-amz-content-sha256 with the right hash, or UNSIGNED-PAYLOAD.
        for value in [sigv4::sha256_hex(BODY), sigv4::UNSIGNED_PAYLOAD.to_string()] {
            let mut headers = base_headers();
            set(&mut headers, "x-amz-content-sha256", &value);
            let p = params(T0);
            sign_headers(&p, "POST", "localhost:8443", "/", "", &mut headers, BODY).unwrap();
            // sign_headers hashed the body; re-sign with the declared payload hash.
            let raw = headers["authorization"].to_str().unwrap().to_string();
            let parsed = sigv4::parse_authorization(&raw).unwrap();
            assert!(parsed.signs("x-amz-content-sha256"));
            let names: Vec<&str> = parsed.signed_headers.iter().map(|n| n.as_ref()).collect();
            let creq = sigv4::canonical_request("POST", "/", "", &headers, &names, &value);
            let sts = sigv4::string_to_sign("20150830T123600Z", &parsed.scope.text(), &creq);
            let key = sigv4::signing_key(SECRET, "20150830", "us-east-1", "secretsmanager");
            let sig = hex::encode(sigv4::signature(&key, &sts));
            let (head, _) = raw.split_once("Signature=").unwrap();
            let headers = with_authorization(&headers, &format!("{head}Signature={sig}"));
            assert!(
                auth.authenticate(&request(&headers), SM, T0).is_ok(),
                "{value}"
            );

            // With UNSIGNED-PAYLOAD the body is not covered; with a hash it is.
            let mut req = request(&headers);
            req.body = b"{}";
            let tampered = auth.authenticate(&req, SM, T0);
            assert_eq!(
                tampered.is_ok(),
                value == sigv4::UNSIGNED_PAYLOAD,
                "{value}"
            );
        }
    }

    /// Requests from AWS's SigV4 test suite, verified end to end.
    #[test]
    fn verifies_aws_test_suite_requests() {
        let now = T0;
        let service = &["service"];
        let auth = authenticator(&[(AKID, credential(SECRET))]);
        let host = ("host", "example.amazonaws.com");
        let date = ("x-amz-date", "20150830T123600Z");
        let map = |pairs: &[(&'static str, &str)], authz: &str| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.append(
                    HeaderName::from_static(name),
                    HeaderValue::from_str(value).unwrap(),
                );
            }
            set(&mut headers, "authorization", authz);
            headers
        };

        // get-vanilla
        let headers = map(
            &[host, date],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        );
        let req = SignedRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        assert!(auth.authenticate(&req, service, now).is_ok());

        // get-vanilla-query-order-key-case
        let headers = map(
            &[host, date],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        );
        let req = SignedRequest {
            method: "GET",
            path: "/",
            query: "Param2=value2&Param1=value1",
            headers: &headers,
            body: b"",
        };
        assert!(auth.authenticate(&req, service, now).is_ok());

        // get-header-value-trim
        let headers = map(
            &[
                host,
                ("my-header1", " value1"),
                ("my-header2", " \"a   b   c\""),
                date,
            ],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
        );
        let req = SignedRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        assert!(auth.authenticate(&req, service, now).is_ok());

        // post-x-www-form-urlencoded (signed x-amz-content-sha256 and a body)
        let headers = map(
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                host,
                ("content-length", "13"),
                date,
                (
                    "x-amz-content-sha256",
                    "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                ),
            ],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
        );
        let req = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: b"Param1=value1",
        };
        assert!(auth.authenticate(&req, service, now).is_ok());

        // get-vanilla-with-session-token and post-sts-header-after (token sent, not signed)
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
        let mut cred = credential(SECRET);
        cred.session_token = Some(SecretAccessKey::new(token));
        let temp_auth = authenticator(&[(AKID, cred.clone())]);
        let headers = map(
            &[host, ("x-amz-security-token", token), date],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        );
        let req = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        assert!(temp_auth.authenticate(&req, service, now).is_ok());

        let short = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
        cred.session_token = Some(SecretAccessKey::new(short));
        let temp_auth = authenticator(&[(AKID, cred)]);
        let headers = map(
            &[host, ("x-amz-security-token", short), date],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
        );
        let req = SignedRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        assert!(temp_auth.authenticate(&req, service, now).is_ok());

        // double-url-encode: Lambda, us-east-2, a percent-encoded path.
        let lambda_now = sigv4::parse_amz_date("20210511T154045Z").unwrap();
        let headers = map(
            &[
                ("host", "lambda.us-east-2.amazonaws.com"),
                ("x-amz-date", "20210511T154045Z"),
            ],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20210511/us-east-2/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=4b93abbcc68be32bd64c18e2c71150660ab4c29bbd6c32a383a7517a88fc1804",
        );
        let req = SignedRequest {
            method: "POST",
            path: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-west-2%3A892717189312%3Afunction%3Amy-rusty-fun/invocations",
            query: "",
            headers: &headers,
            body: b"",
        };
        assert!(auth.authenticate(&req, &["lambda"], lambda_now).is_ok());
    }

    #[test]
    fn debug_output_hides_secrets() {
        const TOKEN: &str = "SESSIONTOKENVALUE";
        let auth = authenticator(&[("ASIAEXAMPLE", temporary(TOKEN, T0 + 1))]);
        let mut p = params(T0);
        p.access_key_id = "ASIAEXAMPLE";
        p.session_token = Some(TOKEN);
        let headers = signed(&p);
        let req = request(&headers);
        auth.authenticate(&req, SM, T0).unwrap();
        for text in [format!("{req:?}"), format!("{auth:?}")] {
            assert!(!text.contains(SECRET), "{text}");
            assert!(!text.contains(TOKEN), "{text}");
        }
        for e in [AuthError::UnrecognizedClient, AuthError::ExpiredToken] {
            assert!(!format!("{e:?} {e}").contains(TOKEN));
        }
    }
}

/// Presigned (query-string) requests, signed with [`sigv4::presign`].
#[cfg(test)]
mod presigned_tests {
    use super::tests::{err as error, incomplete, invalid_signature, set};
    use super::*;
    use crate::auth::MemoryCredentialStore;
    use crate::auth::sigv4::{SigningParams, presign};

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const AKID: &str = "AKIDEXAMPLE";
    const TEMP_AKID: &str = "ASIAEXAMPLE";
    const TOKEN: &str = "FwoGZXIvYXdzEXAMPLE+TOKEN/with=specials";
    const ACCOUNT: &str = "123456789012";
    /// 2015-08-30T12:36:00Z.
    const T0: EpochMillis = 1_440_938_160_000;
    const STS: &[&str] = &["sts"];
    const HOST: &str = "sts.localhost:8443";
    const ACTION: &str = "Action=GetCallerIdentity&Version=2011-06-15";

    fn authenticator() -> Authenticator {
        let store = Arc::new(MemoryCredentialStore::new());
        store.insert(
            AKID,
            StoredCredential {
                secret: SecretAccessKey::new(SECRET),
                caller: Caller::root(ACCOUNT, AKID),
                session_token: None,
                expires_at: None,
                active: true,
            },
        );
        store.insert(
            TEMP_AKID,
            StoredCredential {
                secret: SecretAccessKey::new(SECRET),
                caller: Caller {
                    temporary: true,
                    ..Caller::root(ACCOUNT, TEMP_AKID)
                },
                session_token: Some(SecretAccessKey::new(TOKEN)),
                expires_at: Some(T0 + 3_600_000),
                active: true,
            },
        );
        Authenticator::new(store)
    }

    fn params(service: &'static str) -> SigningParams<'static> {
        SigningParams {
            access_key_id: AKID,
            secret_access_key: SECRET,
            session_token: None,
            region: "us-east-1",
            service,
            time: T0,
        }
    }

    /// What an EKS token is: a presigned STS GetCallerIdentity with a signed `x-k8s-aws-id`.
    /// STS signing with the temporary key and its session token.
    fn temporary_params() -> SigningParams<'static> {
        SigningParams {
            access_key_id: TEMP_AKID,
            session_token: Some(TOKEN),
            ..params("sts")
        }
    }

    fn presigned_sts(p: &SigningParams<'_>, expires: i64) -> (HeaderMap, String) {
        let mut headers = HeaderMap::new();
        set(&mut headers, "x-k8s-aws-id", "my-cluster");
        let query = presign(p, "GET", HOST, "/", ACTION, &mut headers, b"", expires).unwrap();
        (headers, query)
    }

    fn get<'a>(headers: &'a HeaderMap, query: &'a str) -> SignedRequest<'a> {
        SignedRequest {
            method: "GET",
            path: "/",
            query,
            headers,
            body: b"",
        }
    }

    /// `query` with parameter `name`'s raw value replaced (`None` removes it).
    fn with_param(query: &str, name: &str, value: Option<&str>) -> String {
        query
            .split('&')
            .filter_map(|pair| match pair.split_once('=') {
                Some((n, _)) if n == name => value.map(|v| format!("{n}={v}")),
                _ => Some(pair.to_string()),
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    fn param<'a>(query: &'a str, name: &str) -> &'a str {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .unwrap()
    }

    #[test]
    fn accepts_a_presigned_get_with_a_signed_extra_header() {
        let auth = authenticator();
        let (headers, query) = presigned_sts(&params("sts"), 60);
        assert!(query.starts_with(ACTION), "{query}");
        assert_eq!(param(&query, "X-Amz-SignedHeaders"), "host%3Bx-k8s-aws-id");
        assert_eq!(
            param(&query, "X-Amz-Credential"),
            "AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsts%2Faws4_request"
        );
        let ok = auth.authenticate(&get(&headers, &query), STS, T0).unwrap();
        assert_eq!(ok.caller, Caller::root(ACCOUNT, AKID));
        assert_eq!(ok.region, "us-east-1");
        assert_eq!(ok.service, "sts");
        // The signing key is cached as for the header form.
        assert!(auth.authenticate(&get(&headers, &query), STS, T0).is_ok());
        assert_eq!(auth.cache.read().unwrap().len(), 1);
        // The parameters may come in any order, and percent-encoding is normalised.
        let mut pairs: Vec<&str> = query.split('&').collect();
        pairs.reverse();
        let reordered = pairs.join("&").replace("Action=", "%41ction=");
        assert!(
            auth.authenticate(&get(&headers, &reordered), STS, T0)
                .is_ok()
        );
    }

    #[test]
    fn accepts_temporary_credentials_with_the_token_in_the_query() {
        let auth = authenticator();
        let p = temporary_params();
        let (headers, query) = presigned_sts(&p, 900);
        assert!(
            query.contains("X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE%2BTOKEN%2Fwith%3Dspecials")
        );
        let ok = auth.authenticate(&get(&headers, &query), STS, T0).unwrap();
        assert!(ok.caller.temporary);

        // Without the token, or with another one, the key is not a credential.
        for token in [None, Some("FwoGZXIvYXdzOTHER")] {
            let tampered = with_param(&query, "X-Amz-Security-Token", token);
            assert_eq!(
                error(auth.authenticate(&get(&headers, &tampered), STS, T0)),
                AuthError::UnrecognizedClient,
                "{token:?}"
            );
        }
        // Past the credential's own expiry, ExpiredToken, even if the URL is still valid.
        let (headers, query) = presigned_sts(
            &SigningParams {
                time: T0 + 3_600_000,
                ..p.clone()
            },
            900,
        );
        assert_eq!(
            error(auth.authenticate(&get(&headers, &query), STS, T0 + 3_600_000)),
            AuthError::ExpiredToken
        );
    }

    #[test]
    fn tampering_with_anything_signed_fails() {
        let auth = authenticator();
        let p = temporary_params();
        let (headers, query) = presigned_sts(&p, 3600);
        assert!(auth.authenticate(&get(&headers, &query), STS, T0).is_ok());

        let signature = param(&query, "X-Amz-Signature");
        let flipped = format!(
            "{}{}",
            if signature.starts_with('0') { '1' } else { '0' },
            &signature[1..]
        );
        let mismatches = [
            with_param(&query, "Action", Some("AssumeRole")),
            with_param(&query, "Version", Some("2011-06-16")),
            with_param(&query, "X-Amz-Date", Some("20150830T123601Z")),
            with_param(&query, "X-Amz-Expires", Some("3601")),
            with_param(&query, "X-Amz-SignedHeaders", Some("host")),
            with_param(&query, "X-Amz-Signature", Some(&flipped)),
            with_param(&query, "X-Amz-Signature", Some("not-hex")),
            with_param(
                &query,
                "X-Amz-Credential",
                Some("ASIAEXAMPLE%2F20150830%2Feu-west-1%2Fsts%2Faws4_request"),
            ),
            format!("{query}&RoleArn=x"),
        ];
        for tampered in &mismatches {
            let message = invalid_signature(auth.authenticate(&get(&headers, tampered), STS, T0));
            assert!(message.starts_with(MISMATCH), "{tampered}: {message}");
            // The expected canonical request is shown, without the session token.
            assert!(
                message.contains("X-Amz-Security-Token=[REDACTED]"),
                "{message}"
            );
            assert!(!message.contains("EXAMPLE%2BTOKEN"), "{message}");
        }

        // The signed extra header, and the host.
        for (name, value) in [("x-k8s-aws-id", "other-cluster"), ("host", "evil.example")] {
            let mut changed = headers.clone();
            set(&mut changed, name, value);
            let message = invalid_signature(auth.authenticate(&get(&changed, &query), STS, T0));
            assert!(message.starts_with(MISMATCH), "{name}: {message}");
        }
        // Another method.
        let mut post = get(&headers, &query);
        post.method = "POST";
        assert!(invalid_signature(auth.authenticate(&post, STS, T0)).starts_with(MISMATCH));

        // Another access key, or another scope.
        let other_key = with_param(
            &query,
            "X-Amz-Credential",
            Some("AKIAUNKNOWN%2F20150830%2Fus-east-1%2Fsts%2Faws4_request"),
        );
        assert_eq!(
            error(auth.authenticate(&get(&headers, &other_key), STS, T0)),
            AuthError::UnrecognizedClient
        );
        let other_day = with_param(
            &query,
            "X-Amz-Credential",
            Some("ASIAEXAMPLE%2F20150829%2Fus-east-1%2Fsts%2Faws4_request"),
        );
        assert_eq!(
            invalid_signature(auth.authenticate(&get(&headers, &other_day), STS, T0)),
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150829' != '20150830', from '20150830T123600Z'."
        );
        assert_eq!(
            invalid_signature(auth.authenticate(&get(&headers, &query), &["iam"], T0)),
            "Credential should be scoped to correct service: 'iam'. "
        );
    }

    #[test]
    fn expires_after_x_amz_expires() {
        let auth = authenticator();
        let (headers, query) = presigned_sts(&params("sts"), 60);
        let req = get(&headers, &query);
        // Valid up to and including signing time + 60 s.
        assert!(auth.authenticate(&req, STS, T0 + 60_000).is_ok());
        assert_eq!(
            invalid_signature(auth.authenticate(&req, STS, T0 + 61_000)),
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T123701Z - 60 sec.)"
        );
        // A week-long URL is still good six days later (beyond the header form's 15 minutes).
        let (headers, query) = presigned_sts(&params("sts"), 604_800);
        let six_days = 6 * 24 * 3_600_000;
        assert!(
            auth.authenticate(&get(&headers, &query), STS, T0 + six_days)
                .is_ok()
        );
        // A signing time more than 15 minutes ahead is refused as in the header form.
        assert_eq!(
            invalid_signature(auth.authenticate(&get(&headers, &query), STS, T0 - 901_000)),
            "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)"
        );
        assert!(
            auth.authenticate(&get(&headers, &query), STS, T0 - 900_000)
                .is_ok()
        );

        // Without X-Amz-Expires (a signer may leave it out), the 15-minute skew applies. The
        // parameter is signed, so it is removed before signing.
        let signed = sigv4::query_without_signature(&with_param(&query, "X-Amz-Expires", None));
        let creq = sigv4::canonical_request(
            "GET",
            "/",
            &signed,
            &headers,
            &["host", "x-k8s-aws-id"],
            sigv4::EMPTY_PAYLOAD_SHA256,
        );
        let sts = sigv4::string_to_sign(
            "20150830T123600Z",
            "20150830/us-east-1/sts/aws4_request",
            &creq,
        );
        let key = sigv4::signing_key(SECRET, "20150830", "us-east-1", "sts");
        let no_expires = format!(
            "{signed}&X-Amz-Signature={}",
            hex::encode(sigv4::signature(&key, &sts))
        );
        let req = get(&headers, &no_expires);
        assert!(auth.authenticate(&req, STS, T0 + 900_000).is_ok());
        assert_eq!(
            invalid_signature(auth.authenticate(&req, STS, T0 + 901_000)),
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
        );
    }

    #[test]
    fn malformed_or_missing_parameters() {
        let auth = authenticator();
        let (headers, query) = presigned_sts(&params("sts"), 60);
        let check = |query: &str| incomplete(auth.authenticate(&get(&headers, query), STS, T0));

        assert_eq!(
            check(&format!("{ACTION}&X-Amz-Algorithm=AWS4-HMAC-SHA256")),
            "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."
        );
        for name in [
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-SignedHeaders",
            "X-Amz-Signature",
        ] {
            let expected = format!(
                "AWS query-string parameters must include '{name}'. Re-examine the query-string parameters."
            );
            assert_eq!(check(&with_param(&query, name, None)), expected);
            // An empty value counts as missing.
            assert_eq!(check(&with_param(&query, name, Some(""))), expected);
        }
        assert_eq!(
            check(&with_param(
                &query,
                "X-Amz-Algorithm",
                Some("AWS4-HMAC-SHA512")
            )),
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'. Re-examine the query-string parameters."
        );
        assert_eq!(
            check(&format!("{query}&X-Amz-Date=20150830T123600Z")),
            "AWS query-string parameters must include 'X-Amz-Date' only once. Re-examine the query-string parameters."
        );
        assert_eq!(
            check(&with_param(
                &query,
                "X-Amz-Date",
                Some("2015-08-30T12%3A36%3A00Z")
            )),
            "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"
        );
        assert_eq!(
            check(&with_param(
                &query,
                "X-Amz-Credential",
                Some("AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsts")
            )),
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/sts'"
        );
        for (expires, message) in [
            (
                "0",
                "X-Amz-Expires must be at least 1 second. Re-examine the query-string parameters.",
            ),
            (
                "604801",
                "X-Amz-Expires must be less than a week (in seconds) that is 604800. Re-examine the query-string parameters.",
            ),
            (
                "99999999999999999999",
                "X-Amz-Expires should be a number, not '99999999999999999999'. Re-examine the query-string parameters.",
            ),
            (
                "-5",
                "X-Amz-Expires should be a number, not '-5'. Re-examine the query-string parameters.",
            ),
            (
                "1e3",
                "X-Amz-Expires should be a number, not '1e3'. Re-examine the query-string parameters.",
            ),
        ] {
            assert_eq!(
                check(&with_param(&query, "X-Amz-Expires", Some(expires))),
                message
            );
        }

        // host must be signed.
        let mut headers = HeaderMap::new();
        let query = presign(
            &params("sts"),
            "GET",
            HOST,
            "/",
            ACTION,
            &mut headers,
            b"",
            60,
        )
        .unwrap();
        let unsigned_host = with_param(&query, "X-Amz-SignedHeaders", Some("x-k8s-aws-id"));
        assert_eq!(
            invalid_signature(auth.authenticate(&get(&headers, &unsigned_host), STS, T0)),
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        );

        // No Authorization header and no X-Amz-Algorithm: no authentication at all, even with
        // the other parameters present.
        let bare = with_param(&query, "X-Amz-Algorithm", None);
        assert_eq!(
            error(auth.authenticate(&get(&headers, &bare), STS, T0)),
            AuthError::MissingAuthenticationToken
        );
    }

    #[test]
    fn both_forms_at_once_are_refused() {
        let auth = authenticator();
        let (mut headers, query) = presigned_sts(&params("sts"), 60);
        set(
            &mut headers,
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00",
        );
        assert_eq!(
            invalid_signature(auth.authenticate(&get(&headers, &query), STS, T0)),
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
        );
    }

    #[test]
    fn a_body_is_covered_and_unsigned_payload_only_without_one() {
        let auth = authenticator();
        let body = br#"{"SecretId":"prod/db"}"#;
        let mut headers = HeaderMap::new();
        set(&mut headers, "content-type", "application/x-amz-json-1.1");
        set(
            &mut headers,
            "x-amz-target",
            "secretsmanager.GetSecretValue",
        );
        let p = params("secretsmanager");
        let query = presign(&p, "POST", "localhost", "/", "", &mut headers, body, 300).unwrap();
        let post = |body: &'static [u8]| SignedRequest {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            body,
        };
        let ok = auth
            .authenticate(&post(body), &["secretsmanager"], T0)
            .unwrap();
        assert_eq!(ok.service, "secretsmanager");
        // Another body does not verify.
        let message = invalid_signature(auth.authenticate(
            &post(br#"{"SecretId":"x"}"#),
            &["secretsmanager"],
            T0,
        ));
        assert!(message.starts_with(MISMATCH), "{message}");

        // A signer that follows S3's rule signs UNSIGNED-PAYLOAD: accepted without a body,
        // refused with one (the body would be unauthenticated).
        let unsigned = |method: &str, body: &[u8]| {
            let scope = "20150830/us-east-1/secretsmanager/aws4_request";
            let base = format!(
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F{}&X-Amz-Date=20150830T123600Z&X-Amz-Expires=300&X-Amz-SignedHeaders=content-type%3Bhost%3Bx-amz-target",
                scope.replace('/', "%2F")
            );
            let creq = sigv4::canonical_request(
                method,
                "/",
                &base,
                &headers,
                &["content-type", "host", "x-amz-target"],
                sigv4::UNSIGNED_PAYLOAD,
            );
            let sts = sigv4::string_to_sign("20150830T123600Z", scope, &creq);
            let key = sigv4::signing_key(SECRET, "20150830", "us-east-1", "secretsmanager");
            let query = format!(
                "{base}&X-Amz-Signature={}",
                hex::encode(sigv4::signature(&key, &sts))
            );
            let req = SignedRequest {
                method,
                path: "/",
                query: &query,
                headers: &headers,
                body,
            };
            auth.authenticate(&req, &["secretsmanager"], T0)
        };
        assert!(unsigned("POST", b"").is_ok());
        assert!(unsigned("POST", body).is_err());
    }

    /// What the fuzz target checks at random, on inputs chosen to be awkward: whatever the
    /// presigner signs, the verifier accepts.
    #[test]
    fn presign_round_trips_awkward_paths_and_queries() {
        let auth = authenticator();
        let paths = ["/", "", "/a b/../c//d/", "/%2F%41?", "/caf\u{e9}"];
        let queries = [
            "",
            "a=1&a=0&b",
            "k=a+b&k=a%20b&=empty-name&z=",
            "x-amz-date=lower&X-Amz-Datex=1",
            "v=%E2%82%AC&w=%zz&u=\u{e9}",
            "&&Action=ListUsers&&",
        ];
        for path in paths {
            for query in queries {
                for body in [&b""[..], b"{\"a\":1}"] {
                    let mut headers = HeaderMap::new();
                    set(&mut headers, "x-custom", "  spaced   value ");
                    let signed = presign(
                        &params("secretsmanager"),
                        "POST",
                        "localhost:8443",
                        path,
                        query,
                        &mut headers,
                        body,
                        60,
                    )
                    .unwrap();
                    let req = SignedRequest {
                        method: "POST",
                        path,
                        query: &signed,
                        headers: &headers,
                        body,
                    };
                    let ok = auth.authenticate(&req, &["secretsmanager"], T0);
                    assert!(ok.is_ok(), "{path:?} {query:?}: {ok:?}");
                }
            }
        }
    }

    #[test]
    fn debug_output_hides_the_query_token() {
        let p = temporary_params();
        let (headers, query) = presigned_sts(&p, 60);
        let req = get(&headers, &query);
        let text = format!("{req:?}");
        assert!(!text.contains("EXAMPLE%2BTOKEN"), "{text}");
        assert!(text.contains("X-Amz-Security-Token=[REDACTED]"), "{text}");
        let parsed = sigv4::parse_presigned(&query).unwrap().unwrap();
        let text = format!("{parsed:?}");
        assert!(!text.contains("EXAMPLE+TOKEN"), "{text}");
        assert_eq!(
            parsed.security_token.as_deref().map(String::as_str),
            Some(TOKEN)
        );
    }
}

/// Cross-checks against the official `aws-sigv4` crate, the signer the Rust SDK uses.
#[cfg(test)]
mod aws_sigv4_cross_check {
    use std::time::{Duration, SystemTime};

    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{
        SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
    };
    use aws_smithy_runtime_api::client::identity::Identity;

    use super::*;
    use crate::auth::MemoryCredentialStore;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const NOW: EpochMillis = 1_700_000_000_123;

    fn sign_with_sdk(
        token: Option<&str>,
        uri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HeaderMap {
        let identity: Identity =
            Credentials::new("AKIDSDK", SECRET, token.map(str::to_string), None, "test").into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-3")
            .name("secretsmanager")
            .time(SystemTime::UNIX_EPOCH + Duration::from_millis(NOW as u64))
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            "POST",
            uri,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut request = http::Request::builder().method("POST").uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(()).unwrap();
        instructions.apply_to_request_http1x(&mut request);
        request.headers().clone()
    }

    fn verify(
        token: Option<&str>,
        path: &str,
        query: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Authenticated, AuthError> {
        let store = Arc::new(MemoryCredentialStore::new());
        store.insert(
            "AKIDSDK",
            StoredCredential {
                secret: SecretAccessKey::new(SECRET),
                caller: Caller::root("123456789012", "AKIDSDK"),
                session_token: token.map(SecretAccessKey::new),
                expires_at: None,
                active: true,
            },
        );
        let auth = Authenticator::new(store);
        let req = SignedRequest {
            method: "POST",
            path,
            query,
            headers,
            body,
        };
        auth.authenticate(&req, &["secretsmanager"], NOW + 60_000)
    }

    #[test]
    fn verifies_a_request_signed_by_aws_sigv4() {
        let body = br#"{"SecretId":"prod/db","VersionStage":"AWSCURRENT"}"#;
        let headers = sign_with_sdk(
            None,
            "https://localhost:8443/",
            &[
                ("host", "localhost:8443"),
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "secretsmanager.GetSecretValue"),
            ],
            body,
        );
        let ok = verify(None, "/", "", &headers, body).unwrap();
        assert_eq!(ok.region, "eu-west-3");
        assert_eq!(ok.service, "secretsmanager");

        // And a changed body fails.
        assert!(verify(None, "/", "", &headers, b"{}").is_err());
    }

    #[test]
    fn verifies_aws_sigv4_with_session_token_path_and_query() {
        let token = "IQoJb3JpZ2luX2VjEXAMPLE/+=token";
        let body = b"{}";
        let headers = sign_with_sdk(
            Some(token),
            "https://localhost:8443/a%20b/./c/../d?z=1&a=%2F&a=b%20c&empty",
            &[
                ("host", "localhost:8443"),
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "secretsmanager.ListSecrets"),
                ("x-custom", "  spaced    value  "),
            ],
            body,
        );
        assert!(headers.contains_key("x-amz-security-token"));
        let ok = verify(
            Some(token),
            "/a%20b/./c/../d",
            "z=1&a=%2F&a=b%20c&empty",
            &headers,
            body,
        );
        assert!(ok.is_ok(), "{ok:?}");
    }

    /// Presigns with `aws-sigv4` (`SignatureLocation::QueryParams`) and returns the request's
    /// query string and headers.
    #[allow(clippy::too_many_arguments)]
    fn presign_with_sdk(
        access_key: &str,
        token: Option<&str>,
        service: &str,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        expires: Duration,
    ) -> (String, HeaderMap) {
        let identity: Identity =
            Credentials::new(access_key, SECRET, token.map(str::to_string), None, "test").into();
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-3")
            .name(service)
            .time(SystemTime::UNIX_EPOCH + Duration::from_millis(NOW as u64))
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            method,
            uri,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut request = http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(()).unwrap();
        instructions.apply_to_request_http1x(&mut request);
        let query = request.uri().query().unwrap_or("").to_string();
        (query, request.headers().clone())
    }

    #[test]
    fn verifies_a_request_presigned_by_aws_sigv4() {
        let token = "IQoJb3JpZ2luX2VjEXAMPLE/+=token";
        let store = Arc::new(MemoryCredentialStore::new());
        for (id, token) in [("AKIDSDK", None), ("AKIDSDK-TEMP", Some(token))] {
            store.insert(
                id,
                StoredCredential {
                    secret: SecretAccessKey::new(SECRET),
                    caller: Caller::root("123456789012", id),
                    session_token: token.map(SecretAccessKey::new),
                    expires_at: None,
                    active: true,
                },
            );
        }
        let auth = Authenticator::new(store);

        // GetCallerIdentity as EKS presigns it: GET, a signed x-k8s-aws-id header.
        let (query, headers) = presign_with_sdk(
            "AKIDSDK",
            None,
            "sts",
            "GET",
            "https://localhost:8443/?Action=GetCallerIdentity&Version=2011-06-15",
            &[("host", "localhost:8443"), ("x-k8s-aws-id", "my-cluster")],
            b"",
            Duration::from_secs(60),
        );
        assert!(
            query.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"),
            "{query}"
        );
        let req = SignedRequest {
            method: "GET",
            path: "/",
            query: &query,
            headers: &headers,
            body: b"",
        };
        let ok = auth.authenticate(&req, &["sts"], NOW + 59_000).unwrap();
        assert_eq!(ok.region, "eu-west-3");
        assert!(matches!(
            auth.authenticate(&req, &["sts"], NOW + 61_000),
            Err(AuthError::InvalidSignature(m)) if m.starts_with("Signature expired")
        ));

        // Temporary credentials: the token travels (signed) in the query.
        let (query, headers) = presign_with_sdk(
            "AKIDSDK-TEMP",
            Some(token),
            "sts",
            "GET",
            "https://localhost:8443/?Action=GetCallerIdentity&Version=2011-06-15",
            &[("host", "localhost:8443")],
            b"",
            Duration::from_secs(900),
        );
        assert!(query.contains("X-Amz-Security-Token="), "{query}");
        let req = SignedRequest {
            method: "GET",
            path: "/",
            query: &query,
            headers: &headers,
            body: b"",
        };
        let ok = auth.authenticate(&req, &["sts"], NOW).unwrap();
        assert_eq!(ok.caller.access_key_id, "AKIDSDK-TEMP");

        // A Secrets Manager JSON POST, its body covered by the signature.
        let body = br#"{"SecretId":"prod/db"}"#;
        let (query, headers) = presign_with_sdk(
            "AKIDSDK",
            None,
            "secretsmanager",
            "POST",
            "https://localhost:8443/",
            &[
                ("host", "localhost:8443"),
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "secretsmanager.GetSecretValue"),
            ],
            body,
            Duration::from_secs(300),
        );
        let post = |body: &'static [u8]| SignedRequest {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            body,
        };
        let ok = auth.authenticate(&post(body), &["secretsmanager"], NOW);
        assert!(ok.is_ok(), "{ok:?}");
        assert!(
            auth.authenticate(&post(b"{}"), &["secretsmanager"], NOW)
                .is_err()
        );
    }

    #[test]
    fn our_signer_and_aws_sigv4_agree() {
        let body = br#"{"Name":"x"}"#;
        let base = [
            ("host", "localhost:8443"),
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "secretsmanager.CreateSecret"),
        ];
        let theirs = sign_with_sdk(None, "https://localhost:8443/", &base, body);
        let mut ours = HeaderMap::new();
        for (name, value) in base {
            ours.insert(name, http::HeaderValue::from_static(value));
        }
        let params = sigv4::SigningParams {
            access_key_id: "AKIDSDK",
            secret_access_key: SECRET,
            session_token: None,
            region: "eu-west-3",
            service: "secretsmanager",
            time: NOW,
        };
        sigv4::sign_headers(&params, "POST", "localhost:8443", "/", "", &mut ours, body).unwrap();
        assert_eq!(ours["x-amz-date"], theirs["x-amz-date"]);
        assert_eq!(ours["authorization"], theirs["authorization"]);
    }
}
