//! CloudTrail's LookupEvents (awsJson1_1), so `aws cloudtrail lookup-events` works against
//! Strongbox. See <https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html>.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::query::{Attribute, EventQuery, StoredEvent};
use super::{AuditError, AuditLog};
use crate::api::RequestContext;
use crate::auth::Caller;

/// The `X-Amz-Target` of LookupEvents.
pub const LOOKUP_EVENTS_TARGET: &str =
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents";
/// The SigV4 service name CloudTrail requests are signed for.
pub const SERVICE: &str = "cloudtrail";
/// The IAM action that will authorise LookupEvents.
pub const LOOKUP_EVENTS_ACTION: &str = "cloudtrail:LookupEvents";

const DEFAULT_MAX_RESULTS: i64 = 50;

/// A LookupEvents failure, with CloudTrail's error code. All are HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CloudTrailError {
    /// `__type`.
    pub code: &'static str,
    /// `Message`.
    pub message: String,
    /// True for a server-side failure (HTTP 500).
    pub internal: bool,
}

impl CloudTrailError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            internal: false,
        }
    }

    fn attributes(message: impl Into<String>) -> Self {
        Self::new("InvalidLookupAttributesException", message)
    }

    /// Malformed JSON or a member of the wrong type.
    pub fn serialization() -> Self {
        Self::new("SerializationException", "")
    }

    /// A server-side failure; the cause is logged, not sent.
    pub fn internal() -> Self {
        Self {
            code: "InternalServiceError",
            message: "An error occurred on the server side.".into(),
            internal: true,
        }
    }

    /// CloudTrail's AccessDenied for LookupEvents.
    pub fn access_denied(caller: &Caller) -> Self {
        Self::new(
            "AccessDeniedException",
            format!(
                "User: {} is not authorized to perform: {LOOKUP_EVENTS_ACTION}",
                caller.arn
            ),
        )
    }
}

impl From<AuditError> for CloudTrailError {
    fn from(e: AuditError) -> Self {
        tracing::error!(error = %e, "audit lookup failed");
        Self::internal()
    }
}

