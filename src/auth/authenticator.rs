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
            .field("query", &self.query)
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
    /// The header that carried it, which must be signed.
    header: &'static str,
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

    /// Verifies `req`'s SigV4 signature at time `now`.
    ///
    /// `services`: the scope service names this endpoint accepts for the request's target
    /// (e.g. `&["secretsmanager"]`); the first is the one named in the error when the scope
    /// names another.
    ///
    /// # Errors
    ///
    /// In the order they are checked: no `Authorization` header gives
    /// [`AuthError::MissingAuthenticationToken`]; a malformed header, a malformed credential or
    /// a missing or malformed date gives [`AuthError::IncompleteSignature`]; a bad scope
    /// (date, region, service, terminator), an unsigned `host` or date header, or a timestamp
    /// more than 15 minutes off gives [`AuthError::InvalidSignature`]; an unknown or inactive
    /// access key or a wrong, missing or unexpected session token gives
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
        let Some(authorization) = req.headers.get(http::header::AUTHORIZATION) else {
            return Err(AuthError::MissingAuthenticationToken);
        };
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
        let signed: Vec<&str> = parsed.signed_headers.iter().map(|n| n.as_ref()).collect();
        let creq = sigv4::canonical_request(
            req.method,
            req.path,
            req.query,
            req.headers,
            &signed,
            &payload_hash,
        );
        let scope = parsed.scope.text();
        let sts = sigv4::string_to_sign(&time.amz_date, &scope, &creq);

        // An unknown or inactive key is checked against a fixed, precomputed dummy key: one
        // HMAC and one constant-time comparison, the same work as a known key whose signing key
        // is cached (the usual case), so timing does not tell the two apart. The unknown path
        // never touches the cache, so made-up key ids cannot fill or flush it.
        let stored = self.credentials.lookup(parsed.access_key_id);
        let usable = stored.as_ref().filter(|c| c.active);
        let expected = match usable {
            Some(credential) => {
                let key = self.signing_key(parsed.access_key_id, &scope, &parsed, credential);
                sigv4::signature(&key, &sts)
            }
            None => sigv4::signature(&self.dummy_key, &sts),
        };
        let signature_ok = signature_matches(&expected, parsed.signature);

        let Some(credential) = usable else {
            return Err(AuthError::UnrecognizedClient);
        };
        if !session_token_matches(credential, req.headers) {
            return Err(AuthError::UnrecognizedClient);
        }
        if !signature_ok {
            let shown = redact_session_token(&creq, &parsed, req.headers);
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
            header: "x-amz-date",
        });
    }
    match http_date {
        Some(at) => Ok(RequestTime {
            at,
            amz_date: Cow::Owned(sigv4::format_amz_date(at)),
            header: "date",
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
/// must the header the timestamp came from.
fn check_signed_headers(
    parsed: &ParsedAuthorization<'_>,
    time: &RequestTime,
) -> Result<(), AuthError> {
    if !parsed.signs("host") {
        return Err(AuthError::InvalidSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_string(),
        ));
    }
    if !parsed.signs(time.header) {
        let shown = if time.header == "x-amz-date" {
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
    let earliest = now.saturating_sub(MAX_SKEW_MILLIS);
    let latest = now.saturating_add(MAX_SKEW_MILLIS);
    if time.at < earliest {
        return Err(AuthError::InvalidSignature(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
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

/// The canonical request as shown in a mismatch error, with a signed session token's value
/// replaced: AWS echoes it, but this server never puts a session token in an error, since
/// error messages end up in logs. By this point the token has been checked against the stored
/// one, so it would be the real token.
fn redact_session_token<'a>(
    creq: &'a str,
    parsed: &ParsedAuthorization<'_>,
    headers: &HeaderMap,
) -> Cow<'a, str> {
    if !parsed.signs("x-amz-security-token") {
        return Cow::Borrowed(creq);
    }
    // Canonical header lines start after a newline, so the leading `\n` cannot match inside
    // another header's value.
    let line = format!(
        "\nx-amz-security-token:{}\n",
        sigv4::canonical_header_value(headers, "x-amz-security-token")
    );
    Cow::Owned(creq.replace(&line, "\nx-amz-security-token:[REDACTED]\n"))
}

/// A credential with a session token requires that exact `X-Amz-Security-Token`; one without
/// requires its absence, so a long-term key cannot be presented with a stray token.
fn session_token_matches(credential: &StoredCredential, headers: &HeaderMap) -> bool {
    let provided = headers
        .get("x-amz-security-token")
        .map(http::HeaderValue::as_bytes);
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

    fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).unwrap(),
        );
    }

    fn err(result: Result<Authenticated, AuthError>) -> AuthError {
        match result {
            Ok(ok) => panic!("expected an error, got {ok:?}"),
            Err(e) => e,
        }
    }

    fn invalid_signature(result: Result<Authenticated, AuthError>) -> String {
        match err(result) {
            AuthError::InvalidSignature(message) => message,
            other => panic!("expected InvalidSignature, got {other:?}"),
        }
    }

    fn incomplete(result: Result<Authenticated, AuthError>) -> String {
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

/// Cross-checks against the official `aws-sigv4` crate, the signer the Rust SDK uses.
#[cfg(test)]
mod aws_sigv4_cross_check {
    use std::time::{Duration, SystemTime};

    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
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
