//! Helpers for the SDK-driven suites: error assertions, AWS's messages, and short forms of
//! common calls. Reached as `common::sdk`. Each test binary uses a different subset, hence the
//! allowances.
#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt::Debug;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::primitives::DateTime;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};

/// Milliseconds in a day.
pub use strongbox::clock::DAY_MILLIS as DAY_MS;

/// AWS's message for an unknown secret.
pub const NOT_FOUND: &str = "Secrets Manager can't find the specified secret.";
/// AWS's message for an operation on a secret scheduled for deletion.
pub const MARKED_FOR_DELETION: &str =
    "You can't perform this operation on the secret because it was marked for deletion.";
/// AWS's message for a name with a forbidden character.
pub const INVALID_NAME: &str = "Invalid name. Must be a valid name containing alphanumeric \
                                characters, or any of the following: -/_+=.@!";

/// The `(code, message)` of a failed SDK call; panics (with the output) if it succeeded or
/// failed without a service error (e.g. a connection failure).
pub fn service_err<T: Debug, E, R>(result: Result<T, SdkError<E, R>>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug,
{
    let err = match result {
        Ok(out) => panic!("expected an error, got {out:?}"),
        Err(e) => e,
    };
    let service = match err {
        SdkError::ServiceError(ctx) => ctx.into_err(),
        other => panic!("expected a service error, got {other:?}"),
    };
    (
        service.code().unwrap_or_default().to_string(),
        service.message().unwrap_or_default().to_string(),
    )
}

/// Asserts a failed call's code and exact message.
pub fn assert_err<T: Debug, E, R>(result: Result<T, SdkError<E, R>>, code: &str, message: &str)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug,
{
    let (c, m) = service_err(result);
    assert_eq!((c.as_str(), m.as_str()), (code, message));
}

/// Asserts a failed call's code only.
pub fn assert_code<T: Debug, E, R>(result: Result<T, SdkError<E, R>>, code: &str) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug,
{
    let (c, m) = service_err(result);
    assert_eq!(c, code, "message was: {m}");
    m
}

/// A secret's milliseconds since the epoch.
pub fn millis(d: Option<&DateTime>) -> i64 {
    d.expect("timestamp present").to_millis().expect("millis")
}

/// Asserts two millisecond instants agree to within the wire's precision (1 ms).
pub fn assert_millis_eq(actual: i64, expected: i64) {
    assert!(
        (actual - expected).abs() <= 1,
        "timestamp {actual} != expected {expected} (diff {} ms)",
        actual - expected
    );
}

/// A tag.
pub fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

/// A filter.
pub fn filter(key: FilterNameStringType, values: &[&str]) -> Filter {
    let mut b = Filter::builder().key(key);
    for v in values {
        b = b.values(*v);
    }
    b.build()
}

/// A fresh 36-character ClientRequestToken.
pub fn token() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Creates a string secret and returns `(arn, version_id)`.
pub async fn create(client: &Client, name: &str, value: &str) -> (String, String) {
    let out = client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create_secret");
    (
        out.arn().expect("arn").to_string(),
        out.version_id().expect("version id").to_string(),
    )
}

/// Puts a string value with default staging and returns the version id.
pub async fn put(client: &Client, id: &str, value: &str) -> String {
    client
        .put_secret_value()
        .secret_id(id)
        .secret_string(value)
        .send()
        .await
        .expect("put_secret_value")
        .version_id()
        .expect("version id")
        .to_string()
}

/// DescribeSecret's `VersionIdsToStages`, ordered, with each label list as returned.
pub async fn stages(client: &Client, id: &str) -> BTreeMap<String, Vec<String>> {
    let out = client
        .describe_secret()
        .secret_id(id)
        .send()
        .await
        .expect("describe_secret");
    sorted_map(out.version_ids_to_stages.clone().unwrap_or_default())
}

/// A HashMap as a BTreeMap, for deterministic comparisons.
pub fn sorted_map(map: HashMap<String, Vec<String>>) -> BTreeMap<String, Vec<String>> {
    map.into_iter().collect()
}

/// `["A", "B"]` as owned strings.
pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}
