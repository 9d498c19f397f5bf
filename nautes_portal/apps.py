from __future__ import annotations

from django.apps import AppConfig


class NautesPortalConfig(AppConfig):
    name = "nautes_portal"
    verbose_name = "Nautes portal"

    def ready(self) -> None:
        from nautes_portal.schedules import register_schedule

        # A worker that died mid-operation leaves it leased; this picks it up again.
        register_schedule(
            "nautes: resume operations whose worker died",
            "nautes_portal.operations.tasks.resume_stale_operations",
            minutes=5,
        )
