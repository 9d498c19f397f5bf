"""Operation kinds the core itself names.

Each app registers the steps of its own kinds (`product.save`, `runtime.deploy`, ...). The
permission policy treats one kind apart, a cluster check: it belongs to no product and tenant
readers see it. Its name is therefore defined here, in the core, and `clusters.health`
registers its steps under it.
"""

from __future__ import annotations

CLUSTER_CHECK = "cluster.check"
