"""Importing a product repository laid out like upstream's, and writing it back unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from clusters.models import Cluster
from nautes_portal.integrations.config_repo import Author
from nautes_portal.integrations.git_local import LocalGitHost
from nautes_portal.yaml_io import dump_yaml
from products.indexing import product_state
from products.manifests import KUSTOMIZATION_PATH, build_document, kustomization
from products.models import MODEL_BY_KIND, CodeRepo, Environment, Product, ProjectPipelineRuntime
from products.services import product_import, product_sync, resource_save
from tests.crd import validate_against_crd

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "upstream_product"
UPSTREAM = Author(name="Upstream Nautes", email="api-server@nautes.example")


def cluster_row(name: str, usage: str, worker_type: str, components: dict[str, Any]) -> Cluster:
    spec = {
        "apiServer": "https://127.0.0.1:6443",
        "clusterKind": "kubernetes",
        "clusterType": "physical",
        "usage": usage,
        "workerType": worker_type,
        "componentsList": components,
    }
    manifest = {
        "apiVersion": "nautes.resource.nautes.io/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": name, "namespace": "nautes"},
        "spec": spec,
    }
    return Cluster.objects.create(
        name=name,
        api_server=spec["apiServer"],
        cluster_type="physical",
        usage=usage,
        worker_type=worker_type,
        components_list=components,
        manifest=manifest,
        path=f"nautes/overlays/production/clusters/{name}.yaml",
    )


@pytest.fixture
def runtime_clusters() -> None:
    deployment = {"deployment": {"name": "argocd", "namespace": "argocd"}}
    pipeline = {
        "deployment": {"name": "argocd", "namespace": "argocd"},
        "pipeline": {"name": "tekton", "namespace": "tekton-pipelines"},
    }
    cluster_row("cluster-dev", "worker", "deployment", deployment)
    cluster_row("cluster-pipeline", "worker", "pipeline", pipeline)


def upstream_repository(root: Path) -> tuple[Any, dict[str, bytes], str]:
    """Create group nautes-labs whose default.project holds the fixture files, as upstream would."""
    host = LocalGitHost(root)
    group = host.ensure_group(path="nautes-labs", name="nautes-labs")
    project = host.ensure_project(namespace_path="nautes-labs", path="default.project")
    # Its code repositories' projects exist with the ids their names claim (repo-34, repo-35),
    # as the many projects upstream made before them left GitLab's id counter at 33.
    (root / ".nautes-ids.json").write_text(json.dumps({"group": group.id, "project": 33}))
    for path in ("api-server", "vault-proxy"):
        host.ensure_project(namespace_path="nautes-labs", path=path)
    assert host.get_project("nautes-labs", "vault-proxy").id == 35
    files = {
        str(path.relative_to(FIXTURE)): path.read_bytes().replace(
            b"product-12", f"product-{group.id}".encode()
        )
        for path in sorted(FIXTURE.rglob("*"))
        if path.is_file()
    }
    repo = host.repository(project)
    repo.commit(changes=files, expected_parent=None, message="[API] Save operator", author=UPSTREAM)
    return host, files, f"product-{group.id}"


def test_import_indexes_every_kind(git_root: Path, runtime_clusters: None) -> None:
    host, _files, product_id = upstream_repository(git_root)
    product = product_import(name="nautes-labs", host=host)
    assert product.resource_name == product_id
    counts = {
        kind: model.objects.filter(product=product).count() for kind, model in MODEL_BY_KIND.items()
    }
    assert counts == {
        "Environment": 2,
        "Project": 2,
        "CodeRepo": 2,
        "CodeRepoBinding": 1,
        "DeploymentRuntime": 1,
        "ProjectPipelineRuntime": 1,
    }
    repo = CodeRepo.objects.get(product=product, name="repo-35")
    assert repo.repo_name == "vault-proxy" and repo.webhook_events == [
        "push_events",
        "tag_push_events",
    ]
    ppr = ProjectPipelineRuntime.objects.get(product=product)
    assert ppr.destination_environment == "env-pipeline" and ppr.pipeline_source == "repo-35"
    head = host.repository(host.get_project("nautes-labs", "default.project")).head()
    assert Product.objects.get(pk=product.pk).commit_sha == head
    assert set(
        Environment.objects.filter(product=product).values_list("commit_sha", flat=True)
    ) == {head}
    problems = [
        row.problems
        for model in MODEL_BY_KIND.values()
        for row in model.objects.filter(product=product)
    ]
    assert problems == [[]] * 9, "a valid upstream repository imports without problems"


def test_writing_an_imported_repository_back_changes_no_meaning(
    git_root: Path, runtime_clusters: None
) -> None:
    host, files, _ = upstream_repository(git_root)
    product = product_import(name="nautes-labs", host=host)
    rendered: dict[str, bytes] = {}
    for kind, model in MODEL_BY_KIND.items():
        for row in model.objects.filter(product=product):
            rendered[row.path] = dump_yaml(build_document(kind, row.name, row.spec, row.manifest))
    rendered[KUSTOMIZATION_PATH] = kustomization(p for p in rendered)
    originals = {p: c for p, c in files.items() if p.endswith(".yaml")}
    assert set(rendered) == set(originals)
    for path, content in rendered.items():
        assert yaml.safe_load(content) == yaml.safe_load(originals[path]), path
        assert content == originals[path], f"{path} differs byte for byte"
        if path != KUSTOMIZATION_PATH:
            validate_against_crd(yaml.safe_load(content))


def test_saving_an_unchanged_resource_keeps_the_file(
    git_root: Path, runtime_clusters: None, admin_user: Any
) -> None:
    host, files, _ = upstream_repository(git_root)
    product = product_import(name="nautes-labs", host=host)
    env = Environment.objects.get(product=product, name="env-dev")
    resource_save(
        product=product,
        kind="Environment",
        name="env-dev",
        spec=env.spec,
        actor=admin_user,
        host=host,
    )
    repo = host.repository(host.get_project("nautes-labs", "default.project"))
    after = repo.read_tree(repo.head())
    assert after["envs/env-dev.yaml"] == files["envs/env-dev.yaml"]
    assert after[KUSTOMIZATION_PATH] == files[KUSTOMIZATION_PATH]
    assert after["docs/README.md"] == files["docs/README.md"], "files outside the layout are kept"


def test_external_edits_are_imported_with_the_rule_they_break(
    git_root: Path, runtime_clusters: None
) -> None:
    host, files, _product_id = upstream_repository(git_root)
    product = product_import(name="nautes-labs", host=host)
    repo = host.repository(host.get_project("nautes-labs", "default.project"))
    broken_env = files["envs/env-dev.yaml"].replace(b"cluster-dev", b"cluster-gone")
    repo.commit(
        changes={"envs/env-dev.yaml": broken_env, "runtimes/garbage.yaml": b"kind: [unclosed"},
        expected_parent=repo.head(),
        message="edit outside the portal",
        author=Author(name="Bob Outside", email="bob@example.com"),
    )
    assert product_sync(product=product, repo=repo) is True
    env = Environment.objects.get(product=product, name="env-dev")
    assert env.cluster == "cluster-gone"
    assert any("Cluster 'cluster-gone' does not exist" in p for p in env.problems)
    product.refresh_from_db()
    assert [p["path"] for p in product.sync_problems] == ["runtimes/garbage.yaml"]
    from nautes_portal.models import AuditEvent

    event = AuditEvent.objects.filter(action="sync", product=product).first()
    assert event is not None and "Bob Outside" in event.message


def test_product_state_comes_from_the_index_without_git(
    git_root: Path, runtime_clusters: None, django_assert_max_num_queries: Any
) -> None:
    host, _, _ = upstream_repository(git_root)
    product = product_import(name="nautes-labs", host=host)
    import shutil

    shutil.rmtree(git_root)  # reads must not need the repository
    with django_assert_max_num_queries(12):
        state = product_state(product)
    assert set(state.of_kind("Environment")) == {"env-dev", "env-pipeline"}


def test_preview_validates_and_diffs_without_writing(
    git_root: Path, runtime_clusters: None
) -> None:
    from products.services import resource_preview

    host, _, _ = upstream_repository(git_root)
    product = product_import(name="nautes-labs", host=host)
    head = host.repository(host.get_project("nautes-labs", "default.project")).head()
    preview = resource_preview(
        product=product,
        kind="Environment",
        name="env-qa",
        spec={"cluster": "nope", "envType": "qa"},
    )
    assert any("Cluster 'nope' does not exist" in p.message for p in preview.problems)
    good = resource_preview(
        product=product, kind="Project", name="web", spec={"language": "TypeScript"}
    )
    assert good.problems == []
    assert "+++ b/projects/web/web.yaml" in good.diff and "+  language: TypeScript" in good.diff
    assert "+- ../projects/web/web.yaml" in good.diff  # the kustomization gains the file
    blocked = resource_preview(product=product, kind="Environment", name="env-dev", spec=None)
    assert "not allowed to be deleted" in blocked.problems[0].message
    assert host.repository(host.get_project("nautes-labs", "default.project")).head() == head
