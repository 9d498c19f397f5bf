"""Environments and projects: their static checks, and an environment's global check (its
cluster exists, and no other environment of the product uses it)."""

from __future__ import annotations

from typing import Any

from products.rules.common import _Peers, _spec, _str
from products.rules.fields import _Static
from products.rules.messages import ENV_CLUSTER_SHARED, UNAVAILABLE
from products.state import ProductState, Resource


def _static_environment(c: _Static, spec: dict[str, Any], resource: Resource) -> None:
    """PGV: cluster and env_type min_len 1."""
    c.text(spec, "cluster", "cluster", needed=True)
    c.text(spec, "envType", "envType", needed=True)


def _static_project(c: _Static, spec: dict[str, Any], resource: Resource) -> None:
    """Upstream does not validate `language`; only its type is checked."""
    c.text(spec, "language", "language")


def _env_cluster(env: Resource) -> str:
    return _str(_spec(env), "cluster")


def _global_environment(
    env: Resource, state: ProductState, clean: bool, peers: _Peers
) -> list[str]:
    """The cluster exists, and no other environment of the product uses it."""
    cluster = _env_cluster(env)
    if not cluster:
        return []
    messages = []
    if cluster not in state.clusters:
        messages.append(
            UNAVAILABLE.format(
                kind="Cluster", name=cluster, owner_kind=env.kind, owner=env.name, directory="envs"
            )
        )
    messages += [
        ENV_CLUSTER_SHARED.format(a=env.name, b=other.name)
        for other in peers.later(env, _env_cluster)
    ]
    return messages
