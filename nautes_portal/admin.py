"""Admin of the core's tables, and the read-only base every index table's admin uses."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from nautes_portal.models import ApiToken, AuditEvent


class ReadOnlyIndexAdmin(admin.ModelAdmin):
    """Rows mirror Git; change them through the API or the UI so that a commit is made."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyIndexAdmin):
    list_display = [
        "created_at",
        "actor_name",
        "action",
        "kind",
        "name",
        "product_name",
        "commit_sha",
    ]
    list_filter = ["action", "kind"]
    search_fields = ["name", "product_name", "actor_name", "commit_sha"]
    date_hierarchy = "created_at"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be revoked here; their value is never stored, only a digest."""

    list_display = ["prefix", "user", "created_at", "last_used_at"]
    readonly_fields = ["prefix", "digest", "user", "created_at", "last_used_at"]

    def has_add_permission(self, request: object) -> bool:
        return False
