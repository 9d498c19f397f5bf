from __future__ import annotations

from django.contrib import admin

from clusters.models import Cluster, TenantMembership, TenantRepository
from nautes_portal.admin import ReadOnlyIndexAdmin


@admin.register(Cluster)
class ClusterAdmin(ReadOnlyIndexAdmin):
    list_display = ["name", "usage", "worker_type", "cluster_type", "api_server", "commit_sha"]
    list_filter = ["usage", "worker_type", "cluster_type"]
    search_fields = ["name", "api_server"]


@admin.register(TenantRepository)
class TenantRepositoryAdmin(ReadOnlyIndexAdmin):
    list_display = ["full_path", "head_sha", "synced_at"]


@admin.register(TenantMembership)
class TenantMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "access_level", "synced_at"]
    autocomplete_fields = ["user"]
