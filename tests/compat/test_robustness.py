"""DESIGN promises 5 and 6 from the outside: bad input gets a 4xx AWS error (never a 5xx or a
dropped connection), and concurrent writers never leave zero or two AWSCURRENT versions."""

from __future__ import annotations

import concurrent.futures as cf
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from raw_client import call

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"

JUNK = [
    ("DescribeSecret", {"SecretId": None}),
    ("DescribeSecret", {"SecretId": ""}),
    ("DescribeSecret", {"SecretId": "x" * 100_000}),
    ("DescribeSecret", {"SecretId": "\u0000"}),
    ("DescribeSecret", {"SecretId": "arn:"}),
    ("DescribeSecret", {"SecretId": "arn:aws:secretsmanager:"}),
    ("DescribeSecret", {"SecretId": ARN}),
    ("DescribeSecret", {"SecretId": ARN + "-"}),
    ("DescribeSecret", {"SecretId": ARN + "x-abcdef"}),
    ("DescribeSecret", {"SecretId": "arn:aws:secretsmanager:us-east-1:999:secret:x-abcdef"}),
    ("DescribeSecret", {"SecretId": "arn:aws:kms:us-east-1:123456789012:key/abc"}),
    ("GetSecretValue", {"SecretId": "x", "VersionId": "v" * 40}),
    ("GetSecretValue", {"SecretId": "x", "VersionId": ""}),
    ("GetSecretValue", {"SecretId": "x", "VersionStage": ""}),
    ("GetRandomPassword", {"PasswordLength": -1}),
    ("GetRandomPassword", {"PasswordLength": 0}),
    ("GetRandomPassword", {"PasswordLength": 2**63}),
    ("GetRandomPassword", {"PasswordLength": 2**64 + 5}),
    ("GetRandomPassword", {"PasswordLength": 1e308}),
    ("GetRandomPassword", {"PasswordLength": 8, "ExcludeCharacters": "x" * 5000}),
    ("GetRandomPassword", {"PasswordLength": 8, "ExcludeNumbers": True, "ExcludePunctuation": True,
                           "ExcludeUppercase": True, "ExcludeLowercase": True}),
    ("ListSecrets", {"MaxResults": 0}),
    ("ListSecrets", {"MaxResults": -5}),
    ("ListSecrets", {"NextToken": ""}),
    ("ListSecrets", {"NextToken": "x" * 5000}),
    ("ListSecrets", {"Filters": [{"Key": "name", "Values": []}]}),
    ("ListSecrets", {"Filters": [{"Key": "name", "Values": ["x" * 513]}]}),
    ("ListSecrets", {"Filters": [None]}),
    ("ListSecrets", {"SortBy": "size"}),
    ("ListSecretVersionIds", {"SecretId": "x", "MaxResults": 1000}),
    ("BatchGetSecretValue", {"SecretIdList": []}),
    ("BatchGetSecretValue", {"SecretIdList": ["x"] * 21}),
    ("BatchGetSecretValue", {"Filters": [{"Key": "name", "Values": ["x"]}], "MaxResults": 21}),
    ("CreateSecret", {"Name": "", "ClientRequestToken": str(uuid.uuid4())}),
    ("CreateSecret", {"Name": "x", "ClientRequestToken": "short"}),
    ("CreateSecret", {"Name": "x", "ClientRequestToken": str(uuid.uuid4()), "SecretString": ""}),
    ("CreateSecret", {"Name": "x", "ClientRequestToken": str(uuid.uuid4()), "SecretBinary": ""}),
    ("CreateSecret", {"Name": "x", "ClientRequestToken": str(uuid.uuid4()),
                      "Tags": [{"Key": "", "Value": "v"}]}),
    ("PutSecretValue", {"SecretId": "x", "ClientRequestToken": str(uuid.uuid4()),
                        "SecretString": "v", "VersionStages": []}),
    ("PutSecretValue", {"SecretId": "x", "ClientRequestToken": str(uuid.uuid4()),
                        "SecretString": "v", "VersionStages": ["s"] * 21}),
    ("DeleteSecret", {"SecretId": "x", "RecoveryWindowInDays": 2**63}),
    ("DeleteSecret", {"SecretId": "x", "RecoveryWindowInDays": "7"}),
    ("UpdateSecretVersionStage", {"SecretId": "x", "VersionStage": ""}),
    ("TagResource", {"SecretId": "x", "Tags": [{"Key": "k", "Value": "v"}] * 51}),
    ("UntagResource", {"SecretId": "x", "TagKeys": [""]}),
]


@pytest.mark.parametrize("op, body", JUNK, ids=[f"{i}-{op}" for i, (op, _) in enumerate(JUNK)])
def test_bad_input_gets_a_4xx_aws_error(server, op, body):
    resp = call(server, f"secretsmanager.{op}", json.dumps(body))
    assert 400 <= resp.status < 500, f"{op} {body!r:.200} -> HTTP {resp.status} {resp.body[:300]!r}"
    assert resp.error_type, f"no __type in {resp.body[:300]!r}"
    assert resp.headers.get("x-amzn-requestid")


