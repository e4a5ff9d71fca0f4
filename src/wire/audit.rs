//! The audit step of every API call, after its response is computed and before it is sent:
//! each protocol branch describes the call as an [`Exchange`], which becomes one or more
//! CloudTrail events appended durably. If that fails, the caller replaces the response with
//! InternalServiceError, so nothing (no secret value) leaves unaudited.

use std::net::SocketAddr;

use http::{HeaderMap, header};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Frontend;
use crate::api::{ApiError, Operation};
use crate::audit::record::{SECRET_RESOURCE_TYPE, SOURCE_IAM, SOURCE_SECRETS_MANAGER, SOURCE_STS};
use crate::audit::redact::{redact_json_body, response_elements_from_body};
use crate::audit::{AuditEntry, AuditError, Identity, RecordedError, ResourceRef};
use crate::auth::{Caller, sigv4};
use crate::clock::EpochMillis;

/// Longest event name taken from a request (an unknown target or action).
const MAX_EVENT_NAME: usize = 64;

/// What is known about a request before any protocol handles it.
#[derive(Debug)]
pub(super) struct CallInfo {
    /// `x-amzn-RequestId`.
    pub request_id: String,
    /// When it arrived.
    pub time: EpochMillis,
    /// The client's address.
    pub source_ip: String,
    /// `User-Agent`, if any.
    pub user_agent: Option<String>,
    /// The access key id, region and service the `Authorization` header claims; read only
    /// when authentication fails.
    authorization: Option<http::HeaderValue>,
    /// Without that header, a presigned request's `X-Amz-Credential` (decoded), for the same
    /// purpose.
    presigned_credential: Option<String>,
}

impl CallInfo {
    /// Captures what the audit record needs from the request head (`query` is the raw query
    /// string, without the `?`).
    pub fn new(
        headers: &HeaderMap,
        query: Option<&str>,
        request_id: &str,
        remote: SocketAddr,
        time: EpochMillis,
    ) -> Self {
        let authorization = headers.get(header::AUTHORIZATION).cloned();
        // A malformed presigned query is only a lost hint here; authentication reports it.
        let presigned_credential = match (&authorization, query) {
            (None, Some(query)) => sigv4::parse_presigned(query)
                .ok()
                .flatten()
                .map(|p| p.credential),
            _ => None,
        };
        Self {
            request_id: request_id.to_string(),
            time,
            source_ip: remote.ip().to_string(),
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            authorization,
            presigned_credential,
        }
    }

    /// What an unauthenticated request claimed: access key id, region and signing service.
    pub fn claimed(&self) -> Option<(String, String, String)> {
        let (access_key_id, scope) = match (&self.authorization, &self.presigned_credential) {
            (Some(header), _) => {
                let parsed = sigv4::parse_authorization(header.to_str().ok()?).ok()?;
                (parsed.access_key_id, parsed.scope)
            }
            (None, Some(credential)) => sigv4::parse_credential(credential).ok()?,
            (None, None) => return None,
        };
        Some((
            access_key_id.to_string(),
            scope.region.to_string(),
            scope.service.to_string(),
        ))
    }
}

/// A further event of the same call: BatchGetSecretValue logs one GetSecretValue per secret.
#[derive(Debug)]
pub(super) struct Related {
    event_name: &'static str,
    request_parameters: Value,
    resources: Vec<ResourceRef>,
}

/// One call as the audit log sees it, without HTTP.
#[derive(Debug)]
pub(super) struct Exchange {
    /// `eventSource`.
    pub event_source: &'static str,
    /// `eventName`.
    pub event_name: String,
    /// `readOnly`.
    pub read_only: bool,
    /// The verified caller, if authentication succeeded.
    pub caller: Option<Caller>,
    /// The region of the verified credential scope.
    pub region: Option<String>,
    /// `requestParameters`, redacted.
    pub request_parameters: Value,
    /// `responseElements`, redacted.
    pub response_elements: Value,
    /// The failure, if the call failed.
    pub error: Option<RecordedError>,
    /// `resources`.
    pub resources: Vec<ResourceRef>,
    /// Further events of the same call.
    pub related: Vec<Related>,
}

impl Exchange {
    /// A call with nothing known yet but its source and name.
    pub fn new(event_source: &'static str, event_name: impl Into<String>, read_only: bool) -> Self {
        Self {
            event_source,
            event_name: event_name.into(),
            read_only,
            caller: None,
            region: None,
            request_parameters: Value::Null,
            response_elements: Value::Null,
            error: None,
            resources: Vec::new(),
            related: Vec::new(),
        }
    }

    /// Records the failure `code` / `message`.
    pub fn failed(mut self, code: &str, message: Option<String>) -> Self {
        self.error = Some(RecordedError::new(code, message));
        self
    }

