"""The #12 review's follow-ups: each test is a way around a rule that the review left open."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from clusters.models import Cluster, TenantRepository
from deployments import desired
from deployments.deployer import RUNTIME_DEPLOY, RUNTIME_REMOVE
from nautes_portal import git_index
from nautes_portal.errors import Conflict
from nautes_portal.integrations.config_repo import Author, GitProject
from nautes_portal.integrations.git_local import LocalGitHost
from nautes_portal.models import AuditEvent
from nautes_portal.operations import operation_create
from nautes_portal.operations.models import Operation
from products import rules, services
from products.adoption import is_tenant_repository, project_taken, refuse_tenant_group
from products.models import (
    AccessLevel,
    CodeRepo,
    DeploymentRuntime,
    Membership,
    Product,
    Project,
)
from products.provisioning import PRODUCT_SAVE
from products.repo_provisioning import CODEREPO_PROVISION
from products.state import ProductState, Resource
from tests.api.helpers import DEPLOYMENT_WORKER, coderepo_body, kubeconfig
from tests.api.test_gitlab_journey import gitlab_mode, pat  # noqa: F401
from tests.api.test_webhooks import PROJECT_FILE
from tests.deployments.test_deployer import (
    PROJECTS,
    RBAC,
    add_runtime,
    deploy,
    dr_dev_index,
    register_cluster,
    runtime_pass,
)
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

BASE = "/api/v1/products"
NEVER_GRANTED = "can never be granted to a product"


def tenant_files(root: Path) -> dict[str, bytes]:
    """Every file of the tenant configuration repository at HEAD ({} before the first save)."""
    host = LocalGitHost(root)
    project = host.get_project("nautes", "tenant")
    head = host.repository(project).head() if project is not None else None
    return host.repository(project).read_tree(head) if head is not None else {}


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.json()
    return response.json()


# ---- 1. The allow-list never grants Argo CD's namespace ----------------------------------
def _worker(reserved: dict[str, list[str]], **extra: Any) -> dict[str, Any]:
    body = copy.deepcopy(DEPLOYMENT_WORKER)
    body.update(api_server="https://127.0.0.1:1", kubeconfig=kubeconfig(), **extra)
    body["reserved_namespaces_allowed_products"] = reserved
    return body


@pytest.mark.parametrize(
    ("argocd", "components"),
    [
        ("argocd", None),
        ("gitops", {"deployment": {"name": "argocd", "namespace": "gitops"}}),
    ],
    ids=["default", "custom-namespace"],
)
def test_a_cluster_save_cannot_grant_the_argocd_namespace(
    admin_api: APIClient,
    secret_store: Any,
    git_root: Path,
    argocd: str,
    components: dict[str, Any] | None,
) -> None:
    """A tenant Maintainer names Argo CD's namespace in the allow-list: the product's runtime
    account would administer it and could write its own AppProjects (cluster-admin)."""
    extra = {"components_list": components} if components else {}
    body = _worker({argocd: ["nautes-labs"], "traefik": ["nautes-labs"]}, **extra)
    response = admin_api.post("/api/v1/clusters/cluster-dev", body, format="json")
    assert response.status_code == 400, response.json()
    message = response.json()["message"]
    assert f"reserved namespace {argocd} is Argo CD's namespace and {NEVER_GRANTED}" in message
    assert not Cluster.objects.filter(name="cluster-dev").exists()
    assert "nautes/overlays/production/clusters/cluster-dev.yaml" not in tenant_files(git_root)


def test_the_documented_argocd_grant_is_refused_and_an_empty_key_is_not(
    admin_api: APIClient, secret_store: Any
) -> None:
    """Upstream's own examples grant `argocd`; the key without products grants nothing."""
    refused = admin_api.post(
        "/api/v1/clusters/cluster-dev", _worker({"argocd": ["demo"]}), format="json"
    )
    assert refused.status_code == 400
    assert NEVER_GRANTED in refused.json()["message"]
    _ok(admin_api.post("/api/v1/clusters/cluster-dev", _worker({"argocd": []}), format="json"))