# The model does not mark these members required, so AWS's answer is not pinned down; whatever
# the server decides, it must not fail with a 5xx.
UNPINNED = [
    ("ListSecrets", {"Filters": [{"Key": "name"}]}),
    ("ListSecrets", {"Filters": [{"Values": ["x"]}]}),
    ("CreateSecret", {"Name": f"unpinned-{uuid.uuid4().hex}",
                      "ClientRequestToken": str(uuid.uuid4()), "Tags": [{"Value": "v"}]}),
    ("TagResource", {"SecretId": "x", "Tags": [{"Key": "k"}]}),
]


@pytest.mark.parametrize("op, body", UNPINNED,
                         ids=[f"{i}-{op}" for i, (op, _) in enumerate(UNPINNED)])
def test_unpinned_input_never_fails_with_5xx(server, op, body):
    resp = call(server, f"secretsmanager.{op}", json.dumps(body))
    assert resp.status < 500, f"{op} {body!r:.200} -> HTTP {resp.status} {resp.body[:300]!r}"
    assert resp.headers.get("x-amzn-requestid")
    if resp.status >= 400:
        assert resp.error_type


RAW_JUNK = [
    b"",
    b"null",
    b"42",
    b'"string"',
    b"[" * 10_000 + b"]" * 10_000,
    b'{"SecretId": "\xff\xfe"}',
    b'{"SecretId": "a", "SecretId": "b"}',
    b"{" + b'"k":1,' * 50_000 + b'"SecretId":"x"}',
    b'\xef\xbb\xbf{"SecretId": "x"}',
]


@pytest.mark.parametrize("body", RAW_JUNK, ids=[f"raw{i}" for i in range(len(RAW_JUNK))])
def test_raw_junk_bodies(server, body):
    resp = call(server, "secretsmanager.DescribeSecret", body)
    assert 400 <= resp.status < 500, f"HTTP {resp.status} {resp.body[:300]!r}"
    assert resp.headers.get("x-amzn-requestid")


def test_large_body_is_rejected_cleanly(server):
    body = json.dumps({"Name": "big", "SecretString": "x" * (3 * 1024 * 1024),
                       "ClientRequestToken": str(uuid.uuid4())})
    try:
        resp = call(server, "secretsmanager.CreateSecret", body)
    except (ConnectionError, OSError):
        pass  # closing the connection on an oversized body is acceptable
    else:
        assert 400 <= resp.status < 500, f"HTTP {resp.status} {resp.body[:300]!r}"
    # The server is still up.
    assert call(server, "secretsmanager.GetRandomPassword", {}).status == 200


def test_request_ids_are_unique(server):
    ids = {call(server, "secretsmanager.GetRandomPassword", {}).headers["x-amzn-requestid"]
           for _ in range(5)}
    assert len(ids) == 5


# ------------------------------------------------------------------------------------------
# Concurrency
# ------------------------------------------------------------------------------------------

THREADS = 4


def test_concurrent_puts_keep_one_current(make_client, new_name):
    sm = make_client()
    name = new_name()
    sm.create_secret(Name=name, SecretString="v0")
    clients = [make_client() for _ in range(THREADS)]

    def worker(i):
        out = []
        for j in range(5):
            out.append(clients[i].put_secret_value(SecretId=name, SecretString=f"v{i}-{j}")["VersionId"])
        return out

    with cf.ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(worker, i) for i in range(THREADS)]
        written = [vid for f in futures for vid in f.result(timeout=120)]
    assert len(set(written)) == THREADS * 5

    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
    holders = lambda label: [v for v, s in stages.items() if label in s]  # noqa: E731
    assert len(holders("AWSCURRENT")) == 1, stages
    assert len(holders("AWSPREVIOUS")) == 1, stages
    assert holders("AWSCURRENT")[0] in written
    assert len(stages) == 2, stages
    labelled = sm.list_secret_version_ids(SecretId=name)["Versions"]
    assert len(labelled) == 2
    current = sm.get_secret_value(SecretId=name)
    assert current["VersionId"] == holders("AWSCURRENT")[0]


def test_concurrent_creates_same_name_one_wins(make_client, new_name):
    name = new_name()
    clients = [make_client() for _ in range(THREADS * 2)]

    def worker(i):
        try:
            return ("ok", clients[i].create_secret(Name=name, SecretString=f"v{i}")["VersionId"])
        except ClientError as exc:
            return ("err", exc.response["Error"]["Code"])

    with cf.ThreadPoolExecutor(len(clients)) as pool:
        results = [f.result(timeout=120) for f in [pool.submit(worker, i)
                                                  for i in range(len(clients))]]
    wins = [r for r in results if r[0] == "ok"]
    assert len(wins) == 1, results
    assert all(r == ("err", "ResourceExistsException") for r in results if r[0] == "err"), results
    sm = make_client()
    assert sm.get_secret_value(SecretId=name)["VersionId"] == wins[0][1]