/// Whether the caller may run LookupEvents: `cloudtrail:LookupEvents` on `*`, decided by the
/// policy engine. A caller sees only its own account's events (the query is scoped to
/// `caller.account_id`).
pub fn authorize_lookup_events(ctx: &RequestContext) -> Result<(), CloudTrailError> {
    const ACTION: &str = "cloudtrail:LookupEvents";
    crate::iam::authz::check_identity(ctx, ACTION, "*").map_err(|denial| {
        CloudTrailError::new(
            "AccessDeniedException",
            denial.message(&ctx.caller.arn, ACTION, None),
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupAttributeInput {
    attribute_key: Option<String>,
    attribute_value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupEventsInput {
    lookup_attributes: Option<Vec<LookupAttributeInput>>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    event_category: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceOutput {
    resource_type: String,
    resource_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventOutput {
    event_id: String,
    event_name: String,
    read_only: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<String>,
    event_time: f64,
    event_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    resources: Vec<ResourceOutput>,
    cloud_trail_event: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct LookupEventsOutput {
    events: Vec<EventOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// The validated request.
#[derive(Debug, Clone, PartialEq)]
struct Lookup {
    attribute: Option<Attribute>,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    max_results: usize,
    insight: bool,
    before_seq: Option<i64>,
}

fn parse_attribute(a: &LookupAttributeInput) -> Result<Attribute, CloudTrailError> {
    let key = a
        .attribute_key
        .as_deref()
        .ok_or_else(|| CloudTrailError::attributes("AttributeKey is required."))?;
    let value = a
        .attribute_value
        .clone()
        .ok_or_else(|| CloudTrailError::attributes("AttributeValue is required."))?;
    if value.is_empty() || value.chars().count() > 2000 {
        return Err(CloudTrailError::attributes(
            "AttributeValue must be between 1 and 2000 characters.",
        ));
    }
    Ok(match key {
        "EventId" => Attribute::EventId(value),
        "EventName" => Attribute::EventName(value),
        "ReadOnly" => match value.as_str() {
            "true" => Attribute::ReadOnly(true),
            "false" => Attribute::ReadOnly(false),
            _ => {
                return Err(CloudTrailError::attributes(
                    "The value of the ReadOnly attribute must be true or false.",
                ));
            }
        },
        "Username" => Attribute::Username(value),
        "ResourceType" => Attribute::ResourceType(value),
        "ResourceName" => Attribute::ResourceName(value),
        "EventSource" => Attribute::EventSource(value),
        "AccessKeyId" => Attribute::AccessKeyId(value),
        _ => {
            return Err(CloudTrailError::attributes(
                "The attribute key is not valid. Valid keys are EventId, EventName, ReadOnly, \
                 Username, ResourceType, ResourceName, EventSource and AccessKeyId.",
            ));
        }
    })
}

fn seconds_to_ms(s: f64) -> Result<i64, CloudTrailError> {
    if !s.is_finite() || s.abs() > 1e12 {
        return Err(CloudTrailError::new(
            "InvalidTimeRangeException",
            "The time is out of range.",
        ));
    }
    Ok((s * 1000.0).floor() as i64)
}

/// A fingerprint of the parameters a NextToken is valid for: CloudTrail's tokens only work
/// with the same parameters they were issued for.
fn fingerprint(account: &str, l: &Lookup) -> String {
    let text = format!(
        "{account}|{:?}|{:?}|{:?}|{}",
        l.attribute, l.start_ms, l.end_ms, l.insight
    );
    hex::encode(&digest(&SHA256, text.as_bytes()).as_ref()[..8])
}

fn encode_token(seq: i64, fp: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{seq}:{fp}"))
}

fn decode_token(token: &str, fp: &str) -> Result<i64, CloudTrailError> {
    let invalid = || CloudTrailError::new("InvalidNextTokenException", "Invalid NextToken.");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(seq), Some(f)) if f == fp => seq
            .parse::<i64>()
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(invalid),
        _ => Err(invalid()),
    }
}

fn validate(input: LookupEventsInput, account: &str) -> Result<(Lookup, String), CloudTrailError> {
    let attributes = input.lookup_attributes.unwrap_or_default();
    if attributes.len() > 1 {
        return Err(CloudTrailError::attributes(
            "You can specify only one lookup attribute.",
        ));
    }
    let attribute = attributes.first().map(parse_attribute).transpose()?;
    let start_ms = input.start_time.map(seconds_to_ms).transpose()?;
    let end_ms = input.end_time.map(seconds_to_ms).transpose()?;
    if let (Some(s), Some(e)) = (start_ms, end_ms)
        && s > e
    {
        return Err(CloudTrailError::new(
            "InvalidTimeRangeException",
            "Start time must be before end time.",
        ));
    }
    let max_results = input.max_results.unwrap_or(DEFAULT_MAX_RESULTS);
    if !(1..=50).contains(&max_results) {
        return Err(CloudTrailError::new(
            "InvalidMaxResultsException",
            "MaxResults must be between 1 and 50.",
        ));
    }
    let insight = match input.event_category.as_deref() {
        None => false,
        Some("insight") => true,
        Some(_) => {
            return Err(CloudTrailError::new(
                "InvalidEventCategoryException",
                "The event category is not valid. The only valid value is insight.",
            ));
        }
    };
    let mut lookup = Lookup {
        attribute,
        start_ms,
        end_ms,
        max_results: max_results as usize,
        insight,
        before_seq: None,
    };
    let fp = fingerprint(account, &lookup);
    if let Some(token) = input.next_token.as_deref() {
        lookup.before_seq = Some(decode_token(token, &fp)?);
    }
    Ok((lookup, fp))
}

fn event_output(e: StoredEvent) -> EventOutput {
    let record: Value = serde_json::from_str(&e.record).unwrap_or(Value::Null);
    let resources = record["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| {
                    Some(ResourceOutput {
                        resource_type: r["type"].as_str()?.to_string(),
                        resource_name: r["ARN"].as_str()?.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    EventOutput {
        event_id: e.event_id,
        event_name: e.event_name,
        read_only: if e.read_only { "true" } else { "false" },
        access_key_id: e.access_key_id,
        event_time: e.time_ms as f64 / 1000.0,
        event_source: e.event_source,
        username: e.username,
        resources,
        cloud_trail_event: e.record,
    }
}

/// How far back LookupEvents looks, as CloudTrail's event history.
const HISTORY_DAYS: i64 = 90;

/// Answers LookupEvents for `caller`: newest first, only the caller's account's events from
/// the last [`HISTORY_DAYS`].
pub async fn lookup_events(
    audit: &AuditLog,
    ctx: &RequestContext,
    body: &[u8],
) -> Result<Vec<u8>, CloudTrailError> {
    authorize_lookup_events(ctx)?;
    let caller = &ctx.caller;
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let input: LookupEventsInput =
        serde_json::from_slice(body).map_err(|_| CloudTrailError::serialization())?;
    let (lookup, fp) = validate(input, &caller.account_id)?;
    let history_start = ctx.now - HISTORY_DAYS * crate::clock::DAY_MILLIS;
    let events = if lookup.insight {
        // Strongbox raises no Insights events.
        Vec::new()
    } else {
        audit
            .query(EventQuery {
                account_id: Some(caller.account_id.clone()),
                attributes: lookup.attribute.clone().into_iter().collect(),
                // CloudTrail's event history covers the last 90 days; older events stay in
                // the log for `strongbox audit` and retention to deal with.
                start_ms: Some(
                    lookup
                        .start_ms
                        .map_or(history_start, |s| s.max(history_start)),
                ),
                end_ms: lookup.end_ms,
                before_seq: lookup.before_seq,
                after_seq: None,
                newest_first: true,
                // One extra row tells whether there is a next page.
                limit: lookup.max_results + 1,
            })
            .await?
    };
    let more = events.len() > lookup.max_results;
    let page: Vec<StoredEvent> = events.into_iter().take(lookup.max_results).collect();
    let next_token = more
        .then(|| page.last().map(|e| encode_token(e.seq, &fp)))
        .flatten();
    let output = LookupEventsOutput {
        events: page.into_iter().map(event_output).collect(),
        next_token,
    };
    serde_json::to_vec(&output).map_err(|_| CloudTrailError::internal())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: &str) -> LookupEventsInput {
        serde_json::from_str(json).unwrap()
    }

    fn code(json: &str) -> &'static str {
        validate(input(json), "123456789012").unwrap_err().code
    }

    #[test]
    fn validation_errors() {
        assert_eq!(
            code(
                r#"{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"a"},
                {"AttributeKey":"Username","AttributeValue":"b"}]}"#
            ),
            "InvalidLookupAttributesException"
        );
        assert_eq!(
            code(r#"{"LookupAttributes":[{"AttributeKey":"Nope","AttributeValue":"a"}]}"#),
            "InvalidLookupAttributesException"
        );
        assert_eq!(
            code(r#"{"LookupAttributes":[{"AttributeKey":"ReadOnly","AttributeValue":"yes"}]}"#),
            "InvalidLookupAttributesException"
        );
        assert_eq!(
            code(r#"{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":""}]}"#),
            "InvalidLookupAttributesException"
        );
        assert_eq!(
            code(r#"{"StartTime":200,"EndTime":100}"#),
            "InvalidTimeRangeException"
        );
        assert_eq!(code(r#"{"MaxResults":0}"#), "InvalidMaxResultsException");
        assert_eq!(code(r#"{"MaxResults":51}"#), "InvalidMaxResultsException");
        assert_eq!(
            code(r#"{"NextToken":"garbage"}"#),
            "InvalidNextTokenException"
        );
        assert_eq!(
            code(r#"{"EventCategory":"other"}"#),
            "InvalidEventCategoryException"
        );
    }

    #[test]
    fn valid_input() {
        let (l, _) = validate(
            input(
                r#"{"LookupAttributes":[{"AttributeKey":"ReadOnly","AttributeValue":"false"}],
                "StartTime":100,"EndTime":100.5,"MaxResults":7}"#,
            ),
            "1",
        )
        .unwrap();
        assert_eq!(l.attribute, Some(Attribute::ReadOnly(false)));
        assert_eq!((l.start_ms, l.end_ms), (Some(100_000), Some(100_500)));
        assert_eq!(l.max_results, 7);
        let (l, _) = validate(input("{}"), "1").unwrap();
        assert_eq!(l.max_results, 50);
    }

    #[test]
    fn tokens_only_work_with_their_parameters() {
        let (l, fp) = validate(input(r#"{"StartTime":1}"#), "1").unwrap();
        let token = encode_token(42, &fp);
        assert_eq!(decode_token(&token, &fp), Ok(42));
        let (_, other) = validate(input(r#"{"StartTime":2}"#), "1").unwrap();
        assert!(decode_token(&token, &other).is_err());
        let (_, other_account) = validate(input(r#"{"StartTime":1}"#), "2").unwrap();
        assert!(decode_token(&token, &other_account).is_err());
        assert!(l.before_seq.is_none());
    }
}
