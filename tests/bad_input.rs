//! Hostile and malformed requests on the wire: every one must get the right AWS error code (in
//! the body's `__type` and in `x-amzn-ErrorType`), HTTP 400 (413 for an oversized body), an
//! `x-amzn-RequestId`, no crash, no change of state, and never an echo of a secret value.
//! See `aws-api.md` §1 (protocol and framework errors), §2 (SigV4) and §4 (constraints).

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{RawResponse, Signing, TestServer};
use http::HeaderMap;
use serde_json::{Value, json};
use strongbox::auth::sigv4::{SigningParams, format_amz_date, sign_headers};
use strongbox::clock::Clock;

const TOKEN_1: &str = "11111111-1111-4111-8111-111111111111";
const TOKEN_2: &str = "22222222-2222-4222-8222-222222222222";
const TOKEN_3: &str = "33333333-3333-4333-8333-333333333333";

const ALL_TARGETS: [&str; 14] = [
    "BatchGetSecretValue",
    "CreateSecret",
    "DeleteSecret",
    "DescribeSecret",
    "GetRandomPassword",
    "GetSecretValue",
    "ListSecretVersionIds",
    "ListSecrets",
    "PutSecretValue",
    "RestoreSecret",
    "TagResource",
    "UntagResource",
    "UpdateSecret",
    "UpdateSecretVersionStage",
];

fn target(op: &str) -> String {
    format!("secretsmanager.{op}")
}

