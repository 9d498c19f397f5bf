"""Tests for `products.rules`: every rule fails without it, and the docs' example passes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from products import rules
from products.manifests import resource_path
from products.rules import Problem, check_global, check_static, check_update, delete_blockers
from products.state import ForeignRuntime, ProductState, Resource

PRODUCT = "product-12"


# ---- Builders -----------------------------------------------------------------------------------


def make(kind: str, name: str, **spec: Any) -> Resource:
    """A resource at its upstream path."""
    return Resource(kind=kind, name=name, path=resource_path(kind, name, spec), spec=spec)


def cluster(worker_type: str = "deployment", usage: str = "worker", **extra: Any) -> dict[str, Any]:
    """A cluster CRD spec with the components of its shape."""
    components = {
        "multiTenant": {"name": "hnc", "namespace": "hnc-system"},
        "secretSync": {"name": "external-secrets", "namespace": "external-secrets"},
        "deployment": {"name": "argocd", "namespace": "argocd"},
        "secretManagement": {"name": "vault", "namespace": "vault"},
    }
    if worker_type == "pipeline":
        components["pipeline"] = {"name": "tekton", "namespace": "tekton-pipelines"}
        components["eventListener"] = {"name": "argo-events", "namespace": "argo-events"}
    spec = {
        "apiServer": "https://127.0.0.1:6443",
        "clusterType": "physical",
        "usage": usage,
        "workerType": worker_type,
        "componentsList": components,
    }
    spec.update(extra)
    return spec


def env(name: str = "env-dev", cluster_name: str = "cluster-dev", **extra: Any) -> Resource:
    return make(
        "Environment", name, product=PRODUCT, cluster=cluster_name, envType="development", **extra
    )


def project(name: str) -> Resource:
    return make("Project", name, product=PRODUCT, language="Go")


def repo(name: str, repo_name: str, owner: str = "", **extra: Any) -> Resource:
    spec: dict[str, Any] = {
        "codeRepoProvider": "gitlab",
        "deploymentRuntime": True,
        "pipelineRuntime": False,
        "product": PRODUCT,
        "project": owner,
        "repoName": repo_name,
        "webhook": {"events": ["push_events"]},
    }
    spec.update(extra)
    return make("CodeRepo", name, **spec)


def binding(name: str, code_repo: str, projects: Any = None, **extra: Any) -> Resource:
    spec: dict[str, Any] = {"codeRepo": code_repo, "permissions": "readonly", "product": PRODUCT}
    if projects is not None:
        spec["projects"] = projects
    spec.update(extra)
    return make("CodeRepoBinding", name, **spec)


def dr(name: str = "dr-dev", **overrides: Any) -> Resource:
    spec: dict[str, Any] = {
        "destination": {"environment": "env-dev", "namespaces": [name]},
        "manifestSource": {
            "codeRepo": "repo-34",
            "path": "manifests/development",
            "targetRevision": "HEAD",
        },
        "product": PRODUCT,
        "projectsRef": ["api-server"],
    }
    spec.update(overrides)
    return make("DeploymentRuntime", name, **spec)


def ppr(name: str = "pr-demo", **overrides: Any) -> Resource:
    spec: dict[str, Any] = {
        "destination": {"environment": "env-dev-demo", "namespace": ""},
        "eventSources": [
            {
                "name": "webhook-main-push",
                "gitlab": {
                    "repoName": "repo-3",
                    "revision": "refs/heads/main",
                    "events": ["push_events"],
                },
                "calendar": {"schedule": "0 17 * * 1-5"},
            }
        ],
        "hooks": {},
        "isolation": "exclusive",
        "pipelineSource": "repo-3",
        "pipelineTriggers": [{"eventSource": "webhook-main-push", "pipeline": "pipeline-main"}],
        "pipelines": [{"name": "pipeline-main", "label": "main", "path": "pipelines/main.yaml"}],
        "project": "project-demo",
    }
    spec.update(overrides)
    return make("ProjectPipelineRuntime", name, **spec)


def example_resources() -> list[Resource]:
    """The docs' example product (§4.4 / §5.2), with the projects and repos it refers to."""
    return [
        env(),
        project("api-server"),
        project("argo-operator"),
        repo("repo-34", "api-server", owner="api-server"),
        repo("repo-35", "vault-proxy"),
        binding("coderepo-binding-vault-proxy", "repo-35", ["argo-operator"]),
        dr(),
    ]


def pipeline_resources() -> list[Resource]:
    """The pipeline example (§5.2 pr-demo) on its own pipeline cluster."""
    return [
        env("env-dev-demo", "cluster-pipeline"),
        project("project-demo"),
        repo("repo-3", "demo", owner="project-demo"),
        ppr(),
    ]


def state_of(
    *resources: Resource,
    clusters: dict[str, Any] | None = None,
    foreign: list[ForeignRuntime] | None = None,
) -> ProductState:
    state = ProductState(product_name="nautes-labs", product_id=PRODUCT)
    for resource in resources:
        state.of_kind(resource.kind)[resource.name] = resource
    state.clusters = (
        clusters
        if clusters is not None
        else {"cluster-dev": cluster("deployment"), "cluster-pipeline": cluster("pipeline")}
    )
    state.foreign_runtimes = foreign or []
    return state


def full_state(**kwargs: Any) -> ProductState:
    return state_of(*example_resources(), *pipeline_resources(), **kwargs)


def replaced(state: ProductState, *resources: Resource) -> ProductState:
    for resource in resources:
        state = state.with_saved(resource)
    return state


def messages(problems: list[Problem]) -> list[str]:
    return [p.message for p in problems]


def global_messages(state: ProductState) -> list[str]:
    return messages(check_global(state))


def static_messages(resource: Resource) -> list[str]:
    return messages(check_static(resource, state_of()))


def with_spec(resource: Resource, **changes: Any) -> Resource:
    spec = copy.deepcopy(resource.spec)
    spec.update(changes)
    return Resource(resource.kind, resource.name, resource.path, spec)


