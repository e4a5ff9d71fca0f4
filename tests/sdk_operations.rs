//! CreateSecret, DescribeSecret, GetSecretValue, UpdateSecret, Tag/UntagResource,
//! GetRandomPassword, regions and authentication, driven by the official AWS SDK for Rust.
//! Every assertion is AWS's documented behaviour (docs/reference), not the implementation's.

mod common;

use aws_sdk_secretsmanager::primitives::Blob;
use common::sdk::*;
use common::{ACCOUNT, TestServer, unique};
use strongbox::clock::Clock;

// ---------------------------------------------------------------------------------------------
// CreateSecret
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_string_secret_returns_arn_name_and_version() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("create-string");
    let out = client
        .create_secret()
        .name(&name)
        .secret_string("hunter2")
        .send()
        .await
        .unwrap();
    let arn = out.arn().unwrap();
    let prefix = format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{name}-");
    assert!(arn.starts_with(&prefix), "{arn}");
    let suffix = &arn[prefix.len()..];
    assert_eq!(suffix.len(), 6, "{arn}");
    assert!(suffix.bytes().all(|b| b.is_ascii_alphanumeric()), "{arn}");
    assert_eq!(out.name(), Some(name.as_str()));
    let version = out.version_id().unwrap();
    assert!((32..=64).contains(&version.len()), "{version}");

    let got = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some("hunter2"));
    assert!(got.secret_binary().is_none());
    assert_eq!(got.version_id(), Some(version));
    assert_eq!(got.arn(), Some(arn));
    assert_eq!(got.name(), Some(name.as_str()));
    assert_eq!(got.version_stages(), ["AWSCURRENT"]);
    assert!(got.created_date().is_some());
}

#[tokio::test]
async fn create_binary_secret_round_trips_raw_bytes() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("create-binary");
    // Not valid UTF-8, with NULs and high bytes: must come back byte for byte.
    let bytes: Vec<u8> = vec![0x00, 0xff, 0xfe, 0x80, 0x01, 0x00, b'{', 0xc3, 0x28, 0x7f];
    client
        .create_secret()
        .name(&name)
        .secret_binary(Blob::new(bytes.clone()))
        .send()
        .await
        .unwrap();
    let got = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.secret_binary().map(|b| b.as_ref()),
        Some(bytes.as_slice())
    );
    assert!(got.secret_string().is_none());
}

#[tokio::test]
async fn create_without_value_has_no_version() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("create-empty");
    let out = client.create_secret().name(&name).send().await.unwrap();
    assert!(out.arn().is_some());
    assert_eq!(out.name(), Some(name.as_str()));
    assert!(out.version_id().is_none(), "no value -> no VersionId");

    let described = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert!(
        described.version_ids_to_stages.is_none(),
        "no versions -> no VersionIdsToStages: {:?}",
        described.version_ids_to_stages
    );
    let versions = client
        .list_secret_version_ids()
        .secret_id(&name)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert!(versions.versions().is_empty());
    assert_err(
        client.get_secret_value().secret_id(&name).send().await,
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
    );
}

#[tokio::test]
async fn create_with_tags_and_description() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("create-tags");
    client
        .create_secret()
        .name(&name)
        .secret_string("v")
        .description("the database password")
        .tags(tag("env", "prod"))
        .tags(tag("team", "payments"))
        .send()
        .await
        .unwrap();
    let d = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(d.description(), Some("the database password"));
    let mut tags: Vec<(String, String)> = d
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        vec![
            ("env".to_string(), "prod".to_string()),
            ("team".to_string(), "payments".to_string())
        ]
    );
}

#[tokio::test]
async fn create_duplicate_name_is_resource_exists() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("create-dup");
    create(&client, &name, "one").await;
    assert_err(
        client
            .create_secret()
            .name(&name)
            .secret_string("two")
            .send()
            .await,
        "ResourceExistsException",
        &format!("The operation failed because the secret {name} already exists."),
    );
    // The original value is untouched.
    let got = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some("one"));
}

