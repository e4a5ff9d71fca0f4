"""Fixtures for the Strongbox compatibility suite.

The session starts one `strongbox serve` on an ephemeral loopback port with a fresh data dir,
bootstrap credentials test/test and account 123456789012, and stops it at the end. Tests use
unique secret names (uuid suffix), so they are independent of each other and of order.

Environment:
  STRONGBOX_BIN              path to the binary (default: <repo>/target/debug/strongbox)
  STRONGBOX_SKIP_IF_MISSING  set to 1 to skip (instead of fail) when the binary is missing
  STRONGBOX_START_TIMEOUT    seconds to wait for "Listening on ..." and /health (default 30)
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compat_helpers import (  # noqa: E402
    ACCESS_KEY,
    BOTO_CONFIG,
    REGION,
    SECRET_KEY,
    CliResult,
    ServerProcess,
    cli_base_env,
    run_cli,
    start_server,
    unique,
)

@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> ServerProcess:
    base = tmp_path_factory.mktemp("strongbox")
    srv = start_server(base / "data", log_path=base / "server.log")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def make_client(server: ServerProcess) -> Callable[..., Any]:
    """Build a boto3 Secrets Manager client against the session server (or another endpoint)."""

    def factory(
        region: str = REGION,
        access_key: str = ACCESS_KEY,
        secret_key: str = SECRET_KEY,
        endpoint_url: str | None = None,
        verify: Any = None,
    ):
        session = boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
        )
        return session.client(
            "secretsmanager",
            endpoint_url=endpoint_url or server.endpoint,
            region_name=region,
            config=BOTO_CONFIG,
            verify=verify,
        )

    return factory


@pytest.fixture(scope="session")
def sm(make_client):
    """boto3 Secrets Manager client, us-east-1, credentials test/test."""
    return make_client()


@pytest.fixture(scope="session")
def sm_eu(make_client):
    return make_client(region="eu-west-1")


@pytest.fixture
def new_name(request) -> Callable[[str], str]:
    """Factory for unique secret names, prefixed with a readable bit of the test name."""
    base = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name.removeprefix("test_"))[:40].strip("-")

    def factory(prefix: str = "") -> str:
        return unique(f"{prefix or base or 'compat'}")

    return factory


class AwsCli:
    """Runs the AWS CLI (v1, from this venv) against a Strongbox endpoint; returns parsed JSON."""

    def __init__(self, endpoint: str, home: Path):
        self.endpoint = endpoint
        self.home = home

    def env(self, region: str = REGION, **extra: str) -> dict[str, str]:
        env = cli_base_env(self.home)
        env.update(
            {
                "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.endpoint,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "AWS_MAX_ATTEMPTS": "1",
                "AWS_RETRY_MODE": "standard",
            }
        )
        env.update(extra)
        return env

    def raw(self, *args: str, env: dict[str, str] | None = None, timeout: float = 90.0) -> CliResult:
        return run_cli([*args, "--output", "json"], env if env is not None else self.env(),
                       timeout=timeout)

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Any:
        res = self.raw(*args, env=env)
        assert res.returncode == 0, (
            f"aws {' '.join(args)} failed (rc={res.returncode}):\n{res.stderr}"
        )
        return res.json

    def fails(self, *args: str, env: dict[str, str] | None = None) -> CliResult:
        res = self.raw(*args, env=env)
        assert res.returncode != 0, f"aws {' '.join(args)} unexpectedly succeeded:\n{res.stdout}"
        return res


@pytest.fixture
def aws(server: ServerProcess, tmp_path: Path) -> AwsCli:
    return AwsCli(server.endpoint, tmp_path / "home")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the tail of the server log to the report for diagnosis."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        srv = item.funcargs.get("server") if hasattr(item, "funcargs") else None
        if isinstance(srv, ServerProcess):
            report.sections.append(("strongbox stderr (tail)", srv.log_tail(30)))


def pytest_report_header(config):
    from compat_helpers import strongbox_bin

    return [f"strongbox binary: {strongbox_bin()} (exists={os.path.exists(strongbox_bin())})"]
