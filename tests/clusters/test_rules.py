"""Cluster request parsing and the cluster rules of nautes.md §3.1."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from clusters import catalogue
from clusters.rules import (
    ClusterInput,
    cluster_input_from_request,
    cluster_problems,
    validate_cluster,
    validate_cluster_delete,
    validate_cluster_update,
)
from nautes_portal.errors import Conflict, RuleViolation

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: k8s
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: Q0EtREFUQQ==
users:
- name: admin
  user:
    token: s3cr3t-token-value
contexts:
- name: admin@k8s
  context:
    cluster: k8s
    user: admin
current-context: admin@k8s
"""
KUBECONFIG_B64 = base64.b64encode(KUBECONFIG.encode()).decode()

# §4.4 example 1: the host cluster, v0.4.2 style.
HOST_BODY: dict[str, Any] = {
    "api_server": "https://127.0.0.1:6443",
    "cluster_kind": "kubernetes",
    "cluster_type": "physical",
    "usage": "host",
    "primary_domain": "8.217.50.114.nip.io",
    "components_list": {
        "gateway": {
            "name": "traefik",
            "namespace": "traefik",
            "additions": {"httpNodePort": "30080", "httpsNodePort": "30443"},
        }
    },
    "kubeconfig": KUBECONFIG_B64,
}

# §4.4 example 2: the docs' physical deployment worker with the v0.3 aliases, after fixing
# `hnc` -> `hnc-system` and dropping `cert-manager` and `argocd` (Argo CD's namespace is never
# granted, #12; tests/security/test_review_followups.py).
PHYSICAL_DEPLOYMENT_BODY: dict[str, Any] = {
    "api_server": "https://127.0.0.1:6443",
    "cluster_kind": "kubernetes",
    "cluster_type": "physical",
    "usage": "worker",
    "worker_type": "deployment",
    "primary_domain": "8.217.50.114.nip.io",
    "argocd_host": "argocd.physical-worker-deployment.8.217.50.114.nip.io",
    "traefik": {"http_node_port": "30080", "https_node_port": "30443"},
    "reserved_namespaces_allowed_products": {
        "argo-rollouts": ["demo-quickstart"],
        "traefik": ["demo-quickstart"],
        "external-secrets": ["demo-quickstart"],
        "vault": ["demo-quickstart"],
        "hnc-system": ["demo-quickstart"],
    },
    "product_allowed_cluster_resources": {
        "demo-quickstart": [
            {"kind": "ClusterRole", "group": "authorization.k8s.io"},
            {"kind": "ClusterRoleBinding", "group": "authorization.k8s.io"},
        ]
    },
    "kubeconfig": KUBECONFIG_B64,
}

# §4.4 example 3: the CLI's virtual pipeline worker, without its `argocd` grant (never granted).
VIRTUAL_PIPELINE_BODY: dict[str, Any] = {
    "api_server": "https://127.0.0.1:31456",
    "cluster_kind": "kubernetes",
    "cluster_type": "virtual",
    "usage": "worker",
    "worker_type": "pipeline",
    "host_cluster": "cluster-host",
    "primary_domain": "8.217.50.114.nip.io",
    "vcluster": {"https_node_port": "31456"},
    "components_list": {
        "multi_tenant": {
            "name": "hnc",
            "namespace": "hnc-system",
            "additions": {
                "productResourceKustomizeFileFolder": "templates/pipelines",
                "productResourceRevision": "main",
                "syncResourceTypes": "tekton.dev/Pipeline",
            },
        },
        "secret_sync": {"name": "external-secrets", "namespace": "external-secrets"},
        "gateway": {
            "name": "traefik",
            "namespace": "traefik",
            "additions": {"httpNodePort": "30080", "httpsNodePort": "30443"},
        },
        "deployment": {"name": "argocd", "namespace": "argocd"},
        "event_listener": {"name": "argo-events", "namespace": "argo-events"},
        "pipeline": {"name": "tekton", "namespace": "tekton-pipelines"},
    },
    "reserved_namespaces_allowed_products": {
        "tekton-pipelines": ["demo"],
        "argo-events": ["demo"],
        "traefik": ["demo"],
        "external-secrets": ["demo"],
        "hnc-system": ["demo"],
    },
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "cluster-host": HOST_BODY,
    "physical-worker-deployment": PHYSICAL_DEPLOYMENT_BODY,
    "vc-pipeline": VIRTUAL_PIPELINE_BODY,
}


