"""Adversarial review of the #12 fixes: each test is a way around a rule that was found open."""

from __future__ import annotations

import base64
import contextlib
import socket
import threading
from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

from clusters.kubeconfig import decode_kubeconfig, normalize_kubeconfig
from clusters.models import Cluster
from clusters.services import cluster_check_start
from nautes_portal.errors import RuleViolation
from nautes_portal.integrations.config_repo import Author
from nautes_portal.integrations.git_local import LocalGitHost
from nautes_portal.integrations.kube import ClusterError, KubeClient, KubeconfigInvalid
from products.models import CodeRepo, Product, ProjectPipelineRuntime
from products.repo_provisioning import DeployKeyInfo, plan_authorization, read_index
from products.services import product_sync
from tests.api.helpers import coderepo_body, kubeconfig
from tests.deployments.test_deployer import (
    DEPLOY_KEY,
    SSH_URL,
    add_environment,
    add_repo,
    add_runtime,
    deploy,
    dr_dev_index,
    make_product,
    owned,
    register_cluster,
    runtime_pass,
    store_deploy_key,
)
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

OWNER = "resource.nautes.io/belongsto"


@pytest.fixture
def cluster_dev(secret_store: Any, fake_kube_factory: Any) -> FakeKubeServer:
    (server,) = fake_kube_factory(argocd_installed=True)
    register_cluster(secret_store, "cluster-dev", server)
    return server


def test_the_deployer_does_not_take_a_namespace_another_products_runtime_uses(
    cluster_dev: FakeKubeServer,
) -> None:
    """other-team's runtime `shop` uses namespace `shop` on cluster-dev, not created yet. A
    runtime of nautes-labs pushed to Git with namespace `shop` must not be deployed there: the
    namespace would become nautes-labs' and other-team's runtime could never deploy (or, once
    deployed first, nautes-labs's account administers it). One pass sees both runtimes (both
    on cluster-dev): the product that has it (here: made first) keeps it."""
    other = make_product("other-team", group_id=7)
    add_environment(other, "env-other", "cluster-dev")
    add_runtime(other, "shop", environment="env-other", namespaces=["shop"])
    product = dr_dev_index()
    add_runtime(product, "dr-squat", namespaces=["shop"], path="m/squat")
    assert deploy().status == "succeeded"
    record = runtime_pass(product, "dr-squat")
    assert record.pass_result == "conflict", "deployed into another product's runtime namespace"
    assert (
        "namespace shop is used by a runtime of another product on this cluster"
        in record.pass_message
    )
    assert "other-team" not in record.pass_message and "product-7" not in record.pass_message
    shop = cluster_dev.get(("", "namespaces"), "", "shop")
    assert shop is None or shop["metadata"]["labels"][OWNER] == "product-7"
    assert cluster_dev.get(("argoproj.io", "applications"), "argocd", "dr-squat") is None
    in_shop = [obj for key, obj in owned(cluster_dev).items() if key[1] == "shop"]
    assert not [obj for obj in in_shop if obj["metadata"]["labels"][OWNER] == "product-12"]
    # Once created by other-team, it stays other-team's in every later pass.
    assert deploy().status == "succeeded"
    assert runtime_pass(product, "dr-squat").pass_result == "conflict"


def test_the_deployer_does_not_take_a_namespace_another_products_pipeline_runtime_uses(
    cluster_dev: FakeKubeServer,
) -> None:
    """The same for a namespace a pipeline runtime of another product uses on the cluster (the
    former deployer counted both kinds, whatever the index said)."""
    other = make_product("other-team", group_id=7)
    add_environment(other, "env-other", "cluster-dev")
    ProjectPipelineRuntime.objects.create(
        product=other,
        name="ci",
        path="pipeline-runtimes/ci.yaml",
        project="shop",
        destination_environment="env-other",
        destination_namespace="ci",
    )
    product = dr_dev_index()
    add_runtime(product, "dr-squat", namespaces=["ci"], path="m/squat")
    assert deploy().status == "succeeded"
    labels = (cluster_dev.get(("", "namespaces"), "", "ci") or {"metadata": {}})["metadata"]
    assert (labels.get("labels") or {}).get(OWNER) != "product-12"
    record = runtime_pass(product, "dr-squat")
    assert record.pass_result == "conflict"
    assert "namespace ci is used by a runtime of another product" in record.pass_message


