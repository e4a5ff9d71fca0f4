"""CloudTrail LookupEvents against Strongbox's audit log, with boto3 and the AWS CLI v1:
`aws cloudtrail lookup-events --endpoint-url ...` works unchanged."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest

from compat_helpers import ACCESS_KEY, BOTO_CONFIG, REGION, SECRET_KEY


@pytest.fixture(scope="module")
def cloudtrail(server):
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    )
    return session.client(
        "cloudtrail", endpoint_url=server.endpoint, region_name=REGION, config=BOTO_CONFIG
    )


def by_resource(cloudtrail, name: str) -> list[dict]:
    pages = cloudtrail.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": name}],
        PaginationConfig={"PageSize": 2},
    )
    return [e for page in pages for e in page["Events"]]


def test_lookup_events_with_boto3(sm, cloudtrail, new_name):
    name = new_name()
    value = f"never-logged-{name}"
    created = sm.create_secret(Name=name, SecretString=value)
    sm.get_secret_value(SecretId=name)
    sm.get_secret_value(SecretId=created["ARN"])

    events = by_resource(cloudtrail, name)
    assert [e["EventName"] for e in events] == ["GetSecretValue", "GetSecretValue", "CreateSecret"]
    get, create = events[0], events[2]
    assert get["ReadOnly"] == "true" and create["ReadOnly"] == "false"
    assert get["EventSource"] == "secretsmanager.amazonaws.com"
    assert get["Username"] == "root"
    assert get["AccessKeyId"] == ACCESS_KEY
    assert isinstance(get["EventTime"], dt.datetime)
    assert get["Resources"] == [
        {"ResourceType": "AWS::SecretsManager::Secret", "ResourceName": created["ARN"]}
    ]
    record = json.loads(get["CloudTrailEvent"])
    assert record["eventName"] == "GetSecretValue"
    assert record["requestParameters"] == {"secretId": created["ARN"]}
    assert record["responseElements"] is None
    assert json.loads(create["CloudTrailEvent"])["responseElements"] == {
        "arn": created["ARN"],
        "name": name,
        "versionId": created["VersionId"],
    }
    assert all(value not in e["CloudTrailEvent"] for e in events)


def test_lookup_events_errors(cloudtrail):
    now = dt.datetime.now(dt.timezone.utc)
    with pytest.raises(cloudtrail.exceptions.InvalidTimeRangeException):
        cloudtrail.lookup_events(StartTime=now, EndTime=now - dt.timedelta(hours=1))
    with pytest.raises(cloudtrail.exceptions.InvalidLookupAttributesException):
        cloudtrail.lookup_events(
            LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "a"},
                {"AttributeKey": "Username", "AttributeValue": "b"},
            ]
        )
    with pytest.raises(cloudtrail.exceptions.InvalidMaxResultsException):
        cloudtrail.lookup_events(MaxResults=51)
    with pytest.raises(cloudtrail.exceptions.InvalidNextTokenException):
        cloudtrail.lookup_events(NextToken="not-a-token")


def test_aws_cli_lookup_events(sm, aws, server, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="cli-secret")
    sm.describe_secret(SecretId=name)
    out = aws(
        "cloudtrail",
        "lookup-events",
        "--endpoint-url",
        server.endpoint,
        "--lookup-attributes",
        f"AttributeKey=ResourceName,AttributeValue={name}",
    )
    assert [e["EventName"] for e in out["Events"]] == ["DescribeSecret", "CreateSecret"]
    out = aws(
        "cloudtrail",
        "lookup-events",
        "--endpoint-url",
        server.endpoint,
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=CreateSecret",
        "--max-items",
        "1",
    )
    assert len(out["Events"]) == 1 and out["Events"][0]["EventName"] == "CreateSecret"
