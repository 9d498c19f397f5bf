"""A registered kubeconfig is reduced to one context, its cluster and its user (#12, finding 6).

Before: only `clusters[0]` was rewritten to `api_server`, but the client follows
`current-context`, so a context naming another cluster entry sent the token to a server the
portal never showed. Now registration keeps exactly the context a client would use, with its
cluster's server set to `api_server`; that is what Vault holds and what every client uses.
Fake API servers on 127.0.0.1 record every request they get.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from django.test import Client
from rest_framework.test import APIClient

from clusters.kubeconfig import normalize_kubeconfig
from clusters.models import Cluster, TenantMembership
from clusters.services import cluster_check_start
from nautes_portal.errors import RuleViolation
from nautes_portal.integrations.kube import KubeClient, KubeconfigInvalid
from nautes_portal.integrations.vault import SecretStore, cluster_kubeconfig_location
from products.models import AccessLevel
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

EXTRA_USER_SECRET = "extra-user-token-s3cr3t-5d1e"
ONE_CONTEXT_RULE = "the portal keeps exactly one context, its cluster and its user"


def two_context_kubeconfig(shown: FakeKubeServer, hidden: FakeKubeServer) -> dict[str, Any]:
    """Entry #1 is the server the portal shows; current-context uses entry #2 (`hidden`)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "shown", "cluster": {"server": shown.url}},
            {"name": "hidden", "cluster": {"server": hidden.url}},
        ],
        "users": [
            {"name": "extra", "user": {"token": EXTRA_USER_SECRET}},
            {"name": "admin", "user": {"token": shown.token}},
        ],
        "contexts": [
            {"name": "shown-ctx", "context": {"cluster": "shown", "user": "extra"}},
            {"name": "hidden-ctx", "context": {"cluster": "hidden", "user": "admin"}},
        ],
        "current-context": "hidden-ctx",
        "preferences": {},
    }


def registration(server: str, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "api_server": server,
        "cluster_kind": "kubernetes",
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": "deployment",
        "kubeconfig": base64.b64encode(yaml.safe_dump(document).encode()).decode(),
    }


def stored_kubeconfig(store: SecretStore, name: str) -> str | None:
    location = cluster_kubeconfig_location(name)
    data = store.read(engine=location.engine, path=location.path)
    return None if data is None else data["kubeconfig"]


def test_a_context_naming_another_cluster_entry_never_reaches_that_server(
    admin_api: APIClient,
    secret_store: SecretStore,
    fake_kube_factory: Callable[..., list[FakeKubeServer]],
) -> None:
    shown, hidden = fake_kube_factory(count=2, argocd_installed=True)
    response = admin_api.post(
        "/api/v1/clusters/cluster-dev",
        registration(shown.url, two_context_kubeconfig(shown, hidden)),
        format="json",
    )
    assert response.status_code == 200, response.json()

    text = stored_kubeconfig(secret_store, "cluster-dev")
    assert text is not None
    stored = yaml.safe_load(text)
    # One context, its cluster and its user; the server is the one the portal shows.
    assert stored["contexts"] == [
        {"name": "hidden-ctx", "context": {"cluster": "hidden", "user": "admin"}}
    ]
    assert stored["current-context"] == "hidden-ctx"
    assert stored["clusters"] == [{"name": "hidden", "cluster": {"server": shown.url}}]
    assert stored["users"] == [{"name": "admin", "user": {"token": shown.token}}]
    # The other user's credentials are not kept anywhere in Vault's copy.
    assert EXTRA_USER_SECRET not in text and hidden.url not in text

    operation = cluster_check_start(
        cluster=Cluster.objects.get(name="cluster-dev"), actor=None, inline=True
    )
    assert operation.status == "succeeded", operation.error
    assert shown.requests, "the check talked to the API server the portal shows"
    assert hidden.requests == [], "nothing may reach the server only the context named"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"current-context": None}, "several contexts and no current-context"),
        ({"current-context": "nope"}, "current-context names a context that is not in the file"),
        (
            {"contexts": [{"name": "hidden-ctx", "context": {"cluster": "gone", "user": "admin"}}]},
            "names a cluster that is not in the file",
        ),
        (
            {"contexts": [{"name": "hidden-ctx", "context": {"cluster": "hidden", "user": "x"}}]},
            "names a user that is not in the file",
        ),
        (
            {
                "clusters": [
                    {"name": "hidden", "cluster": {"server": "https://127.0.0.1:1"}},
                    {"name": "hidden", "cluster": {"server": "https://127.0.0.1:2"}},
                ]
            },
            "more than one cluster entry",
        ),
        ({"contexts": [], "current-context": None}, "no context and more than one cluster or user"),
    ],
    ids=["ambiguous", "missing-context", "missing-cluster", "missing-user", "twin", "none"],
)
def test_a_kubeconfig_without_one_clear_context_is_refused(
    admin_api: APIClient,
    secret_store: SecretStore,
    fake_kube_factory: Callable[..., list[FakeKubeServer]],
    change: dict[str, Any],
    needle: str,
) -> None:
    shown, hidden = fake_kube_factory(count=2)
    document = {**two_context_kubeconfig(shown, hidden), **change}
    if document["current-context"] is None:
        del document["current-context"]

    response = admin_api.post(
        "/api/v1/clusters/cluster-dev", registration(shown.url, document), format="json"
    )

    assert response.status_code == 400, response.json()
    body = response.json()
    assert ONE_CONTEXT_RULE in body["message"] and needle in body["message"]
    assert EXTRA_USER_SECRET not in response.content.decode()
    # Nothing half-written: no cluster, no secret, and no cluster contacted.
    assert not Cluster.objects.filter(name="cluster-dev").exists()
    assert stored_kubeconfig(secret_store, "cluster-dev") is None
    assert shown.requests == [] and hidden.requests == []


