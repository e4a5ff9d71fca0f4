//! Versions and staging labels through the official AWS SDK for Rust: PutSecretValue,
//! UpdateSecretVersionStage and ListSecretVersionIds, asserting AWS's documented behaviour.

mod common;

use std::collections::BTreeMap;

use aws_sdk_secretsmanager::primitives::Blob;
use common::sdk::*;
use common::{TestServer, unique};

fn map(entries: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), strings(v)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// PutSecretValue
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn put_default_moves_current_to_previous_and_drops_old_previous() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("put-default");
    let (arn, v1) = create(&client, &name, "one").await;

    let out = client
        .put_secret_value()
        .secret_id(&name)
        .secret_string("two")
        .send()
        .await
        .unwrap();
    assert_eq!(out.arn(), Some(arn.as_str()));
    assert_eq!(out.name(), Some(name.as_str()));
    assert_eq!(out.version_stages(), ["AWSCURRENT"]);
    let v2 = out.version_id().unwrap().to_string();
    assert_ne!(v1, v2);
    assert_eq!(
        stages(&client, &name).await,
        map(&[(&v1, &["AWSPREVIOUS"]), (&v2, &["AWSCURRENT"])])
    );

    let v3 = put(&client, &name, "three").await;
    // v1 lost AWSPREVIOUS and, with no label left, is deprecated: gone from the map.
    assert_eq!(
        stages(&client, &name).await,
        map(&[(&v2, &["AWSPREVIOUS"]), (&v3, &["AWSCURRENT"])])
    );
    // A deprecated version can still be read by id.
    let old = client
        .get_secret_value()
        .secret_id(&name)
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(old.secret_string(), Some("one"));
    assert!(old.version_stages().is_empty(), "{:?}", old.version_stages);
}

#[tokio::test]
async fn put_default_drops_pending_from_old_current() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("put-pending");
    let (_, v1) = create(&client, &name, "one").await;
    let v2 = token();
    client
        .put_secret_value()
        .secret_id(&name)
        .client_request_token(&v2)
        .secret_string("two")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    // Move AWSCURRENT onto the pending version: it keeps AWSPENDING.
    client
        .update_secret_version_stage()
        .secret_id(&name)
        .version_stage("AWSCURRENT")
        .move_to_version_id(&v2)
        .remove_from_version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stages(&client, &name).await,
        map(&[
            (&v1, &["AWSPREVIOUS"]),
            (&v2, &["AWSCURRENT", "AWSPENDING"])
        ])
    );
    // A default put: the old current [AWSCURRENT, AWSPENDING] ends up with only AWSPREVIOUS.
    let v3 = put(&client, &name, "three").await;
    assert_eq!(
        stages(&client, &name).await,
        map(&[(&v2, &["AWSPREVIOUS"]), (&v3, &["AWSCURRENT"])])
    );
}

#[tokio::test]
async fn put_with_stages_without_current_leaves_current_alone() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("put-pending-only");
    let (_, v1) = create(&client, &name, "one").await;
    let out = client
        .put_secret_value()
        .secret_id(&name)
        .secret_string("pending")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    assert_eq!(out.version_stages(), ["AWSPENDING"]);
    let v2 = out.version_id().unwrap();
    assert_eq!(
        stages(&client, &name).await,
        map(&[(&v1, &["AWSCURRENT"]), (v2, &["AWSPENDING"])])
    );
    let current = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(current.secret_string(), Some("one"));
    let pending = client
        .get_secret_value()
        .secret_id(&name)
        .version_stage("AWSPENDING")
        .send()
        .await
        .unwrap();
    assert_eq!(pending.secret_string(), Some("pending"));
}

#[tokio::test]
async fn put_with_custom_labels_moves_only_listed_labels() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("put-custom");
    let (_, v1) = create(&client, &name, "one").await;
    let out = client
        .put_secret_value()
        .secret_id(&name)
        .secret_string("two")
        .version_stages("one")
        .version_stages("two")
        .version_stages("three")
        .send()
        .await
        .unwrap();
    let v2 = out.version_id().unwrap().to_string();
    assert_eq!(
        out.version_stages(),
        ["one", "three", "two"],
        "labels come back sorted"
    );

    let out = client
        .put_secret_value()
        .secret_id(&name)
        .secret_string("three")
        .version_stages("four")
        .version_stages("one")
        .version_stages("two")
        .send()
        .await
        .unwrap();
    let v3 = out.version_id().unwrap().to_string();
    assert_eq!(out.version_stages(), ["four", "one", "two"]);
    assert_eq!(
        stages(&client, &name).await,
        map(&[
            (&v1, &["AWSCURRENT"]),
            (&v2, &["three"]),
            (&v3, &["four", "one", "two"]),
        ])
    );
    let by_label = client
        .get_secret_value()
        .secret_id(&name)
        .version_stage("three")
        .send()
        .await
        .unwrap();
    assert_eq!(by_label.version_id(), Some(v2.as_str()));
    assert_eq!(by_label.version_stages(), ["three"]);
    let by_id = client
        .get_secret_value()
        .secret_id(&name)
        .version_id(&v3)
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.version_stages(), ["four", "one", "two"], "sorted");
}