def host_spec() -> dict[str, Any]:
    """The spec of the example host cluster (a registered `usage: host` cluster)."""
    return cluster_input_from_request("cluster-host", copy.deepcopy(HOST_BODY)).spec


def existing_clusters() -> dict[str, dict[str, Any]]:
    """The registered clusters the examples may refer to."""
    return {"cluster-host": host_spec()}


def body(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of `base` with top-level fields replaced (None removes a field)."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def problems_of(name: str, request: dict[str, Any], **kwargs: Any) -> list[str]:
    """Parse a request body and list the rules it breaks."""
    cluster = cluster_input_from_request(name, request)
    return cluster_problems(cluster, existing=existing_clusters(), **kwargs)


def message_of(name: str, request: dict[str, Any], **kwargs: Any) -> str:
    """Parse and validate a request body; return the RuleViolation message."""
    cluster = cluster_input_from_request(name, request)
    with pytest.raises(RuleViolation) as caught:
        validate_cluster(cluster, existing=existing_clusters(), **kwargs)
    assert caught.value.status == 400
    assert caught.value.reason == "VALIDATOR"
    return caught.value.message


# --------------------------------------------------------------------------- the examples


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_documented_examples_parse_and_validate(name: str) -> None:
    cluster = cluster_input_from_request(name, copy.deepcopy(EXAMPLES[name]))
    validate_cluster(cluster, existing=existing_clusters())


def test_host_example_gets_the_host_categories_only() -> None:
    spec = cluster_input_from_request("cluster-host", copy.deepcopy(HOST_BODY)).spec
    components = spec["componentsList"]
    assert set(components) == {"oauthProxy", "gateway", "secretManagement"}
    assert components["secretManagement"] == {
        "name": "vault",
        "namespace": "vault",
        "additions": {},
    }
    assert components["oauthProxy"]["name"] == "oauth2-proxy"
    assert components["gateway"]["additions"] == {
        "httpNodePort": "30080",
        "httpsNodePort": "30443",
    }


def test_physical_deployment_example_maps_the_v03_aliases() -> None:
    spec = cluster_input_from_request(
        "physical-worker-deployment", copy.deepcopy(PHYSICAL_DEPLOYMENT_BODY)
    ).spec
    components = spec["componentsList"]
    assert set(components) == set(catalogue.categories_for("worker", "physical", "deployment"))
    assert components["deployment"] == {
        "name": "argocd",
        "namespace": "argocd",
        "additions": {"host": "argocd.physical-worker-deployment.8.217.50.114.nip.io"},
    }
    assert components["gateway"]["additions"] == {
        "httpNodePort": "30080",
        "httpsNodePort": "30443",
    }
    # Upstream v0.4.2 gives oauth2-proxy to physical *pipeline* workers and hosts only.
    assert "oauthProxy" not in components
    assert spec["productAllowedClusterResources"]["demo-quickstart"][1] == {
        "kind": "ClusterRoleBinding",
        "group": "authorization.k8s.io",
    }


def test_the_docs_v03_reserved_namespace_keys_are_refused() -> None:
    reserved = dict(PHYSICAL_DEPLOYMENT_BODY["reserved_namespaces_allowed_products"])
    del reserved["hnc-system"]
    reserved["hnc"] = ["demo-quickstart"]
    reserved["cert-manager"] = ["demo-quickstart"]
    message = message_of(
        "physical-worker-deployment",
        body(PHYSICAL_DEPLOYMENT_BODY, reserved_namespaces_allowed_products=reserved),
    )
    assert message == (
        "failed to validate cluster, err: reserved namespace cert-manager is not in component "
        "list; failed to validate cluster, err: reserved namespace hnc is not in component list"
    )


def test_virtual_pipeline_example_keeps_the_given_components_and_port() -> None:
    cluster = cluster_input_from_request("vc-pipeline", copy.deepcopy(VIRTUAL_PIPELINE_BODY))
    components = cluster.spec["componentsList"]
    assert set(components) == set(catalogue.categories_for("worker", "virtual", "pipeline"))
    assert components["multiTenant"]["additions"]["syncResourceTypes"] == "tekton.dev/Pipeline"
    assert components["pipeline"]["additions"] == {"host": "tekton.vc-pipeline.8.217.50.114.nip.io"}
    assert components["deployment"]["additions"] == {
        "host": "argocd.vc-pipeline.8.217.50.114.nip.io"
    }
    assert cluster.vcluster_https_node_port == "31456"
    assert cluster.kubeconfig is None


# --------------------------------------------------------------------------- defaults


def test_primary_domain_defaults_to_the_api_server_ip_plus_nip_io() -> None:
    spec = cluster_input_from_request("c1", body(HOST_BODY, primary_domain=None)).spec
    assert spec["primaryDomain"] == "127.0.0.1.nip.io"


def test_primary_domain_defaults_to_the_api_server_hostname() -> None:
    request = body(
        PHYSICAL_DEPLOYMENT_BODY,
        api_server="https://k8s.example.com:6443",
        primary_domain=None,
        argocd_host=None,
    )
    spec = cluster_input_from_request("c1", request).spec
    assert spec["primaryDomain"] == "k8s.example.com"
    # The host default is built from the primary domain, not from a resolved IP.
    assert spec["componentsList"]["deployment"]["additions"]["host"] == "argocd.c1.k8s.example.com"


def test_cluster_kind_defaults_to_kubernetes() -> None:
    spec = cluster_input_from_request("c1", body(HOST_BODY, cluster_kind=None)).spec
    assert spec["clusterKind"] == "kubernetes"


def test_missing_components_are_filled_with_catalogue_defaults() -> None:
    request = body(
        VIRTUAL_PIPELINE_BODY, components_list=None, reserved_namespaces_allowed_products=None
    )
    components = cluster_input_from_request("vc1", request).spec["componentsList"]
    assert {category: c["name"] for category, c in components.items()} == {
        "multiTenant": "hnc",
        "secretSync": "external-secrets",
        "gateway": "traefik",
        "deployment": "argocd",
        "eventListener": "argo-events",
        "pipeline": "tekton",
        "secretManagement": "vault",
    }
    assert components["gateway"]["additions"] == {"httpNodePort": "30080", "httpsNodePort": "30443"}
    assert components["pipeline"]["additions"] == {"host": "tekton.vc1.8.217.50.114.nip.io"}


def test_components_outside_the_shape_are_dropped() -> None:
    request = body(
        PHYSICAL_DEPLOYMENT_BODY,
        components_list={
            "pipeline": {"name": "tekton"},
            "event_listener": {"name": "argo-events"},
            "cert_management": {"name": "cert-manager"},
        },
        tekton_host="tekton.example.com",
    )
    components = cluster_input_from_request("c1", request).spec["componentsList"]
    assert not {"pipeline", "eventListener", "certManagement"} & set(components)


def test_platform_components_are_not_a_user_choice() -> None:
    request = body(
        HOST_BODY,
        components_list={
            "secret_management": {"name": "my-vault", "namespace": "elsewhere"},
            "oauth_proxy": {"name": "other-proxy", "namespace": "x"},
        },
    )
    components = cluster_input_from_request("c1", request).spec["componentsList"]
    assert components["secretManagement"]["name"] == "vault"
    assert components["oauthProxy"] == {
        "name": "oauth2-proxy",
        "namespace": "oauth2-proxy",
        "additions": {},
    }


def test_missing_namespace_and_additions_keys_are_filled_per_component() -> None:
    request = body(
        PHYSICAL_DEPLOYMENT_BODY,
        traefik=None,
        argocd_host=None,
        components_list={
            "gateway": {"name": "traefik", "additions": {"httpNodePort": "31080", "extra": "x"}},
            "deployment": {"name": "argocd", "additions": {"host": ""}},
        },
    )
    components = cluster_input_from_request("c1", request).spec["componentsList"]
    assert components["gateway"] == {
        "name": "traefik",
        "namespace": "traefik",
        "additions": {"httpNodePort": "31080", "httpsNodePort": "30443", "extra": "x"},
    }
    assert components["deployment"]["additions"] == {"host": "argocd.c1.8.217.50.114.nip.io"}


def test_explicit_components_list_wins_over_v03_aliases() -> None:
    request = body(
        PHYSICAL_DEPLOYMENT_BODY,
        components_list={"deployment": {"name": "argocd", "additions": {"host": "cd.example.com"}}},
        traefik={"http_node_port": 31080},
    )
    components = cluster_input_from_request("c1", request).spec["componentsList"]
    assert components["deployment"]["additions"]["host"] == "cd.example.com"
    # Integers are accepted for ports and stored as strings.
    assert components["gateway"]["additions"]["httpNodePort"] == "31080"


def test_tekton_host_alias_fills_the_pipeline_host() -> None:
    request = body(
        PHYSICAL_DEPLOYMENT_BODY, worker_type="pipeline", tekton_host="tekton.example.com"
    )
    components = cluster_input_from_request("c1", request).spec["componentsList"]
    assert components["pipeline"]["additions"]["host"] == "tekton.example.com"


def test_vcluster_port_defaults_to_the_api_server_port() -> None:
    cluster = cluster_input_from_request("vc1", body(VIRTUAL_PIPELINE_BODY, vcluster=None))
    assert cluster.vcluster_https_node_port == "31456"


def test_vcluster_port_is_not_applicable_to_physical_clusters() -> None:
    cluster = cluster_input_from_request("c1", body(HOST_BODY, vcluster={"https_node_port": "1"}))
    assert cluster.vcluster_https_node_port is None


# --------------------------------------------------------------------------- body type errors


@pytest.mark.parametrize(
    "garbage",
    [
        {"api_server": 1, "cluster_type": [], "usage": {}, "kubeconfig": 3.5},
        {"components_list": "tekton"},
        {"components_list": {"deployment": "argocd"}},
        {"components_list": {"deployment": {"name": 1, "namespace": [], "additions": []}}},
        {"components_list": {"gateway": {"additions": {"httpNodePort": True}}}},
        {"components_list": {"gateway": {"additions": {"httpNodePort": None}}}},
        {"reserved_namespaces_allowed_products": ["argocd"]},
        {"reserved_namespaces_allowed_products": {"argocd": "demo"}},
        {"reserved_namespaces_allowed_products": {"argocd": [1, None]}},
        {"product_allowed_cluster_resources": "x"},
        {"product_allowed_cluster_resources": {"demo": {"kind": "ClusterRole"}}},
        {"product_allowed_cluster_resources": {"demo": ["ClusterRole"]}},
        {"product_allowed_cluster_resources": {"demo": [{"kind": 1, "group": []}]}},
        {"product_allowed_cluster_resources": {"demo": [{"kind": "", "group": "g"}]}},
        {"traefik": "30080"},
        {"traefik": {"http_node_port": [30080]}},
        {"argocd_host": 5, "tekton_host": {}},
        {"vcluster": "31456"},
        {"vcluster": {"https_node_port": 1.5}},
    ],
)
def test_wrong_types_in_the_body_raise_rule_violation(garbage: dict[str, Any]) -> None:
    request = {**VIRTUAL_PIPELINE_BODY, **garbage}
    with pytest.raises(RuleViolation):
        cluster_input_from_request("vc1", request)


@pytest.mark.parametrize(
    "request_body",
    [None, [], "cluster", 42, {"components_list": None, "usage": None}, {}],
)
def test_any_body_gives_rule_violation_or_a_cluster(request_body: Any) -> None:
    try:
        cluster = cluster_input_from_request("c1", request_body)
    except RuleViolation:
        return
    with pytest.raises(RuleViolation):
        validate_cluster(cluster, existing={})


def test_all_type_errors_are_listed_together() -> None:
    with pytest.raises(RuleViolation) as caught:
        cluster_input_from_request("c1", {**HOST_BODY, "api_server": 1, "usage": ["host"]})
    assert caught.value.message == (
        "the value of api_server must be a string; the value of usage must be a string"
    )


def test_reserved_namespace_values_must_be_strings() -> None:
    request = body(HOST_BODY, reserved_namespaces_allowed_products={"traefik": ["demo", 7]})
    with pytest.raises(RuleViolation, match="the value of the reserved namespace must be a string"):
        cluster_input_from_request("c1", request)


def test_allowed_cluster_resources_must_be_objects() -> None:
    request = body(HOST_BODY, product_allowed_cluster_resources={"demo": ["ClusterRole"]})
    with pytest.raises(RuleViolation) as caught:
        cluster_input_from_request("c1", request)
    assert caught.value.message == (
        "the cluster information of demo must be an struct 'ClusterResourceInfo' type"
    )


def test_allowed_cluster_resources_need_kind_and_group() -> None:
    request = body(HOST_BODY, product_allowed_cluster_resources={"demo": [{"kind": "ClusterRole"}]})
    with pytest.raises(RuleViolation) as caught:
        cluster_input_from_request("c1", request)
    assert caught.value.message == (
        "failed to get cluster resource information of demo, "
        "the group and kind of the cluster resource cannot be empty"
    )


def test_unknown_fields_of_resources_are_dropped() -> None:
    request = body(
        HOST_BODY,
        product_allowed_cluster_resources={
            "demo": [{"kind": "ClusterRole", "group": "rbac", "version": "v1"}]
        },
    )
    spec = cluster_input_from_request("c1", request).spec
    assert spec["productAllowedClusterResources"] == {
        "demo": [{"kind": "ClusterRole", "group": "rbac"}]
    }


# --------------------------------------------------------------------------- §3.1 rules


@pytest.mark.parametrize("name", ["Cluster1", "-c1", "c1-", "c_1", "c.1", "a" * 64, "c1\n"])
def test_name_must_be_a_dns_label(name: str) -> None:
    message = message_of(name, copy.deepcopy(HOST_BODY))
    assert "is invalid: it must be a DNS-1123 label" in message


def test_name_is_required() -> None:
    assert "the cluster name is required" in message_of("", copy.deepcopy(HOST_BODY))


def test_name_of_63_characters_is_fine() -> None:
    assert problems_of("a" * 63, copy.deepcopy(HOST_BODY)) == []


def test_api_server_must_be_an_http_url() -> None:
    message = message_of("c1", body(HOST_BODY, api_server="ftp://127.0.0.1:6443"))
    assert message == (
        "failed to validate save request, err: the apiserver ftp://127.0.0.1:6443 "
        "is not an https URL"
    )


def test_api_server_is_required() -> None:
    message = message_of("c1", body(HOST_BODY, api_server=None))
    assert "invalid SaveRequest_Body.ApiServer: value length must be at least 1 runes" in message


@pytest.mark.parametrize(
    "api_server", ["https://", "https://:6443", "https://1.2.3.4:port", "https://1.2.3.4 :6443"]
)
def test_api_server_must_have_a_host(api_server: str) -> None:
    message = message_of("c1", body(HOST_BODY, api_server=api_server))
    assert f"the apiserver {api_server} is not a valid URL" in message


def test_api_server_must_match_the_crd_pattern() -> None:
    message = message_of("c1", body(HOST_BODY, api_server="https://localhost:6443"))
    assert "the apiserver https://localhost:6443 does not match the pattern" in message


def test_cluster_type_must_be_physical_or_virtual() -> None:
    message = message_of("c1", body(HOST_BODY, cluster_type="metal"))
    assert (
        "invalid SaveRequest_Body.ClusterType: value must be in list [physical virtual]" in message
    )


def test_usage_must_be_host_or_worker() -> None:
    message = message_of("c1", body(HOST_BODY, usage="both"))
    assert message == "invalid SaveRequest_Body.Usage: value must be in list [host worker]"


def test_cluster_kind_must_be_kubernetes() -> None:
    message = message_of("c1", body(HOST_BODY, cluster_kind="openshift"))
    assert (
        message
        == 'spec.clusterKind: Unsupported value: "openshift": supported values: "kubernetes"'
    )


def test_virtual_worker_requires_a_host_cluster() -> None:
    message = message_of("vc1", body(VIRTUAL_PIPELINE_BODY, host_cluster=None))
    assert message == (
        "failed to validate save request, err: the 'Host Cluster' for virtual cluster is required"
    )


def test_worker_requires_a_worker_type() -> None:
    message = message_of("c1", body(PHYSICAL_DEPLOYMENT_BODY, worker_type=None))
    assert message == (
        "failed to validate save request, err: "
        "when the cluster usage is 'worker', the 'WorkerType' field is required"
    )


def test_worker_type_must_be_pipeline_or_deployment() -> None:
    message = message_of("c1", body(PHYSICAL_DEPLOYMENT_BODY, worker_type="middleware"))
    assert message == (
        "failed to construct cluster, err: failed to match component type "
        "[worker|physical|middleware], please check if the cluster c1 is correct"
    )


def test_host_cluster_must_be_physical() -> None:
    message = message_of("h1", body(HOST_BODY, cluster_type="virtual", host_cluster="cluster-host"))
    assert "failed to validate cluster, err: host cluster can not be a virtual cluster" in message
    assert (
        "failed to match component type [host|virtual|], please check if the cluster h1" in message
    )


def test_host_cluster_has_no_worker_type() -> None:
    message = message_of("h1", body(HOST_BODY, worker_type="deployment"))
    assert "failed to validate cluster, err: host cluster's work type should be empty" in message
    assert "failed to match component type [host|physical|deployment]" in message


def test_physical_cluster_has_no_host_cluster() -> None:
    message = message_of("c1", body(PHYSICAL_DEPLOYMENT_BODY, host_cluster="cluster-host"))
    assert message == "failed to validate cluster, err: host cluster can not belong to another host"


def test_virtual_non_worker_must_have_a_host() -> None:
    message = message_of("h1", body(HOST_BODY, cluster_type="virtual"))
    assert "failed to validate cluster, err: virtual cluster must have a host" in message


def test_virtual_cluster_host_must_exist() -> None:
    message = message_of("vc1", body(VIRTUAL_PIPELINE_BODY, host_cluster="nowhere"))
    assert message == "the host cluster nowhere of virtual cluster vc1 does not exist"


def test_virtual_cluster_host_must_be_a_host_cluster() -> None:
    worker = cluster_input_from_request("w1", copy.deepcopy(PHYSICAL_DEPLOYMENT_BODY)).spec
    cluster = cluster_input_from_request("vc1", body(VIRTUAL_PIPELINE_BODY, host_cluster="w1"))
    problems = cluster_problems(cluster, existing={"w1": worker})
    assert problems == [
        "the host cluster w1 of virtual cluster vc1 is not a host cluster (its usage is 'worker')"
    ]


def test_virtual_cluster_cannot_host_itself() -> None:
    message = message_of("vc1", body(VIRTUAL_PIPELINE_BODY, host_cluster="vc1"))
    assert message == "cluster vc1 cannot be its own host cluster"


def test_primary_domain_must_be_a_domain_name() -> None:
    message = message_of("c1", body(HOST_BODY, primary_domain="not a domain"))
    assert "the primary domain not a domain is not a valid domain name" in message


def test_reserved_namespaces_must_be_component_namespaces() -> None:
    request = body(HOST_BODY, reserved_namespaces_allowed_products={"argo-rollouts": ["demo"]})
    message = message_of("cluster-host", request)
    assert message == (
        "failed to validate cluster, err: reserved namespace argo-rollouts is not in component list"
    )


def test_required_categories_must_be_present() -> None:
    spec = cluster_input_from_request("vc1", copy.deepcopy(VIRTUAL_PIPELINE_BODY)).spec
    del spec["componentsList"]["pipeline"]
    spec["componentsList"]["eventListener"] = None
    spec["reservedNamespacesAllowedProducts"] = {}
    problems = cluster_problems(ClusterInput("vc1", spec), existing=existing_clusters())
    assert problems == [
        "failed to validate cluster, err: cluster vc1 is missing the following components "
        "[eventListener | pipeline]"
    ]


def test_required_additions_must_be_present() -> None:
    spec = host_spec()
    del spec["componentsList"]["gateway"]["additions"]["httpsNodePort"]
    problems = cluster_problems(
        ClusterInput("cluster-host", spec), existing={}, require_kubeconfig=False
    )
    assert problems == [
        "failed to validate cluster, err: validation of component list failed with errors: "
        "the 'httpsNodePort' of component traefik is a required value"
    ]


def test_additions_must_match_their_rule() -> None:
    request = body(
        HOST_BODY,
        components_list={"gateway": {"name": "traefik", "additions": {"httpNodePort": "80a"}}},
    )
    message = message_of("cluster-host", request)
    assert message == (
        "failed to validate cluster, err: validation of component list failed with errors: "
        "the value 80a of the component matches incorrectly, meeting the following rule: ^[0-9]+$"
    )


def test_component_host_must_be_a_hostname() -> None:
    request = body(PHYSICAL_DEPLOYMENT_BODY, argocd_host="argo cd.example.com")
    message = message_of("c1", request)
    assert "the value argo cd.example.com of the component matches incorrectly" in message


def test_component_errors_are_joined_like_upstream() -> None:
    spec = cluster_input_from_request("vc1", copy.deepcopy(VIRTUAL_PIPELINE_BODY)).spec
    spec["componentsList"]["gateway"]["additions"] = {"httpNodePort": "x"}
    spec["componentsList"]["pipeline"]["additions"] = {}
    problems = cluster_problems(ClusterInput("vc1", spec), existing=existing_clusters())
    assert problems == [
        "failed to validate cluster, err: validation of component list failed with errors: "
        "the value x of the component matches incorrectly, meeting the following rule: ^[0-9]+$"
        " | the 'httpsNodePort' of component traefik is a required value, "
        "the 'host' of component tekton is a required value"
    ]


def test_unknown_component_is_refused() -> None:
    request = body(
        HOST_BODY, components_list={"gateway": {"name": "nginx", "namespace": "ingress"}}
    )
    message = message_of("cluster-host", request)
    assert "failed to get component nginx from third-part components list" in message


def test_component_must_fit_its_category() -> None:
    request = body(
        PHYSICAL_DEPLOYMENT_BODY,
        components_list={"deployment": {"name": "argo-rollouts"}},
    )
    message = message_of("c1", request)
    assert "component argo-rollouts is a progressiveDelivery component, not a deployment one" in (
        message
    )


def test_component_namespace_must_be_a_valid_name() -> None:
    request = body(
        HOST_BODY, components_list={"gateway": {"name": "traefik", "namespace": "Tra_efik"}}
    )
    message = message_of("cluster-host", request)
    assert "the namespace Tra_efik of component traefik is not a valid name" in message


def test_components_read_from_git_must_have_the_crd_structure() -> None:
    spec = host_spec()
    spec["componentsList"]["gateway"] = {"name": "traefik"}
    spec["componentsList"]["oauthProxy"] = "oauth2-proxy"
    problems = cluster_problems(
        ClusterInput("cluster-host", spec), existing={}, require_kubeconfig=False
    )
    assert problems == [
        "component gateway must have a namespace",
        "spec.componentsList.oauthProxy must be an object",
    ]


def test_spec_field_types_are_checked() -> None:
    spec = host_spec()
    spec["usage"] = ["host"]
    spec["reservedNamespacesAllowedProducts"] = {"traefik": "demo"}
    problems = cluster_problems(
        ClusterInput("cluster-host", spec), existing={}, require_kubeconfig=False
    )
    assert "spec.usage must be a string" in problems
    assert "the value of reserved namespace traefik must be a list of products" in problems


def test_components_list_is_required_in_a_spec() -> None:
    spec = host_spec()
    del spec["componentsList"]
    problems = cluster_problems(
        ClusterInput("cluster-host", spec), existing={}, require_kubeconfig=False
    )
    assert problems[0] == "spec.componentsList must be an object"


def test_vcluster_port_must_be_a_number() -> None:
    message = message_of("vc1", body(VIRTUAL_PIPELINE_BODY, vcluster={"https_node_port": "31x"}))
    assert message == "the vcluster https_node_port 31x must be a port number"


def test_vcluster_port_is_required_when_the_api_server_has_none() -> None:
    request = body(VIRTUAL_PIPELINE_BODY, api_server="https://127.0.0.1", vcluster=None)
    message = message_of("vc1", request)
    assert message.startswith("the vcluster https_node_port is required for a virtual cluster")


def test_physical_cluster_requires_a_kubeconfig() -> None:
    message = message_of("cluster-host", body(HOST_BODY, kubeconfig=None))
    assert "kubeconfig" in message
    assert "required" in message


def test_kubeconfig_requirement_can_be_waived_for_updates() -> None:
    assert (
        problems_of("cluster-host", body(HOST_BODY, kubeconfig=None), require_kubeconfig=False)
        == []
    )


def test_a_given_kubeconfig_is_always_checked() -> None:
    message = message_of(
        "cluster-host", body(HOST_BODY, kubeconfig="users: []\n"), require_kubeconfig=False
    )
    assert message == "invalid kubeconfig file: must have at least one cluster"


def test_virtual_cluster_needs_no_kubeconfig() -> None:
    assert problems_of("vc1", body(VIRTUAL_PIPELINE_BODY, kubeconfig=None)) == []


def test_all_problems_are_reported_in_a_fixed_order() -> None:
    request = body(
        PHYSICAL_DEPLOYMENT_BODY,
        api_server="tcp://x",
        host_cluster="cluster-host",
        kubeconfig=None,
        reserved_namespaces_allowed_products={"zz": [], "aa": []},
    )
    message = message_of("Bad_Name", request)
    assert message.split("; ") == [
        "the cluster name Bad_Name is invalid: it must be a DNS-1123 label (at most 63 lowercase "
        "letters, digits or '-', starting and ending with a letter or digit)",
        "failed to validate save request, err: the apiserver tcp://x is not an https URL",
        "failed to validate cluster, err: host cluster can not belong to another host",
        "failed to validate cluster, err: reserved namespace aa is not in component list",
        "failed to validate cluster, err: reserved namespace zz is not in component list",
        "a kubeconfig is required to register a physical cluster",
    ]


@pytest.mark.parametrize(
    "cluster",
    [
        ClusterInput("c1", {}),
        ClusterInput("c1", None),  # type: ignore[arg-type]
        ClusterInput(None, {"componentsList": []}),  # type: ignore[arg-type]
        ClusterInput("c1", {"apiServer": 1, "componentsList": {"x": 1, "gateway": []}}),
        ClusterInput("c1", {"clusterType": "physical"}, kubeconfig=5),  # type: ignore[arg-type]
        ClusterInput("vc", {"clusterType": "virtual", "hostCluster": "h"}, None, 5),  # type: ignore[arg-type]
    ],
)
def test_garbage_spec_never_raises_anything_but_rule_violation(cluster: ClusterInput) -> None:
    with pytest.raises(RuleViolation):
        validate_cluster(cluster, existing={"h": "not a spec"})  # type: ignore[dict-item]


# --------------------------------------------------------------------------- update and delete


def test_referenced_cluster_cannot_change_its_shape() -> None:
    old = host_spec()
    new = cluster_input_from_request("cluster-host", body(HOST_BODY, worker_type="deployment"))
    with pytest.raises(Conflict) as caught:
        validate_cluster_update(old, new, referenced_by=["cluster/vc1", "environment/demo/dev"])
    assert caught.value.status == 409
    assert caught.value.reason == "RESOURCE_IN_USE"
    assert caught.value.message == (
        "cluster referenced by [cluster/vc1|environment/demo/dev], modifying "
        "[cluster kind, cluster type, usage, host cluster, worker type] is not allowed"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("clusterKind", "openshift"),
        ("clusterType", "virtual"),
        ("usage", "worker"),
        ("hostCluster", "h2"),
        ("workerType", "pipeline"),
    ],
)
def test_each_shape_field_is_frozen_while_referenced(field: str, value: str) -> None:
    old = host_spec()
    new = ClusterInput("cluster-host", {**host_spec(), field: value})
    with pytest.raises(Conflict):
        validate_cluster_update(old, new, referenced_by=["cluster/vc1"])


