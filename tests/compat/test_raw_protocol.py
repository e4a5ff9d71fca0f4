"""Raw awsJson1_1 + SigV4 at the HTTP level (stdlib http.client, botocore's signer).

These pin down what SDKs cannot show: framework errors (serialization, unknown operation,
authentication), response headers, and request rules that the SDKs hide (reference §1, §2, §5.3).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from botocore.auth import SIGV4_TIMESTAMP

from compat_helpers import (
    ACCESS_KEY,
    MSG_BAD_SIGNATURE_PREFIX,
    MSG_MISSING_AUTH,
    MSG_NEED_TOKEN,
    MSG_NOT_FOUND,
    MSG_UNRECOGNIZED_CLIENT,
    REGION,
)
from raw_client import JSON_11, assert_error, call, now_utc


# ------------------------------------------------------------------------------------------
# Success path
# ------------------------------------------------------------------------------------------


def test_success_response_shape(server):
    resp = call(server, "secretsmanager.GetRandomPassword", {"PasswordLength": 12})
    assert resp.status == 200, resp.body
    assert resp.headers.get("content-type", "").startswith(JSON_11)
    assert resp.headers.get("x-amzn-requestid")
    assert len(resp.json["RandomPassword"]) == 12


def test_empty_body_object_is_a_valid_request(server):
    resp = call(server, "secretsmanager.GetRandomPassword", b"{}")
    assert resp.status == 200, resp.body
    assert len(resp.json["RandomPassword"]) == 32


def test_timestamps_are_epoch_numbers_and_no_nulls(server):
    name = f"raw-{uuid.uuid4().hex}"
    created = call(server, "secretsmanager.CreateSecret",
                   {"Name": name, "SecretString": "v", "ClientRequestToken": str(uuid.uuid4())})
    assert created.status == 200, created.body
    desc = call(server, "secretsmanager.DescribeSecret", {"SecretId": name})
    assert desc.status == 200, desc.body
    body = desc.json
    for field in ("CreatedDate", "LastChangedDate"):
        assert isinstance(body[field], (int, float)) and not isinstance(body[field], bool), body
    assert abs(body["CreatedDate"] - dt.datetime.now(dt.timezone.utc).timestamp()) < 600

    def no_nulls(value, path="$"):
        if value is None:
            pytest.fail(f"null at {path}; AWS omits absent members")
        if isinstance(value, dict):
            for k, v in value.items():
                no_nulls(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                no_nulls(v, f"{path}[{i}]")

    no_nulls(body)
    got = call(server, "secretsmanager.GetSecretValue", {"SecretId": name})
    assert isinstance(got.json["CreatedDate"], (int, float))
    no_nulls(got.json)


def test_binary_is_base64_on_the_wire(server):
    name = f"raw-{uuid.uuid4().hex}"
    resp = call(server, "secretsmanager.CreateSecret",
                {"Name": name, "SecretBinary": "AAEC/w==", "ClientRequestToken": str(uuid.uuid4())})
    assert resp.status == 200, resp.body
    got = call(server, "secretsmanager.GetSecretValue", {"SecretId": name}).json
    assert got["SecretBinary"] == "AAEC/w=="
    assert "SecretString" not in got


def test_no_output_operation_returns_empty_or_empty_object(server):
    name = f"raw-{uuid.uuid4().hex}"
    call(server, "secretsmanager.CreateSecret",
         {"Name": name, "SecretString": "v", "ClientRequestToken": str(uuid.uuid4())})
    resp = call(server, "secretsmanager.TagResource",
                {"SecretId": name, "Tags": [{"Key": "a", "Value": "b"}]})
    assert resp.status == 200, resp.body
    assert resp.body.strip() in (b"", b"{}")


def test_unknown_members_are_ignored(server):
    resp = call(server, "secretsmanager.GetRandomPassword",
                {"PasswordLength": 10, "NotAMember": "x", "Nested": {"a": [1, 2]}})
    assert resp.status == 200, resp.body
    assert len(resp.json["RandomPassword"]) == 10
    name = f"raw-{uuid.uuid4().hex}"
    resp = call(server, "secretsmanager.CreateSecret",
                {"Name": name, "SecretString": "v", "ClientRequestToken": str(uuid.uuid4()),
                 "FutureFeature": True})
    assert resp.status == 200, resp.body


@pytest.mark.parametrize(
    "content_type",
    ["application/x-amz-json-1.0", "application/json", "application/x-amz-json-1.1; charset=utf-8"],
)
def test_lenient_content_type(server, content_type):
    resp = call(server, "secretsmanager.GetRandomPassword", {"PasswordLength": 8},
                content_type=content_type)
    assert resp.status == 200, resp.body


def test_health_endpoint(server):
    conn = server.connection(timeout=10)
    try:
        conn.request("GET", "/health")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------
# Framework errors
# ------------------------------------------------------------------------------------------


def test_malformed_json(server):
    resp = call(server, "secretsmanager.DescribeSecret", b'{"SecretId": ')
    assert_error(resp, "SerializationException")


def test_non_object_json(server):
    resp = call(server, "secretsmanager.DescribeSecret", b'["SecretId"]')
    assert_error(resp, "SerializationException")


@pytest.mark.parametrize(
    "target, body",
    [
        ("secretsmanager.DescribeSecret", {"SecretId": 123}),
        ("secretsmanager.GetRandomPassword", {"PasswordLength": "long"}),
        ("secretsmanager.GetRandomPassword", {"ExcludeNumbers": "yes"}),
        ("secretsmanager.TagResource", {"SecretId": "x", "Tags": {"Key": "a"}}),
        ("secretsmanager.ListSecrets", {"IncludePlannedDeletion": "true"}),
    ],
)
def test_wrong_json_types(server, target, body):
    assert_error(call(server, target, body), "SerializationException")


def test_invalid_base64_blob(server):
    resp = call(server, "secretsmanager.CreateSecret",
                {"Name": f"raw-{uuid.uuid4().hex}", "SecretBinary": "not base64!!",
                 "ClientRequestToken": str(uuid.uuid4())})
    assert resp.status == 400, resp.body
    assert resp.error_type in ("SerializationException", "ValidationException",
                               "InvalidParameterException"), resp.body
    assert resp.headers.get("x-amzn-requestid")


def test_unknown_operation(server):
    assert_error(call(server, "secretsmanager.FlyToTheMoon"), "UnknownOperationException")


def test_missing_required_member(server):
    assert_error(
        call(server, "secretsmanager.DescribeSecret", {}),
        "ValidationException",
        "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: "
        "Member must not be null",
    )


def test_max_violation_coral_message(server):
    assert_error(
        call(server, "secretsmanager.GetRandomPassword", {"PasswordLength": 4097}),
        "ValidationException",
        "1 validation error detected: Value '4097' at 'passwordLength' failed to satisfy "
        "constraint: Member must have value less than or equal to 4096",
    )


def test_error_type_header(server):
    resp = call(server, "secretsmanager.DescribeSecret", {"SecretId": f"raw-{uuid.uuid4().hex}"})
    assert_error(resp, "ResourceNotFoundException", MSG_NOT_FOUND)
    # SM modeled errors carry capital-M "Message" (botocore's modeled parse depends on it).
    assert resp.json.get("Message") == MSG_NOT_FOUND
    assert resp.headers.get("x-amzn-errortype", "").split(":")[0] == "ResourceNotFoundException"
    assert resp.headers.get("content-type", "").startswith(JSON_11)


def test_framework_errors_use_lowercase_message_key(server):
    """Coral framework errors (validation, auth) carry lower-case `message`; SM's modeled errors
    carry `Message` (reference §1)."""
    framework = [
        call(server, "secretsmanager.DescribeSecret", {}),  # ValidationException
        call(server, "secretsmanager.ListSecrets", {}, secret_key="wrong"),  # InvalidSignature
        call(server, "secretsmanager.ListSecrets", {}, access_key="AKIANOSUCHKEY0000000"),
    ]
    for resp in framework:
        assert resp.status == 400
        assert "Message" not in resp.json, resp.json
        assert resp.json.get("message"), resp.json


# ------------------------------------------------------------------------------------------
# Authentication (SigV4)
# ------------------------------------------------------------------------------------------


def test_no_authorization(server):
    resp = call(server, "secretsmanager.ListSecrets", {}, sign=False,
                extra_headers={"X-Amz-Date": now_utc().strftime(SIGV4_TIMESTAMP)})
    assert_error(resp, "MissingAuthenticationTokenException", MSG_MISSING_AUTH)


def test_garbage_authorization(server):
    resp = call(server, "secretsmanager.ListSecrets", {}, sign=False,
                extra_headers={"X-Amz-Date": now_utc().strftime(SIGV4_TIMESTAMP),
                               "Authorization": "AWS4-HMAC-SHA256 garbage"})
    # AWS words this either as "Authorization header requires 'Credential' parameter. ..." or
    # "'garbage' not a valid key=value pair (missing equal-sign) in Authorization header: ...".
    assert_error(resp, "IncompleteSignatureException", message_re=r"Authorization")


def test_authorization_missing_signature(server):
    when = now_utc()
    date = when.strftime("%Y%m%d")
    header = (f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{date}/{REGION}/secretsmanager/aws4_request, "
              "SignedHeaders=content-type;host;x-amz-date;x-amz-target")
    resp = call(server, "secretsmanager.ListSecrets", {}, sign=False,
                extra_headers={"X-Amz-Date": when.strftime(SIGV4_TIMESTAMP),
                               "Authorization": header})
    assert_error(resp, "IncompleteSignatureException",
                 message_re=r"Authorization header requires 'Signature' parameter\.")


def test_wrong_secret_key(server):
    resp = call(server, "secretsmanager.ListSecrets", {}, secret_key="not-the-secret")
    assert_error(resp, "InvalidSignatureException")
    assert resp.message.startswith(MSG_BAD_SIGNATURE_PREFIX), resp.message


def test_body_tampered_after_signing(server):
    resp = call(server, "secretsmanager.GetRandomPassword", {"PasswordLength": 10},
                body_after_signing=b'{"PasswordLength": 11}')
    assert_error(resp, "InvalidSignatureException")


def test_target_tampered_after_signing(server):
    resp = call(server, "secretsmanager.GetRandomPassword", {},
                override_headers={"X-Amz-Target": "secretsmanager.ListSecrets"})
    assert_error(resp, "InvalidSignatureException")


def test_unknown_access_key(server):
    resp = call(server, "secretsmanager.ListSecrets", {}, access_key="AKIANOSUCHKEY0000000")
    assert_error(resp, "UnrecognizedClientException", MSG_UNRECOGNIZED_CLIENT)


def test_expired_signature(server):
    when = now_utc() - dt.timedelta(minutes=20)
    resp = call(server, "secretsmanager.ListSecrets", {}, when=when)
    stamp = when.strftime(SIGV4_TIMESTAMP)
    assert_error(
        resp,
        "InvalidSignatureException",
        message_re=(
            r"^Signature expired: " + re.escape(stamp)
            + r" is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$"
        ),
    )


def test_signature_from_the_future(server):
    when = now_utc() + dt.timedelta(minutes=20)
    resp = call(server, "secretsmanager.ListSecrets", {}, when=when)
    assert_error(resp, "InvalidSignatureException")


def test_small_clock_skew_accepted(server):
    for minutes in (-10, 10):
        resp = call(server, "secretsmanager.GetRandomPassword", {},
                    when=now_utc() + dt.timedelta(minutes=minutes))
        assert resp.status == 200, (minutes, resp.body)


def test_date_header_instead_of_x_amz_date(server):
    """SigV4 allows the RFC 1123 `Date` header in place of `X-Amz-Date` (reference §2)."""
    seen = {}

    def check(headers):
        seen.update(headers)

    resp = call(server, "secretsmanager.GetRandomPassword", {}, extra_headers={"Date": "x"},
                mutate_headers=check)
    assert "X-Amz-Date" not in seen and "Date" in seen
    assert resp.status == 200, resp.body


def test_authorization_without_spaces_after_commas(server):
    def squeeze(headers):
        headers["Authorization"] = headers["Authorization"].replace(", ", ",")

    resp = call(server, "secretsmanager.GetRandomPassword", {}, mutate_headers=squeeze)
    assert resp.status == 200, resp.body


def test_signed_header_values_are_canonicalised(server):
    """The server rebuilds the canonical request: inner runs of spaces collapse to one."""
    resp = call(server, "secretsmanager.GetRandomPassword", {},
                extra_headers={"X-Compat-Probe": "a   b    c"})
    assert resp.status == 200, resp.body


def test_unsigned_extra_headers_are_ignored(server):
    def add(headers):
        headers["amz-sdk-invocation-id"] = "added-after-signing"
        headers["User-Agent"] = "compat-suite/1.0"

    resp = call(server, "secretsmanager.GetRandomPassword", {}, mutate_headers=add)
    assert resp.status == 200, resp.body


def test_wrong_service_in_credential_scope(server):
    resp = call(server, "secretsmanager.ListSecrets", {}, service="s3")
    assert_error(resp, "InvalidSignatureException")


# ------------------------------------------------------------------------------------------
# ClientRequestToken is mandatory on the wire
# ------------------------------------------------------------------------------------------


def test_create_without_client_request_token(server):
    name = f"raw-{uuid.uuid4().hex}"
    resp = call(server, "secretsmanager.CreateSecret", {"Name": name, "SecretString": "v"})
    assert_error(resp, "InvalidRequestException", MSG_NEED_TOKEN)
    desc = call(server, "secretsmanager.DescribeSecret", {"SecretId": name})
    assert_error(desc, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_put_without_client_request_token_checked_before_lookup(server):
    resp = call(server, "secretsmanager.PutSecretValue",
                {"SecretId": f"raw-missing-{uuid.uuid4().hex}", "SecretString": "v"})
    assert_error(resp, "InvalidRequestException", MSG_NEED_TOKEN)


def test_update_without_client_request_token(server):
    name = f"raw-{uuid.uuid4().hex}"
    ok = call(server, "secretsmanager.CreateSecret",
              {"Name": name, "SecretString": "v", "ClientRequestToken": str(uuid.uuid4())})
    assert ok.status == 200, ok.body
    resp = call(server, "secretsmanager.UpdateSecret",
                {"SecretId": name, "SecretString": "w", "Description": "d"})
    assert_error(resp, "InvalidRequestException", MSG_NEED_TOKEN)
    got = call(server, "secretsmanager.GetSecretValue", {"SecretId": name}).json
    assert got["SecretString"] == "v"


def test_client_request_token_becomes_version_id(server):
    name = f"raw-{uuid.uuid4().hex}"
    tok = uuid.uuid4().hex  # 32 characters is the minimum
    resp = call(server, "secretsmanager.CreateSecret",
                {"Name": name, "SecretString": "v", "ClientRequestToken": tok})
    assert resp.status == 200, resp.body
    assert resp.json["VersionId"] == tok
