//! Golden tests of raw wire responses: for every operation and every error type, the status
//! code, the headers clients read (`Content-Type`, `x-amzn-ErrorType`, `x-amzn-RequestId`,
//! `Content-Length`) and the JSON body, as insta snapshots in `tests/snapshots/`.
//!
//! Everything volatile is pinned or redacted so the snapshots are byte-stable:
//! - the server's manual clock is set to a fixed instant (with non-zero milliseconds, so the
//!   snapshots show the `1704110400.123` epoch-seconds format) and never moves, so dates are
//!   deterministic and stay visible;
//! - ClientRequestTokens (hence VersionIds) and names are fixed;
//! - the random six-character ARN suffix is redacted to `######` (after checking its form),
//!   in `ARN` members and in messages that quote an ARN;
//! - `RandomPassword` is redacted to its length;
//! - `x-amzn-RequestId` is shown as `[uuid]` when it is a UUID (its value otherwise);
//! - signed requests whose message quotes the canonical request use a fixed `Host` header.
//!
//! Each snapshot also records the request (target and body), so it reads on its own against
//! the reference (`aws-api.md` §1, §2, §6).

mod common;

use common::{RawResponse, Signing, TestServer};
use http::HeaderMap;
use insta::internals::Content;
use serde_json::{Value, json};

/// 2024-01-01T12:00:00.123Z.
const NOW: i64 = 1_704_110_400_123;
const TOKEN_1: &str = "11111111-1111-4111-8111-111111111111";
const TOKEN_2: &str = "22222222-2222-4222-8222-222222222222";
const TOKEN_3: &str = "33333333-3333-4333-8333-333333333333";
const SM: &str = "secretsmanager.";

/// A server whose clock is pinned at [`NOW`].
async fn server() -> TestServer {
    let server = TestServer::start().await;
    server.clock.set(NOW);
    server
}

/// Replaces the six random characters that end every secret ARN in `text` with `######`.
/// A suffix that is not six ASCII alphanumerics is left alone, so the snapshot shows it.
fn redact_arn_suffixes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(":secret:") {
        let start = pos + ":secret:".len();
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let len = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)))
            .unwrap_or(tail.len());
        // A sentence may end right after the ARN.
        let arn_part = tail[..len].trim_end_matches('.');
        let n = arn_part.len();
        let suffix_ok = n > 7
            && arn_part.as_bytes()[n - 7] == b'-'
            && arn_part[n - 6..].bytes().all(|b| b.is_ascii_alphanumeric());
        if suffix_ok {
            out.push_str(&arn_part[..n - 6]);
            out.push_str("######");
        } else {
            out.push_str(arn_part);
        }
        rest = &tail[arn_part.len()..];
    }
    out.push_str(rest);
    out
}

fn redact_arn_content(value: Content) -> Content {
    match value.as_str() {
        Some(s) => Content::from(redact_arn_suffixes(s)),
        None => value,
    }
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(true);
    s.set_omit_expression(true);
    s.add_dynamic_redaction(".response.body.**.ARN", |v, _| redact_arn_content(v));
    s.add_dynamic_redaction(".response.body.Message", |v, _| redact_arn_content(v));
    s.add_dynamic_redaction(".response.body.Errors[].Message", |v, _| {
        redact_arn_content(v)
    });
    s.add_dynamic_redaction(".response.body.RandomPassword", |v, _| match v.as_str() {
        Some(p) => Content::from(format!("[random password, {} chars]", p.chars().count())),
        None => v,
    });
    s
}

/// The parts of a response that clients read.
fn response_view(r: &RawResponse) -> Value {
    let body = if r.body.is_empty() {
        Value::String(String::new())
    } else {
        serde_json::from_slice(&r.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&r.body).into_owned()))
    };
    let request_id = r.header("x-amzn-requestid").map(|v| {
        if uuid::Uuid::parse_str(v).is_ok() {
            "[uuid]".to_string()
        } else {
            v.to_string()
        }
    });
    json!({
        "status": r.status,
        "headers": {
            "content-type": r.header("content-type"),
            "content-length": r.header("content-length"),
            "x-amzn-ErrorType": r.header("x-amzn-errortype"),
            "x-amzn-RequestId": request_id,
        },
        "body": body,
    })
}

/// Snapshots `request` (a description) with the response.
fn snap(name: &str, request: Value, response: &RawResponse) {
    snap_volatile(name, request, response, &[]);
}