def test_referenced_cluster_may_change_other_fields() -> None:
    old = host_spec()
    new = cluster_input_from_request("cluster-host", body(HOST_BODY, primary_domain="example.com"))
    validate_cluster_update(old, new, referenced_by=["cluster/vc1"])


def test_missing_cluster_kind_in_git_equals_the_default() -> None:
    old = host_spec()
    del old["clusterKind"]
    new = cluster_input_from_request("cluster-host", copy.deepcopy(HOST_BODY))
    validate_cluster_update(old, new, referenced_by=["cluster/vc1"])


def test_unreferenced_cluster_may_change_its_shape() -> None:
    new = cluster_input_from_request("c1", copy.deepcopy(PHYSICAL_DEPLOYMENT_BODY))
    validate_cluster_update(host_spec(), new, referenced_by=[])


def test_referenced_cluster_cannot_be_deleted() -> None:
    with pytest.raises(Conflict) as caught:
        validate_cluster_delete("cluster-host", referenced_by=["cluster/vc1", "cluster/vc2"])
    assert caught.value.status == 409
    assert caught.value.message == (
        "cluster referenced by [cluster/vc1|cluster/vc2], not allowed to be deleted"
    )


def test_unreferenced_cluster_can_be_deleted() -> None:
    validate_cluster_delete("cluster-host", referenced_by=[])
