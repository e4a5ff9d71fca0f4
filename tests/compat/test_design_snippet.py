"""DESIGN.md promise: the user's runbook snippet runs unchanged, configured only by environment.

The snippet is run as a separate Python process whose only configuration is
AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials,
AWS_PROFILE=strongbox and AWS_REGION, so it also proves the generated credentials file works.
"""

from __future__ import annotations

import configparser
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from compat_helpers import REPO_ROOT, cli_base_env

# Verbatim from DESIGN.md ("Who uses it and what they expect").
SNIPPET = (
    'client = boto3.session.Session().client(service_name="secretsmanager", region_name="us-east-1")\n'
    'value = json.loads(client.get_secret_value(SecretId="my-twitter-api-key")["SecretString"])\n'
)

SCRIPT = "import json\nimport boto3\n\n" + SNIPPET + "\nprint(json.dumps(value, sort_keys=True))\n"

TWITTER_VALUE = {"api_key": "twitter-key-123", "api_secret": "s3cr3t/with+chars=", "n": 1}


def _design_md() -> Path | None:
    for candidate in (
        os.environ.get("STRONGBOX_DESIGN_MD"),
        REPO_ROOT.parent / "shared" / "DESIGN.md",
        REPO_ROOT / "DESIGN.md",
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def test_snippet_matches_design_md():
    """Guard against drift: the embedded snippet is the one DESIGN.md shows."""
    path = _design_md()
    if path is None:
        pytest.skip("DESIGN.md not found next to the repository")
    text = path.read_text()
    for line in SNIPPET.splitlines():
        assert line.strip() in text, f"snippet line no longer in DESIGN.md: {line}"


def test_generated_credentials_file(server):
    creds = server.data_dir / "credentials"
    assert creds.is_file(), "server did not write <data-dir>/credentials"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    parser = configparser.ConfigParser()
    parser.read(creds)
    assert parser.has_section("strongbox"), parser.sections()
    assert parser.get("strongbox", "aws_access_key_id").strip()
    assert parser.get("strongbox", "aws_secret_access_key").strip()
    root_key = server.data_dir / "root.key"
    assert root_key.is_file(), "server did not write <data-dir>/root.key"
    assert stat.S_IMODE(root_key.stat().st_mode) == 0o600


def test_design_snippet_runs_unmodified(server, sm, tmp_path):
    try:
        sm.create_secret(Name="my-twitter-api-key", SecretString=json.dumps(TWITTER_VALUE))
    except ClientError as exc:  # the snippet test may be re-run against the same server
        if exc.response["Error"]["Code"] != "ResourceExistsException":
            raise
        sm.put_secret_value(SecretId="my-twitter-api-key", SecretString=json.dumps(TWITTER_VALUE))

    script = tmp_path / "runbook.py"
    script.write_text(SCRIPT)
    env = cli_base_env(tmp_path / "home")
    env.update(
        {
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": server.endpoint,
            "AWS_SHARED_CREDENTIALS_FILE": str(server.data_dir / "credentials"),
            "AWS_PROFILE": "strongbox",
            "AWS_REGION": "us-east-1",
        }
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == TWITTER_VALUE


def test_snippet_with_wrong_profile_secret_fails(server, sm, tmp_path):
    """The generated credentials are really checked: a tampered secret key is rejected."""
    try:
        sm.create_secret(Name="my-twitter-api-key", SecretString=json.dumps(TWITTER_VALUE))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceExistsException":
            raise
    parser = configparser.ConfigParser()
    parser.read(server.data_dir / "credentials")
    bad = tmp_path / "bad-credentials"
    bad.write_text(
        "[strongbox]\n"
        f"aws_access_key_id = {parser.get('strongbox', 'aws_access_key_id').strip()}\n"
        "aws_secret_access_key = definitely-not-the-secret\n"
    )
    script = tmp_path / "runbook.py"
    script.write_text(SCRIPT)
    env = cli_base_env(tmp_path / "home")
    env.update(
        {
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": server.endpoint,
            "AWS_SHARED_CREDENTIALS_FILE": str(bad),
            "AWS_PROFILE": "strongbox",
            "AWS_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": "1",
        }
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode != 0
    assert "InvalidSignatureException" in proc.stderr, proc.stderr[-2000:]