def test_an_older_product_does_not_take_a_namespace_a_newer_products_runtime_uses(
    cluster_dev: FakeKubeServer,
) -> None:
    """nautes-labs (made first) and other-team both have a runtime naming `shop`, both left
    sound by the index (two syncs racing, say). The former deployer deployed neither into
    `shop` until the index flagged one; a pass must not hand it to whichever is older."""
    product = dr_dev_index()
    add_runtime(product, "dr-squat", namespaces=["shop"], path="m/squat")
    other = make_product("other-team", group_id=7)
    add_environment(other, "env-other", "cluster-dev")
    add_runtime(other, "shop", environment="env-other", namespaces=["shop"])
    assert product.pk < other.pk
    assert deploy().status == "succeeded"
    shop = cluster_dev.get(("", "namespaces"), "", "shop")
    assert shop is None or shop["metadata"]["labels"][OWNER] != "product-12"
    assert runtime_pass(product, "dr-squat").pass_result == "conflict"


def test_a_flagged_squatter_blocks_neither_the_owner_nor_its_redeploys(
    cluster_dev: FakeKubeServer,
) -> None:
    """The same rule must not let the pushed runtime (flagged by the index) lock the product
    that uses the namespace first out of it."""
    other = make_product("other-team", group_id=7)
    add_environment(other, "env-other", "cluster-dev")
    squat = add_runtime(other, "squat", environment="env-other", namespaces=["dr-dev"])
    squat.problems = ["verify deployment runtime failed, err: namespaces [dr-dev] is used by x"]
    squat.save()
    product = dr_dev_index()
    assert deploy().status == "succeeded"
    assert deploy().status == "succeeded"
    assert runtime_pass(product, "dr-dev").pass_result in ("applied", "unchanged")
    labels = cluster_dev.get(("", "namespaces"), "", "dr-dev")["metadata"]["labels"]
    assert labels[OWNER] == "product-12"
    flagged = runtime_pass(other, "squat")
    assert flagged.pass_result == "refused" and "breaks rules" in flagged.pass_message
    assert cluster_dev.get(("argoproj.io", "applications"), "argocd", "squat") is None


# ---- Kubeconfigs ------------------------------------------------------------------------
class _Listener:
    """A TCP listener on 127.0.0.1 that records what a client sends it, then hangs up."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(5)
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        try:
            while True:
                conn, _ = self.sock.accept()
                with conn:
                    conn.settimeout(2)
                    with contextlib.suppress(OSError):
                        self.received += conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            return

    def close(self) -> None:
        self.sock.close()


def _with_proxy(text: str, proxy: str) -> str:
    doc = yaml.safe_load(text)
    doc["clusters"][0]["cluster"]["proxy-url"] = proxy
    return yaml.safe_dump(doc)


def test_a_kubeconfig_proxy_never_receives_the_token(fake_kube: FakeKubeServer) -> None:
    """`proxy-url` in the kept cluster entry sends every request (and its bearer token) to an
    address the portal never shows: the one-address rule of #12 finding 6, by another key."""
    listener = _Listener()
    try:
        text = _with_proxy(fake_kube.kubeconfig(token="review-secret-token"), listener.url)
        try:
            with KubeClient.from_kubeconfig(text, timeout=3) as client:
                client.version()
        except (ClusterError, KubeconfigInvalid):
            pass
    finally:
        listener.close()
    assert b"review-secret-token" not in listener.received, listener.received[:200]
    assert listener.received == b"", "the portal connected to the kubeconfig's proxy"


