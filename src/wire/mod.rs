//! HTTP and AWS JSON: the only module that knows about requests and responses. It reads the
//! body under a size limit, authenticates with SigV4, routes on `X-Amz-Target`, and writes
//! AWS's success and error responses.

mod error;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use zeroize::Zeroizing;

pub use error::error_response;

use crate::api::{ApiError, Operation, RequestContext, Service};
use crate::auth::{Authenticator, SignedRequest};

/// The content type of every AWS JSON 1.1 response.
pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Default request body limit. A maximal SecretString, JSON-escaped at worst (12 bytes for a
/// surrogate pair), stays under it.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Shared state of the HTTP front end.
pub struct Frontend {
    /// The Secrets Manager service.
    pub service: Service,
    /// The SigV4 verifier.
    pub authenticator: Authenticator,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
}

impl std::fmt::Debug for Frontend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frontend")
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

/// Adds `x-amzn-RequestId` and a `Date` from the service clock. SDKs correct their signing
/// time by the `Date` they see, so it must come from the same clock that checks skew (hyper
/// would otherwise fill it from the system clock).
fn with_common_headers(
    mut response: Response<Full<Bytes>>,
    request_id: &str,
    now: crate::clock::EpochMillis,
) -> Response<Full<Bytes>> {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-RequestId", v);
    }
    let at =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(now).unwrap_or(0));
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(at)) {
        response.headers_mut().insert(header::DATE, v);
    }
    response
}

fn json_response(body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

impl Frontend {
    /// Answers one HTTP request.
    pub async fn handle(
        self: Arc<Self>,
        request: Request<Incoming>,
        remote: SocketAddr,
    ) -> Response<Full<Bytes>> {
        if request.method() == Method::GET && request.uri().path() == "/health" {
            return plain(StatusCode::OK, "ok\n");
        }
        let started = Instant::now();
        let request_id = uuid::Uuid::new_v4().to_string();
        let target = request
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let op = Operation::from_target(&target);
        let (result, principal) = self.process(request, op, &request_id).await;
        let response = match result {
            Ok(body) => json_response(body),
            Err(e) => {
                if matches!(e, ApiError::Internal) {
                    tracing::error!(request_id = %request_id, "internal error");
                }
                error_response(&e)
            }
        };
        tracing::info!(
            request_id = %request_id,
            operation = op.map(Operation::name).unwrap_or("-"),
            principal = principal.as_deref().unwrap_or("-"),
            remote = %remote.ip(),
            status = response.status().as_u16(),
            latency_us = started.elapsed().as_micros() as u64,
            "request"
        );
        with_common_headers(response, &request_id, self.service.clock().now_millis())
    }

    /// Reads, authenticates and dispatches; returns the body or error, and the principal ARN.
    async fn process(
        &self,
        request: Request<Incoming>,
        op: Option<Operation>,
        request_id: &str,
    ) -> (Result<Vec<u8>, ApiError>, Option<String>) {
        let (parts, body) = request.into_parts();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body_bytes as u64) {
            return (Err(ApiError::RequestTooLarge), None);
        }
        // The body may hold a secret value: keep it in a buffer that is wiped on drop.
        let body: Zeroizing<Vec<u8>> = match Limited::new(body, self.max_body_bytes).collect().await
        {
            Ok(collected) => Zeroizing::new(collected.to_bytes().to_vec()),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return (Err(ApiError::RequestTooLarge), None);
            }
            Err(_) => return (Err(ApiError::Serialization), None),
        };
        let now = self.service.clock().now_millis();
        let signed = SignedRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &parts.headers,
            body: &body,
        };
        let authenticated =
            match self
                .authenticator
                .authenticate(&signed, &[Operation::SERVICE], now)
            {
                Ok(a) => a,
                Err(e) => return (Err(ApiError::Auth(e)), None),
            };
        let principal = Some(authenticated.caller.arn.clone());
        let Some(op) = op.filter(|_| parts.method == Method::POST) else {
            return (Err(ApiError::UnknownOperation), principal);
        };
        let ctx = RequestContext {
            caller: authenticated.caller,
            region: authenticated.region,
            request_id: request_id.to_string(),
            now,
        };
        (self.service.dispatch(&ctx, op, &body).await, principal)
    }
}