/// [`snap`], with the members at `volatile` selectors redacted as well.
fn snap_volatile(name: &str, request: Value, response: &RawResponse, volatile: &[&str]) {
    let view = json!({ "request": request, "response": response_view(response) });
    let mut settings = settings();
    for selector in volatile {
        settings.add_redaction(selector, "[volatile]");
    }
    settings.bind(|| insta::assert_json_snapshot!(name, view));
}

/// Sends a signed request for `op` with `body`, snapshots it, and returns the response.
async fn golden(server: &TestServer, name: &str, op: &str, body: Value) -> RawResponse {
    let text = body.to_string();
    let response = server.raw(&format!("{SM}{op}"), &text).await;
    snap(
        name,
        json!({ "target": format!("{SM}{op}"), "body": body }),
        &response,
    );
    response
}

/// Sends a signed request without snapshotting it; it must succeed.
async fn setup(server: &TestServer, op: &str, body: Value) -> Value {
    let response = server.raw(&format!("{SM}{op}"), &body.to_string()).await;
    assert_eq!(
        response.status,
        200,
        "{op} {body}: {}",
        String::from_utf8_lossy(&response.body)
    );
    response.json()
}

async fn create(server: &TestServer, name: &str, token: &str, value: &str) -> Value {
    setup(
        server,
        "CreateSecret",
        json!({"Name": name, "ClientRequestToken": token, "SecretString": value}),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// One golden per operation.

#[tokio::test]
async fn create_secret() {
    let s = server().await;
    golden(
        &s,
        "create_secret",
        "CreateSecret",
        json!({
            "Name": "golden/create",
            "ClientRequestToken": TOKEN_1,
            "Description": "a golden secret",
            "SecretString": "{\"user\":\"admin\"}",
            "Tags": [{"Key": "env", "Value": "test"}]
        }),
    )
    .await;
    // Without a value: no VersionId in the response.
    golden(
        &s,
        "create_secret_without_value",
        "CreateSecret",
        json!({"Name": "golden/empty", "ClientRequestToken": TOKEN_2}),
    )
    .await;
}

#[tokio::test]
async fn describe_secret() {
    let s = server().await;
    setup(
        &s,
        "CreateSecret",
        json!({
            "Name": "golden-describe",
            "ClientRequestToken": TOKEN_1,
            "Description": "described",
            "SecretString": "v1",
            "Tags": [{"Key": "team", "Value": "core"}, {"Key": "env", "Value": "test"}]
        }),
    )
    .await;
    setup(
        &s,
        "PutSecretValue",
        json!({"SecretId": "golden-describe", "ClientRequestToken": TOKEN_2, "SecretString": "v2"}),
    )
    .await;
    golden(
        &s,
        "describe_secret",
        "DescribeSecret",
        json!({"SecretId": "golden-describe"}),
    )
    .await;
    // A secret never tagged and without a value: no Tags, no VersionIdsToStages.
    setup(
        &s,
        "CreateSecret",
        json!({"Name": "golden-bare", "ClientRequestToken": TOKEN_3}),
    )
    .await;
    golden(
        &s,
        "describe_secret_bare",
        "DescribeSecret",
        json!({"SecretId": "golden-bare"}),
    )
    .await;
}

#[tokio::test]
async fn get_secret_value() {
    let s = server().await;
    create(&s, "golden-get", TOKEN_1, "s3cret-value").await;
    golden(
        &s,
        "get_secret_value",
        "GetSecretValue",
        json!({"SecretId": "golden-get"}),
    )
    .await;
    setup(
        &s,
        "CreateSecret",
        json!({"Name": "golden-binary", "ClientRequestToken": TOKEN_2, "SecretBinary": "AAECAwQ="}),
    )
    .await;
    golden(
        &s,
        "get_secret_value_binary",
        "GetSecretValue",
        json!({"SecretId": "golden-binary", "VersionStage": "AWSCURRENT"}),
    )
    .await;
}

#[tokio::test]
async fn batch_get_secret_value() {
    let s = server().await;
    create(&s, "golden-batch-a", TOKEN_1, "value-a").await;
    create(&s, "golden-batch-b", TOKEN_2, "value-b").await;
    golden(
        &s,
        "batch_get_secret_value",
        "BatchGetSecretValue",
        json!({"SecretIdList": ["golden-batch-a", "golden-batch-b", "golden-batch-missing"]}),
    )
    .await;
    golden(
        &s,
        "batch_get_secret_value_filters",
        "BatchGetSecretValue",
        json!({"Filters": [{"Key": "name", "Values": ["golden-batch-b"]}], "MaxResults": 5}),
    )
    .await;
}

#[tokio::test]
async fn put_secret_value() {
    let s = server().await;
    create(&s, "golden-put", TOKEN_1, "v1").await;
    golden(
        &s,
        "put_secret_value",
        "PutSecretValue",
        json!({"SecretId": "golden-put", "ClientRequestToken": TOKEN_2, "SecretString": "v2"}),
    )
    .await;
    golden(
        &s,
        "put_secret_value_stages",
        "PutSecretValue",
        json!({
            "SecretId": "golden-put",
            "ClientRequestToken": TOKEN_3,
            "SecretBinary": "AAE=",
            "VersionStages": ["PUT1", "AWSPENDING"]
        }),
    )
    .await;
}

#[tokio::test]
async fn update_secret() {
    let s = server().await;
    create(&s, "golden-update", TOKEN_1, "v1").await;
    golden(
        &s,
        "update_secret_value",
        "UpdateSecret",
        json!({"SecretId": "golden-update", "ClientRequestToken": TOKEN_2, "SecretString": "v2"}),
    )
    .await;
    golden(
        &s,
        "update_secret_metadata_only",
        "UpdateSecret",
        json!({"SecretId": "golden-update", "Description": "new description"}),
    )
    .await;
}

#[tokio::test]
async fn list_secrets() {
    let s = server().await;
    create(&s, "golden-list-a", TOKEN_1, "a").await;
    s.clock.advance(1_000);
    setup(
        &s,
        "CreateSecret",
        json!({
            "Name": "golden-list-b",
            "ClientRequestToken": TOKEN_2,
            "SecretString": "b",
            "Description": "second",
            "Tags": [{"Key": "k", "Value": "v"}]
        }),
    )
    .await;
    golden(&s, "list_secrets", "ListSecrets", json!({})).await;
    golden(
        &s,
        "list_secrets_paged",
        "ListSecrets",
        json!({"MaxResults": 1, "SortOrder": "desc"}),
    )
    .await;
}

#[tokio::test]
async fn list_secret_version_ids() {
    let s = server().await;
    create(&s, "golden-versions", TOKEN_1, "v1").await;
    s.clock.advance(1_000);
    setup(
        &s,
        "PutSecretValue",
        json!({"SecretId": "golden-versions", "ClientRequestToken": TOKEN_2, "SecretString": "v2"}),
    )
    .await;
    s.clock.advance(1_000);
    setup(
        &s,
        "PutSecretValue",
        json!({"SecretId": "golden-versions", "ClientRequestToken": TOKEN_3, "SecretString": "v3"}),
    )
    .await;
    golden(
        &s,
        "list_secret_version_ids",
        "ListSecretVersionIds",
        json!({"SecretId": "golden-versions"}),
    )
    .await;
    golden(
        &s,
        "list_secret_version_ids_deprecated",
        "ListSecretVersionIds",
        json!({"SecretId": "golden-versions", "IncludeDeprecated": true}),
    )
    .await;
    // The first version has no label left: no VersionStages key, as above.
    golden(
        &s,
        "get_secret_value_deprecated",
        "GetSecretValue",
        json!({"SecretId": "golden-versions", "VersionId": TOKEN_1}),
    )
    .await;
}

#[tokio::test]
async fn update_secret_version_stage() {
    let s = server().await;
    create(&s, "golden-stage", TOKEN_1, "v1").await;
    setup(
        &s,
        "PutSecretValue",
        json!({
            "SecretId": "golden-stage",
            "ClientRequestToken": TOKEN_2,
            "SecretString": "v2",
            "VersionStages": ["AWSPENDING"]
        }),
    )
    .await;
    golden(
        &s,
        "update_secret_version_stage",
        "UpdateSecretVersionStage",
        json!({
            "SecretId": "golden-stage",
            "VersionStage": "AWSCURRENT",
            "MoveToVersionId": TOKEN_2,
            "RemoveFromVersionId": TOKEN_1
        }),
    )
    .await;
    golden(
        &s,
        "update_secret_version_stage_describe",
        "DescribeSecret",
        json!({"SecretId": "golden-stage"}),
    )
    .await;
}

#[tokio::test]
async fn delete_secret() {
    let s = server().await;
    create(&s, "golden-delete", TOKEN_1, "v1").await;
    golden(
        &s,
        "delete_secret",
        "DeleteSecret",
        json!({"SecretId": "golden-delete", "RecoveryWindowInDays": 7}),
    )
    .await;
    golden(
        &s,
        "delete_secret_describe",
        "DescribeSecret",
        json!({"SecretId": "golden-delete"}),
    )
    .await;
    golden(
        &s,
        "delete_secret_force",
        "DeleteSecret",
        json!({"SecretId": "golden-delete", "ForceDeleteWithoutRecovery": true}),
    )
    .await;
}

#[tokio::test]
async fn restore_secret() {
    let s = server().await;
    create(&s, "golden-restore", TOKEN_1, "v1").await;
    setup(&s, "DeleteSecret", json!({"SecretId": "golden-restore"})).await;
    s.clock.advance(60_000);
    golden(
        &s,
        "restore_secret",
        "RestoreSecret",
        json!({"SecretId": "golden-restore"}),
    )
    .await;
}

#[tokio::test]
async fn tag_and_untag_resource() {
    let s = server().await;
    create(&s, "golden-tags", TOKEN_1, "v1").await;
    golden(
        &s,
        "tag_resource",
        "TagResource",
        json!({"SecretId": "golden-tags", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}]}),
    )
    .await;
    golden(
        &s,
        "untag_resource",
        "UntagResource",
        json!({"SecretId": "golden-tags", "TagKeys": ["a", "b", "never-there"]}),
    )
    .await;
    // After the last tag is removed, `Tags: []` (not absent).
    golden(
        &s,
        "untag_resource_describe",
        "DescribeSecret",
        json!({"SecretId": "golden-tags"}),
    )
    .await;
}

