"""Cluster manifests, the API reply and the clusters kustomization."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
import yaml

from clusters.manifests import (
    CLUSTERS_DIR,
    cluster_from_manifest,
    cluster_from_yaml,
    cluster_manifest,
    cluster_manifest_yaml,
    cluster_path,
    cluster_reply,
    clusters_kustomization,
)
from clusters.rules import cluster_input_from_request
from nautes_portal.errors import RuleViolation
from nautes_portal.yaml_io import dump_yaml
from tests.clusters.test_rules import EXAMPLES, HOST_BODY, VIRTUAL_PIPELINE_BODY
from tests.crd import validate_against_crd

CRD_FILE = "nautes.resource.nautes.io_clusters.yaml"


def example_spec(name: str) -> dict[str, Any]:
    """The parsed spec of one of the §4.4 examples."""
    return cluster_input_from_request(name, copy.deepcopy(EXAMPLES[name])).spec


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_render_manifests_valid_for_the_crd(name: str) -> None:
    manifest = cluster_manifest(name, example_spec(name))
    validate_against_crd(manifest, CRD_FILE)
    # The YAML bytes hold the same document.
    assert yaml.safe_load(cluster_manifest_yaml(name, example_spec(name))) == manifest


def test_crd_lookup_by_kind_finds_the_cluster_crd() -> None:
    validate_against_crd(cluster_manifest("cluster-host", example_spec("cluster-host")))


def test_the_crd_check_really_checks() -> None:
    manifest = cluster_manifest("cluster-host", example_spec("cluster-host"))
    manifest["spec"]["clusterKind"] = "openshift"
    with pytest.raises(jsonschema.ValidationError):
        validate_against_crd(manifest, CRD_FILE)


def test_host_manifest_layout() -> None:
    manifest = cluster_manifest("cluster-host", example_spec("cluster-host"))
    assert manifest == {
        "apiVersion": "nautes.resource.nautes.io/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": "cluster-host", "namespace": "nautes"},
        "spec": {
            "apiServer": "https://127.0.0.1:6443",
            "clusterKind": "kubernetes",
            "clusterType": "physical",
            "usage": "host",
            "primaryDomain": "8.217.50.114.nip.io",
            "componentsList": {
                "gateway": {
                    "name": "traefik",
                    "namespace": "traefik",
                    "additions": {"httpNodePort": "30080", "httpsNodePort": "30443"},
                },
                "oauthProxy": {"name": "oauth2-proxy", "namespace": "oauth2-proxy"},
                "secretManagement": {"name": "vault", "namespace": "vault"},
            },
        },
    }


def test_yaml_keys_are_sorted_like_upstream() -> None:
    text = cluster_manifest_yaml("cluster-host", example_spec("cluster-host")).decode()
    top_level = [line.split(":")[0] for line in text.splitlines() if not line.startswith(" ")]
    assert top_level == ["apiVersion", "kind", "metadata", "spec"]
    spec_text = text.split("\nspec:\n", 1)[1]
    spec_keys = [
        line.strip().split(":")[0]
        for line in spec_text.splitlines()
        if line.startswith("  ") and not line.startswith("   ")
    ]
    assert spec_keys[0] == "apiServer"
    assert spec_keys == sorted(spec_keys)
    assert "kubeconfig" not in text


def test_the_previewed_cluster_file_is_the_committed_one() -> None:
    """The registration wizard previews `cluster_manifest_yaml`; `cluster_save` commits
    `dump_yaml(cluster_manifest(...))`: one renderer, so an empty string is `""` (as go-yaml
    writes it) and non-ASCII text stays readable in both."""
    spec = example_spec("cluster-host")
    spec["componentsList"]["gateway"]["additions"].update({"note": "", "owner": "équipe"})
    data = cluster_manifest_yaml("cluster-host", spec)
    assert data == dump_yaml(cluster_manifest("cluster-host", spec))
    assert 'note: ""' in data.decode()
    assert "owner: équipe" in data.decode()


def test_omitempty_fields_are_left_out() -> None:
    spec = example_spec("vc-pipeline")
    spec["reservedNamespacesAllowedProducts"] = {}
    spec["productAllowedClusterResources"] = None
    spec["componentsList"]["certManagement"] = None
    rendered = cluster_manifest("vc-pipeline", spec)["spec"]
    assert "reservedNamespacesAllowedProducts" not in rendered
    assert "productAllowedClusterResources" not in rendered
    assert "certManagement" not in rendered["componentsList"]
    assert "additions" not in rendered["componentsList"]["eventListener"]
    assert rendered["hostCluster"] == "cluster-host"
    assert rendered["workerType"] == "pipeline"


def test_empty_scalar_fields_are_left_out_but_required_ones_stay() -> None:
    spec = example_spec("cluster-host")
    spec["primaryDomain"] = ""
    spec["clusterKind"] = ""
    rendered = cluster_manifest("cluster-host", spec)["spec"]
    assert "primaryDomain" not in rendered
    assert "hostCluster" not in rendered
    assert "workerType" not in rendered
    assert rendered["clusterKind"] == "kubernetes"


def test_allow_lists_are_rendered() -> None:
    rendered = cluster_manifest(
        "physical-worker-deployment", example_spec("physical-worker-deployment")
    )["spec"]
    assert rendered["reservedNamespacesAllowedProducts"]["vault"] == ["demo-quickstart"]
    assert rendered["productAllowedClusterResources"] == {
        "demo-quickstart": [
            {"kind": "ClusterRole", "group": "authorization.k8s.io"},
            {"kind": "ClusterRoleBinding", "group": "authorization.k8s.io"},
        ]
    }


def test_round_trip_keeps_the_spec() -> None:
    manifest = cluster_manifest("vc-pipeline", example_spec("vc-pipeline"))
    name, spec = cluster_from_manifest(manifest)
    assert name == "vc-pipeline"
    assert spec == manifest["spec"]
    assert cluster_manifest(name, spec) == manifest


def test_unknown_fields_survive_a_round_trip() -> None:
    manifest = cluster_manifest("cluster-host", example_spec("cluster-host"))
    manifest["spec"]["middlewareProvider"] = {"type": "x", "cache": {"redis": []}}
    manifest["spec"]["componentsList"]["gateway"]["installPath"] = "custom"
    manifest["status"] = {"conditions": []}
    name, spec = cluster_from_manifest(manifest)
    rendered = cluster_manifest(name, spec)
    assert rendered["spec"]["middlewareProvider"] == {"type": "x", "cache": {"redis": []}}
    assert rendered["spec"]["componentsList"]["gateway"]["installPath"] == "custom"


def test_reading_does_not_share_state_with_the_document() -> None:
    manifest = cluster_manifest("cluster-host", example_spec("cluster-host"))
    _, spec = cluster_from_manifest(manifest)
    spec["componentsList"]["gateway"]["additions"]["httpNodePort"] = "1"
    assert manifest["spec"]["componentsList"]["gateway"]["additions"]["httpNodePort"] == "30080"


def test_cluster_from_yaml_reads_a_file() -> None:
    data = cluster_manifest_yaml("cluster-host", example_spec("cluster-host"))
    name, spec = cluster_from_yaml(data)
    assert name == "cluster-host"
    assert spec["usage"] == "host"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "the Cluster manifest must be a YAML mapping"),
        ({"kind": "Environment"}, "not a Cluster manifest: its kind is 'Environment'"),
        (
            {"kind": "Cluster", "apiVersion": "cluster.x-k8s.io/v1beta1"},
            "not a Cluster manifest: its apiVersion is 'cluster.x-k8s.io/v1beta1', "
            "expected nautes.resource.nautes.io/v1alpha1",
        ),
        (
            {"kind": "Cluster", "apiVersion": "nautes.resource.nautes.io/v1alpha1"},
            "the Cluster manifest has no metadata.name",
        ),
        (
            {
                "kind": "Cluster",
                "apiVersion": "nautes.resource.nautes.io/v1alpha1",
                "metadata": {"name": "c1"},
                "spec": "x",
            },
            "the spec of Cluster c1 must be a mapping",
        ),
    ],
)
def test_cluster_from_manifest_refuses_other_documents(doc: Any, message: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        cluster_from_manifest(doc)
    assert caught.value.message == message


def test_cluster_from_yaml_refuses_bad_yaml() -> None:
    with pytest.raises(RuleViolation, match=r"the Cluster file is not valid YAML \(line \d+\)"):
        cluster_from_yaml("kind: Cluster\nspec: [\n")


def test_reply_has_the_upstream_shape() -> None:
    reply = cluster_reply("cluster-host", example_spec("cluster-host"))
    assert reply == {
        "name": "cluster-host",
        "cluster_kind": "kubernetes",
        "cluster_type": "physical",
        "usage": "host",
        "host_cluster": "",
        "primary_domain": "8.217.50.114.nip.io",
        "worker_type": "",
        "api_server": "https://127.0.0.1:6443",
        "components_list": {
            "multi_tenant": None,
            "cert_management": None,
            "secret_sync": None,
            "gateway": {
                "name": "traefik",
                "namespace": "traefik",
                "additions": {"httpNodePort": "30080", "httpsNodePort": "30443"},
            },
            "deployment": None,
            "progressive_delivery": None,
            "pipeline": None,
            "event_listener": None,
        },
        "reserved_namespaces_allowed_products": {},
        "product_allowed_cluster_resources": {},
    }


def test_reply_fills_event_listener() -> None:
    reply = cluster_reply("vc-pipeline", example_spec("vc-pipeline"))
    assert reply["components_list"]["event_listener"] == {
        "name": "argo-events",
        "namespace": "argo-events",
        "additions": {},
    }
    assert reply["host_cluster"] == "cluster-host"
    assert reply["reserved_namespaces_allowed_products"]["hnc-system"] == ["demo"]


def test_reply_never_contains_the_kubeconfig() -> None:
    cluster = cluster_input_from_request("cluster-host", copy.deepcopy(HOST_BODY))
    reply = cluster_reply(cluster.name, cluster.spec)
    assert "kubeconfig" not in repr(reply)
    assert HOST_BODY["kubeconfig"] not in repr(reply)


def test_reply_tolerates_a_broken_spec() -> None:
    reply = cluster_reply(
        "c1",
        {
            "usage": 1,
            "componentsList": {"gateway": "traefik"},
            "reservedNamespacesAllowedProducts": {"a": "b"},
            "productAllowedClusterResources": {"p": [1, {"kind": "K", "group": "g"}]},
        },
    )
    assert reply["usage"] == ""
    assert reply["components_list"]["gateway"] is None
    assert reply["reserved_namespaces_allowed_products"] == {"a": []}
    assert reply["product_allowed_cluster_resources"] == {"p": [{"kind": "K", "group": "g"}]}


def test_cluster_path() -> None:
    assert CLUSTERS_DIR == "nautes/overlays/production/clusters"
    assert cluster_path("vc1") == "nautes/overlays/production/clusters/vc1.yaml"


def test_kustomization_lists_sorted_cluster_files() -> None:
    data = clusters_kustomization(["vc1", "cluster-host", "vc1", "a"])
    assert data == (
        b"apiVersion: kustomize.config.k8s.io/v1beta1\n"
        b"kind: Kustomization\n"
        b"resources:\n"
        b"- a.yaml\n"
        b"- cluster-host.yaml\n"
        b"- vc1.yaml\n"
    )


def test_empty_kustomization_has_no_resources_key() -> None:
    assert yaml.safe_load(clusters_kustomization([])) == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
    }


def test_virtual_example_manifest_names_its_host() -> None:
    spec = cluster_input_from_request("vc-pipeline", copy.deepcopy(VIRTUAL_PIPELINE_BODY)).spec
    manifest = cluster_manifest("vc-pipeline", spec)
    assert manifest["spec"]["hostCluster"] == "cluster-host"
    assert "vcluster" not in repr(manifest)
