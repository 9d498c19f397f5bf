"""Helpers for the browser-page tests."""

from __future__ import annotations

import re
from typing import Any

from products.models import AccessLevel

REPORTER = AccessLevel.REPORTER
DEVELOPER = AccessLevel.DEVELOPER
MAINTAINER = AccessLevel.MAINTAINER


def worker_spec(worker_type: str = "deployment", **extra: Any) -> dict[str, Any]:
    """A registered worker cluster's spec, as the tenant repository holds it."""
    components = {
        "deployment": {"name": "argocd", "namespace": "argocd", "additions": {}},
        "multiTenant": {"name": "hnc", "namespace": "hnc-system", "additions": {}},
    }
    if worker_type == "pipeline":
        components["pipeline"] = {"name": "tekton", "namespace": "tekton-pipelines"}
    return {
        "apiServer": "https://127.0.0.1:6443",
        "clusterType": "physical",
        "clusterKind": "kubernetes",
        "usage": "worker",
        "workerType": worker_type,
        "primaryDomain": "10.0.0.1.nip.io",
        "componentsList": components,
        **extra,
    }


def index_cluster(name: str, *, usage: str = "worker", worker_type: str = "deployment") -> Any:
    """Index a cluster row directly (the product rules read clusters from the index only)."""
    from clusters.models import Cluster

    spec = worker_spec(worker_type, usage=usage)
    if usage == "host":
        spec["workerType"] = ""
        worker_type = ""
    return Cluster.objects.create(
        name=name,
        api_server=spec["apiServer"],
        cluster_type="physical",
        usage=usage,
        worker_type=worker_type,
        components_list=spec["componentsList"],
        manifest={"spec": spec},
        path=f"nautes/overlays/production/clusters/{name}.yaml",
    )


def user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style[\s>]|\sstyle=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def assert_csp_clean(html: str) -> None:
    """No inline script, style or event handler: the strict CSP would block them."""
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
    assert not INLINE_STYLE.search(html), INLINE_STYLE.search(html)
    assert not EVENT_HANDLER.search(html), EVENT_HANDLER.search(html)


def main(html: str) -> str:
    """The page's <main> element (messages and content, without the header)."""
    start = html.find("<main")
    return html[start : html.find("</main>", start)]