#[tokio::test]
async fn resource_policies() {
    let s = server().await;
    create(&s, "golden-policy", TOKEN_1, "v1").await;
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*"
        }]
    })
    .to_string();
    golden(
        &s,
        "put_resource_policy",
        "PutResourcePolicy",
        json!({"SecretId": "golden-policy", "ResourcePolicy": policy}),
    )
    .await;
    golden(
        &s,
        "get_resource_policy",
        "GetResourcePolicy",
        json!({"SecretId": "golden-policy"}),
    )
    .await;
    golden(
        &s,
        "delete_resource_policy",
        "DeleteResourcePolicy",
        json!({"SecretId": "golden-policy"}),
    )
    .await;
    // Without a policy: neither ResourcePolicy nor PolicyName.
    golden(
        &s,
        "get_resource_policy_none",
        "GetResourcePolicy",
        json!({"SecretId": "golden-policy"}),
    )
    .await;
}

#[tokio::test]
async fn get_random_password() {
    let s = server().await;
    // The default alphabet has `"` and `\`, which JSON escapes: the length varies.
    let r = s.raw("secretsmanager.GetRandomPassword", "{}").await;
    snap_volatile(
        "get_random_password",
        json!({"target": "secretsmanager.GetRandomPassword", "body": {}}),
        &r,
        &[".response.headers[\"content-length\"]"],
    );
    assert_eq!(
        r.json()["RandomPassword"].as_str().unwrap().chars().count(),
        32
    );
    let r = golden(
        &s,
        "get_random_password_options",
        "GetRandomPassword",
        json!({"PasswordLength": 12, "ExcludePunctuation": true, "IncludeSpace": true}),
    )
    .await;
    let p = r.json()["RandomPassword"].as_str().unwrap().to_string();
    assert_eq!(p.chars().count(), 12);
    assert!(
        p.chars().all(|c| c.is_ascii_alphanumeric() || c == ' '),
        "{p}"
    );
}