def _state_on(cluster: dict[str, Any]) -> ProductState:
    state = ProductState(product_name="nautes-labs", product_id="product-12")
    state.of_kind("Environment")["env-dev"] = Resource(
        "Environment", "env-dev", "envs/env-dev.yaml", {"cluster": "cluster-dev"}
    )
    state.clusters["cluster-dev"] = cluster
    return state


@pytest.mark.parametrize("argocd", ["argocd", "gitops"])
def test_a_legacy_grant_of_the_argocd_namespace_opens_nothing(argocd: str) -> None:
    """A cluster file from Git (or saved before this rule) grants it: runtimes are refused."""
    cluster = {
        "usage": "worker",
        "workerType": "deployment",
        "componentsList": {"deployment": {"name": "argocd", "namespace": argocd}},
        "reservedNamespacesAllowedProducts": {argocd: ["nautes-labs"]},
    }
    state = _state_on(cluster)
    spec = {"destination": {"environment": "env-dev", "namespaces": ["dr-admin", argocd]}}
    problems = rules.namespace_problems(
        Resource("DeploymentRuntime", "dr-admin", "runtimes/dr-admin.yaml", spec), state
    )
    assert problems == [
        rules.DR_PREFIX
        + rules.DR_COMPONENT_NAMESPACE.format(namespace=argocd)
        + f": {rules.ARGOCD_NEVER_GRANTED}"
    ]
    ppr = Resource(
        "ProjectPipelineRuntime",
        "pr-admin",
        "runtimes/pr-admin.yaml",
        {"destination": {"environment": "env-dev", "namespace": argocd}},
    )
    (problem,) = rules.namespace_problems(ppr, state)
    assert rules.ARGOCD_NEVER_GRANTED in problem
    allow_list = cluster["reservedNamespacesAllowedProducts"]
    granted = rules.allowed_namespaces(
        "nautes-labs", "product-12", allow_list, argocd_namespace=argocd
    )
    assert granted == frozenset()


def test_a_legacy_grant_refuses_the_runtime_through_the_api(
    admin_api: APIClient, alice_api: APIClient, secret_store: Any
) -> None:
    """The same through the API, with `insecure_skip_check` too: the cluster row carries the
    grant as a sync of an old cluster file leaves it."""
    _ok(admin_api.post("/api/v1/clusters/cluster-dev", _worker({}), format="json"))
    cluster = Cluster.objects.get(name="cluster-dev")
    cluster.manifest["spec"]["reservedNamespacesAllowedProducts"] = {"argocd": ["nautes-labs"]}
    cluster.reserved_namespaces_allowed_products = {"argocd": ["nautes-labs"]}
    cluster.save()
    _ok(
        alice_api.post(
            f"{BASE}/nautes-labs", {"git": {"gitlab": {"visibility": "private"}}}, format="json"
        )
    )
    env = {"cluster": "cluster-dev", "env_type": "development"}
    _ok(alice_api.post(f"{BASE}/nautes-labs/environments/env-dev", env, format="json"))
    _ok(alice_api.post(f"{BASE}/nautes-labs/projects/api-server", {}, format="json"))
    repo = coderepo_body("api-server", project="api-server")
    _ok(alice_api.post(f"{BASE}/nautes-labs/coderepos/api-server", repo, format="json"))
    runtime = {
        "projects_ref": ["api-server"],
        "manifest_source": {"code_repo": "api-server", "target_revision": "HEAD", "path": "m"},
        "destination": {"environment": "env-dev", "namespaces": ["dr-admin", "argocd"]},
    }
    for skip in ("", "?insecure_skip_check=true"):
        response = alice_api.post(
            f"{BASE}/nautes-labs/deploymentruntimes/dr-admin{skip}", runtime, format="json"
        )
        assert response.status_code == 400, response.json()
        assert rules.ARGOCD_NEVER_GRANTED in response.json()["message"]
    assert not DeploymentRuntime.objects.filter(name="dr-admin").exists()


@pytest.fixture
def legacy_cluster(secret_store: Any, fake_kube_factory: Any) -> FakeKubeServer:
    """cluster-dev in the index with a grant of `argocd` to nautes-labs (an old file)."""
    (server,) = fake_kube_factory(argocd_installed=True)
    register_cluster(
        secret_store,
        "cluster-dev",
        server,
        reserved_namespaces_allowed_products={
            "argocd": ["nautes-labs"],
            "traefik": ["nautes-labs"],
        },
    )
    return server