#[tokio::test]
async fn create_replay_with_same_token_and_value_is_idempotent() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("create-replay");
    let tok = token();
    let first = client
        .create_secret()
        .name(&name)
        .client_request_token(&tok)
        .secret_string("same")
        .send()
        .await
        .unwrap();
    let second = client
        .create_secret()
        .name(&name)
        .client_request_token(&tok)
        .secret_string("same")
        .send()
        .await
        .unwrap();
    assert_eq!(first.arn(), second.arn());
    assert_eq!(first.name(), second.name());
    assert_eq!(first.version_id(), Some(tok.as_str()));
    assert_eq!(second.version_id(), Some(tok.as_str()));
    assert_eq!(stages(&client, &name).await.len(), 1, "still one version");
}

#[tokio::test]
async fn create_replay_with_same_token_different_value_is_resource_exists() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("create-replay-diff");
    let tok = token();
    let first = client
        .create_secret()
        .name(&name)
        .client_request_token(&tok)
        .secret_string("original")
        .send()
        .await
        .unwrap();
    let arn = first.arn().unwrap();
    assert_err(
        client
            .create_secret()
            .name(&name)
            .client_request_token(&tok)
            .secret_string("different")
            .send()
            .await,
        "ResourceExistsException",
        &format!(
            "You can't use ClientRequestToken {tok} because that value is already in use for a \
             version of secret {arn}."
        ),
    );
}

#[tokio::test]
async fn create_with_invalid_name_characters_is_validation_exception() {
    let server = TestServer::start().await;
    let client = server.client();
    for bad in ["has space", "hash#tag", "semi;colon", "star*", "quote'"] {
        let name = format!("{}{bad}", unique("bad"));
        assert_err(
            client
                .create_secret()
                .name(&name)
                .secret_string("v")
                .send()
                .await,
            "ValidationException",
            INVALID_NAME,
        );
    }
    // The same rule applies to a non-ARN SecretId of any operation.
    assert_err(
        client
            .get_secret_value()
            .secret_id("no such#secret")
            .send()
            .await,
        "ValidationException",
        INVALID_NAME,
    );
    // Every allowed punctuation character is accepted.
    let ok = format!("{}/_+=.@-", unique("ok"));
    create(&client, &ok, "v").await;
}

#[tokio::test]
async fn create_with_both_string_and_binary_is_invalid_parameter() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("create-both");
    assert_code(
        client
            .create_secret()
            .name(&name)
            .secret_string("s")
            .secret_binary(Blob::new(vec![1, 2, 3]))
            .send()
            .await,
        "InvalidParameterException",
    );
    assert_err(
        client.describe_secret().secret_id(&name).send().await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
}

// ---------------------------------------------------------------------------------------------
// DescribeSecret
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn describe_omits_fields_without_a_value() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("describe-fresh");
    let (arn, version) = create(&client, &name, "v").await;
    let now = server.clock.now_millis();
    let d = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(d.arn(), Some(arn.as_str()));
    assert_eq!(d.name(), Some(name.as_str()));
    assert!(d.kms_key_id.is_none(), "default key -> no KmsKeyId");
    assert!(d.tags.is_none(), "never tagged -> no Tags");
    assert!(d.description.is_none());
    assert!(
        d.last_accessed_date.is_none(),
        "never read -> no LastAccessedDate"
    );
    assert!(d.deleted_date.is_none());
    assert!(d.rotation_enabled.is_none());
    assert!(d.rotation_lambda_arn.is_none());
    assert!(d.rotation_rules.is_none());
    assert!(d.last_rotated_date.is_none());
    assert!(d.next_rotation_date.is_none());
    assert!(d.owning_service.is_none());
    assert!(d.primary_region.is_none());
    assert!(d.replication_status.is_none());
    assert_millis_eq(millis(d.created_date()), now);
    assert_millis_eq(millis(d.last_changed_date()), now);
    assert_eq!(
        sorted_map(d.version_ids_to_stages.clone().unwrap()),
        [(version, strings(&["AWSCURRENT"]))].into_iter().collect()
    );
}