def test_registration_does_not_keep_a_kubeconfig_proxy() -> None:
    """What goes to Vault is only the context, its cluster with `api_server`, and its user."""
    text = _with_proxy(decode_kubeconfig(kubeconfig()), "http://127.0.0.1:9")
    try:
        kept = normalize_kubeconfig(text, api_server="https://127.0.0.1:1")
    except RuleViolation:
        return  # refused: fine
    assert "proxy-url" not in yaml.safe_load(kept)["clusters"][0]["cluster"]


def test_an_update_of_api_server_without_a_kubeconfig_moves_where_the_token_goes(
    admin_api: APIClient,
    secret_store: Any,
    fake_kube_factory: Any,
) -> None:
    """A cluster update may keep Vault's kubeconfig; if it changes `api_server`, the portal
    then shows the new address while every client still talks to the old one."""
    first, second = fake_kube_factory(count=2, argocd_installed=True)
    body = {
        "api_server": first.url,
        "cluster_kind": "kubernetes",
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": "deployment",
        "kubeconfig": first.kubeconfig(),
    }
    response = admin_api.post("/api/v1/clusters/cluster-dev", body, format="json")
    assert response.status_code == 200, response.json()
    moved = {k: v for k, v in body.items() if k != "kubeconfig"} | {"api_server": second.url}
    response = admin_api.post("/api/v1/clusters/cluster-dev", moved, format="json")
    if response.status_code != 200:
        return  # refusing the change without a kubeconfig is as good
    cluster = Cluster.objects.get(name="cluster-dev")
    first.clear_requests()
    cluster_check_start(cluster=cluster, actor=None, inline=True)
    shown = cluster.api_server
    assert shown == second.url
    assert first.requests == [], "the portal shows one address and talks to another"


# ---- Another product's repository id ----------------------------------------------------
# A code repository is `repo-<id of its own Git project>`; Vault paths, deploy-key titles and
# Argo CD secrets are keyed by that name tenant-wide. A file pushed to one product's
# `default.project` may name another product's project id: the sync checks the claim against
# the group's projects, and only a verified row gets keys (#12).

API = "nautes.resource.nautes.io/v1alpha1"


def _push(repo: Any, documents: dict[str, dict[str, Any]]) -> None:
    repo.commit(
        changes={path: yaml.safe_dump(doc).encode() for path, doc in documents.items()},
        expected_parent=repo.head(),
        message="pushed outside the portal",
        author=Author(name="Mallory", email="mallory@example.com"),
    )


def _claim(product: Product, pid: int, repo_name: str, url: str) -> dict[str, dict[str, Any]]:
    """A CodeRepo `repo-<pid>` named `repo_name`, and a runtime deploying from it."""
    name = f"repo-{pid}"
    return {
        f"code-repos/{name}/{name}.yaml": {
            "apiVersion": API,
            "kind": "CodeRepo",
            "metadata": {"name": name},
            "spec": {
                "codeRepoProvider": "gitlab",
                "product": product.resource_name,
                "project": "api-server",
                "repoName": repo_name,
                "url": url,
                "deploymentRuntime": True,
                "pipelineRuntime": False,
                "webhook": {"events": ["push_events"]},
            },
        },
        "runtimes/dr-steal.yaml": {
            "apiVersion": API,
            "kind": "DeploymentRuntime",
            "metadata": {"name": "dr-steal"},
            "spec": {
                "product": product.resource_name,
                "projectsRef": ["api-server"],
                "manifestSource": {"codeRepo": name, "targetRevision": "HEAD", "path": "m"},
                "destination": {"environment": "env-dev", "namespaces": ["dr-steal"]},
            },
        },
    }


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.fixture
def other_team(alice_api: APIClient, cluster_dev: FakeKubeServer, git_root: Any) -> Any:
    """other-team made through the API (local Git), with env-dev on cluster-dev and a project;
    returns its `default.project` repository."""
    base = "/api/v1/products/other-team"
    _ok(alice_api.post(base, {"git": {"gitlab": {"visibility": "private"}}}, format="json"))
    env = {"cluster": "cluster-dev", "env_type": "development"}
    _ok(alice_api.post(f"{base}/environments/env-dev", env, format="json"))
    _ok(alice_api.post(f"{base}/projects/api-server", {"language": "Go"}, format="json"))
    host = LocalGitHost(git_root)
    return host.repository(host.get_project("other-team", "default.project"))