// ---------------------------------------------------------------------------------------------
// One golden per error type.

#[tokio::test]
async fn error_resource_not_found() {
    let s = server().await;
    golden(
        &s,
        "error_resource_not_found",
        "DescribeSecret",
        json!({"SecretId": "golden-missing"}),
    )
    .await;
    create(&s, "golden-rnf", TOKEN_1, "v1").await;
    golden(
        &s,
        "error_resource_not_found_stage",
        "GetSecretValue",
        json!({"SecretId": "golden-rnf", "VersionStage": "AWSPENDING"}),
    )
    .await;
    golden(
        &s,
        "error_resource_not_found_version",
        "GetSecretValue",
        json!({"SecretId": "golden-rnf", "VersionId": TOKEN_2}),
    )
    .await;
}

#[tokio::test]
async fn error_invalid_parameter() {
    let s = server().await;
    create(&s, "golden-ipe", TOKEN_1, "v1").await;
    golden(
        &s,
        "error_invalid_parameter",
        "DeleteSecret",
        json!({"SecretId": "golden-ipe", "RecoveryWindowInDays": 3}),
    )
    .await;
    setup(
        &s,
        "PutSecretValue",
        json!({"SecretId": "golden-ipe", "ClientRequestToken": TOKEN_2, "SecretString": "v2",
               "VersionStages": ["AWSPENDING"]}),
    )
    .await;
    golden(
        &s,
        "error_invalid_parameter_remove_from",
        "UpdateSecretVersionStage",
        json!({"SecretId": "golden-ipe", "VersionStage": "AWSCURRENT", "MoveToVersionId": TOKEN_2}),
    )
    .await;
}

