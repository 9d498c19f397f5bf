"""Rules on the cluster's own fields: name, field types, API server URL, enums, the cluster shape
(usage, type, host, worker type), primary domain, vcluster port and kubeconfig."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from clusters import catalogue
from clusters.kubeconfig import KUBECONFIG_REQUIRED_MESSAGE, normalize_kubeconfig
from clusters.rules.common import (
    CLUSTER_KINDS,
    CLUSTER_TYPES,
    NAME_MAX_LENGTH,
    NAME_PATTERN,
    SAVE_PREFIX,
    USAGES,
    VALIDATE_PREFIX,
    _show,
)
from nautes_portal.errors import RuleViolation

# The CRD's spec.apiServer pattern (cluster_types.go); Kubernetes applies it as a search.
CRD_API_SERVER_PATTERN = (
    r"https?:\/\/(www\.)?[-a-zA-Z0-9@:%._\+~#=]{1,256}\.[a-zA-Z0-9()]{1,6}\b"
    r"([-a-zA-Z0-9()@:%_\+.~#?&\/\/=]*)"
)
_HTTP_PREFIX = re.compile(r"^(https?://)")
# Names the portal's own pages take (`/clusters/new/` is the wizard): a cluster so named could
# be registered but never opened in the browser. A rule, so every door refuses it.
RESERVED_CLUSTER_NAMES = frozenset({"new"})
_PORT = re.compile(r"[0-9]+")
_SCALAR_FIELDS: tuple[str, ...] = (
    "apiServer",
    "clusterType",
    "clusterKind",
    "usage",
    "hostCluster",
    "primaryDomain",
    "workerType",
)


def _name_problems(name: str) -> list[str]:
    """Portal rules: the cluster name is a DNS-1123 label, and no page of the portal's."""
    if not name:
        return ["the cluster name is required"]
    if len(name) > NAME_MAX_LENGTH or not NAME_PATTERN.fullmatch(name):
        return [
            f"the cluster name {_show(name)} is invalid: it must be a DNS-1123 label "
            f"(at most {NAME_MAX_LENGTH} lowercase letters, digits or '-', "
            "starting and ending with a letter or digit)"
        ]
    if name in RESERVED_CLUSTER_NAMES:
        return [f"{name} is reserved by the portal's pages; choose another name."]
    return []


def _field_type_problems(spec: Mapping[str, Any]) -> list[str]:
    """Scalar spec fields of the wrong type (possible in a hand-edited Git file)."""
    return [
        f"spec.{key} must be a string"
        for key in _SCALAR_FIELDS
        if spec.get(key) is not None and not isinstance(spec.get(key), str)
    ]


def _api_server_problems(api_server: str) -> list[str]:
    """PGV min_len, upstream's http(s) prefix check, then the portal's URL and CRD checks."""
    if not api_server:
        return ["invalid SaveRequest_Body.ApiServer: value length must be at least 1 runes"]
    shown = _show(api_server)
    if not _HTTP_PREFIX.match(api_server):
        return [f"{SAVE_PREFIX}the apiserver {shown} is not an https URL"]
    try:
        parts = urlsplit(api_server)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        host = None
    if not host or any(ch.isspace() for ch in api_server):
        return [f"the apiserver {shown} is not a valid URL: it needs a host and an optional port"]
    # Without this the rendered Cluster would be refused by the CRD when Argo CD syncs it.
    if not re.search(CRD_API_SERVER_PATTERN, api_server):
        return [
            f"the apiserver {shown} does not match the pattern of the Cluster resource: "
            f"{CRD_API_SERVER_PATTERN}"
        ]
    return []


