"""Kubeconfig decoding, checks and server rewriting (nautes.md §3.1 "Physical clusters")."""

from __future__ import annotations

import base64
import textwrap

import pytest
import yaml

from clusters.kubeconfig import (
    KUBECONFIG_REQUIRED_MESSAGE,
    MAX_KUBECONFIG_BYTES,
    kubeconfig_summary,
    looks_like_base64,
    normalize_kubeconfig,
)
from nautes_portal.errors import RuleViolation
from tests.clusters.test_rules import KUBECONFIG, KUBECONFIG_B64

API_SERVER = "https://127.0.0.1:6443"
SECRET = "s3cr3t-token-value"


def rule_message(raw: str) -> str:
    """The RuleViolation message for normalizing `raw`."""
    with pytest.raises(RuleViolation) as caught:
        normalize_kubeconfig(raw, api_server=API_SERVER)
    assert caught.value.status == 400
    return caught.value.message


def test_raw_yaml_gets_the_api_server() -> None:
    doc = yaml.safe_load(normalize_kubeconfig(KUBECONFIG, api_server=API_SERVER))
    assert doc["clusters"][0]["cluster"]["server"] == API_SERVER
    # Everything else is kept as it was.
    assert doc["clusters"][0]["cluster"]["certificate-authority-data"] == "Q0EtREFUQQ=="
    assert doc["users"][0]["user"]["token"] == SECRET
    assert doc["current-context"] == "admin@k8s"


def test_base64_is_detected_and_decoded() -> None:
    assert normalize_kubeconfig(KUBECONFIG_B64, api_server=API_SERVER) == normalize_kubeconfig(
        KUBECONFIG, api_server=API_SERVER
    )


def test_wrapped_base64_is_accepted() -> None:
    wrapped = "\n".join(textwrap.wrap(KUBECONFIG_B64, 76)) + "\n"
    doc = yaml.safe_load(normalize_kubeconfig(wrapped, api_server=API_SERVER))
    assert doc["clusters"][0]["cluster"]["server"] == API_SERVER


def test_only_the_context_s_cluster_is_kept_and_rewritten() -> None:
    # Was "only the first cluster is rewritten": the other entry is now dropped (#12, finding 6;
    # tests/security/test_kubeconfig.py).
    two = KUBECONFIG.replace(
        "users:", "- name: other\n  cluster:\n    server: https://10.0.0.1:6443\nusers:"
    )
    doc = yaml.safe_load(normalize_kubeconfig(two, api_server=API_SERVER))
    assert [c["cluster"]["server"] for c in doc["clusters"]] == [API_SERVER]


def test_a_cluster_entry_without_cluster_block_gets_one() -> None:
    raw = "clusters:\n- name: k8s\nusers:\n- name: admin\n"
    doc = yaml.safe_load(normalize_kubeconfig(raw, api_server=API_SERVER))
    assert doc["clusters"][0] == {"name": "k8s", "cluster": {"server": API_SERVER}}


def test_yaml_is_not_mistaken_for_base64() -> None:
    assert not looks_like_base64(KUBECONFIG)
    assert looks_like_base64(KUBECONFIG_B64)
    assert not looks_like_base64("")


@pytest.mark.parametrize(
    "raw",
    [
        "users:\n- name: admin\n",
        "clusters: []\nusers:\n- name: admin\n",
        "clusters: k8s\nusers:\n- name: admin\n",
    ],
)
def test_at_least_one_cluster(raw: str) -> None:
    assert rule_message(raw) == "invalid kubeconfig file: must have at least one cluster"


@pytest.mark.parametrize(
    "raw",
    [
        "clusters:\n- name: k8s\n",
        "clusters:\n- name: k8s\nusers: []\n",
        "clusters:\n- name: k8s\nusers: {}\n",
    ],
)
def test_at_least_one_user(raw: str) -> None:
    assert rule_message(raw) == "invalid kubeconfig file: must have at least one user"


@pytest.mark.parametrize("raw", ["", "   \n", None])
def test_kubeconfig_is_required(raw: str) -> None:
    message = rule_message(raw)
    assert message == KUBECONFIG_REQUIRED_MESSAGE
    assert "kubeconfig" in message
    assert "required" in message


def test_bad_yaml_is_refused_without_echoing_it() -> None:
    raw = f"clusters:\n- name: [k8s\nusers:\n  token: {SECRET}\n"
    message = rule_message(raw)
    assert "valid YAML" in message
    assert SECRET not in message
    assert "k8s" not in message


def test_base64_of_binary_is_refused_without_echoing_it() -> None:
    raw = base64.b64encode(b"\xff\xfe" + SECRET.encode()).decode()
    message = rule_message(raw)
    assert "base64" in message
    assert SECRET not in message
    assert raw not in message


@pytest.mark.parametrize("raw", ["- a\n- b\n", "just-a-word:", "42\n", "a: [1, 2"])
def test_non_mapping_documents_are_refused(raw: str) -> None:
    message = rule_message(raw)
    assert message.startswith("invalid kubeconfig")


def test_malformed_first_cluster_is_refused() -> None:
    message = rule_message("clusters:\n- cluster: [1]\nusers:\n- name: a\n")
    assert message == "invalid kubeconfig file: the first cluster entry is malformed"


def test_huge_uploads_are_refused() -> None:
    message = rule_message("a" * (MAX_KUBECONFIG_BYTES + 1))
    assert message == "invalid kubeconfig: it is larger than 1 MiB"


def test_summary_shows_nothing_secret() -> None:
    summary = kubeconfig_summary(normalize_kubeconfig(KUBECONFIG_B64, api_server=API_SERVER))
    assert summary == {"server": API_SERVER, "clusters": 1, "users": 1, "contexts": 1}
    assert SECRET not in repr(summary)
    assert "admin" not in repr(summary)
