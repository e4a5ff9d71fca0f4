//! AWS's error responses: `__type`, the message under the key clients expect, the
//! `x-amzn-ErrorType` header and the status code, decided in one exhaustive match.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use serde_json::{Map, Value};

use super::JSON_CONTENT_TYPE;
use crate::api::ApiError;
use crate::audit::cloudtrail::CloudTrailError;

/// Whether an error is one of Secrets Manager's modeled errors (message key `Message`) or a
/// Coral framework error (message key `message`), and its HTTP status.
fn shape(e: &ApiError) -> (bool, StatusCode) {
    match e {
        ApiError::ResourceNotFound(_)
        | ApiError::InvalidParameter(_)
        | ApiError::InvalidRequest(_)
        | ApiError::LimitExceeded(_)
        | ApiError::ResourceExists(_)
        | ApiError::EncryptionFailure(_)
        | ApiError::DecryptionFailure(_)
        | ApiError::InvalidNextToken(_)
        | ApiError::MalformedPolicyDocument(_)
        | ApiError::PublicPolicy(_) => (true, StatusCode::BAD_REQUEST),
        ApiError::Internal => (true, StatusCode::INTERNAL_SERVER_ERROR),
        ApiError::Validation(_)
        | ApiError::Serialization
        | ApiError::UnknownOperation
        | ApiError::AccessDenied(_)
        | ApiError::Auth(_) => (false, StatusCode::BAD_REQUEST),
        ApiError::RequestTooLarge => (false, StatusCode::PAYLOAD_TOO_LARGE),
    }
}

/// Builds the HTTP response for `e`.
pub fn error_response(e: &ApiError) -> Response<Full<Bytes>> {
    let (modeled, status) = shape(e);
    let code = e.code();
    let mut body = Map::new();
    body.insert("__type".into(), Value::String(code.into()));
    if let Some(message) = e.message().filter(|m| !m.is_empty()) {
        let key = if modeled { "Message" } else { "message" };
        body.insert(key.into(), Value::String(message));
    }
    let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    headers.insert("x-amzn-ErrorType", HeaderValue::from_static(code));
    response
}

/// Builds the HTTP response for a CloudTrail error: `__type` and `Message`, HTTP 400 (500 for
/// a server-side failure).
pub fn cloudtrail_error_response(e: &CloudTrailError) -> Response<Full<Bytes>> {
    let mut body = Map::new();
    body.insert("__type".into(), Value::String(e.code.into()));
    if !e.message.is_empty() {
        body.insert("Message".into(), Value::String(e.message.clone()));
    }
    let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = if e.internal {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    headers.insert("x-amzn-ErrorType", HeaderValue::from_static(e.code));
    response
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;
    use crate::auth::AuthError;

    async fn body_of(r: Response<Full<Bytes>>) -> Value {
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn modeled_and_framework_errors() {
        let r = error_response(&ApiError::secret_not_found());
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["x-amzn-ErrorType"], "ResourceNotFoundException");
        assert_eq!(
            body_of(r).await,
            serde_json::json!({"__type":"ResourceNotFoundException",
                "Message":"Secrets Manager can't find the specified secret."})
        );
        let r = error_response(&ApiError::Auth(AuthError::MissingAuthenticationToken));
        assert_eq!(
            body_of(r).await,
            serde_json::json!({"__type":"MissingAuthenticationTokenException",
                "message":"Missing Authentication Token"})
        );
        let r = error_response(&ApiError::Serialization);
        assert_eq!(
            body_of(r).await,
            serde_json::json!({"__type":"SerializationException"})
        );
        assert_eq!(error_response(&ApiError::Internal).status(), 500);
    }
}