def test_the_deployer_refuses_a_granted_argocd_namespace(legacy_cluster: FakeKubeServer) -> None:
    product = dr_dev_index()
    add_runtime(product, "dr-admin", namespaces=["dr-admin", "argocd"], path="m/admin")
    assert deploy().status == "succeeded"
    refused = runtime_pass(product, "dr-admin")
    assert refused.pass_result == "refused"
    assert rules.ARGOCD_NEVER_GRANTED in refused.pass_message
    bindings = legacy_cluster.objects(RBAC, "rolebindings")
    assert not [b for b in bindings if b["metadata"].get("namespace") == "argocd"]
    assert legacy_cluster.get(("argoproj.io", "applications"), "argocd", "dr-admin") is None
    assert legacy_cluster.get(("", "namespaces"), "", "dr-admin") is None

    # A sound runtime of the product deploys; its AppProject never lists Argo CD's namespace.
    assert runtime_pass(product, "dr-dev").pass_result == "applied"
    project = legacy_cluster.get(PROJECTS, "argocd", "product-12")
    assert [d["namespace"] for d in project["spec"]["destinations"]] == ["dr-dev", "traefik"]


# ---- 2. GitLab paths are case-insensitive -----------------------------------------------
@pytest.mark.parametrize(
    ("tenant_repo", "name"),
    [("Nautes/tenant", "nautes"), ("nautes/tenant", "Nautes"), ("Corp/Platform/tenant", "corp")],
)
def test_the_tenant_group_is_refused_in_any_letter_case(
    settings: Any, tenant_repo: str, name: str
) -> None:
    settings.GITLAB_TENANT_REPO = tenant_repo
    with pytest.raises(Conflict) as refused:
        refuse_tenant_group(name)
    assert refused.value.reason == "ALREADY_TAKEN"
    namespace, _, path = tenant_repo.rpartition("/")
    assert is_tenant_repository(namespace.upper(), path.upper())
    assert is_tenant_repository(namespace.lower(), path.capitalize())


def test_gitlab_a_product_named_like_the_tenant_group_in_other_case_is_refused(
    gitlab_mode: FakeGitLab,  # noqa: F811
    settings: Any,
) -> None:
    """GITLAB_TENANT_REPO says `Nautes/tenant`; GitLab finds the same group for `nautes`. Its
    Owner would import it as a product (and then reach the tenant repository through it)."""
    settings.GITLAB_TENANT_REPO = "Nautes/tenant"
    fake = gitlab_mode
    tenant = fake.group("nautes")
    fake.add_member(tenant, "alice", 50)
    before = (tenant.name, tenant.visibility, tenant.description, dict(tenant.members))
    body = {"git": {"gitlab": {"visibility": "private"}}}
    response = pat("alice-pat").post(f"{BASE}/nautes", body, format="json")
    assert response.status_code == 409, response.json()
    assert response.json()["reason"] == "ALREADY_TAKEN"
    assert (tenant.name, tenant.visibility, tenant.description, dict(tenant.members)) == before
    assert not Product.objects.exists()


def test_a_push_to_the_tenant_repository_in_other_case_syncs_it(
    admin_api: APIClient, secret_store: Any, settings: Any
) -> None:
    """GitLab's event names the repository by its real path; the setting may differ in case."""
    settings.GITLAB_WEBHOOK_SECRET = "hook-secret"
    settings.GITLAB_TENANT_REPO = "nautes/tenant"
    _ok(admin_api.post("/api/v1/clusters/cluster-dev", _worker({}), format="json"))
    TenantRepository.objects.update(head_sha="", synced_at=None)
    response = Client().post(
        "/webhooks/gitlab",
        {"object_kind": "push", "project": {"path_with_namespace": "Nautes/Tenant"}},
        content_type="application/json",
        HTTP_X_GITLAB_TOKEN="hook-secret",
    )
    assert response.status_code == 202, response.json()
    assert TenantRepository.objects.get().head_sha