fn body_text(r: &RawResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// The error's message, under either key.
fn message(r: &RawResponse) -> String {
    let body = r.json();
    body.get("message")
        .or_else(|| body.get("Message"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The response is AWS error `code` with `status`, in both places clients read the code, with a
/// request id and the JSON content type.
#[track_caller]
fn assert_error_status(r: &RawResponse, status: u16, code: &str, what: &str) {
    let body = body_text(r);
    assert_eq!(r.status, status, "{what}: status; body {body}");
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some(code),
        "{what}: x-amzn-ErrorType; body {body}"
    );
    assert_eq!(r.json()["__type"], code, "{what}: __type; body {body}");
    let request_id = r.header("x-amzn-requestid").unwrap_or_default();
    assert!(
        uuid::Uuid::parse_str(request_id).is_ok(),
        "{what}: x-amzn-RequestId {request_id:?}"
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/x-amz-json-1.1"),
        "{what}: content type"
    );
}

#[track_caller]
fn assert_error(r: &RawResponse, code: &str, what: &str) {
    assert_error_status(r, 400, code, what);
}

/// A single Coral validation error at `path` with `constraint`.
#[track_caller]
fn assert_validation(r: &RawResponse, path: &str, constraint: &str, what: &str) {
    assert_error(r, "ValidationException", what);
    let msg = message(r);
    assert!(
        msg.starts_with("1 validation error detected: Value ")
            && msg.ends_with(&format!(
                " at '{path}' failed to satisfy constraint: {constraint}"
            )),
        "{what}: message {msg:?}"
    );
}

/// Sends `body` (any bytes) to `op`, signed correctly.
async fn call_bytes(s: &TestServer, op: &str, body: &[u8]) -> RawResponse {
    s.raw_with(Some(&target(op)), body, &Signing::default())
        .await
}

async fn call(s: &TestServer, op: &str, body: &Value) -> RawResponse {
    s.raw(&target(op), &body.to_string()).await
}

async fn ok(s: &TestServer, op: &str, body: Value) -> Value {
    let r = call(s, op, &body).await;
    assert_eq!(r.status, 200, "{op} {body}: {}", body_text(&r));
    r.json()
}

/// Names of every secret in the region, including those scheduled for deletion.
async fn all_names(s: &TestServer) -> Vec<String> {
    let list = ok(s, "ListSecrets", json!({"IncludePlannedDeletion": true})).await;
    list["SecretList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Name"].as_str().unwrap().to_string())
        .collect()
}

/// No secret exists, and `name` (if given) is not found.
async fn assert_no_secrets(s: &TestServer, name: Option<&str>) {
    assert_eq!(
        all_names(s).await,
        Vec::<String>::new(),
        "no secret was created"
    );
    if let Some(name) = name {
        let r = call(s, "DescribeSecret", &json!({"SecretId": name})).await;
        assert_error(&r, "ResourceNotFoundException", "describe after rejection");
    }
}

/// The full observable state of one secret: metadata and versions.
async fn snapshot_secret(s: &TestServer, name: &str) -> (Value, Value, Value) {
    // Read the value first: reading records LastAccessedDate, which the others show.
    let value = ok(s, "GetSecretValue", json!({"SecretId": name})).await;
    let describe = ok(s, "DescribeSecret", json!({"SecretId": name})).await;
    let versions = ok(
        s,
        "ListSecretVersionIds",
        json!({"SecretId": name, "IncludeDeprecated": true}),
    )
    .await;
    (describe, versions, value)
}

// ---------------------------------------------------------------------------------------------
// Body syntax and types.

#[tokio::test]
async fn malformed_json_is_a_serialization_exception_for_every_operation() {
    let s = TestServer::start().await;
    let bodies: [&[u8]; 8] = [
        b"{",
        b"{\"SecretId\": ",
        b"not json",
        b"{\"Name\":\"a\",}",
        b"{\"Name\":\"a\"}}",
        b"{'Name':'a'}",
        b"{\"Name\":\"\xff\xfe\"}",
        b"\x00\x01\x02",
    ];
    for op in ALL_TARGETS {
        for body in bodies {
            let r = call_bytes(&s, op, body).await;
            let what = format!("{op} {:?}", String::from_utf8_lossy(body));
            assert_error(&r, "SerializationException", &what);
        }
    }
    assert_no_secrets(&s, Some("a")).await;
}

#[tokio::test]
async fn json_of_the_wrong_top_level_type() {
    let s = TestServer::start().await;
    let bodies = [
        "[]",
        "[{\"Name\":\"top\",\"ClientRequestToken\":\"11111111-1111-4111-8111-111111111111\"}]",
        "\"CreateSecret\"",
        "42",
        "-1.5",
        "true",
    ];
    for op in [
        "CreateSecret",
        "ListSecrets",
        "GetRandomPassword",
        "DescribeSecret",
    ] {
        for body in bodies {
            let r = s.raw(&target(op), body).await;
            assert_error(&r, "SerializationException", &format!("{op} {body}"));
        }
    }
    assert_no_secrets(&s, Some("top")).await;
}

#[tokio::test]
async fn members_of_the_wrong_type() {
    let s = TestServer::start().await;
    ok(
        &s,
        "CreateSecret",
        json!({"Name": "typed", "ClientRequestToken": TOKEN_1, "SecretString": "original",
               "Tags": [{"Key": "k", "Value": "v"}]}),
    )
    .await;
    let before = snapshot_secret(&s, "typed").await;
    let t = TOKEN_2;
    let cases: Vec<(&str, Value)> = vec![
        // A string member given a number, a list, an object.
        (
            "CreateSecret",
            json!({"Name": 123, "ClientRequestToken": t, "SecretString": "v"}),
        ),
        (
            "CreateSecret",
            json!({"Name": ["wt"], "ClientRequestToken": t, "SecretString": "v"}),
        ),
        (
            "CreateSecret",
            json!({"Name": "wt", "ClientRequestToken": t, "SecretString": 42}),
        ),
        (
            "CreateSecret",
            json!({"Name": "wt", "ClientRequestToken": t, "SecretString": {"a": 1}}),
        ),
        (
            "CreateSecret",
            json!({"Name": "wt", "ClientRequestToken": 1234, "SecretString": "v"}),
        ),
        (
            "CreateSecret",
            json!({"Name": "wt", "ClientRequestToken": t, "Description": false}),
        ),
        // A boolean member given a string.
        (
            "CreateSecret",
            json!({"Name": "wt", "ClientRequestToken": t, "SecretString": "v",
                                "ForceOverwriteReplicaSecret": "true"}),
        ),
        // A list member given a string or an object; a list item of the wrong type.
        (
            "CreateSecret",
            json!({"Name": "wt", "ClientRequestToken": t, "Tags": "env=prod"}),
        ),
        (
            "CreateSecret",
            json!({"Name": "wt", "ClientRequestToken": t,
                                "Tags": {"Key": "a", "Value": "b"}}),
        ),
        (
            "CreateSecret",
            json!({"Name": "wt", "ClientRequestToken": t,
                                "Tags": [{"Key": 1, "Value": "b"}]}),
        ),
        (
            "CreateSecret",
            json!({"Name": "wt", "ClientRequestToken": t, "Tags": ["env"]}),
        ),
        // A blob that is not base64, or not a string.
        (
            "CreateSecret",
            json!({"Name": "wt", "ClientRequestToken": t,
                                "SecretBinary": "not base64!!"}),
        ),
        (
            "CreateSecret",
            json!({"Name": "wt", "ClientRequestToken": t, "SecretBinary": 12}),
        ),
        (
            "CreateSecret",
            json!({"Name": "wt", "ClientRequestToken": t, "SecretBinary": [1, 2]}),
        ),
        // Number members given a string, a fraction, a boolean, an out-of-range integer.
        ("ListSecrets", json!({"MaxResults": "10"})),
        ("ListSecrets", json!({"MaxResults": 10.5})),
        ("ListSecrets", json!({"MaxResults": true})),
        (
            "ListSecrets",
            json!({"MaxResults": 99_999_999_999_999_999_999.0_f64}),
        ),
        ("ListSecrets", json!({"IncludePlannedDeletion": "true"})),
        ("ListSecrets", json!({"IncludePlannedDeletion": 1})),
        ("ListSecrets", json!({"Filters": "name"})),
        (
            "ListSecrets",
            json!({"Filters": [{"Key": "name", "Values": "typed"}]}),
        ),
        ("ListSecrets", json!({"SortOrder": 1})),
        ("GetRandomPassword", json!({"PasswordLength": "20"})),
        ("GetRandomPassword", json!({"PasswordLength": 20.5})),
        ("GetRandomPassword", json!({"ExcludeNumbers": "yes"})),
        ("GetRandomPassword", json!({"ExcludeNumbers": 1})),
        ("GetRandomPassword", json!({"ExcludeCharacters": ["a"]})),
        // Against the existing secret: nothing may change.
        (
            "PutSecretValue",
            json!({"SecretId": "typed", "ClientRequestToken": t,
                                  "SecretString": "new", "VersionStages": "AWSCURRENT"}),
        ),
        (
            "PutSecretValue",
            json!({"SecretId": "typed", "ClientRequestToken": t,
                                  "SecretBinary": "%%%"}),
        ),
        (
            "UpdateSecret",
            json!({"SecretId": "typed", "ClientRequestToken": t,
                                "SecretString": "new", "Description": 5}),
        ),
        ("TagResource", json!({"SecretId": "typed", "Tags": "a=b"})),
        (
            "UntagResource",
            json!({"SecretId": "typed", "TagKeys": "k"}),
        ),
        (
            "DeleteSecret",
            json!({"SecretId": "typed", "RecoveryWindowInDays": "7"}),
        ),
        (
            "DeleteSecret",
            json!({"SecretId": "typed", "ForceDeleteWithoutRecovery": "true"}),
        ),
        ("GetSecretValue", json!({"SecretId": 5})),
        (
            "ListSecretVersionIds",
            json!({"SecretId": "typed", "IncludeDeprecated": "false"}),
        ),
        ("BatchGetSecretValue", json!({"SecretIdList": "typed"})),
        (
            "UpdateSecretVersionStage",
            json!({"SecretId": "typed", "VersionStage": ["AWSCURRENT"]}),
        ),
    ];
    for (op, body) in &cases {
        let r = call(&s, op, body).await;
        assert_error(&r, "SerializationException", &format!("{op} {body}"));
    }
    assert_eq!(all_names(&s).await, ["typed"]);
    assert_eq!(
        snapshot_secret(&s, "typed").await,
        before,
        "state unchanged"
    );
}

#[tokio::test]
async fn null_members_count_as_absent() {
    let s = TestServer::start().await;
    let r = call(
        &s,
        "CreateSecret",
        &json!({"Name": null, "ClientRequestToken": TOKEN_1, "SecretString": "v"}),
    )
    .await;
    assert_validation(&r, "name", "Member must not be null", "null Name");
    assert_no_secrets(&s, None).await;
}

#[tokio::test]
async fn unknown_members_are_ignored() {
    let s = TestServer::start().await;
    ok(
        &s,
        "CreateSecret",
        json!({
            "Name": "extra",
            "ClientRequestToken": TOKEN_1,
            "SecretString": "the-real-value",
            "secretString": "a member name in the wrong case is just unknown",
            "Bogus": 1,
            "Nested": {"x": [1, 2, {"y": null}]},
            "FutureFeature": true
        }),
    )
    .await;
    let got = ok(
        &s,
        "GetSecretValue",
        json!({"SecretId": "extra", "Whatever": []}),
    )
    .await;
    assert_eq!(got["SecretString"], "the-real-value");
    ok(&s, "ListSecrets", json!({"Unknown": "x"})).await;
    ok(
        &s,
        "GetRandomPassword",
        json!({"PasswordLength": 8, "Mystery": {"a": 1}}),
    )
    .await;
    ok(
        &s,
        "DescribeSecret",
        json!({"SecretId": "extra", "Extra": null}),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Missing and oversized members (Coral ValidationException).

#[tokio::test]
async fn missing_required_members() {
    let s = TestServer::start().await;
    let null = |path: &str| {
        format!("Value null at '{path}' failed to satisfy constraint: Member must not be null")
    };
    let cases: Vec<(&str, Value, String)> = vec![
        (
            "CreateSecret",
            json!({"ClientRequestToken": TOKEN_1, "SecretString": "v"}),
            format!("1 validation error detected: {}", null("name")),
        ),
        (
            "DescribeSecret",
            json!({}),
            format!("1 validation error detected: {}", null("secretId")),
        ),
        (
            "GetSecretValue",
            json!({"VersionStage": "AWSCURRENT"}),
            format!("1 validation error detected: {}", null("secretId")),
        ),
        (
            "PutSecretValue",
            json!({"ClientRequestToken": TOKEN_1, "SecretString": "v"}),
            format!("1 validation error detected: {}", null("secretId")),
        ),
        (
            "UpdateSecret",
            json!({"ClientRequestToken": TOKEN_1, "SecretString": "v"}),
            format!("1 validation error detected: {}", null("secretId")),
        ),
        (
            "DeleteSecret",
            json!({"ForceDeleteWithoutRecovery": true}),
            format!("1 validation error detected: {}", null("secretId")),
        ),
        (
            "RestoreSecret",
            json!({}),
            format!("1 validation error detected: {}", null("secretId")),
        ),
        (
            "ListSecretVersionIds",
            json!({}),
            format!("1 validation error detected: {}", null("secretId")),
        ),
        (
            "TagResource",
            json!({}),
            format!(
                "2 validation errors detected: {}; {}",
                null("secretId"),
                null("tags")
            ),
        ),
        (
            "UntagResource",
            json!({"SecretId": "x"}),
            format!("1 validation error detected: {}", null("tagKeys")),
        ),
        (
            "UpdateSecretVersionStage",
            json!({}),
            format!(
                "2 validation errors detected: {}; {}",
                null("secretId"),
                null("versionStage")
            ),
        ),
        (
            "TagResource",
            json!({"SecretId": "x", "Tags": [{"Value": "v"}]}),
            format!("1 validation error detected: {}", null("tags.1.member.key")),
        ),
    ];
    for (op, body, expected) in &cases {
        let r = call(&s, op, body).await;
        let what = format!("{op} {body}");
        assert_error(&r, "ValidationException", &what);
        assert_eq!(&message(&r), expected, "{what}");
        // Coral errors use the lower-case key.
        assert!(
            r.json().get("message").is_some(),
            "{what}: lower-case message key"
        );
    }
    assert_no_secrets(&s, None).await;
}

/// `(path, constraint)` for "length less than or equal to `max`".
fn too_long(max: usize) -> String {
    format!("Member must have length less than or equal to {max}")
}

fn too_short(min: usize) -> String {
    format!("Member must have length greater than or equal to {min}")
}

#[tokio::test]
async fn create_secret_member_limits() {
    let s = TestServer::start().await;
    let base = |extra: Value| {
        let mut body = json!({"Name": "limits", "ClientRequestToken": TOKEN_1});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<(Value, &str, String)> = vec![
        (json!({"Name": "n".repeat(513)}), "name", too_long(512)),
        (json!({"Name": ""}), "name", too_short(1)),
        (
            json!({"Description": "d".repeat(2049)}),
            "description",
            too_long(2048),
        ),
        (
            json!({"KmsKeyId": "k".repeat(2049)}),
            "kmsKeyId",
            too_long(2048),
        ),
        (
            json!({"SecretString": "s".repeat(65_537)}),
            "secretString",
            too_long(65_536),
        ),
        (json!({"SecretString": ""}), "secretString", too_short(1)),
        // 65,536 characters but 131,072 bytes: the quota is in bytes.
        (
            json!({"SecretString": "é".repeat(65_536)}),
            "secretString",
            too_long(65_536),
        ),
        (
            json!({"SecretBinary": B64.encode(vec![7u8; 65_537])}),
            "secretBinary",
            too_long(65_536),
        ),
        (json!({"SecretBinary": ""}), "secretBinary", too_short(1)),
        (
            json!({"ClientRequestToken": "t".repeat(65)}),
            "clientRequestToken",
            too_long(64),
        ),
        (
            json!({"ClientRequestToken": "t".repeat(31)}),
            "clientRequestToken",
            too_short(32),
        ),
        (
            json!({"Tags": [{"Key": "k".repeat(129), "Value": "v"}]}),
            "tags.1.member.key",
            too_long(128),
        ),
        (
            json!({"Tags": [{"Key": "a", "Value": "b"}, {"Key": "", "Value": "v"}]}),
            "tags.2.member.key",
            too_short(1),
        ),
        (
            json!({"Tags": [{"Key": "k", "Value": "v".repeat(257)}]}),
            "tags.1.member.value",
            too_long(256),
        ),
        (json!({"Type": "t".repeat(257)}), "type", too_long(256)),
        (
            json!({"AddReplicaRegions": []}),
            "addReplicaRegions",
            too_short(1),
        ),
        (
            json!({"CrossAccountPrimaryARN": "a".repeat(19)}),
            "crossAccountPrimaryARN",
            too_short(20),
        ),
        (
            json!({"CrossAccountPrimaryARN": "a".repeat(2049)}),
            "crossAccountPrimaryARN",
            too_long(2048),
        ),
    ];
    for (extra, path, constraint) in &cases {
        let body = base(extra.clone());
        let r = call(&s, "CreateSecret", &body).await;
        assert_validation(&r, path, constraint, &format!("CreateSecret {path}"));
    }
    // Several problems at once are reported together.
    let r = call(
        &s,
        "CreateSecret",
        &base(
            json!({"Name": "n".repeat(513), "Description": "d".repeat(2049),
                     "Tags": [{"Key": "k".repeat(129)}]}),
        ),
    )
    .await;
    assert_error(&r, "ValidationException", "three problems");
    assert!(
        message(&r).starts_with("3 validation errors detected: "),
        "{}",
        message(&r)
    );
    assert_eq!(message(&r).matches("; ").count(), 2, "{}", message(&r));
    assert_no_secrets(&s, Some("limits")).await;

    // Every maximum is inclusive.
    ok(
        &s,
        "CreateSecret",
        json!({
            "Name": "n".repeat(512),
            "ClientRequestToken": "t".repeat(64),
            "Description": "d".repeat(2048),
            "SecretString": "s".repeat(65_536),
            "Tags": [{"Key": "k".repeat(128), "Value": "v".repeat(256)}]
        }),
    )
    .await;
    ok(
        &s,
        "CreateSecret",
        json!({"Name": "bin-max", "ClientRequestToken": "t".repeat(32),
               "SecretBinary": B64.encode(vec![7u8; 65_536])}),
    )
    .await;
    assert_eq!(all_names(&s).await.len(), 2);
}

#[tokio::test]
async fn put_secret_value_member_limits() {
    let s = TestServer::start().await;
    ok(
        &s,
        "CreateSecret",
        json!({"Name": "put-limits", "ClientRequestToken": TOKEN_1, "SecretString": "v1"}),
    )
    .await;
    let before = snapshot_secret(&s, "put-limits").await;
    let base = |extra: Value| {
        let mut body =
            json!({"SecretId": "put-limits", "ClientRequestToken": TOKEN_2, "SecretString": "v2"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let stages21: Vec<String> = (0..21).map(|i| format!("S{i}")).collect();
    let cases: Vec<(Value, &str, String)> = vec![
        (
            json!({"SecretId": "x".repeat(2049)}),
            "secretId",
            too_long(2048),
        ),
        (json!({"SecretId": ""}), "secretId", too_short(1)),
        (
            json!({"ClientRequestToken": "t".repeat(65)}),
            "clientRequestToken",
            too_long(64),
        ),
        (
            json!({"ClientRequestToken": "t".repeat(31)}),
            "clientRequestToken",
            too_short(32),
        ),
        (
            json!({"SecretString": "s".repeat(65_537)}),
            "secretString",
            too_long(65_536),
        ),
        (
            json!({"SecretString": null, "SecretBinary": B64.encode(vec![1u8; 65_537])}),
            "secretBinary",
            too_long(65_536),
        ),
        (
            json!({"VersionStages": stages21}),
            "versionStages",
            too_long(20),
        ),
        (json!({"VersionStages": []}), "versionStages", too_short(1)),
        (
            json!({"VersionStages": ["x".repeat(257)]}),
            "versionStages.1.member",
            too_long(256),
        ),
        (
            json!({"VersionStages": ["A", ""]}),
            "versionStages.2.member",
            too_short(1),
        ),
        (
            json!({"RotationToken": "r".repeat(257)}),
            "rotationToken",
            too_long(256),
        ),
        (
            json!({"RotationToken": "r".repeat(35)}),
            "rotationToken",
            too_short(36),
        ),
        (
            json!({"RotationToken": "not a valid rotation token, has spaces!"}),
            "rotationToken",
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9\\-]+$".to_string(),
        ),
    ];
    for (extra, path, constraint) in &cases {
        let r = call(&s, "PutSecretValue", &base(extra.clone())).await;
        assert_validation(&r, path, constraint, &format!("PutSecretValue {path}"));
    }
    // Semantic rejections change nothing either.
    let r = call(&s, "PutSecretValue", &base(json!({"SecretString": null}))).await;
    assert_error(&r, "InvalidRequestException", "no value");
    let r = call(&s, "PutSecretValue", &base(json!({"SecretBinary": "AAE="}))).await;
    assert_error(&r, "InvalidParameterException", "both values");
    let r = call(
        &s,
        "PutSecretValue",
        &base(json!({"ClientRequestToken": null})),
    )
    .await;
    assert_error(&r, "InvalidRequestException", "no token");
    let r = call(
        &s,
        "PutSecretValue",
        &base(json!({"ClientRequestToken": TOKEN_1, "SecretString": "different"})),
    )
    .await;
    assert_error(&r, "ResourceExistsException", "token reuse");
    assert_eq!(
        snapshot_secret(&s, "put-limits").await,
        before,
        "state unchanged"
    );
}

#[tokio::test]
async fn list_secrets_member_limits() {
    let s = TestServer::start().await;
    let filter = |key: &str, values: Vec<String>| json!([{"Key": key, "Values": values}]);
    let eleven_filters: Vec<Value> = (0..11)
        .map(|_| json!({"Key": "name", "Values": ["a"]}))
        .collect();
    let eleven_values: Vec<String> = (0..11).map(|i| format!("v{i}")).collect();
    let cases: Vec<(Value, &str, String)> = vec![
        (json!({"MaxResults": 101}), "maxResults",
         "Member must have value less than or equal to 100".into()),
        (json!({"MaxResults": 0}), "maxResults",
         "Member must have value greater than or equal to 1".into()),
        (json!({"MaxResults": -1}), "maxResults",
         "Member must have value greater than or equal to 1".into()),
        (json!({"NextToken": "n".repeat(4097)}), "nextToken", too_long(4096)),
        (json!({"NextToken": ""}), "nextToken", too_short(1)),
        (json!({"Filters": eleven_filters}), "filters", too_long(10)),
        (json!({"Filters": filter("name", eleven_values)}), "filters.1.member.values",
         too_long(10)),
        (json!({"Filters": filter("name", vec![])}), "filters.1.member.values", too_short(1)),
        (json!({"Filters": filter("name", vec!["v".repeat(513)])}),
         "filters.1.member.values.1.member", too_long(512)),
        (json!({"Filters": filter("name", vec!["a*b".into()])}),
         "filters.1.member.values.1.member",
         "Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$"
             .into()),
        (json!({"Filters": filter("bogus", vec!["a".into()])}), "filters.1.member.key",
         "Member must satisfy enum value set: [description, name, tag-key, tag-value, \
          primary-region, owning-service, all]".into()),
        // A filter must say what it filters on: dropping it would list (or, for
        // BatchGetSecretValue, read) every secret.
        (json!({"Filters": [{"Values": ["a"]}]}), "filters.1.member.key",
         "Member must not be null".into()),
        (json!({"Filters": [{"Key": "name"}]}), "filters.1.member.values",
         "Member must not be null".into()),
        (json!({"SortOrder": "up"}), "sortOrder",
         "Member must satisfy enum value set: [asc, desc]".into()),
        (json!({"SortBy": "size"}), "sortBy",
         "Member must satisfy enum value set: [created-date, last-accessed-date, \
          last-changed-date, name]".into()),
    ];
    for (body, path, constraint) in &cases {
        let r = call(&s, "ListSecrets", body).await;
        assert_validation(&r, path, constraint, &format!("ListSecrets {body}"));
    }
    let r = call(&s, "ListSecrets", &json!({"NextToken": "garbage"})).await;
    assert_error(&r, "InvalidNextTokenException", "bad token");
    // Maxima are inclusive.
    ok(
        &s,
        "ListSecrets",
        json!({"MaxResults": 100, "Filters": filter("name", vec!["v".repeat(512)])}),
    )
    .await;
}

#[tokio::test]
async fn get_random_password_member_limits() {
    let s = TestServer::start().await;
    let range = |op: &str, n: i64| format!("Member must have value {op} than or equal to {n}");
    let cases: Vec<(Value, &str, String)> = vec![
        (
            json!({"PasswordLength": 4097}),
            "passwordLength",
            range("less", 4096),
        ),
        (
            json!({"PasswordLength": 0}),
            "passwordLength",
            range("greater", 1),
        ),
        (
            json!({"PasswordLength": -5}),
            "passwordLength",
            range("greater", 1),
        ),
        (
            json!({"ExcludeCharacters": "x".repeat(4097)}),
            "excludeCharacters",
            too_long(4096),
        ),
    ];
    for (body, path, constraint) in &cases {
        let r = call(&s, "GetRandomPassword", body).await;
        assert_validation(&r, path, constraint, &format!("GetRandomPassword {path}"));
    }
    let r = call(
        &s,
        "GetRandomPassword",
        &json!({"PasswordLength": 2, "ExcludePunctuation": false}),
    )
    .await;
    assert_error(
        &r,
        "InvalidParameterException",
        "too short for the required types",
    );
    let got = ok(&s, "GetRandomPassword", json!({"PasswordLength": 4096})).await;
    assert_eq!(
        got["RandomPassword"].as_str().unwrap().chars().count(),
        4096
    );
}

#[tokio::test]
async fn bad_names() {
    let s = TestServer::start().await;
    let invalid = "Invalid name. Must be a valid name containing alphanumeric characters, or any \
                   of the following: -/_+=.@!";
    let names = [
        "bad name",
        "a*b",
        "semi;colon",
        "hash#",
        "ünïcode",
        "tab\tname",
        "new\nline",
        "quote\"d",
        "name!",
        "brace{}",
        "back\\slash",
        "per%cent",
        "colon:",
    ];
    for name in names {
        let r = call(
            &s,
            "CreateSecret",
            &json!({"Name": name, "ClientRequestToken": TOKEN_1, "SecretString": "v"}),
        )
        .await;
        assert_error(&r, "ValidationException", &format!("CreateSecret {name:?}"));
        assert_eq!(message(&r), invalid, "{name:?}");
        for op in ["DescribeSecret", "GetSecretValue", "DeleteSecret"] {
            let r = call(&s, op, &json!({"SecretId": name})).await;
            assert_error(&r, "ValidationException", &format!("{op} {name:?}"));
            assert_eq!(message(&r), invalid, "{op} {name:?}");
        }
    }
    assert_no_secrets(&s, None).await;
    // Every allowed punctuation character works.
    ok(
        &s,
        "CreateSecret",
        json!({"Name": "a/b_c+d=e.f@g-h", "ClientRequestToken": TOKEN_1, "SecretString": "v"}),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Routing.

#[tokio::test]
async fn unknown_or_missing_target() {
    let s = TestServer::start().await;
    let body =
        json!({"Name": "routed", "ClientRequestToken": TOKEN_1, "SecretString": "v"}).to_string();
    for t in [
        "secretsmanager.FlyToTheMoon",
        "TrentService.Encrypt",
        "secretsmanager.",
        "CreateSecret",
        "secretsmanager.CreateSecret.Extra",
        "dynamodb_20120810.CreateSecret",
    ] {
        let r = s.raw(t, &body).await;
        assert_error(&r, "UnknownOperationException", t);
    }
    let r = s.raw_with(None, body.as_bytes(), &Signing::default()).await;
    assert_error(&r, "UnknownOperationException", "no X-Amz-Target");
    assert_no_secrets(&s, Some("routed")).await;
}

#[tokio::test]
async fn get_root() {
    let s = TestServer::start().await;
    // Unsigned, as a browser would.
    let r = s.send("GET", "/", &HeaderMap::new(), b"").await;
    assert_error(&r, "MissingAuthenticationTokenException", "unsigned GET /");
    // Signed GET with a target: still not an operation.
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-amz-target",
        "secretsmanager.ListSecrets".parse().unwrap(),
    );
    let host = s.addr.to_string();
    sign_headers(
        &SigningParams {
            access_key_id: common::ACCESS_KEY,
            secret_access_key: common::SECRET_KEY,
            session_token: None,
            region: "us-east-1",
            service: "secretsmanager",
            time: s.clock.now_millis(),
        },
        "GET",
        &host,
        "/",
        "",
        &mut headers,
        b"",
    )
    .unwrap();
    let r = s.send("GET", "/", &headers, b"").await;
    assert_error(&r, "UnknownOperationException", "signed GET /");
}

// ---------------------------------------------------------------------------------------------
// Authentication.

const CREATE_BODY: &str = r#"{"Name":"auth-victim","ClientRequestToken":"11111111-1111-4111-8111-111111111111","SecretString":"v"}"#;

/// Signed headers for [`CREATE_BODY`] with `authorization` replaced by `f(original)`.
fn with_authorization(s: &TestServer, f: impl FnOnce(&str) -> Option<String>) -> HeaderMap {
    let mut headers = s.signed_headers(
        Some("secretsmanager.CreateSecret"),
        CREATE_BODY.as_bytes(),
        &Signing::default(),
    );
    let original = headers["authorization"].to_str().unwrap().to_string();
    headers.remove("authorization");
    if let Some(value) = f(&original) {
        headers.insert("authorization", value.parse().unwrap());
    }
    headers
}

async fn post(s: &TestServer, headers: &HeaderMap) -> RawResponse {
    s.send("POST", "/", headers, CREATE_BODY.as_bytes()).await
}

#[tokio::test]
async fn missing_or_malformed_authorization() {
    let s = TestServer::start().await;
    let r = post(&s, &with_authorization(&s, |_| None)).await;
    assert_error(
        &r,
        "MissingAuthenticationTokenException",
        "no Authorization",
    );
    assert_eq!(message(&r), "Missing Authentication Token");

    for garbage in [
        "garbage",
        "Bearer abc.def.ghi",
        "AWS4-HMAC-SHA256",
        "Basic dGVzdDp0ZXN0",
    ] {
        let r = post(&s, &with_authorization(&s, |_| Some(garbage.into()))).await;
        assert_error(&r, "IncompleteSignatureException", garbage);
    }
    let r = post(
        &s,
        &with_authorization(&s, |_| Some("AWS4-HMAC-SHA256".into())),
    )
    .await;
    assert_eq!(
        message(&r),
        "Authorization header requires 'Credential' parameter. Authorization header requires \
         'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. \
         Authorization=AWS4-HMAC-SHA256"
    );

    // Drop one part at a time: `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
    for (part, sentence) in [
        (
            "Credential",
            "Authorization header requires 'Credential' parameter.",
        ),
        (
            "SignedHeaders",
            "Authorization header requires 'SignedHeaders' parameter.",
        ),
        (
            "Signature",
            "Authorization header requires 'Signature' parameter.",
        ),
    ] {
        let headers = with_authorization(&s, |orig| {
            let (algorithm, rest) = orig.split_once(' ').unwrap();
            let kept: Vec<&str> = rest
                .split(", ")
                .filter(|p| !p.starts_with(&format!("{part}=")))
                .collect();
            Some(format!("{algorithm} {}", kept.join(", ")))
        });
        let sent = headers["authorization"].to_str().unwrap().to_string();
        let r = post(&s, &headers).await;
        assert_error(&r, "IncompleteSignatureException", part);
        assert_eq!(
            message(&r),
            format!("{sentence} Authorization={sent}"),
            "{part}"
        );
    }

    // A credential without five elements.
    let headers = with_authorization(&s, |orig| {
        Some(orig.replace("/secretsmanager/aws4_request", "/secretsmanager"))
    });
    let r = post(&s, &headers).await;
    assert_error(&r, "IncompleteSignatureException", "four-part credential");

    // No date header at all.
    let mut headers = with_authorization(&s, |orig| Some(orig.to_string()));
    headers.remove("x-amz-date");
    let r = post(&s, &headers).await;
    assert_error(&r, "IncompleteSignatureException", "no date");
    assert!(
        message(&r).contains(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        ),
        "{}",
        message(&r)
    );
    assert_no_secrets(&s, Some("auth-victim")).await;
}

#[tokio::test]
async fn bad_scope() {
    let s = TestServer::start().await;
    for service in ["kms", "s3", "secretmanager"] {
        let r = s
            .raw_with(
                Some("secretsmanager.CreateSecret"),
                CREATE_BODY.as_bytes(),
                &Signing {
                    service,
                    ..Signing::default()
                },
            )
            .await;
        assert_error(&r, "InvalidSignatureException", service);
        assert_eq!(
            message(&r),
            "Credential should be scoped to correct service: 'secretsmanager'. "
        );
    }
    for region in ["moon", "US-EAST-1", "us-east", "us_east_1", "-1"] {
        let r = s
            .raw_with(
                Some("secretsmanager.CreateSecret"),
                CREATE_BODY.as_bytes(),
                &Signing {
                    region,
                    ..Signing::default()
                },
            )
            .await;
        assert_error(&r, "InvalidSignatureException", region);
        assert_eq!(
            message(&r),
            format!("Credential should be scoped to a valid region, not '{region}'. ")
        );
    }
    assert_no_secrets(&s, Some("auth-victim")).await;
}

#[tokio::test]
async fn clock_skew() {
    let s = TestServer::start().await;
    let now = s.clock.now_millis();
    let minute = 60_000;
    let r = s
        .raw_with(
            Some("secretsmanager.CreateSecret"),
            CREATE_BODY.as_bytes(),
            &Signing {
                skew_ms: -20 * minute,
                ..Signing::default()
            },
        )
        .await;
    assert_error(&r, "InvalidSignatureException", "20 minutes old");
    assert_eq!(
        message(&r),
        format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            format_amz_date(now - 20 * minute),
            format_amz_date(now - 15 * minute),
            format_amz_date(now)
        )
    );
    let r = s
        .raw_with(
            Some("secretsmanager.CreateSecret"),
            CREATE_BODY.as_bytes(),
            &Signing {
                skew_ms: 20 * minute,
                ..Signing::default()
            },
        )
        .await;
    assert_error(&r, "InvalidSignatureException", "20 minutes ahead");
    assert_eq!(
        message(&r),
        format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            format_amz_date(now + 20 * minute),
            format_amz_date(now + 15 * minute),
            format_amz_date(now)
        )
    );
    // The same request signed now, then replayed after the server's clock moved 20 minutes.
    let headers = s.signed_headers(
        Some("secretsmanager.CreateSecret"),
        CREATE_BODY.as_bytes(),
        &Signing::default(),
    );
    s.clock.advance(20 * minute);
    let r = s.send("POST", "/", &headers, CREATE_BODY.as_bytes()).await;
    assert_error(&r, "InvalidSignatureException", "replayed 20 minutes later");
    assert!(
        message(&r).starts_with("Signature expired: "),
        "{}",
        message(&r)
    );
    assert_no_secrets(&s, Some("auth-victim")).await;
    // Fourteen minutes either way is within the allowed skew.
    for skew in [-14 * minute, 14 * minute] {
        let r = s
            .raw_with(
                Some("secretsmanager.ListSecrets"),
                b"{}",
                &Signing {
                    skew_ms: skew,
                    ..Signing::default()
                },
            )
            .await;
        assert_eq!(r.status, 200, "skew {skew}: {}", body_text(&r));
    }
}

#[tokio::test]
async fn wrong_secret_tampering_and_unknown_key() {
    let s = TestServer::start().await;
    let r = s
        .raw_with(
            Some("secretsmanager.CreateSecret"),
            CREATE_BODY.as_bytes(),
            &Signing {
                secret_key: "wrong",
                ..Signing::default()
            },
        )
        .await;
    assert_error(&r, "InvalidSignatureException", "wrong secret");
    assert!(
        message(&r).starts_with(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details."
        ),
        "{}",
        message(&r)
    );
    // Body changed after signing.
    let headers = s.signed_headers(
        Some("secretsmanager.CreateSecret"),
        CREATE_BODY.as_bytes(),
        &Signing::default(),
    );
    let tampered = CREATE_BODY.replace("\"v\"", "\"w\"");
    let r = s.send("POST", "/", &headers, tampered.as_bytes()).await;
    assert_error(&r, "InvalidSignatureException", "tampered body");
    // Target changed after signing.
    let mut headers = headers.clone();
    headers.insert(
        "x-amz-target",
        "secretsmanager.DeleteSecret".parse().unwrap(),
    );
    let r = s.send("POST", "/", &headers, CREATE_BODY.as_bytes()).await;
    assert_error(&r, "InvalidSignatureException", "tampered target");
    // A signature that is not hex at all.
    let headers = with_authorization(&s, |orig| {
        let (head, _) = orig.rsplit_once("Signature=").unwrap();
        Some(format!("{head}Signature=zzzz"))
    });
    let r = post(&s, &headers).await;
    assert_error(&r, "InvalidSignatureException", "non-hex signature");
    // An access key nobody issued.
    let r = s
        .raw_with(
            Some("secretsmanager.CreateSecret"),
            CREATE_BODY.as_bytes(),
            &Signing {
                access_key: "AKIAIOSFODNN7EXAMPLE",
                secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                ..Signing::default()
            },
        )
        .await;
    assert_error(&r, "UnrecognizedClientException", "unknown key");
    assert_eq!(
        message(&r),
        "The security token included in the request is invalid."
    );
    assert_no_secrets(&s, Some("auth-victim")).await;
}

// ---------------------------------------------------------------------------------------------
// Oversized bodies.

const MIB: usize = 1024 * 1024;

/// A CreateSecret body of just over 1 MiB.
fn huge_body(marker: &str) -> String {
    let filler = format!("{marker}-").repeat(MIB / (marker.len() + 1) + 1);
    json!({"Name": "huge", "ClientRequestToken": TOKEN_1, "SecretString": filler}).to_string()
}

fn head_of(s: &TestServer, headers: &HeaderMap) -> String {
    let mut head = String::from("POST / HTTP/1.1\r\n");
    if !headers.contains_key("host") {
        head.push_str(&format!("host: {}\r\n", s.addr));
    }
    for (name, value) in headers {
        head.push_str(&format!("{}: {}\r\n", name, value.to_str().unwrap()));
    }
    head
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let s = TestServer::start().await;
    let marker = "HUGE-SECRET-9b1f";
    let body = huge_body(marker);
    assert!(body.len() > MIB);
    let headers = s.signed_headers(
        Some("secretsmanager.CreateSecret"),
        body.as_bytes(),
        &Signing::default(),
    );

    // With Content-Length.
    let mut request = head_of(&s, &headers);
    request.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    let r = s.send_bytes(bytes).await;
    assert_error_status(&r, 413, "RequestEntityTooLargeException", "content-length");
    assert!(!body_text(&r).contains(marker));

    // A Content-Length that lies about a huge body: refused before anything is read.
    let mut request = head_of(&s, &headers);
    request.push_str("content-length: 1073741824\r\nconnection: close\r\n\r\n{}");
    let r = s.send_bytes(request.into_bytes()).await;
    assert_error_status(&r, 413, "RequestEntityTooLargeException", "declared 1 GiB");

    // Chunked, so the size is only known while reading.
    let mut request = head_of(&s, &headers);
    request.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
    let mut bytes = request.into_bytes();
    for chunk in body.as_bytes().chunks(64 * 1024) {
        bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\n\r\n");
    let r = s.send_bytes(bytes).await;
    assert_error_status(&r, 413, "RequestEntityTooLargeException", "chunked");
    assert!(!body_text(&r).contains(marker));

    // Still serving, and nothing was stored.
    assert_no_secrets(&s, Some("huge")).await;
    // A chunked body under the limit is fine.
    let small = json!({"Name": "chunked-ok", "ClientRequestToken": TOKEN_2, "SecretString": "v"})
        .to_string();
    let headers = s.signed_headers(
        Some("secretsmanager.CreateSecret"),
        small.as_bytes(),
        &Signing::default(),
    );
    let mut request = head_of(&s, &headers);
    request.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
    let mut bytes = request.into_bytes();
    for chunk in small.as_bytes().chunks(10) {
        bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\n\r\n");
    let r = s.send_bytes(bytes).await;
    assert_eq!(r.status, 200, "{}", body_text(&r));
    assert_eq!(all_names(&s).await, ["chunked-ok"]);
}

// ---------------------------------------------------------------------------------------------
// Secret values never leak into errors.

#[tokio::test]
async fn secret_values_never_appear_in_error_responses() {
    let s = TestServer::start().await;
    const MARKER: &str = "SBX-MARKER-c0ffee-do-not-echo";
    let marker_b64 = B64.encode(MARKER);
    ok(
        &s,
        "CreateSecret",
        json!({"Name": "leak-target", "ClientRequestToken": TOKEN_1, "SecretString": "orig"}),
    )
    .await;
    let long = MARKER.repeat(65_536 / MARKER.len() + 1);
    let cases: Vec<(&str, String, &str)> = vec![
        ("CreateSecret",
         json!({"Name": "bad name", "ClientRequestToken": TOKEN_2, "SecretString": MARKER}).to_string(),
         "ValidationException"),
        ("CreateSecret",
         json!({"Name": "leak-2", "ClientRequestToken": TOKEN_2, "SecretString": long}).to_string(),
         "ValidationException"),
        ("CreateSecret",
         json!({"ClientRequestToken": TOKEN_2, "SecretString": MARKER}).to_string(),
         "ValidationException"),
        ("CreateSecret",
         json!({"Name": "leak-3", "ClientRequestToken": "short", "SecretString": MARKER,
                "Description": "d".repeat(2049)}).to_string(),
         "ValidationException"),
        ("CreateSecret",
         json!({"Name": 7, "ClientRequestToken": TOKEN_2, "SecretString": MARKER}).to_string(),
         "SerializationException"),
        ("CreateSecret",
         json!({"Name": "leak-4", "ClientRequestToken": TOKEN_2, "SecretString": [MARKER]}).to_string(),
         "SerializationException"),
        ("CreateSecret",
         format!(r#"{{"Name":"leak-5","ClientRequestToken":"{TOKEN_2}","SecretString":"{MARKER}""#),
         "SerializationException"),
        ("CreateSecret",
         json!({"Name": "leak-6", "ClientRequestToken": TOKEN_2,
                "SecretBinary": format!("{marker_b64}!{MARKER}")}).to_string(),
         "SerializationException"),
        ("CreateSecret",
         json!({"Name": "leak-7", "SecretString": MARKER}).to_string(),
         "InvalidRequestException"),
        ("CreateSecret",
         json!({"Name": "leak-8", "ClientRequestToken": TOKEN_2, "SecretString": MARKER,
                "SecretBinary": marker_b64}).to_string(),
         "InvalidParameterException"),
        ("CreateSecret",
         json!({"Name": "leak-target", "ClientRequestToken": TOKEN_1, "SecretString": MARKER}).to_string(),
         "ResourceExistsException"),
        ("PutSecretValue",
         json!({"SecretId": "leak-missing", "ClientRequestToken": TOKEN_2, "SecretString": MARKER}).to_string(),
         "ResourceNotFoundException"),
        ("PutSecretValue",
         json!({"SecretId": "leak-target", "ClientRequestToken": TOKEN_1, "SecretString": MARKER}).to_string(),
         "ResourceExistsException"),
        ("PutSecretValue",
         json!({"SecretId": "leak-target", "ClientRequestToken": TOKEN_3, "SecretBinary": "",
                "SecretString": MARKER, "VersionStages": []}).to_string(),
         "ValidationException"),
        ("UpdateSecret",
         json!({"SecretId": "leak-target", "ClientRequestToken": "x", "SecretString": MARKER}).to_string(),
         "ValidationException"),
        ("UpdateSecret",
         json!({"SecretId": "bad name", "ClientRequestToken": TOKEN_3, "SecretString": MARKER}).to_string(),
         "ValidationException"),
        ("FlyToTheMoon",
         json!({"SecretString": MARKER}).to_string(),
         "UnknownOperationException"),
    ];
    let check = |r: &RawResponse, what: &str| {
        let text = body_text(r);
        for needle in [MARKER, marker_b64.as_str()] {
            assert!(
                !text.contains(needle),
                "{what}: body echoes the secret: {text}"
            );
            for (name, value) in &r.headers {
                assert!(
                    !value.contains(needle),
                    "{what}: header {name} echoes the secret"
                );
            }
        }
    };
    for (op, body, code) in &cases {
        let r = call_bytes(&s, op, body.as_bytes()).await;
        let what = format!("{op} -> {code}");
        assert_error(&r, code, &what);
        check(&r, &what);
    }
    // Authentication failures, whose messages quote the canonical request.
    let body = json!({"Name": "leak-9", "ClientRequestToken": TOKEN_2, "SecretString": MARKER})
        .to_string();
    for (signing, code) in [
        (
            Signing {
                secret_key: "wrong",
                ..Signing::default()
            },
            "InvalidSignatureException",
        ),
        (
            Signing {
                skew_ms: -3_600_000,
                ..Signing::default()
            },
            "InvalidSignatureException",
        ),
        (
            Signing {
                access_key: "AKIANOBODY",
                ..Signing::default()
            },
            "UnrecognizedClientException",
        ),
    ] {
        let r = s
            .raw_with(
                Some("secretsmanager.CreateSecret"),
                body.as_bytes(),
                &signing,
            )
            .await;
        assert_error(&r, code, code);
        check(&r, code);
    }
    // The secret's stored value is unchanged, and no other secret exists.
    assert_eq!(all_names(&s).await, ["leak-target"]);
    let got = ok(&s, "GetSecretValue", json!({"SecretId": "leak-target"})).await;
    assert_eq!(got["SecretString"], "orig");
    assert_eq!(got["VersionId"], TOKEN_1);
}
