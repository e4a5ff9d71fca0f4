"""boto3 against Strongbox: DeleteSecret / RestoreSecret and TagResource / UntagResource
(reference §3, §5.4)."""

from __future__ import annotations

import time

import pytest

from compat_helpers import (
    MSG_CREATE_SCHEDULED,
    MSG_MARKED_FOR_DELETION,
    MSG_NOT_FOUND,
    MSG_RECOVERY_WINDOW,
    arn_pattern,
    aws_error,
    token,
)

DAY = 86400
SLACK = 600  # seconds of tolerance between the server's clock and ours


def assert_deletion_in(resp, days):
    expected = time.time() + days * DAY
    assert abs(resp["DeletionDate"].timestamp() - expected) < SLACK, (
        f"DeletionDate {resp['DeletionDate']} is not ~{days} days from now"
    )


# ------------------------------------------------------------------------------------------
# DeleteSecret
# ------------------------------------------------------------------------------------------


def test_delete_default_window_is_30_days(sm, new_name):
    name = new_name()
    created = sm.create_secret(Name=name, SecretString="x")
    resp = sm.delete_secret(SecretId=name)
    assert resp["ARN"] == created["ARN"] and resp["Name"] == name
    assert_deletion_in(resp, 30)
    desc = sm.describe_secret(SecretId=name)
    assert "DeletedDate" in desc
    assert abs(desc["DeletedDate"].timestamp() - time.time()) < SLACK


@pytest.mark.parametrize("days", [7, 30])
def test_delete_window_bounds_accepted(sm, new_name, days):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    assert_deletion_in(sm.delete_secret(SecretId=name, RecoveryWindowInDays=days), days)


@pytest.mark.parametrize("days", [6, 31, 0, -1])
def test_delete_window_out_of_range(sm, new_name, days):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    with aws_error("InvalidParameterException", MSG_RECOVERY_WINDOW):
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=days)
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)


def test_delete_window_and_force_together(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    with aws_error("InvalidParameterException"):
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    # Zero days with force is the out-of-range error (reference §4).
    with aws_error("InvalidParameterException", MSG_RECOVERY_WINDOW):
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=0, ForceDeleteWithoutRecovery=True)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "x"


def test_force_delete(sm, new_name):
    name = new_name()
    created = sm.create_secret(Name=name, SecretString="x")
    resp = sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert resp["Name"] == name and resp["ARN"] == created["ARN"]
    assert "DeletionDate" in resp
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.describe_secret(SecretId=name)
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.get_secret_value(SecretId=name)


def test_force_delete_missing_secret_succeeds(sm, new_name):
    name = new_name()
    resp = sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["Name"] == name
    assert resp.get("ARN")
    assert "DeletionDate" in resp


def test_delete_missing_secret_without_force(sm, new_name):
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.delete_secret(SecretId=new_name())


