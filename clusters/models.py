"""The index of runtime clusters read from the tenant configuration repository."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class Cluster(models.Model):
    """A runtime (or host) cluster: one file in the tenant configuration repository.

    The kubeconfig is never stored here; it lives in Vault.
    """

    class ClusterType(models.TextChoices):
        PHYSICAL = "physical", "Physical"
        VIRTUAL = "virtual", "Virtual (vcluster)"

    class Usage(models.TextChoices):
        HOST = "host", "Host"
        WORKER = "worker", "Worker"

    class WorkerType(models.TextChoices):
        NONE = "", "—"
        DEPLOYMENT = "deployment", "Deployment"
        PIPELINE = "pipeline", "Pipeline"

    name = models.CharField(max_length=63, unique=True)
    api_server = models.CharField(max_length=2048)
    cluster_kind = models.CharField(max_length=32, default="kubernetes")
    cluster_type = models.CharField(max_length=16, choices=ClusterType.choices)
    usage = models.CharField(max_length=16, choices=Usage.choices)
    worker_type = models.CharField(
        max_length=16, choices=WorkerType.choices, blank=True, default=""
    )
    host_cluster = models.CharField(max_length=63, blank=True, default="")
    primary_domain = models.CharField(max_length=255, blank=True, default="")
    components_list = models.JSONField(default=dict, blank=True)
    reserved_namespaces_allowed_products = models.JSONField(default=dict, blank=True)
    product_allowed_cluster_resources = models.JSONField(default=dict, blank=True)
    manifest = models.JSONField(default=dict, help_text="The whole document as in Git.")
    path = models.CharField(max_length=512)
    commit_sha = models.CharField(max_length=64, blank=True, default="")
    problems = models.JSONField(default=list, blank=True, help_text="Rules the file breaks.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def spec(self) -> dict[str, Any]:
        return dict(self.manifest.get("spec") or {})


class TenantRepository(models.Model):
    """What the index last read from the tenant configuration repository (one row)."""

    full_path = models.CharField(max_length=255, unique=True)
    head_sha = models.CharField(max_length=64, blank=True, default="")
    synced_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return self.full_path


class TenantMembership(models.Model):
    """A user's access level on the tenant configuration repository (GitLab 10–50)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_membership"
    )
    access_level = models.PositiveSmallIntegerField()
    synced_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.access_level})"


class ClusterHealth(models.Model):
    """What the last connectivity and readiness check of a cluster found."""

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="health")
    checked_at = models.DateTimeField(null=True, blank=True)
    reachable = models.BooleanField(null=True)
    kubernetes_version = models.CharField(max_length=64, blank=True, default="")
    can_create_namespaces = models.BooleanField(null=True)
    can_manage_argocd = models.BooleanField(null=True)
    argocd_installed = models.BooleanField(null=True)
    argocd_namespace_present = models.BooleanField(null=True)
    error = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"{self.cluster} health"

    @property
    def ready(self) -> bool:
        return bool(
            self.reachable
            and self.can_create_namespaces
            and self.can_manage_argocd
            and self.argocd_installed
            and self.argocd_namespace_present
        )
