"""Admin: the index tables are read-only (Git is the system of record); memberships are editable."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from nautes_portal.admin import ReadOnlyIndexAdmin
from products.models import (
    CodeRepo,
    CodeRepoBinding,
    DeploymentRuntime,
    Environment,
    Membership,
    Product,
    Project,
    ProjectPipelineRuntime,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "group_id", "visibility", "commit_sha", "synced_at"]
    search_fields = ["name", "display_name"]
    readonly_fields = [f.name for f in Product._meta.fields]
    inlines = [MembershipInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "product", "access_level", "synced_at"]
    list_filter = ["access_level"]
    search_fields = ["user__username", "product__name"]
    autocomplete_fields = ["user", "product"]


def _resource_admin(model: type, columns: list[str]) -> None:
    admin.site.register(
        model,
        type(
            f"{model.__name__}Admin",
            (ReadOnlyIndexAdmin,),
            {
                "list_display": ["name", "product", *columns, "commit_sha", "updated_at"],
                "list_filter": ["product"],
                "search_fields": ["name", "product__name"],
                "list_select_related": ["product"],
            },
        ),
    )


_resource_admin(Environment, ["cluster", "env_type"])
_resource_admin(Project, ["language"])
_resource_admin(CodeRepo, ["repo_name", "project"])
_resource_admin(CodeRepoBinding, ["code_repo", "permissions"])
_resource_admin(DeploymentRuntime, ["destination_environment", "manifest_code_repo"])
_resource_admin(ProjectPipelineRuntime, ["project", "destination_environment"])
