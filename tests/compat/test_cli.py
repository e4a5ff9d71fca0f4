"""The README quick start, with the unmodified AWS CLI (v1) configured by environment only."""

from __future__ import annotations

import base64
import json

from compat_helpers import (
    MSG_MARKED_FOR_DELETION,
    MSG_NOT_FOUND,
    arn_pattern,
)

DB_VALUE = '{"username":"u","password":"p"}'


def test_quick_start(aws, new_name, tmp_path):
    name = new_name("db")

    # create-secret
    created = aws("secretsmanager", "create-secret", "--name", name, "--secret-string", DB_VALUE)
    assert created["Name"] == name
    assert arn_pattern(name).match(created["ARN"]), created["ARN"]
    v1 = created["VersionId"]

    # get-secret-value
    got = aws("secretsmanager", "get-secret-value", "--secret-id", name)
    assert got["SecretString"] == DB_VALUE
    assert json.loads(got["SecretString"]) == {"username": "u", "password": "p"}
    assert got["VersionId"] == v1
    assert got["VersionStages"] == ["AWSCURRENT"]
    assert got["ARN"] == created["ARN"]

    # describe-secret
    desc = aws("secretsmanager", "describe-secret", "--secret-id", name)
    assert desc["Name"] == name and desc["ARN"] == created["ARN"]
    assert desc["VersionIdsToStages"] == {v1: ["AWSCURRENT"]}
    assert "KmsKeyId" not in desc
    assert "Tags" not in desc

    # list-secrets
    listed = aws("secretsmanager", "list-secrets", "--filters", f"Key=name,Values={name}")
    assert [s["Name"] for s in listed["SecretList"]] == [name]

    # put-secret-value
    put = aws("secretsmanager", "put-secret-value", "--secret-id", name,
              "--secret-string", '{"username":"u","password":"p2"}')
    v2 = put["VersionId"]
    assert v2 != v1
    assert put["VersionStages"] == ["AWSCURRENT"]
    assert aws("secretsmanager", "get-secret-value", "--secret-id", name)["SecretString"] == (
        '{"username":"u","password":"p2"}'
    )
    prev = aws("secretsmanager", "get-secret-value", "--secret-id", name,
               "--version-stage", "AWSPREVIOUS")
    assert prev["VersionId"] == v1 and prev["SecretString"] == DB_VALUE

    # update-secret (metadata only: no VersionId)
    upd = aws("secretsmanager", "update-secret", "--secret-id", name, "--description", "quick start")
    assert upd["Name"] == name and "VersionId" not in upd
    assert aws("secretsmanager", "describe-secret", "--secret-id", name)["Description"] == (
        "quick start"
    )

    # tag-resource / untag-resource (no output)
    assert aws("secretsmanager", "tag-resource", "--secret-id", name,
               "--tags", "Key=env,Value=dev", "Key=team,Value=core") is None
    desc = aws("secretsmanager", "describe-secret", "--secret-id", name)
    assert sorted((t["Key"], t["Value"]) for t in desc["Tags"]) == [("env", "dev"), ("team", "core")]
    assert aws("secretsmanager", "untag-resource", "--secret-id", name,
               "--tag-keys", "env", "team") is None
    assert aws("secretsmanager", "describe-secret", "--secret-id", name)["Tags"] == []

    # list-secret-version-ids
    versions = aws("secretsmanager", "list-secret-version-ids", "--secret-id", name)
    stages = {v["VersionId"]: v["VersionStages"] for v in versions["Versions"]}
    assert stages == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    assert versions["Name"] == name and versions["ARN"] == created["ARN"]

    # update-secret-version-stage: roll back to v1
    moved = aws("secretsmanager", "update-secret-version-stage", "--secret-id", name,
                "--version-stage", "AWSCURRENT", "--move-to-version-id", v1,
                "--remove-from-version-id", v2)
    assert moved == {"ARN": created["ARN"], "Name": name}
    assert aws("secretsmanager", "get-secret-value", "--secret-id", name)["VersionId"] == v1
    desc = aws("secretsmanager", "describe-secret", "--secret-id", name)
    assert desc["VersionIdsToStages"] == {v1: ["AWSCURRENT"], v2: ["AWSPREVIOUS"]}

    # delete-secret / restore-secret
    deleted = aws("secretsmanager", "delete-secret", "--secret-id", name,
                  "--recovery-window-in-days", "7")
    assert deleted["Name"] == name and "DeletionDate" in deleted
    res = aws.fails("secretsmanager", "get-secret-value", "--secret-id", name)
    assert res.error_code() == "InvalidRequestException", res.stderr
    assert res.error_message() == MSG_MARKED_FOR_DELETION
    restored = aws("secretsmanager", "restore-secret", "--secret-id", name)
    assert restored == {"ARN": created["ARN"], "Name": name}
    assert aws("secretsmanager", "get-secret-value", "--secret-id", name)["SecretString"] == DB_VALUE

    # get-random-password
    pw = aws("secretsmanager", "get-random-password", "--password-length", "20",
             "--exclude-punctuation")["RandomPassword"]
    assert len(pw) == 20 and pw.isalnum()

    # batch-get-secret-value
    batch = aws("secretsmanager", "batch-get-secret-value", "--secret-id-list", name)
    assert [v["Name"] for v in batch["SecretValues"]] == [name]
    assert batch["SecretValues"][0]["SecretString"] == DB_VALUE
    assert batch.get("Errors", []) == []

    # force delete, then it is gone
    aws("secretsmanager", "delete-secret", "--secret-id", name, "--force-delete-without-recovery")
    res = aws.fails("secretsmanager", "describe-secret", "--secret-id", name)
    assert res.error_code() == "ResourceNotFoundException"
    assert res.error_message() == MSG_NOT_FOUND