def test_a_push_to_a_product_repository_in_other_case_syncs_it(
    alice_api: APIClient, git_root: Path, settings: Any
) -> None:
    settings.GITLAB_WEBHOOK_SECRET = "hook-secret"
    _ok(
        alice_api.post(
            f"{BASE}/acme", {"git": {"gitlab": {"visibility": "private"}}}, format="json"
        )
    )
    host = LocalGitHost(git_root)
    repo = host.repository(host.get_project("acme", "default.project"))
    repo.commit(
        changes={"projects/pushed/pushed.yaml": PROJECT_FILE % host.get_group("acme").id},
        expected_parent=repo.head(),
        message="add a project by hand",
        author=Author(name="Dana Dev", email="dana@example.com"),
    )
    response = Client().post(
        "/webhooks/gitlab",
        {"object_kind": "push", "project": {"path_with_namespace": "Acme/Default.Project"}},
        content_type="application/json",
        HTTP_X_GITLAB_TOKEN="hook-secret",
    )
    assert response.status_code == 202, response.json()
    assert Project.objects.get(name="pushed").commit_sha == repo.head()


# ---- 3. A retry needs, now, the right its action needs -----------------------------------
def _failed(
    kind: str, target: str, actor: Any, params: dict[str, Any], of: Product | None = None
) -> int:
    """A failed operation of `kind` started by `actor` (on product `of`, or product-less)."""
    operation = operation_create(kind=kind, target=target, params=params, actor=actor, product=of)
    Operation.objects.filter(pk=operation.pk).update(status=Operation.Status.FAILED)
    return operation.pk


@pytest.fixture
def acme(alice_api: APIClient) -> Product:
    _ok(
        alice_api.post(
            f"{BASE}/acme", {"git": {"gitlab": {"visibility": "private"}}}, format="json"
        )
    )
    return Product.objects.get(name="acme")


def _retry(api: APIClient, pk: int) -> int:
    return api.post(f"/api/v1/operations/{pk}/retry").status_code


@pytest.mark.parametrize("level", [AccessLevel.REPORTER, AccessLevel.DEVELOPER])
def test_a_demoted_maintainer_cannot_retry_their_product_less_product_save(
    acme: Product, make_user: Any, grant: Any, api_client_for: Any, level: int
) -> None:
    """Bob, Maintainer of acme, saved it (visibility public); the save failed before its index
    step linked the operation to acme. Demoted, he must not finish the change by retrying."""
    bob = make_user("bob")
    grant(bob, "acme", AccessLevel.MAINTAINER)
    params = {"name": "acme", "display_name": "acme", "visibility": "public", "description": ""}
    pk = _failed(PRODUCT_SAVE, "acme", bob, params)
    api = api_client_for(bob)
    grant(bob, "acme", level)
    assert api.get(f"/api/v1/operations/{pk}").status_code == 200  # still a reader of acme
    assert _retry(api, pk) == 403
    assert Operation.objects.get(pk=pk).status == Operation.Status.FAILED
    grant(bob, "acme", AccessLevel.MAINTAINER)
    assert _retry(api, pk) == 202


def test_a_failed_creation_is_retried_by_its_creator_only(
    make_user: Any, api_client_for: Any
) -> None:
    bob, carol = make_user("bob"), make_user("carol")
    params = {"name": "fresh", "display_name": "fresh", "visibility": "private", "description": ""}
    pk = _failed(PRODUCT_SAVE, "fresh", bob, params)
    assert _retry(api_client_for(carol), pk) == 404
    assert _retry(api_client_for(bob), pk) == 202


def test_an_operation_of_a_deleted_product_is_retried_by_tenant_admins_only(
    make_user: Any, api_client_for: Any, admin_api: APIClient
) -> None:
    """Bob's runtime removal on a product that is gone: retrying it would delete objects on a
    cluster for a product nobody has rights on any more."""
    bob = make_user("bob")
    params = {"product": "gone", "product_id": "product-77", "runtime": "dr", "cluster": "c1"}
    pk = _failed(RUNTIME_REMOVE, "gone/dr", bob, params)
    api = api_client_for(bob)
    assert api.get(f"/api/v1/operations/{pk}").status_code == 200  # his own, still listed
    assert _retry(api, pk) == 403
    assert _retry(admin_api, pk) == 202


