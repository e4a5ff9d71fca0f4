//! CloudTrail's record shape. [`AuditEntry`] is the neutral description of one call that the
//! front end fills in; [`PreparedEvent::build`] turns it into the record's canonical JSON (the
//! bytes that are hashed and stored) plus the columns lookups filter on.

use serde::Serialize;
use serde_json::Value;

use crate::auth::{Caller, PrincipalKind};
use crate::clock::EpochMillis;

/// CloudTrail's record format version.
pub const EVENT_VERSION: &str = "1.11";
/// `eventSource` of Secrets Manager calls.
pub const SOURCE_SECRETS_MANAGER: &str = "secretsmanager.amazonaws.com";
/// `eventSource` of IAM calls.
pub const SOURCE_IAM: &str = "iam.amazonaws.com";
/// `eventSource` of STS calls.
pub const SOURCE_STS: &str = "sts.amazonaws.com";
/// `eventSource` of CloudTrail calls (LookupEvents).
pub const SOURCE_CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";
/// `resources[].type` of a secret.
pub const SECRET_RESOURCE_TYPE: &str = "AWS::SecretsManager::Secret";

/// Who made the call, as far as the server knows.
#[derive(Debug, Clone)]
pub enum Identity {
    /// A verified signature: the principal is known.
    Verified(Caller),
    /// Authentication failed or was absent: only what the client claimed.
    Unverified {
        /// The access key id from the `Authorization` header, if one could be parsed.
        access_key_id: Option<String>,
    },
}

impl Identity {
    /// The name LookupEvents calls `Username`: the IAM user name, the role session name, or
    /// `root`.
    pub fn username(&self) -> Option<String> {
        let Identity::Verified(c) = self else {
            return None;
        };
        match c.kind {
            PrincipalKind::Root => Some("root".into()),
            PrincipalKind::User | PrincipalKind::AssumedRole => {
                c.arn.rsplit('/').next().map(str::to_string)
            }
        }
    }

    /// The access key id, verified or claimed.
    pub fn access_key_id(&self) -> Option<&str> {
        match self {
            Identity::Verified(c) => Some(&c.access_key_id),
            Identity::Unverified { access_key_id } => access_key_id.as_deref(),
        }
    }
}

/// An error as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedError {
    /// `errorCode`; AccessDeniedException is recorded as CloudTrail's `AccessDenied`.
    pub code: String,
    /// `errorMessage`.
    pub message: Option<String>,
}

impl RecordedError {
    /// An error from its wire code and message.
    pub fn new(code: &str, message: Option<String>) -> Self {
        let code = if code == "AccessDeniedException" {
            "AccessDenied"
        } else {
            code
        };
        Self {
            code: code.to_string(),
            message,
        }
    }
}

/// A resource the call touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    /// Its ARN.
    pub arn: String,
    /// Its CloudFormation-style type, e.g. [`SECRET_RESOURCE_TYPE`].
    pub resource_type: String,
}

/// One call, described without HTTP: the front end fills it in after the response is computed.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// `eventSource`, e.g. [`SOURCE_SECRETS_MANAGER`].
    pub event_source: String,
    /// `eventName`: the operation.
    pub event_name: String,
    /// `readOnly`.
    pub read_only: bool,
    /// When the call arrived.
    pub time: EpochMillis,
    /// `awsRegion`.
    pub region: String,
    /// `sourceIPAddress`.
    pub source_ip: String,
    /// `userAgent`.
    pub user_agent: Option<String>,
    /// `userIdentity`.
    pub identity: Identity,
    /// `requestParameters`, already redacted (see [`super::redact`]).
    pub request_parameters: Value,
    /// `responseElements`, already redacted.
    pub response_elements: Value,
    /// `errorCode` and `errorMessage`, for a failed call.
    pub error: Option<RecordedError>,
    /// `requestID`: the `x-amzn-RequestId` the call was answered with.
    pub request_id: String,
    /// `resources`.
    pub resources: Vec<ResourceRef>,
    /// `recipientAccountId`: the account whose log holds the event.
    pub recipient_account_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionIssuer<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    principal_id: &'a str,
    arn: String,
    account_id: &'a str,
    user_name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionAttributes {
    mfa_authenticated: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext<'a> {
    /// The role behind a role session; absent for a GetSessionToken session, which is the
    /// user (or root) itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    session_issuer: Option<SessionIssuer<'a>>,
    attributes: SessionAttributes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_context: Option<SessionContext<'a>>,
}

