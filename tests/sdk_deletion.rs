//! DeleteSecret, RestoreSecret and the purge at the end of the recovery window, through the
//! official AWS SDK for Rust, with time moved by the server's manual clock.

mod common;

use aws_sdk_secretsmanager::Client;
use common::sdk::*;
use common::{ACCOUNT, TestServer, unique};
use strongbox::clock::Clock;

const BAD_WINDOW: &str =
    "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).";
const WINDOW_AND_FORCE: &str =
    "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.";
const CREATE_WHILE_DELETED: &str = "You can't create this secret because a secret with this name \
                                    is already scheduled for deletion.";

/// The 6-character suffix of a secret ARN.
fn suffix(arn: &str) -> &str {
    &arn[arn.len() - 6..]
}

#[tokio::test]
async fn delete_defaults_to_a_30_day_window_on_the_server_clock() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("delete-default");
    let (arn, _) = create(&client, &name, "v").await;
    // Move well away from the real time: the window is measured on the server's clock.
    server.clock.advance(3 * DAY_MS + 1_234);
    let now = server.clock.now_millis();
    let out = client
        .delete_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(out.arn(), Some(arn.as_str()));
    assert_eq!(out.name(), Some(name.as_str()));
    assert_millis_eq(millis(out.deletion_date()), now + 30 * DAY_MS);
    let d = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_millis_eq(millis(d.deleted_date()), now);
}

#[tokio::test]
async fn delete_with_explicit_window() {
    let server = TestServer::start().await;
    let client = server.client();
    for days in [7i64, 15, 30] {
        let name = unique("delete-window");
        create(&client, &name, "v").await;
        let now = server.clock.now_millis();
        let out = client
            .delete_secret()
            .secret_id(&name)
            .recovery_window_in_days(days)
            .send()
            .await
            .unwrap();
        assert_millis_eq(millis(out.deletion_date()), now + days * DAY_MS);
    }
}

#[tokio::test]
async fn delete_window_out_of_range_is_invalid_parameter() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("delete-range");
    create(&client, &name, "v").await;
    for days in [0i64, 6, 31, 365, -1] {
        assert_err(
            client
                .delete_secret()
                .secret_id(&name)
                .recovery_window_in_days(days)
                .send()
                .await,
            "InvalidParameterException",
            BAD_WINDOW,
        );
    }
    // Out of range is reported even with ForceDeleteWithoutRecovery.
    assert_err(
        client
            .delete_secret()
            .secret_id(&name)
            .recovery_window_in_days(0)
            .force_delete_without_recovery(true)
            .send()
            .await,
        "InvalidParameterException",
        BAD_WINDOW,
    );
    // Nothing was deleted.
    let d = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert!(d.deleted_date.is_none());
}

#[tokio::test]
async fn delete_with_window_and_force_is_invalid_parameter() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("delete-both");
    create(&client, &name, "v").await;
    assert_err(
        client
            .delete_secret()
            .secret_id(&name)
            .recovery_window_in_days(7)
            .force_delete_without_recovery(true)
            .send()
            .await,
        "InvalidParameterException",
        WINDOW_AND_FORCE,
    );
    let got = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some("v"));
}

#[tokio::test]
async fn delete_unknown_secret_without_force_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_err(
        client
            .delete_secret()
            .secret_id(unique("missing"))
            .send()
            .await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
}

#[tokio::test]
async fn force_delete_of_missing_secret_succeeds_and_echoes_the_name() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("force-missing");
    let out = client
        .delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    assert_eq!(out.name(), Some(name.as_str()));
    assert!(out.arn().is_some());
    assert!(out.deletion_date().is_some());
}

#[tokio::test]
async fn force_delete_removes_immediately_and_frees_the_name() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("force");
    let (arn, _) = create(&client, &name, "old").await;
    let now = server.clock.now_millis();
    let out = client
        .delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    assert_eq!(out.arn(), Some(arn.as_str()));
    assert_eq!(out.name(), Some(name.as_str()));
    assert_millis_eq(millis(out.deletion_date()), now);
    assert_err(
        client.describe_secret().secret_id(&name).send().await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
    assert_err(
        client.restore_secret().secret_id(&name).send().await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
    let listed = client
        .list_secrets()
        .include_planned_deletion(true)
        .send()
        .await
        .unwrap();
    assert!(listed.secret_list().is_empty());
    let (new_arn, _) = create(&client, &name, "new").await;
    assert_ne!(new_arn, arn);
}

#[tokio::test]
async fn force_delete_of_a_secret_scheduled_for_deletion() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("force-scheduled");
    create(&client, &name, "v").await;
    client
        .delete_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    client
        .delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    assert_err(
        client.describe_secret().secret_id(&name).send().await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
}

#[tokio::test]
async fn operations_on_a_deleted_secret_are_invalid_requests() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("deleted-ops");
    let (arn, v1) = create(&client, &name, "v").await;
    client
        .delete_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();

    let check = |code: &str, msg: &str| (code.to_string(), msg.to_string());
    let expected = check("InvalidRequestException", MARKED_FOR_DELETION);
    assert_eq!(
        service_err(client.get_secret_value().secret_id(&name).send().await),
        expected,
        "GetSecretValue"
    );
    assert_eq!(
        service_err(client.get_secret_value().secret_id(&arn).send().await),
        expected,
        "GetSecretValue by ARN"
    );
    assert_eq!(
        service_err(
            client
                .put_secret_value()
                .secret_id(&name)
                .secret_string("x")
                .send()
                .await
        ),
        expected,
        "PutSecretValue"
    );
    assert_eq!(
        service_err(
            client
                .update_secret()
                .secret_id(&name)
                .secret_string("x")
                .send()
                .await
        ),
        expected,
        "UpdateSecret with a value"
    );
    assert_eq!(
        service_err(
            client
                .update_secret()
                .secret_id(&name)
                .description("x")
                .send()
                .await
        ),
        expected,
        "UpdateSecret metadata"
    );
    assert_eq!(
        service_err(
            client
                .update_secret_version_stage()
                .secret_id(&name)
                .version_stage("blue")
                .move_to_version_id(&v1)
                .send()
                .await
        ),
        expected,
        "UpdateSecretVersionStage"
    );
    assert_eq!(
        service_err(
            client
                .tag_resource()
                .secret_id(&name)
                .tags(tag("a", "b"))
                .send()
                .await
        ),
        expected,
        "TagResource"
    );
    assert_eq!(
        service_err(
            client
                .untag_resource()
                .secret_id(&name)
                .tag_keys("a")
                .send()
                .await
        ),
        expected,
        "UntagResource"
    );

    // DescribeSecret and ListSecretVersionIds still work.
    let d = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert!(d.deleted_date().is_some());
    let versions = client
        .list_secret_version_ids()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 1);

    // The name is still taken.
    assert_err(
        client
            .create_secret()
            .name(&name)
            .secret_string("new")
            .send()
            .await,
        "InvalidRequestException",
        CREATE_WHILE_DELETED,
    );
}

