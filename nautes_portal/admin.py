from __future__ import annotations

from django.contrib import admin

from nautes_portal.models import ApiToken, AuditEvent
from products.admin import ReadOnlyIndexAdmin


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