DR_PREFIX = "verify deployment runtime failed, err: "
PPR_PREFIX = "verify project pipeline runtime failed, err: "


# ---- The valid baseline -------------------------------------------------------------------------


def test_docs_example_is_valid() -> None:
    assert check_global(state_of(*example_resources())) == []


def test_docs_example_with_pipeline_runtime_is_valid() -> None:
    assert check_global(full_state()) == []


def test_every_example_resource_passes_static_checks() -> None:
    state = full_state()
    for resource in state.all_resources():
        assert check_static(resource, state) == [], resource.name


# ---- Names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    [
        env("Env_1"),
        project("Api_Server"),
        repo("Repo-34", "api-server"),
        binding("binding_1", "repo-35"),
        dr("DR-dev"),
        ppr("pr demo"),
    ],
    ids=lambda r: r.kind,
)
def test_names_must_be_dns_subdomains(resource: Resource) -> None:
    found = static_messages(resource)
    assert f"name '{resource.name}' is invalid: must be a lowercase RFC 1123 subdomain" in found[0]


@pytest.mark.parametrize("name", ["env-dev", "a", "env.dev", "0env", "a" * 253])
def test_subdomain_names_are_accepted(name: str) -> None:
    assert rules.is_subdomain(name)


@pytest.mark.parametrize("name", ["", "-env", "env-", "Env", "env_dev", "env..dev", "a" * 254])
def test_non_subdomain_names_are_rejected(name: str) -> None:
    assert not rules.is_subdomain(name)


@pytest.mark.parametrize(
    ("value", "valid"), [("dr-dev", True), ("a" * 63, True), ("a" * 64, False), ("dr.dev", False)]
)
def test_namespaces_are_dns_labels(value: str, valid: bool) -> None:
    assert rules.is_label(value) is valid
    assert bool(rules.DNS1123_LABEL.match("dr.dev")) is False
    assert bool(rules.DNS1123_SUBDOMAIN.match("dr.dev")) is True


def test_a_dotted_environment_name_is_fine() -> None:
    assert static_messages(env("env.dev")) == []


# ---- Product ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    [
        env(),
        project("api-server"),
        repo("repo-34", "api-server"),
        binding("b", "repo-35"),
        dr(),
    ],
    ids=lambda r: r.kind,
)
def test_product_must_match(resource: Resource) -> None:
    wrong = with_spec(resource, product="product-99")
    assert static_messages(wrong) == [
        f"the product name of resource {resource.name} does not match the current product "
        "name, expected is product-12, but now is product-99"
    ]
    missing = Resource(
        resource.kind,
        resource.name,
        resource.path,
        {k: v for k, v in resource.spec.items() if k != "product"},
    )
    assert static_messages(missing)[0].endswith("expected is product-12, but now is ")
    assert static_messages(resource) == []


def test_pipeline_runtimes_have_no_product_field() -> None:
    assert static_messages(ppr()) == []


# ---- Environment --------------------------------------------------------------------------------


def test_environment_requires_cluster_and_env_type() -> None:
    found = static_messages(with_spec(env(), cluster="", envType=None))
    assert found == ["cluster is required", "envType is required"]


def test_environment_cluster_must_exist() -> None:
    state = state_of(env(cluster_name="cluster-gone"))
    assert global_messages(state) == [
        "during global validation, it was found that Cluster 'cluster-gone' does not exist or "
        "is unavailable. Please check Environment 'env-dev' in directory 'envs'"
    ]


def test_two_environments_cannot_share_a_cluster() -> None:
    state = state_of(env("env-a"), env("env-b"), env("env-c", "cluster-pipeline"))
    assert global_messages(state) == [
        "duplicate reference cluster resources sbetween resource env-a and resource env-b"
    ]


def test_every_pair_sharing_a_cluster_is_reported_once_in_name_order() -> None:
    state = state_of(
        env("env-c"),
        env("env-a"),
        env("env-e", "cluster-pipeline"),
        env("env-b"),
        env("env-d", "cluster-pipeline"),
    )
    shared = "duplicate reference cluster resources sbetween resource {} and resource {}"
    assert global_messages(state) == [
        shared.format("env-a", "env-b"),
        shared.format("env-a", "env-c"),
        shared.format("env-b", "env-c"),
        shared.format("env-d", "env-e"),
    ]


# ---- Project ------------------------------------------------------------------------------------


def test_project_language_must_be_text() -> None:
    assert static_messages(with_spec(project("p"), language=3)) == ["language must be a string"]
    assert static_messages(with_spec(project("p"), language="")) == []


# ---- CodeRepo -----------------------------------------------------------------------------------


def test_webhook_events_must_be_gitlab_events() -> None:
    bad = with_spec(repo("repo-34", "api-server"), webhook={"events": ["push_events", "pushes"]})
    assert static_messages(bad) == [
        "invalid webhook pushes please refer to gitlab api documentation: "
        "https://docs.gitlab.com/ee/api/projects.html#edit-project-hook"
    ]


def test_webhook_accepts_every_gitlab_event_and_skips_empty_ones() -> None:
    events = [*sorted(rules.WEBHOOK_EVENTS), ""]
    assert static_messages(with_spec(repo("repo-34", "x"), webhook={"events": events})) == []
    assert static_messages(with_spec(repo("repo-34", "x"), webhook=None)) == []


def test_coderepo_project_must_exist() -> None:
    state = state_of(repo("repo-34", "api-server", owner="ghost"))
    assert global_messages(state) == [
        "during global validation, it was found that Project 'ghost' does not exist or is "
        "unavailable. Please check CodeRepo 'api-server' in directory 'code-repos/repo-34'"
    ]


def test_product_level_coderepo_needs_no_project() -> None:
    assert check_global(state_of(repo("repo-35", "vault-proxy"))) == []


# ---- CodeRepoBinding ----------------------------------------------------------------------------


