"""One form per resource kind: each parses what the user typed into the API body shape, and the
choices (clusters, the product's own resources) it offers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from django import forms
from django.db.models import QuerySet

from nautes_portal.limits import InputRefused, load_yaml_bounded
from nautes_portal.ui.forms import AccessibleForm, set_choices
from products import rules
from products.api import serializers as bodies

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
        set_choices(self.fields["cluster"], [("", "Choose a cluster…"), *options])

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
        set_choices(self.fields["project"], [("", "— none —"), *options])

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
        set_choices(self.fields["coderepo"], [("", "Choose a repository…"), *repos])
        stored = [p for p in initial.get("projects") or [] if p not in choices.projects]
        set_choices(self.fields["projects"], _pairs([*choices.projects, *stored]))

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
        set_choices(self.fields["environment"], [("", "Choose an environment…"), *envs])
        repos = _with_current(_pairs(choices.repos), str(initial.get("code_repo") or ""))
        set_choices(self.fields["code_repo"], [("", "Choose a repository…"), *repos])
        stored = [p for p in initial.get("projects_ref") or [] if p not in choices.projects]
        set_choices(self.fields["projects_ref"], _pairs([*choices.projects, *stored]))

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
