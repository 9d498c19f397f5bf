"""The fake Kubernetes API server, driven by the official `kubernetes` client."""

from __future__ import annotations

import functools
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from kubernetes import client, config, dynamic
from kubernetes.client.rest import ApiException

from tests.fakes.kube_server import (
    FakeKubeServer,
    TlsMaterial,
    json_patch,
    merge_patch,
    parse_label_selector,
)

ARGO = ("argoproj.io", "v1alpha1")
BELONGS_TO = "resource.nautes.io/belongsto"
ARGOCD_CRD_DIR = Path(__file__).parent.parent / "data" / "argocd-crds"


# ---- Helpers ------------------------------------------------------------------
def api_client(server: FakeKubeServer, **kubeconfig: Any) -> client.ApiClient:
    """An isolated official client for the server, as the portal builds one."""
    return config.new_client_from_config_dict(
        yaml.safe_load(server.kubeconfig(**kubeconfig)), persist_config=False
    )


@pytest.fixture
def api(fake_kube: FakeKubeServer) -> Iterator[client.ApiClient]:
    with api_client(fake_kube) as api_client_:
        yield api_client_


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def argo(fake_kube: FakeKubeServer, api: client.ApiClient) -> client.CustomObjectsApi:
    fake_kube.install_argocd()
    return client.CustomObjectsApi(api)


def status_of(exc: ApiException) -> dict[str, Any]:
    """The Status object of an error answer."""
    return json.loads(exc.body)