def test_the_only_context_is_kept_without_a_current_context() -> None:
    document = {
        "clusters": [
            {"name": "k8s", "cluster": {"server": "https://10.0.0.1:6443"}},
            {"name": "unused", "cluster": {"server": "https://10.0.0.2:6443"}},
        ],
        "users": [{"name": "admin", "user": {"token": "t"}}],
        "contexts": [{"name": "only", "context": {"cluster": "k8s", "user": "admin"}}],
    }
    minified = yaml.safe_load(
        normalize_kubeconfig(yaml.safe_dump(document), api_server="https://127.0.0.1:1")
    )
    assert minified["current-context"] == "only"
    assert minified["clusters"] == [{"name": "k8s", "cluster": {"server": "https://127.0.0.1:1"}}]


def test_a_non_string_current_context_is_refused() -> None:
    with pytest.raises(RuleViolation, match=ONE_CONTEXT_RULE):
        normalize_kubeconfig(
            "clusters: [{name: a}]\nusers: [{name: u}]\ncontexts: []\ncurrent-context: [x]\n",
            api_server="https://127.0.0.1:1",
        )


# ---- Defence in depth: the client itself -------------------------------------------
def test_the_client_refuses_a_kubeconfig_with_several_contexts(
    fake_kube_factory: Callable[..., list[FakeKubeServer]],
) -> None:
    shown, hidden = fake_kube_factory(count=2)
    text = yaml.safe_dump(two_context_kubeconfig(shown, hidden))

    with pytest.raises(KubeconfigInvalid, match="more than one context"):
        KubeClient.from_kubeconfig(text)

    assert shown.requests == [] and hidden.requests == []


def test_a_legacy_stored_kubeconfig_with_several_contexts_is_not_used(
    admin_api: APIClient,
    secret_store: SecretStore,
    fake_kube_factory: Callable[..., list[FakeKubeServer]],
) -> None:
    shown, hidden = fake_kube_factory(count=2, argocd_installed=True)
    document = two_context_kubeconfig(shown, hidden)
    document["current-context"] = "shown-ctx"
    response = admin_api.post(
        "/api/v1/clusters/cluster-dev", registration(shown.url, document), format="json"
    )
    assert response.status_code == 200, response.json()
    # As a registration made before this rule left it: the whole file, clusters[0] rewritten.
    document["clusters"][0]["cluster"]["server"] = shown.url
    document["current-context"] = "hidden-ctx"
    location = cluster_kubeconfig_location("cluster-dev")
    secret_store.write(
        engine=location.engine, path=location.path, data={"kubeconfig": yaml.safe_dump(document)}
    )
    shown.requests.clear()

    operation = cluster_check_start(
        cluster=Cluster.objects.get(name="cluster-dev"), actor=None, inline=True
    )

    assert operation.status == "failed"
    assert "more than one context" in operation.error
    assert hidden.requests == [] and shown.requests == []


