"""Regions come from the SigV4 scope: the same name in two regions is two secrets."""

from __future__ import annotations

from compat_helpers import MSG_NOT_FOUND, arn_pattern, aws_error


def test_same_name_in_two_regions_is_two_secrets(sm, sm_eu, new_name):
    name = new_name()
    east = sm.create_secret(Name=name, SecretString="east")
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm_eu.get_secret_value(SecretId=name)
    west = sm_eu.create_secret(Name=name, SecretString="west")
    assert arn_pattern(name, region="us-east-1").match(east["ARN"])
    assert arn_pattern(name, region="eu-west-1").match(west["ARN"])
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "east"
    assert sm_eu.get_secret_value(SecretId=name)["SecretString"] == "west"

    # Writes in one region leave the other alone.
    sm_eu.put_secret_value(SecretId=name, SecretString="west-2")
    sm_eu.tag_resource(SecretId=name, Tags=[{"Key": "region", "Value": "eu"}])
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "east"
    assert "Tags" not in sm.describe_secret(SecretId=name)
    assert list(sm.describe_secret(SecretId=name)["VersionIdsToStages"].values()) == [["AWSCURRENT"]]

    # Listing is per region.
    flt = [{"Key": "name", "Values": [name]}]
    assert [s["ARN"] for s in sm.list_secrets(Filters=flt)["SecretList"]] == [east["ARN"]]
    assert [s["ARN"] for s in sm_eu.list_secrets(Filters=flt)["SecretList"]] == [west["ARN"]]

    # Deleting in one region leaves the other.
    sm_eu.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm_eu.describe_secret(SecretId=name)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "east"


def test_region_scoped_name_reuse_while_scheduled(sm, sm_eu, new_name):
    """A name pending deletion in one region does not block the other region."""
    name = new_name()
    sm.create_secret(Name=name, SecretString="east")
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    sm_eu.create_secret(Name=name, SecretString="west")
    assert sm_eu.get_secret_value(SecretId=name)["SecretString"] == "west"


def test_batch_get_is_region_scoped(sm, sm_eu, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="east")
    resp = sm_eu.batch_get_secret_value(SecretIdList=[name])
    assert resp["SecretValues"] == []
    assert [e["SecretId"] for e in resp["Errors"]] == [name]
