//! HTTP and AWS JSON: the only module that knows about requests and responses. It reads the
//! body under a size limit, authenticates with SigV4, routes on `X-Amz-Target`, and writes
//! AWS's success and error responses.

mod audit;
mod error;
mod observe;
mod query;
pub mod request_log;

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
use crate::audit::AuditLog;
use crate::audit::cloudtrail::{self, LOOKUP_EVENTS_TARGET};
use crate::audit::record::SOURCE_CLOUDTRAIL;
use crate::auth::{Authenticator, Caller, SignedRequest};
use crate::metrics::Metrics;
use audit::{CallInfo, Exchange};

/// The content type of every AWS JSON 1.1 response.
pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Default request body limit. A maximal SecretString, JSON-escaped at worst (12 bytes for a
/// surrogate pair), stays under it.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Shared state of the HTTP front end.
pub struct Frontend {
    /// The Secrets Manager service.
    pub service: Service,
    /// IAM and STS.
    pub iam: Arc<crate::iam::IamService>,
    /// The SigV4 verifier.
    pub authenticator: Authenticator,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// The audit log every call is recorded in before it is answered.
    pub audit: AuditLog,
    /// Request and job metrics, served at `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The data directory's account: `recipientAccountId` of calls that fail authentication.
    pub account_id: String,
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
    /// Header names are case-insensitive and HTTP/1 sends them in lower case; a static name
    /// costs no allocation per response.
    static REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-amzn-requestid");
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(&REQUEST_ID, v);
    }
    if let Some(date) = http_date(now) {
        response.headers_mut().insert(header::DATE, date);
    }
    response
}