def test_binding_permissions_and_repo_are_required() -> None:
    bad = binding("b", "", permissions="owner")
    assert static_messages(bad) == [
        "codeRepo is required",
        "permissions must be one of readonly, readwrite, but is 'owner'",
    ]
    assert static_messages(binding("b", "repo-35", permissions="readwrite")) == []


def test_binding_repo_and_projects_must_exist() -> None:
    state = state_of(project("api-server"), binding("b", "repo-99", ["api-server", "ghost"]))
    assert global_messages(state) == [
        "the authorization repository repo-99 does not exist when checking CodeRepoBinding b",
        "project resource ghost does not exist or is invalid",
    ]


# ---- DeploymentRuntime: static ------------------------------------------------------------------


def test_dr_manifest_source_fields_are_required() -> None:
    bad = dr(manifestSource={"codeRepo": "", "path": None})
    assert static_messages(bad) == [
        "manifestSource.codeRepo is required",
        "manifestSource.targetRevision is required",
        "manifestSource.path is required",
    ]
    assert static_messages(with_spec(dr(), manifestSource=None)) == ["manifestSource is required"]


def test_dr_without_destination_is_a_clear_error() -> None:
    spec = {k: v for k, v in dr().spec.items() if k != "destination"}
    resource = make("DeploymentRuntime", "dr-dev", **spec)
    assert static_messages(resource) == [rules.DR_DESTINATION_MISSING]
    assert rules.DR_DESTINATION_MISSING.startswith("destination is required")
    # The global check reports it too, without crashing on the missing destination.
    assert rules.DR_DESTINATION_MISSING in global_messages(
        replaced(state_of(*example_resources()), resource)
    )


def test_dr_destination_environment_is_required() -> None:
    found = static_messages(dr(destination={"namespaces": ["dr-dev"]}))
    assert found == ["destination.environment is required"]


def test_dr_namespaces_must_be_dns_labels() -> None:
    found = static_messages(dr(destination={"environment": "env-dev", "namespaces": ["a.b", ""]}))
    assert found == [
        "destination.namespaces[0] 'a.b' is invalid: must be a lowercase RFC 1123 label "
        "(lowercase letters, digits and '-', starting and ending with a letter or digit, "
        "at most 63 characters)",
        "destination.namespaces[1] must not be empty",
    ]


def test_dr_default_namespace_is_its_name_and_must_be_a_label() -> None:
    dotted = dr("dr.dev", destination={"environment": "env-dev"})
    assert static_messages(dotted) == [
        rules.INVALID_LABEL.format(
            field="destination.namespaces (default: the runtime name)", value="dr.dev"
        )
    ]
    named = dr("dr.dev", destination={"environment": "env-dev", "namespaces": ["dr-dev"]})
    assert static_messages(named) == []


# ---- DeploymentRuntime: references --------------------------------------------------------------


def test_dr_projects_must_exist() -> None:
    state = replaced(state_of(*example_resources()), dr(projectsRef=["api-server", "ghost"]))
    assert global_messages(state) == [
        "the referenced project ghost by the deployment runtime dr-dev does not exist while "
        "verifying the validity of the global template"
    ]


def test_dr_environment_must_exist() -> None:
    state = replaced(
        state_of(*example_resources()),
        dr(destination={"environment": "env-gone", "namespaces": ["dr-dev"]}),
    )
    problems = check_global(state)
    assert [(p.message, p.status, p.reason) for p in problems] == [
        (
            "During global validation, it was found that env-gone 'Environment' does not exist "
            "or is unavailable. Please check resource path of default project: runtimes/dr-dev",
            400,
            "RESOURCE_NOT_EXIST",
        )
    ]


def test_dr_code_repo_must_exist() -> None:
    source = {"codeRepo": "repo-99", "path": "manifests", "targetRevision": "HEAD"}
    state = replaced(state_of(*example_resources()), dr(manifestSource=source))
    problems = check_global(state)
    assert [(p.message, p.reason) for p in problems] == [
        (
            "During global validation, it was found that repo-99 'CodeRepo' does not exist "
            "or is unavailable. Please check resource path of default project: "
            "runtimes/dr-dev, err: failed to get codeRepo repo-99",
            "RESOURCE_NOT_EXIST",
        )
    ]


def test_two_drs_with_the_same_source_and_environment_are_duplicates() -> None:
    state = replaced(
        state_of(*example_resources()),
        dr("dr-copy", destination={"environment": "env-dev", "namespaces": ["other"]}),
    )
    assert global_messages(state) == [
        "duplicate reference found between resource dr-copy and resource dr-dev"
    ]
    moved = dict(dr().spec["manifestSource"], path="manifests/other")
    assert check_global(replaced(state, dr("dr-copy", manifestSource=moved))) == []


# ---- DeploymentRuntime: Validate ----------------------------------------------------------------


def test_dr_cluster_must_be_a_deployment_worker() -> None:
    clusters = {"cluster-dev": cluster("pipeline")}
    assert global_messages(state_of(*example_resources(), clusters=clusters)) == [
        DR_PREFIX + "cluster is not a deployment cluster"
    ]
    host = {"cluster-dev": cluster("", usage="host")}
    assert global_messages(state_of(*example_resources(), clusters=host)) == [
        DR_PREFIX + "cluster is not a deployment cluster"
    ]


def test_runtimes_on_a_missing_cluster_say_so() -> None:
    state = replaced(full_state(), env(cluster_name="cluster-gone"))
    assert global_messages(state) == [
        "during global validation, it was found that Cluster 'cluster-gone' does not exist or "
        "is unavailable. Please check Environment 'env-dev' in directory 'envs'",
        DR_PREFIX + "get cluster by runtime failed: cluster cluster-gone does not exist",
    ]


def test_dr_cannot_use_a_component_namespace() -> None:
    destination = {"environment": "env-dev", "namespaces": ["dr-dev", "argocd"]}
    state = replaced(state_of(*example_resources()), dr(destination=destination))
    assert global_messages(state) == [
        DR_PREFIX + "deployment runtime can not use component namespace argocd"
    ]


