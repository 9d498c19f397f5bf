"""What products announce to the apps above them, which products never import (#13).

`product_index_changed` says "this product's index changed": it is sent once a change to the
index has committed (`transaction.on_commit`), so a receiver sees the new rows and nothing is
announced for a change that was rolled back. Keyword arguments:

* `product`: the `Product`;
* `changes`: a tuple of `IndexChange`, one per resource the commit changed (empty for
  `ROUTE_SYNC`: an import replaces the whole index; receivers read it);
* `commit_sha`: the commit of the product's configuration repository that holds the change;
* `route`: how the change reached the index (`ROUTE_PORTAL`: a save or delete through the
  portal's services, whether from the API, a page or a revert; `ROUTE_SYNC`: an import of a
  new HEAD of `default.project`, from a push and its webhook, the schedule or
  `import_product`);
* `actor`: the user who made it (None for the portal itself).

Receivers are connected in their app's `AppConfig.ready` (`deployments` reconciles the
clusters the product is on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.dispatch import Signal

from nautes_portal.types import Actor

ROUTE_PORTAL = "portal"
ROUTE_SYNC = "sync"

product_index_changed = Signal()


@dataclass(frozen=True)
class IndexChange:
    """One resource of a product's index that a commit created, updated or deleted."""

    kind: str
    name: str
    old: dict[str, Any] | None  # the spec before (None: the commit created the resource)
    new: dict[str, Any] | None  # the spec after (None: the commit deleted it)


def announce_index_changed(
    *,
    product: Any,
    changes: tuple[IndexChange, ...],
    commit_sha: str,
    route: str,
    actor: Actor,
) -> None:
    """Send `product_index_changed` once the current transaction commits (now without one)."""
    transaction.on_commit(
        lambda: product_index_changed.send(
            sender=type(product),
            product=product,
            changes=changes,
            commit_sha=commit_sha,
            route=route,
            actor=actor,
        )
    )
