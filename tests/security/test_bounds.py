"""Bounded input (#12 findings 3, 4 and 9): YAML aliases, sizes, depth and name lengths.

Every document read from Git or sent by a user has a size cap, a depth cap and no YAML
anchors/aliases; every name and free-text field of an API body has a length cap. Breaking one
answers 400/413 naming the rule (never 500 or 502, never a server path), or, for a file pushed
to `default.project`, becomes a listed sync problem while the product's other files index.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from nautes_portal.integrations.git_local import LocalGitHost
from nautes_portal.limits import (
    AUDIT_DIFF_MAX,
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_YAML_BYTES,
    InputTooLarge,
    read_bounded,
)
from nautes_portal.models import AuditEvent
from products.models import Product, Project
from products.tasks import sync_all
from tests.api.helpers import coderepo_body

pytestmark = pytest.mark.django_db

# Nine levels of nine: 570 bytes that safe_load expands to 9**8 (43 million) strings. The test
# keeps two levels fewer so that the unbounded loader of old finishes (and fails the assertions).
ALIAS_BOMB = (
    b"apiVersion: nautes.resource.nautes.io/v1alpha1\n"
    b"kind: Project\n"
    b"metadata:\n"
    b"  name: bomb\n"
    b"spec:\n"
    b'  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    b"  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    b"  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    b"  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    b"  language: *d\n"
)
PROJECT = """apiVersion: nautes.resource.nautes.io/v1alpha1
kind: Project
metadata:
  name: {name}
spec:
  language: {language}
  product: product-{gid}
"""
# A server path in a message looks like /tmp/..., /work/..., /home/..., /var/...
SERVER_PATH = re.compile(r"(?<![\w.:/])/(?:tmp|work|home|var|srv|opt|usr|root)/")


def create_product(api: APIClient, product: str = "acme", **gitlab: str) -> Any:
    body = {"git": {"gitlab": {"visibility": "private", **gitlab}}}
    return api.post(f"/api/v1/products/{product}", body, format="json")


def push(git_root: Path, tmp_path: Path, product: str, files: dict[str, bytes]) -> None:
    """Push `files` to the product's bare `default.project` with plain git, as a user would."""
    host = LocalGitHost(git_root)
    project = host.get_project(product, "default.project")
    assert project is not None
    clone = tmp_path / "clone"
    git = ["git", "-c", "user.name=Mallory", "-c", "user.email=mallory@example.com"]
    subprocess.run([*git, "clone", "--quiet", project.http_url, str(clone)], check=True)
    for path, content in files.items():
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        (clone / path).write_bytes(content)
    subprocess.run([*git, "-C", str(clone), "add", "--all"], check=True)
    subprocess.run([*git, "-C", str(clone), "commit", "--quiet", "-m", "by hand"], check=True)
    subprocess.run([*git, "-C", str(clone), "push", "--quiet", "origin", "HEAD"], check=True)


def assert_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"code", "reason", "message", "metadata"}
    assert body["code"] == status
    assert not SERVER_PATH.search(body["message"]), body["message"]
    return body


# ---- Files pushed to default.project ---------------------------------------------------