def app_project(gid: int, repo_url: str) -> dict[str, Any]:
    """The AppProject the Nautes runtime operator creates for a product (§5.8)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": f"product-{gid}", "labels": {BELONGS_TO: f"product-{gid}"}},
        "spec": {
            "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "dr-dev"}],
            "clusterResourceWhitelist": [],
            "sourceRepos": [repo_url],
        },
    }


def application(name: str, gid: int, repo_url: str, namespace: str) -> dict[str, Any]:
    """The Application the Nautes runtime operator creates for a DeploymentRuntime (§5.8)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "labels": {BELONGS_TO: f"product-{gid}"}},
        "spec": {
            "project": f"product-{gid}",
            "source": {"repoURL": repo_url, "path": "deploy", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }


APP_STATUS = {
    "sync": {"status": "Synced", "revision": "0123abcd"},
    "health": {"status": "Healthy"},
    "conditions": [],
    "operationState": {
        "operation": {"sync": {"revision": "0123abcd"}},
        "phase": "Succeeded",
        "startedAt": "2024-01-01T00:00:00Z",
    },
}
REPO = "ssh://git@gitlab.example.com:2222/demo/deployments.git"


def _json_schema(node: Any) -> Any:
    """A Kubernetes structural schema as draft-7 JSON Schema (x-kubernetes-*, nullable)."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    schema = {
        k: _json_schema(v)
        for k, v in node.items()
        if not k.startswith("x-kubernetes-") and k != "nullable"
    }
    if node.get("nullable") is True and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    return schema


@functools.cache
def argocd_schema(file_name: str) -> dict[str, Any]:
    # The C loader: the Application CRD is 400 KiB and the pure-Python loader takes a second.
    with (ARGOCD_CRD_DIR / file_name).open() as handle:
        crd = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    return _json_schema(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


# ---- Version and discovery ----------------------------------------------------
def test_version_is_configurable(fake_kube_factory: Callable[..., list[FakeKubeServer]]) -> None:
    server = fake_kube_factory(git_version="v1.29.1")[0]
    with api_client(server) as api:
        info = client.VersionApi(api).get_code()
    assert (info.git_version, info.major, info.minor) == ("v1.29.1", "1", "29")


def test_discovery_lists_the_served_groups_and_resources(api: client.ApiClient) -> None:
    assert client.CoreApi(api).get_api_versions().versions == ["v1"]
    core_resources = {r.name for r in client.CoreV1Api(api).get_api_resources().resources}
    assert {"namespaces", "namespaces/status", "secrets", "serviceaccounts", "configmaps"} <= (
        core_resources
    )
    groups = {g.name for g in client.ApisApi(api).get_api_versions().groups}
    assert {
        "rbac.authorization.k8s.io",
        "apiextensions.k8s.io",
        "authorization.k8s.io",
    } <= groups
    assert "argoproj.io" not in groups
    rbac = {r.name for r in client.RbacAuthorizationV1Api(api).get_api_resources().resources}
    assert rbac == {"rolebindings", "clusterroles"}


def test_argocd_is_discoverable_only_once_installed(
    fake_kube: FakeKubeServer, api: client.ApiClient, tmp_path: Path
) -> None:
    custom = client.CustomObjectsApi(api)
    with pytest.raises(ApiException) as missing:
        custom.list_namespaced_custom_object(*ARGO, "argocd", "applications")
    assert missing.value.status == 404
    assert fake_kube.get(("", "namespaces"), "", "argocd") is None

    fake_kube.install_argocd()
    discovered = dynamic.DynamicClient(api, cache_file=str(tmp_path / "discovery.json"))
    apps = discovered.resources.get(api_version="argoproj.io/v1alpha1", kind="Application")
    projects = discovered.resources.get(api_version="argoproj.io/v1alpha1", kind="AppProject")
    assert (apps.name, apps.namespaced, projects.name) == ("applications", True, "appprojects")
    assert apps.get(namespace="argocd").items == []
    crd = client.ApiextensionsV1Api(api).read_custom_resource_definition("applications.argoproj.io")
    assert crd.spec.group == "argoproj.io"
    assert client.CoreV1Api(api).read_namespace("argocd").status.phase == "Active"


# ---- Namespaces ---------------------------------------------------------------
def test_namespace_create_get_list_delete(
    core: client.CoreV1Api, fake_kube: FakeKubeServer
) -> None:
    body = {"metadata": {"name": "product-7", "labels": {BELONGS_TO: "product-7"}}}
    created, status, _ = core.create_namespace_with_http_info(body)
    assert status == 201
    meta = created.metadata
    assert meta.uid and meta.creation_timestamp and int(meta.resource_version) > 0
    assert meta.labels == {BELONGS_TO: "product-7", "kubernetes.io/metadata.name": "product-7"}
    assert core.read_namespace("product-7").status.phase == "Active"

    names = [ns.metadata.name for ns in core.list_namespace().items]
    assert names == sorted(names) and {"default", "kube-system", "product-7"} <= set(names)

    patched = core.patch_namespace("product-7", {"metadata": {"labels": {"team": "a"}}})
    assert patched.metadata.labels["team"] == "a"
    patched.metadata.labels = {"team": "b"}
    replaced = core.replace_namespace("product-7", patched)
    # The API server keeps its own name label whatever the client sends.
    assert replaced.metadata.labels == {"team": "b", "kubernetes.io/metadata.name": "product-7"}
    assert replaced.status.phase == "Active"

    core.create_namespaced_secret("product-7", {"metadata": {"name": "ca"}})
    deleted, status, _ = core.delete_namespace_with_http_info("product-7")
    assert status == 200 and deleted["status"]["phase"] == "Terminating"
    with pytest.raises(ApiException) as gone:
        core.read_namespace("product-7")
    assert gone.value.status == 404
    assert fake_kube.objects("", "secrets", "product-7") == []


def test_duplicate_namespace_is_409_already_exists(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "dup"}})
    with pytest.raises(ApiException) as exc:
        core.create_namespace({"metadata": {"name": "dup"}})
    status = status_of(exc.value)
    assert exc.value.status == 409
    assert status["kind"] == "Status" and status["reason"] == "AlreadyExists"
    assert status["message"] == 'namespaces "dup" already exists'
    assert status["details"] == {"name": "dup", "kind": "namespaces"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("tier=web", {"a"}),
        ("tier==web", {"a"}),
        ("tier!=web", {"b", "c"}),
        ("tier", {"a", "b"}),
        ("!tier", {"c"}),
        ("tier in (web, db)", {"a", "b"}),
        ("tier notin (web)", {"b", "c"}),
        ("tier in (db),team=x", {"b"}),
        ("", {"a", "b", "c"}),
    ],
)
def test_label_selectors(core: client.CoreV1Api, selector: str, expected: set[str]) -> None:
    labels = {"a": {"tier": "web", "team": "x"}, "b": {"tier": "db", "team": "x"}, "c": {"o": "1"}}
    for name, values in labels.items():
        core.create_namespace({"metadata": {"name": f"sel-{name}", "labels": values}})
    found = {
        ns.metadata.name.removeprefix("sel-")
        for ns in core.list_namespace(label_selector=selector).items
        if ns.metadata.name.startswith("sel-")
    }
    assert found == expected


def test_bad_label_selector_is_400(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        core.list_namespace(label_selector="tier in web")
    assert exc.value.status == 400 and status_of(exc.value)["reason"] == "BadRequest"
    assert parse_label_selector(" a = b , c ")[0].values == ("b",)


def test_field_selector_and_pagination(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "pages"}})
    for index in range(5):
        core.create_namespaced_config_map("pages", {"metadata": {"name": f"cm-{index}"}})
    page = core.list_namespaced_config_map("pages", limit=2)
    names = [item.metadata.name for item in page.items]
    assert page.metadata.remaining_item_count == 3 and page.metadata._continue
    while page.metadata._continue:
        page = core.list_namespaced_config_map("pages", limit=2, _continue=page.metadata._continue)
        names += [item.metadata.name for item in page.items]
    assert names == [f"cm-{index}" for index in range(5)]

    only = core.list_namespaced_config_map("pages", field_selector="metadata.name=cm-3")
    assert [item.metadata.name for item in only.items] == ["cm-3"]
    others = core.list_namespaced_config_map("pages", field_selector="metadata.name!=cm-3")
    assert len(others.items) == 4
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map("pages", field_selector="spec.foo=1")
    assert exc.value.status == 400


def test_list_kind_and_resource_version(api: client.ApiClient) -> None:
    raw = client.CoreV1Api(api).list_namespace(_preload_content=False)
    body = json.loads(raw.data)
    assert body["kind"] == "NamespaceList" and body["apiVersion"] == "v1"
    assert int(body["metadata"]["resourceVersion"]) > 0
    # Like a real server, items of built-in lists carry no apiVersion/kind.
    assert "kind" not in body["items"][0]


def test_protected_namespaces_cannot_be_deleted(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        core.delete_namespace("kube-system")
    assert exc.value.status == 403


def test_invalid_names_and_labels_are_422(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as bad_name:
        core.create_namespace({"metadata": {"name": "Not_Valid"}})
    assert bad_name.value.status == 422 and status_of(bad_name.value)["reason"] == "Invalid"
    with pytest.raises(ApiException) as bad_label:
        core.create_namespace({"metadata": {"name": "ok", "labels": {"a": "x" * 64}}})
    assert bad_label.value.status == 422


# ---- Secrets and optimistic concurrency ---------------------------------------
def test_secret_crud(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "vc"}})
    body = {"metadata": {"name": "vc-demo"}, "stringData": {"config": "apiVersion: v1"}}
    created, status, _ = core.create_namespaced_secret_with_http_info("vc", body)
    assert status == 201
    assert created.type == "Opaque" and created.data == {"config": "YXBpVmVyc2lvbjogdjE="}

    read = core.read_namespaced_secret("vc-demo", "vc")
    read.data["extra"] = "eA=="
    replaced = core.replace_namespaced_secret("vc-demo", "vc", read)
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    assert replaced.metadata.uid == created.metadata.uid

    patched = core.patch_namespaced_secret("vc-demo", "vc", {"metadata": {"labels": {"a": "b"}}})
    assert patched.metadata.labels == {"a": "b"} and set(patched.data) == {"config", "extra"}
    removed = core.patch_namespaced_secret(
        "vc-demo", "vc", [{"op": "remove", "path": "/data/extra"}]
    )
    assert set(removed.data) == {"config"}

    _, status, _ = core.delete_namespaced_secret_with_http_info("vc-demo", "vc")
    assert status == 200
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_secret("vc-demo", "vc")
    assert gone.value.status == 404
    assert status_of(gone.value)["message"] == 'secrets "vc-demo" not found'


def test_create_in_missing_namespace_is_404(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_secret("nowhere", {"metadata": {"name": "s"}})
    assert exc.value.status == 404
    assert status_of(exc.value)["message"] == 'namespaces "nowhere" not found'


def test_stale_resource_version_is_409_conflict(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "occ"}})
    first = core.create_namespaced_config_map(
        "occ", {"metadata": {"name": "c"}, "data": {"a": "1"}}
    )
    core.patch_namespaced_config_map("c", "occ", {"data": {"a": "2"}})
    first.data = {"a": "3"}
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_config_map("c", "occ", first)
    assert exc.value.status == 409 and status_of(exc.value)["reason"] == "Conflict"
    assert "the object has been modified" in status_of(exc.value)["message"]


def test_noop_replace_keeps_the_resource_version(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "noop"}})
    created = core.create_namespaced_service_account("noop", {"metadata": {"name": "sa"}})
    again = core.replace_namespaced_service_account("sa", "noop", created)
    assert again.metadata.resource_version == created.metadata.resource_version


def test_rolebinding_defaults_and_immutable_role_ref(api: client.ApiClient) -> None:
    client.CoreV1Api(api).create_namespace({"metadata": {"name": "rb"}})
    rbac = client.RbacAuthorizationV1Api(api)
    body = {
        "metadata": {"name": "product-7"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "x"},
        "subjects": [{"kind": "Group", "name": "demo"}],
    }
    created = rbac.create_namespaced_role_binding("rb", body)
    assert created.subjects[0].api_group == "rbac.authorization.k8s.io"
    body["roleRef"]["name"] = "cluster-admin"
    with pytest.raises(ApiException) as exc:
        rbac.replace_namespaced_role_binding("product-7", "rb", body)
    assert exc.value.status == 422


# ---- Argo CD custom resources ---------------------------------------------------
def test_argocd_resources_crud(argo: client.CustomObjectsApi) -> None:
    project = argo.create_namespaced_custom_object(
        *ARGO, "argocd", "appprojects", app_project(7, REPO)
    )
    assert project["metadata"]["generation"] == 1
    app = argo.create_namespaced_custom_object(
        *ARGO, "argocd", "applications", application("dr-dev", 7, REPO, "dr-dev")
    )
    argo.create_namespaced_custom_object(
        *ARGO, "argocd", "applications", application("other", 8, REPO, "other")
    )
    assert argo.get_namespaced_custom_object(*ARGO, "argocd", "applications", "dr-dev") == app

    listed = argo.list_namespaced_custom_object(
        *ARGO, "argocd", "applications", label_selector=f"{BELONGS_TO}=product-7"
    )
    assert listed["kind"] == "ApplicationList"
    assert [(i["kind"], i["metadata"]["name"]) for i in listed["items"]] == [
        ("Application", "dr-dev")
    ]

    patched = argo.patch_namespaced_custom_object(
        *ARGO, "argocd", "applications", "dr-dev", {"spec": {"source": {"targetRevision": "v2"}}}
    )
    assert patched["spec"]["source"] == {"repoURL": REPO, "path": "deploy", "targetRevision": "v2"}
    assert patched["metadata"]["generation"] == 2


def test_custom_resources_refuse_strategic_merge_and_need_a_resource_version(
    argo: client.CustomObjectsApi,
) -> None:
    app = argo.create_namespaced_custom_object(
        *ARGO, "argocd", "applications", application("a", 7, REPO, "a")
    )
    with pytest.raises(ApiException) as smp:
        argo.patch_namespaced_custom_object(
            *ARGO,
            "argocd",
            "applications",
            "a",
            {"spec": {}},
            _content_type="application/strategic-merge-patch+json",
        )
    assert smp.value.status == 415
    del app["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as no_version:
        argo.replace_namespaced_custom_object(*ARGO, "argocd", "applications", "a", app)
    assert no_version.value.status == 422


def test_application_status_set_by_the_test_is_read_back(
    fake_kube: FakeKubeServer, argo: client.CustomObjectsApi
) -> None:
    created = argo.create_namespaced_custom_object(
        *ARGO, "argocd", "applications", application("dr-dev", 7, REPO, "dr-dev")
    )
    written = fake_kube.set_status("argoproj.io", "applications", "argocd", "dr-dev", APP_STATUS)
    assert int(written["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    read = argo.get_namespaced_custom_object(*ARGO, "argocd", "applications", "dr-dev")
    assert read["status"] == APP_STATUS
    # The real CRD has no status subresource: /status is not served.
    with pytest.raises(ApiException) as exc:
        argo.get_namespaced_custom_object_status(*ARGO, "argocd", "applications", "dr-dev")
    assert exc.value.status == 404


def test_status_subresource_when_enabled(
    fake_kube_factory: Callable[..., list[FakeKubeServer]],
) -> None:
    server = fake_kube_factory(argocd_installed=True, argocd_status_subresource=True)[0]
    with api_client(server) as api:
        argo = client.CustomObjectsApi(api)
        body = application("dr-dev", 7, REPO, "dr-dev") | {"status": {"health": {}}}
        created = argo.create_namespaced_custom_object(*ARGO, "argocd", "applications", body)
        assert "status" not in created  # reset on create through the main resource
        created["status"] = APP_STATUS
        with_status = argo.replace_namespaced_custom_object_status(
            *ARGO, "argocd", "applications", "dr-dev", created
        )
        assert with_status["status"] == APP_STATUS
        patched = argo.patch_namespaced_custom_object_status(
            *ARGO,
            "argocd",
            "applications",
            "dr-dev",
            {"status": {"health": {"status": "Degraded"}}},
        )
        assert patched["status"]["health"] == {"status": "Degraded"}
        # Main-resource writes keep the status.
        patched["status"] = {}
        replaced = argo.replace_namespaced_custom_object(
            *ARGO, "argocd", "applications", "dr-dev", patched
        )
        assert replaced["status"]["health"] == {"status": "Degraded"}


def test_argocd_objects_match_the_crd_schemas() -> None:
    app = application("dr-dev", 7, REPO, "dr-dev") | {"status": APP_STATUS}
    jsonschema.Draft7Validator(argocd_schema("application-crd.yaml")).validate(app)
    project = app_project(7, REPO)
    jsonschema.Draft7Validator(argocd_schema("appproject-crd.yaml")).validate(project)
    broken = application("x", 7, REPO, "x")
    broken["spec"]["destination"] = "nowhere"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(argocd_schema("application-crd.yaml")).validate(broken)


# ---- Authorization --------------------------------------------------------------
def test_self_subject_access_review_follows_the_deny_rules(
    fake_kube: FakeKubeServer, api: client.ApiClient
) -> None:
    authz = client.AuthorizationV1Api(api)

    def allowed(verb: str, resource: str, group: str = "", namespace: str | None = None) -> bool:
        attributes = {"verb": verb, "resource": resource, "group": group, "namespace": namespace}
        review = {"spec": {"resourceAttributes": attributes}}
        answer, status, _ = authz.create_self_subject_access_review_with_http_info(review)
        assert status == 201
        return answer.status.allowed

    assert allowed("create", "namespaces")
    fake_kube.deny("create", "applications", group="argoproj.io")
    fake_kube.deny("delete", "*", namespace="argocd")
    assert not allowed("create", "applications", "argoproj.io", "argocd")
    assert allowed("create", "applications", "argoproj.io") is False
    assert allowed("get", "applications", "argoproj.io", "argocd")
    assert not allowed("delete", "secrets", namespace="argocd")
    assert allowed("delete", "secrets", namespace="default")
    fake_kube.allow_all()
    assert allowed("create", "applications", "argoproj.io", "argocd")


def test_denied_requests_are_403(fake_kube: FakeKubeServer, core: client.CoreV1Api) -> None:
    fake_kube.deny("list", "secrets")
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_secret("default")
    status = status_of(exc.value)
    assert exc.value.status == 403 and status["reason"] == "Forbidden"
    assert (
        'cannot list resource "secrets" in API group "" in the namespace "default"'
        in (status["message"])
    )


def test_wrong_token_is_401(fake_kube: FakeKubeServer) -> None:
    with api_client(fake_kube, token="wrong") as api, pytest.raises(ApiException) as exc:
        client.CoreV1Api(api).list_namespace()
    assert exc.value.status == 401 and status_of(exc.value)["reason"] == "Unauthorized"


def test_tls_with_client_certificate(
    fake_kube_factory: Callable[..., list[FakeKubeServer]], fake_kube_tls: TlsMaterial
) -> None:
    server = fake_kube_factory(tls=fake_kube_tls)[0]
    assert server.url.startswith("https://")
    with api_client(server, client_certificate=True) as api:
        assert client.VersionApi(api).get_code().git_version
    with api_client(server) as api:  # bearer token over TLS
        assert client.CoreV1Api(api).read_namespace("default").metadata.name == "default"


# ---- Fault injection and the request log ----------------------------------------
def test_fail_next_injects_errors_then_recovers(
    fake_kube: FakeKubeServer, core: client.CoreV1Api
) -> None:
    fake_kube.fail_next("GET", r"^/api/v1/namespaces$", 500, times=2)
    for _ in range(2):
        with pytest.raises(ApiException) as exc:
            core.list_namespace()
        assert exc.value.status == 500 and status_of(exc.value)["reason"] == "InternalError"
    assert core.list_namespace().items
    assert core.read_namespace("default")  # other paths were never affected


def test_fail_next_with_status_0_drops_the_connection(
    fake_kube: FakeKubeServer, core: client.CoreV1Api
) -> None:
    fake_kube.fail_next("*", "/version", 0, times=10)  # more than urllib3's default retries
    with pytest.raises(Exception) as exc:
        client.VersionApi(core.api_client).get_code(_request_timeout=2)
    assert not isinstance(exc.value, ApiException)


def test_request_log(fake_kube: FakeKubeServer, core: client.CoreV1Api) -> None:
    fake_kube.clear_requests()
    core.list_namespace(label_selector="a=b")
    with pytest.raises(ApiException):
        core.read_namespace("missing")
    first, second = fake_kube.requests
    assert (first.method, first.path, first.query, first.status) == (
        "GET",
        "/api/v1/namespaces",
        {"labelSelector": ["a=b"]},
        200,
    )
    assert (second.path, second.status) == ("/api/v1/namespaces/missing", 404)
    assert fake_kube.token not in repr(fake_kube.requests)


def test_latency_is_added_to_every_request(
    fake_kube: FakeKubeServer, core: client.CoreV1Api
) -> None:
    core.list_namespace()  # warm the connection
    fake_kube.latency = 0.05
    started = time.perf_counter()
    core.list_namespace()
    core.read_namespace("default")
    assert time.perf_counter() - started >= 0.1


def test_stopped_server_refuses_connections(
    fake_kube: FakeKubeServer, core: client.CoreV1Api
) -> None:
    core.list_namespace()  # a pooled keep-alive connection exists
    fake_kube.stop()
    started = time.perf_counter()
    with pytest.raises(Exception) as exc:
        core.list_namespace(_request_timeout=1)
    assert not isinstance(exc.value, ApiException)
    assert time.perf_counter() - started < 1
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", fake_kube.port), timeout=1)
    fake_kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kept"}})

    fake_kube.start()  # the cluster comes back, with its objects, on the same port
    assert core.read_namespace("kept").metadata.name == "kept"


def test_factory_starts_independent_servers(
    fake_kube_factory: Callable[..., list[FakeKubeServer]],
) -> None:
    servers = fake_kube_factory(5, argocd_installed=True)
    assert len({server.port for server in servers}) == 5
    assert len({server.token for server in servers}) == 5
    for index, server in enumerate(servers):
        with api_client(server) as api:
            client.CoreV1Api(api).create_namespace({"metadata": {"name": f"only-{index}"}})
    for index, server in enumerate(servers):
        names = {ns["metadata"]["name"] for ns in server.objects("", "namespaces")}
        assert f"only-{index}" in names and "argocd" in names
        assert not {f"only-{other}" for other in range(5) if other != index} & names


# ---- Patch helpers --------------------------------------------------------------
def test_merge_patch_and_json_patch() -> None:
    doc = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert merge_patch(doc, {"a": {"b": None, "c": [3]}, "e": 2}) == {
        "a": {"c": [3]},
        "d": 1,
        "e": 2,
    }
    patched = json_patch(
        doc,
        [
            {"op": "add", "path": "/a/c/-", "value": 3},
            {"op": "replace", "path": "/d", "value": 2},
            {"op": "move", "from": "/a/b", "path": "/b"},
            {"op": "copy", "from": "/b", "path": "/a~1x"},
            {"op": "test", "path": "/d", "value": 2},
        ],
    )
    assert patched == {"a": {"c": [1, 2, 3]}, "d": 2, "b": 1, "a/x": 1}
    assert doc == {"a": {"b": 1, "c": [1, 2]}, "d": 1}
