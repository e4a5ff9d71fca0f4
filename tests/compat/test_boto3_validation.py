"""boto3 against Strongbox: input validation and error shapes (reference §1, §4, §6).

botocore only checks `required`, types and `min` on the client side, so `max`, `pattern` and
`enum` violations reach the server, which must answer 400 ValidationException and change nothing.
"""

from __future__ import annotations

import pytest

from compat_helpers import MSG_INVALID_NAME, MSG_NOT_FOUND, aws_error, token

CORAL = r"^1 validation error detected: Value( '.*')? at '{path}' failed to satisfy constraint: {rule}$"


def coral(path: str, rule: str) -> str:
    import re

    return CORAL.format(path=re.escape(path), rule=re.escape(rule))


# ------------------------------------------------------------------------------------------
# ResourceNotFoundException, the same for every operation
# ------------------------------------------------------------------------------------------

NOT_FOUND_CALLS = {
    "DescribeSecret": lambda sm, s: sm.describe_secret(SecretId=s),
    "GetSecretValue": lambda sm, s: sm.get_secret_value(SecretId=s),
    "PutSecretValue": lambda sm, s: sm.put_secret_value(SecretId=s, SecretString="x"),
    "UpdateSecret": lambda sm, s: sm.update_secret(SecretId=s, SecretString="x"),
    "DeleteSecret": lambda sm, s: sm.delete_secret(SecretId=s),
    "RestoreSecret": lambda sm, s: sm.restore_secret(SecretId=s),
    "TagResource": lambda sm, s: sm.tag_resource(SecretId=s, Tags=[{"Key": "k", "Value": "v"}]),
    "UntagResource": lambda sm, s: sm.untag_resource(SecretId=s, TagKeys=["k"]),
    "ListSecretVersionIds": lambda sm, s: sm.list_secret_version_ids(SecretId=s),
    "UpdateSecretVersionStage": lambda sm, s: sm.update_secret_version_stage(
        SecretId=s, VersionStage="AWSCURRENT", MoveToVersionId=token()),
}


@pytest.mark.parametrize("op", sorted(NOT_FOUND_CALLS))
def test_not_found_by_name(sm, new_name, op):
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND) as ei:
        NOT_FOUND_CALLS[op](sm, new_name())
    assert ei.value.response.get("Message") == MSG_NOT_FOUND


@pytest.mark.parametrize("op", ["DescribeSecret", "GetSecretValue", "TagResource"])
def test_not_found_by_arn(sm, new_name, op):
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{new_name()}-AbC123"
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        NOT_FOUND_CALLS[op](sm, arn)


# ------------------------------------------------------------------------------------------
# Invalid name characters
# ------------------------------------------------------------------------------------------

BAD_NAMES = ["has space", "hash#tag", "star*", "per%cent", "tilde~", "comma,", "ümlaut",
             "秘密", "semi;colon", "quote'", "back\\slash"]


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_create_invalid_name_characters(sm, new_name, bad):
    name = f"{new_name()}-{bad}"
    with aws_error("ValidationException", MSG_INVALID_NAME):
        sm.create_secret(Name=name, SecretString="x")


def test_create_allowed_name_characters(sm, new_name):
    name = f"{new_name()}/A-z_0+9=.@"
    sm.create_secret(Name=name, SecretString="x")
    assert sm.get_secret_value(SecretId=name)["Name"] == name


@pytest.mark.parametrize(
    "op", ["DescribeSecret", "GetSecretValue", "PutSecretValue", "UpdateSecret", "TagResource",
           "ListSecretVersionIds"]
)
def test_invalid_characters_in_secret_id(sm, op):
    with aws_error("ValidationException", MSG_INVALID_NAME):
        NOT_FOUND_CALLS[op](sm, "no such secret!?")


# ------------------------------------------------------------------------------------------
# max / length constraints
# ------------------------------------------------------------------------------------------


def test_name_too_long(sm):
    with aws_error("ValidationException",
                   message_re=coral("name", "Member must have length less than or equal to 512")):
        sm.create_secret(Name="n" * 513, SecretString="x")


def test_name_max_length_accepted(sm, new_name):
    base = new_name()
    name = base + "x" * (512 - len(base))
    assert len(name) == 512
    sm.create_secret(Name=name, SecretString="x")
    assert sm.describe_secret(SecretId=name)["Name"] == name


def test_description_too_long(sm, new_name):
    name = new_name()
    with aws_error("ValidationException",
                   message_re=coral("description",
                                    "Member must have length less than or equal to 2048")):
        sm.create_secret(Name=name, SecretString="x", Description="d" * 2049)
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.describe_secret(SecretId=name)
    sm.create_secret(Name=name, SecretString="x", Description="d" * 2048)
    with aws_error("ValidationException"):
        sm.update_secret(SecretId=name, Description="d" * 2049)
    assert sm.describe_secret(SecretId=name)["Description"] == "d" * 2048


