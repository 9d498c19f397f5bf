"""Browser forms for products and their resources, and the product setup wizard's draft.

Forms parse what the user typed into the API body shape (snake_case, repository names), so the
browser and the REST API share one conversion path (`products.api.codecs`) and one set of rules
(`products.rules`, through the services or `Draft` below). Forms never write anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml
from django import forms
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import QuerySet

from nautes_portal.errors import RuleViolation
from nautes_portal.limits import InputRefused, load_yaml_bounded
from nautes_portal.ui.forms import AccessibleForm
from nautes_portal.yaml_io import dump_yaml
from products import rules, services
from products.api import codecs
from products.api import serializers as bodies
from products.api.views import KIND_APIS, KindApi
from products.indexing import complete_state
from products.manifests import build_document, kustomization, resource_path
from products.state import ProductState, Resource

NAME_HELP = "Lowercase letters, digits and '-', starting and ending with a letter or digit."


def split_list(text: str) -> list[str]:
    """Split a comma- or whitespace-separated list, dropping empty entries."""
    return [item for item in text.replace(",", " ").split() if item]


# ---- Choices shown by resource forms --------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """What a resource form may refer to: clusters, and the product's own resources by name."""

    clusters: list[tuple[str, str]] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    repos: list[str] = field(default_factory=list)


def suitable_cluster_rows() -> QuerySet[Any]:
    """Clusters an environment may use: worker clusters for deployments or pipelines."""
    from clusters.models import Cluster

    return Cluster.objects.filter(usage="worker", worker_type__in=["deployment", "pipeline"])


def suitable_clusters() -> list[tuple[str, str]]:
    """The environment form's cluster choices (value, label)."""
    rows = suitable_cluster_rows()
    return [
        (c.name, f"{c.name} — {c.worker_type} worker, {c.cluster_type}")
        for c in rows.only("name", "worker_type", "cluster_type").order_by("name")
    ]


def _with_current(options: list[tuple[str, str]], current: str) -> list[tuple[str, str]]:
    """Keep a stored value that is no longer offered, so editing does not silently change it."""
    if current and current not in {value for value, _ in options}:
        return [*options, (current, f"{current} (not a suitable choice)")]
    return options


def _pairs(names: Iterable[str]) -> list[tuple[str, str]]:
    return [(name, name) for name in names]


# ---- Resource forms ---------------------------------------------------------------------------


