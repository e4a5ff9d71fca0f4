"""Shared helpers for the compatibility suite (no fixtures here; see conftest.py).

Everything in this suite talks to a real `strongbox serve` process over the network, with
unmodified AWS clients, and asserts what AWS Secrets Manager does (see
shared/reference/aws-api.md). Nothing here knows how the server is built.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import http.client
import json
import os
import queue
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"

# No retries (a failure shows at once) and bounded waits on every call.
BOTO_CONFIG = Config(
    retries={"max_attempts": 1, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
)

# Exact AWS strings (reference §6, tagged [V] or [I]).
MSG_NOT_FOUND = "Secrets Manager can't find the specified secret."
MSG_MARKED_FOR_DELETION = (
    "You can't perform this operation on the secret because it was marked for deletion."
)
MSG_CREATE_SCHEDULED = (
    "You can't create this secret because a secret with this name is already scheduled for deletion."
)
MSG_NEED_TOKEN = "You must provide a ClientRequestToken value. We recommend a UUID-type value."
MSG_STAGE_MISMATCH = "You provided a VersionStage that is not associated to the provided VersionId."
MSG_INVALID_NAME = (
    "Invalid name. Must be a valid name containing alphanumeric characters, "
    "or any of the following: -/_+=.@!"
)
MSG_RECOVERY_WINDOW = "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
MSG_UNRECOGNIZED_CLIENT = "The security token included in the request is invalid."
MSG_MISSING_AUTH = "Missing Authentication Token"
MSG_BAD_SIGNATURE_PREFIX = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


def msg_not_found_label(label: str) -> str:
    return f"Secrets Manager can't find the specified secret value for staging label: {label}"


def msg_not_found_version(version_id: str) -> str:
    return f"Secrets Manager can't find the specified secret value for VersionId: {version_id}"


def msg_already_exists(name: str) -> str:
    return f"The operation failed because the secret {name} already exists."


def msg_token_in_use(token: str, arn: str) -> str:
    return (
        f"You can't use ClientRequestToken {token} because that value is already in use "
        f"for a version of secret {arn}."
    )


def msg_remove_from_empty(current_version_id: str) -> str:
    return (
        "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently "
        f"attached to version {current_version_id}, so you must explicitly reference that version "
        "in RemoveFromVersionId."
    )


ARN_RE_TEMPLATE = r"^arn:aws:secretsmanager:{region}:{account}:secret:{name}-[A-Za-z0-9]{{6}}$"


def arn_pattern(name: str, region: str = REGION, account: str = ACCOUNT_ID) -> re.Pattern[str]:
    return re.compile(
        ARN_RE_TEMPLATE.format(region=re.escape(region), account=account, name=re.escape(name))
    )


def unique(prefix: str = "compat") -> str:
    """A secret name no other test uses. Avoids a `-` + 6 chars tail (partial-ARN ambiguity)."""
    return f"{prefix}-{uuid.uuid4().hex}"


def token() -> str:
    return str(uuid.uuid4())


# --------------------------------------------------------------------------------------------
# boto3 error assertions
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def aws_error(
    code: str | tuple[str, ...],
    message: str | None = None,
    *,
    message_re: str | None = None,
    status: int = 400,
) -> Iterator[Any]:
    """Expect a botocore ClientError with this code, exact message (or regex) and HTTP status."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as exc_info:
        yield exc_info
    resp = exc_info.value.response
    err = resp.get("Error", {})
    codes = (code,) if isinstance(code, str) else code
    assert err.get("Code") in codes, f"expected error code {codes}, got {err!r}"
    meta = resp.get("ResponseMetadata", {})
    assert meta.get("HTTPStatusCode") == status, (
        f"expected HTTP {status} for {err.get('Code')}, got {meta.get('HTTPStatusCode')}"
    )
    assert meta.get("RequestId"), "error response has no x-amzn-RequestId header"
    if message is not None:
        assert err.get("Message") == message, f"message mismatch: {err.get('Message')!r}"
    if message_re is not None:
        assert re.search(message_re, err.get("Message", "")), (
            f"message {err.get('Message')!r} does not match {message_re!r}"
        )


def stages_by_version(describe: dict) -> dict[str, list[str]]:
    return dict(describe.get("VersionIdsToStages", {}))


def utc(ts: _dt.datetime) -> float:
    return ts.timestamp()


# --------------------------------------------------------------------------------------------
# Server process management
# --------------------------------------------------------------------------------------------

LISTEN_RE = re.compile(r"Listening on (https?://[^\s]+)")
START_TIMEOUT = float(os.environ.get("STRONGBOX_START_TIMEOUT", "30"))


def strongbox_bin() -> Path:
    override = os.environ.get("STRONGBOX_BIN")
    path = Path(override) if override else REPO_ROOT / "target" / "debug" / "strongbox"
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def require_binary() -> Path:
    path = strongbox_bin()
    if not (path.is_file() and os.access(path, os.X_OK)):
        msg = (
            f"strongbox binary not found at {path} "
            "(build it with `cargo build`, or set STRONGBOX_BIN)"
        )
        if os.environ.get("STRONGBOX_SKIP_IF_MISSING") == "1":
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    return path


