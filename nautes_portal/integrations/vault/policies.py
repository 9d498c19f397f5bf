"""Read-only policies on one secret: the HCL the portal writes and the names it accepts."""

from __future__ import annotations

import re

from nautes_portal.integrations.vault.locations import _check_location

# Policy names are interpolated into URLs: a safe alphabet (as for engines and paths).
_POLICY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def policy_document(engine: str, path: str) -> str:
    """The HCL of a read-only policy on one KV v2 secret (its data path, as upstream does)."""
    _check_location(engine, path)
    return (
        "# Managed by the Nautes portal: read access to one secret.\n"
        f'path "{engine}/data/{path}" {{\n'
        '  capabilities = ["read"]\n'
        "}\n"
    )


def _check_policy_name(name: str) -> None:
    if not _POLICY_NAME.match(name) or name in ("root", "default"):
        raise ValueError(f"invalid policy name: {name!r}")