def foreign(
    namespaces: tuple[str, ...], cluster_name: str = "cluster-dev", product: str = "product-7"
):
    return ForeignRuntime(
        product_id=product,
        kind="DeploymentRuntime",
        name="their-dr",
        cluster=cluster_name,
        namespaces=namespaces,
    )


def test_dr_namespaces_used_by_another_product_on_the_cluster() -> None:
    destination = {"environment": "env-dev", "namespaces": ["dr-dev", "shared", "web"]}
    state = state_of(*example_resources(), foreign=[foreign(("web", "shared", "x"))])
    state = replaced(state, dr(destination=destination))
    assert global_messages(state) == [
        DR_PREFIX + "namespaces [shared|web] is used by other product"
    ]


def test_foreign_namespaces_on_another_cluster_or_of_this_product_do_not_count() -> None:
    elsewhere = foreign(("dr-dev",), cluster_name="cluster-other")
    ours = foreign(("dr-dev",), product=PRODUCT)
    assert check_global(state_of(*example_resources(), foreign=[elsewhere, ours])) == []


def test_dr_default_namespace_counts_against_other_products() -> None:
    state = state_of(*example_resources(), foreign=[foreign(("dr-dev",))])
    state = replaced(state, dr(destination={"environment": "env-dev"}))
    assert global_messages(state) == [DR_PREFIX + "namespaces [dr-dev] is used by other product"]


def test_dr_projects_need_permission_on_the_manifest_repo() -> None:
    state = replaced(
        state_of(*example_resources()), dr(projectsRef=["api-server", "argo-operator"])
    )
    assert global_messages(state) == [
        DR_PREFIX + "project argo-operator is illegal: not permitted to use repository repo-34"
    ]


@pytest.mark.parametrize(
    ("projects", "allowed"),
    [(None, True), ([], True), (["argo-operator"], True), (["api-server"], False), ("x", False)],
)
def test_bindings_grant_projects_or_the_whole_product(projects: Any, allowed: bool) -> None:
    grant = binding("grant-34", "repo-34", projects)
    state = state_of(*example_resources(), grant)
    state = replaced(state, dr(projectsRef=["argo-operator"]))
    found = [m for m in global_messages(state) if m.startswith(DR_PREFIX)]
    assert (found == []) is allowed


def test_dr_validate_waits_for_sound_references() -> None:
    # A missing project stops the permission check from piling a second message on it.
    state = replaced(state_of(*example_resources()), dr(projectsRef=["ghost"]))
    assert len(global_messages(state)) == 1


# ---- ProjectPipelineRuntime: static -------------------------------------------------------------


def test_ppr_required_fields() -> None:
    bare = make("ProjectPipelineRuntime", "pr-demo")
    assert static_messages(bare) == [
        "project is required",
        "pipelineSource is required",
        "isolation must be one of shared, exclusive, but is ''",
        "pipelines must have at least 1 item(s)",
        "eventSources must have at least 1 item(s)",
        "pipelineTriggers must have at least 1 item(s)",
        rules.PPR_DESTINATION_MISSING,
    ]
    assert rules.PPR_DESTINATION_MISSING == (
        "pipeline deployment target configuration not submitted, please checked '.Destination' "
        "field"
    )


def test_ppr_isolation_is_shared_or_exclusive() -> None:
    assert static_messages(ppr(isolation="shared")) == []
    assert static_messages(ppr(isolation="private")) == [
        "isolation must be one of shared, exclusive, but is 'private'"
    ]


def test_ppr_nested_names_and_paths() -> None:
    bad = ppr(
        pipelines=[{"name": "Main", "path": ""}],
        eventSources=[{"name": "", "gitlab": {"repoName": ""}}],
        pipelineTriggers=[{"eventSource": "", "pipeline": ""}],
        destination={"environment": ""},
    )
    assert static_messages(bad) == [
        rules.INVALID_SUBDOMAIN.format(field="pipelines[0].name", value="Main"),
        "pipelines[0].path is required",
        "eventSources[0].name is required",
        "eventSources[0].gitlab.repoName is required",
        "pipelineTriggers[0].eventSource is required",
        "pipelineTriggers[0].pipeline is required",
        "destination.environment is required",
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {
                "eventSources": [
                    {"name": "webhook-main-push", "calendar": {}},
                    {"name": "webhook-main-push", "calendar": {}},
                ]
            },
            "event source webhook-main-push is duplicate",
        ),
        (
            {
                "pipelines": [
                    {"name": "pipeline-main", "path": "a.yaml"},
                    {"name": "pipeline-main", "path": "b.yaml"},
                ]
            },
            "pipeline pipeline-main is duplicate",
        ),
        (
            {"pipelineTriggers": [{"eventSource": "nope", "pipeline": "pipeline-main"}]},
            "found non-existent event source nope in trigger",
        ),
        (
            {"pipelineTriggers": [{"eventSource": "webhook-main-push", "pipeline": "nope"}]},
            "found non-existent pipeline nope in trigger",
        ),
        (
            {
                "pipelineTriggers": [
                    {"eventSource": "webhook-main-push", "pipeline": "pipeline-main"},
                    {"eventSource": "webhook-main-push", "pipeline": "pipeline-main"},
                ]
            },
            "trigger is duplicate, event source webhook-main-push, pipeline pipeline-main, "
            "trigger ",
        ),
        (
            {"additionalResources": {"git": {"revision": "main", "path": "test"}}},
            "code repo and url can not be empty at the same time",
        ),
    ],
    ids=["event-source", "pipeline", "trigger-source", "trigger-pipeline", "trigger", "extra"],
)
def test_ppr_static_check(overrides: dict[str, Any], message: str) -> None:
    assert static_messages(ppr(**overrides)) == [PPR_PREFIX + message]


def test_triggers_differing_in_revision_are_not_duplicates() -> None:
    triggers = [
        {"eventSource": "webhook-main-push", "pipeline": "pipeline-main"},
        {"eventSource": "webhook-main-push", "pipeline": "pipeline-main", "revision": "dev"},
    ]
    assert static_messages(ppr(pipelineTriggers=triggers)) == []