@dataclass
class ServerProcess:
    """A running `strongbox serve`, started with a fresh data dir."""

    proc: subprocess.Popen
    url: str
    data_dir: Path
    log_path: Path
    ca_file: Path | None = None
    _stdout_lines: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return self.url

    @property
    def host_port(self) -> tuple[str, int]:
        parts = urllib.parse.urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def scheme(self) -> str:
        return urllib.parse.urlsplit(self.url).scheme

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "<no log>"
        return "\n".join(lines[-n:])

    def connection(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        host, port = self.host_port
        if self.scheme == "https":
            ctx = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)


def _pump_stdout(stream, q: "queue.Queue[str | None]") -> None:
    # Keep draining stdout for the life of the process so the server never blocks on a full pipe.
    try:
        for raw in iter(stream.readline, b""):
            q.put(raw.decode("utf-8", errors="replace"))
    finally:
        q.put(None)


def start_server(
    data_dir: Path,
    *,
    log_path: Path,
    extra_args: list[str] | None = None,
    listen: str = "127.0.0.1:0",
    account_id: str | None = ACCOUNT_ID,
    bootstrap: bool = True,
    ca_file: Path | None = None,
    timeout: float = START_TIMEOUT,
) -> ServerProcess:
    binary = require_binary()
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [str(binary), "serve", "--listen", listen, "--data-dir", str(data_dir)]
    if account_id:
        args += ["--account-id", account_id]
    args += extra_args or []
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.pop("STRONGBOX_BOOTSTRAP_ACCESS_KEY_ID", None)
    env.pop("STRONGBOX_BOOTSTRAP_SECRET_ACCESS_KEY", None)
    # Tests expect the default key file in the data directory.
    env.pop("STRONGBOX_ROOT_KEY", None)
    env.pop("STRONGBOX_ROOT_KEY_FILE", None)
    env.pop("STRONGBOX_ROOT_PASSPHRASE", None)
    env.pop("STRONGBOX_ROOT_PASSPHRASE_FILE", None)
    if bootstrap:
        env["STRONGBOX_BOOTSTRAP_ACCESS_KEY_ID"] = ACCESS_KEY
        env["STRONGBOX_BOOTSTRAP_SECRET_ACCESS_KEY"] = SECRET_KEY
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        env=env,
        cwd=str(data_dir.parent),
    )
    log.close()
    q: "queue.Queue[str | None]" = queue.Queue()
    threading.Thread(target=_pump_stdout, args=(proc.stdout, q), daemon=True).start()

    deadline = time.monotonic() + timeout
    seen: list[str] = []
    url = None
    while url is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            proc.kill()
            proc.wait(timeout=10)
            raise RuntimeError(
                f"strongbox did not print 'Listening on ...' within {timeout}s; stdout={seen!r}\n"
                f"stderr:\n{_tail(log_path)}"
            )
        try:
            line = q.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            rc = proc.wait(timeout=10)
            raise RuntimeError(
                f"strongbox exited (rc={rc}) before listening; stdout={seen!r}\n"
                f"stderr:\n{_tail(log_path)}"
            )
        seen.append(line)
        m = LISTEN_RE.search(line)
        if m:
            url = m.group(1).rstrip("/")
    server = ServerProcess(proc=proc, url=url, data_dir=data_dir, log_path=log_path, ca_file=ca_file)
    try:
        wait_healthy(server, deadline=deadline)
    except BaseException:
        server.stop()
        raise
    return server


def wait_healthy(server: ServerProcess, deadline: float) -> None:
    """GET /health until 200, bounded by `deadline` (monotonic)."""
    last: object = None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"strongbox exited early:\n{server.log_tail()}")
        try:
            conn = server.connection(timeout=max(0.5, deadline - time.monotonic()))
            conn.request("GET", "/health")
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status == 200:
                return
            last = f"HTTP {resp.status}"
        except (OSError, http.client.HTTPException) as exc:
            last = exc
        # Bounded back-off between probes; the overall wait is capped by `deadline`.
        time.sleep(0.05)
    raise RuntimeError(f"/health never answered 200 (last: {last}):\n{server.log_tail()}")


def _tail(path: Path, n: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "<no log>"


# --------------------------------------------------------------------------------------------
# AWS CLI
# --------------------------------------------------------------------------------------------


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str
    args: list[str]

    @property
    def json(self) -> Any:
        text = self.stdout.strip()
        return json.loads(text) if text else None

    def error_code(self) -> str | None:
        m = re.search(r"An error occurred \(([^)]+)\)", self.stderr)
        return m.group(1) if m else None

    def error_message(self) -> str | None:
        m = re.search(
            r"An error occurred \([^)]+\) when calling the \w+ operation"
            r"(?: \(reached max retries: \d+\))?: (.*)",
            self.stderr,
            re.S,
        )
        return m.group(1).strip() if m else None


def cli_base_env(home: Path) -> dict[str, str]:
    """The environment minus anything AWS-ish, with a clean HOME and no config/credentials file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env["AWS_CONFIG_FILE"] = str(home / "nonexistent-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(home / "nonexistent-aws-credentials")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["AWS_PAGER"] = ""
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def aws_cli_command() -> list[str]:
    # Prefer the interpreter running the tests so the CLI comes from the same venv.
    return [sys.executable, "-m", "awscli"]


def run_cli(args: list[str], env: dict[str, str], timeout: float = 90.0) -> CliResult:
    cmd = aws_cli_command() + list(args)
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr, cmd)


def openssl_available() -> bool:
    return shutil.which("openssl") is not None
