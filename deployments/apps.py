from __future__ import annotations

from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = "Deployments"

    def ready(self) -> None:
        # Register `runtime.deploy`, `runtime.remove` and `runtime.sync` with the core's
        # operations engine.
        from deployments import deployer  # noqa: F401