/// The session context of temporary credentials: for a role session, its issuer from
/// `arn:aws:sts::A:assumed-role/Role/Session` and principal id `AROA...:Session`; for a
/// GetSessionToken session of a user or root, attributes only. Long-term keys have none.
fn session_context(c: &Caller) -> Option<SessionContext<'_>> {
    if !c.temporary {
        return None;
    }
    if c.kind != PrincipalKind::AssumedRole {
        return Some(SessionContext {
            session_issuer: None,
            attributes: SessionAttributes {
                mfa_authenticated: "false",
            },
        });
    }
    let rest = c.arn.split_once(":assumed-role/")?.1;
    let (role, _session) = rest.rsplit_once('/')?;
    let role_id = c
        .principal_id
        .split_once(':')
        .map_or(c.principal_id.as_str(), |(id, _)| id);
    Some(SessionContext {
        session_issuer: Some(SessionIssuer {
            kind: "Role",
            principal_id: role_id,
            arn: format!("arn:aws:iam::{}:role/{role}", c.account_id),
            account_id: &c.account_id,
            user_name: role,
        }),
        attributes: SessionAttributes {
            mfa_authenticated: "false",
        },
    })
}

fn user_identity(identity: &Identity) -> UserIdentity<'_> {
    match identity {
        Identity::Verified(c) => {
            let kind = match c.kind {
                PrincipalKind::Root => "Root",
                PrincipalKind::User => "IAMUser",
                PrincipalKind::AssumedRole => "AssumedRole",
            };
            UserIdentity {
                kind,
                principal_id: Some(&c.principal_id),
                arn: Some(&c.arn),
                account_id: Some(&c.account_id),
                access_key_id: Some(&c.access_key_id),
                user_name: match c.kind {
                    PrincipalKind::User => identity.username(),
                    _ => None,
                },
                session_context: session_context(c),
            }
        }
        Identity::Unverified { access_key_id } => UserIdentity {
            kind: "Unknown",
            principal_id: None,
            arn: None,
            account_id: None,
            access_key_id: access_key_id.as_deref(),
            user_name: None,
            session_context: None,
        },
    }
}

#[derive(Serialize)]
struct RecordResource<'a> {
    #[serde(rename = "ARN")]
    arn: &'a str,
    #[serde(rename = "accountId")]
    account_id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

/// The CloudTrail record; field order is CloudTrail's, and the serialisation is the canonical
/// form that the hash chain covers.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    event_version: &'static str,
    user_identity: UserIdentity<'a>,
    event_time: String,
    event_source: &'a str,
    event_name: &'a str,
    aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    request_parameters: &'a Value,
    response_elements: &'a Value,
    #[serde(rename = "requestID")]
    request_id: &'a str,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    read_only: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<RecordResource<'a>>,
    event_type: &'static str,
    management_event: bool,
    recipient_account_id: &'a str,
    event_category: &'static str,
}

/// CloudTrail's `eventTime`: UTC, second precision, `Z` suffix.
pub fn format_event_time(at: EpochMillis) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(at.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}

/// [`format_event_time`], formatted once per second per thread: every request's record
/// carries it.
fn event_time_cached(at: EpochMillis) -> String {
    thread_local! {
        static CACHED: crate::clock::PerSecond<String> = const { crate::clock::PerSecond::new() };
    }
    CACHED.with(|cached| cached.get(at, format_event_time))
}

/// The account in an ARN (`arn:partition:service:region:account:...`), if it has one.
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The secret name inside a Secrets Manager ARN (`...:secret:NAME-AbCdEf`), without the
/// six-character suffix.
pub fn secret_name_from_arn(arn: &str) -> Option<&str> {
    let (_, tail) = arn.split_once(":secret:")?;
    let cut = tail.len().checked_sub(7)?;
    (tail.as_bytes().get(cut) == Some(&b'-')).then(|| &tail[..cut])
}

