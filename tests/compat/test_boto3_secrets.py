"""boto3 against Strongbox: values, versions and staging labels (reference §3, §5.1-5.3)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from botocore.exceptions import ClientError

from compat_helpers import (
    ACCOUNT_ID,
    MSG_NOT_FOUND,
    MSG_STAGE_MISMATCH,
    arn_pattern,
    aws_error,
    msg_already_exists,
    msg_not_found_label,
    msg_not_found_version,
    msg_remove_from_empty,
    msg_token_in_use,
    token,
)

ALWAYS = {"ARN", "Name", "CreatedDate", "LastChangedDate"}


def versions(sm, secret_id, include_deprecated=False):
    out = sm.list_secret_version_ids(SecretId=secret_id, IncludeDeprecated=include_deprecated)
    return {v["VersionId"]: v for v in out["Versions"]}


def stages(sm, secret_id):
    return sm.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})


# ------------------------------------------------------------------------------------------
# CreateSecret
# ------------------------------------------------------------------------------------------


def test_create_string_secret(sm, new_name):
    name = new_name()
    tok = token()
    resp = sm.create_secret(Name=name, SecretString="hunter2", ClientRequestToken=tok)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["ResponseMetadata"]["RequestId"]
    assert resp["Name"] == name
    assert arn_pattern(name).match(resp["ARN"]), resp["ARN"]
    assert f":{ACCOUNT_ID}:" in resp["ARN"]
    assert resp["VersionId"] == tok, "the ClientRequestToken becomes the VersionId"

    got = sm.get_secret_value(SecretId=name)
    assert got["SecretString"] == "hunter2"
    assert "SecretBinary" not in got
    assert got["ARN"] == resp["ARN"] and got["Name"] == name
    assert got["VersionId"] == tok
    assert got["VersionStages"] == ["AWSCURRENT"]
    assert isinstance(got["CreatedDate"], dt.datetime)


def test_create_generates_version_id_when_token_omitted_by_sdk(sm, new_name):
    # boto3 fills ClientRequestToken with uuid4 (idempotencyToken); it becomes the VersionId.
    resp = sm.create_secret(Name=new_name(), SecretString="v")
    assert len(resp["VersionId"]) == 36


def test_create_binary_secret(sm, new_name):
    name = new_name()
    blob = bytes(range(256)) + b"\x00\xff" * 100
    resp = sm.create_secret(Name=name, SecretBinary=blob)
    got = sm.get_secret_value(SecretId=name)
    assert got["SecretBinary"] == blob
    assert "SecretString" not in got
    assert got["VersionId"] == resp["VersionId"]


def test_create_unicode_string_secret(sm, new_name):
    name = new_name()
    value = "päss wörd ✓ 秘密 \n\t\"quoted\" \\ {}"
    sm.create_secret(Name=name, SecretString=value)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == value


def test_create_without_value(sm, new_name):
    name = new_name()
    resp = sm.create_secret(Name=name, Description="no value yet")
    assert "VersionId" not in resp
    assert arn_pattern(name).match(resp["ARN"])
    desc = sm.describe_secret(SecretId=name)
    assert "VersionIdsToStages" not in desc
    assert desc["Description"] == "no value yet"
    with aws_error("ResourceNotFoundException", msg_not_found_label("AWSCURRENT")):
        sm.get_secret_value(SecretId=name)
    assert sm.list_secret_version_ids(SecretId=name)["Versions"] == []
    # A first PutSecretValue makes the value current.
    put = sm.put_secret_value(SecretId=name, SecretString="now")
    assert put["VersionStages"] == ["AWSCURRENT"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "now"


def test_create_with_tags_and_description(sm, new_name):
    name = new_name()
    tags = [{"Key": "env", "Value": "prod"}, {"Key": "Team", "Value": ""},
            {"Key": "team", "Value": "lower"}]
    sm.create_secret(Name=name, SecretString="x", Description="the description", Tags=tags)
    desc = sm.describe_secret(SecretId=name)
    assert desc["Description"] == "the description"
    assert sorted((t["Key"], t["Value"]) for t in desc["Tags"]) == sorted(
        (t["Key"], t["Value"]) for t in tags
    )


def test_create_existing_name(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="one")
    with aws_error("ResourceExistsException", msg_already_exists(name)):
        sm.create_secret(Name=name, SecretString="two")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "one"


def test_create_idempotent_replay(sm, new_name):
    name = new_name()
    tok = token()
    first = sm.create_secret(Name=name, SecretString="same", ClientRequestToken=tok)
    again = sm.create_secret(Name=name, SecretString="same", ClientRequestToken=tok)
    assert (again["ARN"], again["Name"], again["VersionId"]) == (
        first["ARN"], first["Name"], first["VersionId"])
    assert list(versions(sm, name)) == [tok]


def test_create_same_token_different_value(sm, new_name):
    name = new_name()
    tok = token()
    first = sm.create_secret(Name=name, SecretString="one", ClientRequestToken=tok)
    with aws_error("ResourceExistsException", msg_token_in_use(tok, first["ARN"])):
        sm.create_secret(Name=name, SecretString="two", ClientRequestToken=tok)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "one"


def test_create_both_string_and_binary_rejected(sm, new_name):
    name = new_name()
    with aws_error(("InvalidParameterException", "InvalidRequestException")):
        sm.create_secret(Name=name, SecretString="s", SecretBinary=b"b")
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.describe_secret(SecretId=name)


def test_recreated_name_gets_new_arn_suffix(sm, new_name):
    name = new_name()
    first = sm.create_secret(Name=name, SecretString="1")["ARN"]
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    try:
        second = sm.create_secret(Name=name, SecretString="2")["ARN"]
    except ClientError as exc:
        # AWS may refuse the name for a few seconds after a force delete (reference §5.4).
        if exc.response["Error"]["Code"] == "InvalidRequestException":
            pytest.skip("server keeps a force-deleted name reserved for a while, as AWS may")
        raise
    assert arn_pattern(name).match(second)
    assert second != first, "a recreated secret must get a new random ARN suffix"
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.get_secret_value(SecretId=first)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "2"


# ------------------------------------------------------------------------------------------
# DescribeSecret
# ------------------------------------------------------------------------------------------


def test_describe_field_presence(sm, new_name):
    name = new_name()
    created = sm.create_secret(Name=name, SecretString="x")
    desc = sm.describe_secret(SecretId=name)
    assert ALWAYS <= desc.keys()
    assert desc["ARN"] == created["ARN"] and desc["Name"] == name
    assert desc["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}
    # "Secrets Manager only returns fields that have a value."
    for absent in ("KmsKeyId", "Tags", "Description", "RotationEnabled", "RotationLambdaARN",
                   "RotationRules", "LastRotatedDate", "NextRotationDate", "LastAccessedDate",
                   "DeletedDate", "PrimaryRegion", "ReplicationStatus", "OwningService"):
        assert absent not in desc, f"{absent} present on a fresh secret: {desc.get(absent)!r}"
    assert abs(desc["CreatedDate"].timestamp() - time.time()) < 300


def test_empty_description_is_left_out(sm, new_name):
    # AWS keeps an empty Description as none: no key in DescribeSecret or ListSecrets.
    name = new_name()
    sm.create_secret(Name=name, Description="")
    assert "Description" not in sm.describe_secret(SecretId=name)
    listed = sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]
    assert [e["Name"] for e in listed] == [name] and "Description" not in listed[0]
    sm.update_secret(SecretId=name, Description="set")
    assert sm.describe_secret(SecretId=name)["Description"] == "set"
    sm.update_secret(SecretId=name, Description="")
    assert "Description" not in sm.describe_secret(SecretId=name)


def test_describe_tags_empty_list_after_last_untag(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    assert "Tags" not in sm.describe_secret(SecretId=name)
    sm.tag_resource(SecretId=name, Tags=[{"Key": "a", "Value": "1"}])
    assert sm.describe_secret(SecretId=name)["Tags"] == [{"Key": "a", "Value": "1"}]
    sm.untag_resource(SecretId=name, TagKeys=["a"])
    assert sm.describe_secret(SecretId=name)["Tags"] == []


def test_describe_last_accessed_date_is_day_truncated(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    assert "LastAccessedDate" not in sm.describe_secret(SecretId=name)
    sm.get_secret_value(SecretId=name)
    lad = sm.describe_secret(SecretId=name)["LastAccessedDate"]
    ts = lad.timestamp()
    assert ts % 86400 == 0, f"LastAccessedDate {lad} is not midnight UTC"
    assert 0 <= time.time() - ts < 86400 + 300


def test_describe_by_full_and_partial_arn(sm, new_name):
    name = new_name()
    arn = sm.create_secret(Name=name, SecretString="x")["ARN"]
    partial = arn[: -len("-XXXXXX")]
    assert sm.describe_secret(SecretId=arn)["ARN"] == arn
    assert sm.describe_secret(SecretId=partial)["ARN"] == arn


def test_label_lists_sorted(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    put = sm.put_secret_value(SecretId=name, SecretString="2",
                              VersionStages=["two", "one", "four", "AWSPENDING"])
    assert put["VersionStages"] == ["AWSPENDING", "four", "one", "two"]
    v2 = put["VersionId"]
    assert stages(sm, name) == {v1: ["AWSCURRENT"], v2: ["AWSPENDING", "four", "one", "two"]}
    assert versions(sm, name)[v2]["VersionStages"] == ["AWSPENDING", "four", "one", "two"]
    got = sm.get_secret_value(SecretId=name, VersionId=v2)
    assert got["VersionStages"] == ["AWSPENDING", "four", "one", "two"]


# ------------------------------------------------------------------------------------------
# GetSecretValue
# ------------------------------------------------------------------------------------------


def test_get_by_name_full_arn_partial_arn(sm, new_name):
    name = new_name("app/db")
    arn = sm.create_secret(Name=name, SecretString="v")["ARN"]
    partial = arn.rsplit("-", 1)[0]
    assert partial.endswith(":secret:" + name)
    for sid in (name, arn, partial):
        got = sm.get_secret_value(SecretId=sid)
        assert got["SecretString"] == "v" and got["ARN"] == arn and got["Name"] == name


def test_get_name_with_six_char_tail_partial_arn_is_ambiguous(sm, new_name):
    """A name ending in `-` + 6 chars: the partial ARN is taken as a full ARN (reference §5.1)."""
    name = new_name() + "-a1b2c3"
    arn = sm.create_secret(Name=name, SecretString="v")["ARN"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v"
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "v"
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.get_secret_value(SecretId=arn.rsplit("-", 1)[0])


def test_get_wrong_arn_suffix_not_found(sm, new_name):
    name = new_name()
    arn = sm.create_secret(Name=name, SecretString="v")["ARN"]
    wrong = arn[:-6] + ("ZZZZZZ" if not arn.endswith("ZZZZZZ") else "YYYYYY")
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.get_secret_value(SecretId=wrong)


def test_get_by_version_id_and_stage(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="one")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="two")["VersionId"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "two"
    assert sm.get_secret_value(SecretId=name, VersionId=v1)["SecretString"] == "one"
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["VersionId"] == v1
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["VersionId"] == v2
    both = sm.get_secret_value(SecretId=name, VersionId=v1, VersionStage="AWSPREVIOUS")
    assert both["SecretString"] == "one" and both["VersionStages"] == ["AWSPREVIOUS"]
    with aws_error("InvalidRequestException", MSG_STAGE_MISMATCH):
        sm.get_secret_value(SecretId=name, VersionId=v1, VersionStage="AWSCURRENT")


def test_get_unknown_version_or_stage(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="one")
    missing = token()
    with aws_error("ResourceNotFoundException", msg_not_found_version(missing)):
        sm.get_secret_value(SecretId=name, VersionId=missing)
    with aws_error("ResourceNotFoundException", msg_not_found_label("NOPE")):
        sm.get_secret_value(SecretId=name, VersionStage="NOPE")
    with aws_error("ResourceNotFoundException", msg_not_found_label("AWSPREVIOUS")):
        sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")


def test_get_missing_secret(sm, new_name):
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND) as ei:
        sm.get_secret_value(SecretId=new_name())
    # SM modeled errors carry a capital-M "Message", which botocore copies to the top level.
    assert ei.value.response.get("Message") == MSG_NOT_FOUND
    assert isinstance(ei.value, sm.exceptions.ResourceNotFoundException)


# ------------------------------------------------------------------------------------------
# PutSecretValue
# ------------------------------------------------------------------------------------------


def test_put_moves_current_and_previous(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    p2 = sm.put_secret_value(SecretId=name, SecretString="2")
    assert p2["VersionStages"] == ["AWSCURRENT"]
    assert p2["Name"] == name and arn_pattern(name).match(p2["ARN"])
    v2 = p2["VersionId"]
    assert stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    v3 = sm.put_secret_value(SecretId=name, SecretBinary=b"\x03")["VersionId"]
    # v1 lost AWSPREVIOUS and, with no labels left, is deprecated.
    assert stages(sm, name) == {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    listed = versions(sm, name)
    assert set(listed) == {v2, v3}
    with_deprecated = versions(sm, name, include_deprecated=True)
    assert set(with_deprecated) == {v1, v2, v3}
    assert "VersionStages" not in with_deprecated[v1]
    # A deprecated version is still readable by id, and has no VersionStages either.
    old = sm.get_secret_value(SecretId=name, VersionId=v1)
    assert old["SecretString"] == "1" and "VersionStages" not in old
    assert sm.get_secret_value(SecretId=name)["SecretBinary"] == b"\x03"


def test_first_version_gets_current_whatever_the_stages(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name)
    put = sm.put_secret_value(SecretId=name, SecretString="1", VersionStages=["AWSPENDING"])
    assert put["VersionStages"] == ["AWSCURRENT", "AWSPENDING"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "1"


def test_put_explicit_pending_leaves_current(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    put = sm.put_secret_value(SecretId=name, SecretString="2", VersionStages=["AWSPENDING"])
    assert put["VersionStages"] == ["AWSPENDING"]
    assert stages(sm, name) == {v1: ["AWSCURRENT"], put["VersionId"]: ["AWSPENDING"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "1"
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPENDING")["SecretString"] == "2"


def test_put_explicit_labels_move_only_listed(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="2",
                             VersionStages=["one", "two", "three"])["VersionId"]
    put3 = sm.put_secret_value(SecretId=name, SecretString="3", VersionStages=["four", "one", "two"])
    assert put3["VersionStages"] == ["four", "one", "two"]
    assert stages(sm, name) == {
        v1: ["AWSCURRENT"],
        v2: ["three"],
        put3["VersionId"]: ["four", "one", "two"],
    }


def test_put_explicit_current_moves_previous(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="2",
                             VersionStages=["AWSCURRENT", "custom"])["VersionId"]
    assert stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT", "custom"]}


def test_put_default_drops_pending_from_old_current(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSPENDING", MoveToVersionId=v1)
    assert stages(sm, name) == {v1: ["AWSCURRENT", "AWSPENDING"]}
    v2 = sm.put_secret_value(SecretId=name, SecretString="2")["VersionId"]
    assert stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}


def test_put_idempotent_same_token_same_value(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="1")
    tok = token()
    first = sm.put_secret_value(SecretId=name, SecretString="2", ClientRequestToken=tok)
    again = sm.put_secret_value(SecretId=name, SecretString="2", ClientRequestToken=tok)
    assert first["VersionId"] == again["VersionId"] == tok
    assert again["VersionStages"] == ["AWSCURRENT"]
    assert len(versions(sm, name, include_deprecated=True)) == 2


def test_put_idempotent_binary(sm, new_name):
    name = new_name()
    arn = sm.create_secret(Name=name, SecretString="1")["ARN"]
    tok = token()
    sm.put_secret_value(SecretId=name, SecretBinary=b"\x01\x02", ClientRequestToken=tok)
    assert sm.put_secret_value(SecretId=name, SecretBinary=b"\x01\x02",
                               ClientRequestToken=tok)["VersionId"] == tok
    with aws_error("ResourceExistsException", msg_token_in_use(tok, arn)):
        sm.put_secret_value(SecretId=name, SecretBinary=b"\x01\x03", ClientRequestToken=tok)
    with aws_error("ResourceExistsException", msg_token_in_use(tok, arn)):
        sm.put_secret_value(SecretId=name, SecretString="\x01\x02", ClientRequestToken=tok)


def test_put_same_token_different_value(sm, new_name):
    name = new_name()
    arn = sm.create_secret(Name=name, SecretString="1")["ARN"]
    tok = token()
    sm.put_secret_value(SecretId=name, SecretString="2", ClientRequestToken=tok)
    with aws_error("ResourceExistsException", msg_token_in_use(tok, arn)):
        sm.put_secret_value(SecretId=name, SecretString="3", ClientRequestToken=tok)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "2"


def test_put_without_value_rejected(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="1")
    with aws_error(("InvalidRequestException", "InvalidParameterException")):
        sm.put_secret_value(SecretId=name)
    assert len(versions(sm, name, include_deprecated=True)) == 1


def test_put_missing_secret(sm, new_name):
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.put_secret_value(SecretId=new_name(), SecretString="x")


# ------------------------------------------------------------------------------------------
# UpdateSecret
# ------------------------------------------------------------------------------------------


def test_update_metadata_only_returns_no_version(sm, new_name):
    name = new_name()
    created = sm.create_secret(Name=name, SecretString="1")
    before = sm.describe_secret(SecretId=name)
    resp = sm.update_secret(SecretId=name, Description="new description")
    assert resp["ARN"] == created["ARN"] and resp["Name"] == name
    assert "VersionId" not in resp
    after = sm.describe_secret(SecretId=name)
    assert after["Description"] == "new description"
    assert after["VersionIdsToStages"] == before["VersionIdsToStages"]
    assert after["LastChangedDate"] >= before["LastChangedDate"]


def test_update_with_value_moves_current(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    tok = token()
    resp = sm.update_secret(SecretId=name, SecretString="2", Description="d",
                            ClientRequestToken=tok)
    assert resp["VersionId"] == tok
    assert stages(sm, name) == {v1: ["AWSPREVIOUS"], tok: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "2"
    assert sm.describe_secret(SecretId=name)["Description"] == "d"
    # Replaying the same token and value succeeds and echoes the VersionId.
    assert sm.update_secret(SecretId=name, SecretString="2", ClientRequestToken=tok)["VersionId"] == tok
    with aws_error("ResourceExistsException"):
        sm.update_secret(SecretId=name, SecretString="other", ClientRequestToken=tok)


def test_update_binary_value(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="1")
    sm.update_secret(SecretId=name, SecretBinary=b"\xde\xad")
    got = sm.get_secret_value(SecretId=name)
    assert got["SecretBinary"] == b"\xde\xad" and "SecretString" not in got


def test_update_value_on_secret_without_versions(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name)
    vid = sm.update_secret(SecretId=name, SecretString="first")["VersionId"]
    assert stages(sm, name) == {vid: ["AWSCURRENT"]}


def test_update_missing_secret(sm, new_name):
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.update_secret(SecretId=new_name(), Description="x")


# ------------------------------------------------------------------------------------------
# ListSecretVersionIds
# ------------------------------------------------------------------------------------------


def test_list_secret_version_ids(sm, new_name):
    name = new_name()
    created = sm.create_secret(Name=name, SecretString="1")
    v1 = created["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="2")["VersionId"]
    v3 = sm.put_secret_value(SecretId=name, SecretString="3")["VersionId"]
    resp = sm.list_secret_version_ids(SecretId=name)
    assert resp["ARN"] == created["ARN"] and resp["Name"] == name
    entries = {v["VersionId"]: v for v in resp["Versions"]}
    assert set(entries) == {v2, v3}
    assert entries[v3]["VersionStages"] == ["AWSCURRENT"]
    assert entries[v2]["VersionStages"] == ["AWSPREVIOUS"]
    for entry in entries.values():
        assert isinstance(entry["CreatedDate"], dt.datetime)
        assert entry["KmsKeyIds"] == ["DefaultEncryptionKey"]
    full = versions(sm, name, include_deprecated=True)
    assert set(full) == {v1, v2, v3}
    assert "VersionStages" not in full[v1]


def test_list_secret_version_ids_pagination(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="0")
    for i in range(1, 5):
        sm.put_secret_value(SecretId=name, SecretString=str(i), VersionStages=[f"L{i}"])
    seen = []
    kwargs = {"SecretId": name, "MaxResults": 2}
    for _ in range(10):
        page = sm.list_secret_version_ids(**kwargs)
        assert len(page["Versions"]) <= 2
        seen += [v["VersionId"] for v in page["Versions"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    else:
        pytest.fail("ListSecretVersionIds pagination did not terminate")
    assert len(seen) == len(set(seen)) == 5


def test_list_secret_version_ids_missing(sm, new_name):
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.list_secret_version_ids(SecretId=new_name())


# ------------------------------------------------------------------------------------------
# UpdateSecretVersionStage
# ------------------------------------------------------------------------------------------


def test_stage_current_requires_remove_from(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="2")["VersionId"]
    with aws_error("InvalidParameterException", msg_remove_from_empty(v2)):
        sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=v1)
    assert stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}


def test_stage_move_current_moves_previous(sm, new_name):
    name = new_name()
    created = sm.create_secret(Name=name, SecretString="1")
    v1 = created["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="2", VersionStages=["AWSPENDING"])["VersionId"]
    resp = sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                          MoveToVersionId=v2, RemoveFromVersionId=v1)
    assert resp["ARN"] == created["ARN"] and resp["Name"] == name
    # Labels on the target are kept; AWSPREVIOUS goes to the version that lost AWSCURRENT.
    assert stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT", "AWSPENDING"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "2"


def test_stage_move_keeps_custom_labels(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="2")["VersionId"]  # v1 AWSPREVIOUS
    sm.update_secret_version_stage(SecretId=name, VersionStage="PUT0", MoveToVersionId=v2)
    sm.update_secret_version_stage(SecretId=name, VersionStage="OLD", MoveToVersionId=v1)
    v3 = sm.put_secret_value(SecretId=name, SecretString="3", VersionStages=["NEXT"])["VersionId"]
    assert stages(sm, name) == {v1: ["AWSPREVIOUS", "OLD"], v2: ["AWSCURRENT", "PUT0"],
                                v3: ["NEXT"]}
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                   MoveToVersionId=v3, RemoveFromVersionId=v2)
    assert stages(sm, name) == {v1: ["OLD"], v2: ["AWSPREVIOUS", "PUT0"],
                                v3: ["AWSCURRENT", "NEXT"]}


def test_stage_custom_label_move_and_remove_only(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="2")["VersionId"]
    sm.update_secret_version_stage(SecretId=name, VersionStage="blue", MoveToVersionId=v1)
    assert stages(sm, name) == {v1: ["AWSPREVIOUS", "blue"], v2: ["AWSCURRENT"]}
    sm.update_secret_version_stage(SecretId=name, VersionStage="blue",
                                   MoveToVersionId=v2, RemoveFromVersionId=v1)
    assert stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT", "blue"]}
    # Remove only.
    sm.update_secret_version_stage(SecretId=name, VersionStage="blue", RemoveFromVersionId=v2)
    assert stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["VersionId"] == v2


def test_stage_remove_previous_deprecates_version(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="2")["VersionId"]
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSPREVIOUS", RemoveFromVersionId=v1)
    assert stages(sm, name) == {v2: ["AWSCURRENT"]}
    assert set(versions(sm, name)) == {v2}
    assert set(versions(sm, name, include_deprecated=True)) == {v1, v2}


def test_stage_label_on_other_version_requires_remove_from(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="2", VersionStages=["green"])["VersionId"]
    with aws_error(("InvalidParameterException", "InvalidRequestException")):
        sm.update_secret_version_stage(SecretId=name, VersionStage="green", MoveToVersionId=v1)
    assert stages(sm, name) == {v1: ["AWSCURRENT"], v2: ["green"]}


def test_stage_unknown_version(sm, new_name):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    with aws_error(("InvalidParameterException", "ResourceNotFoundException")):
        sm.update_secret_version_stage(SecretId=name, VersionStage="x", MoveToVersionId=token())
    assert stages(sm, name) == {v1: ["AWSCURRENT"]}


def test_stage_missing_secret(sm, new_name):
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.update_secret_version_stage(SecretId=new_name(), VersionStage="x",
                                       MoveToVersionId=token())