def trigger_with(*inputs: Any) -> list[dict[str, Any]]:
    return [
        {"eventSource": "webhook-main-push", "pipeline": "pipeline-main", "inputs": list(inputs)}
    ]


KUSTOMIZE = {"kustomization": {"path": "spec/params/0/value"}}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"source": {}, "transmissionMethod": KUSTOMIZE}, rules.INPUT_SOURCE_EMPTY),
        (
            {"source": {"builtInVar": "", "fromEvent": ""}, "transmissionMethod": KUSTOMIZE},
            rules.INPUT_SOURCE_EMPTY,
        ),
        (
            {
                "source": {"builtInVar": "Namespace", "fromEvent": "body.ref"},
                "transmissionMethod": KUSTOMIZE,
            },
            rules.INPUT_SOURCE_BOTH,
        ),
        ({"source": {"builtInVar": "Namespace"}}, rules.INPUT_TRANSMISSION_NIL),
        (
            {"source": {"builtInVar": "Namespace"}, "transmissionMethod": {}},
            rules.INPUT_TRANSMISSION_NIL,
        ),
    ],
)
def test_trigger_inputs(item: dict[str, Any], message: str) -> None:
    assert static_messages(ppr(pipelineTriggers=trigger_with(item))) == [PPR_PREFIX + message]


def test_kustomization_needs_a_path() -> None:
    item = {
        "source": {"builtInVar": "Namespace"},
        "transmissionMethod": {"kustomization": {"a": 1}},
    }
    assert static_messages(ppr(pipelineTriggers=trigger_with(item))) == [
        "pipelineTriggers[0].inputs[0].transmissionMethod.kustomization.path is required"
    ]


def test_unknown_kinds_are_problems() -> None:
    artifact = Resource("ArtifactRepo", "x", "artifact-repos/x/x.yaml", {})
    assert static_messages(artifact) == ["unknown kind ArtifactRepo"]


def test_trigger_input_messages_are_upstreams() -> None:
    assert rules.INPUT_SOURCE_EMPTY == "builtInVar and fromEvent cannot be empty at the same time"
    assert rules.INPUT_SOURCE_BOTH == "both builtInVar and fromEvent has value"
    assert rules.INPUT_TRANSMISSION_NIL == "transmission method can not be nil"


def test_valid_trigger_inputs() -> None:
    items = [
        {"source": {"builtInVar": "PipelineRevision"}, "transmissionMethod": KUSTOMIZE},
        {"source": {"fromEvent": "body.ref", "builtInVar": ""}, "transmissionMethod": KUSTOMIZE},
    ]
    assert static_messages(ppr(pipelineTriggers=trigger_with(*items))) == []


def test_additional_resources_need_revision_and_path() -> None:
    extra = {"git": {"url": "https://example.com/x.git"}}
    assert static_messages(ppr(additionalResources=extra)) == [
        "additionalResources.git.revision is required",
        "additionalResources.git.path is required",
    ]


def test_ppr_namespace_is_a_label_and_defaults_to_its_name() -> None:
    assert static_messages(ppr(destination={"environment": "e", "namespace": "a.b"})) == [
        rules.INVALID_LABEL.format(field="destination.namespace", value="a.b")
    ]
    assert static_messages(ppr("pr.demo")) == [
        rules.INVALID_LABEL.format(
            field="destination.namespace (default: the runtime name)", value="pr.demo"
        )
    ]


def test_hooks_need_a_name() -> None:
    hooks = {"preHooks": [{"alias": "x"}], "postHooks": [{"name": "log", "vars": {"a": "b"}}]}
    assert static_messages(ppr(hooks=hooks)) == ["hooks.preHooks[0].name is required"]


# ---- ProjectPipelineRuntime: global -------------------------------------------------------------


def test_pipelines_of_one_runtime_cannot_share_a_path() -> None:
    pipelines = [
        {"name": "pipeline-main", "path": "pipelines/main.yaml"},
        {"name": "pipeline-copy", "path": "pipelines/main.yaml"},
    ]
    state = replaced(full_state(), ppr(pipelines=pipelines))
    found = global_messages(state)
    assert len(found) == 1
    assert found[0].startswith(
        "ProjectPipelineRuntime pr-demo uses the same code repository for both codeSource and "
        "pipelineSource under project-demo directory, as found in the global validation"
    )
    assert "pipelines pipeline-main and pipeline-copy have the same path" in found[0]


@pytest.mark.parametrize(
    ("overrides", "kind", "name"),
    [
        ({"project": "ghost"}, "Project", "ghost"),
        ({"destination": {"environment": "env-gone", "namespace": ""}}, "Environment", "env-gone"),
        ({"pipelineSource": "repo-99"}, "CodeRepo", "repo-99"),
        (
            {
                "eventSources": [
                    {"name": "webhook-main-push", "gitlab": {"repoName": "repo-98", "events": []}}
                ]
            },
            "CodeRepo",
            "repo-98",
        ),
        (
            {"additionalResources": {"git": {"codeRepo": "repo-97", "revision": "m", "path": "p"}}},
            "CodeRepo",
            "repo-97",
        ),
    ],
    ids=["project", "environment", "pipeline-source", "event-source", "additional"],
)
def test_ppr_references_must_exist(overrides: dict[str, Any], kind: str, name: str) -> None:
    resource = ppr(**overrides)
    directory = f"projects/{resource.spec['project']}"
    assert global_messages(replaced(full_state(), resource)) == [
        f"during global validation, it was found that {kind} '{name}' does not exist or is "
        f"unavailable. Please check ProjectPipelineRuntime 'pr-demo' in directory '{directory}'"
    ]


def test_two_pprs_with_same_source_destination_and_path_are_duplicates() -> None:
    other = ppr("pr-copy", destination={"environment": "env-dev-demo", "namespace": "pr-copy"})
    same_ns = ppr("pr-copy", destination={"environment": "env-dev-demo", "namespace": ""})
    assert check_global(replaced(full_state(), other)) == []
    found = global_messages(replaced(full_state(), same_ns))
    assert "duplicate reference found between resource pr-copy and resource pr-demo" in found


