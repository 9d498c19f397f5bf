"""The index of products and of the resources in each product's `default.project` repository.

Git is the system of record; these rows are what the portal last read from (or wrote to) Git,
each with the commit it came from. Scalar fields are columns for filtering; `manifest` keeps the
whole document so that unknown fields survive a round trip.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from nautes_portal.roles import AccessLevel


class Product(models.Model):
    """A product: one Git group holding the `default.project` configuration repository."""

    name = models.CharField(max_length=255, unique=True, help_text="The group path.")
    group_id = models.PositiveBigIntegerField(unique=True)
    display_name = models.CharField(max_length=255, blank=True, default="")
    visibility = models.CharField(max_length=16, default="private")
    description = models.TextField(blank=True, default="")
    repo_project_id = models.PositiveBigIntegerField(null=True, blank=True)
    repo_url = models.CharField(max_length=1024, blank=True, default="")
    commit_sha = models.CharField(max_length=64, blank=True, default="")
    synced_at = models.DateTimeField(null=True, blank=True)
    sync_problems = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def resource_name(self) -> str:
        """The id Nautes uses in manifests: `product-<group id>`."""
        return f"product-{self.group_id}"


class Membership(models.Model):
    """A user's access level in a product group (synced from GitLab, or local)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="memberships")
    access_level = models.PositiveSmallIntegerField(choices=AccessLevel.choices)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "product"], name="membership_unique_user_product"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.product} ({self.access_level})"


class ProductResource(models.Model):
    """Columns shared by every kind stored in `default.project`."""

    kind: ClassVar[str] = ""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=253)
    path = models.CharField(max_length=512, help_text="File path in default.project.")
    manifest = models.JSONField(default=dict, help_text="The whole document as in Git.")
    commit_sha = models.CharField(max_length=64, blank=True, default="")
    problems = models.JSONField(default=list, blank=True, help_text="Rules the file breaks.")
    updated_at = models.DateTimeField(auto_now=True)

    # Declared on the abstract base (Django gives it to every kind) so that code handling any
    # kind through `MODEL_BY_KIND` sees `objects` in the type checker too.
    objects: ClassVar[models.Manager[Any]] = models.Manager()

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def spec(self) -> dict[str, Any]:
        return dict(self.manifest.get("spec") or {})


def _unique_per_product(model: str) -> list[models.BaseConstraint]:
    return [
        models.UniqueConstraint(fields=["product", "name"], name=f"{model}_unique_name_per_product")
    ]


class Environment(ProductResource):
    """An environment of a product, bound to one runtime cluster."""

    kind = "Environment"

    cluster = models.CharField(max_length=63)
    env_type = models.CharField(max_length=255)

    class Meta(ProductResource.Meta):
        constraints = _unique_per_product("environment")
        indexes = [models.Index(fields=["cluster"])]


class Project(ProductResource):
    """A project (microservice) of a product."""

    kind = "Project"

    language = models.CharField(max_length=255, blank=True, default="")

    class Meta(ProductResource.Meta):
        constraints = _unique_per_product("project")


class CodeRepo(ProductResource):
    """A code repository of a product; `name` is `repo-<project id>`."""

    kind = "CodeRepo"

    repo_name = models.CharField(max_length=255, help_text="The Git project path.")
    project = models.CharField(max_length=253, blank=True, default="")
    code_repo_provider = models.CharField(max_length=255, blank=True, default="")
    url = models.CharField(max_length=1024, blank=True, default="")
    deployment_runtime = models.BooleanField(default=False)
    pipeline_runtime = models.BooleanField(default=False)
    webhook_events = models.JSONField(null=True, blank=True)
    git_project_id = models.PositiveBigIntegerField(null=True, blank=True)
    git_name = models.CharField(max_length=255, blank=True, default="")
    git_visibility = models.CharField(max_length=16, blank=True, default="")
    git_description = models.TextField(blank=True, default="")
    ssh_url = models.CharField(max_length=1024, blank=True, default="")
    http_url = models.CharField(max_length=1024, blank=True, default="")

    class Meta(ProductResource.Meta):
        constraints = [
            *_unique_per_product("coderepo"),
            models.UniqueConstraint(
                fields=["product", "repo_name"], name="coderepo_unique_repo_name_per_product"
            ),
        ]


class CodeRepoBinding(ProductResource):
    """A grant of one code repository to the product or to some of its projects."""

    kind = "CodeRepoBinding"

    code_repo = models.CharField(max_length=255, help_text="repo-<pid> of the granted repository.")
    projects = models.JSONField(default=list, blank=True)
    permissions = models.CharField(max_length=16)

    class Meta(ProductResource.Meta):
        constraints = _unique_per_product("coderepobinding")


class DeploymentRuntime(ProductResource):
    """Where and from which repository path a product is deployed."""

    kind = "DeploymentRuntime"

    projects_ref = models.JSONField(default=list, blank=True)
    manifest_code_repo = models.CharField(max_length=255, blank=True, default="")
    manifest_target_revision = models.CharField(max_length=255, blank=True, default="")
    manifest_path = models.CharField(max_length=1024, blank=True, default="")
    destination_environment = models.CharField(max_length=253, blank=True, default="")
    destination_namespaces = models.JSONField(default=list, blank=True)
    account = models.CharField(max_length=253, blank=True, default="")

    class Meta(ProductResource.Meta):
        constraints = _unique_per_product("deploymentruntime")
        indexes = [models.Index(fields=["destination_environment"])]


class ProjectPipelineRuntime(ProductResource):
    """Pipelines of a project, their event sources and triggers."""

    kind = "ProjectPipelineRuntime"

    project = models.CharField(max_length=253)
    pipeline_source = models.CharField(max_length=255, blank=True, default="")
    pipelines = models.JSONField(default=list, blank=True)
    destination_environment = models.CharField(max_length=253, blank=True, default="")
    destination_namespace = models.CharField(max_length=253, blank=True, default="")
    event_sources = models.JSONField(default=list, blank=True)
    isolation = models.CharField(max_length=16, blank=True, default="")
    pipeline_triggers = models.JSONField(default=list, blank=True)
    additional_resources = models.JSONField(null=True, blank=True)
    hooks = models.JSONField(null=True, blank=True)
    account = models.CharField(max_length=253, blank=True, default="")

    class Meta(ProductResource.Meta):
        constraints = _unique_per_product("projectpipelineruntime")


RESOURCE_MODELS: tuple[type[ProductResource], ...] = (
    Environment,
    Project,
    CodeRepo,
    CodeRepoBinding,
    DeploymentRuntime,
    ProjectPipelineRuntime,
)
MODEL_BY_KIND: dict[str, type[ProductResource]] = {m.kind: m for m in RESOURCE_MODELS}