    /// The metrics outcome: `success` or the error code.
    pub fn outcome(&self) -> &str {
        self.error.as_ref().map_or("success", |e| e.code.as_str())
    }

    fn into_entries(self, info: &CallInfo, default_account: &str) -> Vec<AuditEntry> {
        let claimed = if self.caller.is_none() {
            info.claimed()
        } else {
            None
        };
        let region = self
            .region
            .or_else(|| claimed.as_ref().map(|c| c.1.clone()))
            .unwrap_or_else(|| "us-east-1".into());
        let (identity, account) = match self.caller {
            Some(c) => {
                let account = c.account_id.clone();
                (Identity::Verified(c), account)
            }
            None => (
                Identity::Unverified {
                    access_key_id: claimed.map(|c| c.0),
                },
                default_account.to_string(),
            ),
        };
        let main = AuditEntry {
            event_source: self.event_source.to_string(),
            event_name: self.event_name,
            read_only: self.read_only,
            time: info.time,
            region,
            source_ip: info.source_ip.clone(),
            user_agent: info.user_agent.clone(),
            identity,
            request_parameters: self.request_parameters,
            response_elements: self.response_elements,
            error: self.error,
            request_id: info.request_id.clone(),
            resources: self.resources,
            recipient_account_id: account,
        };
        let mut entries = Vec::with_capacity(1 + self.related.len());
        for r in self.related {
            entries.push(AuditEntry {
                event_name: r.event_name.to_string(),
                read_only: true,
                request_parameters: r.request_parameters,
                response_elements: Value::Null,
                error: None,
                resources: r.resources,
                ..main.clone()
            });
        }
        entries.insert(0, main);
        entries
    }
}

/// An event name taken from request input: bounded, and only ASCII letters and digits.
pub(super) fn sanitize_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(MAX_EVENT_NAME)
        .collect();
    if clean.is_empty() {
        "Unknown".into()
    } else {
        clean
    }
}

fn secret(arn: String) -> ResourceRef {
    ResourceRef {
        arn,
        resource_type: SECRET_RESOURCE_TYPE.into(),
    }
}

/// Reads only `ARN` from a response; every other member, the secret value included, is
/// skipped by the parser without being copied.
#[derive(Deserialize)]
struct ArnOnly {
    #[serde(rename = "ARN")]
    arn: Option<String>,
}

#[derive(Deserialize)]
struct BatchEntry {
    #[serde(rename = "ARN")]
    arn: Option<String>,
}

#[derive(Deserialize)]
struct BatchOutput {
    #[serde(rename = "SecretValues", default)]
    secret_values: Vec<BatchEntry>,
}

/// The Secrets Manager call `op` (or an unknown `target`) that ended with `result`.
pub(super) fn secrets_manager(
    op: Option<Operation>,
    target: &str,
    caller: Option<Caller>,
    region: Option<String>,
    request_body: Option<&[u8]>,
    result: &Result<Vec<u8>, ApiError>,
) -> Exchange {
    let name = match op {
        Some(op) => op.name().to_string(),
        None => sanitize_name(target.rsplit('.').next().unwrap_or_default()),
    };
    let read_only = op.is_some_and(Operation::is_read_only);
    let mut exchange = Exchange::new(SOURCE_SECRETS_MANAGER, name, read_only);
    exchange.caller = caller;
    exchange.region = region;
    exchange.request_parameters = request_body.map_or(Value::Null, redact_json_body);
    match result {
        Ok(body) => {
            exchange.response_elements = response_elements_from_body(read_only, body);
            match op {
                Some(Operation::BatchGetSecretValue) => {
                    let arns: Vec<String> = serde_json::from_slice::<BatchOutput>(body)
                        .map(|o| o.secret_values.into_iter().filter_map(|e| e.arn).collect())
                        .unwrap_or_default();
                    exchange.related = arns
                        .iter()
                        .map(|arn| Related {
                            event_name: Operation::GetSecretValue.name(),
                            request_parameters: json!({ "secretId": arn }),
                            resources: vec![secret(arn.clone())],
                        })
                        .collect();
                    exchange.resources = arns.into_iter().map(secret).collect();
                }
                Some(Operation::ListSecrets | Operation::GetRandomPassword) | None => {}
                Some(_) => {
                    if let Ok(ArnOnly { arn: Some(arn) }) = serde_json::from_slice(body) {
                        exchange.resources.push(secret(arn));
                    }
                }
            }
        }
        Err(e) => {
            exchange.error = Some(RecordedError::new(e.code(), e.message()));
            if let Some(id) = exchange.request_parameters["secretId"].as_str()
                && id.starts_with("arn:")
            {
                exchange.resources.push(secret(id.to_string()));
            }
        }
    }
    exchange
}

/// The event source of a Query-protocol call, from the signing service.
pub(super) fn query_source(service: &str) -> &'static str {
    if service == "sts" {
        SOURCE_STS
    } else {
        SOURCE_IAM
    }
}

