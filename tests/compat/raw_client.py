"""A minimal awsJson1_1 client: stdlib http.client, signed with botocore's SigV4 signer.

Used by the raw-protocol and robustness tests to send exactly the bytes they want.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
import urllib.parse
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Callable

import pytest
from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from compat_helpers import ACCESS_KEY, REGION, SECRET_KEY, ServerProcess

JSON_11 = "application/x-amz-json-1.1"


class FixedTimeSigV4Auth(SigV4Auth):
    """botocore's SigV4 signer, with the signing time chosen by the test."""

    def __init__(self, credentials, service_name, region_name, when: dt.datetime):
        super().__init__(credentials, service_name, region_name)
        self._when = when

    def add_auth(self, request):
        request.context["timestamp"] = self._when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        if "Date" in request.headers:
            # botocore writes "-0000"; use the RFC 1123 form ("GMT") that HTTP dates normally take.
            del request.headers["Date"]
            request.headers["Date"] = formatdate(
                calendar.timegm(self._when.timetuple()), usegmt=True
            )
        canonical_request = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical_request)
        signature = self.signature(string_to_sign, request)
        self._inject_signature_to_request(request, signature)


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else {}

    @property
    def error_type(self) -> str | None:
        t = self.json.get("__type")
        if t is None:
            return None
        # botocore's sanitising: drop anything after ':' and up to the last '#'.
        return t.split(":", 1)[0].rsplit("#", 1)[-1]

    @property
    def message(self) -> str | None:
        body = self.json
        return body.get("message", body.get("Message"))


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def call(
    server: ServerProcess,
    target: str | None,
    body: bytes | str | dict | None = None,
    *,
    sign: bool = True,
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
    region: str = REGION,
    service: str = "secretsmanager",
    when: dt.datetime | None = None,
    content_type: str | None = JSON_11,
    extra_headers: dict[str, str] | None = None,
    override_headers: dict[str, str] | None = None,
    body_after_signing: bytes | None = None,
    mutate_headers: Callable[[dict[str, str]], None] | None = None,
) -> RawResponse:
    if body is None:
        body = {}
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    url = server.endpoint + "/"
    headers = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if target is not None:
        headers["X-Amz-Target"] = target
    headers.update(extra_headers or {})
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    if sign:
        creds = Credentials(access_key, secret_key)
        FixedTimeSigV4Auth(creds, service, region, when or now_utc()).add_auth(request)
    final_headers = dict(request.headers.items())
    final_headers["Host"] = urllib.parse.urlsplit(url).netloc
    final_headers.update(override_headers or {})
    if mutate_headers is not None:
        mutate_headers(final_headers)
    payload = body_after_signing if body_after_signing is not None else body
    final_headers["Content-Length"] = str(len(payload))
    conn = server.connection(timeout=15)
    try:
        conn.request("POST", "/", body=payload, headers=final_headers)
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return RawResponse(resp.status, hdrs, data)
    finally:
        conn.close()


def assert_error(resp: RawResponse, code: str, message: str | None = None, *,
                 message_re: str | None = None, status: int = 400) -> None:
    """Every error: status 400, JSON body with __type, x-amzn-RequestId header."""
    assert resp.status == status, f"HTTP {resp.status} {resp.body[:500]!r}"
    try:
        body = resp.json
    except ValueError:
        pytest.fail(f"error body is not JSON: {resp.body[:500]!r}")
    assert "__type" in body, f"error body has no __type: {body!r}"
    assert resp.error_type == code, f"expected {code}, got {body!r}"
    assert resp.headers.get("x-amzn-requestid"), f"no x-amzn-RequestId header: {resp.headers}"
    if message is not None:
        assert resp.message == message, f"message mismatch: {resp.message!r}"
    if message_re is not None:
        assert resp.message and re.search(message_re, resp.message), resp.message
