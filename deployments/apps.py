from __future__ import annotations

from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = "Deployments"

    def ready(self) -> None:
        # Register `runtime.deploy`, `runtime.remove` and `runtime.sync` with the core's
        # operations engine.
        from deployments import deployer  # noqa: F401
        from deployments.receivers import deploy_changed_runtimes
        from products.signals import product_index_changed

        # Products never call deployments: a committed save announces the change (#13).
        product_index_changed.connect(
            deploy_changed_runtimes, dispatch_uid="deployments.deploy_changed_runtimes"
        )
