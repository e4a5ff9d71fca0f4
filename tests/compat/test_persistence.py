"""DESIGN promises seen from outside: acknowledged writes survive a restart and `kill -9`,
the generated credentials are written once, and no secret value is stored in plaintext."""

from __future__ import annotations

import signal
import uuid

import boto3
import pytest

from compat_helpers import ACCESS_KEY, BOTO_CONFIG, REGION, SECRET_KEY, start_server


def client_for(srv):
    session = boto3.session.Session(aws_access_key_id=ACCESS_KEY,
                                    aws_secret_access_key=SECRET_KEY, region_name=REGION)
    return session.client("secretsmanager", endpoint_url=srv.endpoint, config=BOTO_CONFIG)


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def test_restart_keeps_secrets_and_credentials(tmp_path, data_dir):
    srv = start_server(data_dir, log_path=tmp_path / "server1.log")
    try:
        creds_before = (data_dir / "credentials").read_bytes()
        root_before = (data_dir / "root.key").read_bytes()
        sm = client_for(srv)
        created = sm.create_secret(Name="persist/me", SecretString="v1",
                                   Tags=[{"Key": "k", "Value": "v"}], Description="d")
        v2 = sm.put_secret_value(SecretId="persist/me", SecretBinary=b"\x00v2")["VersionId"]
        sm.create_secret(Name="persist/doomed", SecretString="x")
        sm.delete_secret(SecretId="persist/doomed", RecoveryWindowInDays=7)
    finally:
        srv.stop()

    srv = start_server(data_dir, log_path=tmp_path / "server2.log")
    try:
        assert (data_dir / "credentials").read_bytes() == creds_before, "credentials rewritten"
        assert (data_dir / "root.key").read_bytes() == root_before, "root key rewritten"
        sm = client_for(srv)
        got = sm.get_secret_value(SecretId="persist/me")
        assert got["SecretBinary"] == b"\x00v2" and got["VersionId"] == v2
        assert got["ARN"] == created["ARN"]
        prev = sm.get_secret_value(SecretId="persist/me", VersionStage="AWSPREVIOUS")
        assert prev["SecretString"] == "v1"
        desc = sm.describe_secret(SecretId="persist/me")
        assert desc["Tags"] == [{"Key": "k", "Value": "v"}] and desc["Description"] == "d"
        assert "DeletedDate" in sm.describe_secret(SecretId="persist/doomed")
    finally:
        srv.stop()


def test_acknowledged_write_survives_kill_9(tmp_path, data_dir):
    srv = start_server(data_dir, log_path=tmp_path / "server1.log")
    names = [f"durable/{i}" for i in range(5)]
    try:
        sm = client_for(srv)
        for i, name in enumerate(names):
            sm.create_secret(Name=name, SecretString=f"value-{i}")
        tok = str(uuid.uuid4())
        sm.put_secret_value(SecretId=names[0], SecretString="last-write", ClientRequestToken=tok)
    finally:
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(timeout=10)

    srv = start_server(data_dir, log_path=tmp_path / "server2.log")
    try:
        sm = client_for(srv)
        got = sm.get_secret_value(SecretId=names[0])
        assert got["SecretString"] == "last-write" and got["VersionId"] == tok
        for i, name in enumerate(names[1:], start=1):
            assert sm.get_secret_value(SecretId=name)["SecretString"] == f"value-{i}"
    finally:
        srv.stop()


def test_no_plaintext_secret_values_at_rest(tmp_path, data_dir):
    marker = f"PLAINTEXT-MARKER-{uuid.uuid4().hex}"
    binary_marker = f"BINARY-MARKER-{uuid.uuid4().hex}".encode()
    srv = start_server(data_dir, log_path=tmp_path / "server.log")
    try:
        sm = client_for(srv)
        sm.create_secret(Name="at-rest/string", SecretString=marker)
        sm.create_secret(Name="at-rest/binary", SecretBinary=binary_marker)
        sm.put_secret_value(SecretId="at-rest/string", SecretString=marker + "-v2")
        assert sm.get_secret_value(SecretId="at-rest/string")["SecretString"] == marker + "-v2"
        _assert_absent(data_dir, marker.encode(), binary_marker)  # while running (WAL, journal)
    finally:
        srv.stop()
    _assert_absent(data_dir, marker.encode(), binary_marker)  # after shutdown / checkpoint
    log = (tmp_path / "server.log").read_bytes()
    assert marker.encode() not in log and binary_marker not in log, "secret value in the logs"


def _assert_absent(root, *needles: bytes) -> None:
    scanned = 0
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        scanned += 1
        for needle in needles:
            assert needle not in data, f"plaintext secret value found in {path}"
    assert scanned > 0
