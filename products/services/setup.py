"""Setting up a product in one go (the wizard's "Create"): the product, then its first
resources in the order given; the first failure stops the rest, and every step is reported."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypedDict

from nautes_portal import permissions
from nautes_portal.errors import NautesError
from nautes_portal.operations.kinds import PRODUCT_SAVE
from nautes_portal.types import Actor
from products.models import Product
from products.services.product import product_save


@dataclass(frozen=True)
class SetupItem:
    """One resource created after the product.

    `save` commits it through the services once the product exists (a door turns its own body
    into a spec there, since repository ids are only known then); it raises NautesError when
    refused.
    """

    kind: str  # as the result names it: "environment", "code repository"
    name: str
    save: Callable[[Product], object]


class SetupAction(TypedDict):
    status: str  # "done", "failed" or "skipped"
    kind: str
    name: str
    detail: str


class SetupResult(TypedDict):
    """What happened, step by step (plain data: a page keeps it in the session)."""

    product: str
    created: bool
    operation: int | None  # the product's `product.save` operation, when the caller sees it
    actions: list[SetupAction]
    ok: bool


def product_setup(
    *,
    name: str,
    display_name: str,
    visibility: str,
    description: str,
    items: Sequence[SetupItem],
    actor: Actor,
) -> SetupResult:
    """Create the product, then each item in order; after a failure the rest are skipped."""
    planned = [("Product", name)] + [(item.kind, item.name) for item in items]
    actions: list[SetupAction] = []
    operation: int | None = None

    def record(status: str, what: tuple[str, str], detail: str = "") -> None:
        actions.append({"status": status, "kind": what[0], "name": what[1], "detail": detail})

    try:
        product, _ = product_save(
            name=name,
            display_name=display_name or name,
            path=name,
            visibility=visibility or "private",
            description=description or "",
            actor=actor,
        )
    except NautesError as exc:
        operation = exc.metadata.get("operation")
        record("failed", planned[0], exc.message)
    else:
        found = (
            permissions.operations_visible_to(actor)
            .filter(kind=PRODUCT_SAVE, target=name)
            .order_by("-pk")
            .first()
        )
        operation = found.pk if found is not None else None
        record("done", planned[0], "Git group and default.project created")
        for item, what in zip(items, planned[1:], strict=True):
            if actions[-1]["status"] != "done":
                record("skipped", what)
                continue
            try:
                item.save(product)
            except NautesError as exc:
                record("failed", what, exc.message)
            else:
                record("done", what, "committed")
    actions += [
        {"status": "skipped", "kind": kind, "name": item_name, "detail": ""}
        for kind, item_name in planned[len(actions) :]
    ]
    created = bool(actions) and actions[0]["status"] == "done"
    return {
        "product": name,
        "created": created,
        "operation": operation,
        "actions": actions,
        "ok": all(action["status"] == "done" for action in actions),
    }
