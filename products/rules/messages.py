"""The texts of the product rules: upstream's verbatim (typos included, filled with
str.format), then the portal's own; each rule module formats the ones it reports."""

from __future__ import annotations

DR_PREFIX = "verify deployment runtime failed, err: "
PPR_PREFIX = "verify project pipeline runtime failed, err: "
HOOK_PREFIX = "hook is illegal: "

# ---- Messages: upstream's texts verbatim (typos included), filled with str.format ------

PRODUCT_MISMATCH = (
    "the product name of resource {name} does not match the current product name, "
    "expected is {expected}, but now is {actual}"
)
INVALID_WEBHOOK = (
    "invalid webhook {event} please refer to gitlab api documentation: "
    "https://docs.gitlab.com/ee/api/projects.html#edit-project-hook"
)
# biz `_ResourceDoesNotExistOrUnavailable`.
UNAVAILABLE = (
    "during global validation, it was found that {kind} '{name}' does not exist or is "
    "unavailable. Please check {owner_kind} '{owner}' in directory '{directory}'"
)
# biz `ResourceDoesNotExistOrUnavailable` (reason RESOURCE_NOT_EXIST), used for runtimes.
DR_UNAVAILABLE = (
    "During global validation, it was found that {name} '{kind}' does not exist or is "
    "unavailable. Please check resource path of default project: runtimes/{runtime}"
)
DR_REPO_UNAVAILABLE = DR_UNAVAILABLE + ", err: failed to get codeRepo {name}"
DR_PROJECT_MISSING = (
    "the referenced project {project} by the deployment runtime {runtime} does not exist "
    "while verifying the validity of the global template"
)
BINDING_REPO_MISSING = (
    "the authorization repository {repo} does not exist when checking CodeRepoBinding {binding}"
)
BINDING_PROJECT_MISSING = "project resource {project} does not exist or is invalid"
ENV_CLUSTER_SHARED = "duplicate reference cluster resources sbetween resource {a} and resource {b}"
DUPLICATE_REFERENCE = "duplicate reference found between resource {a} and resource {b}"
# Upstream's text is misleading, so the portal says what is actually wrong after it.
DUPLICATE_PIPELINE_PATH = (
    "ProjectPipelineRuntime {runtime} uses the same code repository for both codeSource and "
    "pipelineSource under {project} directory, as found in the global validation: "
    "pipelines {a} and {b} have the same path {path}"
)
BINDING_REPO_IMMUTABLE = (
    "It is not allowed to modify the authorized repository. If you want to change the "
    "authorized repository, please delete the authorization"
)
PPR_PROJECT_IMMUTABLE = "existing pipeline runtime is not allow modifying the project field"
PPR_DESTINATION_MISSING = (
    "pipeline deployment target configuration not submitted, please checked '.Destination' field"
)
REFERENCED_BY = "{noun} referenced by [{referrers}], not allowed to be deleted"
# `DeploymentRuntime.Validate` / `ProjectPipelineRuntime.Validate` and StaticCheck; the global
# validation puts DR_PREFIX / PPR_PREFIX in front of them.
CLUSTER_MISSING = "get cluster by runtime failed: cluster {cluster} does not exist"
DR_NOT_DEPLOYMENT_CLUSTER = "cluster is not a deployment cluster"
DR_COMPONENT_NAMESPACE = "deployment runtime can not use component namespace {namespace}"
DR_NAMESPACES_TAKEN = "namespaces [{namespaces}] is used by other product"
DR_PROJECT_ILLEGAL = "project {project} is illegal: {error}"
NOT_PERMITTED = "not permitted to use repository {repo}"
PPR_NOT_PIPELINE_CLUSTER = "cluster is not a pipeline cluster"
PPR_ADDITIONAL_NOT_PERMITTED = (
    "pipeline can not use code repo {repo} in additional resource: {error}"
)
PPR_NAMESPACE_TAKEN = "namespace {namespace} is used by other runtime"
PPR_NO_PIPELINE_COMPONENT = "cluster component pipeline is empty"
EVENT_SOURCE_DUPLICATE = "event source {name} is duplicate"
PIPELINE_DUPLICATE = "pipeline {name} is duplicate"
ADDITIONAL_GIT_EMPTY = "code repo and url can not be empty at the same time"
TRIGGER_SOURCE_MISSING = "found non-existent event source {name} in trigger"
TRIGGER_PIPELINE_MISSING = "found non-existent pipeline {name} in trigger"
TRIGGER_DUPLICATE = (
    "trigger is duplicate, event source {source}, pipeline {pipeline}, trigger {revision}"
)
INPUT_SOURCE_EMPTY = "builtInVar and fromEvent cannot be empty at the same time"
INPUT_SOURCE_BOTH = "both builtInVar and fromEvent has value"
INPUT_TRANSMISSION_NIL = "transmission method can not be nil"
HOOK_DUPLICATE = "a duplicate hook {name} was found"
HOOK_ALIAS_TAKEN = "hook alias {alias} is used by other hook"


# ---- Messages: the portal's own ---------------------------------------------------

INVALID_SUBDOMAIN = (
    "{field} '{value}' is invalid: must be a lowercase RFC 1123 subdomain (lowercase letters, "
    "digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)"
)
INVALID_LABEL = (
    "{field} '{value}' is invalid: must be a lowercase RFC 1123 label (lowercase letters, "
    "digits and '-', starting and ending with a letter or digit, at most 63 characters)"
)
REQUIRED = "{field} is required"
WRONG_TYPE = "{field} must be {expected}"
NOT_ONE_OF = "{field} must be one of {allowed}, but is '{value}'"
TOO_FEW = "{field} must have at least {count} item(s)"
EMPTY_ITEM = "{field} must not be empty"
UNKNOWN_KIND = "unknown kind {kind}"
# Upstream dereferences a missing DR destination (a 500 panic); the portal says what to send.
DR_DESTINATION_MISSING = (
    "destination is required: set destination.environment to the environment to deploy to"
)
# The docs' rule upstream never enforced (nautes.md §3.2, §8 item 13).
ENV_CLUSTER_LOCKED = (
    "the cluster of environment {env} cannot be changed from {old} to {new} while runtimes "
    "are deployed to it: [{referrers}]; delete them first"
)
DEFAULT_NAMESPACE_FIELD = "{field} (default: the runtime name)"
# Namespace ownership (a security rule; upstream has the component and "used by" parts only).
_ONLY_OWN = "a runtime may use only its product's namespaces"
NS_SYSTEM = "namespace {namespace} is reserved for the cluster (system namespace); " + _ONLY_OWN
NS_PLATFORM = "namespace {namespace} is reserved for the Nautes platform; " + _ONLY_OWN
NS_OTHER_PRODUCT = "namespace {namespace} is the product namespace of another product; " + _ONLY_OWN
# Why the Argo CD namespace is never granted (#12): a runtime account administering it could
# write AppProjects, and an AppProject may allow any destination and any cluster resource.
ARGOCD_NEVER_GRANTED = (
    "it is the cluster's Argo CD namespace, which no allow-list can grant (a runtime there "
    "could write Argo CD projects, and so reach the whole cluster)"
)
NS_ARGOCD = (
    "namespace {namespace} is reserved for the cluster (namespace of a cluster component): "
    + ARGOCD_NEVER_GRANTED
    + "; "
    + _ONLY_OWN
)
NS_COMPONENT = (
    "namespace {namespace} is reserved for the cluster (namespace of a cluster component); "
    + _ONLY_OWN
    + ", or a component namespace the cluster's reserved_namespaces_allowed_products names "
    "this product for"
)