class ResourceForm(AccessibleForm):
    """A form for one resource kind; `body()` returns the API request body."""

    name = forms.CharField(max_length=253, help_text=NAME_HELP)

    def __init__(
        self,
        *args: Any,
        choices: Choices | None = None,
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.setup(choices or Choices(), dict(self.initial))
        if editing:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "The name cannot change; delete and add instead."
        self._describe()

    def setup(self, choices: Choices, initial: dict[str, Any]) -> None:
        """Fill choice fields; `initial` holds the stored values when editing."""

    def body(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def initial_from(cls, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    @staticmethod
    def summary(body: Mapping[str, Any]) -> str:
        """One line describing a resource body (wizard lists)."""
        return ""


class EnvironmentForm(ResourceForm):
    cluster = forms.ChoiceField(
        label="Runtime cluster",
        help_text="Only worker clusters for deployments or pipelines are offered.",
    )
    env_type = forms.CharField(
        label="Environment type",
        max_length=255,
        help_text="For example development, test or production.",
    )

    def setup(self, choices: Choices, initial: dict[str, Any]) -> None:
        options = _with_current(list(choices.clusters), str(initial.get("cluster") or ""))
        self.fields["cluster"].choices = [("", "Choose a cluster…"), *options]

    def body(self) -> dict[str, Any]:
        return {"cluster": self.cleaned_data["cluster"], "env_type": self.cleaned_data["env_type"]}

    @classmethod
    def initial_from(cls, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": name, "cluster": body.get("cluster", ""), "env_type": body.get("env_type")}

    @staticmethod
    def summary(body: Mapping[str, Any]) -> str:
        return f"{body.get('env_type', '')} on cluster {body.get('cluster', '')}"


class ProjectForm(ResourceForm):
    language = forms.CharField(max_length=255, required=False, help_text="For example Go or Java.")

    def body(self) -> dict[str, Any]:
        return {"language": self.cleaned_data["language"]}

    @classmethod
    def initial_from(cls, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": name, "language": body.get("language", "")}

    @staticmethod
    def summary(body: Mapping[str, Any]) -> str:
        return str(body.get("language") or "")


# `/products/new/` is the setup wizard, so a product called "new" would have no page.
RESERVED_PRODUCT_NAMES = frozenset({"new"})
VISIBILITY_CHOICES = [("private", "Private"), ("public", "Public")]


class CodeRepoForm(ResourceForm):
    name = forms.CharField(
        label="Repository name",
        max_length=255,
        help_text="The Git project path inside the product group. " + NAME_HELP,
    )
    project = forms.ChoiceField(required=False, label="Owning project")
    description = forms.CharField(required=False, max_length=2000)
    visibility = forms.ChoiceField(
        choices=VISIBILITY_CHOICES, initial="private", widget=forms.RadioSelect
    )
    deployment_runtime = forms.BooleanField(
        required=False, initial=True, label="Holds deployment manifests"
    )
    pipeline_runtime = forms.BooleanField(required=False, label="Holds pipelines")
    webhook_events = forms.MultipleChoiceField(
        required=False,
        initial=["push_events"],
        choices=[(event, event) for event in sorted(rules.WEBHOOK_EVENTS)],
        widget=forms.CheckboxSelectMultiple,
        label="Webhook events",
        help_text="GitLab events that notify Nautes.",
    )

    def setup(self, choices: Choices, initial: dict[str, Any]) -> None:
        options = _with_current(_pairs(choices.projects), str(initial.get("project") or ""))
        self.fields["project"].choices = [("", "— none —"), *options]

    def body(self) -> dict[str, Any]:
        data = self.cleaned_data
        events = list(data["webhook_events"])
        return {
            "project": data["project"],
            "webhook": {"events": events} if events else None,
            "deployment_runtime": data["deployment_runtime"],
            "pipeline_runtime": data["pipeline_runtime"],
            "git": {
                "gitlab": {
                    "name": data["name"],
                    "path": data["name"],
                    "visibility": data["visibility"],
                    "description": data["description"],
                }
            },
        }

    @classmethod
    def initial_from(cls, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        gitlab = (body.get("git") or {}).get("gitlab") or {}
        webhook = body.get("webhook") or {}
        return {
            "name": name,
            "project": body.get("project", ""),
            "description": gitlab.get("description", ""),
            "visibility": gitlab.get("visibility") or "private",
            "deployment_runtime": bool(body.get("deployment_runtime")),
            "pipeline_runtime": bool(body.get("pipeline_runtime")),
            "webhook_events": list(webhook.get("events") or []),
        }

    @staticmethod
    def summary(body: Mapping[str, Any]) -> str:
        gitlab = (body.get("git") or {}).get("gitlab") or {}
        uses = [
            label
            for key, label in (
                ("deployment_runtime", "deployments"),
                ("pipeline_runtime", "pipelines"),
            )
            if body.get(key)
        ]
        owner = f"project {body['project']}, " if body.get("project") else ""
        return f"{owner}{gitlab.get('visibility', 'private')}, for {' and '.join(uses) or '—'}"


class BindingForm(ResourceForm):
    coderepo = forms.ChoiceField(label="Repository")
    projects = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave every project unticked to grant the whole product.",
    )
    permissions = forms.ChoiceField(
        choices=[("readonly", "Read only"), ("readwrite", "Read and write")],
        initial="readonly",
        widget=forms.RadioSelect,
    )

    def setup(self, choices: Choices, initial: dict[str, Any]) -> None:
        repos = _with_current(_pairs(choices.repos), str(initial.get("coderepo") or ""))
        self.fields["coderepo"].choices = [("", "Choose a repository…"), *repos]
        stored = [p for p in initial.get("projects") or [] if p not in choices.projects]
        self.fields["projects"].choices = _pairs([*choices.projects, *stored])

    def body(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "coderepo": data["coderepo"],
            "projects": list(data["projects"]),
            "permissions": data["permissions"],
        }

    @classmethod
    def initial_from(cls, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": name,
            "coderepo": body.get("coderepo", ""),
            "projects": list(body.get("projects") or []),
            "permissions": body.get("permissions") or "readonly",
        }

    @staticmethod
    def summary(body: Mapping[str, Any]) -> str:
        who = ", ".join(body.get("projects") or []) or "the whole product"
        return f"{body.get('coderepo', '')} → {who} ({body.get('permissions', '')})"


class DeploymentRuntimeForm(ResourceForm):
    environment = forms.ChoiceField(label="Destination environment")
    code_repo = forms.ChoiceField(label="Manifest repository")
    target_revision = forms.CharField(
        max_length=255, initial="main", help_text="A branch, tag or commit."
    )
    path = forms.CharField(
        label="Manifest path",
        max_length=1024,
        help_text="The directory of the Kubernetes manifests in the repository, e.g. deploy.",
    )
    projects_ref = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Projects"
    )
    namespaces = forms.CharField(
        required=False,
        max_length=2000,
        help_text="Comma-separated. Empty: one namespace named after the runtime.",
    )
    account = forms.CharField(required=False, max_length=253, help_text="Optional.")

    def setup(self, choices: Choices, initial: dict[str, Any]) -> None:
        envs = _with_current(_pairs(choices.environments), str(initial.get("environment") or ""))
        self.fields["environment"].choices = [("", "Choose an environment…"), *envs]
        repos = _with_current(_pairs(choices.repos), str(initial.get("code_repo") or ""))
        self.fields["code_repo"].choices = [("", "Choose a repository…"), *repos]
        stored = [p for p in initial.get("projects_ref") or [] if p not in choices.projects]
        self.fields["projects_ref"].choices = _pairs([*choices.projects, *stored])

    def body(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "projects_ref": list(data["projects_ref"]),
            "manifest_source": {
                "code_repo": data["code_repo"],
                "target_revision": data["target_revision"],
                "path": data["path"],
            },
            "destination": {
                "environment": data["environment"],
                "namespaces": split_list(data["namespaces"]),
            },
            "account": data["account"],
        }

    @classmethod
    def initial_from(cls, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        source = body.get("manifest_source") or {}
        destination = body.get("destination") or {}
        return {
            "name": name,
            "environment": destination.get("environment", ""),
            "code_repo": source.get("code_repo", ""),
            "target_revision": source.get("target_revision") or "main",
            "path": source.get("path", ""),
            "projects_ref": list(body.get("projects_ref") or []),
            "namespaces": ", ".join(destination.get("namespaces") or []),
            "account": body.get("account", ""),
        }

    @staticmethod
    def summary(body: Mapping[str, Any]) -> str:
        source = body.get("manifest_source") or {}
        destination = body.get("destination") or {}
        return (
            f"{source.get('code_repo', '')}:{source.get('path', '')}@"
            f"{source.get('target_revision', '')} → {destination.get('environment', '')}"
        )


PIPELINE_EXAMPLE = """\
project: my-project
pipeline_source: my-pipelines
pipelines:
  - name: build
    label: main
    path: pipelines/build.yaml
event_sources:
  - name: push
    gitlab:
      repo_name: my-app
      revision: main
      events: [push_events]
pipeline_triggers:
  - event_source: push
    pipeline: build
destination:
  environment: dev
  namespace: ""
isolation: exclusive
"""


class PipelineRuntimeForm(ResourceForm):
    """A pipeline runtime is edited as its API body, in YAML or JSON."""

    document = forms.CharField(
        label="Pipeline runtime (YAML or JSON)",
        widget=forms.Textarea(attrs={"class": "tall", "spellcheck": "false"}),
        help_text="The request body of the pipeline runtime API (snake_case fields, "
        "repositories by name).",
    )

    def clean_document(self) -> dict[str, Any]:
        text = self.cleaned_data["document"]
        try:
            loaded = load_yaml_bounded(text, what="The document")
        except InputRefused as exc:
            raise forms.ValidationError(exc.message, code="limits") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise forms.ValidationError(
                "This is not valid YAML or JSON%(where)s.", code="yaml", params={"where": where}
            ) from None
        if not isinstance(loaded, dict):
            raise forms.ValidationError("Expected a mapping of fields.", code="not_mapping")
        serializer = bodies.ProjectPipelineRuntimeBodySerializer(data=loaded)
        if not serializer.is_valid():
            raise forms.ValidationError(
                [f"{key}: {value}" for key, value in _flatten_errors(serializer.errors)],
                code="body",
            )
        return _plain(serializer.validated_data)

    def body(self) -> dict[str, Any]:
        return dict(self.cleaned_data["document"])

    @classmethod
    def initial_from(cls, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in body.items() if k not in ("product", "name")}
        return {"name": name, "document": yaml.safe_dump(_plain(shown), sort_keys=False)}

    @staticmethod
    def summary(body: Mapping[str, Any]) -> str:
        return f"project {body.get('project', '')}"


def _plain(value: Any) -> Any:
    """OrderedDicts and ReturnLists → plain dicts and lists (session- and YAML-safe)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _flatten_errors(errors: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(errors, Mapping):
        result = []
        for key, value in errors.items():
            result += _flatten_errors(value, f"{prefix}.{key}" if prefix else str(key))
        return result
    if isinstance(errors, list):
        if all(isinstance(e, str) for e in errors):
            return [(prefix or "body", " ".join(str(e) for e in errors))]
        result = []
        for index, item in enumerate(errors):
            if item:
                result += _flatten_errors(item, f"{prefix}[{index}]")
        return result
    return [(prefix or "body", str(errors))]


# ---- The UI registry of resource kinds ------------------------------------------------------


@dataclass(frozen=True)
class KindUi:
    """How one resource kind appears in the browser (its API twin holds model and rules)."""

    collection: str  # the URL segment, the same as the API's
    title: str
    singular: str
    form: type[ResourceForm]
    columns: tuple[tuple[str, str], ...]  # (header, model attribute)
    lookup: str = "name"  # the URL identifies code repositories by repository name
    blurb: str = ""

    @property
    def api(self) -> KindApi:
        return KIND_APIS[self.collection]

    @property
    def a_singular(self) -> str:
        """ "an environment", "a project"."""
        return ("an " if self.singular[0] in "aeiou" else "a ") + self.singular

    @property
    def kind(self) -> str:
        return self.api.kind


KIND_UIS: dict[str, KindUi] = {
    ui.collection: ui
    for ui in (
        KindUi(
            "environments",
            "Environments",
            "environment",
            EnvironmentForm,
            (("Cluster", "cluster"), ("Type", "env_type")),
            blurb="An environment binds the product to a runtime cluster (dev, test, prod…).",
        ),
        KindUi(
            "projects",
            "Projects",
            "project",
            ProjectForm,
            (("Language", "language"),),
            blurb="A project is one microservice of the product.",
        ),
        KindUi(
            "coderepos",
            "Code repositories",
            "code repository",
            CodeRepoForm,
            (("Id", "name"), ("Project", "project"), ("Visibility", "git_visibility")),
            lookup="repo_name",
            blurb="Git repositories of the product: application code, manifests, pipelines.",
        ),
        KindUi(
            "coderepobindings",
            "Repository bindings",
            "repository binding",
            BindingForm,
            (("Repository", "code_repo"), ("Projects", "projects"), ("Permissions", "permissions")),
            blurb="A binding lets projects use a repository they do not own.",
        ),
        KindUi(
            "deploymentruntimes",
            "Deployment runtimes",
            "deployment runtime",
            DeploymentRuntimeForm,
            (
                ("Environment", "destination_environment"),
                ("Repository", "manifest_code_repo"),
                ("Path", "manifest_path"),
                ("Revision", "manifest_target_revision"),
            ),
            blurb="A deployment runtime deploys manifests from a repository to an environment.",
        ),
        KindUi(
            "projectpipelineruntimes",
            "Pipeline runtimes",
            "pipeline runtime",
            PipelineRuntimeForm,
            (("Project", "project"), ("Environment", "destination_environment")),
            blurb="A pipeline runtime runs a project's pipelines on events.",
        ),
    )
}
KIND_UI_BY_KIND: dict[str, KindUi] = {ui.kind: ui for ui in KIND_UIS.values()}


# ---- Product forms -------------------------------------------------------------------------


class ProductForm(AccessibleForm):
    name = forms.CharField(
        max_length=63,
        help_text="The Git group path, at most 63 characters. " + NAME_HELP,
    )
    display_name = forms.CharField(required=False, max_length=255, label="Display name")
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    visibility = forms.ChoiceField(
        choices=VISIBILITY_CHOICES, initial="private", widget=forms.RadioSelect
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        try:
            services.validate_product_name(name)
        except RuleViolation as exc:
            raise forms.ValidationError(exc.message, code="invalid") from None
        if name in RESERVED_PRODUCT_NAMES:
            raise forms.ValidationError(
                "%(name)s is reserved by the portal's pages; choose another name.",
                code="reserved",
                params={"name": name},
            )
        return name


class ProductSettingsForm(ProductForm):
    """Editing an existing product: its name (the group path) is fixed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].disabled = True
        self.fields["name"].help_text = "The group path cannot change."
        self._describe()


# ---- The product setup wizard --------------------------------------------------------------

# (step, title, collection) in the order the services must create them.
WIZARD_STEPS: tuple[tuple[str, str, str], ...] = (
    ("product", "Product", ""),
    ("environments", "Environments", "environments"),
    ("projects", "Projects", "projects"),
    ("coderepos", "Code repositories", "coderepos"),
    ("bindings", "Repository bindings", "coderepobindings"),
    ("runtimes", "Deployment runtimes", "deploymentruntimes"),
    ("review", "Review", ""),
)
STEP_NAMES: tuple[str, ...] = tuple(step for step, _, _ in WIZARD_STEPS)
LIST_STEPS: dict[str, str] = {
    step: collection for step, _, collection in WIZARD_STEPS if collection
}
# The product id and repository ids are assigned by Git when the wizard creates them; until then
# the draft uses these placeholders (valid names, so every rule can run on the draft).
DRAFT_PRODUCT_ID = "product-new"
DRAFT_REPO_PREFIX = "repo-new-"
SESSION_KEY = "product_wizard"


def repo_name_problems(name: str) -> list[str]:
    """The repository-name checks `services.coderepo_save` makes before its first write."""
    if name == settings.NAUTES_DEFAULT_PROJECT:
        return [f"'{name}' is reserved for the product configuration repository"]
    if not services.PRODUCT_NAME.match(name):
        return [
            f"code repository name '{name}' is invalid: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (RFC 1123 label)"
        ]
    return []


@dataclass
class DraftFile:
    path: str
    content: str


@dataclass
class Draft:
    """What the user entered in the wizard so far, kept in the session (JSON, no secrets)."""

    product: dict[str, Any] = field(default_factory=dict)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)

    session_key: ClassVar[str] = SESSION_KEY

    # -- session

    @classmethod
    def load(cls, session: SessionBase) -> Draft:
        data = session.get(cls.session_key) or {}
        return cls(
            product=dict(data.get("product") or {}),
            items={step: list(data.get("items", {}).get(step) or []) for step in LIST_STEPS},
            pending=dict(data.get("pending") or {}),
        )

    def save(self, session: SessionBase) -> None:
        session[self.session_key] = {
            "product": self.product,
            "items": self.items,
            "pending": self.pending,
        }

    @classmethod
    def clear(cls, session: SessionBase) -> None:
        session.pop(cls.session_key, None)

    # -- contents

    @property
    def started(self) -> bool:
        return bool(self.product.get("name"))

    def entries(self, step: str) -> list[dict[str, Any]]:
        return self.items.setdefault(step, [])

    def names(self, step: str) -> list[str]:
        return [item["name"] for item in self.entries(step)]

    def find(self, step: str, name: str) -> dict[str, Any] | None:
        return next((item for item in self.entries(step) if item["name"] == name), None)

    def put(self, step: str, name: str, body: dict[str, Any]) -> None:
        """Add an item, or replace the one with the same name in place."""
        items = self.entries(step)
        for index, item in enumerate(items):
            if item["name"] == name:
                items[index] = {"name": name, "body": body}
                return
        items.append({"name": name, "body": body})

    def choices(self) -> Choices:
        return Choices(
            clusters=suitable_clusters(),
            environments=self.names("environments"),
            projects=self.names("projects"),
            repos=self.names("coderepos"),
        )

    def repo_names(self) -> codecs.RepoNames:
        return codecs.RepoNames(
            {name: DRAFT_REPO_PREFIX + name for name in self.names("coderepos")}
        )

    # -- rules

    def resource(self, step: str, name: str, body: Mapping[str, Any]) -> Resource:
        """The resource an item becomes (RuleViolation when it names an unknown repository)."""
        api = KIND_APIS[LIST_STEPS[step]]
        spec = api.to_spec(dict(body), self.repo_names())
        if api.kind == "CodeRepo":
            spec = {
                **spec,
                "repoName": name,
                "codeRepoProvider": settings.NAUTES_CODE_REPO_PROVIDER,
            }
            name = DRAFT_REPO_PREFIX + name
        if api.kind in services.KINDS_WITH_PRODUCT_FIELD:
            spec = {**spec, "product": DRAFT_PRODUCT_ID}
        return Resource(api.kind, name, resource_path(api.kind, name, spec), spec)

    def state(
        self, *, until: str | None = None, skip: tuple[str, str] | None = None
    ) -> tuple[ProductState, list[str]]:
        """The draft as the rules see it (steps up to `until`), and items that cannot convert."""
        # No runtime belongs to the draft yet (product_pk None): every indexed one is foreign.
        state = ProductState(product_name=self.product.get("name", ""), product_id=DRAFT_PRODUCT_ID)
        state.repo_ids_by_name = self.repo_names().ids_by_name
        unconvertible: list[str] = []
        for step in LIST_STEPS:
            for item in self.entries(step):
                if skip == (step, item["name"]):
                    continue
                try:
                    resource = self.resource(step, item["name"], item["body"])
                except RuleViolation as exc:
                    unconvertible.append(f"{item['name']}: {exc.message}")
                    continue
                state.of_kind(resource.kind)[resource.name] = resource
            if step == until:
                break
        return complete_state(state), unconvertible

    def check_item(
        self, step: str, name: str, body: Mapping[str, Any], *, replacing: str = ""
    ) -> list[str]:
        """Every problem adding (or replacing) this item would cause, in the draft so far."""
        messages: list[str] = []
        if name != replacing and name in self.names(step):
            what = KIND_UIS[LIST_STEPS[step]].a_singular
            messages.append(f"This product already has {what} named {name}.")
        if LIST_STEPS[step] == "coderepos":
            messages += repo_name_problems(name)
        try:
            resource = self.resource(step, name, body)
        except RuleViolation as exc:
            return [*messages, exc.message]
        state, _ = self.state(until=step, skip=(step, replacing or name))
        problems = rules.check_static(resource, state)
        if not problems:
            before = {p.message for p in rules.check_global(state)}
            problems = [
                p
                for p in rules.check_global(complete_state(state.with_saved(resource)))
                if p.message not in before
            ]
        return list(dict.fromkeys([*messages, *(p.message for p in problems)]))

    def problems(self) -> list[str]:
        """Everything that would stop the creation of the whole draft."""
        messages: list[str] = []
        if not self.started:
            messages.append("The product has no name yet.")
        state, unconvertible = self.state()
        messages += unconvertible
        for step in ("coderepos",):
            for name in self.names(step):
                messages += repo_name_problems(name)
        messages += [f"{p.kind} {p.name}: {p.message}" for p in rules.check_global(state)]
        return list(dict.fromkeys(messages))

    def files(self) -> list[DraftFile]:
        """The YAML files the creation will commit, in the order it commits them."""
        state, _ = self.state()
        order = {kind: index for index, kind in enumerate(rules.KIND_ORDER)}
        resources = sorted(state.all_resources(), key=lambda r: (order[r.kind], r.name))
        files = [
            DraftFile(r.path, dump_yaml(build_document(r.kind, r.name, r.spec)).decode())
            for r in resources
        ]
        index = kustomization(r.path for r in resources).decode()
        return [*files, DraftFile("production/kustomization.yaml", index)]


def pending_initial(form_class: type[forms.Form], data: Mapping[str, list[str]]) -> dict[str, Any]:
    """Turn posted values kept in the session back into a form's initial values."""
    initial: dict[str, Any] = {}
    for name, form_field in form_class.base_fields.items():
        if name not in data:
            if isinstance(form_field, forms.BooleanField):
                initial[name] = False
            continue
        values = data[name]
        if isinstance(form_field, forms.MultipleChoiceField):
            initial[name] = list(values)
        elif isinstance(form_field, forms.BooleanField):
            initial[name] = bool(values) and values[0] not in ("", "false", "off", "0")
        else:
            initial[name] = values[0] if values else ""
    return initial