def test_secret_string_size_limit(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="s" * 65536)
    assert len(sm.get_secret_value(SecretId=name)["SecretString"]) == 65536
    with aws_error("ValidationException"):
        sm.put_secret_value(SecretId=name, SecretString="s" * 65537)
    too_big = new_name()
    with aws_error("ValidationException"):
        sm.create_secret(Name=too_big, SecretString="s" * 65537)
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.describe_secret(SecretId=too_big)


def test_secret_binary_size_limit(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretBinary=b"\x01" * 65536)
    assert sm.get_secret_value(SecretId=name)["SecretBinary"] == b"\x01" * 65536
    with aws_error("ValidationException"):
        sm.put_secret_value(SecretId=name, SecretBinary=b"\x01" * 65537)
    assert len(sm.list_secret_version_ids(SecretId=name)["Versions"]) == 1


def test_tag_limits(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    with aws_error("ValidationException"):
        sm.tag_resource(SecretId=name, Tags=[{"Key": "k" * 129, "Value": "v"}])
    with aws_error("ValidationException"):
        sm.tag_resource(SecretId=name, Tags=[{"Key": "k", "Value": "v" * 257}])
    with aws_error("ValidationException"):
        sm.untag_resource(SecretId=name, TagKeys=["k" * 129])
    sm.tag_resource(SecretId=name, Tags=[{"Key": "k" * 128, "Value": "v" * 256}])
    tags = sm.describe_secret(SecretId=name)["Tags"]
    assert tags == [{"Key": "k" * 128, "Value": "v" * 256}]


def test_secret_id_too_long(sm):
    with aws_error("ValidationException"):
        sm.describe_secret(SecretId="a" * 2049)


def test_version_stage_too_long(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    with aws_error("ValidationException"):
        sm.get_secret_value(SecretId=name, VersionStage="L" * 257)


def test_client_request_token_too_long(sm, new_name):
    with aws_error(("ValidationException", "InvalidParameterException")):
        sm.create_secret(Name=new_name(), SecretString="x", ClientRequestToken="t" * 65)


def test_too_many_filters(sm):
    with aws_error("ValidationException"):
        sm.list_secrets(Filters=[{"Key": "name", "Values": [f"x{i}"]} for i in range(11)])


def test_filter_value_pattern(sm):
    with aws_error("ValidationException"):
        sm.list_secrets(Filters=[{"Key": "name", "Values": ["bad*value"]}])


# ------------------------------------------------------------------------------------------
# Quotas and reserved names (reference §4)
# ------------------------------------------------------------------------------------------

TAG_LIMIT_CODES = ("LimitExceededException", "ValidationException", "InvalidParameterException")


def test_tag_count_limit_on_tag_resource(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    sm.tag_resource(SecretId=name, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    with aws_error(TAG_LIMIT_CODES):
        sm.tag_resource(SecretId=name, Tags=[{"Key": "one-too-many", "Value": "v"}])
    assert len(sm.describe_secret(SecretId=name)["Tags"]) == 50
    # Overwriting an existing key does not add a tag.
    sm.tag_resource(SecretId=name, Tags=[{"Key": "k0", "Value": "new"}])


def test_tag_count_limit_on_create(sm, new_name):
    name = new_name()
    with aws_error(TAG_LIMIT_CODES):
        sm.create_secret(Name=name, SecretString="x",
                         Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    with aws_error("ResourceNotFoundException", MSG_NOT_FOUND):
        sm.describe_secret(SecretId=name)


def test_reserved_aws_tag_prefix(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    with aws_error(("ValidationException", "InvalidParameterException",
                    "InvalidRequestException")):
        sm.tag_resource(SecretId=name, Tags=[{"Key": "aws:reserved", "Value": "v"}])
    assert "Tags" not in sm.describe_secret(SecretId=name)


def test_staging_label_limit(sm, new_name):
    """At most 20 distinct staging labels across the versions of a secret."""
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")  # AWSCURRENT is label 1
    sm.put_secret_value(SecretId=name, SecretString="y",
                        VersionStages=[f"L{i:02d}" for i in range(19)])  # labels 2..20
    with aws_error("LimitExceededException"):
        sm.put_secret_value(SecretId=name, SecretString="z", VersionStages=["L99"])
    labels = [label for stages in sm.describe_secret(SecretId=name)["VersionIdsToStages"].values()
              for label in stages]
    assert len(labels) == 20
