//! The reference "limit" server: HTTP/1.1 on the same hyper and tokio set-up as Strongbox, SigV4
//! verified by the same [`Authenticator`], and a fixed GetSecretValue-shaped answer. What
//! Strongbox spends beyond it is API, crypto and storage.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::api::ApiError;
use crate::auth::{Authenticator, Caller, MemoryCredentialStore, SignedRequest, StoredCredential};
use crate::clock::{Clock, SystemClock};
use crate::wire::{DEFAULT_MAX_BODY_BYTES, JSON_CONTENT_TYPE, error_response};

use super::client::Credentials;

/// The fixed answer: a GetSecretValue response of about 450 bytes.
pub const FIXED_BODY: &str = concat!(
    r#"{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:bench/0000042-a1B2c3","#,
    r#""Name":"bench/0000042","VersionId":"3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60","#,
    r#""SecretString":"{\"username\":\"bench\",\"password\":\"0123456789abcdef0123456789abcdef\","#,
    r#"\"engine\":\"postgres\",\"host\":\"db.internal.example.com\",\"port\":5432,"#,
    r#"\"dbname\":\"inventory\",\"options\":\"sslmode=verify-full\"}","#,
    r#""VersionStages":["AWSCURRENT"],"CreatedDate":1.700000000123E9}"#
);

/// Serves `POST /` on `listener` until the process ends; `GET /health` answers 200.
pub async fn serve(listener: TcpListener, credentials: Credentials) {
    let store = Arc::new(MemoryCredentialStore::new());
    store.insert(
        &credentials.access_key_id,
        StoredCredential {
            secret: credentials.secret_access_key.clone(),
            caller: Caller::root("123456789012", &credentials.access_key_id),
            session_token: credentials
                .session_token
                .as_ref()
                .map(|t| crate::auth::SecretAccessKey::new(t.clone())),
            expires_at: None,
            active: true,
        },
    );
    let auth = Arc::new(Authenticator::new(store));
    loop {
        let (stream, _remote): (_, SocketAddr) = match listener.accept().await {
            Ok(a) => a,
            Err(_) => continue,
        };
        let _ = stream.set_nodelay(true);
        let auth = auth.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let auth = auth.clone();
                async move { Ok::<_, Infallible>(answer(&auth, req).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(auth: &Authenticator, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.uri().path() == "/health" {
        return Response::new(Full::new(Bytes::from_static(b"ok\n")));
    }
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, DEFAULT_MAX_BODY_BYTES).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return error_response(&ApiError::RequestTooLarge),
    };
    let signed = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body: &body,
    };
    if let Err(e) = auth.authenticate(&signed, &["secretsmanager"], SystemClock.now_millis()) {
        return error_response(&ApiError::Auth(e));
    }
    let mut response = Response::new(Full::new(Bytes::from_static(FIXED_BODY.as_bytes())));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_body_is_json_of_about_450_bytes() {
        let v: serde_json::Value = serde_json::from_str(FIXED_BODY).unwrap();
        assert!(v["SecretString"].is_string());
        assert!(
            (420..=480).contains(&FIXED_BODY.len()),
            "{}",
            FIXED_BODY.len()
        );
    }
}
