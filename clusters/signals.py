"""What clusters announce to, and ask of, the apps above them, which clusters never imports (#13).

* `cluster_saved` is sent once a cluster's save is indexed, inside the transaction that indexes
  it (what a receiver writes commits or rolls back with the index). Keyword arguments: `name`,
  `old_spec` (None for a new registration), `new_spec`, `commit_sha`, `actor`. `deployments`
  re-applies the runtimes on the cluster when its product allow-lists changed.
* `cluster_references_requested` asks what uses a cluster (keyword argument `name`); each
  receiver returns a list of references such as `environment/<product>/<name>` (`products`
  answers with its environments). A cluster is not deleted, nor its usage changed, while
  anything refers to it.

Receivers are connected in their app's `AppConfig.ready`.
"""

from __future__ import annotations

from django.dispatch import Signal

cluster_saved = Signal()
cluster_references_requested = Signal()