/// The columns lookups filter on, taken from the same entry as the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventIndex {
    /// `eventID`.
    pub event_id: String,
    /// `eventTime` in milliseconds.
    pub time_ms: EpochMillis,
    /// `recipientAccountId`.
    pub account_id: String,
    /// `eventSource`.
    pub event_source: String,
    /// `eventName`.
    pub event_name: String,
    /// LookupEvents' `Username`.
    pub username: Option<String>,
    /// `userIdentity.arn`.
    pub principal_arn: Option<String>,
    /// `userIdentity.accessKeyId`.
    pub access_key_id: Option<String>,
    /// `readOnly`.
    pub read_only: bool,
    /// `errorCode`.
    pub error_code: Option<String>,
    /// Names a resource lookup matches (each ARN, and a secret's name), with the type.
    pub resource_names: Vec<(String, String)>,
}

impl EventIndex {
    /// The index columns of a stored record, to check them against what is stored beside it.
    pub fn from_record(record: &Value) -> Option<Self> {
        let identity = &record["userIdentity"];
        let kind = identity["type"].as_str()?;
        let arn = identity["arn"].as_str();
        let username = match kind {
            "Root" => Some("root".to_string()),
            "IAMUser" | "AssumedRole" => arn.and_then(|a| a.rsplit('/').next()).map(Into::into),
            _ => None,
        };
        let time_ms = time::OffsetDateTime::parse(
            record["eventTime"].as_str()?,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()?
        .unix_timestamp()
            * 1000;
        let resources = record["resources"].as_array().cloned().unwrap_or_default();
        let refs: Vec<ResourceRef> = resources
            .iter()
            .filter_map(|r| {
                Some(ResourceRef {
                    arn: r["ARN"].as_str()?.to_string(),
                    resource_type: r["type"].as_str()?.to_string(),
                })
            })
            .collect();
        Some(Self {
            event_id: record["eventID"].as_str()?.to_string(),
            time_ms,
            account_id: record["recipientAccountId"].as_str()?.to_string(),
            event_source: record["eventSource"].as_str()?.to_string(),
            event_name: record["eventName"].as_str()?.to_string(),
            username,
            principal_arn: arn.map(Into::into),
            access_key_id: identity["accessKeyId"].as_str().map(Into::into),
            read_only: record["readOnly"].as_bool()?,
            error_code: record["errorCode"].as_str().map(Into::into),
            resource_names: indexed_names(
                &refs,
                record["errorCode"].is_string(),
                &record["requestParameters"],
            ),
        })
    }
}

/// The names an event is found by: its resources' ARNs and secret names, and for a failed
/// call, the `secretId` it asked for as given (a denied or missing secret is no resource of
/// the record, but "who tried prod/db and was refused?" must find it).
fn indexed_names(
    resources: &[ResourceRef],
    failed: bool,
    request_parameters: &Value,
) -> Vec<(String, String)> {
    let mut out = resource_names(resources);
    if failed
        && let Some(id) = request_parameters["secretId"].as_str()
        && !id.is_empty()
    {
        let pair = (id.to_string(), SECRET_RESOURCE_TYPE.to_string());
        if !out.contains(&pair) {
            out.push(pair);
        }
    }
    out
}

fn resource_names(resources: &[ResourceRef]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for r in resources {
        let pair = (r.arn.clone(), r.resource_type.clone());
        if !out.contains(&pair) {
            out.push(pair);
        }
        if let Some(name) = secret_name_from_arn(&r.arn) {
            let pair = (name.to_string(), r.resource_type.clone());
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    out
}

/// The first allocation of a record's JSON.
const RECORD_CAPACITY: usize = 2048;

/// An event ready for the log: its canonical JSON, serialised once, and its index columns.
#[derive(Debug, Clone)]
pub struct PreparedEvent {
    /// The record's canonical JSON.
    pub json: String,
    /// What lookups filter on.
    pub index: EventIndex,
}

impl PreparedEvent {
    /// Builds the record for `entry` with a fresh `eventID`: a UUID like CloudTrail's, but
    /// time-ordered (version 7), so the index on event ids grows at its end instead of
    /// touching a random page per event.
    pub fn build(entry: &AuditEntry) -> Self {
        Self::build_with_id(entry, &crate::crypto::uuid_v7().to_string())
    }

    /// Builds the record for `entry` with the given `eventID` (deterministic tests).
    pub fn build_with_id(entry: &AuditEntry, event_id: &str) -> Self {
        let record = Record {
            event_version: EVENT_VERSION,
            user_identity: user_identity(&entry.identity),
            event_time: event_time_cached(entry.time),
            event_source: &entry.event_source,
            event_name: &entry.event_name,
            aws_region: &entry.region,
            source_ip_address: &entry.source_ip,
            user_agent: entry.user_agent.as_deref(),
            error_code: entry.error.as_ref().map(|e| e.code.as_str()),
            error_message: entry.error.as_ref().and_then(|e| e.message.as_deref()),
            request_parameters: &entry.request_parameters,
            response_elements: &entry.response_elements,
            request_id: &entry.request_id,
            event_id,
            read_only: entry.read_only,
            resources: entry
                .resources
                .iter()
                .map(|r| RecordResource {
                    arn: &r.arn,
                    account_id: arn_account(&r.arn).unwrap_or(&entry.recipient_account_id),
                    kind: &r.resource_type,
                })
                .collect(),
            event_type: "AwsApiCall",
            management_event: true,
            recipient_account_id: &entry.recipient_account_id,
            event_category: "Management",
        };
        // Serialising plain strings, bools and `Value`s cannot fail; an empty object would
        // still be a valid record if it somehow did.
        // Sized for a typical record (~1.2 KB), so it is not regrown and copied on the way.
        let mut json = Vec::with_capacity(RECORD_CAPACITY);
        let json = serde_json::to_writer(&mut json, &record)
            .ok()
            .and_then(|()| String::from_utf8(json).ok())
            .unwrap_or_else(|| "{}".into());
        let index = EventIndex {
            event_id: event_id.to_string(),
            // Second precision, as in the record, so the index matches what is stored.
            time_ms: entry.time.div_euclid(1000) * 1000,
            account_id: entry.recipient_account_id.clone(),
            event_source: entry.event_source.clone(),
            event_name: entry.event_name.clone(),
            username: entry.identity.username(),
            principal_arn: match &entry.identity {
                Identity::Verified(c) => Some(c.arn.clone()),
                Identity::Unverified { .. } => None,
            },
            access_key_id: entry.identity.access_key_id().map(str::to_string),
            read_only: entry.read_only,
            error_code: entry.error.as_ref().map(|e| e.code.clone()),
            resource_names: indexed_names(
                &entry.resources,
                entry.error.is_some(),
                &entry.request_parameters,
            ),
        };
        Self { json, index }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;

    use super::*;

    pub(crate) fn entry(name: &str, time: EpochMillis) -> AuditEntry {
        AuditEntry {
            event_source: SOURCE_SECRETS_MANAGER.into(),
            event_name: name.into(),
            read_only: name.starts_with("Get") || name.starts_with("Describe"),
            time,
            region: "us-east-1".into(),
            source_ip: "127.0.0.1".into(),
            user_agent: Some("test-agent".into()),
            identity: Identity::Verified(Caller::root("123456789012", "AKIAROOT")),
            request_parameters: json!({"secretId":"db"}),
            response_elements: Value::Null,
            error: None,
            request_id: "req-1".into(),
            resources: vec![ResourceRef {
                arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf".into(),
                resource_type: SECRET_RESOURCE_TYPE.into(),
            }],
            recipient_account_id: "123456789012".into(),
        }
    }

    #[test]
    fn record_has_cloudtrail_shape() {
        let e = PreparedEvent::build_with_id(&entry("GetSecretValue", 1_700_000_000_123), "ev-1");
        let v: Value = serde_json::from_str(&e.json).unwrap();
        assert_eq!(
            v,
            json!({
                "eventVersion":"1.11",
                "userIdentity":{"type":"Root","principalId":"123456789012",
                    "arn":"arn:aws:iam::123456789012:root","accountId":"123456789012",
                    "accessKeyId":"AKIAROOT"},
                "eventTime":"2023-11-14T22:13:20Z",
                "eventSource":"secretsmanager.amazonaws.com",
                "eventName":"GetSecretValue",
                "awsRegion":"us-east-1",
                "sourceIPAddress":"127.0.0.1",
                "userAgent":"test-agent",
                "requestParameters":{"secretId":"db"},
                "responseElements":null,
                "requestID":"req-1",
                "eventID":"ev-1",
                "readOnly":true,
                "resources":[{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
                    "accountId":"123456789012","type":"AWS::SecretsManager::Secret"}],
                "eventType":"AwsApiCall",
                "managementEvent":true,
                "recipientAccountId":"123456789012",
                "eventCategory":"Management"
            })
        );
        assert_eq!(EventIndex::from_record(&v), Some(e.index.clone()));
        assert_eq!(
            e.index.resource_names,
            vec![
                (
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf".into(),
                    SECRET_RESOURCE_TYPE.into()
                ),
                ("db".into(), SECRET_RESOURCE_TYPE.into())
            ]
        );
    }

    #[test]
    fn identities() {
        let mut e = entry("GetSecretValue", 0);
        e.identity = Identity::Verified(Caller {
            account_id: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/dev/alice".into(),
            principal_id: "AIDAEXAMPLE".into(),
            kind: PrincipalKind::User,
            access_key_id: "AKIAALICE".into(),
            ..Caller::root("123456789012", "AKIAALICE")
        });
        let v: Value = serde_json::from_str(&PreparedEvent::build(&e).json).unwrap();
        assert_eq!(v["userIdentity"]["type"], "IAMUser");
        assert_eq!(v["userIdentity"]["userName"], "alice");
        assert!(v["userIdentity"].get("sessionContext").is_none());

        // A GetSessionToken session is still the user, with a session context but no issuer.
        if let Identity::Verified(c) = &mut e.identity {
            c.access_key_id = "ASIAALICE".into();
            c.temporary = true;
        }
        let v: Value = serde_json::from_str(&PreparedEvent::build(&e).json).unwrap();
        assert_eq!(v["userIdentity"]["type"], "IAMUser");
        assert_eq!(v["userIdentity"]["userName"], "alice");
        assert_eq!(v["userIdentity"]["accessKeyId"], "ASIAALICE");
        assert_eq!(
            v["userIdentity"]["sessionContext"],
            json!({"attributes": {"mfaAuthenticated": "false"}})
        );

        e.identity = Identity::Verified(Caller {
            account_id: "123456789012".into(),
            arn: "arn:aws:sts::123456789012:assumed-role/deployer/ci-run".into(),
            principal_id: "AROAEXAMPLE:ci-run".into(),
            kind: PrincipalKind::AssumedRole,
            access_key_id: "ASIATEMP".into(),
            temporary: true,
            ..Caller::root("123456789012", "ASIATEMP")
        });
        let p = PreparedEvent::build(&e);
        let v: Value = serde_json::from_str(&p.json).unwrap();
        assert_eq!(v["userIdentity"]["type"], "AssumedRole");
        assert_eq!(
            v["userIdentity"]["sessionContext"]["sessionIssuer"],
            json!({"type":"Role","principalId":"AROAEXAMPLE",
                   "arn":"arn:aws:iam::123456789012:role/deployer",
                   "accountId":"123456789012","userName":"deployer"})
        );
        assert_eq!(p.index.username.as_deref(), Some("ci-run"));
        assert_eq!(EventIndex::from_record(&v), Some(p.index));

        e.identity = Identity::Unverified {
            access_key_id: Some("AKIAFORGED".into()),
        };
        e.error = Some(RecordedError::new(
            "AccessDeniedException",
            Some("no".into()),
        ));
        let p = PreparedEvent::build(&e);
        let v: Value = serde_json::from_str(&p.json).unwrap();
        assert_eq!(
            v["userIdentity"],
            json!({"type":"Unknown","accessKeyId":"AKIAFORGED"})
        );
        assert_eq!(v["errorCode"], "AccessDenied");
        assert_eq!(EventIndex::from_record(&v), Some(p.index));
    }

    #[test]
    fn secret_names_from_arns() {
        assert_eq!(
            secret_name_from_arn("arn:aws:secretsmanager:us-east-1:1:secret:a/b-c-AbCdEf"),
            Some("a/b-c")
        );
        assert_eq!(
            secret_name_from_arn("arn:aws:secretsmanager:r:1:secret:x"),
            None
        );
        assert_eq!(secret_name_from_arn("nope"), None);
        assert_eq!(arn_account("arn:aws:iam::123:root"), Some("123"));
    }
}
