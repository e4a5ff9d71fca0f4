//! SigV4: header and presigned-query parsing, canonicalisation and verification never panic,
//! and whatever the signer signs (in the header or presigned in the query), the verifier
//! accepts.
//!
//! Input: newline-separated fields: Authorization, X-Amz-Date, Date, path, query, then the body.
#![no_main]

use std::sync::{Arc, OnceLock};

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use strongbox::auth::sigv4::{self, SigningParams};
use strongbox::auth::{
    Authenticator, Caller, MemoryCredentialStore, SecretAccessKey, SignedRequest,
    StoredCredential,
};

const NOW: i64 = 1_700_000_000_000;

fn authenticator() -> &'static Authenticator {
    static AUTH: OnceLock<Authenticator> = OnceLock::new();
    AUTH.get_or_init(|| {
        let store = Arc::new(MemoryCredentialStore::new());
        store.insert(
            "AKIDFUZZ",
            StoredCredential {
                secret: SecretAccessKey::new("fuzz-secret"),
                caller: Caller::root("123456789012", "AKIDFUZZ"),
                session_token: None,
                expires_at: None,
                active: true,
            },
        );
        Authenticator::new(store)
    })
}

fuzz_target!(|data: &[u8]| {
    let mut fields = data.splitn(6, |b| *b == b'\n');
    let authorization = fields.next().unwrap_or_default();
    let amz_date = fields.next().unwrap_or_default();
    let date = fields.next().unwrap_or_default();
    let path = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let query = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let body = fields.next().unwrap_or_default();

    let text = String::from_utf8_lossy(authorization);
    let _ = sigv4::parse_authorization(&text);
    let _ = sigv4::canonical_uri(&path);
    let _ = sigv4::canonical_query_string(&query);
    if let Ok(Some(presigned)) = sigv4::parse_presigned(&query) {
        let _ = presigned.authorization();
    }
    let _ = sigv4::redact_query_token(&query);
    let _ = sigv4::parse_amz_date(&String::from_utf8_lossy(amz_date));
    let _ = sigv4::parse_http_date(&String::from_utf8_lossy(date));

    // Arbitrary headers through the verifier.
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("authorization", authorization),
        ("x-amz-date", amz_date),
        ("date", date),
    ] {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.insert(name, v);
        }
    }
    headers.insert("host", HeaderValue::from_static("127.0.0.1:8383"));
    let request = SignedRequest {
        method: "POST",
        path: &path,
        query: &query,
        headers: &headers,
        body,
    };
    let _ = authenticator().authenticate(&request, &["secretsmanager"], NOW);

    // Round trip: a request signed by the signer verifies.
    let mut signed = HeaderMap::new();
    signed.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    signed.insert(
        "x-amz-target",
        HeaderValue::from_static("secretsmanager.GetSecretValue"),
    );
    // A query that already carries presigned-authentication parameters cannot also be signed
    // in the header (AWS refuses both forms at once) nor presigned again.
    let has_auth_param = [
        sigv4::query_param::ALGORITHM,
        sigv4::query_param::CREDENTIAL,
        sigv4::query_param::DATE,
        sigv4::query_param::EXPIRES,
        sigv4::query_param::SIGNED_HEADERS,
        sigv4::query_param::SIGNATURE,
        sigv4::query_param::SECURITY_TOKEN,
    ]
    .iter()
    .any(|name| sigv4::has_query_param(&query, name));
    let params = SigningParams {
        access_key_id: "AKIDFUZZ",
        secret_access_key: "fuzz-secret",
        session_token: None,
        region: "us-east-1",
        service: "secretsmanager",
        time: NOW,
    };
    let mut presigned_headers = signed.clone();
    if !has_auth_param
        && sigv4::sign_headers(&params, "POST", "127.0.0.1:8383", &path, &query, &mut signed, body)
            .is_ok()
    {
        let request = SignedRequest {
            method: "POST",
            path: &path,
            query: &query,
            headers: &signed,
            body,
        };
        if let Err(e) = authenticator().authenticate(&request, &["secretsmanager"], NOW) {
            panic!("a request the signer signed failed verification: {e:?}");
        }
    }

    // Round trip of the presigned form.
    if has_auth_param {
        return;
    }
    if let Ok(presigned_query) = sigv4::presign(
        &params,
        "POST",
        "127.0.0.1:8383",
        &path,
        &query,
        &mut presigned_headers,
        body,
        60,
    ) {
        let request = SignedRequest {
            method: "POST",
            path: &path,
            query: &presigned_query,
            headers: &presigned_headers,
            body,
        };
        if let Err(e) = authenticator().authenticate(&request, &["secretsmanager"], NOW) {
            panic!("a request the presigner signed failed verification: {e:?}");
        }
    }
});