def test_pushed_alias_bomb_and_oversized_files_become_sync_problems(
    alice_api: APIClient, git_root: Path, tmp_path: Path
) -> None:
    assert create_product(alice_api).status_code == 200
    product = Product.objects.get(name="acme")
    gid = product.resource_name.removeprefix("product-")
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    huge = "x" * (MAX_YAML_BYTES + 1)
    push(
        git_root,
        tmp_path,
        "acme",
        {
            "projects/bomb/bomb.yaml": ALIAS_BOMB,
            "projects/deep/deep.yaml": PROJECT.format(name="deep", language=deep, gid=gid).encode(),
            "projects/huge/huge.yaml": PROJECT.format(name="huge", language=huge, gid=gid).encode(),
            "projects/fine/fine.yaml": PROJECT.format(name="fine", language="Go", gid=gid).encode(),
        },
    )

    result = sync_all()  # what the schedule runs every minute

    assert result["failed"] == 0
    product.refresh_from_db()
    problems = {problem["path"]: problem["message"] for problem in product.sync_problems}
    assert "YAML anchors and aliases are not allowed" in problems["projects/bomb/bomb.yaml"]
    assert f"nested deeper than the limit of {MAX_DEPTH}" in problems["projects/deep/deep.yaml"]
    assert f"larger than the limit of {MAX_YAML_BYTES} bytes" in problems["projects/huge/huge.yaml"]
    # Nothing of the refused files is indexed; the product's other file is.
    assert list(Project.objects.filter(product=product).values_list("name", "language")) == [
        ("fine", "Go")
    ]
    # The import's audit record holds the pushed text, not an expansion of it.
    sync = AuditEvent.objects.filter(product=product, action="sync").latest("pk")
    assert len(sync.diff) < 2 * MAX_YAML_BYTES


def test_pushed_values_longer_than_the_index_columns_become_sync_problems(
    alice_api: APIClient, git_root: Path, tmp_path: Path
) -> None:
    """Small files, but a name or field the index cannot hold (PostgreSQL would refuse the
    whole import): the file is a sync problem, the rest indexes."""
    assert create_product(alice_api).status_code == 200
    product = Product.objects.get(name="acme")
    gid = product.resource_name.removeprefix("product-")
    long_name = "n" * 254
    push(
        git_root,
        tmp_path,
        "acme",
        {
            "projects/lang/lang.yaml": PROJECT.format(
                name="lang", language="l" * 256, gid=gid
            ).encode(),
            "projects/long/long.yaml": PROJECT.format(
                name=long_name, language="Go", gid=gid
            ).encode(),
            "projects/fine/fine.yaml": PROJECT.format(name="fine", language="Go", gid=gid).encode(),
        },
    )
    assert sync_all()["failed"] == 0
    product.refresh_from_db()
    problems = {problem["path"]: problem["message"] for problem in product.sync_problems}
    assert problems["projects/lang/lang.yaml"] == (
        "projects/lang/lang.yaml: language is longer than the limit of 255 characters"
    )
    assert (
        "metadata.name is longer than the limit of 253 characters"
        in (problems["projects/long/long.yaml"])
    )
    assert list(Project.objects.filter(product=product).values_list("name", flat=True)) == ["fine"]


def test_the_audit_of_a_big_push_is_cut(
    alice_api: APIClient, git_root: Path, tmp_path: Path
) -> None:
    """Each file is under its cap, but a push may hold many: the sync's audit diff is capped."""
    assert create_product(alice_api).status_code == 200
    product = Product.objects.get(name="acme")
    gid = product.resource_name.removeprefix("product-")
    notes = "  notes: " + "x" * (MAX_YAML_BYTES - 1024) + "\n"  # kept, as unknown fields are
    files = {
        f"projects/p{i}/p{i}.yaml": (
            PROJECT.format(name=f"p{i}", language="Go", gid=gid) + notes
        ).encode()
        for i in range(6)
    }
    push(git_root, tmp_path, "acme", files)
    sync_all()
    assert Project.objects.filter(product=product).count() == 6
    sync = AuditEvent.objects.filter(product=product, action="sync").latest("pk")
    assert AUDIT_DIFF_MAX <= len(sync.diff) < AUDIT_DIFF_MAX + 200
    assert sync.diff.endswith("Git has the rest]\n")


def test_the_product_page_lists_the_refused_file(
    alice: Any, alice_api: APIClient, git_root: Path, tmp_path: Path
) -> None:
    assert create_product(alice_api).status_code == 200
    push(git_root, tmp_path, "acme", {"projects/bomb/bomb.yaml": ALIAS_BOMB})
    sync_all()
    client = Client()
    client.force_login(alice)
    page = client.get("/products/acme/")
    assert page.status_code == 200
    assert len(page.content) < 1_000_000
    assert b"projects/bomb/bomb.yaml" in page.content
    assert b"anchors and aliases are not allowed" in page.content


