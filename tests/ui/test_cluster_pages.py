"""Cluster pages: the registration wizard (checked before any write, the kubeconfig held
encrypted in the session and never shown), the health panel, edit and delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from clusters.models import Cluster, ClusterHealth, TenantMembership
from nautes_portal.integrations.vault import cluster_kubeconfig_location
from products.models import AccessLevel, Product
from tests.fakes.kube_server import FakeKubeServer
from tests.ui.helpers import assert_csp_clean, main

pytestmark = pytest.mark.django_db

TOKEN = "wizard-kubeconfig-token-7f3a9c"


@pytest.fixture
def fake_kube(fake_kube_factory: Callable[..., list[FakeKubeServer]]) -> FakeKubeServer:
    """A fake API server that accepts the kubeconfig token the tests look for in pages."""
    return fake_kube_factory(token=TOKEN)[0]


@pytest.fixture
def tenant_admin(make_user: Callable[..., Any]) -> Any:
    """A Maintainer of the tenant configuration repository (not a superuser)."""
    admin = make_user("tenant-admin")
    TenantMembership.objects.create(user=admin, access_level=AccessLevel.MAINTAINER)
    return admin


class Recorder:
    """A logged-in client that keeps every response, to prove the kubeconfig never leaks."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.pages: list[str] = []

    def get(self, url: str, **extra: Any) -> Any:
        response = self.client.get(url, **extra)
        self.pages.append(response.content.decode())
        return response

    def post(self, url: str, data: dict[str, Any], **extra: Any) -> Any:
        response = self.client.post(url, data, **extra)
        self.pages.append(response.content.decode())
        return response


def session_keys(browser: Recorder) -> list[str]:
    return list(browser.client.session.keys())


def basics(server: FakeKubeServer, **extra: Any) -> dict[str, Any]:
    return {
        "name": "cluster-dev",
        "api_server": server.url,
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": "deployment",
        "action": "next",
        **extra,
    }


def register(browser: Recorder, server: FakeKubeServer, capture: Any) -> None:
    assert browser.post("/clusters/new/basics/", basics(server)).status_code == 302
    kubeconfig = server.kubeconfig(token=TOKEN)
    response = browser.post(
        "/clusters/new/kubeconfig/", {"kubeconfig_text": kubeconfig, "action": "next"}
    )
    assert response["Location"] == "/clusters/new/components/"
    form = browser.get("/clusters/new/components/").context["form"]
    response = browser.post("/clusters/new/components/", {**form.initial, "action": "next"})
    assert response["Location"] == "/clusters/new/review/", main(response.content.decode())
    assert browser.get("/clusters/new/review/").status_code == 200
    with capture(execute=True):
        response = browser.post("/clusters/new/review/", {"action": "register"})
    assert response["Location"] == "/clusters/cluster-dev/"


def test_only_tenant_maintainers_register_clusters(
    make_user: Callable[..., Any], browser_for: Callable[[Any], Client]
) -> None:
    reader = make_user("reader")
    TenantMembership.objects.create(user=reader, access_level=AccessLevel.REPORTER)
    browser = browser_for(reader)
    assert browser.get("/clusters/").status_code == 200
    for url in ("/clusters/new/", "/clusters/new/basics/"):
        assert browser.get(url).status_code == 403
    assert browser.post("/clusters/new/basics/", {"name": "x"}).status_code == 403
    assert browser_for(make_user("nobody")).get("/clusters/new/basics/").status_code == 403