def test_a_code_repo_named_after_another_products_project_gets_no_deploy_key(
    secret_store: Any, cluster_dev: FakeKubeServer, other_team: Any
) -> None:
    """other-team pushes `repo-34` (nautes-labs' api-server, its key in Vault) with
    nautes-labs' URL, and a runtime deploying from it. The sync flags the claim; the deploy
    hands nautes-labs' deploy key to nobody."""
    store_deploy_key(secret_store)
    dr_dev_index()  # nautes-labs: repo-34 (verified), its deploy key in Vault
    # The cluster as registration records it, so that the runtime breaks no other rule (the
    # reconciler holds a runtime whose file breaks one, which would prove nothing here).
    Cluster.objects.filter(name="cluster-dev").update(
        manifest={"spec": {"usage": "worker", "workerType": "deployment"}}
    )
    other = Product.objects.get(name="other-team")
    _push(other_team, _claim(other, 34, "stolen", SSH_URL))
    assert product_sync(product=other, repo=other_team) is True
    stolen = CodeRepo.objects.get(product=other, name="repo-34")
    assert stolen.git_project_id is None
    assert any(
        "claims Git project 34, but other-team/stolen does not exist" in p for p in stolen.problems
    ), stolen.problems
    assert deploy().status == "succeeded"
    # nautes-labs' own runtime gets its Secret repo-34 (its key, its project); nothing of
    # other-team carries that key.
    secrets = [obj for key, obj in owned(cluster_dev).items() if key[0] == "secrets"]
    for secret in secrets:
        data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
        if data.get("sshPrivateKey") == DEPLOY_KEY:
            assert secret["metadata"]["labels"][OWNER] == "product-12", secret["metadata"]
            assert data["project"] == "product-12", "nautes-labs' deploy key went to other-team"
    assert not [s for s in secrets if s["metadata"]["labels"][OWNER] == other.resource_name]
    record = runtime_pass(other, "dr-steal")
    assert record.pass_result == "refused", record.pass_message
    assert "code repository repo-34 is not verified" in record.pass_message
    # No Application of other-team names nautes-labs' repository (Argo CD would find its
    # credentials by URL).
    assert cluster_dev.get(("argoproj.io", "applications"), "argocd", "dr-steal") is None


