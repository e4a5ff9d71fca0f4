//! The Query-protocol front end for IAM and STS: form body, SigV4 for the `iam` or `sts`
//! scope, `Action` routing, and XML success and error documents.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;

use super::{Frontend, request_context};
use crate::api::ApiError;
use crate::auth::{AuthError, SignedRequest};
use crate::iam::query::{error_document, success_document};
use crate::iam::{Params, QueryError, QueryService};

/// The signing names this endpoint accepts for Query requests; which one a request used
/// decides the service.
const QUERY_SERVICES: &[&str] = &["iam", "sts"];

fn xml_response(status: u16, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    response
}

/// AWS's Query-protocol error for an authentication failure.
fn auth_error(e: &AuthError) -> QueryError {
    match e {
        AuthError::MissingAuthenticationToken => QueryError::new(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        ),
        AuthError::IncompleteSignature(m) => QueryError::new(400, "IncompleteSignature", m.clone()),
        AuthError::InvalidSignature(m) => QueryError::new(403, "SignatureDoesNotMatch", m.clone()),
        AuthError::UnrecognizedClient => QueryError::new(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
        AuthError::ExpiredToken => QueryError::new(
            403,
            "ExpiredToken",
            "The security token included in the request is expired",
        ),
    }
}

/// Answers one Query-protocol request: the response, the action name and the principal ARN.
pub(super) async fn handle(
    frontend: &Frontend,
    request: Request<Incoming>,
    request_id: &str,
    remote: SocketAddr,
    secure: bool,
) -> (Response<Full<Bytes>>, String, Option<String>) {
    let (parts, body) = request.into_parts();
    // Until the scope is known, errors use IAM's namespace; botocore ignores it.
    let fail = |service: QueryService, e: &QueryError| {
        xml_response(e.status, error_document(service.namespace(), e, request_id))
    };
    let body = match frontend.read_body(&parts, body).await {
        Ok(b) => b,
        Err(ApiError::RequestTooLarge) => {
            let e = QueryError::new(413, "RequestEntityTooLarge", "Request body too large");
            return (fail(QueryService::Iam, &e), "-".into(), None);
        }
        Err(_) => {
            let e = QueryError::new(
                400,
                "MalformedQueryString",
                "The request body could not be read.",
            );
            return (fail(QueryService::Iam, &e), "-".into(), None);
        }
    };
    let now = frontend.service.clock().now_millis();
    let signed = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body: &body,
    };
    let authenticated = match frontend
        .authenticator
        .authenticate(&signed, QUERY_SERVICES, now)
    {
        Ok(a) => a,
        Err(e) => return (fail(QueryService::Iam, &auth_error(&e)), "-".into(), None),
    };
    let principal = Some(authenticated.caller.arn.clone());
    let Some(service) = QueryService::from_signing_name(&authenticated.service) else {
        return (
            fail(QueryService::Iam, &QueryError::internal()),
            "-".into(),
            principal,
        );
    };
    // Parameters come from the form body, or for GET from the query string.
    let source: &[u8] = if body.is_empty() {
        parts.uri.query().unwrap_or("").as_bytes()
    } else {
        &body
    };
    let Some(params) = Params::parse(source) else {
        let e = QueryError::new(
            400,
            "MalformedQueryString",
            "The request could not be decoded.",
        );
        return (fail(service, &e), "-".into(), principal);
    };
    let Some(action) = params.get("Action").map(str::to_string) else {
        let e = QueryError::new(400, "MissingAction", "Missing Action");
        return (fail(service, &e), "-".into(), principal);
    };
    let ctx = request_context(authenticated, &parts, request_id, now, remote, secure);
    let response = match frontend.iam.call(&ctx, service, &action, &params).await {
        Ok(result) => xml_response(
            200,
            success_document(service.namespace(), &action, result.as_deref(), request_id),
        ),
        Err(e) => fail(service, &e),
    };
    (
        response,
        format!("{}:{action}", service.prefix()),
        principal,
    )
}
