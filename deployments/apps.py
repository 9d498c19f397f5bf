from __future__ import annotations

from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = "Deployments"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from clusters.signals import cluster_saved

        # Importing them registers `cluster.reconcile` and the `runtime.*` kinds (sync, the
        # console's actions, the former deploy/remove) with the core's operations engine.
        from deployments import deployer, reconciler  # noqa: F401
        from deployments.reconciler.triggers import (
            RECONCILE_SCHEDULE_NAME,
            on_cluster_saved,
            on_product_deleting,
            on_product_index_changed,
        )
        from deployments.status import SCHEDULE_NAME
        from nautes_portal.schedules import register_schedule
        from products.models import Product
        from products.signals import product_index_changed

        register_schedule(SCHEDULE_NAME, "deployments.status.status_collect_task", minutes=1)
        # Every minute: queue the periodic pass of each cluster that is due (the interval per
        # cluster is NAUTES_RECONCILE_INTERVAL; see deployments.reconciler.triggers).
        register_schedule(
            RECONCILE_SCHEDULE_NAME, "deployments.tasks.reconcile_due_clusters", minutes=1
        )

        # Products and clusters never call deployments: they announce, deployments reacts (#13).
        # Any change of a product's index, by any route, reconciles the clusters it is on (#14).
        product_index_changed.connect(
            on_product_index_changed, dispatch_uid="deployments.reconcile_on_index_change"
        )
        cluster_saved.connect(on_cluster_saved, dispatch_uid="deployments.reconcile_on_cluster")
        pre_delete.connect(
            on_product_deleting, sender=Product, dispatch_uid="deployments.reconcile_on_delete"
        )