/// Whether an IAM or STS action only reads.
pub(super) fn query_read_only(action: &str) -> bool {
    action.starts_with("Get") || action.starts_with("List")
}

impl Frontend {
    /// Appends the call's events; resolves once they are durable. An error means the response
    /// must not be sent.
    pub(super) async fn record(
        &self,
        info: &CallInfo,
        exchange: Exchange,
    ) -> Result<(), AuditError> {
        let entries = exchange.into_entries(info, &self.account_id);
        match entries.as_slice() {
            [one] => self.audit.append(one).await,
            many => self.audit.append_all(many).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> CallInfo {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKIAFORGED/20240101/eu-west-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=00"
                .parse()
                .unwrap(),
        );
        headers.insert(header::USER_AGENT, "agent/1".parse().unwrap());
        CallInfo::new(&headers, None, "req", "10.0.0.1:5".parse().unwrap(), 1_000)
    }

    #[test]
    fn a_presigned_request_claims_its_query_credential() {
        let query = "Action=GetCallerIdentity&X-Amz-Algorithm=AWS4-HMAC-SHA256\
                     &X-Amz-Credential=AKIAPRESIGN%2F20240101%2Fap-south-1%2Fsts%2Faws4_request\
                     &X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
        let call = CallInfo::new(
            &HeaderMap::new(),
            Some(query),
            "req",
            "10.0.0.1:5".parse().unwrap(),
            1_000,
        );
        assert_eq!(
            call.claimed(),
            Some((
                "AKIAPRESIGN".to_string(),
                "ap-south-1".to_string(),
                "sts".to_string()
            ))
        );
        // A malformed presigned query claims nothing, and the Authorization header wins.
        let call = CallInfo::new(
            &HeaderMap::new(),
            Some("X-Amz-Algorithm=AWS4-HMAC-SHA256"),
            "req",
            "10.0.0.1:5".parse().unwrap(),
            1_000,
        );
        assert_eq!(call.claimed(), None);
        assert_eq!(
            info().claimed().map(|c| c.0),
            Some("AKIAFORGED".to_string())
        );
    }

    #[test]
    fn failed_authentication_records_the_claimed_key() {
        let x = secrets_manager(
            Some(Operation::GetSecretValue),
            "secretsmanager.GetSecretValue",
            None,
            None,
            None,
            &Err(ApiError::Auth(crate::auth::AuthError::UnrecognizedClient)),
        );
        let entries = x.into_entries(&info(), "123456789012");
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert!(matches!(
            &e.identity,
            Identity::Unverified { access_key_id: Some(k) } if k == "AKIAFORGED"
        ));
        assert_eq!(e.region, "eu-west-1");
        assert_eq!(e.recipient_account_id, "123456789012");
        assert_eq!(e.user_agent.as_deref(), Some("agent/1"));
        assert_eq!(e.source_ip, "10.0.0.1");
        assert_eq!(
            e.error.as_ref().map(|e| e.code.as_str()),
            Some("UnrecognizedClientException")
        );
    }

    #[test]
    fn batch_get_adds_one_get_secret_value_per_secret() {
        let body = br#"{"SecretValues":[
            {"ARN":"arn:aws:secretsmanager:us-east-1:1:secret:a-AbCdEf","SecretString":"s1"},
            {"ARN":"arn:aws:secretsmanager:us-east-1:1:secret:b-AbCdEf","SecretString":"s2"}],
            "Errors":[]}"#;
        let x = secrets_manager(
            Some(Operation::BatchGetSecretValue),
            "",
            Some(Caller::root("1", "AKIA")),
            Some("us-east-1".into()),
            Some(br#"{"SecretIdList":["a","b"]}"#),
            &Ok(body.to_vec()),
        );
        let entries = x.into_entries(&info(), "1");
        let names: Vec<&str> = entries.iter().map(|e| e.event_name.as_str()).collect();
        assert_eq!(
            names,
            ["BatchGetSecretValue", "GetSecretValue", "GetSecretValue"]
        );
        assert_eq!(entries[0].resources.len(), 2);
        assert_eq!(entries[0].response_elements, Value::Null);
        assert_eq!(
            entries[1].request_parameters,
            json!({"secretId":"arn:aws:secretsmanager:us-east-1:1:secret:a-AbCdEf"})
        );
        assert!(entries.iter().all(|e| e.request_id == "req"));
        let text = format!("{entries:?}");
        assert!(!text.contains("s1") && !text.contains("s2"));
    }

    #[test]
    fn names_from_requests_are_sanitised() {
        assert_eq!(sanitize_name("Rotate<Secret>\n"), "RotateSecret");
        assert_eq!(sanitize_name("..."), "Unknown");
        assert_eq!(sanitize_name(&"A".repeat(500)).len(), MAX_EVENT_NAME);
    }
}