def test_a_developer_retries_runtime_operations_but_not_repository_ones(
    acme: Product, alice: Any, make_user: Any, grant: Any, api_client_for: Any
) -> None:
    bob = make_user("bob")
    grant(bob, "acme", AccessLevel.DEVELOPER)
    api = api_client_for(bob)
    repo = _failed(CODEREPO_PROVISION, "acme/api-server", alice, {"product": "acme"}, acme)
    runtime = _failed(RUNTIME_DEPLOY, "acme/dr-dev", alice, {"product": "acme"}, acme)
    assert _retry(api, repo) == 403
    assert _retry(api, runtime) == 202
    Membership.objects.filter(user=bob).update(access_level=AccessLevel.MAINTAINER)
    assert _retry(api, repo) == 202


# ---- 4. A code repository the save means to create is created, never adopted --------------
def _default_project_head(fake: FakeGitLab, product: str) -> str | None:
    project = fake.project(f"{product}/default.project")
    return project.branches.get("main")


def test_gitlab_a_project_made_between_lookup_and_create_is_not_adopted(
    gitlab_mode: FakeGitLab,  # noqa: F811
) -> None:
    """A member of shop creates `shop/legacy` in GitLab right after the portal looked it up
    and found nothing: the portal's create then meets "has already been taken". Falling back
    to an update adopted that project (renamed it, gave it deploy keys, indexed it) and, had
    the commit then failed, deleted it as the save's own."""
    fake = gitlab_mode
    alice = pat("alice-pat")
    _ok(alice.post(f"{BASE}/shop", {"git": {"gitlab": {"visibility": "private"}}}, format="json"))
    head = _default_project_head(fake, "shop")
    made: list[Any] = []
    fake.after_next(
        "GET",
        r"/projects/shop%2Flegacy$",
        lambda: made.append(fake.create_project("shop/legacy", description="a member's own")),
    )
    response = alice.post(f"{BASE}/shop/coderepos/legacy", coderepo_body("legacy"), format="json")
    assert made, "the project did not appear after the portal's lookup"
    assert response.status_code == 409, response.json()
    expected = project_taken("shop", "legacy")
    assert response.json()["reason"] == expected.reason == "ALREADY_TAKEN"
    assert response.json()["message"] == expected.message
    member_project = fake.project("shop/legacy")
    assert member_project is made[0]
    assert (member_project.name, member_project.description) == ("legacy", "a member's own")
    assert not member_project.deploy_keys and not member_project.hooks
    assert not CodeRepo.objects.filter(repo_name="legacy").exists()
    assert _default_project_head(fake, "shop") == head  # nothing committed


def test_gitlab_create_project_never_touches_an_existing_project(
    gitlab_mode: FakeGitLab,  # noqa: F811
) -> None:
    from nautes_portal.integrations.gitlab import GitLabHost

    fake = gitlab_mode
    fake.create_group("team")
    existing = fake.create_project("team/app", description="theirs")
    host = GitLabHost(fake.url, "portal-bot-token")
    with pytest.raises(Conflict) as refused:
        host.create_project(namespace_path="team", path="app", description="mine")
    assert refused.value.reason == "ALREADY_TAKEN"
    assert refused.value.message == project_taken("team", "app").message
    assert existing.description == "theirs"
    made = host.create_project(namespace_path="team", path="new", description="mine")
    assert (made.full_path, made.description) == ("team/new", "mine")


class _RacingHost(LocalGitHost):
    """The local host, where a member creates `<group>/<path>` right after the portal's lookup
    of it (an adapter seam: another writer acting between two calls)."""

    race: tuple[str, str] = ("", "")

    def get_project(self, namespace_path: str, path: str) -> GitProject | None:
        found = super().get_project(namespace_path, path)
        if (namespace_path, path) == self.race and found is None:
            self.race = ("", "")
            LocalGitHost(self.root).ensure_project(
                namespace_path=namespace_path, path=path, description="a member's own"
            )
        return found