def test_registering_through_the_wizard(
    tenant_admin: Any,
    browser_for: Callable[[Any], Client],
    secret_store: Any,
    fake_kube: FakeKubeServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    browser = Recorder(browser_for(tenant_admin))
    register(browser, fake_kube, django_capture_on_commit_callbacks)
    cluster = Cluster.objects.get(name="cluster-dev")
    assert cluster.components_list["deployment"]["additions"]["host"].startswith("argocd.")
    location = cluster_kubeconfig_location("cluster-dev")
    assert TOKEN in secret_store.read(engine=location.engine, path=location.path)["kubeconfig"]
    page = main(browser.get("/clusters/cluster-dev/").content.decode())
    assert "Registered cluster cluster-dev" in page
    health = ClusterHealth.objects.get(cluster=cluster)
    assert health.reachable is True and health.argocd_installed is False
    assert (
        '<li class="yes">Reachable</li>' in page and '<li class="no">Argo CD installed</li>' in page
    )
    assert "not ready" in page
    # The kubeconfig never appeared in a page, and left the session on "Register".
    for html in browser.pages:
        assert TOKEN not in html
        assert_csp_clean(html)
    assert not any(key.startswith("cluster_wizard") for key in session_keys(browser))
    for session in Session.objects.all():
        assert TOKEN not in str(session.get_decoded())


def test_the_kubeconfig_is_held_encrypted_and_never_rendered_back(
    admin_user: Any, browser_for: Callable[[Any], Client], fake_kube: FakeKubeServer
) -> None:
    browser = Recorder(browser_for(admin_user))
    browser.post("/clusters/new/basics/", basics(fake_kube))
    broken = "apiVersion: v1\nclusters: []\nusers: [{name: u, user: {token: " + TOKEN + "}}]\n"
    response = browser.post("/clusters/new/kubeconfig/", {"kubeconfig_text": broken})
    assert "must have at least one cluster" in main(response.content.decode())
    live = browser.post(
        "/clusters/new/kubeconfig/check/", {"kubeconfig_text": broken}, HTTP_HX_REQUEST="true"
    )
    assert "must have at least one cluster" in live.content.decode()
    good = fake_kube.kubeconfig(token=TOKEN)
    browser.post("/clusters/new/kubeconfig/", {"kubeconfig_text": good, "action": "next"})
    page = main(browser.get("/clusters/new/kubeconfig/").content.decode())
    assert "A kubeconfig is held" in page
    raw = Session.objects.get().session_data
    assert TOKEN not in str(Session.objects.get().get_decoded()) and TOKEN not in raw
    for html in browser.pages:
        assert TOKEN not in html
    browser.post("/clusters/new/kubeconfig/", {"action": "forget"})
    assert "A kubeconfig is held" not in browser.get("/clusters/new/kubeconfig/").content.decode()
    browser.post("/clusters/new/kubeconfig/", {"kubeconfig_text": good, "action": "next"})
    browser.post("/clusters/new/review/", {"action": "cancel"})
    assert not any(k.startswith("cluster_wizard") for k in session_keys(browser))


def test_basics_are_checked_before_anything_is_written(
    admin_user: Any, browser_for: Callable[[Any], Client], fake_kube: FakeKubeServer
) -> None:
    browser = browser_for(admin_user)
    data = basics(
        fake_kube, api_server="ftp://nowhere", worker_type="", primary_domain="bad_domain"
    )
    response = browser.post("/clusters/new/basics/", data)
    page = main(response.content.decode())
    assert response.status_code == 200
    assert "api_server" in page or "API server" in page or "apiServer" in page
    assert "the primary domain bad_domain is not a valid domain name" in page
    assert 'value="ftp://nowhere"' in page and 'value="bad_domain"' in page
    live = browser.post(
        "/clusters/new/basics/check/", data, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert live.lstrip().startswith('<div id="live"') and "bad_domain" in live
    assert not Cluster.objects.exists()
    assert browser.get("/clusters/new/review/")["Location"] == "/clusters/new/basics/"


def test_a_virtual_cluster_needs_no_kubeconfig_step(
    admin_user: Any, browser_for: Callable[[Any], Client], make_cluster: Callable[..., Cluster]
) -> None:
    make_cluster("host-1", usage="host")
    browser = browser_for(admin_user)
    data = {
        "name": "vc-1",
        "api_server": "https://127.0.0.1:31456",
        "cluster_type": "virtual",
        "usage": "worker",
        "worker_type": "pipeline",
        "host_cluster": "host-1",
        "action": "next",
    }
    response = browser.post("/clusters/new/basics/", data)
    assert response["Location"] == "/clusters/new/components/", main(response.content.decode())
    assert browser.get("/clusters/new/kubeconfig/")["Location"] == "/clusters/new/components/"
    page = main(browser.get("/clusters/new/components/").content.decode())
    assert "Pipeline component" in page and 'value="tekton-pipelines"' in page
    assert "tekton.vc-1.127.0.0.1.nip.io" in page  # the catalogue's computed default host
    assert "(not needed)" in page


def test_components_keep_input_on_error(
    admin_user: Any, browser_for: Callable[[Any], Client], fake_kube: FakeKubeServer
) -> None:
    browser = browser_for(admin_user)
    browser.post("/clusters/new/basics/", basics(fake_kube))
    browser.post(
        "/clusters/new/kubeconfig/", {"kubeconfig_text": fake_kube.kubeconfig(), "action": "next"}
    )
    form = browser.get("/clusters/new/components/").context["form"]
    data = {**form.initial, "reserved": "not-a-component-ns: [acme]", "action": "next"}
    response = browser.post("/clusters/new/components/", data)
    page = main(response.content.decode())
    assert "reserved namespace not-a-component-ns is not in component list" in page
    assert "not-a-component-ns: [acme]" in page


def test_delete_explains_what_uses_the_cluster(
    acme: Product, admin_user: Any, browser_for: Callable[[Any], Client]
) -> None:
    browser = browser_for(admin_user)
    page = main(browser.get("/clusters/cluster-dev/delete/").content.decode())
    assert "cannot be deleted while it is used" in page
    assert '<a href="/products/acme/environments/dev/">dev</a>' in page
    assert (
        browser.post("/clusters/cluster-dev/delete/", {"confirm": "cluster-dev"}).status_code == 200
    )
    assert Cluster.objects.filter(name="cluster-dev").exists()
    detail = main(browser.get("/clusters/cluster-dev/").content.decode())
    assert "environment of acme" in detail


def test_edit_check_now_and_delete(
    admin_user: Any,
    browser_for: Callable[[Any], Client],
    secret_store: Any,
    fake_kube: FakeKubeServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    browser = Recorder(browser_for(admin_user))
    register(browser, fake_kube, django_capture_on_commit_callbacks)
    assert (
        browser.get("/clusters/cluster-dev/edit/")["Location"]
        == "/clusters/cluster-dev/edit/basics/"
    )
    initial = browser.get("/clusters/cluster-dev/edit/basics/").context["form"].initial
    data = {**initial, "primary_domain": "apps.example.com", "action": "next"}
    assert browser.post("/clusters/cluster-dev/edit/basics/", data)["Location"].endswith(
        "/kubeconfig/"
    )
    response = browser.post("/clusters/cluster-dev/edit/kubeconfig/", {"action": "next"})
    assert response["Location"] == "/clusters/cluster-dev/edit/components/"
    form = browser.get("/clusters/cluster-dev/edit/components/").context["form"]
    browser.post("/clusters/cluster-dev/edit/components/", {**form.initial, "action": "next"})
    review = main(browser.get("/clusters/cluster-dev/edit/review/").content.decode())
    assert "+  primaryDomain: apps.example.com" in review
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/clusters/cluster-dev/edit/review/", {"action": "register"})
    assert response["Location"] == "/clusters/cluster-dev/"
    assert Cluster.objects.get(name="cluster-dev").primary_domain == "apps.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        partial = browser.post("/clusters/cluster-dev/check/", {}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert html.lstrip().startswith('<section id="health"') and "operation" in html
    response = browser.post("/clusters/cluster-dev/delete/", {"confirm": "wrong"})
    assert "Type cluster-dev exactly" in main(response.content.decode())
    response = browser.post("/clusters/cluster-dev/delete/", {"confirm": "cluster-dev"})
    assert response["Location"] == "/clusters/"
    assert not Cluster.objects.exists()
    location = cluster_kubeconfig_location("cluster-dev")
    assert secret_store.read(engine=location.engine, path=location.path) is None
    for html in browser.pages:
        assert TOKEN not in html


def test_a_kubeconfig_file_can_be_uploaded(
    admin_user: Any, browser_for: Callable[[Any], Client], fake_kube: FakeKubeServer
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    browser = Recorder(browser_for(admin_user))
    browser.post("/clusters/new/basics/", basics(fake_kube))
    upload = SimpleUploadedFile("config", fake_kube.kubeconfig().encode())
    response = browser.post(
        "/clusters/new/kubeconfig/", {"kubeconfig_file": upload, "action": "next"}
    )
    assert response["Location"] == "/clusters/new/components/"
    assert "A kubeconfig is held" in browser.get("/clusters/new/kubeconfig/").content.decode()
    empty = browser.post("/clusters/new/kubeconfig/", {"action": "forget"})
    assert empty.status_code == 302
    response = browser.post("/clusters/new/kubeconfig/", {"action": "next"})
    assert "a kubeconfig is required" in main(response.content.decode())
    assert all(TOKEN not in html for html in browser.pages)