#[tokio::test]
async fn error_invalid_request() {
    let s = server().await;
    golden(
        &s,
        "error_invalid_request_no_token",
        "CreateSecret",
        json!({"Name": "golden-irq", "SecretString": "v1"}),
    )
    .await;
    create(&s, "golden-irq", TOKEN_1, "v1").await;
    setup(&s, "DeleteSecret", json!({"SecretId": "golden-irq"})).await;
    golden(
        &s,
        "error_invalid_request_marked_for_deletion",
        "GetSecretValue",
        json!({"SecretId": "golden-irq"}),
    )
    .await;
}

#[tokio::test]
async fn error_resource_exists() {
    let s = server().await;
    create(&s, "golden-exists", TOKEN_1, "v1").await;
    golden(
        &s,
        "error_resource_exists",
        "CreateSecret",
        json!({"Name": "golden-exists", "ClientRequestToken": TOKEN_2, "SecretString": "v1"}),
    )
    .await;
    golden(
        &s,
        "error_resource_exists_token_in_use",
        "PutSecretValue",
        json!({"SecretId": "golden-exists", "ClientRequestToken": TOKEN_1, "SecretString": "other"}),
    )
    .await;
}

#[tokio::test]
async fn error_validation() {
    let s = server().await;
    golden(
        &s,
        "error_validation_missing_member",
        "DescribeSecret",
        json!({}),
    )
    .await;
    golden(
        &s,
        "error_validation_multiple",
        "ListSecrets",
        json!({"MaxResults": 101, "SortOrder": "up", "NextToken": ""}),
    )
    .await;
    golden(
        &s,
        "error_validation_invalid_name",
        "CreateSecret",
        json!({"Name": "bad name!", "ClientRequestToken": TOKEN_1, "SecretString": "v"}),
    )
    .await;
    golden(
        &s,
        "error_validation_password_length",
        "GetRandomPassword",
        json!({"PasswordLength": 4097}),
    )
    .await;
}

#[tokio::test]
async fn error_serialization() {
    let s = server().await;
    let body = "{\"SecretId\": ";
    let r = s.raw("secretsmanager.DescribeSecret", body).await;
    snap(
        "error_serialization_malformed",
        json!({"target": "secretsmanager.DescribeSecret", "raw_body": body}),
        &r,
    );
    golden(
        &s,
        "error_serialization_wrong_type",
        "ListSecrets",
        json!({"MaxResults": "10"}),
    )
    .await;
}

#[tokio::test]
async fn error_unknown_operation() {
    let s = server().await;
    golden(&s, "error_unknown_operation", "FlyToTheMoon", json!({})).await;
}

#[tokio::test]
async fn error_missing_authentication_token() {
    let s = server().await;
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        "application/x-amz-json-1.1".parse().unwrap(),
    );
    headers.insert(
        "x-amz-target",
        "secretsmanager.ListSecrets".parse().unwrap(),
    );
    let r = s.send("POST", "/", &headers, b"{}").await;
    snap(
        "error_missing_authentication_token",
        json!({"target": "secretsmanager.ListSecrets", "body": {}, "authorization": null}),
        &r,
    );
}