#[tokio::test]
async fn put_with_current_and_custom_label_moves_previous() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("put-current-custom");
    let (_, v1) = create(&client, &name, "one").await;
    let out = client
        .put_secret_value()
        .secret_id(&name)
        .secret_string("two")
        .version_stages("AWSCURRENT")
        .version_stages("blue")
        .send()
        .await
        .unwrap();
    let v2 = out.version_id().unwrap().to_string();
    assert_eq!(out.version_stages(), ["AWSCURRENT", "blue"]);
    assert_eq!(
        stages(&client, &name).await,
        map(&[(&v1, &["AWSPREVIOUS"]), (&v2, &["AWSCURRENT", "blue"])])
    );
}

#[tokio::test]
async fn put_binary_value() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("put-binary");
    create(&client, &name, "text").await;
    let bytes = vec![0xde, 0xad, 0xbe, 0xef, 0x00, 0xff];
    client
        .put_secret_value()
        .secret_id(&name)
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
    let prev = client
        .get_secret_value()
        .secret_id(&name)
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    assert_eq!(prev.secret_string(), Some("text"));
}

#[tokio::test]
async fn put_on_secret_created_without_value_creates_first_version() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("put-first");
    client.create_secret().name(&name).send().await.unwrap();
    let v1 = put(&client, &name, "first").await;
    assert_eq!(stages(&client, &name).await, map(&[(&v1, &["AWSCURRENT"])]));
    let got = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some("first"));
}

#[tokio::test]
async fn a_first_version_put_with_explicit_stages_also_gets_awscurrent() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("put-first-pending");
    client.create_secret().name(&name).send().await.unwrap();
    let out = client
        .put_secret_value()
        .secret_id(&name)
        .client_request_token(token())
        .secret_string("first")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    assert_eq!(out.version_stages(), ["AWSCURRENT", "AWSPENDING"]);
    let got = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some("first"));
}

#[tokio::test]
async fn put_replay_is_idempotent_and_reuse_with_other_value_fails() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("put-replay");
    let (arn, _) = create(&client, &name, "one").await;
    let tok = token();
    let first = client
        .put_secret_value()
        .secret_id(&name)
        .client_request_token(&tok)
        .secret_string("two")
        .send()
        .await
        .unwrap();
    assert_eq!(first.version_id(), Some(tok.as_str()));
    let before = stages(&client, &name).await;

    let replay = client
        .put_secret_value()
        .secret_id(&name)
        .client_request_token(&tok)
        .secret_string("two")
        .send()
        .await
        .unwrap();
    assert_eq!(replay.version_id(), Some(tok.as_str()));
    assert_eq!(replay.arn(), Some(arn.as_str()));
    assert_eq!(replay.version_stages(), ["AWSCURRENT"]);
    assert_eq!(
        stages(&client, &name).await,
        before,
        "a replay changes nothing"
    );

    assert_err(
        client
            .put_secret_value()
            .secret_id(&name)
            .client_request_token(&tok)
            .secret_string("other")
            .send()
            .await,
        "ResourceExistsException",
        &format!(
            "You can't use ClientRequestToken {tok} because that value is already in use for a \
             version of secret {arn}."
        ),
    );
    let current = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(current.secret_string(), Some("two"));
}

#[tokio::test]
async fn put_errors() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_err(
        client
            .put_secret_value()
            .secret_id(unique("missing"))
            .secret_string("v")
            .send()
            .await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
    let name = unique("put-errors");
    create(&client, &name, "v").await;
    assert_code(
        client
            .put_secret_value()
            .secret_id(&name)
            .secret_string("s")
            .secret_binary(Blob::new(vec![1]))
            .send()
            .await,
        "InvalidParameterException",
    );
    // A token outside 32..64 characters is refused (AWS's exact code here is not recorded).
    service_err(
        client
            .put_secret_value()
            .secret_id(&name)
            .client_request_token("too-short")
            .secret_string("v")
            .send()
            .await,
    );
}

