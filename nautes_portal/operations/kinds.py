"""Operation kinds the core itself names.

Each app registers the steps of its own kinds. The permission policy decides who may retry an
operation by its kind (a cluster check or a cluster's reconcile pass belongs to no product and
needs the right to manage clusters; a product save, repository operations and the product's
authorization need Maintainer+, as does a runtime's rollback; anything else of a product
Developer+), so the names it tests
are defined here, in the core, and the apps register their steps under them.
"""

from __future__ import annotations

CLUSTER_CHECK = "cluster.check"  # clusters.health
CLUSTER_RECONCILE = "cluster.reconcile"  # deployments.reconciler
# Operations on a whole cluster: they belong to no product and name other products' runtimes,
# so only those who may view clusters see them (whoever started them).
CLUSTER_KINDS = (CLUSTER_CHECK, CLUSTER_RECONCILE)
PRODUCT_SAVE = "product.save"  # products.provisioning
CODEREPO_PROVISION = "coderepo.provision"  # products.repo_provisioning
CODEREPO_DEPROVISION = "coderepo.deprovision"  # products.repo_provisioning
PRODUCT_AUTHORIZATION = "product.authorization"  # products.repo_provisioning
# Rolling a runtime back to an earlier deployment: Maintainer+ (#15; the other console actions
# of a runtime, `runtime.*` in deployments.deployer, need Developer+).
RUNTIME_ROLLBACK = "runtime.rollback"  # deployments.deployer.actions
