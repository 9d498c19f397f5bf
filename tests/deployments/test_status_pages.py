"""Status pages and API: who sees what, the polled partials, the audited buttons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from clusters.models import Cluster
from deployments.models import RuntimeStatus
from deployments.status import status_fields
from nautes_portal.models import AuditEvent
from nautes_portal.operations.models import Operation
from products.models import AccessLevel, DeploymentRuntime, Membership, Product
from tests.deployments.test_deployer import (  # noqa: F401
    add_runtime,
    cluster_dev,
    deploy,
    dr_dev_index,
)
from tests.deployments.test_status import DEGRADED_FAILED, SYNCED_HEALTHY, application
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

BASE = "/api/v1/products/nautes-labs"


@pytest.fixture
def product(make_user: Callable[..., Any]) -> Product:
    """dr-dev (degraded, read 4 s ago) on env-dev; alice Developer, bob Reporter."""
    product = dr_dev_index()
    now = timezone.now()
    RuntimeStatus.objects.create(
        product=product,
        runtime_name="dr-dev",
        cluster="cluster-dev",
        environment="env-dev",
        read_at=now - timezone.timedelta(seconds=4),
        checked_at=now,
        reachable=True,
        **status_fields(application("dr-dev", "product-12", DEGRADED_FAILED)),
    )
    alice, bob = make_user("alice"), make_user("bob")
    Membership.objects.create(user=alice, product=product, access_level=AccessLevel.DEVELOPER)
    Membership.objects.create(user=bob, product=product, access_level=AccessLevel.REPORTER)
    make_user("carol")
    return product


def browser(username: str) -> Client:
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def api(api_client_for: Callable[[Any], APIClient], username: str) -> APIClient:
    from django.contrib.auth import get_user_model

    return api_client_for(get_user_model().objects.get(username=username))


# ---- Pages ---------------------------------------------------------------------------------
def test_the_matrix_page_shows_what_is_deployed_where(product: Product) -> None:
    page = browser("bob").get("/products/nautes-labs/deployments/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/products/nautes-labs/deployments/dr-dev/"' in html
    assert "api-server" in html and "env-dev" in html and "cluster-dev" in html
    assert "OutOfSync · Degraded" in html and "4f2c0a9d" in html
    assert "updated 4 s ago" in html
    assert 'hx-get="/products/nautes-labs/deployments/"' in html
    assert 'hx-trigger="every 10s"' in html
    partial = browser("bob").get("/products/nautes-labs/deployments/", HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<section id="matrix"')


def test_each_matrix_badge_says_what_is_known_of_its_runtime(product: Product) -> None:
    """Healthy with its revision and last change; unknown since the last reading when the
    cluster stopped answering; no Application; never read."""
    now = timezone.now()
    for name in ("dr-ok", "dr-lost", "dr-missing", "dr-new"):
        add_runtime(product, name)
    common = {"product": product, "cluster": "cluster-dev", "environment": "env-dev"}
    RuntimeStatus.objects.create(
        **common,
        runtime_name="dr-ok",
        read_at=now,
        checked_at=now,
        reachable=True,
        **status_fields(application("dr-ok", "product-12", SYNCED_HEALTHY)),
    )
    RuntimeStatus.objects.filter(runtime_name="dr-ok").update(
        deployed_at=now - timezone.timedelta(hours=3)
    )
    lost_at = dt.datetime(2026, 11, 20, 8, 30, 5, tzinfo=dt.UTC)
    RuntimeStatus.objects.create(
        **common, runtime_name="dr-lost", read_at=lost_at, checked_at=now, reachable=False
    )
    RuntimeStatus.objects.create(
        **common, runtime_name="dr-missing", read_at=now, checked_at=now, reachable=True
    )

    html = browser("bob").get("/products/nautes-labs/deployments/").content.decode()

    ok = html[html.index('href="/products/nautes-labs/deployments/dr-ok/"') :]
    ok = ok[: ok.index("</div>\n")]
    assert '<span class="ok">Synced · Healthy</span>' in ok
    assert "· changed 3\xa0hours ago" in ok and "updated 0 s ago" in ok
    lost = html[html.index('href="/products/nautes-labs/deployments/dr-lost/"') :]
    assert lost.index("status unknown since 2026-11-20 08:30:05 UTC") < lost.index("</div>")
    missing = html[html.index('href="/products/nautes-labs/deployments/dr-missing/"') :]
    assert missing.index("no Argo CD Application") < missing.index("</div>")
    new = html[html.index('href="/products/nautes-labs/deployments/dr-new/"') :]
    new = new[: new.index("</div>")]
    assert "status unknown" in new and "since" not in new and "updated" not in new


def test_the_runtime_page_explains_and_offers_buttons_to_developers(product: Product) -> None:
    url = "/products/nautes-labs/deployments/dr-dev/"
    html = browser("bob").get(url).content.decode()
    assert "The last sync at revision 4f2c0a9d" in html
    assert "exceeded its progress deadline" in html  # the degraded resource
    assert "SyncError" in html and "History" in html
    assert "Sync now" not in html  # a Reporter gets no buttons
    html = browser("alice").get(url).content.decode()
    for action in ("refresh", "sync", "reapply"):
        assert f'action="{url}{action}"' in html
    partial = browser("alice").get(url, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="runtime"') and "Sync now" not in partial


@pytest.mark.parametrize(
    ("host", "gateway", "expected"),
    [
        ("argocd.example.com", {"httpsNodePort": "30443"}, "https://argocd.example.com:30443"),
        ("argocd.example.com", None, "https://argocd.example.com"),
        ("argocd.example.com:8443", {"httpsNodePort": "30443"}, "https://argocd.example.com:8443"),
    ],
)
def test_the_runtime_page_opens_argo_cd_through_the_gateways_https_node_port(
    product: Product, host: str, gateway: dict[str, str] | None, expected: str
) -> None:
    """Upstream reaches Argo CD through the cluster's Traefik on its https NodePort."""
    components: dict[str, Any] = {
        "deployment": {"name": "argocd", "namespace": "argocd", "additions": {"host": host}}
    }
    if gateway is not None:
        components["gateway"] = {"name": "traefik", "namespace": "traefik", "additions": gateway}
    Cluster.objects.create(
        name="cluster-dev",
        api_server="https://127.0.0.1:1",
        cluster_type="physical",
        usage="worker",
        worker_type="deployment",
        path="nautes/overlays/production/clusters/cluster-dev.yaml",
        components_list=components,
    )
    html = browser("bob").get("/products/nautes-labs/deployments/dr-dev/").content.decode()
    assert f'href="{expected}/applications/argocd/dr-dev"' in html