def test_local_a_project_made_between_lookup_and_create_is_not_adopted(
    alice: Any, alice_api: APIClient, git_root: Path
) -> None:
    _ok(
        alice_api.post(
            f"{BASE}/shop", {"git": {"gitlab": {"visibility": "private"}}}, format="json"
        )
    )
    product = Product.objects.get(name="shop")
    head = product.commit_sha
    host = _RacingHost(git_root)
    host.race = ("shop", "legacy")
    with pytest.raises(Conflict) as refused:
        services.coderepo_save(
            product=product,
            repo_name="legacy",
            spec={"deploymentRuntime": True, "pipelineRuntime": False, "webhook": {}},
            git={"name": "legacy", "visibility": "private", "description": "portal's"},
            actor=alice,
            host=host,
        )
    assert refused.value.message == project_taken("shop", "legacy").message
    member_project = LocalGitHost(git_root).get_project("shop", "legacy")
    assert member_project is not None and member_project.description == "a member's own"
    assert not CodeRepo.objects.filter(repo_name="legacy").exists()
    product.refresh_from_db()
    assert product.commit_sha == head


# ---- 5. The cluster API passes the save's warning on --------------------------------------
@contextlib.contextmanager
def audit_writes_refused() -> Iterator[None]:
    """The database refuses writes to the audit table as a busy or locked database does
    (OperationalError): the index update after a commit then fails, and so does every re-index
    (both record the audit event), and the save answers with its warning. Real DDL, undone by
    the test's transaction."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_away"')
        else:  # PostgreSQL: lock_not_available, which psycopg maps to OperationalError
            cursor.execute(
                "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'audit table locked' USING ERRCODE = '55P03'; END $$ "
                "LANGUAGE plpgsql"
            )
            cursor.execute(
                f'CREATE TRIGGER refuse_audit BEFORE INSERT ON "{table}" '
                "FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f'ALTER TABLE "{table}_away" RENAME TO "{table}"')
            else:
                cursor.execute(f'DROP TRIGGER refuse_audit ON "{table}"')
                cursor.execute("DROP FUNCTION refuse_audit()")


def test_the_cluster_api_passes_the_index_warning_on(
    admin_api: APIClient, secret_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit landed but the index could not follow: the reply says so, as the product
    API's does, instead of a bare success the client cannot tell apart."""
    monkeypatch.setattr(git_index, "REINDEX_PAUSES", (0.0, 0.0))
    with audit_writes_refused():
        saved = admin_api.post("/api/v1/clusters/cluster-dev", _worker({}), format="json")
    body = _ok(saved)
    assert body["message"].startswith("Successfully saved cluster-dev cluster [warning] saved as")
    assert "the portal's index could not be updated yet" in body["message"]

    # The index caught up at a sync (here: a clean save); now the delete's index update fails.
    _ok(admin_api.post("/api/v1/clusters/cluster-dev", _worker({}), format="json"))
    with audit_writes_refused():
        deleted = admin_api.delete("/api/v1/clusters/cluster-dev")
    body = _ok(deleted)
    assert body["message"].startswith("Successfully deleted cluster-dev cluster [warning]")
    assert "could not be updated yet" in body["message"]


def test_the_cluster_api_replies_plainly_without_a_warning(
    admin_api: APIClient, secret_store: Any
) -> None:
    saved = admin_api.post("/api/v1/clusters/cluster-dev", _worker({}), format="json")
    assert _ok(saved) == {"message": "Successfully saved cluster-dev cluster"}
    deleted = admin_api.delete("/api/v1/clusters/cluster-dev")
    assert _ok(deleted) == {"message": "Successfully deleted cluster-dev cluster"}


# ---- 6. A deleted product's name is freed only with its grants -----------------------------
PRIVATE = {"git": {"gitlab": {"visibility": "private"}}}
RESOURCES = [{"kind": "ClusterRole", "group": "rbac.authorization.k8s.io"}]
CLUSTER_FILE = "nautes/overlays/production/clusters/cluster-dev.yaml"


def _grant_acme_and_other_team(admin_api: APIClient) -> None:
    """cluster-dev lets acme (also as `Acme`) and other-team into argo-rollouts, and lets both
    manage ClusterRoles."""
    body = _worker(
        {"argo-rollouts": ["acme", "other-team", "Acme"], "traefik": ["acme"]},
        product_allowed_cluster_resources={"acme": RESOURCES, "other-team": RESOURCES},
    )
    _ok(admin_api.post("/api/v1/clusters/cluster-dev", body, format="json"))