def test_force_delete_of_scheduled_secret(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.describe_secret(SecretId=name)


def test_operations_on_secret_marked_for_deletion(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="x", Tags=[{"Key": "k", "Value": "v"}])["VersionId"]
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    blocked = {
        "GetSecretValue": lambda: sm.get_secret_value(SecretId=name),
        "PutSecretValue": lambda: sm.put_secret_value(SecretId=name, SecretString="y"),
        "UpdateSecret(value)": lambda: sm.update_secret(SecretId=name, SecretString="y"),
        "UpdateSecret(meta)": lambda: sm.update_secret(SecretId=name, Description="d"),
        "UpdateSecretVersionStage": lambda: sm.update_secret_version_stage(
            SecretId=name, VersionStage="blue", MoveToVersionId=v1),
        "TagResource": lambda: sm.tag_resource(SecretId=name, Tags=[{"Key": "a", "Value": "b"}]),
        "UntagResource": lambda: sm.untag_resource(SecretId=name, TagKeys=["k"]),
    }
    for op, call in blocked.items():
        with aws_error("InvalidRequestException", MSG_MARKED_FOR_DELETION):
            call()
    # DescribeSecret and ListSecretVersionIds still work.
    desc = sm.describe_secret(SecretId=name)
    assert "DeletedDate" in desc
    assert desc["Tags"] == [{"Key": "k", "Value": "v"}]
    assert desc["VersionIdsToStages"] == {v1: ["AWSCURRENT"]}
    assert [v["VersionId"] for v in sm.list_secret_version_ids(SecretId=name)["Versions"]] == [v1]


def test_create_with_name_scheduled_for_deletion(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    with aws_error("InvalidRequestException", MSG_CREATE_SCHEDULED):
        sm.create_secret(Name=name, SecretString="y")


# ------------------------------------------------------------------------------------------
# RestoreSecret
# ------------------------------------------------------------------------------------------


def test_restore_secret(sm, new_name):
    name = new_name()
    created = sm.create_secret(Name=name, SecretString="x")
    sm.delete_secret(SecretId=name)
    resp = sm.restore_secret(SecretId=name)
    body = {k: v for k, v in resp.items() if k != "ResponseMetadata"}
    assert body == {"ARN": created["ARN"], "Name": name}
    desc = sm.describe_secret(SecretId=name)
    assert "DeletedDate" not in desc
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "x"
    sm.put_secret_value(SecretId=name, SecretString="y")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "y"


def test_restore_by_arn(sm, new_name):
    name = new_name()
    arn = sm.create_secret(Name=name, SecretString="x")["ARN"]
    sm.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    assert sm.restore_secret(SecretId=arn)["ARN"] == arn
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)


def test_restore_missing(sm, new_name):
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.restore_secret(SecretId=new_name())


# ------------------------------------------------------------------------------------------
# TagResource / UntagResource
# ------------------------------------------------------------------------------------------


def tags_of(sm, name):
    return {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=name).get("Tags", [])}


def test_tag_append_and_overwrite(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x", Tags=[{"Key": "a", "Value": "1"}])
    resp = sm.tag_resource(SecretId=name, Tags=[{"Key": "b", "Value": "2"},
                                               {"Key": "a", "Value": "one"}])
    assert set(resp) == {"ResponseMetadata"}
    assert tags_of(sm, name) == {"a": "one", "b": "2"}
    # Keys are case-sensitive.
    sm.tag_resource(SecretId=name, Tags=[{"Key": "A", "Value": "upper"}])
    assert tags_of(sm, name) == {"a": "one", "b": "2", "A": "upper"}


def test_tag_by_arn(sm, new_name):
    name = new_name()
    arn = sm.create_secret(Name=name, SecretString="x")["ARN"]
    sm.tag_resource(SecretId=arn, Tags=[{"Key": "via", "Value": "arn"}])
    assert tags_of(sm, name) == {"via": "arn"}


def test_untag_idempotent(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x",
                     Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    resp = sm.untag_resource(SecretId=name, TagKeys=["a", "missing"])
    assert set(resp) == {"ResponseMetadata"}
    assert tags_of(sm, name) == {"b": "2"}
    sm.untag_resource(SecretId=name, TagKeys=["a"])
    assert tags_of(sm, name) == {"b": "2"}


def test_untag_on_never_tagged_secret(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    sm.untag_resource(SecretId=name, TagKeys=["nothing"])
    desc = sm.describe_secret(SecretId=name)
    assert desc.get("Tags", []) == []


def test_tag_missing_secret(sm, new_name):
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.tag_resource(SecretId=new_name(), Tags=[{"Key": "a", "Value": "b"}])
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.untag_resource(SecretId=new_name(), TagKeys=["a"])


def test_tag_does_not_create_version(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="x")["VersionId"]
    sm.tag_resource(SecretId=name, Tags=[{"Key": "a", "Value": "b"}])
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"] == {v1: ["AWSCURRENT"]}


def test_arn_shape(sm, new_name):
    name = new_name("path/to/secret")
    arn = sm.create_secret(Name=name, SecretString="x", ClientRequestToken=token())["ARN"]
    assert arn_pattern(name).match(arn), arn