#[tokio::test]
async fn describe_last_accessed_date_is_day_truncated_after_a_read() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("describe-accessed");
    create(&client, &name, "v").await;
    // Move to the middle of a day so truncation is visible.
    server.clock.advance(DAY_MS / 2 + 12_345);
    client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    let now = server.clock.now_millis();
    let midnight = now - now.rem_euclid(DAY_MS);
    let d = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(millis(d.last_accessed_date()), midnight);

    // A read on a later day moves it to that day's midnight.
    server.clock.advance(2 * DAY_MS);
    client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    let d = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(millis(d.last_accessed_date()), midnight + 2 * DAY_MS);
}

#[tokio::test]
async fn describe_tags_empty_list_after_last_untag() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("describe-untag");
    create(&client, &name, "v").await;
    client
        .tag_resource()
        .secret_id(&name)
        .tags(tag("k", "v"))
        .send()
        .await
        .unwrap();
    client
        .untag_resource()
        .secret_id(&name)
        .tag_keys("k")
        .send()
        .await
        .unwrap();
    let d = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.tags.as_deref(),
        Some(&[][..]),
        "Tags: [] after the last untag"
    );
}

#[tokio::test]
async fn describe_shows_deleted_date_after_delete() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("describe-deleted");
    create(&client, &name, "v").await;
    server.clock.advance(5_000);
    let now = server.clock.now_millis();
    client
        .delete_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    let d = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_millis_eq(millis(d.deleted_date()), now);
}

#[tokio::test]
async fn describe_unknown_secret_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_err(
        client
            .describe_secret()
            .secret_id(unique("missing"))
            .send()
            .await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
}

// ---------------------------------------------------------------------------------------------
// GetSecretValue
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_by_name_full_arn_and_partial_arn() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("get-ids");
    let (arn, version) = create(&client, &name, "value").await;
    let partial = &arn[..arn.len() - 7];
    assert!(partial.ends_with(&name));
    for id in [name.as_str(), arn.as_str(), partial] {
        let got = client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .unwrap();
        assert_eq!(got.secret_string(), Some("value"), "{id}");
        assert_eq!(got.arn(), Some(arn.as_str()), "{id}");
        assert_eq!(got.version_id(), Some(version.as_str()), "{id}");
    }
    // A full ARN with the wrong suffix names nothing.
    let wrong = format!("{partial}-ZZZZZZ");
    if wrong != arn {
        assert_err(
            client.get_secret_value().secret_id(&wrong).send().await,
            "ResourceNotFoundException",
            NOT_FOUND,
        );
    }
}

#[tokio::test]
async fn get_by_version_id_stage_and_previous() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("get-versions");
    let (_, v1) = create(&client, &name, "one").await;
    let v2 = put(&client, &name, "two").await;

    let current = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(current.secret_string(), Some("two"));
    assert_eq!(current.version_id(), Some(v2.as_str()));

    let by_stage = client
        .get_secret_value()
        .secret_id(&name)
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    assert_eq!(by_stage.secret_string(), Some("one"));
    assert_eq!(by_stage.version_id(), Some(v1.as_str()));
    assert_eq!(by_stage.version_stages(), ["AWSPREVIOUS"]);

    let by_id = client
        .get_secret_value()
        .secret_id(&name)
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.secret_string(), Some("one"));

    let both = client
        .get_secret_value()
        .secret_id(&name)
        .version_id(&v2)
        .version_stage("AWSCURRENT")
        .send()
        .await
        .unwrap();
    assert_eq!(both.secret_string(), Some("two"));
}

#[tokio::test]
async fn get_with_mismatched_version_id_and_stage_is_invalid_request() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("get-mismatch");
    let (_, v1) = create(&client, &name, "one").await;
    put(&client, &name, "two").await;
    assert_err(
        client
            .get_secret_value()
            .secret_id(&name)
            .version_id(&v1)
            .version_stage("AWSCURRENT")
            .send()
            .await,
        "InvalidRequestException",
        "You provided a VersionStage that is not associated to the provided VersionId.",
    );
}

#[tokio::test]
async fn get_unknown_version_or_stage_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("get-unknown-version");
    create(&client, &name, "one").await;
    let missing = token();
    assert_err(
        client
            .get_secret_value()
            .secret_id(&name)
            .version_id(&missing)
            .send()
            .await,
        "ResourceNotFoundException",
        &format!("Secrets Manager can't find the specified secret value for VersionId: {missing}"),
    );
    assert_err(
        client
            .get_secret_value()
            .secret_id(&name)
            .version_stage("AWSPREVIOUS")
            .send()
            .await,
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
    );
    assert_err(
        client
            .get_secret_value()
            .secret_id(unique("nope"))
            .send()
            .await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
}

