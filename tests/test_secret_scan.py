"""The whole-suite secret scan (tests/plugins/secret_scan.py) really finds leaks."""

from __future__ import annotations

from typing import Any

import yaml

from tests.plugins import secret_scan

TOKEN = "scan-bait-token-5f9a1c7e2b"
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "A" * 64 + "\n-----END OPENSSH PRIVATE KEY-----\n"


def test_credential_parts_of_a_kubeconfig_and_a_key() -> None:
    kubeconfig = yaml.safe_dump({"users": [{"name": "u", "user": {"token": TOKEN}}]})
    assert TOKEN in secret_scan._credential_parts(kubeconfig)
    assert "A" * 64 in secret_scan._credential_parts(KEY)


def test_a_secret_in_a_response_log_or_commit_is_reported(secret_store: Any) -> None:
    before = len(secret_scan._leaks)
    secret_store.write(engine="git", path="gitlab/repo-1/default/readonly", data={"deploykey": KEY})
    try:
        secret_scan._check("response to GET /x", f"<pre>{'A' * 64}</pre>".encode())
        secret_scan._check("log record test", "nothing secret here")
        assert len(secret_scan._leaks) == before + 1
        assert secret_scan._leaks[-1].startswith("response to GET /x")
    finally:
        del secret_scan._leaks[before:]  # the bait was planted by this test, not leaked