def test_ppr_cluster_must_be_a_pipeline_worker() -> None:
    clusters = {"cluster-dev": cluster(), "cluster-pipeline": cluster("deployment")}
    assert global_messages(full_state(clusters=clusters)) == [
        PPR_PREFIX + "cluster is not a pipeline cluster"
    ]


def test_ppr_cluster_must_have_a_pipeline_component() -> None:
    no_tekton = cluster("pipeline")
    del no_tekton["componentsList"]["pipeline"]
    clusters = {"cluster-dev": cluster(), "cluster-pipeline": no_tekton}
    assert global_messages(full_state(clusters=clusters)) == [
        PPR_PREFIX + "cluster component pipeline is empty"
    ]


def test_ppr_needs_permission_on_its_pipeline_source() -> None:
    state = replaced(full_state(), ppr(pipelineSource="repo-34"))
    assert global_messages(state) == [PPR_PREFIX + "not permitted to use repository repo-34"]
    granted = replaced(state, binding("grant", "repo-34", ["project-demo"]))
    assert check_global(granted) == []


def test_ppr_needs_permission_on_additional_resources() -> None:
    extra = {"git": {"codeRepo": "repo-34", "revision": "main", "path": "test"}}
    state = replaced(full_state(), ppr(additionalResources=extra))
    assert global_messages(state) == [
        PPR_PREFIX + "pipeline can not use code repo repo-34 in additional resource: "
        "not permitted to use repository repo-34"
    ]


def test_ppr_needs_permission_on_event_source_repos() -> None:
    sources = [
        {"name": "a", "gitlab": {"repoName": "repo-34", "events": ["push_events"]}},
        {"name": "b", "gitlab": {"repoName": "repo-35", "events": ["push_events"]}},
    ]
    triggers = [{"eventSource": "a", "pipeline": "pipeline-main"}]
    state = replaced(full_state(), ppr(eventSources=sources, pipelineTriggers=triggers))
    assert global_messages(state) == [
        PPR_PREFIX + "not permitted to use repository repo-34; "
        "not permitted to use repository repo-35"
    ]


def test_ppr_namespace_used_by_a_dr_of_this_product_on_the_same_cluster() -> None:
    taken = dr(
        "dr-pipe",
        destination={"environment": "env-dev-demo", "namespaces": ["pr-demo"]},
    )
    state = replaced(
        full_state(clusters={"cluster-dev": cluster(), "cluster-pipeline": cluster("pipeline")}),
        taken,
    )
    found = global_messages(state)
    assert PPR_PREFIX + "namespace pr-demo is used by other runtime" in found


def test_ppr_namespace_used_by_another_product() -> None:
    other = foreign(("pr-demo",), cluster_name="cluster-pipeline")
    assert global_messages(full_state(foreign=[other])) == [
        PPR_PREFIX + "namespace pr-demo is used by other runtime"
    ]
    elsewhere = foreign(("pr-demo",), cluster_name="cluster-dev")
    assert check_global(full_state(foreign=[elsewhere])) == []


def test_two_pprs_of_this_product_cannot_share_a_namespace() -> None:
    twin = ppr(
        "pr-twin",
        pipelines=[{"name": "pipeline-main", "path": "pipelines/other.yaml"}],
        destination={"environment": "env-dev-demo", "namespace": "pr-demo"},
    )
    problems = check_global(replaced(full_state(), twin))
    # Each runtime is validated against the other, as upstream does.
    assert [(p.name, p.message) for p in problems] == [
        ("pr-demo", PPR_PREFIX + "namespace pr-demo is used by other runtime"),
        ("pr-twin", PPR_PREFIX + "namespace pr-demo is used by other runtime"),
    ]


@pytest.mark.parametrize(
    ("hooks", "found"),
    [
        ({"preHooks": [{"name": "log"}], "postHooks": [{"name": "log", "alias": "post-log"}]}, []),
        (
            {"preHooks": [{"name": "log"}, {"name": "log", "alias": "x"}]},
            ["a duplicate hook log was found"],
        ),
        (
            {"preHooks": [{"name": "log"}], "postHooks": [{"name": "log"}]},
            ["hook alias log is used by other hook"],
        ),
        (
            {"preHooks": [{"name": "log", "alias": "a"}, {"name": "ls", "alias": "a"}]},
            ["hook alias a is used by other hook"],
        ),
        ({"preHooks": [{"name": "any-hook-name", "vars": {"k": "v"}}]}, []),
    ],
    ids=["pre-and-post", "duplicate", "same-in-both-phases", "alias", "no-catalogue"],
)
def test_hooks(hooks: dict[str, Any], found: list[str]) -> None:
    state = replaced(full_state(), ppr(hooks=hooks))
    assert global_messages(state) == [PPR_PREFIX + "hook is illegal: " + m for m in found]


# ---- check_global as a whole --------------------------------------------------------------------


def test_one_broken_resource_is_reported_whatever_is_saved() -> None:
    broken = env("env-broken", "cluster-gone")
    problems = check_global(replaced(full_state(), broken))
    assert [(p.kind, p.name) for p in problems] == [("Environment", "env-broken")]


def test_global_problems_are_in_kind_then_name_order() -> None:
    state = replaced(
        full_state(),
        ppr(project="ghost"),
        dr("dr-b", projectsRef=["ghost"]),
        dr(
            "dr-a",
            projectsRef=["ghost"],
            destination={"environment": "env-dev", "namespaces": ["x"]},
        ),
        binding("b-1", "repo-99"),
        repo("repo-77", "r", owner="ghost"),
        env("env-z", "cluster-gone"),
        env("env-a", "cluster-gone2"),
    )
    order = [(p.kind, p.name) for p in check_global(state)]
    assert list(dict.fromkeys(order)) == [
        ("Environment", "env-a"),
        ("Environment", "env-z"),
        ("CodeRepo", "repo-77"),
        ("CodeRepoBinding", "b-1"),
        ("DeploymentRuntime", "dr-a"),
        ("DeploymentRuntime", "dr-b"),
        ("ProjectPipelineRuntime", "pr-demo"),
    ]
    assert check_global(state) == check_global(state)


