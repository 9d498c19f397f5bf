"""Where each Nautes secret lives (engine, path, policy name), as the upstream contract says."""

from __future__ import annotations

import re
from dataclasses import dataclass

# The KV v2 engines of the upstream contract, mounted on demand.
KV_ENGINES: tuple[str, ...] = ("cluster", "git", "pki")
REPO_SECRET_KINDS: tuple[str, ...] = ("readonly", "readwrite", "accesstoken-api")
DEFAULT_CA_LOCATION_PATH = "default"

# Engines, paths and policy names are interpolated into URLs and policy HCL: keep them to a safe
# alphabet so nothing can escape the one secret a policy is meant for.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class SecretLocation:
    """Where one Nautes secret lives and the name of the policy granting read on it."""

    engine: str
    path: str
    policy_name: str


def cluster_kubeconfig_location(cluster: str) -> SecretLocation:
    """The admin kubeconfig of a cluster: `cluster` / `kubernetes/<cluster>/default/admin`."""
    _check_segment(cluster, "cluster name")
    return SecretLocation(
        engine="cluster",
        path=f"kubernetes/{cluster}/default/admin",
        policy_name=f"kubernetes-{cluster}-default-admin",
    )


def repo_secret_location(repo_id: str, kind: str) -> SecretLocation:
    """A code repository's deploy key or access token: `git` / `gitlab/<repo_id>/default/<kind>`.

    `repo_id` is the Nautes repository id, e.g. `repo-12`; `kind` is one of REPO_SECRET_KINDS.
    """
    _check_segment(repo_id, "repository id")
    if kind not in REPO_SECRET_KINDS:
        raise ValueError(f"kind must be one of {', '.join(REPO_SECRET_KINDS)}, got {kind!r}")
    return SecretLocation(
        engine="git",
        path=f"gitlab/{repo_id}/default/{kind}",
        policy_name=f"gitlab-{repo_id}-default-{kind}",
    )


def default_ca_location() -> SecretLocation:
    """The default CA certificate: `pki` / `default` (key `cacert`)."""
    return SecretLocation(engine="pki", path=DEFAULT_CA_LOCATION_PATH, policy_name="pki-default")


def _check_segment(value: str, what: str) -> None:
    if not _SEGMENT.match(value):
        raise ValueError(f"invalid {what}: {value!r}")


def _check_location(engine: str, path: str) -> None:
    _check_segment(engine, "engine")
    segments = path.split("/")
    for segment in segments:
        _check_segment(segment, "secret path segment")
    if ".." in segments:
        raise ValueError(f"invalid secret path: {path!r}")
