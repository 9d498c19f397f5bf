from __future__ import annotations

from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Products"

    def ready(self) -> None:
        from clusters.signals import cluster_references_requested
        from nautes_portal.identity import gitlab_token_resolved
        from nautes_portal.schedules import register_schedule

        # Importing the step modules registers the operation kinds of products with the core's
        # engine (`product.save`, `product.authorization`, `coderepo.provision`,
        # `coderepo.deprovision`): a worker runs any operation, whatever else it imported.
        from products import provisioning, repo_provisioning  # noqa: F401
        from products.receivers import environments_on_cluster, refresh_memberships
        from products.tasks import SYNC_SCHEDULE_NAME

        # Clusters never import products: a cluster is in use while an environment names it.
        cluster_references_requested.connect(
            environments_on_cluster, dispatch_uid="products.environments_on_cluster"
        )
        # The core imports no app: memberships follow GitLab when a token is resolved.
        gitlab_token_resolved.connect(
            refresh_memberships, dispatch_uid="products.refresh_memberships"
        )
        # The index follows Git (every NAUTES_SYNC_MINUTES), memberships follow GitLab.
        register_schedule(
            SYNC_SCHEDULE_NAME,
            "products.tasks.sync_all",
            minutes=1,
            minutes_setting="NAUTES_SYNC_MINUTES",
        )
        register_schedule(
            "nautes: sync memberships from GitLab", "products.tasks.sync_memberships", minutes=10
        )
