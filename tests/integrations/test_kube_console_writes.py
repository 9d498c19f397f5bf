"""The Kubernetes adapter's writes for the console's actions (#15): a JSON merge patch with its
precondition, and deleting exactly the pod that was checked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nautes_portal.integrations.kube import ClusterConflict, KubeClient
from tests.deployments.workloads import pod, serve_workloads  # noqa: F401
from tests.fakes.kube_server import FakeKubeServer

CONFIG_MAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "settings", "namespace": "default", "annotations": {"a": "1"}},
    "data": {"mode": "fast", "level": "3"},
}


@pytest.fixture
def cluster(fake_kube: FakeKubeServer) -> Iterator[KubeClient]:
    with KubeClient.from_kubeconfig(fake_kube.kubeconfig(), timeout=2) as kube_:
        yield kube_


def test_a_merge_patch_changes_only_what_it_names(
    fake_kube: FakeKubeServer, cluster: KubeClient
) -> None:
    stored = fake_kube.create(CONFIG_MAP)
    patch: dict[str, Any] = {
        "metadata": {"uid": stored["metadata"]["uid"], "annotations": {"b": "2"}},
        "data": {"level": None, "extra": "x"},
    }
    written = cluster.patch_object("", "v1", "configmaps", "default", "settings", patch)
    assert written is not None
    assert written["data"] == {"mode": "fast", "extra": "x"}
    assert written["metadata"]["annotations"] == {"a": "1", "b": "2"}
    assert fake_kube.requests[-1].method == "PATCH"
    assert fake_kube.requests[-1].content_type == "application/merge-patch+json"
    assert cluster.patch_object("", "v1", "configmaps", "default", "gone", patch) is None


def test_a_stale_resource_version_in_the_patch_is_a_conflict(
    fake_kube: FakeKubeServer, cluster: KubeClient
) -> None:
    stored = fake_kube.create(CONFIG_MAP)
    fake_kube.update_stored("", "configmaps", "default", "settings", {"data": {"mode": "slow"}})
    stale = {"metadata": {"resourceVersion": stored["metadata"]["resourceVersion"]}, "data": {}}
    with pytest.raises(ClusterConflict) as conflict:
        cluster.patch_object("", "v1", "configmaps", "default", "settings", stale)
    assert conflict.value.reason == "CLUSTER_CONFLICT"
    assert fake_kube.get(("", "configmaps"), "default", "settings")["data"]["mode"] == "slow"  # type: ignore[index]


def test_delete_pod_deletes_only_the_pod_checked(
    fake_kube: FakeKubeServer,
    cluster: KubeClient,
    serve_workloads: None,  # noqa: F811
) -> None:
    first = fake_kube.create(pod("default", "worker-0"))
    assert cluster.delete_pod("default", "worker-0", uid=first["metadata"]["uid"]) is True
    second = fake_kube.create(pod("default", "worker-0"))  # recreated, another uid
    assert cluster.delete_pod("default", "worker-0", uid=first["metadata"]["uid"]) is False
    assert fake_kube.get(("", "pods"), "default", "worker-0") == second
    assert cluster.delete_pod("default", "absent", uid="x") is False