def test_the_client_uses_only_the_context_s_own_entries(
    fake_kube_factory: Callable[..., list[FakeKubeServer]],
) -> None:
    (server,) = fake_kube_factory()
    document = yaml.safe_load(server.kubeconfig())
    # Unreferenced entries (another cluster first, another user) play no part.
    document["clusters"].insert(0, {"name": "other", "cluster": {"server": "https://127.0.0.1:1"}})
    document["users"].insert(0, {"name": "other", "user": {"exec": {"command": "/bin/sh"}}})
    with KubeClient.from_kubeconfig(yaml.safe_dump(document)) as client:
        assert client.server == server.url
        assert client.version()


# ---- The wizard takes the same path ------------------------------------------------
def test_the_wizard_refuses_an_ambiguous_kubeconfig_and_stores_the_minified_one(
    make_user: Callable[..., Any],
    secret_store: SecretStore,
    fake_kube_factory: Callable[..., list[FakeKubeServer]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    maintainer = make_user("tenant-admin")
    TenantMembership.objects.create(user=maintainer, access_level=AccessLevel.MAINTAINER)
    browser = Client()
    browser.force_login(maintainer)
    shown, hidden = fake_kube_factory(count=2)
    basics = {
        "name": "cluster-dev",
        "api_server": shown.url,
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": "deployment",
        "action": "next",
    }
    assert browser.post("/clusters/new/basics/", basics).status_code == 302
    document = two_context_kubeconfig(shown, hidden)
    ambiguous = {k: v for k, v in document.items() if k != "current-context"}

    response = browser.post(
        "/clusters/new/kubeconfig/",
        {"kubeconfig_text": yaml.safe_dump(ambiguous), "action": "next"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert ONE_CONTEXT_RULE in page and "several contexts and no current-context" in page
    assert EXTRA_USER_SECRET not in page

    response = browser.post(
        "/clusters/new/kubeconfig/",
        {"kubeconfig_text": yaml.safe_dump(document), "action": "next"},
    )
    assert response["Location"] == "/clusters/new/components/"
    form = browser.get("/clusters/new/components/").context["form"]
    response = browser.post("/clusters/new/components/", {**form.initial, "action": "next"})
    assert response["Location"] == "/clusters/new/review/"
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/clusters/new/review/", {"action": "register"})
    assert response["Location"] == "/clusters/cluster-dev/"

    text = stored_kubeconfig(secret_store, "cluster-dev")
    assert text is not None and EXTRA_USER_SECRET not in text
    stored = yaml.safe_load(text)
    assert [c["cluster"]["server"] for c in stored["clusters"]] == [shown.url]
    assert len(stored["contexts"]) == len(stored["users"]) == 1
    assert hidden.requests == []


def test_a_discovered_vcluster_kubeconfig_is_reduced_like_a_registered_one(
    admin_api: APIClient,
    secret_store: SecretStore,
    fake_kube_factory: Callable[..., list[FakeKubeServer]],
) -> None:
    """The kubeconfig a host's `vc-<name>` secret holds is not trusted more than an upload."""
    host, vcluster, hidden = fake_kube_factory(count=3)
    vcluster.install_argocd()
    response = admin_api.post(
        "/api/v1/clusters/cluster-host",
        {**registration(host.url, yaml.safe_load(host.kubeconfig())), "usage": "host"}
        | {"worker_type": ""},
        format="json",
    )
    assert response.status_code == 200, response.json()
    host.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "vc-dev"}})
    secret = yaml.safe_dump(two_context_kubeconfig(vcluster, hidden))
    host.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "vc-vc-dev", "namespace": "vc-dev"},
            "data": {"config": base64.b64encode(secret.encode()).decode()},
        }
    )
    response = admin_api.post(
        "/api/v1/clusters/vc-dev",
        {
            "api_server": vcluster.url,
            "cluster_kind": "kubernetes",
            "cluster_type": "virtual",
            "usage": "worker",
            "worker_type": "deployment",
            "host_cluster": "cluster-host",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    operation = cluster_check_start(
        cluster=Cluster.objects.get(name="vc-dev"), actor=None, inline=True
    )
    assert operation.status == "succeeded", operation.error

    text = stored_kubeconfig(secret_store, "vc-dev")
    assert text is not None
    stored = yaml.safe_load(text)
    assert stored["clusters"] == [{"name": "hidden", "cluster": {"server": vcluster.url}}]
    assert len(stored["contexts"]) == 1 and len(stored["users"]) == 1
    assert EXTRA_USER_SECRET not in text
    assert vcluster.requests and hidden.requests == []