def _enum_problems(cluster_kind: str, cluster_type: str, usage: str) -> list[str]:
    """PGV enums of the save request, and the CRD enum of clusterKind."""
    problems: list[str] = []
    if not cluster_kind:
        problems.append(
            "invalid SaveRequest_Body.ClusterKind: value length must be at least 1 runes"
        )
    elif cluster_kind not in CLUSTER_KINDS:
        # The Kubernetes API server's wording for a CRD enum failure.
        problems.append(
            f'spec.clusterKind: Unsupported value: "{_show(cluster_kind)}": '
            'supported values: "kubernetes"'
        )
    if cluster_type not in CLUSTER_TYPES:
        problems.append(
            "invalid SaveRequest_Body.ClusterType: value must be in list [physical virtual]"
        )
    if usage not in USAGES:
        problems.append("invalid SaveRequest_Body.Usage: value must be in list [host worker]")
    return problems


def _shape_problems(
    cluster_type: str, usage: str, host_cluster: str, worker_type: str
) -> list[str]:
    """The API service's checks, then the webhook's `staticCheck` shape rules."""
    problems: list[str] = []
    if usage == "worker" and cluster_type == "virtual" and not host_cluster:
        problems.append(f"{SAVE_PREFIX}the 'Host Cluster' for virtual cluster is required")
    if usage == "worker" and not worker_type:
        problems.append(
            f"{SAVE_PREFIX}when the cluster usage is 'worker', the 'WorkerType' field is required"
        )
    if usage == "host" and cluster_type == "virtual":
        problems.append(f"{VALIDATE_PREFIX}host cluster can not be a virtual cluster")
    if usage == "host" and worker_type:
        problems.append(f"{VALIDATE_PREFIX}host cluster's work type should be empty")
    if cluster_type == "physical" and host_cluster:
        problems.append(f"{VALIDATE_PREFIX}host cluster can not belong to another host")
    # For a virtual worker the API service's message above already says this.
    if cluster_type == "virtual" and not host_cluster and usage != "worker":
        problems.append(f"{VALIDATE_PREFIX}virtual cluster must have a host")
    return problems


def _host_cluster_problems(
    name: str, cluster_type: str, host_cluster: str, existing: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Portal rule: a virtual cluster's host must be a registered `usage: host` cluster."""
    if cluster_type != "virtual" or not host_cluster:
        return []
    shown = _show(host_cluster)
    if host_cluster == name:
        return [f"cluster {name} cannot be its own host cluster"]
    host_spec = existing.get(host_cluster)
    if host_spec is None:
        return [f"the host cluster {shown} of virtual cluster {name} does not exist"]
    host_usage = host_spec.get("usage") if isinstance(host_spec, Mapping) else None
    if host_usage != "host":
        return [
            f"the host cluster {shown} of virtual cluster {name} is not a host cluster "
            f"(its usage is '{_show(host_usage or '')}')"
        ]
    return []


def _primary_domain_problems(primary_domain: str) -> list[str]:
    """Portal rule: the primary domain is a DNS name (component hosts are built from it)."""
    if primary_domain and not re.fullmatch(catalogue.HOSTNAME_REGEX, primary_domain):
        return [f"the primary domain {_show(primary_domain)} is not a valid domain name"]
    return []


def _vcluster_problems(cluster_type: str, port: Any) -> list[str]:
    """The vcluster NodePort of a virtual cluster save (None means: not part of this input)."""
    if cluster_type != "virtual" or port is None:
        return []
    if not isinstance(port, str):
        return ["the vcluster https_node_port must be a string"]
    if not port:
        return [
            "the vcluster https_node_port is required for a virtual cluster: "
            "set vcluster.https_node_port or put the port in api_server"
        ]
    if not _PORT.fullmatch(port):
        return [f"the vcluster https_node_port {_show(port)} must be a port number"]
    return []


def _kubeconfig_problems(
    cluster_type: str, raw: Any, *, api_server: str, required: bool
) -> list[str]:
    """Physical clusters need a readable kubeconfig (virtual ones get theirs from the host)."""
    if cluster_type != "physical":
        return []
    if not isinstance(raw, str) or not raw.strip():
        return [KUBECONFIG_REQUIRED_MESSAGE] if required else []
    try:
        normalize_kubeconfig(raw, api_server=api_server)
    except RuleViolation as error:
        return [error.message]
    return []
