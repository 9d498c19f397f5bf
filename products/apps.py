from __future__ import annotations

from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Products"

    def ready(self) -> None:
        # Register the operation kinds of products with the core's engine (`product.save`,
        # `product.authorization`, `coderepo.provision`, `coderepo.deprovision`): a worker
        # runs any operation, whatever else it imported.
        from products import provisioning, repo_provisioning  # noqa: F401