def test_a_code_repo_of_its_own_project_is_verified_by_the_sync(
    other_team: Any, alice_api: APIClient, git_root: Any
) -> None:
    """The same check passes what is true: a code repository saved through the API is
    verified, and one pushed with its own project's id too. One naming its own project under
    another project's id is flagged."""
    other = Product.objects.get(name="other-team")
    body = coderepo_body("shop", project="api-server")
    _ok(alice_api.post("/api/v1/products/other-team/coderepos/shop", body, format="json"))
    shop = CodeRepo.objects.get(product=other, repo_name="shop")
    assert shop.name == f"repo-{shop.git_project_id}"
    # A row indexed before verification existed is verified by the next sync, no commit needed.
    CodeRepo.objects.filter(pk=shop.pk).update(git_project_id=None)
    assert product_sync(product=other, repo=other_team) is False
    shop.refresh_from_db()
    assert shop.name == f"repo-{shop.git_project_id}" and shop.problems == []
    # Another file claiming `shop`: not indexed (one repository, one row), the true one kept.
    wrong = shop.git_project_id + 1000
    _push(other_team, _claim(other, wrong, "shop", "git@example.com:x.git"))
    assert product_sync(product=other, repo=other_team) is True
    assert not CodeRepo.objects.filter(product=other, name=f"repo-{wrong}").exists()
    other.refresh_from_db()
    assert [p["message"] for p in other.sync_problems] == [
        f"CodeRepo repo-{wrong} is not indexed: repoName 'shop' is already CodeRepo "
        f"{shop.name}'s (code-repos/{shop.name}/{shop.name}.yaml)"
    ]
    shop.refresh_from_db()
    assert shop.name == f"repo-{shop.git_project_id}"
    # A project of the group (made in Git by a member) claimed under another id: flagged.
    tools = LocalGitHost(git_root).ensure_project(
        namespace_path="other-team", path="tools", name="tools", visibility="private"
    )
    documents = _claim(other, wrong, "tools", "git@example.com:x.git")
    documents.pop("runtimes/dr-steal.yaml")
    _push(other_team, documents)  # the same file, now naming `tools`
    product_sync(product=other, repo=other_team)
    row = CodeRepo.objects.get(product=other, name=f"repo-{wrong}")
    assert row.git_project_id is None
    assert any(
        f"claims Git project {wrong}, but other-team/tools is project {tools.id}" in p
        for p in row.problems
    ), row.problems


def _keys(pid: int, *extra: DeployKeyInfo) -> list[DeployKeyInfo]:
    own = [
        DeployKeyInfo(10 + pid, f"repo-{pid}-readonly", False),
        DeployKeyInfo(20 + pid, f"repo-{pid}-readwrite", True),
    ]
    return own + list(extra)


def test_a_code_repo_named_after_another_products_project_changes_no_key_there() -> None:
    """GitLab mode, the index as a sync leaves such a file: other-team's authorization refresh
    leaves nautes-labs' project 3 alone (no push access for other-team's key, nautes-labs' key
    not revoked); other-team's own repository 5 still takes part."""
    labs = make_product("nautes-labs", group_id=12)
    for pid, name in ((3, "api-server"), (4, "web")):
        add_repo(labs, pid, name)
    other = make_product("other-team", group_id=7)
    add_repo(other, 3, "stolen", verified=False)  # the pushed file, as the sync leaves it
    add_repo(other, 5, "shop")
    repos, bindings = read_index("other-team")
    assert [repo.name for repo in repos] == ["repo-5"]
    enabled = {3: _keys(3, DeployKeyInfo(24, "repo-4-readwrite", True)), 5: _keys(5)}
    plan = plan_authorization(repos, bindings, enabled)
    touched = [entry for entry in plan.enable + plan.revoke if entry[0] == 3]
    assert touched == [], f"other-team's refresh changes nautes-labs' project 3: {touched}"


def test_the_sync_records_the_clone_urls_git_gives_for_a_verified_repository(
    other_team: Any, alice_api: APIClient, git_root: Any
) -> None:
    """The clone URLs handed to Argo CD are the Git host's: a row verified before they were
    recorded gets them at the next sync, without a commit; a pushed `spec.url` does not."""
    other = Product.objects.get(name="other-team")
    body = coderepo_body("shop", project="api-server")
    _ok(alice_api.post("/api/v1/products/other-team/coderepos/shop", body, format="json"))
    shop = CodeRepo.objects.get(product=other, repo_name="shop")
    expected = (shop.ssh_url, shop.http_url)
    assert all(expected)
    CodeRepo.objects.filter(pk=shop.pk).update(ssh_url="", http_url="", url="ssh://evil/x.git")
    assert product_sync(product=other, repo=other_team) is False
    shop.refresh_from_db()
    assert (shop.ssh_url, shop.http_url) == expected
    from deployments.deployer.planning import repo_url

    assert repo_url(shop) == shop.ssh_url