def _cluster_spec(git_root: Path) -> dict[str, Any]:
    return yaml.safe_load(tenant_files(git_root)[CLUSTER_FILE])["spec"]


def test_deleting_a_product_removes_its_name_from_every_allow_list(
    admin_api: APIClient,
    alice: Any,
    alice_api: APIClient,
    secret_store: Any,
    git_root: Path,
    make_user: Any,
    api_client_for: Any,
) -> None:
    """acme is granted on cluster-dev; its Owner deletes it; bob creates `acme` again. The
    grants named a product, so bob's acme would have got acme's component namespaces and
    cluster-scoped kinds in its AppProject."""
    _ok(alice_api.post(f"{BASE}/acme", PRIVATE, format="json"))
    _grant_acme_and_other_team(admin_api)
    _ok(alice_api.delete(f"{BASE}/acme"))

    spec = _cluster_spec(git_root)
    assert spec["reservedNamespacesAllowedProducts"] == {
        "argo-rollouts": ["other-team"],
        "traefik": [],
    }
    assert spec["productAllowedClusterResources"] == {"other-team": RESOURCES}
    cluster = Cluster.objects.get(name="cluster-dev")
    assert cluster.reserved_namespaces_allowed_products == spec["reservedNamespacesAllowedProducts"]
    assert cluster.product_allowed_cluster_resources == {"other-team": RESOURCES}
    assert cluster.problems == []
    event = AuditEvent.objects.filter(kind="Cluster", name="cluster-dev", action="save").first()
    assert event is not None and event.actor == alice and "acme" in event.diff

    bob = api_client_for(make_user("bob"))
    _ok(bob.post(f"{BASE}/acme", PRIVATE, format="json"))
    product = Product.objects.get(name="acme")
    assert (
        desired.reserved_namespaces_for(
            "acme", cluster.reserved_namespaces_allowed_products, product.resource_name, None
        )
        == ()
    )
    assert desired.cluster_resources_for("acme", cluster.product_allowed_cluster_resources) == ()


def test_deleting_an_ungranted_product_writes_nothing_to_the_tenant_repository(
    admin_api: APIClient, alice_api: APIClient, secret_store: Any, git_root: Path
) -> None:
    _grant_acme_and_other_team(admin_api)
    _ok(alice_api.post(f"{BASE}/shop", PRIVATE, format="json"))
    head = TenantRepository.objects.get().head_sha
    _ok(alice_api.delete(f"{BASE}/shop"))
    assert TenantRepository.objects.get().head_sha == head
    assert "acme" in _cluster_spec(git_root)["productAllowedClusterResources"]


def test_a_failed_grant_removal_keeps_the_name_taken_until_the_delete_is_done(
    admin_api: APIClient,
    alice_api: APIClient,
    secret_store: Any,
    git_root: Path,
    make_user: Any,
    api_client_for: Any,
) -> None:
    """The tenant commit conflicts (someone pushed there meanwhile): the product stays in the
    index, so nobody else can take its name while the grants remain; deleting again ends it."""
    _ok(alice_api.post(f"{BASE}/acme", PRIVATE, format="json"))
    _grant_acme_and_other_team(admin_api)
    host = LocalGitHost(git_root)
    repo = host.repository(host.get_project("nautes", "tenant"))
    repo.commit(
        changes={"README.md": b"pushed behind the portal's back"},
        expected_parent=repo.head(),
        message="outside",
        author=Author(name="Bob", email="bob@example.com"),
    )
    first = alice_api.delete(f"{BASE}/acme")
    assert first.status_code == 409, first.json()
    assert Product.objects.filter(name="acme").exists()
    assert "acme" in _cluster_spec(git_root)["productAllowedClusterResources"]
    bob = api_client_for(make_user("bob"))
    assert bob.post(f"{BASE}/acme", PRIVATE, format="json").status_code in (403, 404)

    _ok(alice_api.delete(f"{BASE}/acme"))
    assert not Product.objects.filter(name="acme").exists()
    assert "acme" not in _cluster_spec(git_root)["productAllowedClusterResources"]
