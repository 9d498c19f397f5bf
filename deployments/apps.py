from __future__ import annotations

from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = "Deployments"

    def ready(self) -> None:
        from clusters.signals import cluster_saved

        # Importing it registers `runtime.deploy`, `runtime.remove` and `runtime.sync` with the
        # core's operations engine.
        from deployments import deployer  # noqa: F401
        from deployments.receivers import deploy_changed_runtimes, redeploy_on_allow_list_change
        from deployments.status import SCHEDULE_NAME
        from nautes_portal.schedules import register_schedule
        from products.signals import product_index_changed

        register_schedule(SCHEDULE_NAME, "deployments.status.status_collect_task", minutes=1)

        # Products and clusters never call deployments: they announce, deployments reacts (#13).
        product_index_changed.connect(
            deploy_changed_runtimes, dispatch_uid="deployments.deploy_changed_runtimes"
        )
        cluster_saved.connect(
            redeploy_on_allow_list_change, dispatch_uid="deployments.redeploy_on_allow_list_change"
        )