// ---------------------------------------------------------------------------------------------
// UpdateSecretVersionStage
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn moving_current_requires_remove_from_version_id() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("stage-required");
    let (_, v1) = create(&client, &name, "one").await;
    let v2 = client
        .put_secret_value()
        .secret_id(&name)
        .secret_string("two")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();
    assert_err(
        client
            .update_secret_version_stage()
            .secret_id(&name)
            .version_stage("AWSCURRENT")
            .move_to_version_id(&v2)
            .send()
            .await,
        "InvalidParameterException",
        &format!(
            "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is \
             currently attached to version {v1}, so you must explicitly reference that version \
             in RemoveFromVersionId."
        ),
    );
    assert_eq!(
        stages(&client, &name).await,
        map(&[(&v1, &["AWSCURRENT"]), (&v2, &["AWSPENDING"])]),
        "a failed call changes nothing"
    );
}

#[tokio::test]
async fn moving_current_moves_previous_and_keeps_other_labels() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("stage-move");
    let (arn, v0) = create(&client, &name, "zero").await;
    let v1 = put(&client, &name, "one").await;
    // v0: AWSPREVIOUS (+ custom label), v1: AWSCURRENT (+ custom label), v2: AWSPENDING.
    client
        .update_secret_version_stage()
        .secret_id(&name)
        .version_stage("OLD0")
        .move_to_version_id(&v0)
        .send()
        .await
        .unwrap();
    client
        .update_secret_version_stage()
        .secret_id(&name)
        .version_stage("PUT1")
        .move_to_version_id(&v1)
        .send()
        .await
        .unwrap();
    let v2 = client
        .put_secret_value()
        .secret_id(&name)
        .secret_string("two")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();
    assert_eq!(
        stages(&client, &name).await,
        map(&[
            (&v0, &["AWSPREVIOUS", "OLD0"]),
            (&v1, &["AWSCURRENT", "PUT1"]),
            (&v2, &["AWSPENDING"]),
        ])
    );

    let out = client
        .update_secret_version_stage()
        .secret_id(&name)
        .version_stage("AWSCURRENT")
        .move_to_version_id(&v2)
        .remove_from_version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(out.arn(), Some(arn.as_str()));
    assert_eq!(out.name(), Some(name.as_str()));
    assert_eq!(
        stages(&client, &name).await,
        map(&[
            (&v0, &["OLD0"]),
            (&v1, &["AWSPREVIOUS", "PUT1"]),
            (&v2, &["AWSCURRENT", "AWSPENDING"]),
        ])
    );
    let current = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(current.secret_string(), Some("two"));
}

#[tokio::test]
async fn remove_only_detaches_a_label() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("stage-remove");
    let (_, v1) = create(&client, &name, "one").await;
    let v2 = client
        .put_secret_value()
        .secret_id(&name)
        .secret_string("two")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();
    client
        .update_secret_version_stage()
        .secret_id(&name)
        .version_stage("AWSPENDING")
        .remove_from_version_id(&v2)
        .send()
        .await
        .unwrap();
    assert_eq!(stages(&client, &name).await, map(&[(&v1, &["AWSCURRENT"])]));
    assert_err(
        client
            .get_secret_value()
            .secret_id(&name)
            .version_stage("AWSPENDING")
            .send()
            .await,
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    );
    // The now-deprecated version is listed only with IncludeDeprecated.
    let listed = client
        .list_secret_version_ids()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = listed
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    assert_eq!(ids, vec![v1.as_str()]);
}

#[tokio::test]
async fn moving_a_custom_label_between_versions() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("stage-custom");
    let (_, v1) = create(&client, &name, "one").await;
    let v2 = put(&client, &name, "two").await;
    client
        .update_secret_version_stage()
        .secret_id(&name)
        .version_stage("blue")
        .move_to_version_id(&v1)
        .send()
        .await
        .unwrap();
    // Moving it on without naming where it is now fails and changes nothing.
    let (_, _) = service_err(
        client
            .update_secret_version_stage()
            .secret_id(&name)
            .version_stage("blue")
            .move_to_version_id(&v2)
            .send()
            .await,
    );
    assert_eq!(
        stages(&client, &name).await,
        map(&[(&v1, &["AWSPREVIOUS", "blue"]), (&v2, &["AWSCURRENT"])])
    );
    client
        .update_secret_version_stage()
        .secret_id(&name)
        .version_stage("blue")
        .move_to_version_id(&v2)
        .remove_from_version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stages(&client, &name).await,
        map(&[(&v1, &["AWSPREVIOUS"]), (&v2, &["AWSCURRENT", "blue"])])
    );
}

