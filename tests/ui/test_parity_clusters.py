"""Parity for clusters: the registration wizard and the API reach the same service and rules,
so they store the same cluster, refuse the same input with the same rule, and refuse the same
people (#13). Each case goes through both doors."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from clusters.models import Cluster, TenantMembership
from clusters.services import tenant_repository
from nautes_portal.integrations import git_host
from nautes_portal.integrations.vault import cluster_kubeconfig_location
from products.models import AccessLevel
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

NAME = "cluster-dev"
API = f"/api/v1/clusters/{NAME}"


@pytest.fixture
def server(fake_kube_factory: Callable[..., list[FakeKubeServer]]) -> FakeKubeServer:
    return fake_kube_factory()[0]


@pytest.fixture
def maintainer(make_user: Callable[..., Any]) -> Any:
    """A Maintainer of the tenant configuration repository (not a superuser)."""
    user = make_user("tenant-maintainer")
    TenantMembership.objects.create(user=user, access_level=AccessLevel.MAINTAINER)
    return user


def _basics(server: FakeKubeServer, **changes: Any) -> dict[str, Any]:
    """The wizard's first step, in its form fields."""
    return {
        "name": NAME,
        "api_server": server.url,
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": "deployment",
        "primary_domain": "",
        "action": "next",
        **changes,
    }


def _body(server: FakeKubeServer, **changes: Any) -> dict[str, Any]:
    """The same cluster as an API body."""
    return {
        "api_server": server.url,
        "cluster_kind": "kubernetes",
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": "deployment",
        "kubeconfig": base64.b64encode(server.kubeconfig().encode()).decode(),
        **changes,
    }


def _register_in_the_wizard(browser: Client, server: FakeKubeServer) -> None:
    assert browser.post("/clusters/new/basics/", _basics(server)).status_code == 302
    step = browser.post(
        "/clusters/new/kubeconfig/", {"kubeconfig_text": server.kubeconfig(), "action": "next"}
    )
    assert step["Location"] == "/clusters/new/components/"
    form = browser.get("/clusters/new/components/").context["form"]
    step = browser.post("/clusters/new/components/", {**form.initial, "action": "next"})
    assert step["Location"] == "/clusters/new/review/"
    done = browser.post("/clusters/new/review/", {"action": "register"})
    assert done.status_code == 302 and done["Location"] == f"/clusters/{NAME}/", done


def _stored(secret_store: Any) -> dict[str, Any]:
    """What a save leaves behind: the index row, the file in Git, the kubeconfig in Vault."""
    row = Cluster.objects.filter(name=NAME).first()
    repo = tenant_repository(git_host())
    head = repo.head()
    location = cluster_kubeconfig_location(NAME)
    kubeconfig = secret_store.read(engine=location.engine, path=location.path)
    return {
        "spec": row.spec if row else None,
        "file": repo.read_file(head, row.path) if row and head else None,
        "kubeconfig stored": bool(kubeconfig),
    }


def test_a_valid_cluster_is_stored_the_same_by_the_wizard_and_the_api(
    maintainer: Any,
    browser_for: Callable[[Any], Client],
    api_client_for: Callable[[Any], APIClient],
    secret_store: Any,
    server: FakeKubeServer,
) -> None:
    browser, api = browser_for(maintainer), api_client_for(maintainer)
    _register_in_the_wizard(browser, server)
    by_the_wizard = _stored(secret_store)
    assert by_the_wizard["spec"] and by_the_wizard["file"] and by_the_wizard["kubeconfig stored"]

    assert api.delete(API).status_code == 200  # the same name, stored again by the other door
    assert _stored(secret_store) == {"spec": None, "file": None, "kubeconfig stored": False}
    response = api.post(API, _body(server), format="json")
    assert response.status_code == 200, response.json()
    assert _stored(secret_store) == by_the_wizard

    # Deleting: the page's confirmation and the API leave the same nothing behind.
    page = browser.post(f"/clusters/{NAME}/delete/", {"confirm": NAME})
    assert page.status_code == 302, html.unescape(page.content.decode())
    assert _stored(secret_store) == {"spec": None, "file": None, "kubeconfig stored": False}


# (form fields changed, API body changed, what both doors' refusal says)
REFUSALS = [
    (
        {"primary_domain": "not a domain"},
        {"primary_domain": "not a domain"},
        "the primary domain not a domain is not a valid domain name",
    ),
    ({"api_server": "ftp://10.0.0.1"}, {"api_server": "ftp://10.0.0.1"}, "is not an https URL"),
    ({"name": "-dev"}, None, "the cluster name -dev is invalid: it must be a DNS-1123 label"),
    # `/clusters/new/` is the wizard: such a cluster could never be opened
    ({"name": "new"}, None, "new is reserved by the portal's pages; choose another name."),
]


@pytest.mark.parametrize(("fields", "body", "refusal"), REFUSALS)
def test_a_rule_refuses_the_same_cluster_in_the_wizard_and_the_api(
    maintainer: Any,
    browser_for: Callable[[Any], Client],
    api_client_for: Callable[[Any], APIClient],
    secret_store: Any,
    server: FakeKubeServer,
    fields: dict[str, Any],
    body: dict[str, Any] | None,
    refusal: str,
) -> None:
    step = browser_for(maintainer).post("/clusters/new/basics/", _basics(server, **fields))
    name = fields.get("name", NAME)
    response = api_client_for(maintainer).post(
        f"/api/v1/clusters/{name}", _body(server, **(body or {})), format="json"
    )
    assert response.status_code == 400 and refusal in response.json()["message"], response.json()
    assert step.status_code == 200, "the wizard accepted what the API refuses"
    assert refusal in html.unescape(step.content.decode())
    assert not Cluster.objects.exists()


def test_both_doors_refuse_a_reader_of_the_tenant_repository(
    maintainer: Any,
    make_user: Callable[..., Any],
    browser_for: Callable[[Any], Client],
    api_client_for: Callable[[Any], APIClient],
    secret_store: Any,
    server: FakeKubeServer,
) -> None:
    reader = make_user("reader")
    TenantMembership.objects.create(user=reader, access_level=AccessLevel.REPORTER)
    browser, api = browser_for(reader), api_client_for(reader)
    assert browser.post("/clusters/new/basics/", _basics(server)).status_code == 403
    refused = api.post(API, _body(server), format="json")
    assert refused.status_code == 403 and refused.json()["reason"] == "NO_AUTHORIZATION"
    assert not Cluster.objects.exists()

    saved = api_client_for(maintainer).post(API, _body(server), format="json")
    assert saved.status_code == 200
    before = _stored(secret_store)
    assert browser.post(f"/clusters/{NAME}/delete/", {"confirm": NAME}).status_code == 403
    assert api.delete(API).status_code == 403
    assert browser.post(f"/clusters/{NAME}/check/").status_code == 403
    assert api.post(f"{API}/health").status_code == 403
    assert _stored(secret_store) == before
