"""TLS: a second server with --tls-cert/--tls-key (throwaway CA minted with the openssl CLI),
driven by boto3 and the AWS CLI over https with AWS_CA_BUNDLE; and the refusal to listen on a
non-loopback address without TLS."""

from __future__ import annotations

import json
import subprocess
import urllib.parse
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import SSLError

from compat_helpers import (
    ACCESS_KEY,
    BOTO_CONFIG,
    REGION,
    SECRET_KEY,
    cli_base_env,
    openssl_available,
    require_binary,
    run_cli,
    start_server,
    unique,
)

pytestmark = pytest.mark.tls

CONFIG = BOTO_CONFIG

SERVER_EXT = """\
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
"""


def _openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"openssl {' '.join(args)} failed:\n{proc.stderr}"


def make_pki(directory: Path) -> dict[str, Path]:
    """A throwaway CA and a server certificate for localhost / 127.0.0.1 (EC P-256, PEM)."""
    directory.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", "-new", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-sha256", "-subj", "/CN=Strongbox Compat Test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    _openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=localhost", cwd=directory)
    (directory / "server.ext").write_text(SERVER_EXT)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-sha256",
             "-extfile", "server.ext", cwd=directory)
    return {"ca": directory / "ca.pem", "cert": directory / "server.pem",
            "key": directory / "server.key"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if not openssl_available():
        pytest.skip("the openssl CLI is not installed")
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory, pki):
    base = tmp_path_factory.mktemp("strongbox-tls")
    srv = start_server(
        base / "data",
        log_path=base / "server.log",
        extra_args=["--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"])],
        ca_file=pki["ca"],
    )
    yield srv
    srv.stop()


def tls_client(endpoint: str, **kwargs):
    session = boto3.session.Session(aws_access_key_id=ACCESS_KEY,
                                    aws_secret_access_key=SECRET_KEY, region_name=REGION)
    return session.client("secretsmanager", endpoint_url=endpoint, config=CONFIG, **kwargs)


def test_listening_line_is_https(tls_server):
    assert tls_server.url.startswith("https://127.0.0.1:"), tls_server.url


def test_health_over_tls(tls_server):
    conn = tls_server.connection(timeout=10)
    try:
        conn.request("GET", "/health")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    finally:
        conn.close()


def test_boto3_with_aws_ca_bundle(tls_server, pki, monkeypatch):
    monkeypatch.setenv("AWS_CA_BUNDLE", str(pki["ca"]))
    client = tls_client(tls_server.endpoint)
    name = unique("tls")
    created = client.create_secret(Name=name, SecretString="over-tls")
    got = client.get_secret_value(SecretId=name)
    assert got["SecretString"] == "over-tls"
    assert got["ARN"] == created["ARN"]


def test_boto3_with_verify_parameter_and_hostname(tls_server, pki, monkeypatch):
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    port = urllib.parse.urlsplit(tls_server.endpoint).port
    client = tls_client(f"https://localhost:{port}", verify=str(pki["ca"]))
    name = unique("tls-localhost")
    client.create_secret(Name=name, SecretBinary=b"\x00\x01")
    assert client.get_secret_value(SecretId=name)["SecretBinary"] == b"\x00\x01"


def test_untrusted_certificate_is_rejected(tls_server, monkeypatch):
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    client = tls_client(tls_server.endpoint)
    with pytest.raises(SSLError):
        client.get_random_password()


def test_cli_over_tls(tls_server, pki, tmp_path):
    env = cli_base_env(tmp_path / "home")
    env.update({
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": tls_server.endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CA_BUNDLE": str(pki["ca"]),
        "AWS_MAX_ATTEMPTS": "1",
    })
    name = unique("tls-cli")
    res = run_cli(["secretsmanager", "create-secret", "--name", name, "--secret-string",
                   '{"username":"u","password":"p"}', "--output", "json"], env)
    assert res.returncode == 0, res.stderr
    res = run_cli(["secretsmanager", "get-secret-value", "--secret-id", name, "--output", "json"],
                  env)
    assert res.returncode == 0, res.stderr
    assert res.json["SecretString"] == '{"username":"u","password":"p"}'
    # Without the CA bundle the CLI refuses the self-signed chain.
    del env["AWS_CA_BUNDLE"]
    res = run_cli(["secretsmanager", "get-secret-value", "--secret-id", name, "--output", "json"],
                  env)
    assert res.returncode != 0
    assert "SSL" in res.stderr or "certificate" in res.stderr.lower(), res.stderr


def test_tls_server_wrote_credentials(tls_server, pki, tmp_path):
    """The generated credentials profile works over TLS too."""
    env = cli_base_env(tmp_path / "home")
    env.update({
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": tls_server.endpoint,
        "AWS_SHARED_CREDENTIALS_FILE": str(tls_server.data_dir / "credentials"),
        "AWS_PROFILE": "strongbox",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,  # AWS CLI v1 reads only this one
        "AWS_CA_BUNDLE": str(pki["ca"]),
        "AWS_MAX_ATTEMPTS": "1",
    })
    res = run_cli(["secretsmanager", "get-random-password", "--password-length", "12",
                   "--output", "json"], env)
    assert res.returncode == 0, res.stderr
    assert len(res.json["RandomPassword"]) == 12


def test_load_generator_over_tls(tls_server, pki):
    """`strongbox bench` signs and sends over https, trusting the CA given as AWS_CA_BUNDLE (as
    the AWS CLI does), and refuses the self-signed chain without it."""
    binary = require_binary()
    env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
           "AWS_REGION": REGION, "AWS_CA_BUNDLE": str(pki["ca"]), "PATH": "/usr/bin:/bin"}
    cmd = [str(binary), "bench", "--endpoint", tls_server.endpoint, "--concurrency", "2",
           "--duration", "1", "--warmup", "0", "--json"]
    # Puts spread over enough secrets to stay far below AWS's ~100 versions per secret a day.
    for workload, secrets in (("get", "5"), ("put", "200")):
        res = subprocess.run(cmd + ["--workload", workload, "--secrets", secrets,
                                    "--prefix", unique("tlsb")],
                             env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        report = json.loads(res.stdout)
        assert report["requests"] > 0 and report["ok"] == report["requests"], report["errors"]
        assert report["errors"] == {}, report
    del env["AWS_CA_BUNDLE"]
    res = subprocess.run(cmd + ["--workload", "get", "--secrets", "5", "--skip-seed"], env=env,
                         capture_output=True, text=True, timeout=120)
    report = json.loads(res.stdout) if res.returncode == 0 else None
    assert report is None or (report["ok"] == 0 and "tls-error" in report["errors"]), report


def test_non_loopback_listen_without_tls_is_refused(tmp_path):
    binary = require_binary()
    data = tmp_path / "data"
    data.mkdir()
    proc = subprocess.Popen(
        [str(binary), "serve", "--listen", "0.0.0.0:0", "--data-dir", str(data)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=10)
        pytest.fail(f"server kept running on 0.0.0.0 without TLS; stdout={out!r}")
    assert proc.returncode != 0, f"exited 0; stdout={out!r} stderr={err!r}"
    assert b"Listening on" not in out, out
    assert err.strip(), "refusal should explain itself on stderr"

