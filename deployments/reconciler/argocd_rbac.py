"""The product members' rights in a cluster's Argo CD: the portal's block in `policy.csv` of
ConfigMap `argocd-rbac-cm` (pure functions; the pass writes it with `edit_config_map_key`).

Upstream's runtime operator writes, per product on the cluster (reference/nautes.md §5.8):

    p, role:<product>, projects, get, product-<gid>, allow
    p, role:<product>, applications, *, product-<gid>/*, allow
    p, role:<product>, exec, *, product-<gid>/*, allow
    p, role:<product>, logs, *, product-<gid>/*, allow
    g, <product>, role:<product>

The portal keeps those lines between two marker comments that it owns; every line outside the
markers is the operator's and is kept as it is, in place. A product whose role would be one of
Argo CD's built-in roles (`role:admin`, `role:readonly`) gets no lines: `g, admin, role:admin`
would make every member of a product named `admin` an Argo CD administrator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CONFIG_MAP = "argocd-rbac-cm"
KEY = "policy.csv"
BEGIN = (
    "# BEGIN nautes-portal: product access, written by the Nautes portal (edits here are replaced)"
)
END = "# END nautes-portal"
# Argo CD reads its ConfigMaps by this label; a ConfigMap the portal creates carries it.
LABELS = {"app.kubernetes.io/name": CONFIG_MAP, "app.kubernetes.io/part-of": "argocd"}
BUILT_IN_ROLES = frozenset({"admin", "readonly"})
# Casbin splits on commas and lines: a name that could carry either is never written.
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def refusal(product_name: str) -> str | None:
    """Why the product gets no Argo CD lines (None: it gets them)."""
    if product_name.lower() in BUILT_IN_ROLES:
        return (
            f"product {product_name} gets no Argo CD role: role:{product_name} is one of Argo "
            "CD's built-in roles, and granting it would give the product's members more than "
            "their product"
        )
    if not _SAFE.match(product_name):
        return f"product {product_name} gets no Argo CD role: its name cannot be written safely"
    return None


def product_lines(product_name: str, product_id: str) -> list[str]:
    role = f"role:{product_name}"
    return [
        f"p, {role}, projects, get, {product_id}, allow",
        f"p, {role}, applications, *, {product_id}/*, allow",
        f"p, {role}, exec, *, {product_id}/*, allow",
        f"p, {role}, logs, *, {product_id}/*, allow",
        f"g, {product_name}, {role}",
    ]


def block(products: Iterable[tuple[str, str]]) -> list[str]:
    """The portal's block for (product name, product id) pairs; empty when there are none."""
    lines: list[str] = []
    for name, product_id in sorted(set(products)):
        if refusal(name) is None:
            lines += product_lines(name, product_id)
    return [BEGIN, *lines, END] if lines else []


def replace_block(policy: str, new_block: list[str]) -> str:
    """`policy` with the portal's block replaced by `new_block` (removed when empty), every
    other line kept in place; a new block goes at the end."""
    lines = policy.splitlines()
    kept: list[str] = []
    position: int | None = None
    inside = False
    for line in lines:
        if line.strip() == BEGIN:
            inside = True
            position = len(kept) if position is None else position
            continue
        if inside:
            if line.strip() == END:
                inside = False
            continue
        kept.append(line)
    if inside:
        # Someone cut the block: what follows BEGIN may be theirs, so nothing is rewritten.
        raise ValueError(
            f"{CONFIG_MAP} {KEY} has the line {BEGIN!r} without {END!r} after it; the portal "
            "did not change it (restore the END line or remove the block by hand)"
        )
    if position is None:
        position = len(kept)
    result = kept[:position] + new_block + kept[position:]
    text = "\n".join(result)
    if text and (policy.endswith("\n") or not policy):
        text += "\n"
    return text