#[tokio::test]
async fn error_incomplete_signature() {
    let s = server().await;
    let authorization =
        "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/secretsmanager/aws4_request";
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        "application/x-amz-json-1.1".parse().unwrap(),
    );
    headers.insert(
        "x-amz-target",
        "secretsmanager.ListSecrets".parse().unwrap(),
    );
    headers.insert("x-amz-date", "20240101T120000Z".parse().unwrap());
    headers.insert("authorization", authorization.parse().unwrap());
    let r = s.send("POST", "/", &headers, b"{}").await;
    snap(
        "error_incomplete_signature",
        json!({"target": "secretsmanager.ListSecrets", "body": {}, "authorization": authorization}),
        &r,
    );
}

#[tokio::test]
async fn error_invalid_signature_mismatch() {
    let s = server().await;
    let signing = Signing {
        secret_key: "not-the-secret",
        host: Some("strongbox.test"),
        ..Signing::default()
    };
    let r = s
        .raw_with(Some("secretsmanager.ListSecrets"), b"{}", &signing)
        .await;
    snap(
        "error_invalid_signature_mismatch",
        json!({"target": "secretsmanager.ListSecrets", "body": {},
               "signing": "wrong secret key, Host: strongbox.test"}),
        &r,
    );
}

#[tokio::test]
async fn error_invalid_signature_expired() {
    let s = server().await;
    let signing = Signing {
        skew_ms: -20 * 60_000,
        ..Signing::default()
    };
    let r = s
        .raw_with(Some("secretsmanager.ListSecrets"), b"{}", &signing)
        .await;
    snap(
        "error_invalid_signature_expired",
        json!({"target": "secretsmanager.ListSecrets", "body": {},
               "signing": "signed 20 minutes before the server's time (2024-01-01T12:00:00.123Z)"}),
        &r,
    );
    let signing = Signing {
        skew_ms: 20 * 60_000,
        ..Signing::default()
    };
    let r = s
        .raw_with(Some("secretsmanager.ListSecrets"), b"{}", &signing)
        .await;
    snap(
        "error_invalid_signature_not_yet_current",
        json!({"target": "secretsmanager.ListSecrets", "body": {},
               "signing": "signed 20 minutes after the server's time (2024-01-01T12:00:00.123Z)"}),
        &r,
    );
}

#[tokio::test]
async fn error_invalid_signature_scope() {
    let s = server().await;
    let signing = Signing {
        region: "moon",
        ..Signing::default()
    };
    let r = s
        .raw_with(Some("secretsmanager.ListSecrets"), b"{}", &signing)
        .await;
    snap(
        "error_invalid_signature_region",
        json!({"target": "secretsmanager.ListSecrets", "body": {}, "signing": "region 'moon'"}),
        &r,
    );
    let signing = Signing {
        service: "kms",
        ..Signing::default()
    };
    let r = s
        .raw_with(Some("secretsmanager.ListSecrets"), b"{}", &signing)
        .await;
    snap(
        "error_invalid_signature_service",
        json!({"target": "secretsmanager.ListSecrets", "body": {}, "signing": "service 'kms'"}),
        &r,
    );
}

#[tokio::test]
async fn error_unrecognized_client() {
    let s = server().await;
    let signing = Signing {
        access_key: "AKIAUNKNOWNUNKNOWN00",
        ..Signing::default()
    };
    let r = s
        .raw_with(Some("secretsmanager.ListSecrets"), b"{}", &signing)
        .await;
    snap(
        "error_unrecognized_client",
        json!({"target": "secretsmanager.ListSecrets", "body": {},
               "signing": "unknown access key AKIAUNKNOWNUNKNOWN00"}),
        &r,
    );
}

#[tokio::test]
async fn error_limit_exceeded() {
    // 20 staging labels per secret: the 21st distinct label is LimitExceededException.
    let s = server().await;
    create(&s, "golden-limit", TOKEN_1, "v1").await;
    let labels: Vec<String> = (1..=19).map(|i| format!("L{i:02}")).collect();
    setup(
        &s,
        "PutSecretValue",
        json!({"SecretId": "golden-limit", "ClientRequestToken": TOKEN_2, "SecretString": "v2",
               "VersionStages": labels}),
    )
    .await;
    golden(
        &s,
        "error_limit_exceeded",
        "PutSecretValue",
        json!({"SecretId": "golden-limit", "ClientRequestToken": TOKEN_3, "SecretString": "v3",
               "VersionStages": ["ONE-TOO-MANY"]}),
    )
    .await;
}

#[tokio::test]
async fn error_invalid_next_token() {
    let s = server().await;
    golden(
        &s,
        "error_invalid_next_token",
        "ListSecrets",
        json!({"NextToken": "not-a-token"}),
    )
    .await;
}
