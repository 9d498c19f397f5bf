"""Cluster rules: parse a save request, validate a cluster, guard updates and deletes.

Pure functions over plain data (no Django, no I/O). The rules are upstream Nautes v0.4.2's
(API service checks, protoc-gen-validate rules, the Cluster webhook's `ValidateCluster`) plus a
few portal rules where upstream lets broken data through; the reference is `nautes.md` §3.1.

Upstream message texts are kept verbatim, with the prefix upstream adds in front of them:
`failed to validate save request, err: ` (API service checks), `failed to construct cluster,
err: ` (component resolution) and `failed to validate cluster, err: ` (webhook checks).
Portal-only rules have their own plain messages.

The package, by kind of rule: `common` (prefixes, enums, `ClusterInput`, small helpers),
`request` (parsing a save request), `components` (component parsing, defaulting and rules),
`allow_lists` (reserved namespaces and cluster resources allowed to products), `fields` (name,
API server, shape, domain, vcluster, kubeconfig) and `validation` (every rule in order, and the
update and delete guards). Callers import from `clusters.rules`.
"""

from __future__ import annotations

from clusters.rules.allow_lists import parse_allowed_cluster_resources, parse_reserved_namespaces
from clusters.rules.common import (
    CLUSTER_KINDS,
    CLUSTER_TYPES,
    CONSTRUCT_PREFIX,
    NAME_MAX_LENGTH,
    NAME_PATTERN,
    NAMESPACE_PATTERN,
    SAVE_PREFIX,
    USAGES,
    VALIDATE_PREFIX,
    WORKER_TYPES,
    ClusterInput,
)
from clusters.rules.components import resolve_components
from clusters.rules.fields import CRD_API_SERVER_PATTERN
from clusters.rules.request import cluster_input_from_request
from clusters.rules.validation import (
    IMMUTABLE_WHEN_REFERENCED,
    cluster_problems,
    validate_cluster,
    validate_cluster_delete,
    validate_cluster_update,
)

__all__ = [
    "CLUSTER_KINDS",
    "CLUSTER_TYPES",
    "CONSTRUCT_PREFIX",
    "CRD_API_SERVER_PATTERN",
    "IMMUTABLE_WHEN_REFERENCED",
    "NAMESPACE_PATTERN",
    "NAME_MAX_LENGTH",
    "NAME_PATTERN",
    "SAVE_PREFIX",
    "USAGES",
    "VALIDATE_PREFIX",
    "WORKER_TYPES",
    "ClusterInput",
    "cluster_input_from_request",
    "cluster_problems",
    "parse_allowed_cluster_resources",
    "parse_reserved_namespaces",
    "resolve_components",
    "validate_cluster",
    "validate_cluster_delete",
    "validate_cluster_update",
]
