"""IAM, STS and access control with unmodified boto3 and the AWS CLI (v1).

IAM and STS speak the Query protocol on the same port as Secrets Manager; clients find them
through `endpoint_url` (boto3), `--endpoint-url` or `AWS_ENDPOINT_URL_IAM` /
`AWS_ENDPOINT_URL_STS` (CLI). Every identity is made inside the session server's account
123456789012 with unique names, except the offline-administration test, which runs the
`strongbox` admin commands on its own stopped data directory and then serves it.

Not covered here: expiry of temporary credentials (the shortest session is 900 s of real time;
the Rust suite moves the server's manual clock instead, tests/iam_sdk.rs).
"""

from __future__ import annotations

import configparser
import json
import subprocess
import uuid
from pathlib import Path

import boto3
import pytest

from compat_helpers import (
    ACCESS_KEY,
    ACCOUNT_ID,
    BOTO_CONFIG,
    REGION,
    SECRET_KEY,
    aws_error,
    start_server,
    strongbox_bin,
)

OTHER_ACCOUNT = "222222222222"
MSG_PUBLIC_POLICY = (
    "This resource policy contains a policy that grants public access to the resource. "
    "Resource policies that grant public access are blocked."
)
MSG_DEFAULT_KEY_CROSS_ACCOUNT = (
    "You can't access a secret from a different AWS account if you encrypt the secret with "
    "the default KMS service key."
)