def test_cli_binary_secret(aws, new_name, tmp_path):
    name = new_name()
    blob = bytes(range(256)) * 4
    path = tmp_path / "blob.bin"
    path.write_bytes(blob)
    aws("secretsmanager", "create-secret", "--name", name, "--secret-binary", f"fileb://{path}")
    got = aws("secretsmanager", "get-secret-value", "--secret-id", name)
    assert "SecretString" not in got
    assert base64.b64decode(got["SecretBinary"]) == blob


def test_cli_secret_string_from_file(aws, new_name, tmp_path):
    name = new_name()
    path = tmp_path / "value.json"
    path.write_text('{"k": "v with spaces and \\"quotes\\""}')
    aws("secretsmanager", "create-secret", "--name", name, "--secret-string", f"file://{path}")
    got = aws("secretsmanager", "get-secret-value", "--secret-id", name)
    assert json.loads(got["SecretString"]) == {"k": 'v with spaces and "quotes"'}


def test_cli_not_found_error(aws, new_name):
    res = aws.fails("secretsmanager", "get-secret-value", "--secret-id", new_name())
    assert res.error_code() == "ResourceNotFoundException"
    assert res.error_message() == MSG_NOT_FOUND


def test_cli_with_generated_profile(aws, server, new_name):
    """`--profile strongbox` with the credentials file the server wrote at first start."""
    name = new_name()
    env = aws.env()
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(server.data_dir / "credentials")
    aws("secretsmanager", "create-secret", "--name", name, "--secret-string", "from-profile",
        "--profile", "strongbox", env=env)
    env["AWS_PROFILE"] = "strongbox"
    got = aws("secretsmanager", "get-secret-value", "--secret-id", name, env=env)
    assert got["SecretString"] == "from-profile"


def test_cli_endpoint_url_flag(aws, server, new_name):
    env = aws.env()
    del env["AWS_ENDPOINT_URL_SECRETS_MANAGER"]
    name = new_name()
    aws("secretsmanager", "create-secret", "--name", name, "--secret-string", "x",
        "--endpoint-url", server.endpoint, env=env)
    got = aws("secretsmanager", "describe-secret", "--secret-id", name,
              "--endpoint-url", server.endpoint, env=env)
    assert got["Name"] == name


def test_cli_bad_credentials_rejected(aws, new_name):
    env = aws.env(AWS_SECRET_ACCESS_KEY="wrong-secret")
    res = aws.fails("secretsmanager", "list-secrets", env=env)
    assert res.error_code() == "InvalidSignatureException", res.stderr
    env = aws.env(AWS_ACCESS_KEY_ID="AKIANOSUCHKEY0000000")
    res = aws.fails("secretsmanager", "list-secrets", env=env)
    assert res.error_code() == "UnrecognizedClientException", res.stderr


def test_cli_regions_from_env(aws, new_name):
    name = new_name()
    aws("secretsmanager", "create-secret", "--name", name, "--secret-string", "east",
        env=aws.env(region="us-east-1"))
    res = aws.fails("secretsmanager", "get-secret-value", "--secret-id", name,
                    env=aws.env(region="eu-west-1"))
    assert res.error_code() == "ResourceNotFoundException"
    created = aws("secretsmanager", "create-secret", "--name", name, "--secret-string", "west",
                  env=aws.env(region="eu-west-1"))
    assert arn_pattern(name, region="eu-west-1").match(created["ARN"])
    assert aws("secretsmanager", "get-secret-value", "--secret-id", name,
               env=aws.env(region="eu-west-1"))["SecretString"] == "west"
    assert aws("secretsmanager", "get-secret-value", "--secret-id", name,
               env=aws.env(region="us-east-1"))["SecretString"] == "east"
