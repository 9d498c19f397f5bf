"""What a save or delete of one resource would do, without doing it (`resource_preview`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nautes_portal.audit import yaml_diff
from products import rules
from products.indexing import complete_state, product_state
from products.manifests import KUSTOMIZATION_PATH, kustomization, resource_path
from products.models import Product
from products.services.base import KINDS_WITH_PRODUCT_FIELD
from products.services.resources import _plan
from products.state import Resource


@dataclass(frozen=True)
class Preview:
    """What a save or delete would do, without doing it: its problems and its YAML diff."""

    problems: list[rules.Problem]
    diff: str
    path: str


def resource_preview(
    *,
    product: Product,
    kind: str,
    name: str,
    spec: dict[str, Any] | None,
    skip_check: bool = False,
) -> Preview:
    """Validate a save (`spec`) or a delete (`spec=None`) and render its diff; writes nothing.

    The same rules as `resource_save`/`resource_delete`, so forms can validate as users type.
    """
    state = product_state(product)
    old = state.get(kind, name)
    if spec is None:
        problems = rules.delete_blockers(kind, name, state) if old is not None else []
        after = state.without(kind, name)
        new = None
    else:
        if kind in KINDS_WITH_PRODUCT_FIELD:
            spec = {**spec, "product": product.resource_name}
        new = Resource(kind=kind, name=name, path=resource_path(kind, name, spec), spec=spec)
        problems = rules.check_static(new, state)
        if old is not None:
            problems += rules.check_update(kind, old, new, state)
        after = complete_state(state.with_saved(new))
    if not problems and not skip_check:
        problems += rules.check_global(after)
    plan = _plan(product, kind, name, new, old, after)
    current = kustomization(r.path for r in state.all_resources())
    diff = yaml_diff(plan.path, plan.before, plan.changes.get(plan.path))
    if plan.changes[KUSTOMIZATION_PATH] != current:
        diff += yaml_diff(KUSTOMIZATION_PATH, current, plan.changes[KUSTOMIZATION_PATH])
    return Preview(problems=problems, diff=diff, path=plan.path)
