"""The Kubernetes adapter's console reads (#15): pod logs and field selectors, over HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from nautes_portal.integrations.kube import ClusterError, ClusterUnreachable, KubeClient
from tests.fakes.kube_server import FakeKubeServer

NS = "shop"


@pytest.fixture
def pod(fake_kube: FakeKubeServer) -> str:
    fake_kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    created = fake_kube.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": NS},
            "spec": {"containers": [{"name": "app", "image": "nginx"}, {"name": "proxy"}]},
        }
    )
    return str(created["metadata"]["name"])


@pytest.fixture
def cluster(fake_kube: FakeKubeServer) -> Iterator[KubeClient]:
    with KubeClient.from_kubeconfig(fake_kube.kubeconfig(), timeout=2) as client:
        yield client


def test_pod_log_reads_the_tail_of_a_container(
    fake_kube: FakeKubeServer, cluster: KubeClient, pod: str
) -> None:
    fake_kube.set_pod_log(NS, pod, "app", "".join(f"line {i} é\n" for i in range(20)))
    assert cluster.pod_log(NS, pod, container="app", tail_lines=2) == "line 18 é\nline 19 é\n"
    assert cluster.pod_log(NS, pod, container="app", tail_lines=20, limit_bytes=7) == "line 0 "
    request = fake_kube.requests[-1]
    assert request.path == f"/api/v1/namespaces/{NS}/pods/{pod}/log"
    assert request.query == {"container": ["app"], "tailLines": ["20"], "limitBytes": ["7"]}


def test_pod_log_of_the_previous_run(
    fake_kube: FakeKubeServer, cluster: KubeClient, pod: str
) -> None:
    fake_kube.crash_loop(NS, pod, "app")
    fake_kube.set_pod_log(NS, pod, "app", "panic: boom\n", previous=True)
    assert cluster.pod_log(NS, pod, container="app", tail_lines=10, previous=True) == (
        "panic: boom\n"
    )
    assert fake_kube.requests[-1].query["previous"] == ["true"]


def test_a_cut_multibyte_character_does_not_break_the_read(
    fake_kube: FakeKubeServer, cluster: KubeClient, pod: str
) -> None:
    fake_kube.set_pod_log(NS, pod, "app", "é\n")
    assert cluster.pod_log(NS, pod, container="app", tail_lines=1, limit_bytes=1) == "\ufffd"


def test_refusals_are_cluster_errors_and_the_log_text_is_never_logged(
    fake_kube: FakeKubeServer, cluster: KubeClient, pod: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake_kube.set_pod_log(NS, pod, "app", "user-output-7f3a\n")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ClusterError) as refused:
        cluster.pod_log(NS, pod, container="nope", tail_lines=5)
    assert refused.value.reason == "CLUSTER_REJECTED"
    assert f"container nope is not valid for pod {pod}" in refused.value.message
    cluster.pod_log(NS, pod, container="app", tail_lines=5)
    assert "user-output-7f3a" not in caplog.text


def test_an_unreachable_cluster_is_a_clear_error(fake_kube: FakeKubeServer, pod: str) -> None:
    with KubeClient.from_kubeconfig(fake_kube.kubeconfig(), timeout=1) as client:
        fake_kube.stop()
        with pytest.raises(ClusterUnreachable) as failed:
            client.pod_log(NS, pod, container="app", tail_lines=5)
    assert failed.value.status == 503 and "could not be reached" in failed.value.message


def test_list_objects_with_a_field_selector(
    fake_kube: FakeKubeServer, cluster: KubeClient, pod: str
) -> None:
    fake_kube.crash_loop(NS, pod, "app")
    events: list[dict[str, Any]] = cluster.list_objects(
        "", "v1", "events", NS, field_selector=f"involvedObject.name={pod},type=Warning"
    )
    assert [e["reason"] for e in events] == ["BackOff"]
    assert events[0]["kind"] == "Event" and events[0]["apiVersion"] == "v1"
    assert fake_kube.requests[-1].query["fieldSelector"] == [
        f"involvedObject.name={pod},type=Warning"
    ]