def test_the_overview_lists_the_users_products_and_what_needs_attention(
    product: Product,
) -> None:
    Product.objects.create(name="secret-product", group_id=99)
    html = browser("bob").get("/deployments/").content.decode()
    assert 'href="/products/nautes-labs/deployments/"' in html
    assert 'href="/products/nautes-labs/deployments/dr-dev/"' in html  # needs attention
    assert "secret-product" not in html
    assert "nautes-labs" not in browser("carol").get("/deployments/").content.decode()


def test_the_overview_pages_like_the_lists_and_says_when_attention_is_cut(
    product: Product,
) -> None:
    extra = Product.objects.bulk_create(
        Product(name=f"extra-{i:02d}", group_id=500 + i) for i in range(30)
    )
    bob = Membership.objects.get(product=product, access_level=AccessLevel.REPORTER).user
    Membership.objects.bulk_create(
        Membership(user=bob, product=p, access_level=AccessLevel.REPORTER) for p in extra
    )
    client = browser("bob")
    html = client.get("/deployments/").content.decode()
    assert "1–25 of 31" in html and "extra-24" in html and "extra-25" not in html
    assert "open a product for the rest" not in html  # one runtime needs attention: all shown
    html = client.get("/deployments/?per_page=50&page=1").content.decode()
    assert "1–31 of 31" in html and "nautes-labs" in html
    assert "1–25 of 31" in client.get("/deployments/?per_page=7").content.decode()
    assert "1–25 of 31" in client.get("/deployments/?page=abc").content.decode()
    assert "26–31 of 31" in client.get("/deployments/?page=999").content.decode()
    second = client.get("/deployments/?page=2", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-get="/deployments/?page=2"' in second and "26–31 of 31" in second

    now = timezone.now()
    RuntimeStatus.objects.bulk_create(
        RuntimeStatus(
            product=product,
            runtime_name=f"dr-{i:02d}",
            cluster="cluster-dev",
            read_at=now,
            checked_at=now,
            reachable=False,
        )
        for i in range(12)
    )
    DeploymentRuntime.objects.bulk_create(
        DeploymentRuntime(product=product, name=f"dr-{i:02d}", path=f"runtimes/dr-{i:02d}.yaml")
        for i in range(12)
    )
    html = client.get("/deployments/").content.decode()
    assert "The first 10 by product and runtime; open a product for the rest." in html
    assert "dr-09/" in html and "dr-10/" not in html and "dr-dev/" not in html


def test_non_members_get_404_everywhere(product: Product) -> None:
    carol = browser("carol")
    for url in (
        "/products/nautes-labs/deployments/",
        "/products/nautes-labs/deployments/dr-dev/",
        "/products/nautes-labs/deployments/nope/",
    ):
        assert carol.get(url).status_code == 404
    for action in ("refresh", "sync", "reapply"):
        assert carol.post(f"/products/nautes-labs/deployments/dr-dev/{action}").status_code == 404
    assert browser("bob").get("/products/nautes-labs/deployments/nope/").status_code == 404
    assert Client().get("/deployments/").status_code == 302  # login first


def test_buttons_need_developer_rights_and_are_audited(
    product: Product, django_capture_on_commit_callbacks: Any
) -> None:
    url = "/products/nautes-labs/deployments/dr-dev/"
    alice = browser("alice")
    alice.post(url + "sync")  # the environment's cluster is not registered: a clear refusal
    assert "which is not registered" in alice.get(url).content.decode()
    assert not Operation.objects.exists()
    Cluster.objects.create(name="cluster-dev", cluster_type="physical", usage="worker")
    assert browser("bob").post(url + "sync").status_code == 403
    assert browser("bob").post(url + "reapply").status_code == 403
    assert browser("alice").get(url + "sync").status_code == 405  # POST only
    response = browser("alice").post(url + "sync")
    assert response.status_code == 302 and response["Location"] == url
    response = browser("alice").post(url + "reapply")
    assert response.status_code == 302
    kinds = sorted(Operation.objects.values_list("kind", flat=True))
    assert kinds == ["cluster.reconcile", "runtime.sync"]  # re-apply: a pass of the cluster
    events = AuditEvent.objects.filter(kind="DeploymentRuntime", name="dr-dev")
    assert set(events.values_list("action", flat=True)) == {"sync"}
    messages = sorted(events.values_list("message", flat=True))
    assert messages[0].startswith("re-apply requested") and messages[1].startswith("sync now")
    assert {e.actor_name for e in events} == {"alice"}


def test_refresh_reads_the_cluster_now(
    product: Product,
    cluster_dev: FakeKubeServer,  # noqa: F811
) -> None:
    assert deploy().status == "succeeded"
    cluster_dev.set_status("argoproj.io", "applications", "argocd", "dr-dev", SYNCED_HEALTHY)
    url = "/products/nautes-labs/deployments/dr-dev/"
    alice = browser("alice")
    assert alice.post(url + "refresh").status_code == 302
    row = RuntimeStatus.objects.get(runtime_name="dr-dev")
    assert (row.sync_status, row.health_status, row.reachable) == ("Synced", "Healthy", True)
    html = alice.get(url).content.decode()
    assert "Status read from the cluster just now." in html
    assert "Synced with Git and healthy." in html
    assert AuditEvent.objects.filter(message__startswith="status refreshed", name="dr-dev").exists()
    cluster_dev.stop()
    assert alice.post(url + "refresh").status_code == 302
    row.refresh_from_db()
    assert not row.reachable and row.sync_status == "Synced"  # last known status kept
    assert "The cluster could not be read" in alice.get(url).content.decode()


# ---- API -----------------------------------------------------------------------------------
def test_status_api_for_readers(product: Product, api_client_for: Any) -> None:
    bob = api(api_client_for, "bob")
    one = bob.get(f"{BASE}/deploymentruntimes/dr-dev/status")
    assert one.status_code == 200
    body = one.json()
    assert body["name"] == "dr-dev" and body["state"] == "failing"
    assert (body["sync_status"], body["health_status"]) == ("OutOfSync", "Degraded")
    assert body["revision"].startswith("4f2c0a9d") and body["age_seconds"] >= 4
    assert body["resources"][0]["health"] == "Degraded"
    assert body["operation"]["failed_resources"][0]["name"] == "api-server"
    assert any("exceeded its progress deadline" in line for line in body["explanation"])
    listing = bob.get(f"{BASE}/status").json()
    assert [item["name"] for item in listing["items"]] == ["dr-dev"]
    assert "resources" not in listing["items"][0]
    missing = bob.get(f"{BASE}/deploymentruntimes/nope/status")
    assert missing.status_code == 404 and missing.json()["reason"] == "RUNTIME_NOT_FOUND"


def test_status_api_hides_products_from_non_members(product: Product, api_client_for: Any) -> None:
    carol = api(api_client_for, "carol")
    for method, path in (
        ("get", f"{BASE}/status"),
        ("get", f"{BASE}/deploymentruntimes/dr-dev/status"),
        ("post", f"{BASE}/deploymentruntimes/dr-dev/sync"),
        ("post", f"{BASE}/deploymentruntimes/dr-dev/reapply"),
    ):
        response = getattr(carol, method)(path)
        assert response.status_code == 404, path
        assert set(response.json()) == {"code", "reason", "message", "metadata"}


def test_sync_and_reapply_api_need_developer_rights(product: Product, api_client_for: Any) -> None:
    bob, alice = api(api_client_for, "bob"), api(api_client_for, "alice")
    unknown_cluster = alice.post(f"{BASE}/deploymentruntimes/dr-dev/sync")
    assert unknown_cluster.status_code == 409
    assert "cluster-dev" in unknown_cluster.json()["message"]
    Cluster.objects.create(name="cluster-dev", cluster_type="physical", usage="worker")
    refused = bob.post(f"{BASE}/deploymentruntimes/dr-dev/sync")
    assert refused.status_code == 403 and refused.json()["reason"] == "NO_AUTHORIZATION"
    assert bob.post(f"{BASE}/deploymentruntimes/dr-dev/reapply").status_code == 403
    sync = alice.post(f"{BASE}/deploymentruntimes/dr-dev/sync")
    assert sync.status_code == 202 and sync.json()["kind"] == "runtime.sync"
    reapply = alice.post(f"{BASE}/deploymentruntimes/dr-dev/reapply")
    assert reapply.status_code == 202 and reapply.json()["kind"] == "cluster.reconcile"
    assert [s["name"] for s in reapply.json()["steps"]] == ["objects", "argocd-rbac", "vault"]
    assert alice.post(f"{BASE}/deploymentruntimes/nope/sync").status_code == 404


def test_the_status_endpoints_are_documented(admin_api: APIClient) -> None:
    response = admin_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    paths = yaml.safe_load(response.content)["paths"]
    ids = {
        path: {m: op["operationId"] for m, op in item.items() if isinstance(op, dict)}
        for path, item in paths.items()
    }
    runtime = "/api/v1/products/{product_name}/deploymentruntimes/{name}"
    assert ids[f"{runtime}/status"] == {"get": "Status_GetRuntimeStatus"}
    assert ids[f"{runtime}/sync"] == {"post": "Status_SyncRuntime"}
    assert ids[f"{runtime}/reapply"] == {"post": "Status_ReapplyRuntime"}
    assert ids["/api/v1/products/{product_name}/status"] == {"get": "Status_ListProductStatus"}


def test_the_matrix_says_why_runtimes_without_environments_are_not_shown(
    make_user: Callable[..., Any],
) -> None:
    product = Product.objects.create(name="lonely", group_id=77)
    DeploymentRuntime.objects.create(product=product, name="dr-x", path="runtimes/dr-x.yaml")
    Membership.objects.create(
        user=make_user("dora"), product=product, access_level=AccessLevel.REPORTER
    )
    html = browser("dora").get("/products/lonely/deployments/").content.decode()
    assert "1 runtime " in html
    assert "The product has no environments yet" in html
    assert "No deployment runtimes yet" not in html
