"""The cluster index never moves back to an older tenant commit (as the product index).

The API servers are closed loopback ports: the health check each registration queues fails at
once instead of waiting for an address that may not answer.

The interleavings are arranged deterministically with the tenant row's lock on PostgreSQL:
this test's thread holds it while another thread reaches it, changes Git and the index
meanwhile, then lets go.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import connection, transaction

from clusters.models import Cluster, TenantRepository
from clusters.services import cluster_save, tenant_repository, tenant_sync
from nautes_portal.errors import Conflict
from nautes_portal.integrations.config_repo import Author
from nautes_portal.integrations.git_local import LocalGitHost
from nautes_portal.yaml_io import dump_yaml
from tests.api.helpers import DEPLOYMENT_WORKER, kubeconfig
from tests.products.test_concurrency import in_thread, wait_until_it_waits_for_a_lock

pytestmark = pytest.mark.django_db(transaction=True)


def body(server: str) -> dict[str, Any]:
    return {**DEPLOYMENT_WORKER, "api_server": server, "kubeconfig": kubeconfig(server)}


def save(name: str, server: str, actor: Any, host: LocalGitHost, secrets: Any) -> Any:
    return cluster_save(name=name, body=body(server), actor=actor, host=host, secrets=secrets)


def push_api_server(host: LocalGitHost, server: str) -> str:
    """A push to the tenant repository from outside the portal: cluster-a moves to `server`."""
    repo = tenant_repository(host)
    path = "nautes/overlays/production/clusters/cluster-a.yaml"
    document = yaml.safe_load(repo.read_file(repo.head(), path))
    document["spec"]["apiServer"] = server
    return repo.commit(
        changes={path: dump_yaml(document)},
        expected_parent=repo.head(),
        message="edited outside the portal",
        author=Author(name="someone", email="someone@example.com"),
    )


def index() -> dict[str, str]:
    return dict(Cluster.objects.values_list("name", "api_server"))


@pytest.fixture
def tenant(git_root: Path, admin_user: Any, secret_store: Any) -> LocalGitHost:
    if connection.vendor != "postgresql":
        pytest.skip("arranges the interleaving with PostgreSQL row locks")
    host = LocalGitHost(git_root)
    save("cluster-a", "https://127.0.0.1:1", admin_user, host, secret_store)
    return host


def lock_tenant_row() -> None:
    TenantRepository.objects.select_for_update().get()


def test_a_tenant_sync_that_read_an_older_head_does_not_move_the_index_back(
    tenant: LocalGitHost, admin_user: Any, secret_store: Any
) -> None:
    pushed = push_api_server(tenant, "https://127.0.0.9:1")  # a sync now has work
    with transaction.atomic():
        lock_tenant_row()
        thread, outcome = in_thread(lambda: tenant_sync(repo=tenant_repository(tenant)))
        # The sync read HEAD (`pushed`) and waits to write the index.
        wait_until_it_waits_for_a_lock(outcome)
        with pytest.raises(Conflict):  # behind Git: catches up with `pushed` first
            save("cluster-b", "https://127.0.0.2:1", admin_user, tenant, secret_store)
        save("cluster-b", "https://127.0.0.2:1", admin_user, tenant, secret_store)
    thread.join()
    assert "error" not in outcome, outcome

    head = tenant_repository(tenant).head()
    assert head != pushed
    assert TenantRepository.objects.get().head_sha == head
    assert index() == {"cluster-a": "https://127.0.0.9:1", "cluster-b": "https://127.0.0.2:1"}


def test_a_cluster_save_whose_commit_a_sync_already_passed_does_not_move_the_index_back(
    tenant: LocalGitHost, admin_user: Any, secret_store: Any
) -> None:
    repo = tenant_repository(tenant)
    with transaction.atomic():
        lock_tenant_row()
        thread, outcome = in_thread(
            lambda: save("cluster-b", "https://127.0.0.2:1", admin_user, tenant, secret_store)
        )
        # The save committed and waits to update the index.
        wait_until_it_waits_for_a_lock(outcome)
        saved = repo.head()
        pushed = push_api_server(tenant, "https://127.0.0.9:1")  # on top of the save
        assert tenant_sync(repo=repo)
    thread.join()
    assert "error" not in outcome, outcome
    assert outcome["value"].commit_sha == saved

    assert TenantRepository.objects.get().head_sha == pushed
    assert index() == {"cluster-a": "https://127.0.0.9:1", "cluster-b": "https://127.0.0.2:1"}