def test_static_problems_of_every_resource_are_part_of_the_global_check() -> None:
    state = replaced(full_state(), with_spec(project("api-server"), product="product-1"))
    assert global_messages(state) == [
        "the product name of resource api-server does not match the current product name, "
        "expected is product-12, but now is product-1"
    ]


# ---- check_update -------------------------------------------------------------------------------


def test_binding_repo_cannot_change() -> None:
    old = binding("coderepo-binding-vault-proxy", "repo-35", ["argo-operator"])
    new = with_spec(old, codeRepo="repo-34")
    problems = check_update("CodeRepoBinding", old, new, full_state())
    assert [(p.message, p.status, p.reason) for p in problems] == [
        (
            "It is not allowed to modify the authorized repository. If you want to change the "
            "authorized repository, please delete the authorization",
            400,
            "NOT_ALLOWED_MODIFY",
        )
    ]
    assert check_update("CodeRepoBinding", old, with_spec(old, projects=[]), full_state()) == []


def test_ppr_project_cannot_change() -> None:
    old = ppr()
    problems = check_update("ProjectPipelineRuntime", old, ppr(project="api-server"), full_state())
    assert messages(problems) == [
        "existing pipeline runtime is not allow modifying the project field"
    ]
    assert problems[0].status == 400
    assert check_update("ProjectPipelineRuntime", old, ppr(isolation="shared"), full_state()) == []


def test_environment_cluster_cannot_change_under_runtimes() -> None:
    state = full_state()
    old = env()
    problems = check_update("Environment", old, env(cluster_name="cluster-new"), state)
    assert [(p.status, p.reason) for p in problems] == [(409, "RESOURCE_IN_USE")]
    assert "deploymentRuntime/dr-dev" in problems[0].message
    assert "cluster-dev" in problems[0].message
    assert "cluster-new" in problems[0].message
    assert check_update("Environment", old, with_spec(old, envType="test"), state) == []
    unused = state.without("DeploymentRuntime", "dr-dev")
    assert check_update("Environment", old, env(cluster_name="cluster-new"), unused) == []


# ---- delete_blockers ----------------------------------------------------------------------------


def test_environment_referenced_by_runtimes_cannot_be_deleted() -> None:
    state = replaced(
        full_state(),
        ppr("pr-dev", destination={"environment": "env-dev", "namespace": ""}),
    )
    problems = delete_blockers("Environment", "env-dev", state)
    assert [(p.message, p.status, p.reason) for p in problems] == [
        (
            "environment referenced by [deploymentRuntime/dr-dev|pipelineRuntime/pr-dev], "
            "not allowed to be deleted",
            409,
            "RESOURCE_IN_USE",
        )
    ]
    assert delete_blockers("Environment", "env-unused", state) == []


def test_project_referenced_by_anything_cannot_be_deleted() -> None:
    state = replaced(
        full_state(),
        binding("grant", "repo-3", ["api-server"]),
        ppr("pr-api", project="api-server"),
    )
    assert messages(delete_blockers("Project", "api-server", state)) == [
        "project referenced by [codeRepo/repo-34|codeRepoBinding/grant|deploymentRuntime/dr-dev|"
        "pipelineRuntime/pr-api], not allowed to be deleted"
    ]
    assert messages(delete_blockers("Project", "argo-operator", state)) == [
        "project referenced by [codeRepoBinding/coderepo-binding-vault-proxy], "
        "not allowed to be deleted"
    ]


def test_coderepo_referenced_by_anything_cannot_be_deleted() -> None:
    assert messages(delete_blockers("CodeRepo", "repo-34", full_state())) == [
        "coderepo referenced by [deploymentRuntime/dr-dev], not allowed to be deleted"
    ]
    assert messages(delete_blockers("CodeRepo", "repo-35", full_state())) == [
        "coderepo referenced by [codeRepoBinding/coderepo-binding-vault-proxy], "
        "not allowed to be deleted"
    ]
    extra = {"git": {"codeRepo": "repo-35", "revision": "m", "path": "p"}}
    sources = [{"name": "s", "gitlab": {"repoName": "repo-34", "events": []}}]
    state = replaced(full_state(), ppr("pr-x", additionalResources=extra, eventSources=sources))
    assert "pipelineRuntime/pr-x" in messages(delete_blockers("CodeRepo", "repo-35", state))[0]
    assert "pipelineRuntime/pr-x" in messages(delete_blockers("CodeRepo", "repo-34", state))[0]
    assert "pipelineRuntime/pr-demo" in messages(delete_blockers("CodeRepo", "repo-3", state))[0]


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("CodeRepoBinding", "coderepo-binding-vault-proxy"),
        ("DeploymentRuntime", "dr-dev"),
        ("ProjectPipelineRuntime", "pr-demo"),
        ("Project", "project-unused"),
    ],
)
def test_resources_nobody_references_have_no_blockers(kind: str, name: str) -> None:
    assert delete_blockers(kind, name, full_state()) == []


# ---- Wrong types never raise --------------------------------------------------------------------