#[tokio::test]
async fn update_version_stage_errors() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_err(
        client
            .update_secret_version_stage()
            .secret_id(unique("missing"))
            .version_stage("blue")
            .move_to_version_id(token())
            .send()
            .await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
    let name = unique("stage-errors");
    let (_, v1) = create(&client, &name, "one").await;
    // An unknown target version is refused.
    service_err(
        client
            .update_secret_version_stage()
            .secret_id(&name)
            .version_stage("blue")
            .move_to_version_id(token())
            .send()
            .await,
    );
    assert_eq!(stages(&client, &name).await, map(&[(&v1, &["AWSCURRENT"])]));
}

// ---------------------------------------------------------------------------------------------
// ListSecretVersionIds
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_versions_hides_deprecated_unless_asked() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("versions-deprecated");
    let (arn, v1) = create(&client, &name, "one").await;
    let v2 = put(&client, &name, "two").await;
    let v3 = put(&client, &name, "three").await;

    let out = client
        .list_secret_version_ids()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(out.arn(), Some(arn.as_str()));
    assert_eq!(out.name(), Some(name.as_str()));
    let mut listed: Vec<(String, Vec<String>)> = out
        .versions()
        .iter()
        .map(|v| {
            (
                v.version_id().unwrap().to_string(),
                v.version_stages().to_vec(),
            )
        })
        .collect();
    listed.sort();
    let mut expected = vec![
        (v2.clone(), strings(&["AWSPREVIOUS"])),
        (v3.clone(), strings(&["AWSCURRENT"])),
    ];
    expected.sort();
    assert_eq!(listed, expected);

    let all = client
        .list_secret_version_ids()
        .secret_id(&name)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert_eq!(all.versions().len(), 3);
    let deprecated = all
        .versions()
        .iter()
        .find(|v| v.version_id() == Some(v1.as_str()))
        .expect("deprecated version listed");
    assert!(
        deprecated.version_stages.is_none(),
        "deprecated versions have no VersionStages key: {:?}",
        deprecated.version_stages
    );
    for v in all.versions() {
        assert!(v.created_date().is_some());
    }
}

#[tokio::test]
async fn list_versions_reports_default_encryption_key() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("versions-kms");
    create(&client, &name, "one").await;
    let out = client
        .list_secret_version_ids()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(out.versions().len(), 1);
    assert_eq!(out.versions()[0].kms_key_ids(), ["DefaultEncryptionKey"]);
}

#[tokio::test]
async fn list_versions_last_accessed_is_day_truncated() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("versions-accessed");
    let (_, v1) = create(&client, &name, "one").await;
    server.clock.advance(DAY_MS + 3_600_000);
    client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    use strongbox::clock::Clock;
    let now = server.clock.now_millis();
    let out = client
        .list_secret_version_ids()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    let entry = &out.versions()[0];
    assert_eq!(entry.version_id(), Some(v1.as_str()));
    assert_eq!(
        millis(entry.last_accessed_date()),
        now - now.rem_euclid(DAY_MS)
    );
}

#[tokio::test]
async fn list_versions_paginates() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("versions-pages");
    let (_, first) = create(&client, &name, "v0").await;
    let mut ids = vec![first];
    for i in 1..7 {
        server.clock.advance(1_000);
        ids.push(put(&client, &name, &format!("v{i}")).await);
    }
    // Manual paging with MaxResults.
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = client
            .list_secret_version_ids()
            .secret_id(&name)
            .include_deprecated(true)
            .max_results(3)
            .set_next_token(next.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(out.versions().len() <= 3);
        seen.extend(
            out.versions()
                .iter()
                .map(|v| v.version_id().unwrap().to_string()),
        );
        next = out.next_token().map(str::to_string);
        if next.is_none() {
            break;
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert!(pages >= 3, "7 versions in pages of 3: {pages} pages");
    let mut sorted_seen = seen.clone();
    sorted_seen.sort();
    sorted_seen.dedup();
    assert_eq!(sorted_seen.len(), seen.len(), "no duplicates: {seen:?}");
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(sorted_seen, expected);

    // The SDK paginator sees the same set.
    let pages: Vec<_> = client
        .list_secret_version_ids()
        .secret_id(&name)
        .include_deprecated(true)
        .max_results(2)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 4);
    let mut via_paginator: Vec<String> = pages
        .iter()
        .flat_map(|p| {
            p.versions()
                .iter()
                .map(|v| v.version_id().unwrap().to_string())
        })
        .collect();
    via_paginator.sort();
    assert_eq!(via_paginator, expected);
}

#[tokio::test]
async fn list_versions_of_unknown_secret_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_err(
        client
            .list_secret_version_ids()
            .secret_id(unique("missing"))
            .send()
            .await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
}
