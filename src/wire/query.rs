//! The Query-protocol front end for IAM and STS: form body, SigV4 for the `iam` or `sts`
//! scope, `Action` routing, and XML success and error documents.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;

use super::audit::{self, Exchange};
use super::{Frontend, request_context, signed_request};
use crate::api::ApiError;
use crate::audit::request_parameters_from_form;
use crate::auth::AuthError;
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

/// The XML InternalFailure answer, used when a call's audit events could not be written.
pub(super) fn internal_error(request_id: &str) -> Response<Full<Bytes>> {
    let e = QueryError::internal();
    xml_response(
        e.status,
        error_document(QueryService::Iam.namespace(), &e, request_id),
    )
}

/// STS's actions, for recording a call whose signature (and so its service) did not verify.
const STS_ACTIONS: &[&str] = &[
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "AssumeRoot",
    "DecodeAuthorizationMessage",
    "GetAccessKeyInfo",
    "GetCallerIdentity",
    "GetDelegatedAccessToken",
    "GetFederationToken",
    "GetSessionToken",
];

/// Answers one Query-protocol request: the response, the operation name for logs and metrics,
/// and the call as the audit log records it.
pub(super) async fn handle(
    frontend: &Frontend,
    request: Request<Incoming>,
    request_id: &str,
    remote: SocketAddr,
    secure: bool,
) -> (Response<Full<Bytes>>, String, Exchange) {
    let (parts, body) = request.into_parts();
    // Until the scope is known, errors use IAM's namespace; botocore ignores it.
    let fail = |service: QueryService, e: &QueryError| {
        xml_response(e.status, error_document(service.namespace(), e, request_id))
    };
    let unknown = |e: &QueryError| {
        Exchange::new(audit::query_source("iam"), "Unknown", false)
            .failed(&e.code, Some(e.message.clone()))
    };
    let body = match frontend.read_body(&parts, body).await {
        Ok(b) => b,
        Err(ApiError::RequestTooLarge) => {
            let e = QueryError::new(413, "RequestEntityTooLarge", "Request body too large");
            return (
                fail(QueryService::Iam, &e),
                "iam:unknown".into(),
                unknown(&e),
            );
        }
        Err(_) => {
            let e = QueryError::new(
                400,
                "MalformedQueryString",
                "The request body could not be read.",
            );
            return (
                fail(QueryService::Iam, &e),
                "iam:unknown".into(),
                unknown(&e),
            );
        }
    };
    let now = frontend.service.clock().now_millis();
    let signed = signed_request(&parts, &body);
    // Parameters come from the form body, or for GET from the query string.
    let source: &[u8] = if body.is_empty() {
        parts.uri.query().unwrap_or("").as_bytes()
    } else {
        &body
    };
    let authenticated = match frontend
        .authenticator
        .authenticate(&signed, QUERY_SERVICES, now)
    {
        Ok(a) => a,
        Err(e) => {
            let e = auth_error(&e);
            // The action is recorded even for a failed signature; nothing else of the body.
            let action = Params::parse(source)
                .and_then(|p| p.get("Action").map(audit::sanitize_name))
                .unwrap_or_else(|| "Unknown".into());
            let read_only = audit::query_read_only(&action);
            // The scope was not verified: STS's own actions are STS's events.
            let service = if STS_ACTIONS.contains(&action.as_str()) {
                "sts"
            } else {
                "iam"
            };
            let exchange = Exchange::new(audit::query_source(service), action, read_only)
                .failed(&e.code, Some(e.message.clone()));
            return (
                fail(QueryService::Iam, &e),
                format!("{service}:unknown"),
                exchange,
            );
        }
    };
    let Some(service) = QueryService::from_signing_name(&authenticated.service) else {
        let e = QueryError::internal();
        let mut exchange = unknown(&e);
        exchange.caller = Some(authenticated.caller);
        return (fail(QueryService::Iam, &e), "iam:unknown".into(), exchange);
    };
    let mut exchange = Exchange::new(audit::query_source(service.prefix()), "Unknown", false);
    exchange.region = Some(authenticated.region.clone());
    let Some(params) = Params::parse(source) else {
        let e = QueryError::new(
            400,
            "MalformedQueryString",
            "The request could not be decoded.",
        );
        exchange.caller = Some(authenticated.caller);
        let exchange = exchange.failed(&e.code, Some(e.message.clone()));
        return (
            fail(service, &e),
            format!("{}:unknown", service.prefix()),
            exchange,
        );
    };
    exchange.request_parameters = request_parameters_from_form(params.pairs());
    let Some(action) = params.get("Action").map(str::to_string) else {
        let e = QueryError::new(400, "MissingAction", "Missing Action");
        exchange.caller = Some(authenticated.caller);
        let exchange = exchange.failed(&e.code, Some(e.message.clone()));
        return (
            fail(service, &e),
            format!("{}:unknown", service.prefix()),
            exchange,
        );
    };
    exchange.event_name = audit::sanitize_name(&action);
    exchange.read_only = audit::query_read_only(&action);
    let ctx = request_context(authenticated, &parts, request_id, now, remote, secure);
    let result = frontend.iam.call(&ctx, service, &action, &params).await;
    exchange.caller = Some(ctx.caller);
    // IAM and STS answer in XML; until they hand back JSON, responseElements stay null, which
    // also keeps CreateAccessKey's and AssumeRole's secrets out of the log.
    let (response, exchange) = match result {
        Ok(result) => (
            xml_response(
                200,
                success_document(service.namespace(), &action, result.as_deref(), request_id),
            ),
            exchange,
        ),
        Err(e) => {
            let response = fail(service, &e);
            (response, exchange.failed(&e.code, Some(e.message.clone())))
        }
    };
    let operation = if exchange.outcome() == "InvalidAction" {
        format!("{}:unknown", service.prefix())
    } else {
        format!("{}:{}", service.prefix(), exchange.event_name)
    };
    (response, operation, exchange)
}