// ---------------------------------------------------------------------------------------------
// UpdateSecret
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn update_metadata_only_returns_no_version_id() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("update-meta");
    let (arn, v1) = create(&client, &name, "v").await;
    let out = client
        .update_secret()
        .secret_id(&name)
        .description("new description")
        .send()
        .await
        .unwrap();
    assert_eq!(out.arn(), Some(arn.as_str()));
    assert_eq!(out.name(), Some(name.as_str()));
    assert!(
        out.version_id().is_none(),
        "metadata-only update -> no VersionId"
    );
    let d = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(d.description(), Some("new description"));
    assert_eq!(
        sorted_map(d.version_ids_to_stages.clone().unwrap()),
        [(v1, strings(&["AWSCURRENT"]))].into_iter().collect(),
        "no new version"
    );
}

#[tokio::test]
async fn update_with_value_makes_new_current() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("update-value");
    let (_, v1) = create(&client, &name, "one").await;
    let tok = token();
    let out = client
        .update_secret()
        .secret_id(&name)
        .client_request_token(&tok)
        .secret_string("two")
        .send()
        .await
        .unwrap();
    assert_eq!(out.version_id(), Some(tok.as_str()));
    let got = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some("two"));
    assert_eq!(
        stages(&client, &name).await,
        [
            (v1.clone(), strings(&["AWSPREVIOUS"])),
            (tok.clone(), strings(&["AWSCURRENT"]))
        ]
        .into_iter()
        .collect()
    );
    // A replay with the same token and value succeeds and echoes the version.
    let replay = client
        .update_secret()
        .secret_id(&name)
        .client_request_token(&tok)
        .secret_string("two")
        .send()
        .await
        .unwrap();
    assert_eq!(replay.version_id(), Some(tok.as_str()));
    // The same token with another value is refused.
    let arn = out.arn().unwrap();
    assert_err(
        client
            .update_secret()
            .secret_id(&name)
            .client_request_token(&tok)
            .secret_string("three")
            .send()
            .await,
        "ResourceExistsException",
        &format!(
            "You can't use ClientRequestToken {tok} because that value is already in use for a \
             version of secret {arn}."
        ),
    );
}

#[tokio::test]
async fn update_binary_value() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("update-binary");
    create(&client, &name, "text").await;
    client
        .update_secret()
        .secret_id(&name)
        .secret_binary(Blob::new(vec![0u8, 159, 146, 150]))
        .send()
        .await
        .unwrap();
    let got = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.secret_binary().map(|b| b.as_ref()),
        Some(&[0u8, 159, 146, 150][..])
    );
    assert!(got.secret_string().is_none());
}

#[tokio::test]
async fn update_unknown_secret_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_err(
        client
            .update_secret()
            .secret_id(unique("missing"))
            .description("x")
            .send()
            .await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
}

// ---------------------------------------------------------------------------------------------
// TagResource / UntagResource
// ---------------------------------------------------------------------------------------------

async fn tag_pairs(client: &aws_sdk_secretsmanager::Client, id: &str) -> Vec<(String, String)> {
    let d = client.describe_secret().secret_id(id).send().await.unwrap();
    let mut tags: Vec<(String, String)> = d
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    tags.sort();
    tags
}

#[tokio::test]
async fn tag_resource_appends_and_overwrites_by_key() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("tags");
    create(&client, &name, "v").await;
    client
        .tag_resource()
        .secret_id(&name)
        .tags(tag("env", "dev"))
        .tags(tag("owner", "alice"))
        .send()
        .await
        .unwrap();
    client
        .tag_resource()
        .secret_id(&name)
        .tags(tag("env", "prod"))
        .tags(tag("Env", "case-sensitive"))
        .send()
        .await
        .unwrap();
    let pairs: Vec<(&str, &str)> = vec![
        ("Env", "case-sensitive"),
        ("env", "prod"),
        ("owner", "alice"),
    ];
    let expected: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    assert_eq!(tag_pairs(&client, &name).await, expected);
}