# ---- Request bodies --------------------------------------------------------------------


def test_a_30_mb_body_answers_413(alice_api: APIClient) -> None:
    assert create_product(alice_api).status_code == 200
    language = "x" * (30 * 1024 * 1024)
    response = alice_api.post(
        "/api/v1/products/acme/projects/big", {"language": language}, format="json"
    )
    body = assert_error(response, 413)
    assert body["reason"] == "REQUEST_ENTITY_TOO_LARGE"
    assert str(MAX_BODY_BYTES) in body["message"]
    assert not Project.objects.filter(name="big").exists()


def test_a_body_longer_than_it_declares_is_refused_too() -> None:
    """A chunked body has no Content-Length: the bytes read are counted as well."""
    with pytest.raises(InputTooLarge):
        read_bounded(io.BytesIO(b"x" * (MAX_BODY_BYTES + 1)), None)
    with pytest.raises(InputTooLarge):
        read_bounded(io.BytesIO(b"{}"), str(MAX_BODY_BYTES + 1))
    assert read_bounded(io.BytesIO(b"x" * MAX_BODY_BYTES), "0") == b"x" * MAX_BODY_BYTES


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_100000_deep_json_to_the_api_answers_400(alice_api: APIClient, opening: str) -> None:
    assert create_product(alice_api).status_code == 200
    closing = "]" if opening == "[" else "}"
    deep = opening * 100_000 + "1" + closing * 100_000
    for path in ("/api/v1/products/acme", "/api/v1/products/acme/projects/p"):
        response = alice_api.post(path, deep, content_type="application/json")
        body = assert_error(response, 400)
        assert f"nested deeper than the limit of {MAX_DEPTH} levels" in body["message"]
    # Deeper than the limit but shallow enough for Python's parser: refused the same way.
    shallow = opening * (MAX_DEPTH + 1) + "1" + closing * (MAX_DEPTH + 1)
    response = alice_api.post("/api/v1/products/acme", shallow, content_type="application/json")
    assert_error(response, 400)


def test_100000_deep_json_to_the_webhook_answers_400(settings: Any) -> None:
    settings.GITLAB_WEBHOOK_SECRET = "hook-secret"
    client = Client()
    deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    response = client.post(
        "/webhooks/gitlab", deep, content_type="application/json", HTTP_X_GITLAB_TOKEN="hook-secret"
    )
    assert response.status_code == 400
    assert f"nested deeper than the limit of {MAX_DEPTH} levels" in response.json()["message"]
    too_big = b" " * (MAX_BODY_BYTES + 1)
    response = client.post(
        "/webhooks/gitlab",
        too_big,
        content_type="application/json",
        HTTP_X_GITLAB_TOKEN="hook-secret",
    )
    assert response.status_code == 413


# ---- Names and free text ---------------------------------------------------------------


def test_a_254_character_code_repository_name_answers_400_without_a_path(
    alice_api: APIClient, git_root: Path
) -> None:
    assert create_product(alice_api).status_code == 200
    for length in (254, 64):
        name = "a" * length
        response = alice_api.post(
            f"/api/v1/products/acme/coderepos/{name}", coderepo_body(name), format="json"
        )
        body = assert_error(response, 400)
        assert "at most 63" in body["message"] and "RFC 1123 label" in body["message"]
        assert str(git_root) not in body["message"]
    # Nothing was created in Git.
    assert [p.path for p in LocalGitHost(git_root).list_projects("acme")] == ["default.project"]
    name = "a" * 63
    response = alice_api.post(
        f"/api/v1/products/acme/coderepos/{name}", coderepo_body(name), format="json"
    )
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize(
    ("field", "limit"),
    [("description", 2000), ("name", 255), ("path", 255)],
)
def test_over_long_product_fields_answer_400(alice_api: APIClient, field: str, limit: int) -> None:
    response = create_product(alice_api, **{field: "d" * (limit + 1)})
    body = assert_error(response, 400)
    assert f"git.gitlab.{field}" in body["message"] and str(limit) in body["message"]
    assert not Product.objects.filter(name="acme").exists()