/// The `Date` header for `now`, formatted once per second per thread (cloning a
/// `HeaderValue` shares its bytes).
fn http_date(now: crate::clock::EpochMillis) -> Option<HeaderValue> {
    thread_local! {
        static CACHED: crate::clock::PerSecond<Option<HeaderValue>> =
            const { crate::clock::PerSecond::new() };
    }
    CACHED.with(|cached| {
        cached.get(now, |at| {
            let second = u64::try_from(at.div_euclid(1000)).unwrap_or(0);
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(second);
            HeaderValue::from_str(&httpdate::fmt_http_date(at)).ok()
        })
    })
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

/// Which protocol a request speaks, decided before authentication.
#[derive(Debug, Clone, Copy)]
enum Protocol {
    /// AWS JSON 1.1 with `X-Amz-Target` (Secrets Manager); `None` for an unknown target.
    Json(Option<Operation>),
    /// The Query protocol (IAM, STS): a form-encoded `Action=...`.
    Query,
    /// CloudTrail's LookupEvents (AWS JSON 1.1).
    CloudTrail,
}

impl Frontend {
    /// Answers one HTTP request. `secure` says whether it arrived over TLS.
    pub async fn handle(
        self: Arc<Self>,
        request: Request<Incoming>,
        remote: SocketAddr,
        secure: bool,
    ) -> Response<Full<Bytes>> {
        if request.method() == Method::GET {
            match request.uri().path() {
                "/health" => return plain(StatusCode::OK, "ok\n"),
                "/ready" => return self.ready().await,
                "/metrics" => return self.metrics_response().await,
                _ => {}
            }
        }
        let started = Instant::now();
        let request_id = crate::crypto::uuid_v4().to_string();
        let info = CallInfo::new(
            request.headers(),
            request.uri().query(),
            &request_id,
            remote,
            self.service.clock().now_millis(),
        );
        let target = request
            .headers()
            .get("x-amz-target")
            .map(|t| t.to_str().unwrap_or_default().to_string());
        let protocol = match target.as_deref() {
            Some(LOOKUP_EVENTS_TARGET) => Protocol::CloudTrail,
            Some(target) => Protocol::Json(Operation::from_target(target)),
            None if is_form(request.headers())
                || request.uri().query().is_some_and(|q| q.contains("Action=")) =>
            {
                Protocol::Query
            }
            None => Protocol::Json(None),
        };
        // The metrics' outcome is the error code on the wire; the audit record keeps
        // CloudTrail's (`AccessDenied` where the JSON error is `AccessDeniedException`).
        let mut wire_code: Option<&'static str> = None;
        let (mut response, operation, exchange) = match protocol {
            Protocol::Json(op) => {
                let (result, caller, region, body) = self
                    .process_json(request, op, &request_id, remote, secure)
                    .await;
                let exchange = audit::secrets_manager(
                    op,
                    target.as_deref().unwrap_or_default(),
                    caller,
                    region,
                    body.as_deref().map(Vec::as_slice),
                    &result,
                );
                let response = match result {
                    Ok(body) => json_response(body),
                    Err(e) => {
                        wire_code = Some(e.code());
                        if matches!(e, ApiError::Internal) {
                            tracing::error!(request_id = %request_id, "internal error");
                        }
                        error_response(&e)
                    }
                };
                let name = op.map(Operation::name).unwrap_or("unknown").to_string();
                (response, name, exchange)
            }
            Protocol::CloudTrail => {
                let (response, exchange) = self
                    .process_cloudtrail(request, &request_id, remote, secure)
                    .await;
                (response, "LookupEvents".to_string(), exchange)
            }
            Protocol::Query => query::handle(&self, request, &request_id, remote, secure).await,
        };
        let principal = exchange.caller.as_ref().map(|c| c.arn.clone());
        let mut outcome = wire_code.unwrap_or(exchange.outcome()).to_string();
        // Nothing is sent until its audit events are durable; if they cannot be written, the
        // computed response (which may hold a secret value) is dropped.
        if let Err(e) = self.record(&info, exchange).await {
            tracing::error!(request_id = %request_id, error = %e, "audit append failed");
            response = match protocol {
                Protocol::Query => query::internal_error(&request_id),
                _ => error_response(&ApiError::Internal),
            };
            outcome = ApiError::Internal.code().to_string();
        }
        let latency = started.elapsed();
        self.metrics.record_request(&operation, &outcome, latency);
        request_log::log(&request_log::RequestLine {
            request_id: &request_id,
            operation: &operation,
            principal: principal.as_deref(),
            remote: remote.ip(),
            status: response.status().as_u16(),
            latency_us: u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        });
        with_common_headers(response, &request_id, self.service.clock().now_millis())
    }

    /// Reads the body under the size limit into a buffer that is wiped on drop (it may hold
    /// a secret value).
    async fn read_body(
        &self,
        parts: &http::request::Parts,
        body: Incoming,
    ) -> Result<Zeroizing<Vec<u8>>, ApiError> {
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body_bytes as u64) {
            return Err(ApiError::RequestTooLarge);
        }
        match Limited::new(body, self.max_body_bytes).collect().await {
            Ok(collected) => Ok(Zeroizing::new(collected.to_bytes().to_vec())),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                Err(ApiError::RequestTooLarge)
            }
            Err(_) => Err(ApiError::Serialization),
        }
    }

    /// Reads, authenticates and dispatches a JSON request; returns the body or error, and for
    /// the audit record the verified caller, the scope's region and the request body.
    async fn process_json(
        &self,
        request: Request<Incoming>,
        op: Option<Operation>,
        request_id: &str,
        remote: SocketAddr,
        secure: bool,
    ) -> JsonOutcome {
        let (parts, body) = request.into_parts();
        let body = match self.read_body(&parts, body).await {
            Ok(b) => b,
            Err(e) => return (Err(e), None, None, None),
        };
        let now = self.service.clock().now_millis();
        let signed = signed_request(&parts, &body);
        let authenticated =
            match self
                .authenticator
                .authenticate(&signed, &[Operation::SERVICE], now)
            {
                Ok(a) => a,
                Err(e) => return (Err(ApiError::Auth(e)), None, None, None),
            };
        let Some(op) = op.filter(|_| parts.method == Method::POST) else {
            let region = Some(authenticated.region);
            return (
                Err(ApiError::UnknownOperation),
                Some(authenticated.caller),
                region,
                Some(body),
            );
        };
        let ctx = request_context(authenticated, &parts, request_id, now, remote, secure);
        let result = self.service.dispatch(&ctx, op, &body).await;
        (result, Some(ctx.caller), Some(ctx.region), Some(body))
    }

    /// Reads, authenticates (SigV4 scope `cloudtrail`) and answers a LookupEvents request.
    async fn process_cloudtrail(
        &self,
        request: Request<Incoming>,
        request_id: &str,
        remote: SocketAddr,
        secure: bool,
    ) -> (Response<Full<Bytes>>, Exchange) {
        let mut exchange = Exchange::new(SOURCE_CLOUDTRAIL, "LookupEvents", true);
        let (parts, body) = request.into_parts();
        let body = match self.read_body(&parts, body).await {
            Ok(b) => b,
            Err(e) => {
                let exchange = exchange.failed(e.code(), e.message());
                return (error_response(&e), exchange);
            }
        };
        let signed = signed_request(&parts, &body);
        let now = self.service.clock().now_millis();
        let authenticated =
            match self
                .authenticator
                .authenticate(&signed, &[cloudtrail::SERVICE], now)
            {
                Ok(a) => a,
                Err(e) => {
                    let e = ApiError::Auth(e);
                    let exchange = exchange.failed(e.code(), e.message());
                    return (error_response(&e), exchange);
                }
            };
        exchange.request_parameters = crate::audit::redact::redact_json_body(&body);
        let ctx = request_context(authenticated, &parts, request_id, now, remote, secure);
        let result = if parts.method == Method::POST {
            cloudtrail::lookup_events(&self.audit, &ctx, &body).await
        } else {
            Err(cloudtrail::CloudTrailError::serialization())
        };
        exchange.caller = Some(ctx.caller);
        exchange.region = Some(ctx.region);
        match result {
            Ok(body) => (json_response(body), exchange),
            Err(e) => {
                let response = error::cloudtrail_error_response(&e);
                let message = Some(e.message).filter(|m| !m.is_empty());
                (response, exchange.failed(e.code, message))
            }
        }
    }
}

/// What [`Frontend::process_json`] learned: the result, and for the audit record the verified
/// caller, the credential scope's region and the request body (wiped on drop).
type JsonOutcome = (
    Result<Vec<u8>, ApiError>,
    Option<Caller>,
    Option<String>,
    Option<Zeroizing<Vec<u8>>>,
);

/// The parts of a request SigV4 covers, as the authenticator reads them.
fn signed_request<'a>(parts: &'a http::request::Parts, body: &'a [u8]) -> SignedRequest<'a> {
    SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body,
    }
}

/// True for a form-encoded body (the Query protocol).
fn is_form(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// Everything the service layer knows about an authenticated request.
fn request_context(
    authenticated: crate::auth::Authenticated,
    parts: &http::request::Parts,
    request_id: &str,
    now: crate::clock::EpochMillis,
    remote: SocketAddr,
    secure: bool,
) -> RequestContext {
    RequestContext {
        caller: authenticated.caller,
        region: authenticated.region,
        request_id: request_id.to_string(),
        now,
        source_ip: remote.ip(),
        secure_transport: secure,
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    }
}
