from __future__ import annotations

from django.apps import AppConfig


class ClustersConfig(AppConfig):
    name = "clusters"
    verbose_name = "Runtime clusters"

    def ready(self) -> None:
        # Importing it registers `cluster.check` with the core's operations engine.
        from clusters import health  # noqa: F401
        from nautes_portal.schedules import register_schedule

        register_schedule(
            "nautes: check clusters", "clusters.services.check_all_clusters", minutes=5
        )