def test_over_long_resource_fields_answer_400(alice_api: APIClient) -> None:
    assert create_product(alice_api).status_code == 200
    response = alice_api.post(
        "/api/v1/products/acme/projects/p", {"language": "x" * 256}, format="json"
    )
    body = assert_error(response, 400)
    assert "language" in body["message"] and "255" in body["message"]
    repo = coderepo_body("api")
    repo["git"]["gitlab"]["description"] = "d" * 2001
    response = alice_api.post("/api/v1/products/acme/coderepos/api", repo, format="json")
    body = assert_error(response, 400)
    assert "git.gitlab.description" in body["message"] and "2000" in body["message"]
    runtime = {
        "projects_ref": ["p"],
        "manifest_source": {"code_repo": "api", "target_revision": "main", "path": "p" * 1025},
        "destination": {"environment": "e" * 254, "namespaces": ["n"]},
    }
    response = alice_api.post("/api/v1/products/acme/deploymentruntimes/dr", runtime, format="json")
    body = assert_error(response, 400)
    assert "manifest_source.path" in body["message"] and "1024" in body["message"]
    assert "destination.environment" in body["message"] and "253" in body["message"]
    # A resource name (in the URL) is an RFC 1123 subdomain of at most 253 characters.
    response = alice_api.post(f"/api/v1/products/acme/projects/{'p' * 254}", {}, format="json")
    body = assert_error(response, 400)
    assert "at most 253 characters" in body["message"]
    assert not Project.objects.filter(product__name="acme").exists()


# ---- YAML typed by users ---------------------------------------------------------------


def test_a_kubeconfig_with_aliases_is_refused(admin_api: APIClient, secret_store: Any) -> None:
    kubeconfig = (
        "apiVersion: v1\nkind: Config\n"
        "clusters: [{name: c, cluster: &c {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "current-context: x\nextra: *c\n"
    )
    body = {
        "api_server": "https://127.0.0.1:1",
        "cluster_kind": "kubernetes",
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": "deployment",
        "kubeconfig": kubeconfig,
    }
    response = admin_api.post("/api/v1/clusters/dev", body, format="json")
    result = assert_error(response, 400)
    assert "YAML anchors and aliases are not allowed" in result["message"]


def test_over_long_cluster_fields_answer_400(admin_api: APIClient, secret_store: Any) -> None:
    body = {
        "api_server": "https://127.0.0.1:1",
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": "deployment",
        "primary_domain": "d" * 3000,
        "kubeconfig": "k",
    }
    response = admin_api.post("/api/v1/clusters/dev", body, format="json")
    result = assert_error(response, 400)
    assert "primary_domain" in result["message"] and "253" in result["message"]
    body |= {"primary_domain": "example.com", "api_server": "https://127.0.0.1:1/" + "a" * 2048}
    result = assert_error(admin_api.post("/api/v1/clusters/dev", body, format="json"), 400)
    assert "api_server" in result["message"] and "2048" in result["message"]


ALIASED = "a: &x [acme]\nb: *x\n"


def test_yaml_textareas_of_the_forms_refuse_aliases_and_size() -> None:
    from clusters.forms import ComponentsForm
    from products.forms.resources import PipelineRuntimeForm

    for text, rule in (
        (ALIASED, "anchors and aliases are not allowed"),
        ("a: " + "x" * MAX_YAML_BYTES, f"larger than the limit of {MAX_YAML_BYTES} bytes"),
        ("a: " + "[" * 100 + "]" * 100, f"nested deeper than the limit of {MAX_DEPTH}"),
    ):
        cluster = ComponentsForm(data={"reserved": text}, categories=[])
        assert not cluster.is_valid()
        assert rule in " ".join(cluster.errors["reserved"])
        runtime = PipelineRuntimeForm(data={"name": "ppr", "document": text})
        assert not runtime.is_valid()
        assert rule in " ".join(runtime.errors["document"])