#[tokio::test]
async fn restore_cancels_the_deletion() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("restore");
    let (arn, _) = create(&client, &name, "keep me").await;
    client
        .delete_secret()
        .secret_id(&name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    server.clock.advance(6 * DAY_MS);
    let out = client
        .restore_secret()
        .secret_id(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(out.arn(), Some(arn.as_str()));
    assert_eq!(out.name(), Some(name.as_str()));
    let d = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert!(d.deleted_date.is_none(), "restore removes DeletedDate");
    let got = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some("keep me"));
    let listed = client.list_secrets().send().await.unwrap();
    assert_eq!(listed.secret_list().len(), 1);

    // The restored secret outlives its old deletion date.
    server.clock.advance(2 * DAY_MS);
    let got = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some("keep me"));
}

#[tokio::test]
async fn restore_of_unknown_secret_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_err(
        client
            .restore_secret()
            .secret_id(unique("missing"))
            .send()
            .await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
}

#[tokio::test]
async fn restore_of_a_live_secret_succeeds() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("restore-live");
    let (arn, _) = create(&client, &name, "v").await;
    let out = client
        .restore_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(out.arn(), Some(arn.as_str()));
    assert_eq!(out.name(), Some(name.as_str()));
}

async fn assert_gone(client: &Client, id: &str) {
    assert_err(
        client.describe_secret().secret_id(id).send().await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
    assert_err(
        client.get_secret_value().secret_id(id).send().await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
    assert_err(
        client.restore_secret().secret_id(id).send().await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
    assert_err(
        client.list_secret_version_ids().secret_id(id).send().await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
}

#[tokio::test]
async fn secret_is_purged_after_its_recovery_window() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("purge");
    let (arn, _) = create(&client, &name, "old value").await;
    client
        .delete_secret()
        .secret_id(&name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();

    // Inside the window it is still there.
    server.clock.advance(6 * DAY_MS);
    assert!(
        client
            .describe_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .deleted_date()
            .is_some()
    );

    // Past it the secret is gone, by name and by ARN.
    server.clock.advance(2 * DAY_MS);
    assert_gone(&client, &name).await;
    assert_gone(&client, &arn).await;
    let listed = client
        .list_secrets()
        .include_planned_deletion(true)
        .send()
        .await
        .unwrap();
    assert!(
        listed.secret_list().is_empty(),
        "{:?}",
        listed.secret_list()
    );
    let batch = client
        .batch_get_secret_value()
        .secret_id_list(&name)
        .send()
        .await
        .unwrap();
    assert!(batch.secret_values().is_empty());
    assert_eq!(batch.errors().len(), 1);
    assert_eq!(
        batch.errors()[0].error_code(),
        Some("ResourceNotFoundException")
    );

    // The name can be used again, and the new secret has a new ARN.
    let (new_arn, new_version) = create(&client, &name, "new value").await;
    assert_ne!(new_arn, arn);
    assert_ne!(suffix(&new_arn), suffix(&arn));
    assert!(new_arn.starts_with(&format!(
        "arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{name}-"
    )));
    let got = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some("new value"));
    assert_eq!(got.version_id(), Some(new_version.as_str()));
    assert_eq!(
        stages(&client, &name).await.len(),
        1,
        "no versions carried over"
    );
    // The old ARN does not reach the new secret.
    assert_err(
        client.get_secret_value().secret_id(&arn).send().await,
        "ResourceNotFoundException",
        NOT_FOUND,
    );
}

#[tokio::test]
async fn purge_happens_at_the_default_30_day_window() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("purge-default");
    create(&client, &name, "v").await;
    client
        .delete_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    server.clock.advance(29 * DAY_MS);
    client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    server.clock.advance(DAY_MS + 1);
    assert_gone(&client, &name).await;
}
