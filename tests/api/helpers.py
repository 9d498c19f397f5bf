"""Shared request bodies (reference/nautes.md §4.4, adapted to v0.4.2) and small helpers."""

from __future__ import annotations

import base64
from typing import Any

import yaml

from nautes_portal.integrations.git_local import LocalGitHost

KUBECONFIG_TOKEN = "kubeconfig-token-s3cr3t-9f2c1d"


# Registration checks the cluster in the background: a port that refuses at once on any machine
# lets that check fail fast instead of waiting on a network a test machine may not reach.
UNREACHABLE_API_SERVER = "https://127.0.0.1:1"


def kubeconfig(server: str = UNREACHABLE_API_SERVER) -> str:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": KUBECONFIG_TOKEN}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }
    return base64.b64encode(yaml.safe_dump(document).encode()).decode()


HOST_CLUSTER = {
    "api_server": "https://127.0.0.1:6443",
    "cluster_kind": "kubernetes",
    "cluster_type": "physical",
    "usage": "host",
    "primary_domain": "8.217.50.114.nip.io",
    "components_list": {
        "gateway": {
            "name": "traefik",
            "namespace": "traefik",
            "additions": {"httpNodePort": "30080", "httpsNodePort": "30443"},
        }
    },
}

DEPLOYMENT_WORKER = {
    "api_server": "https://127.0.0.1:6443",
    "cluster_kind": "kubernetes",
    "cluster_type": "physical",
    "usage": "worker",
    "worker_type": "deployment",
    "primary_domain": "8.217.50.114.nip.io",
    # v0.3 aliases, as the website documents them
    "argocd_host": "argocd.cluster-dev.8.217.50.114.nip.io",
    "traefik": {"http_node_port": "30080", "https_node_port": "30443"},
    "reserved_namespaces_allowed_products": {
        "argo-rollouts": ["nautes-labs"],
        "traefik": ["nautes-labs"],
        "external-secrets": ["nautes-labs"],
        "vault": ["nautes-labs"],
        "hnc-system": ["nautes-labs"],
    },
    "product_allowed_cluster_resources": {
        "nautes-labs": [
            {"kind": "ClusterRole", "group": "authorization.k8s.io"},
            {"kind": "ClusterRoleBinding", "group": "authorization.k8s.io"},
        ]
    },
}

PIPELINE_WORKER = {
    "api_server": "https://127.0.0.1:31456",
    "cluster_kind": "kubernetes",
    "cluster_type": "virtual",
    "usage": "worker",
    "worker_type": "pipeline",
    "host_cluster": "cluster-host",
    "primary_domain": "8.217.50.114.nip.io",
    "vcluster": {"https_node_port": "31456"},
    "components_list": {
        "multi_tenant": {
            "name": "hnc",
            "namespace": "hnc-system",
            "additions": {
                "productResourceKustomizeFileFolder": "templates/pipelines",
                "productResourceRevision": "main",
                "syncResourceTypes": "tekton.dev/Pipeline",
            },
        },
        "secret_sync": {"name": "external-secrets", "namespace": "external-secrets"},
        "gateway": {
            "name": "traefik",
            "namespace": "traefik",
            "additions": {"httpNodePort": "30080", "httpsNodePort": "30443"},
        },
        "deployment": {"name": "argocd", "namespace": "argocd"},
        "event_listener": {"name": "argo-events", "namespace": "argo-events"},
        "pipeline": {"name": "tekton", "namespace": "tekton-pipelines"},
    },
    "reserved_namespaces_allowed_products": {"tekton-pipelines": ["nautes-labs"]},
}

PRODUCT = {
    "git": {
        "gitlab": {
            "name": "nautes-labs",
            "path": "nautes-labs",
            "visibility": "private",
            "description": "Nautes-Labs is an open-source, one-stop developer platform.",
        }
    }
}


def coderepo_body(name: str, project: str = "", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project": project,
        "webhook": {"events": ["push_events"]},
        "deployment_runtime": True,
        "pipeline_runtime": False,
        "git": {
            "gitlab": {
                "name": name,
                "path": name,
                "visibility": "private",
                "description": f"{name} repository",
            }
        },
    }
    body.update(extra)
    return body


def product_files(root: Any, product: str) -> dict[str, bytes]:
    """Every file of a product's default.project at HEAD, read straight from Git."""
    host = LocalGitHost(root)
    project = host.get_project(product, "default.project")
    assert project is not None
    repo = host.repository(project)
    head = repo.head()
    assert head is not None
    return repo.read_tree(head)