#[tokio::test]
async fn untag_resource_removes_keys_and_ignores_missing_ones() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("untag");
    let (arn, _) = create(&client, &name, "v").await;
    client
        .tag_resource()
        .secret_id(&arn)
        .tags(tag("a", "1"))
        .tags(tag("b", "2"))
        .send()
        .await
        .unwrap();
    client
        .untag_resource()
        .secret_id(&name)
        .tag_keys("a")
        .tag_keys("does-not-exist")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tag_pairs(&client, &name).await,
        vec![("b".to_string(), "2".to_string())]
    );
    // Untagging a secret that has no such key at all is fine too.
    client
        .untag_resource()
        .secret_id(&name)
        .tag_keys("never-there")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn tag_and_untag_unknown_secret_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let missing = unique("missing");
    assert_err(
        client
            .tag_resource()
            .secret_id(&missing)
            .tags(tag("a", "b"))
            .send()
            .await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
    assert_err(
        client
            .untag_resource()
            .secret_id(&missing)
            .tag_keys("a")
            .send()
            .await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
}

// ---------------------------------------------------------------------------------------------
// GetRandomPassword
// ---------------------------------------------------------------------------------------------

const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

fn is_punct(c: char) -> bool {
    PUNCTUATION.contains(c)
}

async fn password(
    b: aws_sdk_secretsmanager::operation::get_random_password::builders::GetRandomPasswordFluentBuilder,
) -> String {
    b.send()
        .await
        .unwrap()
        .random_password()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn random_password_defaults() {
    let server = TestServer::start().await;
    let client = server.client();
    for _ in 0..20 {
        let p = password(client.get_random_password()).await;
        assert_eq!(p.chars().count(), 32, "{p}");
        assert!(
            p.chars().all(|c| c.is_ascii_alphanumeric() || is_punct(c)),
            "default alphabet, no space: {p}"
        );
        // RequireEachIncludedType defaults to true.
        assert!(p.chars().any(|c| c.is_ascii_lowercase()), "{p}");
        assert!(p.chars().any(|c| c.is_ascii_uppercase()), "{p}");
        assert!(p.chars().any(|c| c.is_ascii_digit()), "{p}");
        assert!(p.chars().any(is_punct), "{p}");
    }
}

#[tokio::test]
async fn random_password_length() {
    let server = TestServer::start().await;
    let client = server.client();
    for len in [4i64, 17, 100, 4096] {
        let p = password(client.get_random_password().password_length(len)).await;
        assert_eq!(p.chars().count() as i64, len);
    }
    let p = password(
        client
            .get_random_password()
            .password_length(1)
            .require_each_included_type(false),
    )
    .await;
    assert_eq!(p.chars().count(), 1);
    assert_code(
        client
            .get_random_password()
            .password_length(4097)
            .send()
            .await,
        "ValidationException",
    );
}

#[tokio::test]
async fn random_password_exclusion_flags() {
    let server = TestServer::start().await;
    let client = server.client();
    for _ in 0..5 {
        let p = password(
            client
                .get_random_password()
                .password_length(200)
                .exclude_numbers(true),
        )
        .await;
        assert!(!p.chars().any(|c| c.is_ascii_digit()), "{p}");
        let p = password(
            client
                .get_random_password()
                .password_length(200)
                .exclude_punctuation(true),
        )
        .await;
        assert!(p.chars().all(|c| c.is_ascii_alphanumeric()), "{p}");
        let p = password(
            client
                .get_random_password()
                .password_length(200)
                .exclude_uppercase(true),
        )
        .await;
        assert!(!p.chars().any(|c| c.is_ascii_uppercase()), "{p}");
        let p = password(
            client
                .get_random_password()
                .password_length(200)
                .exclude_lowercase(true),
        )
        .await;
        assert!(!p.chars().any(|c| c.is_ascii_lowercase()), "{p}");
    }
    // Everything but digits excluded: only digits remain.
    let p = password(
        client
            .get_random_password()
            .password_length(50)
            .exclude_punctuation(true)
            .exclude_uppercase(true)
            .exclude_lowercase(true),
    )
    .await;
    assert!(p.chars().all(|c| c.is_ascii_digit()), "{p}");
}

#[tokio::test]
async fn random_password_include_space() {
    let server = TestServer::start().await;
    let client = server.client();
    // Five required types in five characters: each must appear exactly once, space included.
    for _ in 0..10 {
        let p = password(
            client
                .get_random_password()
                .password_length(5)
                .include_space(true),
        )
        .await;
        assert_eq!(p.chars().count(), 5);
        assert_eq!(p.chars().filter(|c| *c == ' ').count(), 1, "{p:?}");
    }
}

#[tokio::test]
async fn random_password_require_each_included_type() {
    let server = TestServer::start().await;
    let client = server.client();
    // Four types in four characters: one of each, every time.
    for _ in 0..25 {
        let p = password(
            client
                .get_random_password()
                .password_length(4)
                .require_each_included_type(true),
        )
        .await;
        assert!(p.chars().any(|c| c.is_ascii_lowercase()), "{p}");
        assert!(p.chars().any(|c| c.is_ascii_uppercase()), "{p}");
        assert!(p.chars().any(|c| c.is_ascii_digit()), "{p}");
        assert!(p.chars().any(is_punct), "{p}");
    }
}

#[tokio::test]
async fn random_password_exclude_characters() {
    let server = TestServer::start().await;
    let client = server.client();
    let excluded = "abcdefghijklmABCDEFGHIJKLM012345!\"#$%&'()*+,-./";
    for _ in 0..5 {
        let p = password(
            client
                .get_random_password()
                .password_length(300)
                .exclude_characters(excluded),
        )
        .await;
        assert!(!p.chars().any(|c| excluded.contains(c)), "{p}");
        assert_eq!(p.chars().count(), 300);
    }
}

#[tokio::test]
async fn random_password_too_short_for_required_types() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_code(
        client.get_random_password().password_length(3).send().await,
        "InvalidParameterException",
    );
    assert_code(
        client
            .get_random_password()
            .password_length(4)
            .include_space(true)
            .send()
            .await,
        "InvalidParameterException",
    );
}

// ---------------------------------------------------------------------------------------------
// Regions and authentication
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn same_name_in_two_regions_is_two_secrets() {
    let server = TestServer::start().await;
    let east = server.client_in("us-east-1");
    let west = server.client_in("eu-west-1");
    let name = unique("regional");
    let (east_arn, _) = create(&east, &name, "east value").await;
    let (west_arn, _) = create(&west, &name, "west value").await;
    assert!(east_arn.starts_with(&format!(
        "arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:"
    )));
    assert!(west_arn.starts_with(&format!(
        "arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:"
    )));
    let e = east
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    let w = west
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(e.secret_string(), Some("east value"));
    assert_eq!(w.secret_string(), Some("west value"));

    // Listing is per region.
    let east_list = east.list_secrets().send().await.unwrap();
    let arns: Vec<&str> = east_list
        .secret_list()
        .iter()
        .filter_map(|s| s.arn())
        .collect();
    assert_eq!(arns, vec![east_arn.as_str()]);

    // Deleting one leaves the other.
    east.delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    assert_err(
        east.get_secret_value().secret_id(&name).send().await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
    let w = west
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(w.secret_string(), Some("west value"));
}

#[tokio::test]
async fn arn_of_another_region_is_not_found() {
    let server = TestServer::start().await;
    let east = server.client_in("us-east-1");
    let west = server.client_in("eu-west-1");
    let name = unique("west-only");
    let (west_arn, _) = create(&west, &name, "v").await;
    assert_err(
        east.get_secret_value().secret_id(&west_arn).send().await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
    assert_err(
        east.describe_secret().secret_id(&west_arn).send().await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
}

#[tokio::test]
async fn unknown_access_key_is_unrecognized_client() {
    let server = TestServer::start().await;
    let client = server.client_with("us-east-1", "AKIAUNKNOWNKEY000000", "whatever");
    assert_err(
        client.list_secrets().send().await,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    );
}

#[tokio::test]
async fn wrong_secret_key_is_invalid_signature() {
    let server = TestServer::start().await;
    let client = server.client_with("us-east-1", common::ACCESS_KEY, "not-the-secret");
    let message = assert_code(
        client.list_secrets().send().await,
        "InvalidSignatureException",
    );
    assert!(
        message.starts_with(
            "The request signature we calculated does not match the signature you provided."
        ),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------------
// Identifier edge cases and model constraints
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn partial_arn_of_a_name_ending_like_a_suffix_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    // A name ending in '-' plus 6 characters is allowed, but its partial ARN looks like a full
    // ARN, so AWS does not resolve it.
    let name = format!("{}-a1b2c3", unique("ambiguous"));
    let (arn, _) = create(&client, &name, "v").await;
    let partial = &arn[..arn.len() - 7];
    assert!(partial.ends_with("-a1b2c3"));
    assert_err(
        client.get_secret_value().secret_id(partial).send().await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
    // The name and the full ARN still work.
    for id in [name.as_str(), arn.as_str()] {
        let got = client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .unwrap();
        assert_eq!(got.secret_string(), Some("v"));
    }
}

#[tokio::test]
async fn oversized_members_are_validation_errors() {
    let server = TestServer::start().await;
    let client = server.client();
    // Name: at most 512 characters.
    let long_name = "n".repeat(513);
    assert_code(
        client
            .create_secret()
            .name(&long_name)
            .secret_string("v")
            .send()
            .await,
        "ValidationException",
    );
    // SecretString and SecretBinary: at most 65,536 (bytes).
    let name = unique("oversize");
    assert_code(
        client
            .create_secret()
            .name(&name)
            .secret_string("x".repeat(65_537))
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        client
            .create_secret()
            .name(&name)
            .secret_binary(Blob::new(vec![7u8; 65_537]))
            .send()
            .await,
        "ValidationException",
    );
    // Exactly at the limit is fine, and round-trips.
    let max = "y".repeat(65_536);
    create(&client, &name, &max).await;
    let got = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string().map(str::len), Some(65_536));
    // Description: at most 2048.
    assert_code(
        client
            .update_secret()
            .secret_id(&name)
            .description("d".repeat(2049))
            .send()
            .await,
        "ValidationException",
    );
}

#[tokio::test]
async fn get_secret_value_missing_secret_id_is_validation_error() {
    let server = TestServer::start().await;
    let client = server.client();
    let (code, message) = service_err(client.get_secret_value().send().await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: \
         Member must not be null"
    );
}

// ---------------------------------------------------------------------------------------------
// Raw requests: what the SDK hides (it always fills ClientRequestToken in)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn raw_requests_without_client_request_token_are_refused() {
    let server = TestServer::start().await;
    let msg = "You must provide a ClientRequestToken value. We recommend a UUID-type value.";
    let missing = unique("raw-missing");
    for (target, body) in [
        (
            "secretsmanager.CreateSecret",
            format!(r#"{{"Name":"{missing}","SecretString":"v"}}"#),
        ),
        (
            "secretsmanager.PutSecretValue",
            format!(r#"{{"SecretId":"{missing}","SecretString":"v"}}"#),
        ),
        (
            "secretsmanager.UpdateSecret",
            format!(r#"{{"SecretId":"{missing}","SecretString":"v"}}"#),
        ),
    ] {
        let resp = server.raw(target, &body).await;
        assert_eq!(resp.status, 400, "{target}");
        let json = resp.json();
        assert_eq!(
            json["__type"], "InvalidRequestException",
            "{target}: {json}"
        );
        assert_eq!(json["Message"], msg, "{target}: {json}");
    }
}

#[tokio::test]
async fn raw_modeled_errors_use_capital_message_and_status_400() {
    let server = TestServer::start().await;
    let resp = server
        .raw(
            "secretsmanager.DescribeSecret",
            &format!(r#"{{"SecretId":"{}"}}"#, unique("raw-nf")),
        )
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.header("x-amzn-errortype"),
        Some("ResourceNotFoundException")
    );
    assert!(resp.header("x-amzn-requestid").is_some());
    let json = resp.json();
    assert_eq!(json["__type"], "ResourceNotFoundException");
    assert_eq!(json["Message"], NOT_FOUND);
}