def ident(prefix: str) -> str:
    """A unique IAM name (users, roles, policies), well under the 64-character limit."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def user_arn(name: str, account: str = ACCOUNT_ID, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:user{path}{name}"


def denied_msg(principal: str, action: str, resource: str | None) -> str:
    on = f" on resource: {resource}" if resource else ""
    return (
        f"User: {principal} is not authorized to perform: {action}{on} "
        f"because no identity-based policy allows the {action} action"
    )


def allow(actions: list[str] | str, resources: list[str] | str = "*", **extra) -> dict:
    statement = {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}
    return {"Version": "2012-10-17", "Statement": [statement]}


class Clients:
    """boto3 clients of the three services for one credential."""

    def __init__(self, endpoint: str, key_id: str, secret: str, token: str | None = None):
        self.key_id = key_id
        session = boto3.session.Session(
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            aws_session_token=token,
            region_name=REGION,
        )
        self.iam = session.client("iam", endpoint_url=endpoint, config=BOTO_CONFIG)
        self.sts = session.client("sts", endpoint_url=endpoint, config=BOTO_CONFIG)
        self.sm = session.client("secretsmanager", endpoint_url=endpoint, config=BOTO_CONFIG)


@pytest.fixture(scope="module")
def root(server) -> Clients:
    return Clients(server.endpoint, ACCESS_KEY, SECRET_KEY)


def new_user(root: Clients, endpoint: str, name: str, policy: dict | None = None,
             **create_args) -> Clients:
    root.iam.create_user(UserName=name, **create_args)
    if policy is not None:
        root.iam.put_user_policy(UserName=name, PolicyName="inline",
                                 PolicyDocument=json.dumps(policy))
    key = root.iam.create_access_key(UserName=name)["AccessKey"]
    return Clients(endpoint, key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture
def iam_cli(aws, server):
    """The `aws` fixture with IAM and STS endpoints set by environment, as the issue asks."""

    def env(**extra: str) -> dict[str, str]:
        return aws.env(AWS_ENDPOINT_URL_IAM=server.endpoint, AWS_ENDPOINT_URL_STS=server.endpoint,
                       **extra)

    aws.iam_env = env
    return aws


# ------------------------------------------------------------------------------------------
# AWS CLI
# ------------------------------------------------------------------------------------------


def test_cli_user_key_and_inline_policy(iam_cli, root, new_name):
    aws = iam_cli
    env = aws.iam_env()
    secret_name = new_name("cli-iam")
    arn = root.sm.create_secret(Name=secret_name, SecretString="cli-secret")["ARN"]
    other = root.sm.create_secret(Name=new_name("cli-iam-other"), SecretString="no")["ARN"]
    name = ident("cli")

    created = aws("iam", "create-user", "--user-name", name, "--tags", "Key=team,Value=blue",
                  env=env)
    assert created["User"]["UserName"] == name
    assert created["User"]["Arn"] == user_arn(name)
    assert created["User"]["UserId"].startswith("AIDA")
    assert created["User"]["Tags"] == [{"Key": "team", "Value": "blue"}]

    key = aws("iam", "create-access-key", "--user-name", name, env=env)["AccessKey"]
    assert key["UserName"] == name and key["Status"] == "Active"
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40

    policy = allow("secretsmanager:GetSecretValue", [arn])
    assert aws("iam", "put-user-policy", "--user-name", name, "--policy-name", "read-one",
               "--policy-document", json.dumps(policy), env=env) is None
    got = aws("iam", "get-user-policy", "--user-name", name, "--policy-name", "read-one", env=env)
    assert got["UserName"] == name and got["PolicyName"] == "read-one"
    # botocore decodes IAM's URL-encoded document into JSON.
    assert got["PolicyDocument"] == policy
    listed = aws("iam", "list-user-policies", "--user-name", name, env=env)
    assert listed["PolicyNames"] == ["read-one"]
    users = aws("iam", "list-users", env=env)["Users"]
    assert name in [u["UserName"] for u in users]

    user_env = aws.iam_env(AWS_ACCESS_KEY_ID=key["AccessKeyId"],
                           AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    who = aws("sts", "get-caller-identity", env=user_env)
    assert who == {"UserId": created["User"]["UserId"], "Account": ACCOUNT_ID,
                   "Arn": user_arn(name)}
    assert aws("secretsmanager", "get-secret-value", "--secret-id", arn,
               env=user_env)["SecretString"] == "cli-secret"
    res = aws.fails("secretsmanager", "get-secret-value", "--secret-id", other, env=user_env)
    assert res.error_code() == "AccessDeniedException", res.stderr
    assert res.error_message() == denied_msg(user_arn(name), "secretsmanager:GetSecretValue",
                                             other)
    res = aws.fails("iam", "list-users", env=user_env)
    assert res.error_code() == "AccessDenied", res.stderr

    # The root's own identity, and the --endpoint-url flag instead of the environment.
    plain = aws.env()
    who = aws("sts", "get-caller-identity", "--endpoint-url", aws.endpoint, env=plain)
    assert who["Account"] == ACCOUNT_ID and who["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:root"


def test_cli_assume_role_then_read_with_temporary_credentials(iam_cli, root, server, new_name):
    aws = iam_cli
    env = aws.iam_env()
    secret_name = new_name("cli-role")
    arn = root.sm.create_secret(Name=secret_name, SecretString="via-role")["ARN"]
    user = ident("cli-assumer")
    role = ident("cli-role")
    root.iam.create_user(UserName=user)
    key = root.iam.create_access_key(UserName=user)["AccessKey"]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": user_arn(user)}, "Action": "sts:AssumeRole"}]}
    created = aws("iam", "create-role", "--role-name", role,
                  "--assume-role-policy-document", json.dumps(trust), env=env)
    role_arn = created["Role"]["Arn"]
    assert role_arn == f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"
    assert created["Role"]["AssumeRolePolicyDocument"] == trust
    aws("iam", "put-role-policy", "--role-name", role, "--policy-name", "read",
        "--policy-document", json.dumps(allow("secretsmanager:GetSecretValue", [arn])), env=env)

    user_env = aws.iam_env(AWS_ACCESS_KEY_ID=key["AccessKeyId"],
                           AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    res = aws.fails("secretsmanager", "get-secret-value", "--secret-id", arn, env=user_env)
    assert res.error_code() == "AccessDeniedException"
    assumed = aws("sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "cli-sess",
                  "--duration-seconds", "900", env=user_env)
    session_arn = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/cli-sess"
    assert assumed["AssumedRoleUser"]["Arn"] == session_arn
    creds = assumed["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert set(creds) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}

    temp_env = aws.iam_env(AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
                           AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                           AWS_SESSION_TOKEN=creds["SessionToken"])
    who = aws("sts", "get-caller-identity", env=temp_env)
    assert who["Arn"] == session_arn
    assert who["UserId"] == assumed["AssumedRoleUser"]["AssumedRoleId"]
    got = aws("secretsmanager", "get-secret-value", "--secret-id", secret_name, env=temp_env)
    assert got["SecretString"] == "via-role" and got["ARN"] == arn
    res = aws.fails("secretsmanager", "list-secrets", env=temp_env)
    assert res.error_code() == "AccessDeniedException"
    assert res.error_message() == denied_msg(session_arn, "secretsmanager:ListSecrets", None)

    # Without the session token the temporary key is not accepted.
    no_token = dict(temp_env)
    del no_token["AWS_SESSION_TOKEN"]
    res = aws.fails("secretsmanager", "get-secret-value", "--secret-id", arn, env=no_token)
    assert res.error_code() == "UnrecognizedClientException", res.stderr

    # An account's root may not assume roles at all, even one trusting the account.
    res = aws.fails("sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "root",
                    env=env)
    assert res.error_code() == "AccessDenied", res.stderr
    assert res.error_message() == "Roles may not be assumed by root accounts."

    # A role whose trust policy does not name the caller: AccessDenied from STS.
    other_role = ident("cli-closed")
    closed = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
        "Action": "sts:AssumeRole"}]}
    closed_arn = aws("iam", "create-role", "--role-name", other_role,
                     "--assume-role-policy-document", json.dumps(closed), env=env)["Role"]["Arn"]
    res = aws.fails("sts", "assume-role", "--role-arn", closed_arn, "--role-session-name", "probe",
                    env=user_env)
    assert res.error_code() == "AccessDenied", res.stderr
    assert res.error_message().startswith(
        f"User: {user_arn(user)} is not authorized to perform: sts:AssumeRole on resource: "
        f"{closed_arn}"
    ), res.stderr


# ------------------------------------------------------------------------------------------
# boto3: modeled errors and paginators
# ------------------------------------------------------------------------------------------


def test_boto3_iam_errors_are_modeled_exceptions(root, server):
    iam = root.iam
    name = ident("errs")
    missing = ident("missing")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        iam.get_user(UserName=missing)
    err = exc.value.response
    assert err["Error"]["Message"] == f"The user with name {missing} cannot be found."
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert err["Error"]["Type"] == "Sender"

    iam.create_user(UserName=name)
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as exc:
        iam.create_user(UserName=name)
    assert exc.value.response["Error"]["Message"] == f"User with name {name} already exists."
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    key = iam.create_access_key(UserName=name)["AccessKey"]
    with pytest.raises(iam.exceptions.DeleteConflictException) as exc:
        iam.delete_user(UserName=name)
    assert exc.value.response["Error"]["Message"] == (
        "Cannot delete entity, must delete access keys first."
    )
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    for bad in ["not json", json.dumps({"Version": "2012-10-17"}),
                json.dumps({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "secretsmanager:*"}]})]:
        with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as exc:
            iam.put_user_policy(UserName=name, PolicyName="bad", PolicyDocument=bad)
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert exc.value.response["Error"]["Message"]
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.create_policy(PolicyName=ident("bad"), PolicyDocument="{}")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_policy(PolicyArn=f"arn:aws:iam::{ACCOUNT_ID}:policy/{missing}")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=missing)
    with pytest.raises(iam.exceptions.LimitExceededException):
        iam.create_access_key(UserName=name)
        iam.create_access_key(UserName=name)

    # Clean up in the order IAM requires.
    for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    assert key["AccessKeyId"] not in [
        k["AccessKeyId"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    ]
    iam.delete_user(UserName=name)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName=name)


def test_boto3_managed_policy_documents_follow_iam(root, server, new_name):
    """CreatePolicy and CreatePolicyVersion check documents the way IAM does (the cases and
    messages of LocalStack's AWS-validated CreatePolicy snapshots); inline policies keep their
    own rules."""
    iam = root.iam

    def doc(statement, version: str | None = "2012-10-17") -> str:
        body = {"Statement": statement}
        if version is not None:
            body = {"Version": version, **body}
        return json.dumps(body)

    read = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
    invalid = [
        ("this is not json", "Syntax errors in policy."),
        (doc(read, version=None), "Policy document must be version 2012-10-17 or greater."),
        (doc(read, version="2008-10-17"),
         "Policy document must be version 2012-10-17 or greater."),
        (doc({**read, "Action": "secrets manager:GetSecretValue"}),
         "Vendor secrets manager is not valid"),
        (doc({**read, "Action": "secretsmanager:Get:SecretValue"}),
         "Actions/Condition can contain only one colon."),
        (doc({**read, "Resource": "arn:bogus:secretsmanager:::x"}),
         'Partition "bogus" is not valid for resource "arn:bogus:secretsmanager:::x".'),
        (doc({**read, "Resource": "arn:aws:iam:::alice"}),
         'IAM resource path must either be "*", root, or start with user/, federated-user/, '
         "role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, "
         "saml-provider/, oidc-provider/, report/, access-report/."),
        (doc({**read, "Resource": "arn:aws:s3::bucket"}), "The policy failed legacy parsing"),
        (doc({**read, "Resource": "arn:aws"}),
         "Resource vendor must be fully qualified and cannot contain regexes."),
        (doc({**read, "Effect": "allow"}), "The policy failed legacy parsing"),
        (doc({**read, "Condition": {"DateLessThan": {"aws:CurrentTime": "2024-13"}}}),
         "The policy failed legacy parsing"),
        (doc([{**read, "Sid": "Same"}, {"Sid": "Same", "Effect": "Deny"}]),
         "Statement IDs (SID) in a single policy must be unique."),
    ]
    for document, message in invalid:
        with aws_error("MalformedPolicyDocument", message, status=400):
            iam.create_policy(PolicyName=ident("bad"), PolicyDocument=document)

    # Condition keys need no vendor, and an unknown operator with an empty block is accepted;
    # such a key is an ordinary key the request does not have.
    secret = root.sm.create_secret(Name=new_name("managed"), SecretString="v")
    valid = doc([
        {**read, "Resource": secret["ARN"], "Condition": {"StringEqualsIfExists": {"team": "x"}}},
        {**read, "Condition": {"NoSuchOperator": {}, "DateGreaterThan": {"k": "01T"}}},
        {**read, "Resource": ["arn:aws:iam:::user/alice", "arn:aws:shortform",
                              "arn:aws:s3:us-west-2:123456789012:accesspoint/ap"]},
    ])
    arn = iam.create_policy(PolicyName=ident("good"), PolicyDocument=valid)["Policy"]["Arn"]
    with aws_error("MalformedPolicyDocument", "The policy failed legacy parsing", status=400):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc({**read, "Effect": "deny"}))
    name = ident("mp")
    user = new_user(root, server.endpoint, name)
    iam.attach_user_policy(UserName=name, PolicyArn=arn)
    assert user.sm.get_secret_value(SecretId=secret["ARN"])["SecretString"] == "v"

    # Inline policies keep their rules (no inline-policy snapshot shows IAM's).
    iam.put_user_policy(UserName=name, PolicyName="no-version", PolicyDocument=doc(read, None))
    with aws_error("MalformedPolicyDocument", "This policy contains invalid Json", status=400):
        iam.put_user_policy(UserName=name, PolicyName="bad", PolicyDocument="not json")
    iam.delete_user_policy(UserName=name, PolicyName="no-version")
    iam.detach_user_policy(UserName=name, PolicyArn=arn)


def test_boto3_paginators_list_users_and_policies(root):
    iam = root.iam
    path = f"/{ident('pager')}/"
    names = sorted(ident("pu") for _ in range(5))
    for n in names:
        iam.create_user(UserName=n, Path=path)

    paginator = iam.get_paginator("list_users")
    pages = list(paginator.paginate(PathPrefix=path, PaginationConfig={"PageSize": 2}))
    assert [len(p["Users"]) for p in pages] == [2, 2, 1]
    assert all(p["IsTruncated"] for p in pages[:-1]) and not pages[-1]["IsTruncated"]
    assert sorted(u["UserName"] for p in pages for u in p["Users"]) == names
    assert all(u["Path"] == path for p in pages for u in p["Users"])

    # MaxItems caps the total and hands back a resume token.
    first = paginator.paginate(PathPrefix=path,
                               PaginationConfig={"MaxItems": 3, "PageSize": 2}).build_full_result()
    assert len(first["Users"]) == 3 and "NextToken" in first
    rest = paginator.paginate(PathPrefix=path, PaginationConfig={
        "PageSize": 2, "StartingToken": first["NextToken"]}).build_full_result()
    assert sorted(u["UserName"] for u in first["Users"] + rest["Users"]) == names

    # The raw Marker protocol.
    page = iam.list_users(PathPrefix=path, MaxItems=4)
    assert page["IsTruncated"] and len(page["Users"]) == 4
    tail = iam.list_users(PathPrefix=path, MaxItems=4, Marker=page["Marker"])
    assert not tail["IsTruncated"] and len(tail["Users"]) == 1 and "Marker" not in tail

    arns = sorted(
        iam.create_policy(PolicyName=ident("pp"), Path=path,
                          PolicyDocument=json.dumps(allow("secretsmanager:ListSecrets")))
        ["Policy"]["Arn"]
        for _ in range(3)
    )
    policies = iam.get_paginator("list_policies").paginate(
        Scope="Local", PathPrefix=path, PaginationConfig={"PageSize": 2})
    pages = list(policies)
    assert [len(p["Policies"]) for p in pages] == [2, 1]
    assert sorted(p["Arn"] for page in pages for p in page["Policies"]) == arns
    # Every policy, AWS managed ones included, pages without loss or repetition.
    everything = [p["Arn"] for page in iam.get_paginator("list_policies").paginate(
        PaginationConfig={"PageSize": 3}) for p in page["Policies"]]
    assert len(everything) == len(set(everything))
    assert set(arns) <= set(everything)
    assert any(a.startswith("arn:aws:iam::aws:policy/") for a in everything)


# ------------------------------------------------------------------------------------------
# boto3: policies at work
# ------------------------------------------------------------------------------------------


def test_boto3_get_session_token_acts_as_the_user(root, server, new_name):
    secret_name = new_name()
    secret = root.sm.create_secret(Name=secret_name, SecretString="gst-value")
    name = ident("gst")
    user = new_user(root, server.endpoint, name,
                    allow("secretsmanager:GetSecretValue", secret["ARN"]))
    creds = user.sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    session = Clients(server.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"],
                      creds["SessionToken"])
    assert session.sts.get_caller_identity()["Arn"] == user_arn(name)
    assert session.sm.get_secret_value(SecretId=secret_name)["SecretString"] == "gst-value"
    with aws_error("AccessDeniedException",
                   denied_msg(user_arn(name), "secretsmanager:ListSecrets", None)):
        session.sm.list_secrets()
    with aws_error("AccessDenied", "Cannot call GetSessionToken with session credentials",
                   status=403):
        session.sts.get_session_token()
    # IAM needs MFA with session credentials, which is not supported.
    with aws_error("InvalidClientTokenId", status=403):
        session.iam.get_user()
    # Outside 900..129600 seconds (botocore itself checks the minimum).
    with aws_error("ValidationError", status=400, message_re="less than or equal to 129600"):
        user.sts.get_session_token(DurationSeconds=129601)


def test_boto3_presigned_get_caller_identity_as_an_eks_token(root, server):
    """The token `aws eks get-token` makes: GetCallerIdentity presigned for GET with a signed
    x-k8s-aws-id header, verified by GETting the URL with that header."""
    import urllib.error
    import urllib.request

    name = ident("eks")
    user = new_user(root, server.endpoint, name)
    header = "x-k8s-aws-id"

    def presigned_url(sts) -> str:
        def keep_cluster(params, context, **_):
            if header in params:
                context[header] = params.pop(header)

        def add_header(request, **_):
            if header in request.context:
                request.headers[header] = request.context[header]

        sts.meta.events.register("provide-client-params.sts.GetCallerIdentity", keep_cluster)
        sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_header)
        return sts.generate_presigned_url("get_caller_identity", Params={header: "my-cluster"},
                                          ExpiresIn=60, HttpMethod="GET")

    def fetch(url: str, cluster: str) -> tuple[int, str]:
        request = urllib.request.Request(url, headers={header: cluster})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    url = presigned_url(user.sts)
    assert "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id" in url
    status, body = fetch(url, "my-cluster")
    assert status == 200, body
    assert f"<Arn>{user_arn(name)}</Arn>" in body
    status, body = fetch(url, "another-cluster")
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body, body
    status, body = fetch(url.replace("Version=2011-06-15", "Version=2011-06-16"), "my-cluster")
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body, body

    # With temporary credentials the session token travels in the URL.
    creds = user.sts.get_session_token()["Credentials"]
    session = Clients(server.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"],
                      creds["SessionToken"])
    url = presigned_url(session.sts)
    assert "X-Amz-Security-Token=" in url
    status, body = fetch(url, "my-cluster")
    assert status == 200, body
    assert f"<Arn>{user_arn(name)}</Arn>" in body


def test_boto3_least_privilege_user_is_denied_everything_else(root, server, new_name):
    allowed = root.sm.create_secret(Name=new_name("lp"), SecretString="mine")
    other = root.sm.create_secret(Name=new_name("lp-other"), SecretString="not mine")
    name = ident("lp")
    me = user_arn(name)
    user = new_user(root, server.endpoint, name,
                    allow("secretsmanager:GetSecretValue", [allowed["ARN"]]))

    assert user.sm.get_secret_value(SecretId=allowed["Name"])["SecretString"] == "mine"
    with aws_error("AccessDeniedException",
                   denied_msg(me, "secretsmanager:GetSecretValue", other["Name"])):
        user.sm.get_secret_value(SecretId=other["Name"])
    with aws_error("AccessDeniedException", denied_msg(me, "secretsmanager:ListSecrets", None)):
        user.sm.list_secrets()
    with aws_error("AccessDeniedException",
                   denied_msg(me, "secretsmanager:DescribeSecret", allowed["Name"])):
        user.sm.describe_secret(SecretId=allowed["Name"])
    with aws_error("AccessDeniedException"):
        user.sm.create_secret(Name=new_name("lp-new"), SecretString="x")
    with aws_error("AccessDeniedException"):
        user.sm.put_secret_value(SecretId=allowed["Name"], SecretString="y")
    with pytest.raises(user.iam.exceptions.ClientError) as exc:
        user.iam.create_user(UserName=ident("evil"))
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    # Deactivating the key stops it at once.
    root.iam.update_access_key(UserName=name, AccessKeyId=user.key_id, Status="Inactive")
    with aws_error("UnrecognizedClientException",
                   "The security token included in the request is invalid."):
        user.sm.get_secret_value(SecretId=allowed["Name"])
    with aws_error("InvalidClientTokenId", status=403):
        user.sts.get_caller_identity()


def test_boto3_tag_conditioned_policy(root, server, new_name):
    blue = new_name("tag-blue")
    red = new_name("tag-red")
    root.sm.create_secret(Name=blue, SecretString="b", Tags=[{"Key": "team", "Value": "blue"}])
    root.sm.create_secret(Name=red, SecretString="r", Tags=[{"Key": "team", "Value": "red"}])
    policy = allow(
        ["secretsmanager:GetSecretValue", "secretsmanager:TagResource",
         "secretsmanager:UntagResource"],
        "*",
        Condition={"StringEquals": {
            "secretsmanager:ResourceTag/team": "${aws:PrincipalTag/team}"}},
    )
    name = ident("tagged")
    user = new_user(root, server.endpoint, name, policy, Tags=[{"Key": "team", "Value": "blue"}])

    assert user.sm.get_secret_value(SecretId=blue)["SecretString"] == "b"
    with aws_error("AccessDeniedException"):
        user.sm.get_secret_value(SecretId=red)
    # Lock-out protection: a tag change that would end the caller's own access is refused.
    with aws_error("AccessDeniedException",
                   denied_msg(user_arn(name), "secretsmanager:TagResource", blue)):
        user.sm.tag_resource(SecretId=blue, Tags=[{"Key": "team", "Value": "red"}])
    with aws_error("AccessDeniedException"):
        user.sm.untag_resource(SecretId=blue, TagKeys=["team"])
    user.sm.tag_resource(SecretId=blue, Tags=[{"Key": "owner", "Value": name}])
    tags = {t["Key"]: t["Value"] for t in root.sm.describe_secret(SecretId=blue)["Tags"]}
    assert tags == {"team": "blue", "owner": name}


def test_boto3_type_and_kms_key_conditions(root, server, new_name):
    # secretsmanager:Type and secretsmanager:KmsKeyArn on CreateSecret, and
    # secretsmanager:resource/Type on the secret afterwards.
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "secretsmanager:CreateSecret", "Resource": "*",
         "Condition": {"StringEquals": {"secretsmanager:Type": "db"}}},
        {"Effect": "Deny", "Action": "secretsmanager:CreateSecret", "Resource": "*",
         "Condition": {"Null": {"secretsmanager:KmsKeyArn": "false"},
                       "StringNotLike": {
                           "secretsmanager:KmsKeyArn": "arn:aws:kms:*:*:key/allowed-*"}}},
        {"Effect": "Allow", "Action": "secretsmanager:DescribeSecret", "Resource": "*",
         "Condition": {"StringEquals": {"secretsmanager:resource/Type": "db"}}},
    ]}
    user = new_user(root, server.endpoint, ident("typed"), policy)
    typed = new_name("typed")
    user.sm.create_secret(Name=typed, Type="db")
    with aws_error("AccessDeniedException"):
        user.sm.create_secret(Name=new_name("untyped"))
    # A key named by id that the Deny does not allow: refused before the key is looked up.
    with aws_error("AccessDeniedException", message_re="with an explicit deny"):
        user.sm.create_secret(Name=new_name("other-key"), Type="db",
                              KmsKeyId="1234abcd-12ab-34cd-56ef-1234567890ab")
    with aws_error("AccessDeniedException", message_re="with an explicit deny"):
        user.sm.create_secret(
            Name=new_name("other-arn"), Type="db",
            KmsKeyId="arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    # An allowed key id passes the policy and reaches the key check (no such key here).
    with aws_error("AccessDeniedException", "Access to KMS is not allowed"):
        user.sm.create_secret(Name=new_name("allowed-key"), Type="db", KmsKeyId="allowed-1")
    assert user.sm.describe_secret(SecretId=typed)["Type"] == "db"
    plain = new_name("plain")
    root.sm.create_secret(Name=plain)
    with aws_error("AccessDeniedException"):
        user.sm.describe_secret(SecretId=plain)


def test_boto3_source_ip_condition(root, server, new_name):
    secret = new_name("ip")
    root.sm.create_secret(Name=secret, SecretString="from-loopback")
    name = ident("ip")

    def by_ip(op: str, cidr: str) -> str:
        return json.dumps(allow("secretsmanager:GetSecretValue", "*",
                                Condition={op: {"aws:SourceIp": cidr}}))

    user = new_user(root, server.endpoint, name)
    root.iam.put_user_policy(UserName=name, PolicyName="ip",
                             PolicyDocument=by_ip("IpAddress", "127.0.0.0/8"))
    assert user.sm.get_secret_value(SecretId=secret)["SecretString"] == "from-loopback"
    root.iam.put_user_policy(UserName=name, PolicyName="ip",
                             PolicyDocument=by_ip("IpAddress", "203.0.113.0/24"))
    with aws_error("AccessDeniedException"):
        user.sm.get_secret_value(SecretId=secret)
    # Deny unless the caller is in 198.51.100.0/24: 127.0.0.1 is not.
    root.iam.put_user_policy(UserName=name, PolicyName="ip", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}}},
        ],
    }))
    with aws_error("AccessDeniedException",
                   f"User: {user_arn(name)} is not authorized to perform: "
                   f"secretsmanager:GetSecretValue on resource: {secret} with an explicit deny "
                   "in an identity-based policy"):
        user.sm.get_secret_value(SecretId=secret)


def test_boto3_block_public_policy(root, new_name):
    sm = root.sm
    name = new_name("bpp")
    arn = sm.create_secret(Name=name, SecretString="x")["ARN"]
    public = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
        "Resource": "*"}]})
    with pytest.raises(sm.exceptions.PublicPolicyException) as exc:
        sm.put_resource_policy(SecretId=name, ResourcePolicy=public, BlockPublicPolicy=True)
    assert exc.value.response["Error"]["Message"] == MSG_PUBLIC_POLICY
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)

    validated = sm.validate_resource_policy(SecretId=arn, ResourcePolicy=public)
    assert validated["PolicyValidationPassed"] is False
    assert [e["CheckName"] for e in validated["ValidationErrors"]] == ["BROAD_ACCESS"]
    with pytest.raises(sm.exceptions.MalformedPolicyDocumentException):
        sm.validate_resource_policy(ResourcePolicy="{nope")

    put = sm.put_resource_policy(SecretId=name, ResourcePolicy=public)
    assert put["ARN"] == arn and put["Name"] == name
    got = sm.get_resource_policy(SecretId=name)
    assert json.loads(got["ResourcePolicy"]) == json.loads(public)
    assert sm.list_resource_policies(SecretId=name)["ResourcePolicies"] == [
        {"PolicyName": "default"}
    ]
    sm.delete_resource_policy(SecretId=name)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)
    assert sm.list_resource_policies(SecretId=name)["ResourcePolicies"] == []


# ------------------------------------------------------------------------------------------
# Offline administration, then serve: a second account and a cross-account read
# ------------------------------------------------------------------------------------------


def admin(*args: str) -> str:
    proc = subprocess.run([str(strongbox_bin()), *args], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL,
                          env={"PATH": "/usr/bin:/bin", "STRONGBOX_LOG": "warn"})
    assert proc.returncode == 0, f"strongbox {' '.join(args)} failed:\n{proc.stderr}"
    return proc.stdout


def parse_key(snippet: str) -> tuple[str, str, str]:
    """(profile, access key id, secret) from a printed credentials-file snippet."""
    cfg = configparser.ConfigParser()
    cfg.read_string(snippet)
    (profile,) = cfg.sections()
    return profile, cfg[profile]["aws_access_key_id"], cfg[profile]["aws_secret_access_key"]


def test_offline_admin_cli_then_serve(tmp_path):
    data = tmp_path / "data"
    # Initialise the data directory (account 123456789012), put a secret in it, and stop.
    srv = start_server(data, log_path=tmp_path / "first.log")
    try:
        a = Clients(srv.endpoint, ACCESS_KEY, SECRET_KEY)
        shared_arn = a.sm.create_secret(Name="shared/db", SecretString="A's value")["ARN"]
        private_arn = a.sm.create_secret(Name="private/db", SecretString="private")["ARN"]
    finally:
        srv.stop()

    d = ["--data-dir", str(data)]
    b = ["--account-id", OTHER_ACCOUNT]
    b_root_snippet = admin("account", "create", *d, *b)
    b_profile, b_root_id, b_root_secret = parse_key(b_root_snippet)
    assert b_profile == f"strongbox-{OTHER_ACCOUNT}"
    assert admin("account", "list", *d).split() == [ACCOUNT_ID, OTHER_ACCOUNT]
    assert admin("user", "create", *d, *b, "--user-name", "app").strip() == (
        user_arn("app", OTHER_ACCOUNT)
    )
    app_snippet = admin("access-key", "create", *d, *b, "--user-name", "app")
    app_profile, app_id, app_secret = parse_key(app_snippet)
    assert app_profile == f"strongbox-{OTHER_ACCOUNT}-app"
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue",
                                       "secretsmanager:DescribeSecret"], "Resource": "*"}]}))
    policy_arn = admin("policy", "attach", *d, *b, "--policy-name", "app-read",
                       "--policy-file", str(policy_file), "--user-name", "app").strip()
    assert policy_arn == f"arn:aws:iam::{OTHER_ACCOUNT}:policy/app-read"
    trust_file = tmp_path / "trust.json"
    trust_file.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": user_arn("app", OTHER_ACCOUNT)},
        "Action": "sts:AssumeRole"}]}))
    role_arn = admin("role", "create", *d, *b, "--role-name", "deployer",
                     "--trust-policy-file", str(trust_file)).strip()
    assert role_arn == f"arn:aws:iam::{OTHER_ACCOUNT}:role/deployer"
    admin("policy", "attach", *d, *b, "--policy-name", "app-read",
          "--policy-file", str(policy_file), "--role-name", "deployer")
    # An unknown account is refused.
    proc = subprocess.run([str(strongbox_bin()), "user", "create", *d, "--account-id",
                           "333333333333", "--user-name", "x"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0 and "no account 333333333333" in proc.stderr

    # The printed snippets form a working credentials file.
    creds = tmp_path / "credentials"
    creds.write_text(b_root_snippet + "\n" + app_snippet)

    srv = start_server(data, log_path=tmp_path / "second.log")
    try:
        ep = srv.endpoint
        b_root = Clients(ep, b_root_id, b_root_secret)
        assert b_root.sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{OTHER_ACCOUNT}:root"
        app = Clients(ep, app_id, app_secret)
        assert app.sts.get_caller_identity()["Arn"] == user_arn("app", OTHER_ACCOUNT)
        users = b_root.iam.list_users()["Users"]
        assert [u["UserName"] for u in users] == ["app"]
        attached = b_root.iam.list_attached_user_policies(UserName="app")["AttachedPolicies"]
        assert attached == [{"PolicyName": "app-read", "PolicyArn": policy_arn}]

        # Account B's own secrets: the managed policy lets the user read, not create.
        b_root.sm.create_secret(Name="b/own", SecretString="B's value")
        assert app.sm.get_secret_value(SecretId="b/own")["SecretString"] == "B's value"
        with aws_error("AccessDeniedException"):
            app.sm.create_secret(Name="b/new", SecretString="x")
        # Accounts are separate: B does not see A's secrets by name.
        with aws_error("ResourceNotFoundException"):
            b_root.sm.describe_secret(SecretId="shared/db")

        # Cross-account: A's resource policy names B's user; B's identity policy allows.
        a = Clients(ep, ACCESS_KEY, SECRET_KEY)
        a.sm.put_resource_policy(SecretId=shared_arn, BlockPublicPolicy=True,
                                 ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [{
                                     "Effect": "Allow",
                                     "Principal": {"AWS": user_arn("app", OTHER_ACCOUNT)},
                                     "Action": ["secretsmanager:DescribeSecret",
                                                "secretsmanager:GetSecretValue"],
                                     "Resource": "*"}]}))
        desc = app.sm.describe_secret(SecretId=shared_arn)
        assert desc["ARN"] == shared_arn and desc["Name"] == "shared/db"
        with aws_error("AccessDeniedException"):
            app.sm.describe_secret(SecretId=private_arn)
        with aws_error("InvalidRequestException", MSG_DEFAULT_KEY_CROSS_ACCOUNT):
            app.sm.get_secret_value(SecretId=shared_arn)

        # The offline-created role, assumed with the offline-created key.
        temp = app.sts.assume_role(RoleArn=role_arn, RoleSessionName="offline")["Credentials"]
        role = Clients(ep, temp["AccessKeyId"], temp["SecretAccessKey"], temp["SessionToken"])
        assert role.sts.get_caller_identity()["Arn"] == (
            f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/deployer/offline"
        )
        assert role.sm.get_secret_value(SecretId="b/own")["SecretString"] == "B's value"

        # The credentials file the snippets make works for a profile-configured client.
        prof = boto3.session.Session(region_name=REGION, profile_name=app_profile,
                                     botocore_session=_session_with_credentials_file(creds))
        sts = prof.client("sts", endpoint_url=ep, config=BOTO_CONFIG)
        assert sts.get_caller_identity()["Arn"] == user_arn("app", OTHER_ACCOUNT)
    finally:
        srv.stop()


def _session_with_credentials_file(path: Path):
    import botocore.session

    session = botocore.session.Session()
    session.set_config_variable("credentials_file", str(path))
    session.set_config_variable("config_file", str(path.parent / "no-config"))
    return session


TAG_KEY_PATTERN = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+"


def test_boto3_iam_tag_validation_as_aws(root):
    # Tag errors as IAM words them (recorded from AWS): no tag text in the message, every
    # broken constraint reported, duplicates refused (users and roles ignore case).
    iam = root.iam
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ACCOUNT_ID}, "Action": "sts:AssumeRole"}]})
    role = ident("tagval")
    with aws_error("ValidationError",
                   "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy "
                   f"constraint: Member must satisfy regular expression pattern: {TAG_KEY_PATTERN}"):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust,
                        Tags=[{"Key": "invalid!key", "Value": "v"}])
    with aws_error("ValidationError",
                   "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy "
                   "constraint: Member must have length less than or equal to 128"):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust,
                        Tags=[{"Key": "k" * 129, "Value": "v"}])
    with aws_error("InvalidInput",
                   "Duplicate tag keys found. Please note that Tag keys are case insensitive."):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust,
                        Tags=[{"Key": "mykey", "Value": "1"}, {"Key": "MyKey", "Value": "2"}])
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=role)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust,
                    Tags=[{"Key": "team a:b/c=d+e-f@g_h.i", "Value": ""}])
    with aws_error("InvalidInput",
                   "Duplicate tag keys found. Please note that Tag keys are case insensitive."):
        iam.tag_role(RoleName=role, Tags=[{"Key": "x", "Value": "1"}, {"Key": "X", "Value": "2"}])
    key_set = ("Value at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: "
               "[Member must have length less than or equal to 128, Member must have length "
               "greater than or equal to 1, Member must satisfy regular expression pattern: "
               f"{TAG_KEY_PATTERN}, Member must not be null]")
    with aws_error("ValidationError", f"1 validation error detected: {key_set}"):
        iam.untag_role(RoleName=role, TagKeys=["invalid!key"])
    with aws_error("ValidationError",
                   "1 validation error detected: Value at 'tagKeys' failed to satisfy "
                   "constraint: Member must have length less than or equal to 50"):
        iam.untag_role(RoleName=role, TagKeys=[f"k{i}" for i in range(51)])
    # Managed policies compare tag keys exactly.
    doc = json.dumps(allow("secretsmanager:DescribeSecret"))
    with aws_error("InvalidInput", "Duplicate tag keys found."):
        iam.create_policy(PolicyName=ident("dup"), PolicyDocument=doc,
                          Tags=[{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}])
    created = iam.create_policy(PolicyName=ident("case"), PolicyDocument=doc, Description="d",
                                Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    # CreatePolicy and ListPolicies leave the description to GetPolicy.
    assert "Description" not in created["Policy"]
    arn = created["Policy"]["Arn"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Description"] == "d"
    listed = [p for p in iam.list_policies(Scope="Local")["Policies"] if p["Arn"] == arn]
    assert listed and "Description" not in listed[0]


def test_boto3_iam_policy_version_and_arn_errors_as_aws(root):
    iam = root.iam
    doc = json.dumps(allow("secretsmanager:DescribeSecret"))
    arn = iam.create_policy(PolicyName=ident("ver"), PolicyDocument=doc)["Policy"]["Arn"]
    pattern_msg = ("1 validation error detected: Value at 'versionId' failed to satisfy "
                   "constraint: Member must satisfy regular expression pattern: "
                   r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?")
    with aws_error("ValidationError", pattern_msg):
        iam.set_default_policy_version(PolicyArn=arn, VersionId="wrong_version_id")
    with aws_error("ValidationError", pattern_msg):
        iam.get_policy_version(PolicyArn=arn, VersionId="v0")
    missing = f"arn:aws:iam::{ACCOUNT_ID}:policy/{ident('nopolicy')}"
    with aws_error("NoSuchEntity",
                   f"Policy {missing} version v1 does not exist or is not attachable.",
                   status=404):
        iam.get_policy_version(PolicyArn=missing, VersionId="v1")
    user = ident("arnerr")
    iam.create_user(UserName=user)
    with aws_error("ValidationError", "ARN longpolicynamebutnoarn is not valid."):
        iam.attach_user_policy(UserName=user, PolicyArn="longpolicynamebutnoarn")
    bad_boundary = f"arn:aws:iam::{ACCOUNT_ID}:not_a_policy/invalid"
    with aws_error("InvalidInput", f"ARN {bad_boundary} is not valid."):
        iam.create_user(UserName=ident("b"), PermissionsBoundary=bad_boundary)
    with aws_error("NoSuchEntity",
                   f"Scope ARN: {missing} does not exist or is not attachable.", status=404):
        iam.create_user(UserName=ident("b"), PermissionsBoundary=missing)


def test_boto3_transitive_session_tags_pass_down_a_role_chain(root, server):
    iam = root.iam
    user = new_user(root, server.endpoint, ident("chain"),
                    allow(["sts:AssumeRole", "sts:TagSession"]))
    trust_user = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": user_arn_of(user)},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]})
    first = iam.create_role(RoleName=ident("chain1"), AssumeRolePolicyDocument=trust_user)
    trust_first = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": first["Role"]["Arn"]},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]})
    second = iam.create_role(RoleName=ident("chain2"), AssumeRolePolicyDocument=trust_first)
    iam.put_role_policy(RoleName=first["Role"]["RoleName"], PolicyName="chain",
                        PolicyDocument=json.dumps(allow(["sts:AssumeRole", "sts:TagSession"])))
    assumed = user.sts.assume_role(
        RoleArn=first["Role"]["Arn"], RoleSessionName="one",
        Tags=[{"Key": "SessionTag1", "Value": "a"}, {"Key": "Other", "Value": "b"}],
        TransitiveTagKeys=["SessionTag1"])
    # Session tags passed: PackedPolicySize says how much of the packed budget they use.
    assert 1 <= assumed["PackedPolicySize"] <= 100
    c = assumed["Credentials"]
    session = Clients(server.endpoint, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    for key in ("SessionTag1", "sessiontag1"):
        with aws_error("InvalidParameterValue",
                       "One of the specified transitive tag keys can't be set because it "
                       "conflicts with a transitive tag key from the calling session."):
            session.sts.assume_role(RoleArn=second["Role"]["Arn"], RoleSessionName="two",
                                    Tags=[{"Key": key, "Value": "override"}])
    # The non-transitive tag may be set again; without tags, no PackedPolicySize.
    chained = session.sts.assume_role(RoleArn=second["Role"]["Arn"], RoleSessionName="two",
                                      Tags=[{"Key": "Other", "Value": "c"}])
    assert "PackedPolicySize" in chained
    # The chained session carries the inherited tag: a policy on it matches.
    secret = ident("chained-secret")
    root.sm.create_secret(Name=secret, SecretString="x")
    iam.put_role_policy(RoleName=second["Role"]["RoleName"], PolicyName="by-tag",
                        PolicyDocument=json.dumps(allow(
                            "secretsmanager:DescribeSecret", "*",
                            Condition={"StringEquals": {"aws:PrincipalTag/SessionTag1": "a",
                                                        "aws:PrincipalTag/Other": "c"}})))
    cc = chained["Credentials"]
    two = Clients(server.endpoint, cc["AccessKeyId"], cc["SecretAccessKey"], cc["SessionToken"])
    assert two.sm.describe_secret(SecretId=secret)["Name"] == secret
    plain = session.sts.assume_role(RoleArn=second["Role"]["Arn"], RoleSessionName="three")
    assert "PackedPolicySize" not in plain


def user_arn_of(clients: Clients) -> str:
    return clients.sts.get_caller_identity()["Arn"]