# Per kind: a dotted path into the spec, and a value of the wrong type for it.
_WRONG_TYPES: dict[str, list[tuple[str, Any]]] = {
    "Environment": [("cluster", 5), ("envType", ["dev"]), ("product", {"a": 1})],
    "Project": [("language", 1.5), ("product", None)],
    "CodeRepo": [
        ("codeRepoProvider", 1),
        ("project", ["p"]),
        ("repoName", {}),
        ("url", 7),
        ("deploymentRuntime", "yes"),
        ("pipelineRuntime", 1),
        ("webhook", "push_events"),
        ("webhook.events", "push_events"),
        ("webhook.events.0", 3),
    ],
    "CodeRepoBinding": [
        ("codeRepo", ["repo-35"]),
        ("permissions", 1),
        ("projects", "argo-operator"),
        ("projects.0", {"p": 1}),
    ],
    "DeploymentRuntime": [
        ("projectsRef", "api-server"),
        ("projectsRef.0", 1),
        ("account", 1),
        ("manifestSource", "repo-34"),
        ("manifestSource.codeRepo", 34),
        ("manifestSource.targetRevision", None),
        ("manifestSource.path", ["a"]),
        ("destination", "env-dev"),
        ("destination.environment", {"name": "env-dev"}),
        ("destination.namespaces", "dr-dev"),
        ("destination.namespaces.0", 1),
    ],
    "ProjectPipelineRuntime": [
        ("project", 1),
        ("pipelineSource", ["repo-3"]),
        ("account", True),
        ("isolation", ["shared"]),
        ("pipelines", {"name": "x"}),
        ("pipelines.0", "pipeline-main"),
        ("pipelines.0.name", 1),
        ("pipelines.0.path", {}),
        ("pipelines.0.label", 1),
        ("eventSources", "webhook-main-push"),
        ("eventSources.0", 1),
        ("eventSources.0.name", None),
        ("eventSources.0.gitlab", "repo-3"),
        ("eventSources.0.gitlab.repoName", 3),
        ("eventSources.0.gitlab.revision", 3),
        ("eventSources.0.gitlab.events", "push_events"),
        ("eventSources.0.calendar", "daily"),
        ("eventSources.0.calendar.schedule", 5),
        ("eventSources.0.calendar.exclusionDates", "x"),
        ("pipelineTriggers", {"a": 1}),
        ("pipelineTriggers.0", []),
        ("pipelineTriggers.0.eventSource", 1),
        ("pipelineTriggers.0.pipeline", ["x"]),
        ("pipelineTriggers.0.revision", 1),
        ("pipelineTriggers.0.inputs", "x"),
        ("pipelineTriggers.0.inputs.0", "x"),
        ("destination", "env-dev-demo"),
        ("destination.environment", 1),
        ("destination.namespace", ["ns"]),
        ("additionalResources", "x"),
        ("additionalResources.git", ["x"]),
        ("additionalResources.git.codeRepo", 1),
        ("hooks", ["log"]),
        ("hooks.preHooks", {"name": "log"}),
        ("hooks.preHooks.0", "log"),
        ("hooks.preHooks.0.name", 1),
        ("hooks.preHooks.0.alias", 1),
        ("hooks.preHooks.0.vars", {"a": 1}),
    ],
}


def _rich_ppr() -> Resource:
    """The example runtime with every optional part filled in, so each path exists."""
    return ppr(
        pipelineTriggers=[
            {
                "eventSource": "webhook-main-push",
                "pipeline": "pipeline-main",
                "revision": "main",
                "inputs": [
                    {"source": {"builtInVar": "Namespace"}, "transmissionMethod": KUSTOMIZE}
                ],
            }
        ],
        additionalResources={"git": {"codeRepo": "repo-3", "revision": "main", "path": "test"}},
        hooks={"preHooks": [{"name": "log", "alias": "pre-log", "vars": {"printPath": "/var"}}]},
        account="pr-demo",
    )


def _sample(kind: str) -> Resource:
    state = full_state()
    if kind == "ProjectPipelineRuntime":
        return _rich_ppr()
    if kind == "CodeRepoBinding":
        return state.get(kind, "coderepo-binding-vault-proxy")  # type: ignore[return-value]
    name = {"Environment": "env-dev", "Project": "api-server", "CodeRepo": "repo-34"}.get(
        kind, "dr-dev"
    )
    return state.get(kind, name)  # type: ignore[return-value]


def _set_path(spec: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    *parents, last = path.split(".")
    node: Any = spec
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return spec


_CASES = [(kind, path, value) for kind, items in _WRONG_TYPES.items() for path, value in items]


def test_the_rich_samples_are_valid() -> None:
    assert check_global(replaced(full_state(), _rich_ppr())) == []


@pytest.mark.parametrize(("kind", "path", "value"), _CASES, ids=[f"{k}:{p}" for k, p, _ in _CASES])
def test_wrong_types_are_problems_not_exceptions(kind: str, path: str, value: Any) -> None:
    sample = _sample(kind)
    broken = Resource(kind, sample.name, sample.path, _set_path(sample.spec, path, value))
    assert check_static(broken, full_state()), f"{path}={value!r} was accepted"
    state = replaced(full_state(), broken)
    assert check_global(state)
    # Update and delete checks read the same broken spec.
    check_update(kind, broken, sample, state)
    check_update(kind, sample, broken, state)
    for target_kind in rules.KIND_ORDER:
        for target in list(state.of_kind(target_kind)):
            delete_blockers(target_kind, target, state)


@pytest.mark.parametrize("junk", [None, 1, "x", [1, "a"], {"x": {"y": []}}, True])
@pytest.mark.parametrize("kind", rules.KIND_ORDER)
def test_any_junk_anywhere_never_raises(kind: str, junk: Any) -> None:
    sample = _sample(kind)
    for key in list(sample.spec):
        broken = Resource(kind, sample.name, sample.path, dict(sample.spec, **{key: junk}))
        state = replaced(full_state(), broken)
        check_static(broken, state)
        check_global(state)
    whole = Resource(kind, sample.name, sample.path, junk)  # type: ignore[arg-type]
    state = replaced(full_state(), whole)
    assert check_static(whole, state)
    check_global(state)
    delete_blockers(kind, sample.name, state)


def test_junk_clusters_and_bindings_never_raise() -> None:
    clusters = {"cluster-dev": "junk", "cluster-pipeline": {"componentsList": ["x"], "usage": 1}}
    state = full_state(clusters=clusters)
    state = replaced(state, binding("junk", "repo-34", projects={"a": 1}))
    assert check_global(state)
